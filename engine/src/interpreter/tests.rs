//! The interpreter's own checks: what a restart repeats, how context
//! timestamps look.

#[test]
fn only_calls_that_leave_the_same_state_twice_are_repeated_after_a_restart() {
    let request = |action: &str, parameters: serde_json::Value| super::TaskRequest {
        action: action.into(),
        parameters,
        error_prefix: "DynamoDB".into(),
        token: None,
    };
    let item = serde_json::json!({"TableName": "t", "Item": {"k": {"S": "1"}}});
    assert!(super::failures::safe_to_repeat(&request(
        "PutItem",
        item.clone()
    )));
    assert!(super::failures::safe_to_repeat(&request(
        "GetItem",
        item.clone()
    )));
    let mut conditional = item.clone();
    conditional["ConditionExpression"] = "attribute_not_exists(k)".into();
    assert!(!super::failures::safe_to_repeat(&request(
        "PutItem",
        conditional
    )));
    // An update may add to a counter or a list: never repeated.
    assert!(!super::failures::safe_to_repeat(&request(
        "UpdateItem",
        item.clone()
    )));
    assert!(!super::failures::safe_to_repeat(&request(
        "TransactWriteItems",
        item
    )));
}

#[test]
fn context_timestamps_have_three_fraction_digits_and_sort_as_strings() {
    assert_eq!(super::iso(1_700_000_000_120), "2023-11-14T22:13:20.120Z");
    assert_eq!(super::iso(1_700_000_000_000), "2023-11-14T22:13:20.000Z");
    assert!(super::iso(1_700_000_000_120) < super::iso(1_700_000_000_123));
}
