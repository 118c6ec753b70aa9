//! Differential conformance of the embedded Step Functions engine: each case
//! runs the same definition and input, with the same callbacks, on the
//! embedded services and on moto, and the two must agree on the final
//! status, output, error and cause, and the sequence of history event
//! types. Where moto is known to differ from AWS, the case checks AWS's
//! documented behaviour instead and says so.

#[path = "support/backends.rs"]
mod backends;

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use backends::{Backend, unique};
use serde_json::{Value, json};

/// What a run looked like from outside.
#[derive(Debug, Clone, PartialEq)]
struct Observed {
    status: String,
    output: Option<Value>,
    error: Option<String>,
    cause: Option<String>,
    events: Vec<String>,
}

/// What to answer each time the execution waits for a callback.
#[derive(Debug, Clone)]
enum Answer {
    Success(Value),
    Failure(&'static str, &'static str),
    /// Send nothing; let the task time out.
    Silence,
}

/// Tables every case may use: `DATA` (key `pk`) and `TOKENS` (key `id`,
/// one row per execution holding the token it currently waits on). The
/// placeholders in a definition are replaced with per-run names.
async fn create_tables(b: &Backend, data: &str, tokens: &str) {
    for (table, key) in [(data, "pk"), (tokens, "id")] {
        b.ddb
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(key)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("attribute"),
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
            .unwrap_or_else(|e| panic!("{}: create {table}: {e:?}", b.name));
    }
}

async fn run_case(
    b: &Backend,
    name: &str,
    definition: &Value,
    input: &Value,
    answers: &[Answer],
) -> Observed {
    let data = unique("data");
    let tokens = unique("tokens");
    create_tables(b, &data, &tokens).await;
    let text = definition
        .to_string()
        .replace("DATA", &data)
        .replace("TOKENS", &tokens);
    let machine = b
        .sfn
        .create_state_machine()
        .name(unique("sm"))
        .definition(text)
        .role_arn("arn:aws:iam::123456789012:role/countersign-test")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}: create state machine: {e:?}", b.name));
    let execution = b
        .sfn
        .start_execution()
        .state_machine_arn(machine.state_machine_arn())
        .name(name)
        .input(input.to_string())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{}: start: {e:?}", b.name));
    let arn = execution.execution_arn().to_owned();

    let mut last_token = String::new();
    for answer in answers {
        let token = wait_for_token(b, &tokens, &arn, &last_token).await;
        match answer {
            Answer::Success(output) => {
                b.sfn
                    .send_task_success()
                    .task_token(&token)
                    .output(output.to_string())
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{}: success: {e:?}", b.name));
            }
            Answer::Failure(error, cause) => {
                b.sfn
                    .send_task_failure()
                    .task_token(&token)
                    .error(*error)
                    .cause(*cause)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{}: failure: {e:?}", b.name));
            }
            Answer::Silence => {}
        }
        last_token = token;
    }
    observe(b, &arn).await
}

