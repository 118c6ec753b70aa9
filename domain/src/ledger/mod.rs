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
//!
//! # Layout
//! - `entry`: a row, its states, and how it is stored.
//! - `mod.rs`: the moves between states (claim, transition, lease) and the
//!   queries (overdue rows, a subject's decisions).

mod entry;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::DomainError;
use crate::items::{Item, condition_failed, s, unavailable};
use crate::outcome::Outcome;
use crate::services::Services;
use crate::services::lease_end;
use crate::tables::{DECISIONS_BY_SUBJECT, DECISIONS_OPEN};

pub(crate) use entry::Entry;
pub use entry::State;

/// The `kind` of a task's approval record (towards a quorum), which
/// shares this table and its open index with decisions.
pub(crate) const APPROVAL: &str = "approval";

/// The value of `open` on every unfinished row (the index's one partition).
const OPEN: &str = "open";

/// The attribute a row's task kind is kept in (`kind` says which scope).
pub(crate) const KIND: &str = "taskKind";

/// The attribute a decision that took effect is filed under in the
/// `decisions-by-month` index: the month (`YYYY-MM`) it was claimed in.
/// Only such a decision has it, so the index is the decision history.
pub(crate) const MONTH: &str = "auditMonth";

/// The month a stamp falls in, as [`MONTH`] files it.
pub(crate) fn month_of(stamp: &str) -> &str {
    stamp.get(..7).unwrap_or(stamp)
}

/// An unfinished row in the open index.
#[derive(Debug)]
pub(crate) enum Overdue {
    Decision(Box<Entry>),
    /// An approval towards a quorum, not yet counted or not yet resumed
    /// (read by [`crate::tasks::quorum`]).
    Approval(Item),
}

/// What a claim found.
pub(crate) enum Claim {
    /// This caller holds the claim now.
    Won,
    /// Someone (perhaps this very person, a moment ago) holds it.
    Taken(Box<Entry>),
}

/// The decisions table: each decision's row and how far it has got.
/// A handle on [`Services`]; get one with [`Services::ledger`].
#[derive(Debug, Clone, Copy)]
pub struct Ledger<'a> {
    s: &'a Services,
}

impl Services {
    /// The decision ledger.
    pub fn ledger(&self) -> Ledger<'_> {
        Ledger { s: self }
    }
}

