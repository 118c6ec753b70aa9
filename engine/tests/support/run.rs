#![allow(
    dead_code,
    reason = "each test binary uses its own part of this support module"
)]

//! Runs one definition to its end on an in-memory engine, under Tokio's
//! paused clock (timers fire as soon as everything waits: no real sleeps).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use countersign_engine::store::ExecutionRow;
use countersign_engine::{Engine, EngineConfig, ServiceError, Store, TaskRunner};
use serde_json::{Value, json};

/// Answers every DynamoDB call with the request it was given, so a test
/// sees what a Task's Parameters made of its input; a callback task
/// writes its row this way and then waits.
pub struct Echo;

#[async_trait::async_trait]
impl TaskRunner for Echo {
    async fn dynamodb(&self, _action: &str, request: &Value) -> Result<Value, ServiceError> {
        Ok(json!({"Echo": request}))
    }
}

pub fn engine() -> Engine {
    Engine::open(
        Store::in_memory().expect("store"),
        Arc::new(Echo),
        EngineConfig::default(),
    )
    .expect("engine")
}

/// Creates a machine of its own for `definition`, runs it on `input`, and
/// returns the execution once it has ended.
pub async fn run_on(engine: &Engine, definition: &Value, input: Value) -> ExecutionRow {
    static MACHINES: AtomicUsize = AtomicUsize::new(0);
    let name = format!("m{}", MACHINES.fetch_add(1, Ordering::Relaxed));
    let machine = engine
        .create_state_machine(
            &name,
            &definition.to_string(),
            "arn:aws:iam::1:role/r",
            None,
        )
        .expect("machine");
    let started = engine
        .start_execution(&machine.arn, None, Some(&input.to_string()))
        .await
        .expect("started");
    for _ in 0..10_000 {
        let row = engine.describe_execution(&started.arn).expect("described");
        if row.status != "RUNNING" {
            return row;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the execution never finished");
}

/// `run_on` a fresh engine, which it returns for reading history.
pub async fn run(definition: Value, input: Value) -> (Engine, ExecutionRow) {
    let engine = engine();
    let row = run_on(&engine, &definition, input).await;
    (engine, row)
}

/// A succeeded execution's output.
pub fn output(row: &ExecutionRow) -> Value {
    assert_eq!(row.status, "SUCCEEDED", "{:?} {:?}", row.error, row.cause);
    serde_json::from_str(row.output.as_deref().unwrap_or("null")).expect("output")
}

/// `(type, details)` of every event, in order.
pub fn events(engine: &Engine, row: &ExecutionRow) -> Vec<(String, Value)> {
    engine
        .execution_history(&row.arn, Some(1000), None, false)
        .expect("history")
        .items
        .into_iter()
        .map(|e| (e.kind, e.details.map(|(_, d)| d).unwrap_or(Value::Null)))
        .collect()
}
