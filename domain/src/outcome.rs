//! What waits for a person and what they can decide about it: the step
//! (with its token, server side only), where its row and history live, the
//! outcome, and a decision that took effect. Plain types that the ledger,
//! the decision service and the task modules share.

use crate::DomainError;

/// A step waiting for a person, with its token: server side only.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub task_id: String,
    pub token: String,
    /// What waits: the order's status, or `signature`.
    pub step: String,
    /// The task's kind (`process-order`, `sign-document`, a team's own):
    /// what an audit export filters by.
    pub kind: String,
    pub scope: Scope,
}

/// Where the waiting step's row and history live.
#[derive(Debug, Clone)]
pub(crate) enum Scope {
    /// A process-order wait: its row is a task row (kind `process-order`)
    /// decided through the order's own pages and REST API; the history is
    /// the order's.
    Order {
        order_id: String,
        execution_arn: String,
    },
    /// A signature request: keyed by document and signer, the history is
    /// the document's.
    Signature { document_id: String, signer: String },
    /// A task of any kind (`docs/tasks.md`): the row is the task's own,
    /// keyed by its id, as its ledger row is. Its ledger rows are filed
    /// under its subject, so a subject's page (an order's, say) shows
    /// decisions made on its tasks from the task list too.
    Task {
        subject: String,
        execution_arn: String,
    },
}

impl Scope {
    pub(crate) fn subject(&self) -> &str {
        match self {
            Scope::Order { order_id, .. } => order_id,
            Scope::Signature { document_id, .. } => document_id,
            Scope::Task { subject, .. } => subject,
        }
    }
}

/// What a person decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Go on: advance the order, sign the document (SendTaskSuccess).
    Advance,
    /// Stop with a reason: reject the order, decline to sign
    /// (SendTaskFailure → the workflow's Catch). `error` is the error name
    /// the workflow sees: [`REJECTED`] from the dashboard; machine callers
    /// (REST, webhooks) may name their own, as SendTaskFailure allows.
    Reject { reason: String, error: String },
}

impl Outcome {
    /// A person's rejection: the error name is [`REJECTED`].
    pub fn reject(reason: impl Into<String>) -> Self {
        Outcome::Reject {
            reason: reason.into(),
            error: REJECTED.into(),
        }
    }
}

impl Outcome {
    pub(crate) fn name(&self, scope: &Scope) -> &'static str {
        match (self, scope) {
            (Outcome::Advance, Scope::Order { .. }) => "advance",
            (Outcome::Reject { .. }, Scope::Order { .. }) => "reject",
            (Outcome::Advance, Scope::Signature { .. }) => "sign",
            (Outcome::Reject { .. }, Scope::Signature { .. }) => "decline",
            (Outcome::Advance, Scope::Task { .. }) => "approve",
            (Outcome::Reject { .. }, Scope::Task { .. }) => "reject",
        }
    }
}

/// A decision that took effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decided {
    /// The order or document decided on.
    pub subject: String,
    pub task_id: String,
    /// The status the order was in when decided.
    pub step: String,
    pub outcome: &'static str,
    pub by: String,
    pub at: String,
}

/// The error name a rejection carries into the workflow.
pub const REJECTED: &str = countersign_model::tasks::DEFAULT_ERROR;
/// Longest error name SendTaskFailure accepts.
pub const MAX_ERROR_NAME: usize = 256;
/// Longest reason or comment kept.
pub const MAX_TEXT: usize = 1000;

/// The checks every decision's input passes before anything is touched.
pub(crate) fn check_input(
    outcome: &Outcome,
    actor: &str,
    comment: Option<&str>,
) -> Result<(), DomainError> {
    if actor.trim().is_empty() {
        return Err(DomainError::Invalid(
            "a decision needs someone who makes it".into(),
        ));
    }
    if let Outcome::Reject { reason, error } = outcome {
        // SendTaskFailure's own limit on the error name.
        if error.trim().is_empty() || error.chars().count() > MAX_ERROR_NAME {
            return Err(DomainError::Invalid(format!(
                "the error name needs 1 to {MAX_ERROR_NAME} characters"
            )));
        }
        if reason.trim().is_empty() {
            return Err(DomainError::Invalid("a rejection needs a reason".into()));
        }
        if reason.chars().count() > MAX_TEXT {
            return Err(DomainError::Invalid(format!(
                "the reason is longer than {MAX_TEXT} characters"
            )));
        }
    }
    if comment.is_some_and(|c| c.chars().count() > MAX_TEXT) {
        return Err(DomainError::Invalid(format!(
            "the comment is longer than {MAX_TEXT} characters"
        )));
    }
    Ok(())
}