/// Waits until the execution has written a token other than `previous`.
async fn wait_for_token(b: &Backend, table: &str, arn: &str, previous: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let item = b
            .ddb
            .get_item()
            .table_name(table)
            .key("id", AttributeValue::S(arn.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: read token: {e:?}", b.name));
        if let Some(token) = item
            .item()
            .and_then(|i| i.get("token"))
            .and_then(|v| v.as_s().ok())
            .filter(|t| *t != previous)
        {
            return token.clone();
        }
        assert!(
            Instant::now() < deadline,
            "{}: no task token appeared for {arn}",
            b.name
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn observe(b: &Backend, arn: &str) -> Observed {
    let deadline = Instant::now() + Duration::from_secs(30);
    let described = loop {
        let d = b
            .sfn
            .describe_execution()
            .execution_arn(arn)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: describe: {e:?}", b.name));
        if d.status().as_str() != "RUNNING" {
            break d;
        }
        assert!(Instant::now() < deadline, "{}: {arn} still running", b.name);
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    let mut events = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = b
            .sfn
            .get_execution_history()
            .execution_arn(arn)
            .max_results(50)
            .set_next_token(next.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: history: {e:?}", b.name));
        events.extend(page.events().iter().map(|e| e.r#type().as_str().to_owned()));
        next = page.next_token().map(str::to_owned);
        if next.is_none() {
            break;
        }
    }
    Observed {
        status: described.status().as_str().to_owned(),
        output: described
            .output()
            .map(|o| serde_json::from_str(o).expect("output is JSON")),
        error: described.error().map(str::to_owned),
        cause: described.cause().map(str::to_owned),
        events,
    }
}

/// Runs a case on both backends and checks they agree; returns what the
/// embedded engine did, for further checks.
async fn differential(definition: Value, input: Value, answers: &[Answer]) -> Observed {
    differential_with(definition, input, answers, |_| {}).await
}

/// Like [`differential`], with `known_difference` applied to both sides
/// before comparing: it blanks out exactly what moto is known to get wrong,
/// and the caller checks AWS's documented behaviour on our side.
async fn differential_with(
    definition: Value,
    input: Value,
    answers: &[Answer],
    known_difference: fn(&mut Observed),
) -> Observed {
    let embedded = backends::embedded().await;
    let moto = backends::moto().await;
    // The same execution name on both, so `$$.Execution.Name` agrees.
    let name = unique("ex");
    let ours = run_case(&embedded, &name, &definition, &input, answers).await;
    let theirs = run_case(&moto, &name, &definition, &input, answers).await;
    let (mut left, mut right) = (ours.clone(), theirs);
    known_difference(&mut left);
    known_difference(&mut right);
    assert_eq!(left, right, "embedded (left) and moto (right) disagree");
    ours
}

/// Branches and iterations run concurrently on both (as on AWS), so their
/// events interleave differently from run to run: compare them as a
/// multiset, keeping the first and last events in place.
fn concurrent(o: &mut Observed) {
    if o.events.len() > 2 {
        let last = o.events.len() - 1;
        o.events[1..last].sort();
    }
}

/// moto drops the `cause` given to SendTaskFailure; AWS keeps it (the
/// TaskFailed event and the Catch output carry it).
fn moto_drops_callback_cause(o: &mut Observed) {
    o.cause = None;
    if let Some(Value::Object(out)) = &mut o.output {
        out.remove("cause");
    }
}

// ----- the cases ----------------------------------------------------------

#[tokio::test]
async fn pass_states_with_paths_parameters_and_intrinsics() {
    let o = differential(
        json!({"StartAt": "Shape", "States": {
            "Shape": {"Type": "Pass", "InputPath": "$.order", "Parameters": {
                "id.$": "$.id", "label.$": "States.Format('order {} for {}', $.id, $.who)",
                "count.$": "States.ArrayLength($.items)", "next.$": "States.MathAdd($.id, 1)",
                "parsed.$": "States.StringToJson('{\"a\":[1,2]}')", "exec.$": "$$.Execution.Name"
            }, "ResultPath": "$.shaped", "Next": "Fixed"},
            "Fixed": {"Type": "Pass", "Result": {"constant": true}, "ResultPath": "$.fixed", "Next": "Trim"},
            "Trim": {"Type": "Pass", "OutputPath": "$.shaped", "Next": "Done"},
            "Done": {"Type": "Succeed"}
        }}),
        json!({"order": {"id": 41, "who": "carol", "items": ["hat", "jeans"]}}),
        &[],
    )
    .await;
    assert_eq!(o.status.as_str(), "SUCCEEDED");
    let out = o.output.expect("output");
    assert_eq!(out["label"], "order 41 for carol");
    assert_eq!(out["next"], 42);
    assert_eq!(out["parsed"], json!({"a": [1, 2]}));
}

#[tokio::test]
async fn choice_rules_pick_branches_and_fail_states_fail() {
    let definition = json!({"StartAt": "Route", "States": {
        "Route": {"Type": "Choice", "Choices": [
            {"Not": {"Variable": "$.n", "IsPresent": true}, "Next": "Missing"},
            {"And": [{"Variable": "$.n", "NumericGreaterThan": 10}, {"Variable": "$.tag", "StringMatches": "vip-*"}], "Next": "Big"},
            {"Variable": "$.n", "NumericLessThanEquals": 10, "Next": "Small"}
        ], "Default": "Other"},
        "Big": {"Type": "Pass", "Result": {"route": "big"}, "End": true},
        "Small": {"Type": "Pass", "Result": {"route": "small"}, "End": true},
        "Other": {"Type": "Pass", "Result": {"route": "other"}, "End": true},
        "Missing": {"Type": "Fail", "Error": "Order.Missing", "Cause": "no n"}
    }});
    let big = differential(definition.clone(), json!({"n": 11, "tag": "vip-1"}), &[]).await;
    assert_eq!(big.output, Some(json!({"route": "big"})));
    let other = differential(definition.clone(), json!({"n": 11, "tag": "x"}), &[]).await;
    assert_eq!(other.output, Some(json!({"route": "other"})));
    let missing = differential(definition, json!({}), &[]).await;
    assert_eq!(
        (missing.status.as_str(), missing.error.as_deref()),
        ("FAILED", Some("Order.Missing"))
    );
}

#[tokio::test]
async fn dynamodb_tasks_write_and_read_items() {
    let o = differential(
        json!({"StartAt": "Put", "States": {
            "Put": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "Parameters": {
                "TableName": "DATA", "Item": {"pk": {"S.$": "$.id"}, "status": {"S": "PENDING"}}
            }, "ResultPath": null, "Next": "Get"},
            "Get": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:getItem", "Parameters": {
                "TableName": "DATA", "Key": {"pk": {"S.$": "$.id"}}
            }, "ResultSelector": {"status.$": "$.Item.status.S"}, "ResultPath": "$.read", "End": true}
        }}),
        json!({"id": "order-1"}),
        &[],
    )
    .await;
    assert_eq!(
        o.output,
        Some(json!({"id": "order-1", "read": {"status": "PENDING"}}))
    );
}

#[tokio::test]
async fn a_conditional_write_failure_is_caught_by_its_aws_error_name() {
    let o = differential(
        json!({"StartAt": "First", "States": {
            "First": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "Parameters": {
                "TableName": "DATA", "Item": {"pk": {"S": "k"}}, "ConditionExpression": "attribute_not_exists(pk)"
            }, "ResultPath": null, "Next": "Again"},
            "Again": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "Parameters": {
                "TableName": "DATA", "Item": {"pk": {"S": "k"}}, "ConditionExpression": "attribute_not_exists(pk)"
            }, "Catch": [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": "$.caught", "Next": "Done"}],
              "ResultPath": null, "Next": "Done"},
            "Done": {"Type": "Pass", "Parameters": {"error.$": "$.caught.Error"}, "End": true}
        }}),
        json!({}),
        &[],
    )
    .await;
    assert_eq!(
        o.output,
        Some(json!({"error": "DynamoDB.ConditionalCheckFailedException"}))
    );
}

/// The order article's flow: two waits for staff, each a callback.
fn order_flow() -> Value {
    json!({"StartAt": "Pending", "States": {
        "Pending": {"Type": "Pass", "Parameters": {"status": "PENDING", "items.$": "$.items"}, "Next": "Record"},
        "Record": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "Parameters": {
            "TableName": "DATA", "Item": {"pk": {"S.$": "$$.Execution.Id"}, "status": {"S.$": "$.status"}}
        }, "ResultPath": null, "Next": "WaitPending"},
        "WaitPending": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken",
            "Parameters": {"TableName": "TOKENS", "Item": {"id": {"S.$": "$$.Execution.Id"}, "token": {"S.$": "$$.Task.Token"}, "status": {"S": "PENDING"}}},
            "ResultPath": "$.decision",
            "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Error"}],
            "Next": "Processing"},
        "Processing": {"Type": "Pass", "Result": "PROCESSING", "ResultPath": "$.status", "Next": "WaitProcessing"},
        "WaitProcessing": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken",
            "Parameters": {"TableName": "TOKENS", "Item": {"id": {"S.$": "$$.Execution.Id"}, "token": {"S.$": "$$.Task.Token"}, "status": {"S": "PROCESSING"}}},
            "ResultPath": "$.decision",
            "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Error"}],
            "Next": "Sent"},
        "Sent": {"Type": "Pass", "Result": "SENT", "ResultPath": "$.status", "End": true},
        "Error": {"Type": "Pass", "Parameters": {"status": "ERROR", "error.$": "$.error.Error", "cause.$": "$.error.Cause"}, "End": true}
    }})
}

