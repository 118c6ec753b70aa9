//! The Map state's run-time settings as AWS records them (LocalStack's
//! AWS-validated `scenarios` snapshots): MaxConcurrencyPath and the
//! tolerated-failure paths are checked when the Map starts, a Distributed
//! Map without S3 runs like an inline one, failed iterations within the
//! tolerance leave the Map succeeding, and ItemBatcher groups items.

#[path = "support/run.rs"]
mod support;

use countersign_engine::store::ExecutionRow;
use serde_json::{Value, json};
use support::{engine, output};

async fn run(definition: &Value, input: Value) -> ExecutionRow {
    support::run_on(&engine(), definition, input).await
}

const PREFIX: &str =
    "An error occurred while executing the state 'MapState' (entered at the event id #2). ";

fn map(extra: Value, mode: &str, item_state: Value) -> Value {
    let mut state = json!({"Type": "Map", "ItemsPath": "$.Items", "End": true,
        "ItemProcessor": {"ProcessorConfig": {"Mode": mode, "ExecutionType": "STANDARD"},
            "StartAt": "HandleItem", "States": {"HandleItem": item_state}}});
    if let (Some(s), Some(e)) = (state.as_object_mut(), extra.as_object()) {
        s.extend(e.clone());
    }
    json!({"StartAt": "MapState", "States": {"MapState": state}})
}

fn pass() -> Value {
    json!({"Type": "Pass", "End": true})
}

#[tokio::test(start_paused = true)]
async fn max_concurrency_path_must_name_an_integer() {
    let definition = map(
        json!({"MaxConcurrencyPath": "$.MaxConcurrencyValue"}),
        "INLINE",
        pass(),
    );
    for (value, shown) in [(json!({}), "{}"), (json!("NoNumber"), "NoNumber")] {
        let row = run(
            &definition,
            json!({"MaxConcurrencyValue": value, "Items": ["HelloWorld"]}),
        )
        .await;
        assert_eq!(row.error.as_deref(), Some("States.Runtime"));
        assert_eq!(
            row.cause.unwrap_or_default(),
            format!(
                "{PREFIX}The MaxConcurrencyPath field refers to value \"{shown}\" which is not a valid integer: $.MaxConcurrencyValue"
            )
        );
    }
    for ok in [0, 1] {
        let row = run(
            &definition,
            json!({"MaxConcurrencyValue": ok, "Items": ["HelloWorld"]}),
        )
        .await;
        assert_eq!(output(&row), json!(["HelloWorld"]));
    }
}

#[tokio::test(start_paused = true)]
async fn tolerated_failure_paths_are_checked_when_the_map_starts() {
    let count = map(
        json!({"ToleratedFailureCountPath": "$.ToleratedFailureCount"}),
        "DISTRIBUTED",
        pass(),
    );
    for (value, cause) in [
        (
            json!({}),
            "The ToleratedFailureCountPath field refers to value \"{}\" which is not a valid integer: $.ToleratedFailureCount",
        ),
        (
            json!("NoNumber"),
            "The ToleratedFailureCountPath field refers to value \"NoNumber\" which is not a valid integer: $.ToleratedFailureCount",
        ),
        (json!(-1), "ToleratedFailureCount cannot be negative."),
    ] {
        let row = run(
            &count,
            json!({"Items": [0], "ToleratedFailureCount": value}),
        )
        .await;
        assert_eq!(row.cause.unwrap_or_default(), format!("{PREFIX}{cause}"));
    }
    let row = run(&count, json!({"Items": [0], "ToleratedFailureCount": 1})).await;
    assert_eq!(output(&row), json!([0]));

    let percentage = map(
        json!({"ToleratedFailurePercentagePath": "$.ToleratedFailurePercentage"}),
        "DISTRIBUTED",
        pass(),
    );
    for (value, cause) in [
        (
            json!("NoNumber"),
            "The ToleratedFailurePercentagePath field refers to value \"NoNumber\" which is not a valid float: $.ToleratedFailurePercentage",
        ),
        (
            json!(-1.1),
            "ToleratedFailurePercentage must be between 0 and 100.",
        ),
        (
            json!(100.1),
            "ToleratedFailurePercentage must be between 0 and 100.",
        ),
    ] {
        let row = run(
            &percentage,
            json!({"Items": [0], "ToleratedFailurePercentage": value}),
        )
        .await;
        assert_eq!(row.cause.unwrap_or_default(), format!("{PREFIX}{cause}"));
    }
    for ok in [json!(0), json!(1.1), json!(100)] {
        let row = run(
            &percentage,
            json!({"Items": [0], "ToleratedFailurePercentage": ok}),
        )
        .await;
        assert_eq!(output(&row), json!([0]));
    }
}

