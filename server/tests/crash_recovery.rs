//! Durability: the real `countersign emulator` process is killed with
//! SIGKILL while executions wait for a callback, sit in a Wait state, and
//! have already made a DynamoDB write. After a restart on the same data
//! directory the waiting token is still accepted, the Wait that came due
//! while the process was down fires (late, never lost), and the write that
//! happened before the crash is not made again.

#[path = "support/backends.rs"]
mod backends;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use aws_sdk_sfn::types::ExecutionStatus;
use serde_json::json;

struct Emulator {
    child: Child,
    addr: std::net::SocketAddr,
    credential: countersign_server::embedded::Credential,
}

async fn launch(data: &Path) -> Emulator {
    // The credential the emulator makes for (or finds in) the data
    // directory; made here first, the emulator must take the same one.
    let credential =
        countersign_server::embedded::Credential::for_data_dir(data).expect("credential");
    let (child, addrs) = backends::spawn_announced(
        Command::new(env!("CARGO_BIN_EXE_countersign"))
            .args(["emulator", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .stderr(Stdio::null()),
        &["DynamoDB and Step Functions on "],
    );
    Emulator {
        child,
        addr: addrs[0],
        credential,
    }
}

async fn clients(emulator: &Emulator) -> (aws_sdk_sfn::Client, aws_sdk_dynamodb::Client) {
    let config =
        countersign_server::aws::embedded_config(emulator.addr, &emulator.credential).await;
    (
        aws_sdk_sfn::Client::new(&config),
        aws_sdk_dynamodb::Client::new(&config),
    )
}

async fn table(ddb: &aws_sdk_dynamodb::Client, name: &str, key: &str) {
    ddb.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(key)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attr"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(key)
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .send()
        .await
        .expect("table");
}

/// `ADD n :one` on the counter row `key`: running twice would show as 2.
fn bump(key: &str) -> serde_json::Value {
    json!({"Type": "Task", "Resource": "arn:aws:states:::dynamodb:updateItem", "Parameters": {
        "TableName": "counters", "Key": {"pk": {"S": key}},
        "UpdateExpression": "ADD n :one", "ExpressionAttributeValues": {":one": {"N": "1"}}
    }, "ResultPath": null})
}

async fn machine(sfn: &aws_sdk_sfn::Client, name: &str, definition: serde_json::Value) -> String {
    sfn.create_state_machine()
        .name(name)
        .definition(definition.to_string())
        .role_arn("arn:aws:iam::123456789012:role/test")
        .send()
        .await
        .expect("create")
        .state_machine_arn()
        .to_owned()
}

async fn start(sfn: &aws_sdk_sfn::Client, machine: &str) -> String {
    sfn.start_execution()
        .state_machine_arn(machine)
        .send()
        .await
        .expect("start")
        .execution_arn()
        .to_owned()
}

async fn counter(ddb: &aws_sdk_dynamodb::Client, key: &str) -> u64 {
    ddb.get_item()
        .table_name("counters")
        .key("pk", AttributeValue::S(key.into()))
        .consistent_read(true)
        .send()
        .await
        .expect("get")
        .item()
        .and_then(|i| i.get("n"))
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn status(sfn: &aws_sdk_sfn::Client, arn: &str) -> ExecutionStatus {
    sfn.describe_execution()
        .execution_arn(arn)
        .send()
        .await
        .expect("describe")
        .status()
        .clone()
}

#[tokio::test]
async fn executions_survive_kill_9_without_losing_or_repeating_work() {
    let data: PathBuf =
        std::env::temp_dir().join(format!("countersign-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);

    let mut first = launch(&data).await;
    let (sfn, ddb) = clients(&first).await;
    table(&ddb, "counters", "pk").await;
    table(&ddb, "tokens", "id").await;

    let callback = machine(&sfn, "callback", json!({"StartAt": "Ask", "States": {
        "Ask": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken",
            "Parameters": {"TableName": "tokens", "Item": {"id": {"S.$": "$$.Execution.Id"}, "token": {"S.$": "$$.Task.Token"}}},
            "ResultPath": "$.answer", "Next": "Count"},
        "Count": merge(bump("after-callback"), json!({"End": true}))
    }})).await;
    let waiting = machine(
        &sfn,
        "waiting",
        json!({"StartAt": "Nap", "States": {
            "Nap": {"Type": "Wait", "Seconds": 2, "Next": "Count"},
            "Count": merge(bump("after-wait"), json!({"End": true}))
        }}),
    )
    .await;
    let once = machine(
        &sfn,
        "once",
        json!({"StartAt": "Count", "States": {
            "Count": merge(bump("before-crash"), json!({"Next": "Nap"})),
            "Nap": {"Type": "Wait", "Seconds": 3, "End": true}
        }}),
    )
    .await;

    let a = start(&sfn, &callback).await;
    let b = start(&sfn, &waiting).await;
    let c = start(&sfn, &once).await;
    let token = {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let item = ddb
                .get_item()
                .table_name("tokens")
                .key("id", AttributeValue::S(a.clone()))
                .consistent_read(true)
                .send()
                .await
                .expect("get");
            if let Some(t) = item
                .item()
                .and_then(|i| i.get("token"))
                .and_then(|v| v.as_s().ok())
            {
                break t.clone();
            }
            assert!(
                Instant::now() < deadline,
                "the callback task never wrote its token"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    };
    eventually("the write before the crash happens", || {
        let ddb = ddb.clone();
        async move { counter(&ddb, "before-crash").await == 1 }
    })
    .await;

    first.child.kill().expect("SIGKILL"); // std sends SIGKILL on Unix
    first.child.wait().expect("reaped");
    // The Wait state's deadline passes while nothing runs.
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let mut second = launch(&data).await;
    let (sfn, ddb) = clients(&second).await;
    assert_eq!(status(&sfn, &a).await, ExecutionStatus::Running);
    sfn.send_task_success()
        .task_token(&token)
        .output(r#"{"approved":true}"#)
        .send()
        .await
        .expect("the token from before the crash is still accepted");

    for (arn, what) in [
        (&a, "callback execution"),
        (&b, "overdue wait"),
        (&c, "wait after a write"),
    ] {
        eventually(what, || {
            let sfn = sfn.clone();
            let arn = arn.clone();
            async move { status(&sfn, &arn).await == ExecutionStatus::Succeeded }
        })
        .await;
    }
    assert_eq!(counter(&ddb, "after-callback").await, 1);
    assert_eq!(counter(&ddb, "after-wait").await, 1);
    assert_eq!(
        counter(&ddb, "before-crash").await,
        1,
        "the write before the crash ran again"
    );

    // Each history is one unbroken sequence: nothing recorded twice.
    for arn in [&a, &b, &c] {
        let history = sfn
            .get_execution_history()
            .execution_arn(arn)
            .send()
            .await
            .expect("history");
        let ids: Vec<i64> = history.events().iter().map(|e| e.id()).collect();
        assert_eq!(ids, (1..=ids.len() as i64).collect::<Vec<_>>());
        let count = |kind: &str| {
            history
                .events()
                .iter()
                .filter(|e| e.r#type().as_str() == kind)
                .count()
        };
        assert_eq!(
            count("TaskScheduled"),
            count("TaskStateEntered"),
            "{arn}: a task was scheduled twice"
        );
    }

    second.child.kill().expect("stop");
    let _ = second.child.wait();
    let _ = std::fs::remove_dir_all(&data);
}

fn merge(mut a: serde_json::Value, b: serde_json::Value) -> serde_json::Value {
    if let (Some(a), Some(b)) = (a.as_object_mut(), b.as_object()) {
        a.extend(b.clone());
    }
    a
}
