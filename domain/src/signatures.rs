//! Documents that wait for signatures. Automatic signers (Alice) sign by
//! themselves; each human signer gets a request of their own, a task of
//! kind `sign-document` (`docs/tasks.md`) keyed by document and signer,
//! and signs or declines on their desk (or from the task list: both
//! decide through the one ledger, under the same task id). Unanswered
//! requests expire after the document's timeout.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::DomainError;
use crate::items::{Item, s, unavailable};
use crate::outcome::check_input;
use crate::outcome::{Decided, Outcome, Pending, Scope};
use crate::services::Services;
use crate::tables::TASKS_BY_SIGNER;
pub use countersign_model::documents::{
    Document, DocumentStatus, RequestStatus, Signature, SignatureRequest, SignerSpec,
};

/// Longest document title.
pub const MAX_TITLE: usize = 200;
/// Most signers on one document.
pub const MAX_SIGNERS: usize = 20;

/// The task id of `signer`'s request on a document: one request per
/// signer, so the key is the pair (a document id is a UUID, without dots).
pub fn request_id(document_id: &str, signer: &str) -> String {
    format!("{document_id}.{signer}")
}

/// The kind signature requests are tasks of.
pub const KIND: &str = "sign-document";
/// The staff inbox queue signature requests are listed in.
pub const SIGNATURES_INBOX: &str = "signatures";

/// The task JSON sign-document writes for a human signer's request; the
/// same as the definition's "Describe the request" state builds.
pub fn signature_task(
    document_id: &str,
    title: &str,
    signer: &str,
    deadline: Option<&str>,
) -> serde_json::Value {
    let mut task = serde_json::json!({
        "kind": KIND,
        "subject": {
            "id": document_id,
            "title": title,
            "link": format!("/signing/{document_id}"),
        },
        "eligible": {"people": [signer]},
        "quorum": 1,
        "actions": [
            {"name": "sign", "label": "Sign", "outcome": "success", "reason": "none"},
            {"name": "decline", "label": "Decline", "outcome": "failure", "error": crate::outcome::REJECTED, "reason": "required"}
        ],
        "context": [
            {"name": "document", "label": "Document", "value": title},
            {"name": "signer", "label": "Signer", "value": signer}
        ]
    });
    // The contract wants a date-time or nothing: a request an earlier
    // version wrote without one carries none.
    if let Some(deadline) = deadline {
        task["deadline"] = deadline.into();
    }
    task
}

/// A request's task row as the signer's desk and the document's page show
/// it.
pub(crate) fn request_from(item: &Item) -> Option<SignatureRequest> {
    let open = item.contains_key("open");
    let status = if open {
        RequestStatus::Waiting
    } else {
        // The task row's ending, in the document's words.
        match s(item, "status").as_deref() {
            Some("APPROVED") => RequestStatus::Signed,
            Some("REJECTED") => RequestStatus::Declined,
            _ => RequestStatus::Expired,
        }
    };
    Some(SignatureRequest {
        document_id: s(item, "documentId")?,
        signer: s(item, "signer")?,
        // Only a request that still waits can be answered.
        task_id: s(item, "token").and(s(item, "taskId")).filter(|_| open),
        status,
        created_at: s(item, "createdAt").unwrap_or_default(),
        decided_by: s(item, "decidedBy"),
        decided_at: s(item, "decidedAt"),
        title: s(item, "title"),
        deadline: s(item, "deadline"),
    })
}

/// Documents and their signature requests: starting a signing, a signer's desk, a signer's answer.
/// A handle on [`Services`]; get one with [`Services::documents`].
#[derive(Debug, Clone, Copy)]
pub struct Documents<'a> {
    s: &'a Services,
}

impl Services {
    /// Documents, for requesting signatures and answering them.
    pub fn documents(&self) -> Documents<'_> {
        Documents { s: self }
    }
}

