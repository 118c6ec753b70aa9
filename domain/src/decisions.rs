//! Decisions that happen exactly once.
//!
//! Two staff, a double click or a retry may all ask to decide the same
//! step. The order of work makes exactly one of them resume the workflow:
//!
//! 1. **Claim**: a conditional put into the decisions table keyed by the
//!    step's task id. One put wins; the rest read who won and are told
//!    "already decided by X at T".
//! 2. **Resume**: SendTaskSuccess / SendTaskFailure with the stored token.
//!    If Step Functions says the task is gone (timed out, stopped) the claim
//!    is marked expired and the caller told so; if it did not answer, the
//!    claim is released so a retry can succeed.
//! 3. **Close** the pending row only if it still holds *this* token. The
//!    workflow may already have written the row of its next wait under the
//!    same key; the order article's unconditional delete erased it and left
//!    the order stuck forever.
//! 4. **Record** who decided what, when, in the order's history.
//!
//! A crash between steps leaves a claim in state CLAIMED; the same person's
//! retry resumes it from step 2.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use crate::DomainError;
use crate::orders::Services;

/// A step waiting for a person, with its token: server side only.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub task_id: String,
    pub token: String,
    /// What waits: the order's status, or `signature`.
    pub step: String,
    pub scope: Scope,
}

/// Where the waiting step's row and history live.
#[derive(Debug, Clone)]
pub(crate) enum Scope {
    /// A process-order wait: the row is keyed by execution, the history is
    /// the order's.
    Order {
        order_id: String,
        execution_arn: String,
    },
    /// A signature request: keyed by document and signer, the history is
    /// the document's.
    Signature { document_id: String, signer: String },
}

