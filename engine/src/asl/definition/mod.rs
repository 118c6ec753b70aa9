//! A state machine definition, parsed and checked once at
//! CreateStateMachine. Every error message names the state and field so
//! that `InvalidDefinition` tells the author what to fix.
//!
//! # Layout
//! - `mod.rs`: the definition as the interpreter reads it.
//! - `read`: parsing and checking a definition's JSON, state by state.
//! - `fields`: reading one JSON object's fields, so that anything left
//!   over (a typo, an unsupported field) is reported.

use indexmap::IndexMap;
use serde_json::Value;

use super::choice::Condition;
use super::path::Path;
use super::template::Template;

mod fields;
mod read;

pub use read::parse;

/// The whole definition.
#[derive(Debug, Clone)]
pub struct Definition {
    pub machine: Machine,
    /// The execution's time limit (`TimeoutSeconds` at the top level).
    pub timeout_seconds: Option<u64>,
}

/// A set of states with its entry point: the top level, a Parallel branch or
/// a Map iterator.
#[derive(Debug, Clone)]
pub struct Machine {
    pub start_at: String,
    pub states: IndexMap<String, State>,
}

/// InputPath / OutputPath / ItemsPath / ResultPath: absent means `$`,
/// `null` means "nothing" (an empty object, or discard the result).
#[derive(Debug, Clone)]
pub enum PathSetting {
    Default,
    Null,
    Path(Path),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    Next(String),
    End,
    /// Choice, Succeed and Fail decide for themselves.
    None,
}

#[derive(Debug, Clone)]
pub struct State {
    pub input_path: PathSetting,
    pub output_path: PathSetting,
    pub transition: Transition,
    /// Workflow variables the state sets as it leaves (`Assign`; Pass,
    /// Task, Map, Parallel, Choice and Wait). A Choice uses it when its
    /// Default is taken; a matching rule uses its own.
    pub assign: Option<Template>,
    pub kind: StateKind,
}

/// One Choice rule: when `condition` holds, go to `next`, setting the
/// rule's own `Assign`.
#[derive(Debug, Clone)]
pub struct ChoiceRule {
    pub condition: Condition,
    pub next: String,
    pub assign: Option<Template>,
}

#[derive(Debug, Clone)]
pub enum StateKind {
    Pass {
        result: Option<Value>,
        parameters: Option<Template>,
        result_path: PathSetting,
    },
    Task(Box<TaskState>),
    Choice {
        choices: Vec<ChoiceRule>,
        default: Option<String>,
    },
    Wait(WaitFor),
    Parallel(Box<ParallelState>),
    Map(Box<MapState>),
    Succeed,
    Fail {
        error: Option<String>,
        cause: Option<String>,
        /// ErrorPath / CausePath: a path or an intrinsic function.
        error_path: Option<Template>,
        cause_path: Option<Template>,
    },
}

impl StateKind {
    /// The name AWS uses in event types (`TaskStateEntered`, …).
    pub fn type_name(&self) -> &'static str {
        match self {
            StateKind::Pass { .. } => "Pass",
            StateKind::Task(_) => "Task",
            StateKind::Choice { .. } => "Choice",
            StateKind::Wait(_) => "Wait",
            StateKind::Parallel(_) => "Parallel",
            StateKind::Map(_) => "Map",
            StateKind::Succeed => "Succeed",
            StateKind::Fail { .. } => "Fail",
        }
    }
}

/// What the shared fields of Task, Parallel and Map do with results and
/// errors.
#[derive(Debug, Clone)]
pub struct Outcomes {
    pub parameters: Option<Template>,
    pub result_selector: Option<Template>,
    pub result_path: PathSetting,
    pub retry: Vec<Retrier>,
    pub catch: Vec<Catcher>,
}

#[derive(Debug, Clone)]
pub struct TaskState {
    pub resource: Resource,
    pub outcomes: Outcomes,
    pub timeout: Option<Seconds>,
    pub heartbeat: Option<Seconds>,
}

#[derive(Debug, Clone)]
pub struct ParallelState {
    pub branches: Vec<Machine>,
    pub outcomes: Outcomes,
}

