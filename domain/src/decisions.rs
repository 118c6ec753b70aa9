//! Decisions that happen exactly once.
//!
//! Two staff, a double click, a retry storm or a replica racing another may
//! all ask to decide the same step. The ledger ([`crate::ledger`]) makes
//! exactly one of them count:
//!
//! 1. **Claim**: a conditional put of the ledger row, keyed by the step's
//!    task id. One put wins; every other caller, the same person included,
//!    is told "already decided by X at T". A retry never resumes a claim:
//!    finishing what a crash interrupted is the reconciler's job.
//! 2. **Send** the *stored* outcome with SendTaskSuccess / SendTaskFailure.
//!    An answer that leaves it unclear whether the workflow took it (a
//!    timeout, a 5xx, throttling, "task gone" after the SDK's own retry) is
//!    never taken at its word: the workflow's own history says whether the
//!    task succeeded, failed or timed out ([`crate::reconcile`]).
//! 3. **Close** the waiting row only while it is still this task's (the
//!    workflow may already have written its next wait under the same key;
//!    the order article's unconditional delete erased it).
//! 4. **Record**: the ledger row itself is the decision's history line (an
//!    order's or document's history is its workflow's status lines plus
//!    the ledger rows the workflow took, so it holds each decision exactly
//!    once); pages are told through the change counter.
//!
//! Steps 3 and 4 failing does not undo the decision; the row stays
//! unfinished and the reconciler retries them until they are done.

use crate::DomainError;
use crate::attachments::{Owner, with_files};
use crate::ledger::{Claim, Entry, State};
use crate::outcome::{Decided, Outcome, Pending, Scope, check_input};
use crate::services::Services;
use crate::services::lease_end;

/// How a SendTask* call ended, as far as the caller can tell.
pub(crate) enum Sent {
    /// Step Functions took it.
    Applied,
    /// Refused outright (a malformed output, say): nothing happened.
    Refused,
    /// No clear answer: a timeout, a 5xx, throttling, or "task gone" (which
    /// is also what the SDK's retry of a call that did get through hears).
    /// Only the workflow's history can tell.
    Unclear,
}

/// The exactly-once path of a decision on a waiting step: claim, send, close.
/// A handle on [`Services`]; get one with [`Services::decisions`].
#[derive(Debug, Clone, Copy)]
pub struct Decisions<'a> {
    s: &'a Services,
}

impl Services {
    /// The decision path every kind's answer takes.
    pub fn decisions(&self) -> Decisions<'_> {
        Decisions { s: self }
    }
}

