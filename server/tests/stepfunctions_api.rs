//! The Step Functions API of the embedded engine, through aws-sdk-sfn, for
//! behaviour the differential suite cannot compare because moto lacks it or
//! differs from AWS (stopping a waiting execution, a reused token), and for
//! the API's validation and paging.

#[path = "support/backends.rs"]
mod backends;

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use aws_sdk_sfn::types::ExecutionStatus;
use backends::{Backend, unique};
use serde_json::json;

const ROLE: &str = "arn:aws:iam::123456789012:role/countersign-test";

async fn token_table(b: &Backend) -> String {
    let table = unique("tokens");
    b.ddb
        .create_table()
        .table_name(&table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attr"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("id")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .send()
        .await
        .expect("table");
    table
}

/// A machine that waits for one callback, with optional task settings.
async fn waiting_machine(b: &Backend, table: &str, task_extra: serde_json::Value) -> String {
    let mut ask = json!({"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken",
        "Parameters": {"TableName": table, "Item": {"id": {"S.$": "$$.Execution.Id"}, "token": {"S.$": "$$.Task.Token"}}},
        "End": true});
    if let (Some(ask), Some(extra)) = (ask.as_object_mut(), task_extra.as_object()) {
        ask.extend(extra.clone());
    }
    let definition = json!({"StartAt": "Ask", "States": {"Ask": ask}});
    b.sfn
        .create_state_machine()
        .name(unique("wait"))
        .definition(definition.to_string())
        .role_arn(ROLE)
        .send()
        .await
        .expect("create")
        .state_machine_arn()
        .to_owned()
}

async fn token_for(b: &Backend, table: &str, execution: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let item = b
            .ddb
            .get_item()
            .table_name(table)
            .key("id", AttributeValue::S(execution.to_owned()))
            .send()
            .await
            .expect("get");
        if let Some(token) = item
            .item()
            .and_then(|i| i.get("token"))
            .and_then(|v| v.as_s().ok())
        {
            return token.clone();
        }
        assert!(Instant::now() < deadline, "no token for {execution}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn status(b: &Backend, execution: &str) -> ExecutionStatus {
    b.sfn
        .describe_execution()
        .execution_arn(execution)
        .send()
        .await
        .expect("describe")
        .status()
        .clone()
}

async fn wait_until_done(
    b: &Backend,
    execution: &str,
) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let d = b
            .sfn
            .describe_execution()
            .execution_arn(execution)
            .send()
            .await
            .expect("describe");
        if *d.status() != ExecutionStatus::Running {
            return d;
        }
        assert!(Instant::now() < deadline, "{execution} still running");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn start(b: &Backend, machine: &str) -> String {
    b.sfn
        .start_execution()
        .state_machine_arn(machine)
        .input("{}")
        .send()
        .await
        .expect("start")
        .execution_arn()
        .to_owned()
}

#[tokio::test]
async fn stopping_a_waiting_execution_aborts_it_and_retires_its_token() {
    let b = backends::embedded().await;
    let table = token_table(&b).await;
    let machine = waiting_machine(&b, &table, json!({})).await;
    let execution = start(&b, &machine).await;
    let token = token_for(&b, &table, &execution).await;

    b.sfn
        .stop_execution()
        .execution_arn(&execution)
        .error("Withdrawn")
        .cause("the customer cancelled")
        .send()
        .await
        .expect("stop");
    let d = b
        .sfn
        .describe_execution()
        .execution_arn(&execution)
        .send()
        .await
        .expect("describe");
    assert_eq!(*d.status(), ExecutionStatus::Aborted);
    assert_eq!(
        (d.error(), d.cause()),
        (Some("Withdrawn"), Some("the customer cancelled"))
    );

    let late = b
        .sfn
        .send_task_success()
        .task_token(&token)
        .output("{}")
        .send()
        .await;
    let error = late.expect_err("a stopped execution's token is dead");
    assert!(error.into_service_error().is_task_timed_out());
}

#[tokio::test]
async fn a_token_is_accepted_once_and_unknown_tokens_are_invalid() {
    let b = backends::embedded().await;
    let table = token_table(&b).await;
    let machine = waiting_machine(&b, &table, json!({})).await;
    let execution = start(&b, &machine).await;
    let token = token_for(&b, &table, &execution).await;
    assert!(token.len() >= 43, "at least 256 bits, base64url");

    let bad_output = b
        .sfn
        .send_task_success()
        .task_token(&token)
        .output("not json")
        .send()
        .await;
    assert!(
        bad_output
            .expect_err("refused")
            .into_service_error()
            .is_invalid_output()
    );
    // The refused call changed nothing: the task still waits.
    assert_eq!(status(&b, &execution).await, ExecutionStatus::Running);

    b.sfn
        .send_task_success()
        .task_token(&token)
        .output(r#"{"ok":1}"#)
        .send()
        .await
        .expect("first");
    let again = b
        .sfn
        .send_task_success()
        .task_token(&token)
        .output("{}")
        .send()
        .await;
    // AWS answers a used token with TaskTimedOut ("Provided task does not exist anymore").
    assert!(
        again
            .expect_err("second")
            .into_service_error()
            .is_task_timed_out()
    );
    let d = wait_until_done(&b, &execution).await;
    assert_eq!(d.output(), Some(r#"{"ok":1}"#));

    let unknown = b
        .sfn
        .send_task_failure()
        .task_token("no-such-token")
        .send()
        .await;
    assert!(
        unknown
            .expect_err("unknown")
            .into_service_error()
            .is_invalid_token()
    );
}

#[tokio::test]
async fn heartbeats_keep_a_task_alive_until_they_stop() {
    let b = backends::embedded().await;
    let table = token_table(&b).await;
    let machine = waiting_machine(
        &b,
        &table,
        json!({"HeartbeatSeconds": 1, "TimeoutSeconds": 30}),
    )
    .await;
    let execution = start(&b, &machine).await;
    let token = token_for(&b, &table, &execution).await;
    for _ in 0..3 {
        // Well inside HeartbeatSeconds=1, so a loaded machine cannot miss it.
        tokio::time::sleep(Duration::from_millis(300)).await;
        b.sfn
            .send_task_heartbeat()
            .task_token(&token)
            .send()
            .await
            .expect("heartbeat");
    }
    assert_eq!(status(&b, &execution).await, ExecutionStatus::Running);
    let d = wait_until_done(&b, &execution).await;
    assert_eq!(
        (d.status(), d.error()),
        (&ExecutionStatus::Failed, Some("States.Timeout"))
    );
}

#[tokio::test]
async fn an_execution_past_its_timeout_seconds_times_out() {
    let b = backends::embedded().await;
    let definition = json!({"TimeoutSeconds": 1, "StartAt": "Nap", "States": {
        "Nap": {"Type": "Wait", "Seconds": 30, "End": true}}});
    let machine = b
        .sfn
        .create_state_machine()
        .name(unique("slow"))
        .definition(definition.to_string())
        .role_arn(ROLE)
        .send()
        .await
        .expect("create");
    let execution = start(&b, machine.state_machine_arn()).await;
    let d = wait_until_done(&b, &execution).await;
    assert_eq!(
        (d.status(), d.error()),
        (&ExecutionStatus::TimedOut, Some("States.Timeout"))
    );
}

#[tokio::test]
async fn starting_twice_by_name_is_idempotent_only_for_the_same_input() {
    let b = backends::embedded().await;
    let table = token_table(&b).await;
    let machine = waiting_machine(&b, &table, json!({})).await;
    let first = b
        .sfn
        .start_execution()
        .state_machine_arn(&machine)
        .name("order-1")
        .input(r#"{"a":1}"#)
        .send()
        .await
        .expect("first");
    let again = b
        .sfn
        .start_execution()
        .state_machine_arn(&machine)
        .name("order-1")
        .input(r#"{"a":1}"#)
        .send()
        .await
        .expect("same input: same execution");
    assert_eq!(first.execution_arn(), again.execution_arn());
    let clash = b
        .sfn
        .start_execution()
        .state_machine_arn(&machine)
        .name("order-1")
        .input(r#"{"a":2}"#)
        .send()
        .await;
    assert!(
        clash
            .expect_err("other input")
            .into_service_error()
            .is_execution_already_exists()
    );
    let bad = b
        .sfn
        .start_execution()
        .state_machine_arn(&machine)
        .input("{oops")
        .send()
        .await;
    assert!(
        bad.expect_err("bad input")
            .into_service_error()
            .is_invalid_execution_input()
    );
}

#[tokio::test]
async fn invalid_definitions_are_refused_with_a_message_that_names_the_problem() {
    let b = backends::embedded().await;
    let lambda = json!({"StartAt": "Call", "States": {"Call": {"Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:notify", "End": true}}});
    let error = b
        .sfn
        .create_state_machine()
        .name("bad")
        .definition(lambda.to_string())
        .role_arn(ROLE)
        .send()
        .await
        .expect_err("refused")
        .into_service_error();
    assert!(error.is_invalid_definition(), "{error:?}");
    assert!(
        format!("{error}").contains("arn:aws:lambda:us-east-1:123456789012:function:notify"),
        "{error}"
    );

    let dangling = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}});
    let error = b
        .sfn
        .create_state_machine()
        .name("bad2")
        .definition(dangling.to_string())
        .role_arn(ROLE)
        .send()
        .await
        .expect_err("refused")
        .into_service_error();
    assert!(format!("{error}").contains("Nowhere"), "{error}");
}

#[tokio::test]
async fn state_machines_can_be_described_listed_updated_and_deleted() {
    let b = backends::embedded().await;
    let one = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "End": true}}});
    let two = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 2, "End": true}}});
    let arn = b
        .sfn
        .create_state_machine()
        .name("versioned")
        .definition(one.to_string())
        .role_arn(ROLE)
        .send()
        .await
        .expect("create")
        .state_machine_arn()
        .to_owned();
    assert!(arn.ends_with(":stateMachine:versioned"), "{arn}");
    let taken = b
        .sfn
        .create_state_machine()
        .name("versioned")
        .definition(two.to_string())
        .role_arn(ROLE)
        .send()
        .await;
    assert!(
        taken
            .expect_err("name taken")
            .into_service_error()
            .is_state_machine_already_exists()
    );

    b.sfn
        .update_state_machine()
        .state_machine_arn(&arn)
        .definition(two.to_string())
        .send()
        .await
        .expect("update");
    let d = b
        .sfn
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .expect("describe");
    assert_eq!(d.definition(), two.to_string());
    let execution = start(&b, &arn).await;
    assert_eq!(wait_until_done(&b, &execution).await.output(), Some("2"));

    let listed = b.sfn.list_state_machines().send().await.expect("list");
    assert!(
        listed
            .state_machines()
            .iter()
            .any(|m| m.state_machine_arn() == arn)
    );
    b.sfn
        .delete_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await
        .expect("delete");
    let gone = b
        .sfn
        .describe_state_machine()
        .state_machine_arn(&arn)
        .send()
        .await;
    assert!(
        gone.expect_err("deleted")
            .into_service_error()
            .is_state_machine_does_not_exist()
    );
}

