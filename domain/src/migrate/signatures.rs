//! Signature requests as sign-document wrote them before they were tasks:
//! into their own table (`signatureRequests`, keyed by document and
//! signer, the task id a random UUID). Each row, waiting or closed, is
//! carried over into the tasks table as the row today's sign-document
//! writes (id `document.signer`, the same token), closed ones with how
//! they ended, and the old row is deleted; so the document's page, the
//! signer's desk and the staff inbox read one table.
//!
//! That version's executions go on running their definition: a request
//! they expire is written back into the old table (an update of a deleted
//! row makes a new one, marked EXPIRED), and the next pass closes the
//! carried row with it. So the pass runs with every reconciler pass. It is
//! a Scan, of a table that only shrinks: empty once those documents are
//! done, when it costs one read.

use aws_sdk_dynamodb::types::AttributeValue;

use super::{Carried, Migration, Step};
use crate::DomainError;
use crate::items::{Item, condition_failed, s, unavailable};
use crate::ledger::State;
use crate::outcome::Outcome;
use crate::signatures::{SIGNATURES_INBOX, request_id, signature_task};
use crate::tasks::Status;
use crate::tasks::contract::OPEN;

/// Rows one pass reads from the old table (the rest wait for the next).
const PASS_ROWS: i32 = 200;

/// How an old request ended, in the task row's words.
struct Ended {
    status: Status,
    by: Option<String>,
    at: Option<String>,
}

