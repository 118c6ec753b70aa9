//! What the interpreter and the engine hand each other: the execution's
//! facts going in, history events, task calls and outcomes coming out.
//! The interpreter stays free of I/O because everything it needs from the
//! world arrives in these types and everything it wants done leaves in them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::asl::StatesError;
use crate::asl::definition::Definition;

/// Facts about the execution that states can read through `$$`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecutionInfo {
    pub execution_arn: String,
    pub execution_name: String,
    pub state_machine_arn: String,
    pub state_machine_name: String,
    pub role_arn: String,
    pub input: Value,
    pub start_ms: i64,
    pub region: String,
}

/// One history event, in AWS's vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: u64,
    pub previous_event_id: u64,
    pub timestamp_ms: i64,
    /// `TaskScheduled`, `ExecutionSucceeded`, …
    pub kind: String,
    /// The `…EventDetails` object, keyed by its AWS field name, or `None`.
    pub details: Option<(String, Value)>,
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    Succeeded(Value),
    Failed(StatesError),
    TimedOut(StatesError),
    Aborted(StatesError),
}

/// What a Task state asks the engine to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRequest {
    /// The DynamoDB action (`PutItem`).
    pub action: String,
    pub parameters: Value,
    /// Prefix for error names (`DynamoDB` or `DynamoDb`).
    pub error_prefix: String,
    /// Set for `.waitForTaskToken` tasks: the token the callback must bring.
    pub token: Option<String>,
}

/// What the engine should do after [`super::Run::step`].
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Pure progress was made; call `step` again.
    Progress,
    /// Perform this call, then report it with [`super::Run::task_result`].
    Invoke { thread: u32, request: TaskRequest },
    /// Nothing can move until a timer, a callback or a stop.
    Idle,
}

/// Why a callback was refused, in AWS's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackRefused {
    /// No thread waits for this token (completed, aborted, or never existed).
    TaskDoesNotExist,
}

/// Everything `step` needs besides the run itself.
pub struct Env<'a> {
    pub definition: &'a Definition,
    pub info: &'a ExecutionInfo,
    pub now_ms: i64,
    /// Makes a fresh task token.
    pub new_token: fn() -> String,
}

/// Events produced by one call, plus tokens that stopped being valid.
#[derive(Debug, Default)]
pub struct Effects {
    pub events: Vec<Event>,
    /// Tokens of callback tasks that ended without their callback (a sibling
    /// branch failed, the execution stopped or timed out).
    pub dropped_tokens: Vec<String>,
}