#[tokio::test]
async fn callbacks_resume_the_order_flow_to_sent() {
    let o = differential(
        order_flow(),
        json!({"items": ["hat"]}),
        &[
            Answer::Success(json!({"by": "sam"})),
            Answer::Success(json!({"by": "sam", "n": 2})),
        ],
    )
    .await;
    assert_eq!(
        o.output,
        Some(json!({"status": "SENT", "items": ["hat"], "decision": {"by": "sam", "n": 2}}))
    );
    assert_eq!(o.events.iter().filter(|e| *e == "TaskSubmitted").count(), 2);
}

#[tokio::test]
async fn a_rejection_is_caught_and_recorded_with_error_and_cause() {
    let o = differential_with(
        order_flow(),
        json!({"items": ["hat"]}),
        &[
            Answer::Success(json!({})),
            Answer::Failure("Rejected", "out of stock"),
        ],
        moto_drops_callback_cause,
    )
    .await;
    assert_eq!(
        o.output,
        Some(json!({"status": "ERROR", "error": "Rejected", "cause": "out of stock"}))
    );
}

#[tokio::test]
async fn an_uncaught_callback_failure_fails_the_execution() {
    let o = differential_with(
        json!({"StartAt": "Ask", "States": {
            "Ask": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken",
                "Parameters": {"TableName": "TOKENS", "Item": {"id": {"S.$": "$$.Execution.Id"}, "token": {"S.$": "$$.Task.Token"}}},
                "End": true}
        }}),
        json!({}),
        &[Answer::Failure("Declined", "Bob declined")],
        moto_drops_callback_cause,
    )
    .await;
    assert_eq!(
        (o.status.as_str(), o.error.as_deref(), o.cause.as_deref()),
        ("FAILED", Some("Declined"), Some("Bob declined"))
    );
}

