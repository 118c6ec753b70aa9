//! The engine: the Step Functions operations, one driver per running
//! execution, timers, and recovery after a restart.
//!
//! Each running execution is held in memory behind its own async lock and
//! mirrored in the store after every step. Whoever holds the lock (the
//! driver, a callback, a timer, a stop) advances the execution until it has
//! to wait, writing each step before any call to DynamoDB, so a call is
//! never made twice.
//!
//! # Layout
//! - `mod.rs`: the engine, opening it (resuming what ran), shared helpers.
//! - `machines`: the state machine operations.
//! - `executions`: starting, reading, listing and stopping executions.
//! - `callbacks`: a task token's success, failure and heartbeat.
//! - `drive`: stepping an execution until it waits, each step written
//!   first; timers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::Value;

use crate::asl::definition::{self, Definition};
use crate::error::ApiError;
use crate::interpreter::{Effects, Env, ExecutionInfo, Run};
use crate::store::{ExecutionRow, Store};
use crate::tasks::TaskRunner;

mod callbacks;
mod drive;
mod executions;
mod machines;

/// Where the engine says it runs; ARNs are built from these.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub region: String,
    pub account: String,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            region: "us-east-1".into(),
            account: "123456789012".into(),
        }
    }
}

/// A page of results and the token for the next one.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

/// What never changes while an execution runs. Shared, so that each step's
/// [`Env`] costs a reference count rather than a copy of the input.
struct Context {
    info: ExecutionInfo,
    definition: Arc<Definition>,
}

impl Context {
    fn env(&self, now_ms: i64) -> Env<'_> {
        Env {
            definition: &self.definition,
            info: &self.info,
            now_ms,
            new_token,
        }
    }
}

struct Live {
    ctx: Arc<Context>,
    run: Run,
    /// The deadline a timer task is already sleeping towards.
    armed_for: Option<i64>,
}

struct Inner {
    store: Store,
    tasks: Arc<dyn TaskRunner>,
    config: EngineConfig,
    live: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Live>>>>,
    /// Parsed definitions by text, so starting an execution does not parse.
    parsed: Mutex<HashMap<String, Arc<Definition>>>,
}

/// Cheap to clone; all clones are the same engine.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

/// Milliseconds since the epoch on Tokio's clock: the wall time when the
/// process first asked, moved on by Tokio's monotonic clock since. Timers
/// sleep on that same clock, so a test that pauses Tokio's time moves every
/// Wait, task timeout and heartbeat with it (no real sleeps), and a step of
/// the wall clock (NTP) neither fires a timer early nor holds it back.
fn now_ms() -> i64 {
    static ORIGIN: std::sync::OnceLock<(i64, tokio::time::Instant)> = std::sync::OnceLock::new();
    let (wall, at) = *ORIGIN.get_or_init(|| {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default();
        (wall, tokio::time::Instant::now())
    });
    let since = tokio::time::Instant::now().saturating_duration_since(at);
    wall + i64::try_from(since.as_millis()).unwrap_or(i64::MAX - wall)
}

