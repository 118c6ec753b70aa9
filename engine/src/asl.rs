//! Amazon States Language: parsing and validating definitions, and the pure
//! pieces of evaluation (paths, payload templates, intrinsic functions,
//! choice rules). Nothing here performs I/O; the interpreter drives it.

pub mod choice;
pub mod definition;
pub mod intrinsics;
pub mod path;
pub mod template;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What a path reads besides the state's input: the context object (`$$`)
/// and the workflow variables in reach (`$name`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bindings {
    pub context: Value,
    pub variables: Map<String, Value>,
}

impl Bindings {
    /// Just a context object, no variables.
    pub fn context(context: Value) -> Self {
        Self {
            context,
            variables: Map::new(),
        }
    }
}

/// An error as a state machine sees it: a name for Retry/Catch to match and
/// a cause for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatesError {
    pub error: String,
    pub cause: String,
}

impl StatesError {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            cause: cause.into(),
        }
    }

    /// A failure of the state machine itself (bad path, wrong type), which
    /// Retry and Catch cannot intercept.
    pub fn runtime(cause: impl Into<String>) -> Self {
        Self::new("States.Runtime", cause)
    }

    pub fn timeout(cause: impl Into<String>) -> Self {
        Self::new("States.Timeout", cause)
    }
}

/// Whether an `ErrorEquals` entry matches `error`, with the AWS wildcards:
/// `States.ALL` matches every error but `States.Runtime` (and data-limit
/// errors); `States.TaskFailed` every error but those and `States.Timeout`.
pub fn error_matches(pattern: &str, error: &str) -> bool {
    let uncatchable = matches!(error, "States.Runtime" | "States.DataLimitExceeded");
    match pattern {
        "States.ALL" => !uncatchable,
        "States.TaskFailed" => !uncatchable && error != "States.Timeout",
        exact => exact == error,
    }
}

#[cfg(test)]
mod tests {
    use super::error_matches;

    #[test]
    fn wildcards_follow_aws_rules() {
        assert!(error_matches("States.ALL", "Custom.Error"));
        assert!(error_matches("States.ALL", "States.Timeout"));
        assert!(!error_matches("States.ALL", "States.Runtime"));
        assert!(error_matches(
            "States.TaskFailed",
            "DynamoDB.ConditionalCheckFailedException"
        ));
        assert!(!error_matches("States.TaskFailed", "States.Timeout"));
        assert!(error_matches("ProcessingFailed", "ProcessingFailed"));
        assert!(!error_matches("ProcessingFailed", "Other"));
    }
}