#[derive(Debug, Clone)]
pub struct MapState {
    pub iterator: Machine,
    pub items_path: PathSetting,
    pub outcomes: Outcomes,
    /// MaxConcurrencyPath: checked when the Map starts (the engine runs
    /// every iteration at once either way; results do not depend on it).
    pub max_concurrency_path: Option<Path>,
    /// How many iterations may fail before the Map does (a Distributed
    /// Map's ToleratedFailureCount / Percentage, or their paths).
    pub tolerated_count: Option<Amount>,
    pub tolerated_percentage: Option<Amount>,
    /// ItemBatcher: iterations get batches of items, `{"Items": [...]}`.
    pub batcher: Option<Batcher>,
}

/// A number given in the definition or read by a path when the state runs.
#[derive(Debug, Clone)]
pub enum Amount {
    Fixed(f64),
    Path(Path),
}

#[derive(Debug, Clone)]
pub struct Batcher {
    pub max_items: Option<Amount>,
    /// BatchInput: fields added to every batch beside `Items`.
    pub batch_input: Option<Template>,
}

#[derive(Debug, Clone)]
pub enum Seconds {
    Fixed(u64),
    Path(Path),
}

#[derive(Debug, Clone)]
pub enum WaitFor {
    Seconds(Seconds),
    Timestamp(String),
    TimestampPath(Path),
}

#[derive(Debug, Clone)]
pub struct Retrier {
    pub errors: Vec<String>,
    pub interval_seconds: f64,
    pub max_attempts: u32,
    pub backoff_rate: f64,
    pub max_delay_seconds: Option<f64>,
}

impl Retrier {
    /// The delay before retry number `attempt` (0-based).
    pub fn delay_ms(&self, attempt: u32) -> u64 {
        let mut secs = self.interval_seconds * self.backoff_rate.powi(attempt as i32);
        if let Some(max) = self.max_delay_seconds {
            secs = secs.min(max);
        }
        (secs * 1000.0) as u64
    }
}

#[derive(Debug, Clone)]
pub struct Catcher {
    pub errors: Vec<String>,
    pub next: String,
    pub result_path: PathSetting,
    /// Variables set from the error output when this catcher takes it.
    pub assign: Option<Template>,
}

/// The task resources this engine runs. Anything else is refused when the
/// definition is created, naming the resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// The DynamoDB API action, as on the wire (`PutItem`).
    pub action: String,
    /// `arn:aws:states:::aws-sdk:dynamodb:…` rather than the optimised
    /// `arn:aws:states:::dynamodb:…`: decides the error name prefix.
    pub aws_sdk: bool,
    /// `.waitForTaskToken`: pause until SendTask* with the task's token.
    pub wait_for_task_token: bool,
    /// As written, for history events.
    pub arn: String,
}