#[tokio::test]
async fn parallel_branches_collect_results_in_order() {
    // (A definite path such as `$[0].who` is left out: moto answers it
    // with a list, AWS with the value; the path unit tests cover it.)
    let o = differential_with(
        json!({"StartAt": "Both", "States": {
            "Both": {"Type": "Parallel", "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"who": "alice", "x.$": "$.x"}, "End": true}}},
                {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": "bob", "Next": "B2"}, "B2": {"Type": "Succeed"}}}
            ], "ResultSelector": {"first.$": "$[0]", "second.$": "$[1]"}, "ResultPath": "$.signed", "End": true}
        }}),
        json!({"x": 1}),
        &[],
        concurrent,
    )
    .await;
    assert_eq!(
        o.output,
        Some(json!({"x": 1, "signed": {"first": {"who": "alice", "x": 1}, "second": "bob"}}))
    );
}

#[tokio::test]
async fn map_runs_each_item_with_its_index() {
    let o = differential_with(
        json!({"StartAt": "Each", "States": {
            "Each": {"Type": "Map", "ItemsPath": "$.items",
                "ItemSelector": {"item.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index", "order.$": "$.order"},
                "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "Tag", "States": {
                    "Tag": {"Type": "Pass", "Parameters": {"line.$": "States.Format('{}#{}', $.order, $.index)", "item.$": "$.item"}, "End": true}
                }},
                "ResultPath": "$.lines", "End": true}
        }}),
        json!({"order": "o7", "items": ["hat", "jeans", "scarf"]}),
        &[],
        concurrent,
    )
    .await;
    assert_eq!(
        o.output.expect("output")["lines"],
        json!([{"line": "o7#0", "item": "hat"}, {"line": "o7#1", "item": "jeans"}, {"line": "o7#2", "item": "scarf"}])
    );
}