impl Ledger<'_> {
    /// Writes a new CLAIMED row, unless the task already has one that is
    /// not FAILED.
    pub(crate) async fn claim(self, entry: &Entry) -> Result<Claim, DomainError> {
        let put = self
            .s
            .ddb
            .put_item()
            .table_name(&self.s.tables.decisions)
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
    pub(crate) async fn entry(self, task_id: &str) -> Result<Option<Entry>, DomainError> {
        if !crate::items::usable_key(task_id) {
            return Ok(None);
        }
        let out = self
            .s
            .ddb
            .get_item()
            .table_name(&self.s.tables.decisions)
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
        self,
        entry: &mut Entry,
        to: State,
    ) -> Result<bool, DomainError> {
        let mut update = "SET #state = :to, #due = :due".to_owned();
        if to == State::Sent {
            update.push_str(", applied = :true, #month = :month");
        }
        let now = self.s.clock.stamp();
        if to == State::Recorded {
            update.push_str(", finishedAt = :now");
        }
        // Whoever moves a row holds it for another lease.
        let due = lease_end(self.s);
        if to.finished() {
            update.push_str(" REMOVE #open, #token");
        } else if matches!(to, State::Sent | State::Expired) {
            update.push_str(" REMOVE #token");
        }
        let mut call = self
            .s
            .ddb
            .update_item()
            .table_name(&self.s.tables.decisions)
            .key("taskId", AttributeValue::S(entry.task_id.clone()))
            .update_expression(update)
            .condition_expression("#state = :from")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#due", "due")
            .expression_attribute_values(":to", AttributeValue::S(to.as_str().into()))
            .expression_attribute_values(":from", AttributeValue::S(entry.state.as_str().into()))
            .expression_attribute_values(":due", AttributeValue::S(due.clone()));
        if to == State::Sent {
            call = call
                .expression_attribute_values(":true", AttributeValue::Bool(true))
                .expression_attribute_names("#month", MONTH)
                .expression_attribute_values(
                    ":month",
                    AttributeValue::S(month_of(&entry.at).to_owned()),
                );
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
    pub(crate) async fn lease(self, entry: &mut Entry) -> Result<bool, DomainError> {
        let due = lease_end(self.s);
        let leased = self
            .s
            .ddb
            .update_item()
            .table_name(&self.s.tables.decisions)
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
    pub(crate) async fn overdue(self, limit: i32) -> Result<Vec<Overdue>, DomainError> {
        let out = self
            .s
            .ddb
            .query()
            .table_name(&self.s.tables.decisions)
            .index_name(DECISIONS_OPEN)
            .key_condition_expression("#open = :open AND #due <= :now")
            .expression_attribute_names("#open", "open")
            .expression_attribute_names("#due", "due")
            .expression_attribute_values(":open", AttributeValue::S(OPEN.into()))
            .expression_attribute_values(":now", AttributeValue::S(self.s.clock.stamp()))
            .limit(limit)
            .send()
            .await
            .map_err(|e| unavailable("reading unfinished decisions")(format!("{e:?}")))?;
        Ok(out
            .items()
            .iter()
            .filter_map(|item| {
                if s(item, "kind").as_deref() == Some(APPROVAL) {
                    Some(Overdue::Approval(item.clone()))
                } else {
                    Entry::from_item(item).map(|e| Overdue::Decision(Box::new(e)))
                }
            })
            .collect())
    }

    /// The latest decision on an order or document (by claim time), FAILED
    /// ones aside: one Query on the subject index.
    pub(crate) async fn latest_decision(self, subject: &str) -> Result<Option<Entry>, DomainError> {
        if !crate::items::usable_key(subject) {
            return Ok(None);
        }
        let out = self
            .s
            .ddb
            .query()
            .table_name(&self.s.tables.decisions)
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

impl Ledger<'_> {
    /// The decisions that took effect on an order or document, as history
    /// lines, oldest first. The ledger is where decisions are kept: the
    /// order's own row is written by its workflow, and a second writer
    /// appending to the same list could lose a line to a store whose
    /// updates are not atomic (moto's are not).
    pub(crate) async fn decision_lines(
        self,
        subject: &str,
    ) -> Result<Vec<crate::orders::HistoryEntry>, DomainError> {
        Ok(self
            .applied(subject)
            .await?
            .iter()
            .map(history_line)
            .collect())
    }

    /// The decisions that took effect on a subject (an order, a document,
    /// a task's subject), in claim order.
    pub(crate) async fn applied(self, subject: &str) -> Result<Vec<Entry>, DomainError> {
        if !crate::items::usable_key(subject) {
            return Ok(Vec::new());
        }
        let mut entries = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .s
                .ddb
                .query()
                .table_name(&self.s.tables.decisions)
                .index_name(DECISIONS_BY_SUBJECT)
                .key_condition_expression("subject = :s")
                .expression_attribute_values(":s", AttributeValue::S(subject.into()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| unavailable("reading an order's decisions")(format!("{e:?}")))?;
            entries.extend(
                out.items()
                    .iter()
                    .filter_map(Entry::from_item)
                    .filter(|e| e.applied),
            );
            start = out.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        Ok(entries)
    }
}

/// A decision as a line of its subject's history, naming its receipt.
fn history_line(entry: &Entry) -> crate::orders::HistoryEntry {
    let (error, cause) = match &entry.outcome {
        Outcome::Reject { reason, error } => (Some(error.clone()), Some(reason.clone())),
        Outcome::Advance => (None, None),
    };
    crate::orders::HistoryEntry {
        at: entry.at.clone(),
        by: entry.actor.clone(),
        status: None,
        // A task's own action name (an order decided from the task list
        // says `advance`, as its page does).
        decision: Some(
            entry
                .action()
                .unwrap_or(entry.outcome.name(&entry.scope))
                .to_owned(),
        ),
        comment: entry.comment.clone(),
        error,
        cause,
        receipt: Some(entry.task_id.clone()),
    }
}
