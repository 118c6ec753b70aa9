//! The reconciler: drives every unfinished ledger row to a final state that
//! agrees with the workflow.
//!
//! It runs at start and then every few seconds on every replica. Each pass
//! reads a bounded page of overdue rows from the sparse open index (never a
//! Scan), takes each row's lease with a conditional write (so replicas
//! never work on one row at once, and no leader is needed), and moves it on:
//!
//! - CLAIMED: whether the workflow took the decision is asked of the
//!   workflow itself. Its history says whether the task succeeded or failed
//!   (SENT), timed out or ended with its execution (EXPIRED), or still
//!   waits, in which case nothing resumed it and the stored outcome is sent
//!   now.
//! - SENT / EXPIRED / CLOSED: the waiting row is closed and the change
//!   counter bumped.
//! - An approval towards a quorum whose request stopped half-way: counted,
//!   and the task resumed if the count reaches the quorum
//!   ([`crate::tasks::quorum`]).

use aws_sdk_sfn::types::{HistoryEvent, HistoryEventType};

use crate::DomainError;
use crate::decisions::Sent;
use crate::items::unavailable;
use crate::ledger::{Entry, Overdue, State};
use crate::outcome::Outcome;
use crate::services::Services;
use crate::tasks::quorum::{Settled, Unfinished};

/// What one reconciler pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    /// Overdue rows found.
    pub found: usize,
    /// Rows this pass took the lease of.
    pub leased: usize,
    /// Rows that reached their final state.
    pub finished: usize,
}

/// What a task's events in its execution's history say.
#[derive(Debug, PartialEq, Eq)]
enum Fate {
    /// The task succeeded or failed; `ours` when with this row's outcome.
    Took { ours: bool },
    /// It timed out, or its execution ended without it.
    Ended,
    /// It still waits: nothing resumed it.
    Waiting,
    /// The history does not name the task (yet).
    Unknown,
}

/// Most rows one pass works on.
pub const PASS_LIMIT: i32 = 25;

/// Drives unfinished decisions to agree with their workflows.
/// A handle on [`Services`]; get one with [`Services::reconciler`].
#[derive(Debug, Clone, Copy)]
pub struct Reconciler<'a> {
    s: &'a Services,
}

impl Services {
    /// The reconciler of unfinished decisions.
    pub fn reconciler(&self) -> Reconciler<'_> {
        Reconciler { s: self }
    }
}

impl Reconciler<'_> {
    /// One pass over overdue unfinished decisions.
    pub async fn pass(self) -> Result<Pass, DomainError> {
        // Waits and requests an earlier version's executions still write the
        // old way.
        if let Err(e) = self.s.migration().order_waits().await {
            tracing::warn!(error = %e, "old order waits are not carried over yet; retrying later");
        }
        if let Err(e) = self.s.migration().signature_requests().await {
            tracing::warn!(error = %e, "old signature requests are not carried over yet; retrying later");
        }
        let rows = self.s.ledger().overdue(PASS_LIMIT).await?;
        let mut pass = Pass {
            found: rows.len(),
            ..Pass::default()
        };
        for row in rows {
            let mut entry = match row {
                Overdue::Decision(entry) => *entry,
                Overdue::Approval(item) => {
                    let Some(approval) = Unfinished::from_item(&item) else {
                        continue;
                    };
                    match self.s.approvals().settle(&approval).await? {
                        Settled::Busy => {}
                        Settled::Finished => {
                            pass.leased += 1;
                            pass.finished += 1;
                        }
                        Settled::Later => pass.leased += 1,
                    }
                    continue;
                }
            };
            if !self.s.ledger().lease(&mut entry).await? {
                continue;
            }
            pass.leased += 1;
            match self.drive(&mut entry).await {
                Ok(()) if matches!(entry.state, State::Recorded | State::Failed) => {
                    pass.finished += 1
                }
                Ok(()) => {}
                Err(e) => {
                    tracing::warn!(task_id = entry.task_id, state = entry.state.as_str(), error = %e, "a decision is not settled yet; retrying later")
                }
            }
        }
        if pass.finished > 0 {
            tracing::info!(finished = pass.finished, "reconciled unfinished decisions");
        }
        Ok(pass)
    }

    /// Passes every `every` until `stop` resolves.
    pub async fn until(
        self,
        every: std::time::Duration,
        stop: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = &mut stop => return,
                _ = tick.tick() => {
                    if let Err(e) = self.pass().await {
                        tracing::warn!(error = %e, "a reconciler pass failed");
                    }
                }
            }
        }
    }

    async fn drive(self, entry: &mut Entry) -> Result<(), DomainError> {
        if entry.state == State::Claimed {
            self.settle_claim(entry).await?;
        }
        if matches!(entry.state, State::Sent | State::Expired | State::Closed) {
            self.s.decisions().finish(entry).await?;
        }
        Ok(())
    }

    /// Settles a CLAIMED row whose send had no clear answer (or never
    /// happened): from the workflow's history, resending the stored outcome
    /// only when the task provably still waits.
    pub(crate) async fn settle_claim(self, entry: &mut Entry) -> Result<(), DomainError> {
        match self.fate(entry).await? {
            Fate::Took { ours: true } => {
                self.s.ledger().transition(entry, State::Sent).await?;
            }
            Fate::Took { ours: false } => {
                // Resumed by someone outside Countersign (the console, say):
                // this decision did not take effect.
                tracing::warn!(
                    task_id = entry.task_id,
                    "a task was resumed outside Countersign; its claim expires"
                );
                self.s.ledger().transition(entry, State::Expired).await?;
            }
            Fate::Ended => {
                self.s.ledger().transition(entry, State::Expired).await?;
            }
            Fate::Waiting => match self.s.decisions().send(entry).await {
                Sent::Applied => {
                    self.s.ledger().transition(entry, State::Sent).await?;
                }
                Sent::Refused => {
                    self.s.ledger().transition(entry, State::Failed).await?;
                }
                // Left CLAIMED; the next lease asks again.
                Sent::Unclear => {}
            },
            Fate::Unknown => {}
        }
        Ok(())
    }

    /// What the execution's history says about this row's task.
    async fn fate(self, entry: &Entry) -> Result<Fate, DomainError> {
        let mut events: Vec<HistoryEvent> = Vec::new();
        let mut next = None;
        loop {
            let page = self
                .s
                .sfn
                .get_execution_history()
                .execution_arn(&entry.execution)
                .max_results(1000)
                .include_execution_data(true)
                .set_next_token(next)
                .send()
                .await;
            let page = match page {
                Ok(page) => page,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_execution_does_not_exist()) =>
                {
                    return Ok(Fate::Ended);
                }
                Err(e) => {
                    return Err(unavailable("reading an execution's history")(format!(
                        "{e:?}"
                    )));
                }
            };
            events.extend(page.events().iter().cloned());
            next = page.next_token().map(str::to_owned);
            if next.is_none() {
                break;
            }
        }
        Ok(fate_in(&events, entry))
    }
}

