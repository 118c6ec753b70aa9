//! The task contract: what a workflow writes into the tasks table to ask
//! people for a decision (`docs/tasks.md`), and how a row is read back.
//! A row that breaks the contract is never a crash: it reads as
//! [`Contract::Malformed`] with the reason, logged once per read, and
//! shows so to staff.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::forms::{Field, check_fields};
use crate::orders::{Item, s};
use crate::users::{Role, User};

/// The contract's JSON Schema, as published in `docs/`.
pub const SCHEMA: &str = include_str!("../../../docs/task.schema.json");

/// The value of `open` on every task that still waits (the open indexes'
/// one partition).
pub const OPEN: &str = "open";

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

/// A fact shown beside the task (an amount, a customer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextField {
    pub name: String,
    pub label: String,
    pub value: Value,
}

/// A task row's contract: readable, or why not.
#[derive(Debug, Clone, PartialEq)]
pub enum Contract {
    Valid(Box<Spec>),
    Malformed { problem: String },
}

fn schema() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: Value = serde_json::from_str(SCHEMA).expect("the task schema is JSON");
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the task schema is a valid JSON Schema")
    })
}

/// Reads the `task` attribute: JSON, then the schema, then what a schema
/// cannot say (distinct names, a failure's error name).
pub fn parse(text: &str) -> Contract {
    let malformed = |problem: String| Contract::Malformed { problem };
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return malformed(format!("the task attribute is not JSON: {e}")),
    };
    if let Some(error) = schema().iter_errors(&value).next() {
        let at = error.instance_path().to_string();
        let at = if at.is_empty() { "/".to_owned() } else { at };
        return malformed(format!("{at}: {error}"));
    }
    let spec: Spec = match serde_json::from_value(value) {
        Ok(spec) => spec,
        Err(e) => return malformed(e.to_string()),
    };
    let mut names = std::collections::BTreeSet::new();
    if let Some(twice) = spec.actions.iter().find(|a| !names.insert(&a.name)) {
        return malformed(format!("the action {:?} is there twice", twice.name));
    }
    if let Err(problem) = check_fields(&spec.form) {
        return malformed(problem);
    }
    Contract::Valid(Box::new(spec))
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

    fn parse(text: &str) -> Option<Self> {
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
#[derive(Debug, Clone, PartialEq)]
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

/// Reads a row. `None` only when it has no id; everything else the
/// contract needs and lacks makes it malformed.
pub(crate) fn from_item(item: &Item) -> Option<(Task, Option<String>)> {
    let id = s(item, "taskId")?;
    let status = s(item, "status")
        .as_deref()
        .and_then(Status::parse)
        .unwrap_or(if item.contains_key("open") {
            Status::Open
        } else {
            Status::Expired
        });
    let token = s(item, "token");
    let mut contract = match s(item, "task") {
        Some(text) => parse(&text),
        None => Contract::Malformed {
            problem: "the row has no task attribute".into(),
        },
    };
    let execution = s(item, "execution");
    let created_at = s(item, "createdAt");
    if matches!(contract, Contract::Valid(_)) {
        let missing = [
            ("execution", execution.is_none()),
            ("createdAt", created_at.is_none()),
            ("token", status == Status::Open && token.is_none()),
        ]
        .into_iter()
        .find(|(_, missing)| *missing);
        if let Some((name, _)) = missing {
            contract = Contract::Malformed {
                problem: format!("the row has no {name} attribute"),
            };
        }
    }
    if let Contract::Malformed { problem } = &contract {
        tracing::warn!(
            task_id = id,
            problem,
            "a task row does not follow the contract"
        );
    }
    let list = |name: &str| -> Option<String> { s(item, name) };
    let spec_deadline = match &contract {
        Contract::Valid(spec) => spec.deadline.clone(),
        Contract::Malformed { .. } => None,
    };
    let task = Task {
        execution: execution.unwrap_or_default(),
        state: s(item, "state"),
        created_at: created_at.unwrap_or_default(),
        deadline: s(item, "deadline").or(spec_deadline),
        assignee: s(item, "assignee"),
        status,
        approvals: list("approvals")
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default(),
        assignments: list("assignments")
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default(),
        decided_by: s(item, "decidedBy"),
        decided_at: s(item, "decidedAt"),
        action: s(item, "action"),
        contract,
        id,
    };
    Some((task, token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_refuses_bad_rows_with_the_place_and_the_reason() {
        let good = serde_json::json!({
            "kind": "leave",
            "subject": {"id": "l-1", "title": "Leave for dave"},
            "eligible": {"groups": ["leads"]},
            "actions": [
                {"name": "approve", "label": "Approve", "outcome": "success"},
                {"name": "reject", "label": "Reject", "outcome": "failure", "error": "Rejected", "reason": "required"}
            ]
        });
        assert!(matches!(parse(&good.to_string()), Contract::Valid(_)));
        let cases = [
            (serde_json::json!({"kind": "leave"}), "subject"),
            (
                {
                    let mut v = good.clone();
                    v["actions"][1]
                        .as_object_mut()
                        .expect("object")
                        .remove("error");
                    v
                },
                "/actions/1",
            ),
            (
                {
                    let mut v = good.clone();
                    v["quorum"] = serde_json::json!(0);
                    v
                },
                "/quorum",
            ),
            (
                {
                    let mut v = good.clone();
                    v["deadline"] = serde_json::json!("tomorrow");
                    v
                },
                "/deadline",
            ),
            (
                {
                    let mut v = good.clone();
                    v["actions"][1]["name"] = serde_json::json!("approve");
                    v
                },
                "twice",
            ),
        ];
        for (row, said) in cases {
            match parse(&row.to_string()) {
                Contract::Malformed { problem } => {
                    assert!(problem.contains(said), "{problem:?} should name {said:?}")
                }
                Contract::Valid(_) => panic!("{row} was accepted"),
            }
        }
        assert!(matches!(parse("{not json"), Contract::Malformed { .. }));
    }
}
