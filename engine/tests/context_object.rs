//! The context object (`$$`) as AWS records it (LocalStack's AWS-validated
//! `context_object` snapshots): the execution carries `RedriveCount`, and a
//! state's `RetryCount` exists only where the state can retry.

#[path = "support/run.rs"]
mod support;

use serde_json::json;
use support::{output, run};

#[tokio::test(start_paused = true)]
async fn the_context_holds_what_aws_puts_in_it() {
    let definition = json!({"StartAt": "Look", "States": {
        "Look": {"Type": "Pass", "Parameters": {"ctx.$": "$$"}, "Next": "Write"},
        "Write": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                  "Parameters": {"TableName": "t", "Item": {"k": {"S": "v"}}},
                  "ResultSelector": {"state.$": "$$.State"}, "ResultPath": "$.task", "End": true}}});
    let (_, row) = run(definition, json!({"input-value": 0})).await;
    let out = output(&row);
    let ctx = &out["ctx"];
    assert_eq!(ctx["Execution"]["RedriveCount"], json!(0));
    assert_eq!(ctx["Execution"]["Input"], json!({"input-value": 0}));
    assert_eq!(ctx["State"]["Name"], json!("Look"));
    assert!(ctx["State"].get("RetryCount").is_none(), "{ctx}");
    assert_eq!(out["task"]["state"]["Name"], json!("Write"));
    assert_eq!(out["task"]["state"]["RetryCount"], json!(0));
}