impl Scope {
    fn subject(&self) -> &str {
        match self {
            Scope::Order { order_id, .. } => order_id,
            Scope::Signature { document_id, .. } => document_id,
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
    fn name(&self, scope: &Scope) -> &'static str {
        match (self, scope) {
            (Outcome::Advance, Scope::Order { .. }) => "advance",
            (Outcome::Reject { .. }, Scope::Order { .. }) => "reject",
            (Outcome::Advance, Scope::Signature { .. }) => "sign",
            (Outcome::Reject { .. }, Scope::Signature { .. }) => "decline",
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
pub const REJECTED: &str = "Rejected";
/// Longest error name SendTaskFailure accepts.
pub const MAX_ERROR_NAME: usize = 256;
/// Longest reason or comment kept.
pub const MAX_TEXT: usize = 1000;

const CLAIMED: &str = "CLAIMED";
const SENT: &str = "SENT";
const EXPIRED: &str = "EXPIRED";

impl Services {
    /// Decides the step `task_id` of order `order_id`. Exactly one caller
    /// per step gets `Ok`; the others get `AlreadyDecided` naming the
    /// winner, or `Expired`.
    pub async fn decide(
        &self,
        order_id: &str,
        task_id: &str,
        outcome: Outcome,
        actor: &str,
        comment: Option<&str>,
    ) -> Result<Decided, DomainError> {
        check_input(&outcome, actor, comment)?;
        // The step must still be the one waiting; otherwise say who decided it.
        match self.pending(order_id).await? {
            Some(p) if p.task_id == task_id => {
                self.decide_pending(p, outcome, actor, comment).await
            }
            _ => Err(self.verdict(task_id).await),
        }
    }

    /// The exactly-once core shared by orders and signatures.
    pub(crate) async fn decide_pending(
        &self,
        record: Pending,
        outcome: Outcome,
        actor: &str,
        comment: Option<&str>,
    ) -> Result<Decided, DomainError> {
        let task_id = record.task_id.clone();
        let at = crate::now();
        let resumed = self.claim(&record, &outcome, actor, comment, &at).await?;
        let at = resumed.clone().unwrap_or(at);

        match self.resume(&record, &outcome, actor, comment).await {
            Ok(()) => {}
            Err(Resume::Gone) if resumed.is_some() => {
                // Our own earlier attempt got through before a crash: the
                // task is gone because it was resumed.
            }
            Err(Resume::Gone) => {
                self.set_state(&task_id, EXPIRED).await;
                self.close(&record, "EXPIRED", actor, &at).await;
                // The row left the inbox: open pages should see it go.
                self.announce().await;
                return Err(DomainError::Expired);
            }
            Err(Resume::Unavailable) => {
                self.release(&task_id, actor).await;
                return Err(DomainError::Unavailable);
            }
        }
        let done = match (&outcome, &record.scope) {
            (Outcome::Advance, Scope::Signature { .. }) => "SIGNED",
            (Outcome::Reject { .. }, Scope::Signature { .. }) => "DECLINED",
            _ => "DONE",
        };
        self.close(&record, done, actor, &at).await;
        self.set_state(&task_id, SENT).await;
        self.record_history(&record, &outcome, actor, comment, &at)
            .await;
        self.announce().await;
        Ok(Decided {
            subject: record.scope.subject().to_owned(),
            task_id,
            step: record.step.clone(),
            outcome: outcome.name(&record.scope),
            by: actor.to_owned(),
            at,
        })
    }

    /// Step 1. `Ok(None)`: newly claimed. `Ok(Some(at))`: this actor's own
    /// unfinished claim from `at`, to resume.
    async fn claim(
        &self,
        record: &Pending,
        outcome: &Outcome,
        actor: &str,
        comment: Option<&str>,
        at: &str,
    ) -> Result<Option<String>, DomainError> {
        let mut put = self
            .ddb
            .put_item()
            .table_name(&self.tables.decisions)
            .item("taskId", AttributeValue::S(record.task_id.clone()))
            .item(
                "subject",
                AttributeValue::S(record.scope.subject().to_owned()),
            )
            .item("step", AttributeValue::S(record.step.clone()))
            .item(
                "outcome",
                AttributeValue::S(outcome.name(&record.scope).into()),
            )
            .item("actor", AttributeValue::S(actor.into()))
            .item("at", AttributeValue::S(at.into()))
            .item("state", AttributeValue::S(CLAIMED.into()))
            .condition_expression("attribute_not_exists(taskId)");
        if let Some(c) = comment.filter(|c| !c.is_empty()) {
            put = put.item("comment", AttributeValue::S(c.into()));
        }
        if let Outcome::Reject { reason, error } = outcome {
            put = put
                .item("reason", AttributeValue::S(reason.clone()))
                .item("error", AttributeValue::S(error.clone()));
        }
        // Enough to find the waiting row again if we crash after this.
        if let Scope::Signature { signer, .. } = &record.scope {
            put = put.item("signer", AttributeValue::S(signer.clone()));
        }
        match put.send().await {
            Ok(_) => Ok(None),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                let existing = self.decision(&record.task_id).await?;
                match existing {
                    Some(d) if d.actor == actor && d.state == CLAIMED => Ok(Some(d.at)),
                    Some(d) if d.state == EXPIRED => Err(DomainError::Expired),
                    Some(d) => Err(DomainError::AlreadyDecided {
                        by: d.actor,
                        at: d.at,
                    }),
                    // Released between our put and our read: someone may
                    // retry; so may the caller.
                    None => Err(DomainError::Unavailable),
                }
            }
            Err(e) => Err(unavailable("claiming a decision")(format!("{e:?}"))),
        }
    }

    /// Step 2.
    async fn resume(
        &self,
        record: &Pending,
        outcome: &Outcome,
        actor: &str,
        comment: Option<&str>,
    ) -> Result<(), Resume> {
        match outcome {
            Outcome::Advance => {
                let output =
                    serde_json::json!({"decision": "advance", "by": actor, "comment": comment});
                self.sfn
                    .send_task_success()
                    .task_token(&record.token)
                    .output(output.to_string())
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(classify)
            }
            Outcome::Reject { reason, error } => self
                .sfn
                .send_task_failure()
                .task_token(&record.token)
                .error(error)
                .cause(reason)
                .send()
                .await
                .map(|_| ())
                .map_err(classify),
        }
    }

    /// Step 3: close the waiting row only while it holds *this* token. An
    /// order's row is deleted (the next wait reuses its key); a signature
    /// request is kept with its outcome, for the document's page.
    async fn close(&self, record: &Pending, done: &str, actor: &str, at: &str) {
        let token = AttributeValue::S(record.token.clone());
        let result = match &record.scope {
            Scope::Order { execution_arn, .. } => self
                .ddb
                .delete_item()
                .table_name(&self.tables.actions)
                .key("executionId", AttributeValue::S(execution_arn.clone()))
                .condition_expression("taskToken = :token")
                .expression_attribute_values(":token", token)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception())
                }),
            Scope::Signature {
                document_id,
                signer,
            } => self
                .ddb
                .update_item()
                .table_name(&self.tables.signature_requests)
                .key("documentId", AttributeValue::S(document_id.clone()))
                .key("signer", AttributeValue::S(signer.clone()))
                .update_expression(
                    // Without `inbox` the request leaves the staff inbox's
                    // (sparse) indexes.
                    "SET #status = :done, decidedBy = :actor, decidedAt = :at REMOVE taskToken, inbox",
                )
                .condition_expression("taskToken = :token")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":done", AttributeValue::S(done.into()))
                .expression_attribute_values(":actor", AttributeValue::S(actor.into()))
                .expression_attribute_values(":at", AttributeValue::S(at.into()))
                .expression_attribute_values(":token", token)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception())
                }),
        };
        match result {
            Ok(()) => {}
            // The row moved on (the next wait's row, or already closed):
            // exactly what must survive.
            Err(true) => {}
            Err(false) => {
                tracing::warn!("closing a waiting row failed; it will show until the next step")
            }
        }
    }

    /// Step 4.
    async fn record_history(
        &self,
        record: &Pending,
        outcome: &Outcome,
        actor: &str,
        comment: Option<&str>,
        at: &str,
    ) {
        let mut entry = std::collections::HashMap::from([
            ("at".to_owned(), AttributeValue::S(at.into())),
            ("by".to_owned(), AttributeValue::S(actor.into())),
            (
                "decision".to_owned(),
                AttributeValue::S(outcome.name(&record.scope).into()),
            ),
            ("step".to_owned(), AttributeValue::S(record.step.clone())),
        ]);
        if let Some(c) = comment.filter(|c| !c.is_empty()) {
            entry.insert("comment".into(), AttributeValue::S(c.into()));
        }
        if let Outcome::Reject { reason, error } = outcome {
            entry.insert("cause".into(), AttributeValue::S(reason.clone()));
            entry.insert("error".into(), AttributeValue::S(error.clone()));
        }
        let (table, key, id) = match &record.scope {
            Scope::Order { order_id, .. } => (&self.tables.orders, "orderId", order_id),
            Scope::Signature { document_id, .. } => {
                (&self.tables.documents, "documentId", document_id)
            }
        };
        let updated = self
            .ddb
            .update_item()
            .table_name(table)
            .key(key, AttributeValue::S(id.clone()))
            .update_expression("SET #history = list_append(if_not_exists(#history, :none), :entry)")
            .expression_attribute_names("#history", "history")
            .expression_attribute_values(":none", AttributeValue::L(Vec::new()))
            .expression_attribute_values(
                ":entry",
                AttributeValue::L(vec![AttributeValue::M(entry)]),
            )
            .return_values(ReturnValue::None)
            .send()
            .await;
        if let Err(e) = updated {
            tracing::warn!(error = ?e, "recording a decision in the order history failed");
        }
    }

    async fn set_state(&self, task_id: &str, state: &str) {
        let updated = self
            .ddb
            .update_item()
            .table_name(&self.tables.decisions)
            .key("taskId", AttributeValue::S(task_id.into()))
            .update_expression("SET #state = :state")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":state", AttributeValue::S(state.into()))
            .send()
            .await;
        if let Err(e) = updated {
            tracing::warn!(error = ?e, state, "updating a decision's state failed");
        }
    }

    /// Gives up a claim after Step Functions did not answer, so that a
    /// retry (by anyone) can decide.
    async fn release(&self, task_id: &str, actor: &str) {
        let released = self
            .ddb
            .delete_item()
            .table_name(&self.tables.decisions)
            .key("taskId", AttributeValue::S(task_id.into()))
            .condition_expression("actor = :actor AND #state = :claimed")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":actor", AttributeValue::S(actor.into()))
            .expression_attribute_values(":claimed", AttributeValue::S(CLAIMED.into()))
            .send()
            .await;
        if let Err(e) = released {
            tracing::warn!(error = ?e, "releasing a claim failed");
        }
    }

    async fn decision(&self, task_id: &str) -> Result<Option<DecisionRow>, DomainError> {
        if !crate::orders::usable_key(task_id) {
            return Ok(None);
        }
        let out = self
            .ddb
            .get_item()
            .table_name(&self.tables.decisions)
            .key("taskId", AttributeValue::S(task_id.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("reading a decision")(format!("{e:?}")))?;
        Ok(out.item().map(|item| {
            let s = |k: &str| {
                item.get(k)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default()
            };
            DecisionRow {
                actor: s("actor"),
                at: s("at"),
                state: s("state"),
            }
        }))
    }

    /// Why a step that no longer waits cannot be decided.
    pub(crate) async fn verdict(&self, task_id: &str) -> DomainError {
        match self.decision(task_id).await {
            Ok(Some(d)) if d.state == EXPIRED => DomainError::Expired,
            Ok(Some(d)) => DomainError::AlreadyDecided {
                by: d.actor,
                at: d.at,
            },
            Ok(None) => DomainError::NotFound,
            Err(e) => e,
        }
    }
}

