//! Driving an execution: steps until it waits, each written before any call; timers.

use std::sync::Arc;
use std::time::Duration;

use super::{Engine, Live, PERSIST_ATTEMPTS, lock, now_ms};
use crate::asl::StatesError;
use crate::interpreter::{Effects, Outcome, Step};
use crate::store::{StepWrite, TokenStatus};

impl Engine {
    pub(super) fn live(&self, arn: &str) -> Option<Arc<tokio::sync::Mutex<Live>>> {
        lock(&self.inner.live).get(arn).cloned()
    }

    /// Runs the execution until it has to wait, writing every step; then
    /// arms a timer for its next deadline or forgets it if it ended.
    pub(super) async fn advance(
        &self,
        live: &mut Live,
        mut effects: Effects,
        mut tokens: Vec<(String, TokenStatus)>,
    ) {
        let ctx = live.ctx.clone();
        loop {
            let env = ctx.env(now_ms());
            if live.run.next_deadline().is_some_and(|d| d <= env.now_ms) {
                for t in live.run.on_time(&env, &mut effects) {
                    tokens.push((t, TokenStatus::TimedOut));
                }
            }
            match live.run.step(&env, &mut effects) {
                Step::Progress => {}
                Step::Idle => {
                    if !self.persist(live, &mut effects, &mut tokens) {
                        // Kept in memory; the next step's write carries it.
                        tracing::warn!(execution = %ctx.info.execution_arn, "an idle step is not stored yet");
                    }
                    break;
                }
                Step::Invoke { thread, request } => {
                    if let Some(token) = &request.token {
                        tokens.push((token.clone(), TokenStatus::Waiting));
                    }
                    // The step is written before its call, so that a restart
                    // never makes the call again. If it cannot be written,
                    // the call is not made: the task fails with
                    // States.Runtime (which no Catch takes), and the
                    // execution fails with a cause that says why.
                    if !self.persist(live, &mut effects, &mut tokens) {
                        let env = ctx.env(now_ms());
                        let refused = StatesError::new(
                            "States.Runtime",
                            "the engine could not store the execution's state before calling DynamoDB, so it did not call",
                        );
                        live.run
                            .task_result(&env, &mut effects, thread, Err(refused));
                        continue;
                    }
                    // A task's call must end: a stuck DynamoDB would hold the
                    // execution's lock for ever. It fails like an unanswered
                    // call to AWS would (its Retry, if any, applies).
                    let call = self
                        .inner
                        .tasks
                        .dynamodb(&request.action, &request.parameters);
                    let result = tokio::time::timeout(crate::tasks::CALL_TIMEOUT, call)
                        .await
                        .unwrap_or_else(|_| {
                            Err(crate::tasks::ServiceError {
                                code: "RequestTimeout".into(),
                                message: "DynamoDB did not answer in time".into(),
                            })
                        })
                        .map_err(|e| {
                            StatesError::new(
                                format!("{}.{}", request.error_prefix, e.code),
                                e.message,
                            )
                        });
                    let env = ctx.env(now_ms());
                    live.run.task_result(&env, &mut effects, thread, result);
                }
            }
        }
        let arn = live.ctx.info.execution_arn.clone();
        if live.run.outcome.is_some() {
            lock(&self.inner.live).remove(&arn);
            return;
        }
        if let Some(due) = live.run.next_deadline() {
            let now = now_ms();
            let already = live.armed_for.is_some_and(|a| a <= due && a > now - 1000);
            if !already {
                live.armed_for = Some(due);
                let engine = self.clone();
                tokio::spawn(async move {
                    let wait = (due - now_ms()).max(0) as u64;
                    tokio::time::sleep(Duration::from_millis(wait)).await;
                    engine.on_timer(arn, due).await;
                });
            }
        }
    }

    /// A timer fired. Boxed because a timer's task is spawned from
    /// `advance` and itself calls `advance`: the explicit `Send` future
    /// breaks that cycle for the compiler.
    pub(super) fn on_timer(
        self,
        arn: String,
        due: i64,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        Box::pin(async move {
            if let Some(live) = self.live(&arn) {
                let mut live = live.lock().await;
                if live.armed_for == Some(due) {
                    live.armed_for = None;
                }
                self.advance(&mut live, Effects::default(), Vec::new())
                    .await;
            }
        })
    }

    /// Writes what the run did since the last write, trying a few times.
    /// `false`: not stored; what was to be written stays in `effects` and
    /// `tokens` for the next write.
    pub(super) fn persist(
        &self,
        live: &Live,
        effects: &mut Effects,
        tokens: &mut Vec<(String, TokenStatus)>,
    ) -> bool {
        let mut write = StepWrite {
            status: "RUNNING".into(),
            events: std::mem::take(&mut effects.events),
            tokens: std::mem::take(tokens),
            ..StepWrite::default()
        };
        for t in effects.dropped_tokens.drain(..) {
            write.tokens.push((t, TokenStatus::Dropped));
        }
        match &live.run.outcome {
            None => write.run = serde_json::to_string(&live.run).ok(),
            Some(outcome) => {
                let (status, output, error) = match outcome {
                    Outcome::Succeeded(v) => ("SUCCEEDED", Some(v.to_string()), None),
                    Outcome::Failed(e) => ("FAILED", None, Some(e)),
                    Outcome::TimedOut(e) => ("TIMED_OUT", None, Some(e)),
                    Outcome::Aborted(e) => ("ABORTED", None, Some(e)),
                };
                write.status = status.into();
                write.output = output;
                write.error = error.map(|e| e.error.clone()).filter(|s| !s.is_empty());
                write.cause = error.map(|e| e.cause.clone()).filter(|s| !s.is_empty());
                write.stop_ms = Some(now_ms());
            }
        }
        let arn = &live.ctx.info.execution_arn;
        for attempt in 1..=PERSIST_ATTEMPTS {
            match self.inner.store.write_step(arn, &write) {
                Ok(()) => return true,
                Err(error) => {
                    tracing::error!(execution = %arn, attempt, %error, "could not store a step")
                }
            }
        }
        effects.events = std::mem::take(&mut write.events);
        *tokens = std::mem::take(&mut write.tokens);
        false
    }
}
