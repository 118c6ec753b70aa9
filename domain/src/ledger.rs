//! The decision ledger: one row per decided task (the decisions table, keyed
//! by task id), the single source of truth for what was decided, by whom,
//! and how far that decision has got.
//!
//! ```text
//! CLAIMED ──► SENT ────┐
//!    │                 ├──► CLOSED ──► RECORDED
//!    ├──────► EXPIRED ─┘
//!    └──────► FAILED   (refused outright; the task may be claimed again)
//! ```
//!
//! Every move is a conditional write on the state it leaves, so two
//! replicas (or a request and the reconciler) can never both make it. The
//! stored outcome is what is sent to the workflow, whoever sends it.
//!
//! Unfinished rows carry `open`; the sparse `decisions-open` index on
//! (`open`, `due`) is how the reconciler finds them without a Scan. `due` is
//! also a lease: whoever holds a row pushes it forward, and the reconciler
//! only takes rows whose `due` has passed.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::DomainError;
use crate::decisions::{Outcome, Pending, Scope};
use crate::items::{Item, s, unavailable};
use crate::services::Services;
use crate::tables::{DECISIONS_BY_SUBJECT, DECISIONS_OPEN};
use crate::tasks::quorum::{APPROVAL, Unfinished};

/// The value of `open` on every unfinished row (the index's one partition).
const OPEN: &str = "open";

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

    fn parse(text: &str) -> Option<Self> {
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
    fn finished(self) -> bool {
        matches!(self, State::Failed | State::Recorded)
    }
}

/// An unfinished row in the open index.
#[derive(Debug)]
pub(crate) enum Overdue {
    Decision(Entry),
    /// An approval towards a quorum, not yet counted or not yet resumed.
    Approval(Unfinished),
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