impl Resource {
    /// The prefix of error names this resource raises
    /// (`DynamoDB.ConditionalCheckFailedException`).
    pub fn error_prefix(&self) -> &'static str {
        if self.aws_sdk { "DynamoDb" } else { "DynamoDB" }
    }

    /// `resourceType` and `resource` as history events spell them.
    pub fn event_names(&self) -> (String, String) {
        let rest = self.arn.trim_start_matches("arn:aws:states:::");
        match rest.split_once(':') {
            Some((kind, resource)) => (kind.to_owned(), resource.to_owned()),
            None => (rest.to_owned(), String::new()),
        }
    }

    pub(super) fn parse(arn: &str, at: &str) -> Result<Self, String> {
        let refuse = || {
            format!(
                "{at}: the resource '{arn}' is not supported by this engine; it runs DynamoDB tasks \
                 (arn:aws:states:::dynamodb:putItem|getItem|updateItem|deleteItem and \
                 arn:aws:states:::aws-sdk:dynamodb:<action>, optionally .waitForTaskToken)"
            )
        };
        let (base, wait_for_task_token) = match arn.strip_suffix(".waitForTaskToken") {
            Some(base) => (base, true),
            None => (arn, false),
        };
        let (aws_sdk, action) = if let Some(a) = base.strip_prefix("arn:aws:states:::dynamodb:") {
            if !matches!(a, "putItem" | "getItem" | "updateItem" | "deleteItem") {
                return Err(refuse());
            }
            if wait_for_task_token {
                return Err(format!(
                    "{at}: '{arn}': the optimised DynamoDB integration answers at once; use \
                     arn:aws:states:::aws-sdk:dynamodb:{a}.waitForTaskToken to wait for a callback"
                ));
            }
            (false, a)
        } else if let Some(a) = base.strip_prefix("arn:aws:states:::aws-sdk:dynamodb:") {
            const ACTIONS: &[&str] = &[
                "putItem",
                "getItem",
                "updateItem",
                "deleteItem",
                "query",
                "scan",
                "batchGetItem",
                "batchWriteItem",
                "transactGetItems",
                "transactWriteItems",
                "describeTable",
                "listTables",
            ];
            if !ACTIONS.contains(&a) {
                return Err(refuse());
            }
            (true, a)
        } else {
            return Err(refuse());
        };
        let mut chars = action.chars();
        let action = chars
            .next()
            .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
            .unwrap_or_default();
        Ok(Self {
            action,
            aws_sdk,
            wait_for_task_token,
            arn: arn.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refuse(text: &str, expect: &str) {
        let e = parse(text).expect_err("must be refused");
        assert!(e.contains(expect), "'{e}' should mention '{expect}'");
    }

    #[test]
    fn accepts_every_state_type() {
        let d = parse(
            r#"{"StartAt":"P","TimeoutSeconds":30,"States":{
              "P":{"Type":"Pass","Result":{"a":1},"ResultPath":"$.r","Next":"C"},
              "C":{"Type":"Choice","Choices":[{"Variable":"$.r.a","NumericEquals":1,"Next":"W"}],"Default":"F"},
              "W":{"Type":"Wait","Seconds":1,"Next":"T"},
              "T":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken",
                   "Parameters":{"TableName":"t","Item":{"k":{"S.$":"$$.Task.Token"}}},
                   "TimeoutSeconds":10,"HeartbeatSeconds":5,
                   "Retry":[{"ErrorEquals":["States.Timeout"],"MaxAttempts":1}],
                   "Catch":[{"ErrorEquals":["States.ALL"],"Next":"F","ResultPath":"$.error"}],"Next":"Par"},
              "Par":{"Type":"Parallel","Branches":[{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}],"Next":"M"},
              "M":{"Type":"Map","ItemsPath":"$.xs","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"Next":"S"},
              "S":{"Type":"Succeed"},
              "F":{"Type":"Fail","Error":"E","Cause":"c"}}}"#,
        )
        .expect("valid");
        assert_eq!(d.timeout_seconds, Some(30));
        assert_eq!(d.machine.states.len(), 8);
    }

    #[test]
    fn refuses_with_a_message_that_names_the_problem() {
        refuse("nope", "not valid JSON");
        refuse(
            r#"{"StartAt":"X","States":{"A":{"Type":"Succeed"}}}"#,
            "'X'",
        );
        refuse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}"#,
            "'B'",
        );
        refuse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass"}}}"#,
            "needs Next",
        );
        refuse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Bogus"}}}"#,
            "'Bogus'",
        );
        refuse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"Reslt":1}}}"#,
            "'Reslt'",
        );
        refuse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","End":true}}}"#,
            "arn:aws:lambda:us-east-1:1:function:f",
        );
        refuse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem.waitForTaskToken","End":true}}}"#,
            "aws-sdk:dynamodb:putItem.waitForTaskToken",
        );
        refuse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true,"ResultPath":"$.a[*]"}}}"#,
            "ResultPath",
        );
        refuse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:getItem","End":true,
               "Catch":[{"ErrorEquals":["States.ALL"],"Next":"A"},{"ErrorEquals":["X"],"Next":"A"}]}}}"#,
            "must come last",
        );
        refuse(
            r#"{"StartAt":"A","States":{"A":{"Type":"Wait","End":true}}}"#,
            "exactly one of Seconds",
        );
        refuse(
            r#"{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[{"StartAt":"Z","States":{"A":{"Type":"Succeed"}}}]}}}"#,
            "Branches[0]",
        );
    }

    #[test]
    fn resources_map_to_dynamodb_actions() {
        let r = Resource::parse(
            "arn:aws:states:::aws-sdk:dynamodb:updateItem.waitForTaskToken",
            "x",
        )
        .expect("ok");
        assert_eq!(r.action, "UpdateItem");
        assert!(r.aws_sdk && r.wait_for_task_token);
        assert_eq!(
            r.event_names(),
            (
                "aws-sdk".into(),
                "dynamodb:updateItem.waitForTaskToken".into()
            )
        );
        let r = Resource::parse("arn:aws:states:::dynamodb:putItem", "x").expect("ok");
        assert_eq!(r.error_prefix(), "DynamoDB");
        assert_eq!(r.event_names(), ("dynamodb".into(), "putItem".into()));
    }
}
