//! The context object (`$$`) as AWS records it (LocalStack's AWS-validated
//! `context_object` snapshots): the execution carries `RedriveCount`, and a
//! state's `RetryCount` exists only where the state can retry.

use std::sync::Arc;
use std::time::Duration;

use countersign_engine::{Engine, EngineConfig, ServiceError, Store, TaskRunner};
use serde_json::{Value, json};

struct Empty;

#[async_trait::async_trait]
impl TaskRunner for Empty {
    async fn dynamodb(&self, _action: &str, _request: &Value) -> Result<Value, ServiceError> {
        Ok(json!({}))
    }
}

#[tokio::test(start_paused = true)]
async fn the_context_holds_what_aws_puts_in_it() {
    let engine = Engine::open(
        Store::in_memory().expect("store"),
        Arc::new(Empty),
        EngineConfig::default(),
    )
    .expect("engine");
    let definition = json!({"StartAt": "Look", "States": {
        "Look": {"Type": "Pass", "Parameters": {"ctx.$": "$$"}, "Next": "Write"},
        "Write": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                  "Parameters": {"TableName": "t", "Item": {"k": {"S": "v"}}},
                  "ResultSelector": {"state.$": "$$.State"}, "ResultPath": "$.task", "End": true}}});
    let machine = engine
        .create_state_machine(
            "ctx",
            &definition.to_string(),
            "arn:aws:iam::1:role/r",
            None,
        )
        .expect("machine");
    let started = engine
        .start_execution(&machine.arn, Some("look"), Some("{\"input-value\": 0}"))
        .await
        .expect("started");
    let mut row = engine.describe_execution(&started.arn).expect("described");
    for _ in 0..1000 {
        if row.status != "RUNNING" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        row = engine.describe_execution(&started.arn).expect("described");
    }
    assert_eq!(row.status, "SUCCEEDED", "{:?}", row.cause);
    let out: Value = serde_json::from_str(row.output.as_deref().unwrap_or("null")).expect("json");
    let ctx = &out["ctx"];
    assert_eq!(ctx["Execution"]["RedriveCount"], json!(0));
    assert_eq!(ctx["Execution"]["Input"], json!({"input-value": 0}));
    assert_eq!(ctx["State"]["Name"], json!("Look"));
    assert!(ctx["State"].get("RetryCount").is_none(), "{ctx}");
    assert_eq!(out["task"]["state"]["Name"], json!("Write"));
    assert_eq!(out["task"]["state"]["RetryCount"], json!(0));
}