#[tokio::test(start_paused = true)]
async fn failed_iterations_within_the_tolerance_leave_the_map_succeeding() {
    // Items above 1 fail.
    let item_state = json!({"Type": "Choice", "Choices": [
            {"Variable": "$", "NumericGreaterThan": 1, "Next": "Boom"}],
        "Default": "Fine"});
    let definition = |tolerance: Value| {
        let mut d = map(tolerance, "DISTRIBUTED", item_state.clone());
        let processor = &mut d["States"]["MapState"]["ItemProcessor"]["States"];
        processor["Fine"] = json!({"Type": "Pass", "End": true});
        processor["Boom"] = json!({"Type": "Fail", "Error": "TooBig", "Cause": "above one"});
        d
    };
    let items = json!({"Items": [0, 1, 2, 3]});
    let row = run(
        &definition(json!({"ToleratedFailureCount": 2})),
        items.clone(),
    )
    .await;
    assert_eq!(
        output(&row),
        json!([0, 1, {"Error": "TooBig", "Cause": "above one"}, {"Error": "TooBig", "Cause": "above one"}])
    );
    let row = run(
        &definition(json!({"ToleratedFailurePercentage": 50})),
        items.clone(),
    )
    .await;
    assert_eq!(row.status, "SUCCEEDED", "2 of 4 is 50%");
    for over in [
        json!({"ToleratedFailureCount": 1}),
        json!({"ToleratedFailurePercentage": 49.9}),
    ] {
        let row = run(&definition(over.clone()), items.clone()).await;
        assert_eq!(
            (row.error.as_deref(), row.cause.as_deref()),
            (
                Some("States.ExceedToleratedFailureThreshold"),
                Some("The specified tolerated failure threshold was exceeded")
            ),
            "{over}"
        );
    }
    let row = run(&definition(json!({})), items).await;
    assert_eq!(
        row.error.as_deref(),
        Some("TooBig"),
        "no tolerance: the iteration's error"
    );
}

#[tokio::test(start_paused = true)]
async fn a_distributed_map_runs_here_and_batches_items() {
    let row = run(
        &map(
            json!({"Label": "TestMap", "MaxConcurrency": 1}),
            "DISTRIBUTED",
            pass(),
        ),
        json!({"Items": ["Hello", "World"]}),
    )
    .await;
    assert_eq!(output(&row), json!(["Hello", "World"]));
    let row = run(
        &map(
            json!({"ItemBatcher": {"MaxItemsPerBatchPath": "$.size", "BatchInput": {"tag.$": "$.tag"}}}),
            "DISTRIBUTED",
            pass(),
        ),
        json!({"Items": [1, 2, 3], "size": 2, "tag": "t"}),
    )
    .await;
    assert_eq!(
        output(&row),
        json!([
            {"BatchInput": {"tag": "t"}, "Items": [1, 2]},
            {"BatchInput": {"tag": "t"}, "Items": [3]}
        ])
    );
    let reader = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "End": true,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {}},
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}});
    let refused = engine()
        .create_state_machine("reader", &reader.to_string(), "arn:aws:iam::1:role/r", None)
        .expect_err("S3 item readers are not run here");
    assert!(refused.to_string().contains("ItemReader"), "{refused}");
}