/// 256 random bits, URL-safe: unguessable, and opaque to whoever holds it.
fn new_token() -> String {
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// AWS's rule for state machine and execution names.
fn check_name(name: &str, what: &str) -> Result<(), ApiError> {
    let bad = name.is_empty()
        || name.chars().count() > 80
        || name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c));
    if bad {
        return Err(ApiError::InvalidName(format!(
            "Invalid {what} name: '{name}' (1 to 80 characters, no whitespace, brackets, wildcards or punctuation such as \" # % \\ ^ | ~ ` $ & , ; : /)"
        )));
    }
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Engine {
    /// Opens the engine on `store` and resumes every execution that was
    /// running when it last stopped. Must be called inside a Tokio runtime.
    pub fn open(
        store: Store,
        tasks: Arc<dyn TaskRunner>,
        config: EngineConfig,
    ) -> Result<Self, ApiError> {
        let engine = Engine {
            inner: Arc::new(Inner {
                store,
                tasks,
                config,
                live: Mutex::new(HashMap::new()),
                parsed: Mutex::new(HashMap::new()),
            }),
        };
        let running = engine.inner.store.running()?;
        let count = running.len();
        for row in running {
            let Some(run_text) = row.run.as_deref() else {
                continue;
            };
            let run: Run = match serde_json::from_str(run_text) {
                Ok(run) => run,
                Err(error) => {
                    tracing::error!(execution = %row.arn, %error, "cannot resume: stored state unreadable");
                    continue;
                }
            };
            let definition = match engine.definition(&row.definition) {
                Ok(d) => d,
                Err(error) => {
                    tracing::error!(execution = %row.arn, %error, "cannot resume: definition unreadable");
                    continue;
                }
            };
            let info = engine.info_for(&row, definition.as_ref())?;
            let live = Arc::new(tokio::sync::Mutex::new(Live {
                ctx: Arc::new(Context { info, definition }),
                run,
                armed_for: None,
            }));
            lock(&engine.inner.live).insert(row.arn.clone(), live.clone());
            let engine2 = engine.clone();
            tokio::spawn(async move {
                let mut live = live.lock().await;
                let mut effects = Effects::default();
                let ctx = live.ctx.clone();
                live.run.recover_in_flight(&ctx.env(now_ms()), &mut effects);
                engine2.advance(&mut live, effects, Vec::new()).await;
            });
        }
        if count > 0 {
            tracing::info!(executions = count, "resumed running executions");
        }
        Ok(engine)
    }

    fn info_for(
        &self,
        row: &ExecutionRow,
        _definition: &Definition,
    ) -> Result<ExecutionInfo, ApiError> {
        let machine_name = row
            .machine_arn
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .to_owned();
        Ok(ExecutionInfo {
            execution_arn: row.arn.clone(),
            execution_name: row.name.clone(),
            state_machine_arn: row.machine_arn.clone(),
            state_machine_name: machine_name,
            role_arn: row.role_arn.clone(),
            input: serde_json::from_str(&row.input).unwrap_or(Value::Null),
            start_ms: row.start_ms,
            region: self.inner.config.region.clone(),
        })
    }

    fn definition(&self, text: &str) -> Result<Arc<Definition>, ApiError> {
        if let Some(d) = lock(&self.inner.parsed).get(text) {
            return Ok(d.clone());
        }
        let parsed = Arc::new(definition::parse(text).map_err(ApiError::InvalidDefinition)?);
        lock(&self.inner.parsed).insert(text.to_owned(), parsed.clone());
        Ok(parsed)
    }

    fn machine_arn(&self, name: &str) -> String {
        let c = &self.inner.config;
        format!(
            "arn:aws:states:{}:{}:stateMachine:{name}",
            c.region, c.account
        )
    }
}

/// Tries at storing one step before the engine gives up on it.
const PERSIST_ATTEMPTS: u32 = 3;

fn task_gone() -> ApiError {
    ApiError::TaskTimedOut("Task Timed Out: 'Provided task does not exist anymore'".into())
}

fn page_size(max: Option<usize>) -> Result<usize, ApiError> {
    match max {
        None | Some(0) => Ok(100),
        Some(n) if n <= 1000 => Ok(n),
        Some(_) => Err(ApiError::Validation(
            "maxResults must be at most 1000".into(),
        )),
    }
}

