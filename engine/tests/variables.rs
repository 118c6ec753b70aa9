//! Workflow variables in JSONPath states (`Assign`, `$name`), as AWS's
//! developer guide describes them and as executions recorded against AWS
//! show (LocalStack's AWS-validated `assign` snapshots): a state's
//! assignments take effect as it leaves, so its own fields read the values
//! from its entry; a branch or iteration reads the variables around it and
//! keeps its own assignments to itself; history shows each assigned value
//! as JSON text.

#[path = "support/run.rs"]
mod support;

use countersign_engine::Engine;
use countersign_engine::store::ExecutionRow;
use serde_json::{Value, json};
use support::{engine, output, run_on as run};

/// The `assignedVariables` of each StateExited event that has them, by state.
fn assigned(engine: &Engine, row: &ExecutionRow) -> Vec<(String, Value)> {
    engine
        .execution_history(&row.arn, Some(1000), None, false)
        .expect("history")
        .items
        .into_iter()
        .filter_map(|e| {
            let (_, d) = e.details?;
            Some((
                d.get("name")?.as_str()?.to_owned(),
                d.get("assignedVariables")?.clone(),
            ))
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_pass_assigns_from_its_result_and_a_later_state_reads_it() {
    let engine = engine();
    let row = run(
        &engine,
        &json!({"StartAt": "Ask", "States": {
            "Ask": {"Type": "Pass", "Result": {"answer": 42},
                    "Assign": {"theAnswer.$": "$.answer", "unit": "none"}, "Next": "Tell"},
            "Tell": {"Type": "Pass", "OutputPath": "$theAnswer", "End": true}}}),
        json!({}),
    )
    .await;
    assert_eq!(output(&row), json!(42));
    assert_eq!(
        assigned(&engine, &row),
        vec![(
            "Ask".to_owned(),
            json!({"theAnswer": "42", "unit": "\"none\""})
        )],
        "history shows each value as JSON text"
    );
}

#[tokio::test(start_paused = true)]
async fn a_state_reads_the_values_from_its_entry_and_assigns_as_it_leaves() {
    let engine = engine();
    // AWS's own example of evaluation order: State1 reads `$answer` in
    // InputPath and OutputPath while assigning it a new value.
    let row = run(
        &engine,
        &json!({"StartAt": "State0", "States": {
            "State0": {"Type": "Pass", "Result": {"theQuestion": "What is the answer?"},
                       "Assign": {"question.$": "$.theQuestion", "answer": 42}, "Next": "State1"},
            "State1": {"Type": "Pass", "InputPath": "$answer", "ResultPath": "$.theAnswer",
                       "OutputPath": "$answer", "Assign": {"answer": "<omitted>"}, "Next": "State2"},
            "State2": {"Type": "Pass", "Parameters": {"now.$": "$answer", "was.$": "$"}, "End": true}}}),
        json!({}),
    )
    .await;
    assert_eq!(output(&row), json!({"now": "<omitted>", "was": 42}));
}

#[tokio::test(start_paused = true)]
async fn iterations_read_the_variables_around_them_and_keep_their_own() {
    let engine = engine();
    let row = run(
        &engine,
        &json!({"StartAt": "Set", "States": {
            "Set": {"Type": "Pass", "Assign": {"x": 42, "items": [1, 2, 3]}, "Next": "Each"},
            "Each": {"Type": "Map", "ItemsPath": "$items", "ItemProcessor": {
                "StartAt": "Inner", "States": {
                    "Inner": {"Type": "Pass", "Assign": {"innerX.$": "$x", "seen.$": "$"},
                              "Parameters": {"x.$": "$x", "item.$": "$"}, "Next": "Read"},
                    "Read": {"Type": "Pass", "Parameters": {"innerX.$": "$innerX", "seen.$": "$seen"},
                             "End": true}}},
                "ResultPath": "$.mapped", "Next": "After"},
            "After": {"Type": "Parallel", "Branches": [
                {"StartAt": "B", "States": {"B": {"Type": "Pass",
                    "Parameters": {"x.$": "$x", "items.$": "$items"}, "End": true}}}],
                "ResultPath": "$.branch", "Next": "Final"},
            "Final": {"Type": "Pass", "Assign": {"final.$": "$x"}, "End": true}}}),
        json!({}),
    )
    .await;
    let out = output(&row);
    assert_eq!(
        out["mapped"],
        json!([
            {"innerX": 42, "seen": {"x": 42, "item": 1}},
            {"innerX": 42, "seen": {"x": 42, "item": 2}},
            {"innerX": 42, "seen": {"x": 42, "item": 3}}
        ]),
        "each iteration reads its own assignments in its next state; a Pass's `$` is its result"
    );
    assert_eq!(
        out["branch"],
        json!([{"x": 42, "items": [1, 2, 3]}]),
        "a branch reads the outer variables"
    );
    let history = assigned(&engine, &row);
    let inner: Vec<&Value> = history
        .iter()
        .filter(|(s, _)| s == "Inner")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(inner.len(), 3, "each iteration assigns: {history:?}");
    assert!(inner.iter().all(|v| v["innerX"] == "42"), "{inner:?}");
    assert_eq!(
        history.last(),
        Some(&("Final".to_owned(), json!({"final": "42"})))
    );
}

#[tokio::test(start_paused = true)]
async fn an_iterations_variable_is_not_seen_after_the_map() {
    let engine = engine();
    let row = run(
        &engine,
        &json!({"StartAt": "Each", "States": {
            "Each": {"Type": "Map", "ItemsPath": "$.xs", "ItemProcessor": {
                "StartAt": "Inner", "States": {
                    "Inner": {"Type": "Pass", "Assign": {"inside.$": "$"}, "End": true}}},
                "Next": "After"},
            "After": {"Type": "Pass", "OutputPath": "$inside", "End": true}}}),
        json!({"xs": [1]}),
    )
    .await;
    assert_eq!(row.status, "FAILED", "{:?}", row.output);
    assert_eq!(row.error.as_deref(), Some("States.Runtime"));
    assert!(
        row.cause
            .as_deref()
            .unwrap_or_default()
            .contains("'$inside'"),
        "{:?}",
        row.cause
    );
}

#[tokio::test(start_paused = true)]
async fn a_choice_assigns_from_the_rule_that_matched_or_its_own_on_default() {
    let engine = engine();
    let definition = json!({"StartAt": "Check", "States": {
        "Check": {"Type": "Choice",
            "Choices": [
                {"Variable": "$.input_value", "IsPresent": false,
                 "Assign": {"status": "UNKNOWN"}, "Next": "Final"},
                {"Variable": "$.input_value", "NumericEquals": 42,
                 "Assign": {"status": "CORRECT"}, "Next": "Final"}],
            "Assign": {"status": "INCORRECT", "guess.$": "$.input_value"},
            "Default": "Final"},
        "Final": {"Type": "Pass", "Parameters": {"result.$": "$status"}, "End": true}}});
    for (input, status) in [
        (json!({}), "UNKNOWN"),
        (json!({"input_value": 42}), "CORRECT"),
        (json!({"input_value": 7}), "INCORRECT"),
    ] {
        let row = run(&engine, &definition, input.clone()).await;
        assert_eq!(output(&row), json!({"result": status}), "{input}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_task_reads_variables_in_its_parameters_and_assigns_from_its_result() {
    let engine = engine();
    let row = run(
        &engine,
        &json!({"StartAt": "Prepare", "States": {
            "Prepare": {"Type": "Pass", "Assign": {"table": "orders", "id.$": "$.order"},
                        "Next": "Write"},
            "Write": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                      "Parameters": {"TableName.$": "$table", "Item": {"k": {"S.$": "$id"}}},
                      "ResultSelector": {"wrote.$": "$.Echo.Item.k.S"},
                      "Assign": {"written.$": "$.wrote"}, "ResultPath": null, "Next": "Report"},
            "Report": {"Type": "Pass", "Parameters": {"written.$": "$written"}, "End": true}}}),
        json!({"order": "o-7"}),
    )
    .await;
    assert_eq!(output(&row), json!({"written": "o-7"}));
}

#[tokio::test(start_paused = true)]
async fn a_catcher_assigns_from_the_error_output() {
    let engine = engine();
    let row = run(
        &engine,
        &json!({"StartAt": "Check", "States": {
            "Check": {"Type": "Parallel", "Branches": [{"StartAt": "Boom", "States": {
                    "Boom": {"Type": "Fail", "Error": "Broken", "Cause": "on purpose"}}}],
                "Assign": {"never": true},
                "Catch": [{"ErrorEquals": ["States.ALL"], "Assign": {"why.$": "$.Cause"},
                           "Next": "Report"}],
                "Next": "Report"},
            "Report": {"Type": "Pass", "Parameters": {"why.$": "$why"}, "End": true}}}),
        json!({}),
    )
    .await;
    assert_eq!(output(&row), json!({"why": "on purpose"}));
    assert_eq!(
        assigned(&engine, &row),
        vec![("Check".to_owned(), json!({"why": "\"on purpose\""}))],
        "the state's own Assign does not apply when a catcher takes the error"
    );
}

#[tokio::test(start_paused = true)]
async fn definitions_with_bad_assignments_are_refused() {
    let engine = engine();
    for (why, state) in [
        (
            "a name that is not a variable name",
            json!({"Type": "Pass", "Assign": {"1st": 1}, "End": true}),
        ),
        (
            "the reserved name",
            json!({"Type": "Pass", "Assign": {"states": 1}, "End": true}),
        ),
        (
            "Assign where the state type has none",
            json!({"Type": "Succeed", "Assign": {"x": 1}}),
        ),
        (
            "an Assign that is not an object",
            json!({"Type": "Pass", "Assign": [1], "End": true}),
        ),
        (
            "a malformed path",
            json!({"Type": "Pass", "Assign": {"x.$": "nope"}, "End": true}),
        ),
    ] {
        let definition = json!({"StartAt": "S", "States": {"S": state}});
        assert!(
            engine
                .create_state_machine(
                    "bad",
                    &definition.to_string(),
                    "arn:aws:iam::1:role/r",
                    None
                )
                .is_err(),
            "{why}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn choices_waits_and_fails_read_variables() {
    let engine = engine();
    // AWS's recorded loop: the Choice compares two variables, the wrong
    // branch fixes one and comes back.
    let row = run(
        &engine,
        &json!({"StartAt": "Setup", "States": {
            "Setup": {"Type": "Pass", "Assign": {"guess": "the_guess", "answer": "the_answer",
                      "pause": 5, "until": "2024-11-06T09:42:03Z"}, "Next": "Check"},
            "Check": {"Type": "Choice", "Choices": [
                {"Variable": "$guess", "StringEqualsPath": "$answer", "Next": "Rest"}],
                "Default": "Wrong"},
            "Wrong": {"Type": "Pass", "Assign": {"guess.$": "$answer"}, "Next": "Check"},
            "Rest": {"Type": "Wait", "SecondsPath": "$pause", "Next": "Until"},
            "Until": {"Type": "Wait", "TimestampPath": "$until", "Next": "Done"},
            "Done": {"Type": "Pass", "Result": {"state": "CORRECT"}, "End": true}}}),
        json!({}),
    )
    .await;
    assert_eq!(output(&row), json!({"state": "CORRECT"}));

    let row = run(
        &engine,
        &json!({"StartAt": "Pass", "States": {
            "Pass": {"Type": "Pass", "Assign": {"errorVar": "Exception",
                     "causeVar": "An Exception was encountered"}, "Next": "Fail"},
            "Fail": {"Type": "Fail", "ErrorPath": "$errorVar", "CausePath": "$causeVar"}}}),
        json!({}),
    )
    .await;
    assert_eq!(
        (
            row.status.as_str(),
            row.error.as_deref(),
            row.cause.as_deref()
        ),
        (
            "FAILED",
            Some("Exception"),
            Some("An Exception was encountered")
        )
    );
}
