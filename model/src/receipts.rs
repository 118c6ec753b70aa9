//! Receipts: a decision as a signed statement, as the receipt page and
//! `countersign receipts verify` read it. Signing and checking are the
//! domain's (`countersign_domain::receipts`).

use serde::{Deserialize, Serialize};

use crate::files::FileRef;

/// What every receipt says it is.
pub const RECEIPT_TYPE: &str = "countersign-receipt";

/// The decision a receipt is about, read back from a signed receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    #[serde(rename = "type")]
    pub kind: String,
    pub version: u32,
    /// The decision's id: its task's id (a task is decided once).
    pub id: String,
    pub subject: SubjectRef,
    pub execution: String,
    pub task: String,
    pub decision: Decision,
    pub files: Vec<FileRef>,
    /// The id of the key that signed it.
    pub key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectRef {
    /// `order`, `signature` or `task`.
    pub kind: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The action taken (`advance`, `sign`, `approve`, a kind's own).
    pub action: String,
    /// `success` or `failure`: what the workflow was told.
    pub outcome: String,
    pub by: String,
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A receipt as its page shows it: what it says, its signature, and the
/// file anyone can download and check offline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptPage {
    pub receipt: Receipt,
    /// base64url Ed25519 signature over the receipt's canonical JSON.
    pub signature: String,
    /// The receipt file's text (`{"receipt": …, "signature": …}`).
    pub file: String,
}
