//! The engine: the Step Functions operations, one driver per running
//! execution, timers, and recovery after a restart.
//!
//! Each running execution is held in memory behind its own async lock and
//! mirrored in the store after every step. Whoever holds the lock (the
//! driver, a callback, a timer, a stop) advances the execution until it has
//! to wait, writing each step before any call to DynamoDB, so a call is
//! never made twice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::Value;

use crate::asl::StatesError;
use crate::asl::definition::{self, Definition};
use crate::error::ApiError;
use crate::interpreter::{Effects, Env, Event, ExecutionInfo, Outcome, Run, Step};
use crate::store::{ExecutionRow, MachineRow, StepWrite, Store, TokenStatus};
use crate::tasks::TaskRunner;

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

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
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

    // ----- state machines -------------------------------------------------

    /// CreateStateMachine. Creating the same name with the same definition
    /// again returns the existing machine, as AWS does.
    pub fn create_state_machine(
        &self,
        name: &str,
        definition: &str,
        role_arn: &str,
        kind: Option<&str>,
    ) -> Result<MachineRow, ApiError> {
        check_name(name, "state machine")?;
        if kind.is_some_and(|k| k != "STANDARD") {
            return Err(ApiError::Validation(
                "only STANDARD state machines are supported by this engine".into(),
            ));
        }
        self.definition(definition)?;
        let row = MachineRow {
            arn: self.machine_arn(name),
            name: name.to_owned(),
            definition: definition.to_owned(),
            role_arn: role_arn.to_owned(),
            created_ms: now_ms(),
        };
        if self.inner.store.insert_machine(&row)? {
            return Ok(row);
        }
        match self.inner.store.machine(&row.arn)? {
            Some(existing)
                if existing.definition == definition && existing.role_arn == role_arn =>
            {
                Ok(existing)
            }
            _ => Err(ApiError::StateMachineAlreadyExists(format!(
                "State Machine Already Exists: '{}'",
                row.arn
            ))),
        }
    }

    pub fn describe_state_machine(&self, arn: &str) -> Result<MachineRow, ApiError> {
        self.inner.store.machine(arn)?.ok_or_else(|| {
            ApiError::StateMachineDoesNotExist(format!("State Machine Does Not Exist: '{arn}'"))
        })
    }

    pub fn list_state_machines(
        &self,
        max: Option<usize>,
        next: Option<&str>,
    ) -> Result<Page<MachineRow>, ApiError> {
        let all = self.inner.store.machines()?;
        page_by_offset(all, max, next)
    }

    pub fn update_state_machine(
        &self,
        arn: &str,
        definition: Option<&str>,
        role_arn: Option<&str>,
    ) -> Result<i64, ApiError> {
        if definition.is_none() && role_arn.is_none() {
            return Err(ApiError::Validation(
                "give a definition or a roleArn to update".into(),
            ));
        }
        if let Some(d) = definition {
            self.definition(d)?;
        }
        if !self.inner.store.update_machine(arn, definition, role_arn)? {
            return Err(ApiError::StateMachineDoesNotExist(format!(
                "State Machine Does Not Exist: '{arn}'"
            )));
        }
        Ok(now_ms())
    }

    /// DeleteStateMachine. Running executions keep the definition they
    /// started with, as on AWS.
    pub fn delete_state_machine(&self, arn: &str) -> Result<(), ApiError> {
        if !arn.starts_with("arn:aws:states:") {
            return Err(ApiError::InvalidArn(format!("Invalid Arn: '{arn}'")));
        }
        self.inner.store.delete_machine(arn)?;
        Ok(())
    }

    // ----- executions -----------------------------------------------------

    /// StartExecution. Starting again with the same name and input while the
    /// first is running returns it; anything else with a used name is
    /// `ExecutionAlreadyExists`.
    pub async fn start_execution(
        &self,
        machine_arn: &str,
        name: Option<&str>,
        input: Option<&str>,
    ) -> Result<ExecutionRow, ApiError> {
        let machine = self.describe_state_machine(machine_arn)?;
        let name = match name {
            Some(n) => n.to_owned(),
            None => uuid::Uuid::new_v4().to_string(),
        };
        check_name(&name, "execution")?;
        let input_text = input.unwrap_or("{}");
        let input_value: Value = serde_json::from_str(input_text).map_err(|e| {
            ApiError::InvalidExecutionInput(format!("Invalid State Machine Execution Input: {e}"))
        })?;
        let c = &self.inner.config;
        let arn = format!(
            "arn:aws:states:{}:{}:execution:{}:{name}",
            c.region, c.account, machine.name
        );
        let already = |existing: ExecutionRow| {
            if existing.status == "RUNNING" && existing.input == input_text {
                Ok(existing)
            } else {
                Err(ApiError::ExecutionAlreadyExists(format!(
                    "Execution Already Exists: '{arn}'"
                )))
            }
        };
        if let Some(existing) = self.inner.store.execution(&arn)? {
            return already(existing);
        }
        let definition = self.definition(&machine.definition)?;
        let info = ExecutionInfo {
            execution_arn: arn.clone(),
            execution_name: name.clone(),
            state_machine_arn: machine.arn.clone(),
            state_machine_name: machine.name.clone(),
            role_arn: machine.role_arn.clone(),
            input: input_value,
            start_ms: now_ms(),
            region: c.region.clone(),
        };
        let mut effects = Effects::default();
        let ctx = Arc::new(Context { info, definition });
        let run = Run::start(&ctx.env(ctx.info.start_ms), &mut effects);
        let row = ExecutionRow {
            arn: arn.clone(),
            machine_arn: machine.arn.clone(),
            name,
            status: "RUNNING".into(),
            input: input_text.to_owned(),
            output: None,
            error: None,
            cause: None,
            start_ms: ctx.info.start_ms,
            stop_ms: None,
            definition: machine.definition.clone(),
            role_arn: machine.role_arn.clone(),
            run: Some(serde_json::to_string(&run).map_err(|_| ApiError::Internal)?),
        };
        let live = Arc::new(tokio::sync::Mutex::new(Live {
            ctx,
            run,
            armed_for: None,
        }));
        // Hold the execution's lock until it is in the store, so nobody can
        // act on it before it exists there.
        let mut guard = live.clone().lock_owned().await;
        if !self.inner.store.insert_execution(&row, &effects.events)? {
            drop(guard);
            let existing = self
                .inner
                .store
                .execution(&arn)?
                .ok_or(ApiError::Internal)?;
            return already(existing);
        }
        lock(&self.inner.live).insert(arn, live);
        let engine = self.clone();
        tokio::spawn(async move {
            engine
                .advance(&mut guard, Effects::default(), Vec::new())
                .await;
        });
        Ok(row)
    }

    pub fn describe_execution(&self, arn: &str) -> Result<ExecutionRow, ApiError> {
        self.inner.store.execution(arn)?.ok_or_else(|| {
            ApiError::ExecutionDoesNotExist(format!("Execution Does Not Exist: '{arn}'"))
        })
    }

    pub fn list_executions(
        &self,
        machine_arn: &str,
        status: Option<&str>,
        max: Option<usize>,
        next: Option<&str>,
    ) -> Result<Page<ExecutionRow>, ApiError> {
        self.describe_state_machine(machine_arn)?;
        if let Some(s) = status
            && !matches!(
                s,
                "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED"
            )
        {
            return Err(ApiError::Validation(format!(
                "'{s}' is not an execution status"
            )));
        }
        let limit = page_size(max)?;
        let before = next
            .map(|t| {
                t.parse::<i64>()
                    .map_err(|_| ApiError::InvalidToken("Invalid nextToken".into()))
            })
            .transpose()?;
        let mut rows = self
            .inner
            .store
            .executions(machine_arn, status, before, limit + 1)?;
        let next_token = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|(seq, _)| seq.to_string())
        } else {
            None
        };
        Ok(Page {
            items: rows.into_iter().map(|(_, r)| r).collect(),
            next_token,
        })
    }

    pub fn execution_history(
        &self,
        arn: &str,
        max: Option<usize>,
        next: Option<&str>,
        reverse: bool,
    ) -> Result<Page<Event>, ApiError> {
        self.describe_execution(arn)?;
        let limit = page_size(max)?;
        let after = next
            .map(|t| {
                t.parse::<u64>()
                    .map_err(|_| ApiError::InvalidToken("Invalid nextToken".into()))
            })
            .transpose()?;
        let mut events = self.inner.store.events(arn, after, reverse, limit + 1)?;
        let next_token = if events.len() > limit {
            events.truncate(limit);
            events.last().map(|e| e.id.to_string())
        } else {
            None
        };
        Ok(Page {
            items: events,
            next_token,
        })
    }

    /// StopExecution: also stops one that is waiting for a callback; its
    /// token is no longer accepted.
    pub async fn stop_execution(
        &self,
        arn: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<i64, ApiError> {
        let Some(live) = self.live(arn) else {
            let row = self.describe_execution(arn)?;
            return Ok(row.stop_ms.unwrap_or_else(now_ms));
        };
        let mut live = live.lock().await;
        let mut effects = Effects::default();
        let now = now_ms();
        let ctx = live.ctx.clone();
        let env = ctx.env(now);
        live.run.abort(
            &env,
            &mut effects,
            StatesError::new(error.unwrap_or_default(), cause.unwrap_or_default()),
        );
        self.advance(&mut live, effects, Vec::new()).await;
        Ok(now)
    }

    // ----- callbacks --------------------------------------------------------

    /// Finds the execution waiting on `token`, or says why none is.
    async fn token_owner(&self, token: &str) -> Result<Arc<tokio::sync::Mutex<Live>>, ApiError> {
        if token.is_empty() || token.len() > 2048 {
            return Err(ApiError::Validation(
                "taskToken must be 1 to 2048 characters".into(),
            ));
        }
        let (arn, status) = self.inner.store.token(token)?.ok_or_else(|| {
            ApiError::InvalidToken("Invalid Token: the task token is not known".into())
        })?;
        // AWS answers every token whose task is over (completed, timed out,
        // stopped) with TaskTimedOut, "Provided task does not exist anymore".
        if status != TokenStatus::Waiting {
            return Err(task_gone());
        }
        self.live(&arn).ok_or_else(task_gone)
    }

    async fn complete(
        &self,
        token: &str,
        result: Result<Value, StatesError>,
    ) -> Result<(), ApiError> {
        let live = self.token_owner(token).await?;
        let mut live = live.lock().await;
        let mut effects = Effects::default();
        let mut tokens = Vec::new();
        let ctx = live.ctx.clone();
        let env = ctx.env(now_ms());
        // A deadline that passed while nobody looked comes first: a callback
        // after the timeout is refused as AWS refuses it.
        if live.run.next_deadline().is_some_and(|d| d <= env.now_ms) {
            for t in live.run.on_time(&env, &mut effects) {
                tokens.push((t, TokenStatus::TimedOut));
            }
        }
        let accepted = if tokens.iter().any(|(t, _)| t == token) {
            Err(task_gone())
        } else {
            live.run
                .callback(&env, &mut effects, token, result)
                .map_err(|_| task_gone())
        };
        if accepted.is_ok() {
            tokens.push((token.to_owned(), TokenStatus::Completed));
        }
        self.advance(&mut live, effects, tokens).await;
        accepted
    }

    pub async fn send_task_success(&self, token: &str, output: &str) -> Result<(), ApiError> {
        let output: Value = serde_json::from_str(output).map_err(|e| {
            ApiError::InvalidOutput(format!("Invalid Output: the output is not JSON: {e}"))
        })?;
        self.complete(token, Ok(output)).await
    }

    pub async fn send_task_failure(
        &self,
        token: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<(), ApiError> {
        if error.is_some_and(|e| e.chars().count() > 256) {
            return Err(ApiError::Validation(
                "error must be at most 256 characters".into(),
            ));
        }
        if cause.is_some_and(|c| c.chars().count() > 32768) {
            return Err(ApiError::Validation(
                "cause must be at most 32768 characters".into(),
            ));
        }
        self.complete(
            token,
            Err(StatesError::new(
                error.unwrap_or_default(),
                cause.unwrap_or_default(),
            )),
        )
        .await
    }

    pub async fn send_task_heartbeat(&self, token: &str) -> Result<(), ApiError> {
        let live = self.token_owner(token).await?;
        let mut live = live.lock().await;
        let ctx = live.ctx.clone();
        let env = ctx.env(now_ms());
        if live.run.next_deadline().is_some_and(|d| d <= env.now_ms) {
            // Overdue: let the timeout happen, then refuse.
            self.advance(&mut live, Effects::default(), Vec::new())
                .await;
            return Err(task_gone());
        }
        live.run.heartbeat(&env, token).map_err(|_| task_gone())?;
        self.advance(&mut live, Effects::default(), Vec::new())
            .await;
        Ok(())
    }

    // ----- driving ------------------------------------------------------------

    fn live(&self, arn: &str) -> Option<Arc<tokio::sync::Mutex<Live>>> {
        lock(&self.inner.live).get(arn).cloned()
    }

    /// Runs the execution until it has to wait, writing every step; then
    /// arms a timer for its next deadline or forgets it if it ended.
    async fn advance(
        &self,
        live: &mut Live,
        mut effects: Effects,
        mut tokens: Vec<(String, TokenStatus)>,
    ) {
        let ctx = live.ctx.clone();
        loop {
            let env = ctx.env(now_ms());
            if live.run.next_deadline().is_some_and(|d| d <= env.now_ms) {
                for t in live.run.on_time(&env, &mut effects) {
                    tokens.push((t, TokenStatus::TimedOut));
                }
            }
            match live.run.step(&env, &mut effects) {
                Step::Progress => {}
                Step::Idle => {
                    if !self.persist(live, &mut effects, &mut tokens) {
                        // Kept in memory; the next step's write carries it.
                        tracing::warn!(execution = %ctx.info.execution_arn, "an idle step is not stored yet");
                    }
                    break;
                }
                Step::Invoke { thread, request } => {
                    if let Some(token) = &request.token {
                        tokens.push((token.clone(), TokenStatus::Waiting));
                    }
                    // The step is written before its call, so that a restart
                    // never makes the call again. If it cannot be written,
                    // the call is not made: the task fails with
                    // States.Runtime (which no Catch takes), and the
                    // execution fails with a cause that says why.
                    if !self.persist(live, &mut effects, &mut tokens) {
                        let env = ctx.env(now_ms());
                        let refused = StatesError::new(
                            "States.Runtime",
                            "the engine could not store the execution's state before calling DynamoDB, so it did not call",
                        );
                        live.run
                            .task_result(&env, &mut effects, thread, Err(refused));
                        continue;
                    }
                    // A task's call must end: a stuck DynamoDB would hold the
                    // execution's lock for ever. It fails like an unanswered
                    // call to AWS would (its Retry, if any, applies).
                    let call = self
                        .inner
                        .tasks
                        .dynamodb(&request.action, &request.parameters);
                    let result = tokio::time::timeout(crate::tasks::CALL_TIMEOUT, call)
                        .await
                        .unwrap_or_else(|_| {
                            Err(crate::tasks::ServiceError {
                                code: "RequestTimeout".into(),
                                message: "DynamoDB did not answer in time".into(),
                            })
                        })
                        .map_err(|e| {
                            StatesError::new(
                                format!("{}.{}", request.error_prefix, e.code),
                                e.message,
                            )
                        });
                    let env = ctx.env(now_ms());
                    live.run.task_result(&env, &mut effects, thread, result);
                }
            }
        }
        let arn = live.ctx.info.execution_arn.clone();
        if live.run.outcome.is_some() {
            lock(&self.inner.live).remove(&arn);
            return;
        }
        if let Some(due) = live.run.next_deadline() {
            let now = now_ms();
            let already = live.armed_for.is_some_and(|a| a <= due && a > now - 1000);
            if !already {
                live.armed_for = Some(due);
                let engine = self.clone();
                tokio::spawn(async move {
                    let wait = (due - now_ms()).max(0) as u64;
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                    engine.on_timer(arn, due).await;
                });
            }
        }
    }

    /// A timer fired. Boxed because a timer's task is spawned from
    /// `advance` and itself calls `advance`: the explicit `Send` future
    /// breaks that cycle for the compiler.
    fn on_timer(
        self,
        arn: String,
        due: i64,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        Box::pin(async move {
            if let Some(live) = self.live(&arn) {
                let mut live = live.lock().await;
                if live.armed_for == Some(due) {
                    live.armed_for = None;
                }
                self.advance(&mut live, Effects::default(), Vec::new())
                    .await;
            }
        })
    }

    /// Writes what the run did since the last write, trying a few times.
    /// `false`: not stored; what was to be written stays in `effects` and
    /// `tokens` for the next write.
    fn persist(
        &self,
        live: &Live,
        effects: &mut Effects,
        tokens: &mut Vec<(String, TokenStatus)>,
    ) -> bool {
        let mut write = StepWrite {
            status: "RUNNING".into(),
            events: std::mem::take(&mut effects.events),
            tokens: std::mem::take(tokens),
            ..StepWrite::default()
        };
        for t in effects.dropped_tokens.drain(..) {
            write.tokens.push((t, TokenStatus::Dropped));
        }
        match &live.run.outcome {
            None => write.run = serde_json::to_string(&live.run).ok(),
            Some(outcome) => {
                let (status, output, error) = match outcome {
                    Outcome::Succeeded(v) => ("SUCCEEDED", Some(v.to_string()), None),
                    Outcome::Failed(e) => ("FAILED", None, Some(e)),
                    Outcome::TimedOut(e) => ("TIMED_OUT", None, Some(e)),
                    Outcome::Aborted(e) => ("ABORTED", None, Some(e)),
                };
                write.status = status.into();
                write.output = output;
                write.error = error.map(|e| e.error.clone()).filter(|s| !s.is_empty());
                write.cause = error.map(|e| e.cause.clone()).filter(|s| !s.is_empty());
                write.stop_ms = Some(now_ms());
            }
        }
        let arn = &live.ctx.info.execution_arn;
        for attempt in 1..=PERSIST_ATTEMPTS {
            match self.inner.store.write_step(arn, &write) {
                Ok(()) => return true,
                Err(error) => {
                    tracing::error!(execution = %arn, attempt, %error, "could not store a step")
                }
            }
        }
        effects.events = std::mem::take(&mut write.events);
        *tokens = std::mem::take(&mut write.tokens);
        false
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