#[tokio::test]
async fn wait_states_wait_then_continue() {
    let started = Instant::now();
    let o = differential(
        json!({"StartAt": "Nap", "States": {
            "Nap": {"Type": "Wait", "SecondsPath": "$.secs", "Next": "Done"},
            "Done": {"Type": "Succeed"}
        }}),
        json!({"secs": 1}),
        &[],
    )
    .await;
    assert_eq!(o.status.as_str(), "SUCCEEDED");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "each backend should wait a second"
    );
}

#[tokio::test]
async fn retries_then_catches_a_failing_task() {
    let o = differential(
        json!({"StartAt": "Seed", "States": {
            "Seed": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "Parameters": {
                "TableName": "DATA", "Item": {"pk": {"S": "taken"}}}, "ResultPath": null, "Next": "Claim"},
            "Claim": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem", "Parameters": {
                "TableName": "DATA", "Item": {"pk": {"S": "taken"}}, "ConditionExpression": "attribute_not_exists(pk)"},
                "Retry": [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "IntervalSeconds": 1, "MaxAttempts": 1}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.why", "Next": "Gave up"}],
                "End": true},
            "Gave up": {"Type": "Pass", "Parameters": {"error.$": "$.why.Error"}, "End": true}
        }}),
        json!({}),
        &[],
    )
    .await;
    assert_eq!(
        o.output,
        Some(json!({"error": "DynamoDB.ConditionalCheckFailedException"}))
    );
    // Two attempts: the first and one retry.
    assert_eq!(o.events.iter().filter(|e| *e == "TaskFailed").count(), 2);
}

/// AWS fails the execution with States.Runtime when a comparison's
/// Variable names nothing (that is what IsPresent is for). moto treats it
/// as "no match" instead, so this runs on the embedded engine alone.
#[tokio::test]
async fn a_comparison_on_a_missing_variable_fails_with_states_runtime_as_on_aws() {
    let b = backends::embedded().await;
    let o = run_case(
        &b,
        "missing-variable",
        &json!({"StartAt": "Route", "States": {
            "Route": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "Done"}], "Default": "Done"},
            "Done": {"Type": "Succeed"}
        }}),
        &json!({}),
        &[],
    )
    .await;
    assert_eq!(
        (o.status.as_str(), o.error.as_deref()),
        ("FAILED", Some("States.Runtime"))
    );
    assert!(
        o.cause.as_deref().is_some_and(|c| c.contains("'$.n'")),
        "{o:?}"
    );
}

#[tokio::test]
async fn a_callback_task_that_hears_nothing_times_out_into_its_catcher() {
    let o = differential(
        json!({"StartAt": "Ask", "States": {
            "Ask": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken",
                "Parameters": {"TableName": "TOKENS", "Item": {"id": {"S.$": "$$.Execution.Id"}, "token": {"S.$": "$$.Task.Token"}}},
                "TimeoutSeconds": 1,
                "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.timeout", "Next": "Expired"}],
                "End": true},
            "Expired": {"Type": "Pass", "Parameters": {"status": "TIMED_OUT", "error.$": "$.timeout.Error"}, "End": true}
        }}),
        json!({}),
        &[Answer::Silence],
    )
    .await;
    assert_eq!(
        o.output,
        Some(json!({"status": "TIMED_OUT", "error": "States.Timeout"}))
    );
    assert!(
        o.events.contains(&"TaskTimedOut".to_owned()),
        "{:?}",
        o.events
    );
}
