//! Human tasks as the server and the browser both see them: what a
//! workflow asks (the task contract of `docs/tasks.md`), and how far it
//! has got. No task token is in any of these types.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::forms::Field;
use crate::people::{Role, User};

/// What a task asks, as its workflow wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Spec {
    pub kind: String,
    pub subject: Subject,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// Who may decide. Nobody named: staff.
    #[serde(default)]
    pub eligible: People,
    /// Who may not, whatever else they are (the requester, say).
    #[serde(default)]
    pub excluded: People,
    /// How many of the eligible must approve before the workflow goes on.
    #[serde(default = "one")]
    pub quorum: u32,
    pub actions: Vec<Action>,
    #[serde(default)]
    pub form: Vec<Field>,
    #[serde(default)]
    pub context: Vec<ContextField>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

/// A set of people named by role, group or name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct People {
    #[serde(default)]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub people: Vec<String>,
}

impl People {
    pub fn is_empty(&self) -> bool {
        self.roles.is_empty() && self.groups.is_empty() && self.people.is_empty()
    }

    pub fn includes(&self, user: &User) -> bool {
        self.people.contains(&user.name)
            || self.roles.iter().any(|r| user.has(*r))
            || self.groups.iter().any(|g| user.groups.contains(g))
    }
}

/// Whether an action resumes the workflow or fails its task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionOutcome {
    Success,
    Failure,
}

/// Whether an action asks for a reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReasonRule {
    Required,
    #[default]
    Optional,
    None,
}

/// One button.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub name: String,
    pub label: String,
    pub outcome: ActionOutcome,
    /// The error name a failure carries into the workflow's Catch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default)]
    pub reason: ReasonRule,
    /// Fixed fields added to the success output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
}

/// The error a failure action sends when it names none.
pub const DEFAULT_ERROR: &str = "Rejected";

impl Action {
    /// The error name a failure carries into the workflow's Catch.
    pub fn error_name(&self) -> &str {
        self.error.as_deref().unwrap_or(DEFAULT_ERROR)
    }
}

/// A fact shown beside the task (an amount, a customer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextField {
    pub name: String,
    pub label: String,
    pub value: Value,
}

/// A task row's contract: readable, or why not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Contract {
    Valid(Box<Spec>),
    Malformed { problem: String },
}

/// Whether a task waits, and if not, how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Open,
    Approved,
    Rejected,
    /// The workflow stopped waiting (timed out, ended) before a decision.
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "OPEN",
            Status::Approved => "APPROVED",
            Status::Rejected => "REJECTED",
            Status::Expired => "EXPIRED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Status::Open,
            Status::Approved,
            Status::Rejected,
            Status::Expired,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One approval towards a quorum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub by: String,
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default)]
    pub values: serde_json::Map<String, Value>,
}

/// One change of hands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// Who had it before (none: unassigned).
    pub from: Option<String>,
    /// Who has it now (none: given back).
    pub to: Option<String>,
    pub by: String,
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A task as the rest of the system sees it: never its token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: String,
    pub execution: String,
    /// The Task state it waits in, when the workflow says.
    pub state: Option<String>,
    pub created_at: String,
    pub deadline: Option<String>,
    pub assignee: Option<String>,
    pub status: Status,
    pub contract: Contract,
    pub approvals: Vec<Approval>,
    pub assignments: Vec<Assignment>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// The action that ended it.
    pub action: Option<String>,
}

impl Task {
    pub fn spec(&self) -> Option<&Spec> {
        match &self.contract {
            Contract::Valid(spec) => Some(spec),
            Contract::Malformed { .. } => None,
        }
    }

    pub fn kind(&self) -> Option<&str> {
        self.spec().map(|s| s.kind.as_str())
    }

    /// Whether `user` may decide it: eligible (staff when nobody is named)
    /// and not excluded.
    pub fn may_decide(&self, user: &User) -> bool {
        let Some(spec) = self.spec() else {
            return false;
        };
        let eligible = if spec.eligible.is_empty() {
            user.has(Role::Staff)
        } else {
            spec.eligible.includes(user)
        };
        eligible && !spec.excluded.includes(user)
    }

    /// Whether `user` may see it: staff, whoever may decide it, its
    /// requester and its assignee.
    pub fn may_see(&self, user: &User) -> bool {
        user.has(Role::Staff)
            || self.may_decide(user)
            || self.assignee.as_deref() == Some(&user.name)
            || self.spec().and_then(|s| s.requester.as_deref()) == Some(&user.name)
    }
}

/// Which tasks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum View {
    /// Every open task the reader may see.
    #[default]
    Open,
    /// Open tasks nobody has claimed.
    Unassigned,
    /// Open tasks assigned to the reader.
    Mine,
    /// Open tasks that name one of the reader's groups as eligible.
    MyGroups,
}

/// In which order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sort {
    #[default]
    Oldest,
    /// Soonest deadline first; tasks without one are left out.
    Deadline,
}

/// A view, a sort and an optional kind: what a saved view stores.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    #[serde(default)]
    pub view: View,
    #[serde(default)]
    pub sort: Sort,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// A named filter someone saved, perhaps shared with one of their groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedView {
    pub owner: String,
    pub name: String,
    pub filter: Filter,
    /// The group it is shared with: its members see it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub created_at: String,
}

impl SavedView {
    /// The list's address for this view.
    pub fn href(&self) -> String {
        let view = serde_json::to_value(self.filter.view)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let sort = serde_json::to_value(self.filter.sort)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let mut href = format!("/tasks?view={view}&sort={sort}");
        if let Some(kind) = &self.filter.kind {
            href.push_str("&kind=");
            href.push_str(kind);
        }
        href
    }
}