/// Finds the task in the history by its id (the waiting row the task
/// writes carries it in its parameters), then follows the chain of events
/// after it (`previousEventId`) to the task's end, if it has one.
fn fate_in(events: &[HistoryEvent], entry: &Entry) -> Fate {
    let mut sorted: Vec<&HistoryEvent> = events.iter().collect();
    sorted.sort_by_key(|e| e.id());
    let scheduled = sorted.iter().position(|e| {
        *e.r#type() == HistoryEventType::TaskScheduled
            && e.task_scheduled_event_details()
                .is_some_and(|d| d.parameters().contains(&entry.task_id))
    });
    let Some(first) = scheduled else {
        return if ended(&sorted) {
            Fate::Ended
        } else {
            Fate::Unknown
        };
    };
    let mut chain = vec![sorted[first].id()];
    for event in &sorted[first + 1..] {
        if !chain.contains(&event.previous_event_id()) {
            continue;
        }
        chain.push(event.id());
        match event.r#type() {
            HistoryEventType::TaskSucceeded => {
                let output = event
                    .task_succeeded_event_details()
                    .and_then(|d| d.output())
                    .unwrap_or_default();
                let ours = entry.outcome == Outcome::Advance && names_task(output, &entry.task_id);
                return Fate::Took { ours };
            }
            HistoryEventType::TaskFailed => {
                let error = event
                    .task_failed_event_details()
                    .and_then(|d| d.error())
                    .unwrap_or_default();
                let ours = matches!(&entry.outcome, Outcome::Reject { error: e, .. } if e == error);
                return Fate::Took { ours };
            }
            HistoryEventType::TaskTimedOut
            | HistoryEventType::TaskStartFailed
            | HistoryEventType::TaskSubmitFailed => return Fate::Ended,
            _ => {}
        }
    }
    if ended(&sorted) {
        Fate::Ended
    } else {
        Fate::Waiting
    }
}

/// Whether the success output names this task. Outputs carry the task id;
/// one without any (sent by something else) does not count as ours.
fn names_task(output: &str, task_id: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(output)
        .ok()
        .and_then(|v| {
            v.get("taskId")
                .and_then(|t| t.as_str())
                .map(|t| t == task_id)
        })
        .unwrap_or(false)
}

fn ended(events: &[&HistoryEvent]) -> bool {
    events.iter().any(|e| {
        matches!(
            e.r#type(),
            HistoryEventType::ExecutionSucceeded
                | HistoryEventType::ExecutionFailed
                | HistoryEventType::ExecutionAborted
                | HistoryEventType::ExecutionTimedOut
        )
    })
}
