//! Documents to sign, their signers and each signer's request (never a
//! token).

use serde::{Deserialize, Serialize};

pub use crate::orders::HistoryEntry;
pub use crate::statuses::{DocumentStatus, RequestStatus};

/// Who signs, and whether a person has to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerSpec {
    pub name: String,
    /// Signs by itself (no request, no wait).
    pub automatic: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub signer: String,
    pub at: String,
    /// `automatic` or `signed`.
    pub how: String,
}

/// One human signer's request, as anyone may see it: no token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureRequest {
    pub document_id: String,
    pub signer: String,
    /// Set while the request waits.
    pub task_id: Option<String>,
    pub status: RequestStatus,
    pub created_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// The document's title, as the request was written.
    pub title: Option<String>,
    /// When the request expires by itself (a moment before Step Functions
    /// gives up on it).
    pub deadline: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub document_id: String,
    pub title: String,
    pub status: DocumentStatus,
    pub signers: Vec<SignerSpec>,
    pub signatures: Vec<Signature>,
    pub requests: Vec<SignatureRequest>,
    pub history: Vec<HistoryEntry>,
}