struct DecisionRow {
    actor: String,
    at: String,
    state: String,
}

enum Resume {
    /// Step Functions no longer knows the task (timed out, stopped, used).
    Gone,
    /// No clear answer: the claim must be released.
    Unavailable,
}

/// Step Functions' answer to SendTask*: the task is gone (timed out,
/// stopped, used), or no clear answer.
fn classify<E, R>(error: aws_sdk_sfn::error::SdkError<E, R>) -> Resume
where
    E: aws_sdk_sfn::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    use aws_sdk_sfn::error::ProvideErrorMetadata;
    match error.code() {
        Some("TaskTimedOut" | "InvalidToken" | "TaskDoesNotExist") => Resume::Gone,
        _ => {
            tracing::error!(error = ?error, "resuming a workflow failed");
            Resume::Unavailable
        }
    }
}

impl Services {
    /// Completes decisions a crash left half done: claimed, but perhaps not
    /// sent. Run at start. A claim whose step still waits is resumed as its
    /// owner would on retry; one whose step has moved on was sent, and is
    /// marked so. Returns how many claims were repaired.
    pub async fn repair_claims(&self) -> Result<usize, DomainError> {
        let mut repaired = 0;
        let mut start = None;
        loop {
            // A start-up sweep of a small table; claims stay CLAIMED only
            // for the moment between claim and send.
            let page = self
                .ddb
                .scan()
                .table_name(&self.tables.decisions)
                .filter_expression("#state = :claimed")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":claimed", AttributeValue::S(CLAIMED.into()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| unavailable("scanning claims")(format!("{e:?}")))?;
            for item in page.items() {
                let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
                let (Some(task_id), Some(subject), Some(actor)) =
                    (s("taskId"), s("subject"), s("actor"))
                else {
                    continue;
                };
                let outcome = match s("reason") {
                    Some(reason) => Outcome::Reject {
                        reason,
                        // Claims made before error names were kept.
                        error: s("error").unwrap_or_else(|| REJECTED.into()),
                    },
                    None => Outcome::Advance,
                };
                let comment = s("comment");
                let pending = match s("signer") {
                    Some(signer) => self.signature_pending(&subject, &signer).await?,
                    None => self.pending(&subject).await?,
                };
                match pending {
                    Some(p) if p.task_id == task_id => {
                        match self
                            .decide_pending(p, outcome, &actor, comment.as_deref())
                            .await
                        {
                            Ok(_) | Err(DomainError::Expired) => repaired += 1,
                            Err(e) => {
                                tracing::warn!(task_id, error = %e, "a claim could not be repaired yet")
                            }
                        }
                    }
                    _ => {
                        self.set_state(&task_id, SENT).await;
                        repaired += 1;
                    }
                }
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        Ok(repaired)
    }
}

fn unavailable(what: &'static str) -> impl FnOnce(String) -> DomainError {
    move |error| {
        tracing::error!(%error, "{what} failed");
        DomainError::Unavailable
    }
}

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