impl Migration<'_> {
    /// One pass over the old signature requests table (see the module).
    pub async fn signature_requests(self) -> Result<Carried, DomainError> {
        let out = self
            .s
            .ddb
            .scan()
            .table_name(&self.s.tables.signature_requests)
            .consistent_read(true)
            .limit(PASS_ROWS)
            .send()
            .await
            .map_err(|e| unavailable("reading old signature requests")(format!("{e:?}")))?;
        let mut done = Carried::default();
        for row in out.items() {
            done.count(self.carry_request(row).await?);
        }
        if done.carried + done.removed > 0 {
            tracing::info!(
                carried = done.carried,
                removed = done.removed,
                "carried signature requests over into the tasks table"
            );
        }
        Ok(done)
    }

    async fn carry_request(self, row: &Item) -> Result<Step, DomainError> {
        let (Some(document_id), Some(signer)) = (s(row, "documentId"), s(row, "signer")) else {
            return Ok(Step::Left);
        };
        let old_task = s(row, "taskId");
        let old_status = s(row, "status").unwrap_or_default();
        let token = s(row, "taskToken").filter(|_| old_status == "WAITING");
        let mut ended = match old_status.as_str() {
            "WAITING" if token.is_some() => None,
            "SIGNED" => Some(Status::Approved),
            "DECLINED" => Some(Status::Rejected),
            // EXPIRED, or a row nobody can decide any more.
            _ => Some(Status::Expired),
        }
        .map(|status| Ended {
            status,
            by: s(row, "decidedBy"),
            at: s(row, "decidedAt"),
        });
        // A decision claimed on the old request is the ledger's to finish;
        // once it has taken effect, that is how the request ended. One
        // refused outright changed nothing, so the request still waits.
        if let (Some(old), None) = (&old_task, &ended) {
            match self.s.ledger().entry(old).await? {
                Some(entry) if entry.state == State::Failed => {}
                Some(entry) if entry.finished_at.is_some() || entry.state == State::Recorded => {
                    ended = Some(Ended {
                        status: match (&entry.outcome, entry.applied) {
                            (Outcome::Advance, true) => Status::Approved,
                            (Outcome::Reject { .. }, true) => Status::Rejected,
                            (_, false) => Status::Expired,
                        },
                        by: entry.applied.then(|| entry.actor.clone()),
                        at: Some(entry.at.clone()),
                    });
                }
                Some(_) => return Ok(Step::Left),
                None => {}
            }
        }
        let id = request_id(&document_id, &signer);
        let title = s(row, "title").unwrap_or_default();
        let deadline = s(row, "deadline").filter(|d| !d.is_empty());
        let created = s(row, "createdAt")
            .or_else(|| ended.as_ref().and_then(|e| e.at.clone()))
            .unwrap_or_else(|| self.s.clock.stamp());
        let task = signature_task(&document_id, &title, &signer, deadline.as_deref());
        let mut put = self
            .s
            .ddb
            .put_item()
            .table_name(&self.s.tables.tasks)
            .item("taskId", AttributeValue::S(id.clone()))
            .item(
                "execution",
                AttributeValue::S(self.s.document_execution_arn(&document_id)),
            )
            .item("state", AttributeValue::S("Request signature".into()))
            .item("createdAt", AttributeValue::S(created))
            .item("documentId", AttributeValue::S(document_id.clone()))
            .item("signer", AttributeValue::S(signer.clone()))
            .item("title", AttributeValue::S(title))
            .item("task", AttributeValue::S(task.to_string()))
            // Carried over once: a second replica's pass changes nothing.
            .condition_expression("attribute_not_exists(taskId)");
        if let Some(deadline) = deadline {
            put = put.item("deadline", AttributeValue::S(deadline));
        }
        if let Some(old) = &old_task {
            put = put.item("legacyTaskId", AttributeValue::S(old.clone()));
        }
        put = match (&ended, token) {
            (None, Some(token)) => put
                .item("token", AttributeValue::S(token))
                .item("open", AttributeValue::S(OPEN.into()))
                .item("inbox", AttributeValue::S(SIGNATURES_INBOX.into())),
            (Some(end), _) => ended_item(put, end),
            (None, None) => return Ok(Step::Left),
        };
        match put.send().await {
            Ok(_) => {}
            // Carried before: if it was carried waiting and has ended the
            // old way since (that version's workflow expired it), close it.
            Err(e) if condition_failed(&e) => {
                if let Some(end) = &ended {
                    self.close_carried(&id, end).await?;
                }
            }
            Err(e) => {
                return Err(unavailable("carrying a signature request over")(format!(
                    "{e:?}"
                )));
            }
        }
        self.remove_old_request(&document_id, &signer, &old_status)
            .await
    }

    /// Closes a carried request that still waits, as it ended.
    async fn close_carried(self, id: &str, end: &Ended) -> Result<(), DomainError> {
        // Who decided, where someone did (an expiry names nobody).
        let by = if end.by.is_some() {
            ", decidedBy = :by"
        } else {
            ""
        };
        let mut update = self
            .s
            .ddb
            .update_item()
            .table_name(&self.s.tables.tasks)
            .key("taskId", AttributeValue::S(id.into()))
            .condition_expression("attribute_exists(#open)")
            .update_expression(format!(
                "SET #status = :status, decidedAt = :at{by} REMOVE #open, #token, inbox, assignee"
            ))
            .expression_attribute_names("#open", "open")
            .expression_attribute_names("#token", "token")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", AttributeValue::S(end.status.as_str().into()))
            .expression_attribute_values(
                ":at",
                AttributeValue::S(end.at.clone().unwrap_or_else(|| self.s.clock.stamp())),
            );
        if let Some(by) = &end.by {
            update = update.expression_attribute_values(":by", AttributeValue::S(by.clone()));
        }
        match update.send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(unavailable("closing a carried signature request")(format!(
                "{e:?}"
            ))),
        }
    }

    /// Deletes the old row while it is as it was read (that version's
    /// workflow may have expired it meanwhile: then the next pass carries
    /// that).
    async fn remove_old_request(
        self,
        document_id: &str,
        signer: &str,
        status: &str,
    ) -> Result<Step, DomainError> {
        let mut delete = self
            .s
            .ddb
            .delete_item()
            .table_name(&self.s.tables.signature_requests)
            .key("documentId", AttributeValue::S(document_id.into()))
            .key("signer", AttributeValue::S(signer.into()))
            .expression_attribute_names("#status", "status");
        delete = if status.is_empty() {
            delete.condition_expression("attribute_not_exists(#status)")
        } else {
            delete
                .condition_expression("#status = :status")
                .expression_attribute_values(":status", AttributeValue::S(status.into()))
        };
        match delete.send().await {
            Ok(_) => Ok(Step::Carried),
            Err(e) if condition_failed(&e) => Ok(Step::Left),
            Err(e) => Err(unavailable("removing an old signature request")(format!(
                "{e:?}"
            ))),
        }
    }
}

/// The attributes of a closed request.
fn ended_item(
    put: aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder,
    end: &Ended,
) -> aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder {
    let mut put = put.item("status", AttributeValue::S(end.status.as_str().into()));
    if let Some(at) = &end.at {
        put = put.item("decidedAt", AttributeValue::S(at.clone()));
    }
    if let Some(by) = &end.by {
        put = put.item("decidedBy", AttributeValue::S(by.clone()));
        let action = match end.status {
            Status::Rejected => "decline",
            _ => "sign",
        };
        put = put.item("action", AttributeValue::S(action.into()));
    }
    put
}