impl Documents<'_> {
    /// Starts a document's signing; returns its id.
    pub async fn request(
        self,
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
        crate::workflows::start_workflow(
            &self.s.sfn,
            &self.s.sign_document_arn,
            &document_id,
            &input,
        )
        .await?;
        self.s.live().announce().await;
        Ok(document_id)
    }

    /// A document with each signature and each request's state. A request
    /// still marked waiting on a document that has ended shows as EXPIRED.
    pub async fn get(self, document_id: &str) -> Result<Document, DomainError> {
        if !crate::items::usable_key(document_id) {
            return Err(DomainError::NotFound);
        }
        let out = self
            .s
            .ddb
            .get_item()
            .table_name(&self.s.tables.documents)
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
        let signers: Vec<SignerSpec> = s(item, "signers")
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        let requests = self
            .requests_of(document_id, &signers)
            .await?
            .into_iter()
            .map(|mut r| {
                if r.status == RequestStatus::Waiting && status != DocumentStatus::Waiting {
                    r.status = RequestStatus::Expired;
                    r.task_id = None;
                }
                r
            })
            .collect();
        let mut history = crate::orders::history_of(item);
        history.extend(self.s.ledger().decision_lines(document_id).await?);
        history.sort_by(|a, b| crate::items::time_key(&a.at).cmp(&crate::items::time_key(&b.at)));
        Ok(Document {
            document_id: document_id.into(),
            title: s(item, "title").unwrap_or_default(),
            status,
            signers,
            signatures,
            requests,
            history,
        })
    }

    /// The request rows of a document's human signers, read by key (one
    /// consistent BatchGetItem), in the order the signers were named. A
    /// signer whose request the workflow has not written yet has none.
    async fn requests_of(
        self,
        document_id: &str,
        signers: &[SignerSpec],
    ) -> Result<Vec<SignatureRequest>, DomainError> {
        let ids: Vec<String> = signers
            .iter()
            .filter(|s| !s.automatic)
            .map(|s| request_id(document_id, &s.name))
            .filter(|id| crate::items::usable_key(id))
            .collect();
        let mut rows: Vec<Item> = Vec::new();
        let mut keys: Vec<Item> = ids
            .iter()
            .map(|id| Item::from([("taskId".to_owned(), AttributeValue::S(id.clone()))]))
            .collect();
        // BatchGetItem may leave keys unprocessed under load: ask again.
        for _ in 0..10 {
            if keys.is_empty() {
                break;
            }
            let wanted = aws_sdk_dynamodb::types::KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut keys)))
                .consistent_read(true)
                .build()
                .map_err(|e| unavailable("reading signature requests")(e.to_string()))?;
            let out = self
                .s
                .ddb
                .batch_get_item()
                .request_items(&self.s.tables.tasks, wanted)
                .send()
                .await
                .map_err(|e| unavailable("reading signature requests")(format!("{e:?}")))?;
            if let Some(found) = out.responses().and_then(|r| r.get(&self.s.tables.tasks)) {
                rows.extend(found.iter().cloned());
            }
            keys = out
                .unprocessed_keys()
                .and_then(|u| u.get(&self.s.tables.tasks))
                .map(|k| k.keys().to_vec())
                .unwrap_or_default();
        }
        if !keys.is_empty() {
            return Err(unavailable("reading signature requests")(
                "keys left unprocessed".into(),
            ));
        }
        let mut requests: Vec<SignatureRequest> = rows.iter().filter_map(request_from).collect();
        requests.sort_by_key(|r| {
            ids.iter()
                .position(|id| *id == request_id(document_id, &r.signer))
        });
        Ok(requests)
    }

    /// Requests waiting for `signer`, oldest first: a Query of the signer
    /// index, which holds open requests only.
    pub async fn signer_desk(self, signer: &str) -> Result<Vec<SignatureRequest>, DomainError> {
        let mut rows = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .s
                .ddb
                .query()
                .table_name(&self.s.tables.tasks)
                .index_name(TASKS_BY_SIGNER)
                .key_condition_expression("signer = :s")
                .expression_attribute_values(":s", AttributeValue::S(signer.into()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| unavailable("reading a signer's desk")(format!("{e:?}")))?;
            rows.extend(out.items().iter().filter_map(request_from));
            match out.last_evaluated_key() {
                Some(key) => start = Some(key.clone()),
                None => break,
            }
        }
        rows.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        let mut waiting = Vec::new();
        for request in rows {
            // A request carried over from an earlier version can outlive
            // its document (another signer declined, and that version's
            // workflow did not close the others).
            if request.status == RequestStatus::Waiting
                && !self
                    .s
                    .staff_inbox()
                    .document_ended(&request.document_id)
                    .await?
            {
                waiting.push(request);
            }
        }
        Ok(waiting)
    }

    /// Signs (`Advance`) or declines (`Reject`) `signer`'s request on a
    /// document. Only the signer may decide their own request.
    pub async fn decide(
        self,
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
        let row = self.request_row(document_id, signer).await?;
        let is_this = |id: &str| row.as_ref().is_some_and(|r| answers_to(r, id));
        // Another task's id (a co-signer's, an order's) says nothing about
        // that task: who decided it is not this signer's to learn here.
        if !is_this(task_id) {
            return Err(DomainError::NotFound);
        }
        match row
            .as_ref()
            .and_then(|r| pending_of(r, document_id, signer))
        {
            Some(p) if !self.s.staff_inbox().document_ended(document_id).await? => {
                self.s
                    .decisions()
                    .decide_pending(p, outcome, actor, None)
                    .await
            }
            // It no longer waits: decided (under today's id, or under the
            // id an earlier version gave it), or else expired.
            _ => {
                let id = request_id(document_id, signer);
                for asked in [id.as_str(), task_id] {
                    match self.s.decisions().verdict(asked).await {
                        DomainError::NotFound => continue,
                        other => return Err(other),
                    }
                }
                Err(DomainError::Expired)
            }
        }
    }

    /// `signer`'s request row on a document, as stored (token included).
    async fn request_row(
        self,
        document_id: &str,
        signer: &str,
    ) -> Result<Option<Item>, DomainError> {
        let id = request_id(document_id, signer);
        if !crate::items::usable_key(document_id)
            || !crate::items::usable_key(signer)
            || !crate::items::usable_key(&id)
        {
            return Ok(None);
        }
        let out = self
            .s
            .ddb
            .get_item()
            .table_name(&self.s.tables.tasks)
            .key("taskId", AttributeValue::S(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("reading a signature request")(format!("{e:?}")))?;
        Ok(out.item().cloned())
    }
}

/// Whether a caller's `task_id` names this request: its id, or the one an
/// earlier version gave it (a page loaded before the upgrade).
fn answers_to(row: &Item, task_id: &str) -> bool {
    s(row, "taskId").as_deref() == Some(task_id)
        || s(row, "legacyTaskId").as_deref() == Some(task_id)
}

/// A waiting request with its token.
fn pending_of(row: &Item, document_id: &str, signer: &str) -> Option<Pending> {
    row.get("open")?;
    Some(Pending {
        task_id: s(row, "taskId")?,
        token: s(row, "token")?,
        step: "signature".into(),
        kind: KIND.into(),
        scope: Scope::Signature {
            document_id: document_id.into(),
            signer: signer.into(),
        },
    })
}
