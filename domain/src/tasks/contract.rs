//! The task contract: what a workflow writes into the tasks table to ask
//! people for a decision (`docs/tasks.md`), and how a row is read back.
//! A row that breaks the contract is never a crash: it reads as
//! [`Contract::Malformed`] with the reason, logged once per read, and
//! shows so to staff.

use std::sync::OnceLock;

use serde_json::Value;

pub use countersign_model::tasks::*;

use crate::forms::check_fields;
use crate::items::{Item, s};

/// The contract's JSON Schema, as published in `docs/`.
pub const SCHEMA: &str = include_str!("../../../docs/task.schema.json");

/// The value of `open` on every task that still waits (the open indexes'
/// one partition).
pub const OPEN: &str = "open";

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
