//! An execution's events as the dashboard shows them: no input, output or
//! parameters (a task's parameters hold its token).

use serde::{Deserialize, Serialize};

/// One event of an execution, as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionEvent {
    pub id: i64,
    pub previous: i64,
    /// Step Functions' type name (`TaskStateEntered`, `TaskSucceeded`, …).
    pub kind: String,
    pub at: String,
    /// The state entered or left, or the map iteration.
    pub state: Option<String>,
    /// What a task called (`dynamodb:updateItem`, …).
    pub resource: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsPage {
    pub events: Vec<ExecutionEvent>,
    /// Step Functions' token for the next page.
    pub next: Option<String>,
}