fn page_by_offset<T>(
    all: Vec<T>,
    max: Option<usize>,
    next: Option<&str>,
) -> Result<Page<T>, ApiError> {
    let limit = page_size(max)?;
    let offset = next
        .map(|t| {
            t.parse::<usize>()
                .map_err(|_| ApiError::InvalidToken("Invalid nextToken".into()))
        })
        .transpose()?
        .unwrap_or(0);
    let total = all.len();
    let items: Vec<T> = all.into_iter().skip(offset).take(limit).collect();
    let next_token = (offset + items.len() < total).then(|| (offset + items.len()).to_string());
    Ok(Page { items, next_token })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::ServiceError;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Counts the DynamoDB calls Task states make, answering each with `{}`.
    #[derive(Default)]
    struct Counting(AtomicUsize);

    #[async_trait::async_trait]
    impl TaskRunner for Counting {
        async fn dynamodb(&self, _action: &str, _request: &Value) -> Result<Value, ServiceError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(serde_json::json!({}))
        }
    }

    const ONE_TASK: &str = r#"{"StartAt": "Write", "States": {"Write": {
        "Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
        "Parameters": {"TableName": "t", "Item": {"k": {"S": "v"}}},
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": true},
        "Caught": {"Type": "Succeed"}}}"#;

    async fn finished(engine: &Engine, arn: &str) -> ExecutionRow {
        // Tokio's clock: under a paused runtime it moves on by itself.
        let give_up = tokio::time::Instant::now() + Duration::from_secs(30);
        while tokio::time::Instant::now() < give_up {
            let row = engine.describe_execution(arn).expect("described");
            if row.status != "RUNNING" {
                return row;
            }
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        panic!("{arn} never finished");
    }

    #[tokio::test]
    async fn a_step_that_cannot_be_stored_makes_no_call_and_fails_the_execution() {
        let store = Store::in_memory().expect("store");
        let calls = Arc::new(Counting::default());
        let engine = Engine::open(store, calls.clone(), EngineConfig::default()).expect("engine");
        let machine = engine
            .create_state_machine("m", ONE_TASK, "arn:aws:iam::1:role/r", None)
            .expect("machine");

        // Every try at storing the step before its call fails.
        engine.inner.store.fail_step_writes(PERSIST_ATTEMPTS);
        let run = engine
            .start_execution(&machine.arn, Some("broken-disk"), None)
            .await
            .expect("started");
        let row = finished(&engine, &run.arn).await;
        assert_eq!(
            calls.0.load(Ordering::SeqCst),
            0,
            "no DynamoDB call was made"
        );
        assert_eq!(
            row.status, "FAILED",
            "States.Runtime is not caught by States.ALL"
        );
        assert_eq!(row.error.as_deref(), Some("States.Runtime"));
        assert!(row.cause.unwrap_or_default().contains("could not store"));

        // One failed try is retried: the call is made, once.
        engine.inner.store.fail_step_writes(1);
        let run = engine
            .start_execution(&machine.arn, Some("flaky-disk"), None)
            .await
            .expect("started");
        let row = finished(&engine, &run.arn).await;
        assert_eq!(row.status, "SUCCEEDED");
        assert_eq!(calls.0.load(Ordering::SeqCst), 1);
        let history = engine
            .execution_history(&run.arn, None, None, false)
            .expect("history");
        let kinds: Vec<&str> = history.items.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds.iter().filter(|k| **k == "TaskScheduled").count(),
            1,
            "the retried write kept every event once: {kinds:?}"
        );
    }

    /// Never answers.
    struct Silent;

    #[async_trait::async_trait]
    impl TaskRunner for Silent {
        async fn dynamodb(&self, _action: &str, _request: &Value) -> Result<Value, ServiceError> {
            std::future::pending().await
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_dynamodb_call_that_never_answers_fails_its_task_after_the_time_limit() {
        let store = Store::in_memory().expect("store");
        let engine =
            Engine::open(store, Arc::new(Silent), EngineConfig::default()).expect("engine");
        let machine = engine
            .create_state_machine("m", ONE_TASK, "arn:aws:iam::1:role/r", None)
            .expect("machine");
        let run = engine
            .start_execution(&machine.arn, Some("silent"), None)
            .await
            .expect("started");
        // The paused clock moves on by itself once everything waits.
        let row = finished(&engine, &run.arn).await;
        assert_eq!(row.status, "SUCCEEDED", "the Catch took the timeout");
        let history = engine
            .execution_history(&run.arn, None, None, false)
            .expect("history");
        assert!(
            history.items.iter().any(|e| e.kind == "TaskFailed"),
            "{:?}",
            history.items.iter().map(|e| &e.kind).collect::<Vec<_>>()
        );
    }
}