#[tokio::test]
async fn executions_and_history_page_and_filter() {
    let b = backends::embedded().await;
    let definition = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "C"}, "C": {"Type": "Succeed"}}});
    let machine = b
        .sfn
        .create_state_machine()
        .name("pager")
        .definition(definition.to_string())
        .role_arn(ROLE)
        .send()
        .await
        .expect("create")
        .state_machine_arn()
        .to_owned();
    let mut started = Vec::new();
    for _ in 0..5 {
        started.push(start(&b, &machine).await);
    }
    for e in &started {
        wait_until_done(&b, e).await;
    }

    let mut seen = Vec::new();
    let mut next = None;
    loop {
        let page = b
            .sfn
            .list_executions()
            .state_machine_arn(&machine)
            .status_filter(ExecutionStatus::Succeeded)
            .max_results(2)
            .set_next_token(next)
            .send()
            .await
            .expect("list");
        assert!(page.executions().len() <= 2);
        seen.extend(
            page.executions()
                .iter()
                .map(|e| e.execution_arn().to_owned()),
        );
        next = page.next_token().map(str::to_owned);
        if next.is_none() {
            break;
        }
    }
    started.reverse(); // newest first, as AWS lists them
    assert_eq!(seen, started);
    let running = b
        .sfn
        .list_executions()
        .state_machine_arn(&machine)
        .status_filter(ExecutionStatus::Running)
        .send()
        .await
        .expect("list running");
    assert!(running.executions().is_empty());

    let e = &started[0];
    let forward = b
        .sfn
        .get_execution_history()
        .execution_arn(e)
        .send()
        .await
        .expect("history");
    let types: Vec<&str> = forward
        .events()
        .iter()
        .map(|ev| ev.r#type().as_str())
        .collect();
    assert_eq!(
        types,
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "PassStateEntered",
            "PassStateExited",
            "SucceedStateEntered",
            "SucceedStateExited",
            "ExecutionSucceeded"
        ]
    );
    let ids: Vec<i64> = forward.events().iter().map(|ev| ev.id()).collect();
    assert_eq!(ids, (1..=8).collect::<Vec<_>>());

    let first_page = b
        .sfn
        .get_execution_history()
        .execution_arn(e)
        .reverse_order(true)
        .max_results(3)
        .send()
        .await
        .expect("reverse");
    let rev: Vec<i64> = first_page.events().iter().map(|ev| ev.id()).collect();
    assert_eq!(rev, [8, 7, 6]);
    let second_page = b
        .sfn
        .get_execution_history()
        .execution_arn(e)
        .reverse_order(true)
        .max_results(3)
        .set_next_token(first_page.next_token().map(str::to_owned))
        .send()
        .await
        .expect("reverse page 2");
    let rev2: Vec<i64> = second_page.events().iter().map(|ev| ev.id()).collect();
    assert_eq!(rev2, [5, 4, 3]);
    let started_details = forward.events()[0]
        .execution_started_event_details()
        .expect("details");
    assert_eq!(started_details.input(), Some("{}"));
}
