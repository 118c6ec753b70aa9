//! Documents that wait for signatures. Automatic signers (Alice) sign by
//! themselves; each human signer gets a request of their own (keyed by
//! document and signer) and signs or declines on their desk. Unanswered
//! requests expire after the document's timeout.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::DomainError;
use crate::decisions::check_input;
use crate::items::{Item, s, unavailable};
use crate::outcome::{Decided, Outcome, Pending, Scope};
use crate::services::Services;
use crate::tables::SIGNER_INDEX;
pub use countersign_model::documents::{
    Document, DocumentStatus, RequestStatus, Signature, SignatureRequest, SignerSpec,
};

/// Longest document title.
pub const MAX_TITLE: usize = 200;
/// Most signers on one document.
pub const MAX_SIGNERS: usize = 20;

fn request_from(item: &Item) -> Option<SignatureRequest> {
    Some(SignatureRequest {
        document_id: s(item, "documentId")?,
        signer: s(item, "signer")?,
        task_id: s(item, "taskToken").and(s(item, "taskId")),
        // Written WAITING with the request; anything else no workflow
        // writes is a request nobody can decide.
        status: s(item, "status")
            .and_then(|t| RequestStatus::parse(&t))
            .unwrap_or(RequestStatus::Expired),
        created_at: s(item, "createdAt").unwrap_or_default(),
        decided_by: s(item, "decidedBy"),
        decided_at: s(item, "decidedAt"),
        title: s(item, "title"),
        deadline: s(item, "deadline"),
    })
}

impl Services {
    /// Starts a document's signing; returns its id.
    pub async fn request_signatures(
        &self,
        title: &str,
        signers: &[SignerSpec],
        timeout_seconds: u64,
    ) -> Result<String, DomainError> {
        if title.trim().is_empty() || title.chars().count() > MAX_TITLE {
            return Err(DomainError::Invalid(format!(
                "a document needs a title of 1 to {MAX_TITLE} characters"
            )));
        }
        if signers.is_empty() || signers.len() > MAX_SIGNERS {
            return Err(DomainError::Invalid(format!(
                "a document needs 1 to {MAX_SIGNERS} signers"
            )));
        }
        let mut names: Vec<&str> = signers.iter().map(|s| s.name.as_str()).collect();
        if names.iter().any(|n| n.trim().is_empty() || n.len() > 100) {
            return Err(DomainError::Invalid(
                "every signer needs a name of 1 to 100 characters".into(),
            ));
        }
        names.sort_unstable();
        names.dedup();
        if names.len() != signers.len() {
            return Err(DomainError::Invalid("each signer may appear once".into()));
        }
        if timeout_seconds == 0 {
            return Err(DomainError::Invalid(
                "the timeout must be at least one second".into(),
            ));
        }
        let document_id = uuid::Uuid::new_v4().to_string();
        // The deadline shown in the inbox. Step Functions starts its own
        // timer when the request is written, a moment later, so this is
        // never later than the real expiry.
        let deadline = crate::at_offset(timeout_seconds);
        let input = serde_json::json!({
            "documentId": document_id, "title": title, "signers": signers,
            "timeoutSeconds": timeout_seconds, "deadline": deadline,
        });
        crate::workflows::start_workflow(&self.sfn, &self.sign_document_arn, &document_id, &input)
            .await?;
        self.announce().await;
        Ok(document_id)
    }

