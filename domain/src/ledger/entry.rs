//! A ledger row: where a decision has got ([`State`]) and everything a
//! resend needs ([`Entry`]), and how both are stored in DynamoDB.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use super::{APPROVAL, KIND, OPEN};
use crate::items::{Item, s};
use crate::outcome::{Outcome, Pending, Scope};

/// Where a decision has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Claimed; whether the workflow has it is not known yet.
    Claimed,
    /// The workflow took the decision.
    Sent,
    /// The workflow provably did not take it (timed out, stopped, ended).
    Expired,
    /// Step Functions refused it outright; nothing happened, and the task
    /// may be decided again.
    Failed,
    /// The waiting row is closed (or had already moved on).
    Closed,
    /// Pages told: nothing left to do.
    Recorded,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Claimed => "CLAIMED",
            State::Sent => "SENT",
            State::Expired => "EXPIRED",
            State::Failed => "FAILED",
            State::Closed => "CLOSED",
            State::Recorded => "RECORDED",
        }
    }

    pub(super) fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "CLAIMED" => State::Claimed,
            "SENT" => State::Sent,
            "EXPIRED" => State::Expired,
            "FAILED" => State::Failed,
            "CLOSED" => State::Closed,
            "RECORDED" => State::Recorded,
            _ => return None,
        })
    }

    /// Whether the row is finished with (it leaves the open index).
    pub(super) fn finished(self) -> bool {
        matches!(self, State::Failed | State::Recorded)
    }
}

/// One ledger row.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub task_id: String,
    /// Random, per claim: tells this claim from another on the same task
    /// (the same person's second click included).
    pub claim_id: String,
    pub scope: Scope,
    /// The execution that waits for this task.
    pub execution: String,
    /// What waited: the order's status, or `signature`.
    pub step: String,
    /// The task's kind (empty for a task row written before rows knew it
    /// and not yet carried over by [`crate::audit`]).
    pub kind: String,
    pub actor: String,
    pub outcome: Outcome,
    pub comment: Option<String>,
    /// When it was claimed (a [`crate::clock::stamp`]).
    pub at: String,
    pub state: State,
    /// Kept while the decision may still have to be sent; removed once it
    /// is settled.
    pub token: Option<String>,
    /// The lease: until when whoever holds the row works on it.
    pub due: String,
    /// Whether the workflow took this decision (set with SENT): only such
    /// a decision is written to history.
    pub applied: bool,
    /// When it reached RECORDED: until then it is in flight.
    pub finished_at: Option<String>,
    /// More for the workflow's output (a task's action, values and
    /// approvals), stored so that a resend sends the same.
    pub payload: Option<serde_json::Value>,
}

impl Entry {
    pub(crate) fn new(
        pending: &Pending,
        execution: String,
        outcome: Outcome,
        actor: &str,
        comment: Option<&str>,
        at: String,
        due: String,
    ) -> Self {
        Entry {
            task_id: pending.task_id.clone(),
            claim_id: uuid::Uuid::new_v4().to_string(),
            scope: pending.scope.clone(),
            execution,
            step: pending.step.clone(),
            kind: pending.kind.clone(),
            actor: actor.to_owned(),
            outcome,
            comment: comment.filter(|c| !c.is_empty()).map(str::to_owned),
            at,
            state: State::Claimed,
            token: Some(pending.token.clone()),
            due,
            applied: false,
            finished_at: None,
            payload: None,
        }
    }

    /// The action taken, by its own name: a task's from its payload; an
    /// order's is its outcome's (`advance`, `reject`).
    pub(crate) fn action(&self) -> Option<&str> {
        self.payload
            .as_ref()
            .and_then(|p| p.get("action"))
            .and_then(|a| a.as_str())
            .or(match self.scope {
                Scope::Order { .. } | Scope::Signature { .. } => {
                    Some(self.outcome.name(&self.scope))
                }
                Scope::Task { .. } => None,
            })
    }

    /// The output SendTaskSuccess carries: who decided, and which task, so
    /// the workflow's history names the ledger row it came from.
    pub(crate) fn success_output(&self) -> String {
        let mut output = serde_json::json!({
            "decision": self.outcome.name(&self.scope),
            "by": self.actor,
            "comment": self.comment,
            "taskId": self.task_id,
        });
        if let (Some(serde_json::Value::Object(more)), Some(out)) =
            (&self.payload, output.as_object_mut())
        {
            for (key, value) in more {
                out.insert(key.clone(), value.clone());
            }
        }
        output.to_string()
    }

