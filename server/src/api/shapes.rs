//! Request and answer shapes the order and document calls (and the
//! webhooks completing their tasks) share: what was created, an update
//! request, and what a decision did. A status history is the model's own
//! `HistoryEntry`, whose field names are the wire's.

use countersign_domain::outcome::Decided;
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Created {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) document_id: Option<String>,
    pub(super) execution_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct UpdateRequest {
    /// The order's execution ARN or its id (for documents, also
    /// `documentId`).
    pub(super) execution_id: Option<String>,
    pub(super) document_id: Option<String>,
    pub(super) success: bool,
    pub(super) error: Option<String>,
    pub(super) cause: Option<String>,
    /// The step meant; makes a retry safe (without it, whatever step waits
    /// now is decided).
    pub(super) task_id: Option<String>,
    pub(super) comment: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DecidedOut {
    pub(super) task_id: String,
    /// The status the order was in (`signature` for a document).
    pub(super) step: String,
    pub(super) decision: &'static str,
    pub(super) by: String,
    pub(super) at: String,
    /// The order's or document's status once the workflow has moved on (or
    /// as it stands, if it has not done so within two seconds).
    pub(super) status: String,
}

pub(super) fn decided_json(decided: Decided, status: String, subject_key: &str) -> Value {
    let mut value = serde_json::to_value(DecidedOut {
        task_id: decided.task_id,
        step: decided.step,
        decision: decided.outcome,
        by: decided.by,
        at: decided.at,
        status,
    })
    .unwrap_or_default();
    value[subject_key] = Value::String(decided.subject);
    value
}