    fn item(&self) -> Item {
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

    fn from_item(item: &Item) -> Option<Self> {
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
                task_id: subject,
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
                error: s(item, "error").unwrap_or_else(|| crate::decisions::REJECTED.into()),
            },
            _ => Outcome::Advance,
        };
        Some(Entry {
            task_id: s(item, "taskId")?,
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

/// Whether a DynamoDB call failed on its condition (rather than failing).
pub(crate) fn condition_failed<E, R>(error: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    error.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException")
}

/// What a claim found.
pub(crate) enum Claim {
    /// This caller holds the claim now.
    Won,
    /// Someone (perhaps this very person, a moment ago) holds it.
    Taken(Box<Entry>),
}

impl Services {
    /// Writes a new CLAIMED row, unless the task already has one that is
    /// not FAILED.
    pub(crate) async fn claim(&self, entry: &Entry) -> Result<Claim, DomainError> {
        let put = self
            .ddb
            .put_item()
            .table_name(&self.tables.decisions)
            .set_item(Some(entry.item()))
            .condition_expression("attribute_not_exists(taskId) OR #state = :failed")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(
                ":failed",
                AttributeValue::S(State::Failed.as_str().into()),
            )
            .send()
            .await;
        match put {
            Ok(_) => Ok(Claim::Won),
            Err(e) if condition_failed(&e) => match self.entry(&entry.task_id).await? {
                Some(existing) => Ok(Claim::Taken(Box::new(existing))),
                // FAILED and claimed again between our put and our read.
                None => Err(DomainError::Unavailable),
            },
            // No clear answer: the put may have been applied. A row with
            // our claim id means the claim is ours.
            Err(e) => {
                tracing::warn!(error = ?e, "a claim had no clear answer; reading it back");
                match self.entry(&entry.task_id).await? {
                    Some(stored) if stored.claim_id == entry.claim_id => Ok(Claim::Won),
                    Some(stored) => Ok(Claim::Taken(Box::new(stored))),
                    None => Err(DomainError::Unavailable),
                }
            }
        }
    }

    /// A ledger row, read consistently.
    pub(crate) async fn entry(&self, task_id: &str) -> Result<Option<Entry>, DomainError> {
        if !crate::items::usable_key(task_id) {
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
        Ok(out.item().and_then(Entry::from_item))
    }

    /// Moves `entry` from its state to `to`, only if it is still in its
    /// state. `Ok(false)`: someone else moved it first. A finished row
    /// leaves the open index and forgets its token.
    pub(crate) async fn transition(
        &self,
        entry: &mut Entry,
        to: State,
    ) -> Result<bool, DomainError> {
        let mut update = "SET #state = :to, #due = :due".to_owned();
        if to == State::Sent {
            update.push_str(", applied = :true");
        }
        let now = self.clock.stamp();
        if to == State::Recorded {
            update.push_str(", finishedAt = :now");
        }
        // Whoever moves a row holds it for another lease.
        let due = lease_end(self);
        if to.finished() {
            update.push_str(" REMOVE #open, #token");
        } else if matches!(to, State::Sent | State::Expired) {
            update.push_str(" REMOVE #token");
        }
        let mut call = self
            .ddb
            .update_item()
            .table_name(&self.tables.decisions)
            .key("taskId", AttributeValue::S(entry.task_id.clone()))
            .update_expression(update)
            .condition_expression("#state = :from")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#due", "due")
            .expression_attribute_values(":to", AttributeValue::S(to.as_str().into()))
            .expression_attribute_values(":from", AttributeValue::S(entry.state.as_str().into()))
            .expression_attribute_values(":due", AttributeValue::S(due.clone()));
        if to == State::Sent {
            call = call.expression_attribute_values(":true", AttributeValue::Bool(true));
        }
        if to == State::Recorded {
            call = call.expression_attribute_values(":now", AttributeValue::S(now.clone()));
        }
        if to.finished() {
            call = call
                .expression_attribute_names("#open", "open")
                .expression_attribute_names("#token", "token");
        } else if matches!(to, State::Sent | State::Expired) {
            call = call.expression_attribute_names("#token", "token");
        }
        match call.send().await {
            Ok(_) => {
                tracing::debug!(
                    task_id = entry.task_id,
                    from = entry.state.as_str(),
                    to = to.as_str(),
                    "decision moved on"
                );
                entry.state = to;
                entry.due = due;
                entry.applied |= to == State::Sent;
                if to == State::Recorded {
                    entry.finished_at = Some(now);
                }
                if !matches!(to, State::Claimed) {
                    entry.token = None;
                }
                Ok(true)
            }
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(unavailable("moving a decision on")(format!("{e:?}"))),
        }
    }

    /// Takes the lease on a row the reconciler found: only if nobody moved
    /// or leased it since it was read. Pushes `due` to a lease from now.
    pub(crate) async fn lease(&self, entry: &mut Entry) -> Result<bool, DomainError> {
        let due = crate::clock::stamp(self.clock.now_ms() + lease_ms(self));
        let leased = self
            .ddb
            .update_item()
            .table_name(&self.tables.decisions)
            .key("taskId", AttributeValue::S(entry.task_id.clone()))
            .update_expression("SET #due = :due ADD attempts :one")
            .condition_expression("#state = :state AND #due = :seen")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#due", "due")
            .expression_attribute_values(":due", AttributeValue::S(due.clone()))
            .expression_attribute_values(":seen", AttributeValue::S(entry.due.clone()))
            .expression_attribute_values(":state", AttributeValue::S(entry.state.as_str().into()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .send()
            .await;
        match leased {
            Ok(_) => {
                entry.due = due;
                Ok(true)
            }
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(unavailable("leasing a decision")(format!("{e:?}"))),
        }
    }

    /// Up to `limit` unfinished rows whose lease has run out, the longest
    /// overdue first: one Query on the sparse open index.
    pub(crate) async fn overdue(&self, limit: i32) -> Result<Vec<Overdue>, DomainError> {
        let out = self
            .ddb
            .query()
            .table_name(&self.tables.decisions)
            .index_name(DECISIONS_OPEN)
            .key_condition_expression("#open = :open AND #due <= :now")
            .expression_attribute_names("#open", "open")
            .expression_attribute_names("#due", "due")
            .expression_attribute_values(":open", AttributeValue::S(OPEN.into()))
            .expression_attribute_values(":now", AttributeValue::S(self.clock.stamp()))
            .limit(limit)
            .send()
            .await
            .map_err(|e| unavailable("reading unfinished decisions")(format!("{e:?}")))?;
        Ok(out
            .items()
            .iter()
            .filter_map(|item| {
                if s(item, "kind").as_deref() == Some(APPROVAL) {
                    Unfinished::from_item(item).map(Overdue::Approval)
                } else {
                    Entry::from_item(item).map(Overdue::Decision)
                }
            })
            .collect())
    }

    /// The latest decision on an order or document (by claim time), FAILED
    /// ones aside: one Query on the subject index.
    pub(crate) async fn latest_decision(
        &self,
        subject: &str,
    ) -> Result<Option<Entry>, DomainError> {
        if !crate::items::usable_key(subject) {
            return Ok(None);
        }
        let out = self
            .ddb
            .query()
            .table_name(&self.tables.decisions)
            .index_name(DECISIONS_BY_SUBJECT)
            .key_condition_expression("subject = :s")
            .expression_attribute_values(":s", AttributeValue::S(subject.into()))
            .scan_index_forward(false)
            .limit(5)
            .send()
            .await
            .map_err(|e| unavailable("reading an order's decisions")(format!("{e:?}")))?;
        Ok(out
            .items()
            .iter()
            .filter_map(Entry::from_item)
            .find(|e| e.state != State::Failed))
    }
}

impl Services {
    /// The decisions that took effect on an order or document, as history
    /// lines, oldest first. The ledger is where decisions are kept: the
    /// order's own row is written by its workflow, and a second writer
    /// appending to the same list could lose a line to a store whose
    /// updates are not atomic (moto's are not).
    pub(crate) async fn decision_lines(
        &self,
        subject: &str,
    ) -> Result<Vec<crate::orders::HistoryEntry>, DomainError> {
        if !crate::items::usable_key(subject) {
            return Ok(Vec::new());
        }
        let mut lines = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .ddb
                .query()
                .table_name(&self.tables.decisions)
                .index_name(DECISIONS_BY_SUBJECT)
                .key_condition_expression("subject = :s")
                .expression_attribute_values(":s", AttributeValue::S(subject.into()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| unavailable("reading an order's decisions")(format!("{e:?}")))?;
            for entry in out.items().iter().filter_map(Entry::from_item) {
                if !entry.applied {
                    continue;
                }
                let (error, cause) = match &entry.outcome {
                    Outcome::Reject { reason, error } => {
                        (Some(error.clone()), Some(reason.clone()))
                    }
                    Outcome::Advance => (None, None),
                };
                lines.push(crate::orders::HistoryEntry {
                    at: entry.at.clone(),
                    by: entry.actor.clone(),
                    status: None,
                    decision: Some(entry.outcome.name(&entry.scope).to_owned()),
                    comment: entry.comment.clone(),
                    error,
                    cause,
                });
            }
            start = out.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        Ok(lines)
    }
}

/// How long whoever holds a ledger row may work on it before the
/// reconciler may take it over.
fn lease_ms(s: &Services) -> i64 {
    i64::try_from(s.lease.as_millis()).unwrap_or(i64::MAX)
}

/// The stamp a new claim's lease runs until.
pub(crate) fn lease_end(s: &Services) -> String {
    crate::clock::stamp(s.clock.now_ms() + lease_ms(s))
}