impl Decisions<'_> {
    /// Decides the step `task_id` of order `order_id`. Exactly one caller
    /// per step gets `Ok`; the others get `AlreadyDecided` naming the
    /// winner, or `Expired`.
    pub async fn decide(
        self,
        order_id: &str,
        task_id: &str,
        outcome: Outcome,
        actor: &str,
        comment: Option<&str>,
    ) -> Result<Decided, DomainError> {
        check_input(&outcome, actor, comment)?;
        // The step must still be the one waiting; otherwise say who decided it.
        match self.s.orders().pending(order_id).await? {
            Some(p) if p.task_id == task_id => {
                self.decide_pending(p, outcome, actor, comment).await
            }
            _ => Err(self.verdict(task_id).await),
        }
    }

    /// Decides whatever step of order `order_id` was waiting when the
    /// request `arrived` (a [`crate::clock::stamp`] taken as it came in),
    /// for callers that name no task (the order article's REST update).
    ///
    /// A decision that was still in flight when the request arrived (claimed
    /// but not yet finished, or claimed after) was on that request's step:
    /// the caller is told who decided it, and the order's *next* step is
    /// not touched (50 identical calls at once make one decision). A
    /// request that arrives after the last decision finished decides the
    /// step waiting then, waiting (up to `settle`) for the workflow to write
    /// it, so calling twice in a row advances twice.
    pub async fn decide_waiting(
        self,
        order_id: &str,
        outcome: Outcome,
        actor: &str,
        comment: Option<&str>,
        arrived: &str,
        settle: std::time::Duration,
    ) -> Result<Decided, DomainError> {
        check_input(&outcome, actor, comment)?;
        let give_up = tokio::time::Instant::now() + settle;
        loop {
            // The waiting row first, the ledger after: a step is claimed
            // before the workflow can write its next wait, so if the row
            // read is a later step, the claim of the one before shows
            // (read by key, consistently: see `latest_step_decision`).
            let pending = self.s.orders().pending(order_id).await?;
            let latest = self.latest_step_decision(order_id).await?;
            // A decision still in flight when the request arrived (not yet
            // finished then, or claimed after) was on the step this request
            // meant.
            if let Some(l) = &latest
                && l.finished_at.as_deref().is_none_or(|f| f >= arrived)
            {
                return Err(verdict_of(l));
            }
            if let Some(p) = pending {
                if let Some(l) = latest.as_ref().filter(|l| l.task_id == p.task_id) {
                    return Err(verdict_of(l));
                }
                return self.decide_pending(p, outcome, actor, comment).await;
            }
            let status = self.s.orders().status(order_id).await?;
            // Decided, but the workflow has not taken it in yet: the step
            // waiting on arrival was that one.
            if let Some(l) = latest
                .as_ref()
                .filter(|l| l.step == status.as_str() && l.state != State::Expired)
            {
                return Err(verdict_of(l));
            }
            if !status.waits() || tokio::time::Instant::now() >= give_up {
                return Err(DomainError::NotWaiting {
                    status: status.to_string(),
                });
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// The latest decision on any of an order's steps that took or may
    /// take effect. Each step's ledger row is read by its task id with a
    /// consistent read, because the subject index (like every DynamoDB
    /// index) may not yet show a claim written a moment ago, and the caller
    /// compares this with a waiting row it has just read: a stale answer
    /// would let a call that arrived before a step was decided decide the
    /// next one. The index still adds claims filed under other task ids
    /// (those made before orders were tasks).
    pub(crate) async fn latest_step_decision(
        self,
        order_id: &str,
    ) -> Result<Option<Entry>, DomainError> {
        let mut latest = self.s.ledger().latest_decision(order_id).await?;
        for status in crate::orders::OrderStatus::ALL
            .into_iter()
            .filter(|s| s.waits())
        {
            let Some(entry) = self
                .s
                .ledger()
                .entry(&crate::orders::wait_id(order_id, status))
                .await?
            else {
                continue;
            };
            if entry.state != State::Failed && latest.as_ref().is_none_or(|l| entry.at > l.at) {
                latest = Some(entry);
            }
        }
        Ok(latest)
    }

    /// The exactly-once core shared by orders and signatures.
    pub(crate) async fn decide_pending(
        self,
        pending: Pending,
        outcome: Outcome,
        actor: &str,
        comment: Option<&str>,
    ) -> Result<Decided, DomainError> {
        self.decide_pending_with(pending, outcome, actor, comment, None)
            .await
    }

    /// [`Self::decide_pending`] with more for the workflow's output: a
    /// task's action, form values and approvals (kept on the ledger row,
    /// so whoever sends it sends the same).
    pub(crate) async fn decide_pending_with(
        self,
        pending: Pending,
        outcome: Outcome,
        actor: &str,
        comment: Option<&str>,
        payload: Option<serde_json::Value>,
    ) -> Result<Decided, DomainError> {
        let execution = match &pending.scope {
            Scope::Order { execution_arn, .. } | Scope::Task { execution_arn, .. } => {
                execution_arn.clone()
            }
            Scope::Signature { document_id, .. } => self.s.document_execution_arn(document_id),
        };
        let mut entry = Entry::new(
            &pending,
            execution,
            outcome,
            actor,
            comment,
            self.s.clock.stamp(),
            lease_end(self.s),
        );
        // The files as the decider saw them go with the decision: to the
        // workflow, and into its receipt. A task's caller adds its own (it
        // knows the task's kind).
        let owner = match &pending.scope {
            Scope::Order { order_id, .. } => Some(Owner::order(order_id)),
            Scope::Signature { document_id, .. } => Some(Owner::document(document_id)),
            Scope::Task { .. } => None,
        };
        entry.payload = match owner {
            Some(owner) => with_files(payload, self.s.attachments().refs(&owner).await?),
            None => payload,
        };
        if let Claim::Taken(other) = self.s.ledger().claim(&entry).await? {
            return Err(verdict_of(&other));
        }
        match self.send(&entry).await {
            Sent::Applied => {
                // The decision took effect whatever happens next: a failed
                // write here leaves the row CLAIMED, and the reconciler
                // finds the success in the workflow's history.
                if let Err(e) = self.s.ledger().transition(&mut entry, State::Sent).await {
                    tracing::warn!(task_id = entry.task_id, error = %e, "a sent decision is left for the reconciler");
                    return Ok(decided(&entry));
                }
            }
            Sent::Refused => {
                self.s
                    .ledger()
                    .transition(&mut entry, State::Failed)
                    .await?;
                return Err(DomainError::Unavailable);
            }
            Sent::Unclear => self.s.reconciler().settle_claim(&mut entry).await?,
        }
        match entry.state {
            State::Sent | State::Expired => {
                if let Err(e) = self.finish(&mut entry).await {
                    tracing::warn!(task_id = entry.task_id, error = %e, "closing or recording a decision is left for the reconciler");
                }
                if entry.applied {
                    Ok(decided(&entry))
                } else {
                    Err(DomainError::Expired)
                }
            }
            State::Failed => Err(DomainError::Unavailable),
            // Still unclear: the reconciler settles it from the workflow.
            _ => Err(DomainError::Unavailable),
        }
    }

    /// Step 2: sends the stored outcome.
    pub(crate) async fn send(self, entry: &Entry) -> Sent {
        let Some(token) = &entry.token else {
            return Sent::Unclear;
        };
        match &entry.outcome {
            Outcome::Advance => classify(
                self.s
                    .sfn
                    .send_task_success()
                    .task_token(token)
                    .output(entry.success_output())
                    .send()
                    .await,
            ),
            Outcome::Reject { reason, error } => classify(
                self.s
                    .sfn
                    .send_task_failure()
                    .task_token(token)
                    .error(error)
                    .cause(reason)
                    .send()
                    .await,
            ),
        }
    }

    /// Steps 3 and 4 for a row whose fate is known (SENT or EXPIRED), or
    /// whose waiting row is already closed: close it, tell open pages. Stops at the first failure or
    /// when someone else moved the row; whoever holds it next goes on from
    /// there.
    pub(crate) async fn finish(self, entry: &mut Entry) -> Result<(), DomainError> {
        if matches!(entry.state, State::Sent | State::Expired) {
            self.close_waiting(entry).await?;
            if !self.s.ledger().transition(entry, State::Closed).await? {
                return Ok(());
            }
        }
        if entry.state == State::Closed {
            self.s.live().try_announce().await?;
            self.s.ledger().transition(entry, State::Recorded).await?;
        }
        Ok(())
    }

    /// Step 3: closes the waiting row only while it is this task's. Every
    /// waiting row is a task row, which leaves the open indexes with how
    /// it ended (kept for the pages that show it).
    async fn close_waiting(self, entry: &Entry) -> Result<(), DomainError> {
        let row = match &entry.scope {
            // An order's wait is keyed by the wait (order and status), so
            // closing it never touches the order's next wait.
            Scope::Order { .. } | Scope::Task { .. } => entry.task_id.clone(),
            // A signature request by document and signer, so a decision
            // taken under the id an earlier version gave it closes the
            // same row.
            Scope::Signature {
                document_id,
                signer,
            } => crate::signatures::request_id(document_id, signer),
        };
        let end = crate::tasks::Ending {
            outcome: &entry.outcome,
            applied: entry.applied,
            at: &entry.at,
            by: &entry.actor,
            action: entry.action(),
        };
        let result = self.s.tasks().close(&row, &end).await;
        match result {
            // The row moved on (the next wait's row, or closed already):
            // exactly what must survive.
            Ok(()) | Err((true, _)) => Ok(()),
            Err((false, e)) => Err(crate::items::unavailable("closing a waiting row")(e)),
        }
    }

    /// Why a step that no longer waits cannot be decided.
    pub(crate) async fn verdict(self, task_id: &str) -> DomainError {
        match self.s.ledger().entry(task_id).await {
            Ok(Some(e)) => verdict_of(&e),
            Ok(None) => DomainError::NotFound,
            Err(e) => e,
        }
    }
}

/// What a caller is told about a task someone already decided.
fn verdict_of(entry: &Entry) -> DomainError {
    match entry.state {
        State::Expired => DomainError::Expired,
        // Closed without the workflow taking it: it expired.
        State::Closed | State::Recorded if !entry.applied => DomainError::Expired,
        State::Failed => DomainError::NotFound,
        _ => DomainError::AlreadyDecided {
            by: entry.actor.clone(),
            at: entry.at.clone(),
        },
    }
}

fn decided(entry: &Entry) -> Decided {
    Decided {
        subject: entry.scope.subject().to_owned(),
        task_id: entry.task_id.clone(),
        step: entry.step.clone(),
        outcome: entry.outcome.name(&entry.scope),
        by: entry.actor.clone(),
        at: entry.at.clone(),
    }
}

/// Step Functions' answer to SendTask*. Only an outright refusal of the
/// request itself is certain; everything else is settled from history.
fn classify<T, E, R>(result: Result<T, aws_sdk_sfn::error::SdkError<E, R>>) -> Sent
where
    E: aws_sdk_sfn::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    use aws_sdk_sfn::error::ProvideErrorMetadata;
    match result {
        Ok(_) => Sent::Applied,
        Err(e) => match e.code() {
            Some("InvalidOutput" | "ValidationException") => {
                tracing::error!(error = ?e, "Step Functions refused a decision");
                Sent::Refused
            }
            code => {
                tracing::info!(
                    code,
                    "a decision's answer was unclear; asking the workflow's history"
                );
                Sent::Unclear
            }
        },
    }
}