    /// A document with each signature and each request's state. A request
    /// still marked waiting on a document that has ended shows as EXPIRED.
    pub async fn document(&self, document_id: &str) -> Result<Document, DomainError> {
        if !crate::items::usable_key(document_id) {
            return Err(DomainError::NotFound);
        }
        let out = self
            .ddb
            .get_item()
            .table_name(&self.tables.documents)
            .key("documentId", AttributeValue::S(document_id.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("reading a document")(format!("{e:?}")))?;
        let item = out.item().ok_or(DomainError::NotFound)?;
        // Written WAITING as the document is created.
        let status = s(item, "status")
            .and_then(|t| DocumentStatus::parse(&t))
            .unwrap_or(DocumentStatus::Waiting);
        let signatures = item
            .get("signatures")
            .and_then(|v| v.as_m().ok())
            .map(|m| {
                let mut list: Vec<Signature> = m
                    .iter()
                    .filter_map(|(signer, v)| {
                        let sig = v.as_m().ok()?;
                        Some(Signature {
                            signer: signer.clone(),
                            at: s(sig, "at").unwrap_or_default(),
                            how: s(sig, "how").unwrap_or_default(),
                        })
                    })
                    .collect();
                list.sort_by(|a, b| a.at.cmp(&b.at).then(a.signer.cmp(&b.signer)));
                list
            })
            .unwrap_or_default();
        let requests = self
            .ddb
            .query()
            .table_name(&self.tables.signature_requests)
            .key_condition_expression("documentId = :d")
            .expression_attribute_values(":d", AttributeValue::S(document_id.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("reading signature requests")(format!("{e:?}")))?
            .items()
            .iter()
            .filter_map(request_from)
            .map(|mut r| {
                if r.status == RequestStatus::Waiting && status != DocumentStatus::Waiting {
                    r.status = RequestStatus::Expired;
                    r.task_id = None;
                }
                r
            })
            .collect();
        let mut history = crate::orders::history_of(item);
        history.extend(self.decision_lines(document_id).await?);
        history.sort_by(|a, b| crate::items::time_key(&a.at).cmp(&crate::items::time_key(&b.at)));
        Ok(Document {
            document_id: document_id.into(),
            title: s(item, "title").unwrap_or_default(),
            status,
            signers: s(item, "signers")
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default(),
            signatures,
            requests,
            history,
        })
    }

    /// Requests waiting for `signer`, oldest first: one Query on the signer
    /// index.
    pub async fn signer_desk(&self, signer: &str) -> Result<Vec<SignatureRequest>, DomainError> {
        let out = self
            .ddb
            .query()
            .table_name(&self.tables.signature_requests)
            .index_name(SIGNER_INDEX)
            .key_condition_expression("signer = :s")
            .filter_expression("#status = :waiting")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":s", AttributeValue::S(signer.into()))
            .expression_attribute_values(":waiting", AttributeValue::S("WAITING".into()))
            .send()
            .await
            .map_err(|e| unavailable("reading a signer's desk")(format!("{e:?}")))?;
        let mut waiting = Vec::new();
        for request in out.items().iter().filter_map(request_from) {
            // A request can outlive its document (another signer declined,
            // so the workflow no longer waits for this one).
            if !self.document_ended(&request.document_id).await? {
                waiting.push(request);
            }
        }
        Ok(waiting)
    }

    /// Signs (`Advance`) or declines (`Reject`) `signer`'s request on a
    /// document. Only the signer may decide their own request.
    pub async fn decide_signature(
        &self,
        document_id: &str,
        signer: &str,
        task_id: &str,
        outcome: Outcome,
        actor: &str,
    ) -> Result<Decided, DomainError> {
        check_input(&outcome, actor, None)?;
        if actor != signer {
            return Err(DomainError::Forbidden);
        }
        match self.signature_pending(document_id, signer).await? {
            Some(p) if p.task_id == task_id && !self.document_ended(document_id).await? => {
                self.decide_pending(p, outcome, actor, None).await
            }
            _ => match self.verdict(task_id).await {
                // Nobody decided it, yet it no longer waits: it expired
                // (timed out, or the document ended without it).
                DomainError::NotFound
                    if self.was_requested(document_id, signer, task_id).await? =>
                {
                    Err(DomainError::Expired)
                }
                other => Err(other),
            },
        }
    }

    /// Whether `task_id` was `signer`'s request on the document (waiting
    /// or not).
    async fn was_requested(
        &self,
        document_id: &str,
        signer: &str,
        task_id: &str,
    ) -> Result<bool, DomainError> {
        Ok(self
            .request_row(document_id, signer)
            .await?
            .and_then(|i| s(&i, "taskId"))
            .is_some_and(|id| id == task_id))
    }

    /// `signer`'s request row on a document, as stored (token included).
    async fn request_row(
        &self,
        document_id: &str,
        signer: &str,
    ) -> Result<Option<Item>, DomainError> {
        if !crate::items::usable_key(document_id) || !crate::items::usable_key(signer) {
            return Ok(None);
        }
        let out = self
            .ddb
            .get_item()
            .table_name(&self.tables.signature_requests)
            .key("documentId", AttributeValue::S(document_id.into()))
            .key("signer", AttributeValue::S(signer.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("reading a signature request")(format!("{e:?}")))?;
        Ok(out.item().cloned())
    }

    /// A signer's waiting request with its token.
    pub(crate) async fn signature_pending(
        &self,
        document_id: &str,
        signer: &str,
    ) -> Result<Option<Pending>, DomainError> {
        let row = self.request_row(document_id, signer).await?;
        Ok(row.as_ref().and_then(|item| {
            Some(Pending {
                task_id: s(item, "taskId")?,
                token: s(item, "taskToken")?,
                step: "signature".into(),
                scope: Scope::Signature {
                    document_id: document_id.into(),
                    signer: signer.into(),
                },
            })
        }))
    }
}