    pub(super) fn item(&self) -> Item {
        let mut item = HashMap::from([
            ("taskId".to_owned(), AttributeValue::S(self.task_id.clone())),
            (
                "claimId".to_owned(),
                AttributeValue::S(self.claim_id.clone()),
            ),
            (
                "subject".to_owned(),
                AttributeValue::S(self.scope.subject().to_owned()),
            ),
            (
                "execution".to_owned(),
                AttributeValue::S(self.execution.clone()),
            ),
            ("step".to_owned(), AttributeValue::S(self.step.clone())),
            (KIND.to_owned(), AttributeValue::S(self.kind.clone())),
            ("actor".to_owned(), AttributeValue::S(self.actor.clone())),
            (
                "outcome".to_owned(),
                AttributeValue::S(self.outcome.name(&self.scope).into()),
            ),
            ("at".to_owned(), AttributeValue::S(self.at.clone())),
            (
                "state".to_owned(),
                AttributeValue::S(self.state.as_str().into()),
            ),
            ("due".to_owned(), AttributeValue::S(self.due.clone())),
            ("open".to_owned(), AttributeValue::S(OPEN.into())),
        ]);
        match &self.scope {
            Scope::Order { .. } => {
                item.insert("kind".into(), AttributeValue::S("order".into()));
            }
            Scope::Signature { signer, .. } => {
                item.insert("kind".into(), AttributeValue::S("signature".into()));
                item.insert("signer".into(), AttributeValue::S(signer.clone()));
            }
            Scope::Task { .. } => {
                item.insert("kind".into(), AttributeValue::S("task".into()));
            }
        }
        if let Some(payload) = &self.payload {
            item.insert("payload".into(), AttributeValue::S(payload.to_string()));
        }
        if let Some(token) = &self.token {
            item.insert("token".into(), AttributeValue::S(token.clone()));
        }
        if let Some(c) = &self.comment {
            item.insert("comment".into(), AttributeValue::S(c.clone()));
        }
        match &self.outcome {
            Outcome::Advance => {
                item.insert("output".into(), AttributeValue::S(self.success_output()));
            }
            Outcome::Reject { reason, error } => {
                item.insert("cause".into(), AttributeValue::S(reason.clone()));
                item.insert("error".into(), AttributeValue::S(error.clone()));
            }
        }
        item
    }

    pub(crate) fn from_item(item: &Item) -> Option<Self> {
        let subject = s(item, "subject")?;
        // A task's approvals are records, not decisions to drive.
        if s(item, "kind").as_deref() == Some(APPROVAL) {
            return None;
        }
        let scope = match (s(item, "kind").as_deref(), s(item, "signer")) {
            (Some("signature"), Some(signer)) => Scope::Signature {
                document_id: subject,
                signer,
            },
            (Some("task"), _) => Scope::Task {
                subject,
                execution_arn: s(item, "execution")?,
            },
            (Some("order"), _) => Scope::Order {
                order_id: subject,
                execution_arn: s(item, "execution")?,
            },
            // Rows written before the ledger had kinds: their decision is
            // long settled; read them only to say who decided.
            (_, Some(signer)) => Scope::Signature {
                document_id: subject,
                signer,
            },
            (_, None) => Scope::Order {
                order_id: subject,
                execution_arn: s(item, "execution").unwrap_or_default(),
            },
        };
        let outcome = match s(item, "outcome").as_deref() {
            Some("reject" | "decline") => Outcome::Reject {
                reason: s(item, "cause")
                    .or_else(|| s(item, "reason"))
                    .unwrap_or_default(),
                error: s(item, "error").unwrap_or_else(|| crate::outcome::REJECTED.into()),
            },
            _ => Outcome::Advance,
        };
        // Orders and signatures have one kind each; a task row from before
        // rows said theirs is carried over by the audit's preparation.
        let kind = s(item, KIND).unwrap_or_else(|| {
            match scope {
                Scope::Order { .. } => crate::orders::KIND,
                Scope::Signature { .. } => crate::signatures::KIND,
                Scope::Task { .. } => "",
            }
            .to_owned()
        });
        Some(Entry {
            task_id: s(item, "taskId")?,
            kind,
            claim_id: s(item, "claimId").unwrap_or_default(),
            execution: s(item, "execution").unwrap_or_default(),
            scope,
            step: s(item, "step").unwrap_or_default(),
            actor: s(item, "actor").unwrap_or_default(),
            outcome,
            comment: s(item, "comment"),
            at: s(item, "at").unwrap_or_default(),
            // Rows from before the ledger knew only CLAIMED, SENT and
            // EXPIRED (and are not in the open index); anything unreadable
            // counts as a decision that took effect.
            state: s(item, "state")
                .as_deref()
                .and_then(State::parse)
                .unwrap_or(State::Sent),
            token: s(item, "token"),
            due: s(item, "due").unwrap_or_default(),
            applied: item.get("applied").and_then(|v| v.as_bool().ok()) == Some(&true),
            finished_at: s(item, "finishedAt"),
            payload: s(item, "payload").and_then(|p| serde_json::from_str(&p).ok()),
        })
    }
}
