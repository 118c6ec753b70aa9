//! Error names, causes and event details as AWS records them. Each case
//! follows an execution recorded against AWS (LocalStack's AWS-validated
//! snapshots, `tests/aws/services/stepfunctions/v2/`): a runtime error's
//! cause names the state and the event that entered it; a task that times
//! out says `States.Timeout` and gives no cause.

#[path = "support/run.rs"]
mod support;

use serde_json::{Value, json};
use support::{events, run};

#[tokio::test(start_paused = true)]
async fn a_runtime_error_names_the_state_and_the_event_that_entered_it() {
    let (_, row) = run(
        json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Next": "B"},
            "B": {"Type": "Pass", "InputPath": "$.missing", "End": true}}}),
        json!({"present": 1}),
    )
    .await;
    assert_eq!(row.status, "FAILED");
    assert_eq!(row.error.as_deref(), Some("States.Runtime"));
    // Events: 1 ExecutionStarted, 2/3 A entered/exited, 4 B entered.
    assert_eq!(
        row.cause.as_deref(),
        Some(
            "An error occurred while executing the state 'B' (entered at the event id #4). \
             Invalid path '$.missing' : No results for path: $['missing']"
        )
    );
}

#[tokio::test(start_paused = true)]
async fn a_runtime_error_in_a_branch_is_located_once_at_its_state() {
    let (_, row) = run(
        json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
            "Branches": [{"StartAt": "Inner", "States": {
                "Inner": {"Type": "Pass", "InputPath": "$.nope", "End": true}}}]}}}),
        json!({}),
    )
    .await;
    let cause = row.cause.unwrap_or_default();
    assert!(
        cause.starts_with(
            "An error occurred while executing the state 'Inner' (entered at the event id #"
        ),
        "{cause}"
    );
    assert_eq!(
        cause.matches("An error occurred").count(),
        1,
        "the Parallel passes the error on as it is: {cause}"
    );
}

/// A callback task that waits 5 s for a person; with `caught`, a Catch
/// takes its timeout into `$.error` and the execution succeeds.
fn timed_callback(caught: bool) -> Value {
    let mut task = json!({"Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken",
        "Parameters": {"TableName": "t", "Item": {"token": {"S.$": "$$.Task.Token"}}},
        "TimeoutSeconds": 5});
    let mut states = json!({});
    if caught {
        task["Catch"] = json!([{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.error", "Next": "Expired"}]);
        task["Next"] = json!("Expired");
        states["Expired"] = json!({"Type": "Succeed"});
    } else {
        task["End"] = json!(true);
    }
    states["Wait for person"] = task;
    json!({"StartAt": "Wait for person", "States": states})
}

#[tokio::test(start_paused = true)]
async fn a_task_that_times_out_says_states_timeout_and_no_cause() {
    for caught in [false, true] {
        let (engine, row) = run(timed_callback(caught), json!({"order": "o-1"})).await;
        let history = events(&engine, &row);
        let timed_out = history
            .iter()
            .find(|(kind, _)| kind == "TaskTimedOut")
            .map(|(_, d)| d.clone())
            .expect("a TaskTimedOut event");
        assert_eq!(timed_out["error"], "States.Timeout");
        assert!(timed_out.get("cause").is_none(), "{timed_out}");
        if caught {
            assert_eq!(row.status, "SUCCEEDED");
            assert_eq!(
                serde_json::from_str::<Value>(row.output.as_deref().unwrap_or("null"))
                    .expect("output"),
                json!({"order": "o-1", "error": {"Error": "States.Timeout", "Cause": ""}}),
                "a Catch sees the error with an empty cause"
            );
        } else {
            assert_eq!(row.status, "FAILED");
            assert_eq!(row.error.as_deref(), Some("States.Timeout"));
            let (kind, failed) = history.last().cloned().expect("events");
            assert_eq!(kind, "ExecutionFailed");
            assert_eq!(failed, json!({"error": "States.Timeout"}));
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_wait_says_what_is_wrong_with_its_seconds_or_timestamp() {
    let wait = |field: &str| {
        json!({"StartAt": "WaitState", "States": {"WaitState": {"Type": "Wait",
            field: if field == "SecondsPath" { "$.input.waitSeconds" } else { "$.TimestampValue" },
            "End": true}}})
    };
    let prefix =
        "An error occurred while executing the state 'WaitState' (entered at the event id #2). ";
    for (field, input, cause) in [
        (
            "SecondsPath",
            json!({"input": {"waitSeconds": -1}}),
            "The SecondsPath parameter references a negative value: $.input.waitSeconds == -1",
        ),
        (
            "SecondsPath",
            json!({"input": {"waitSeconds": 1.5}}),
            "The SecondsPath parameter cannot be parsed as a long value: $.input.waitSeconds == 1.5",
        ),
        (
            "SecondsPath",
            json!({"input": {}}),
            "The SecondsPath parameter does not reference an input value: $.input.waitSeconds",
        ),
        (
            "TimestampPath",
            json!({"TimestampValue": "2016-12-05 21:29:29Z"}),
            "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: $.TimestampValue == 2016-12-05 21:29:29Z",
        ),
        (
            "SecondsPath",
            json!({"input": {"waitSeconds": 2_147_483_648_u64}}),
            "Wait state delay is too long.",
        ),
    ] {
        let (_, row) = run(wait(field), input.clone()).await;
        assert_eq!(row.error.as_deref(), Some("States.Runtime"), "{input}");
        assert_eq!(
            row.cause.as_deref(),
            Some(format!("{prefix}{cause}").as_str())
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_fail_reads_its_error_by_path_or_intrinsic_and_says_when_the_path_finds_nothing() {
    let (_, row) = run(
        json!({"StartAt": "fail", "States": {"fail": {"Type": "Fail",
            "ErrorPath": "States.Format('{} string', $.Error)",
            "CausePath": "States.Format('caused by {}.', $.Cause)"}}}),
        json!({"Error": "error", "Cause": "cause string"}),
    )
    .await;
    assert_eq!(
        (row.error.as_deref(), row.cause.as_deref()),
        (Some("error string"), Some("caused by cause string."))
    );
    let (_, row) = run(
        json!({"StartAt": "pass", "States": {
            "pass": {"Type": "Pass", "Parameters": {"Error": "error-value"}, "Next": "fail"},
            "fail": {"Type": "Fail", "ErrorPath": "$.ErrorX"}}}),
        json!({}),
    )
    .await;
    assert_eq!(row.error.as_deref(), Some("States.Runtime"));
    assert_eq!(
        row.cause.as_deref(),
        Some(
            "An error occurred while executing the state 'fail' (entered at the event id #4). \
             The JSONPath '$.ErrorX' specified for the field 'ErrorPath' could not be found in the input '{\"Error\":\"error-value\"}'"
        )
    );
}
