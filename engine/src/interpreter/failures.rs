//! How a run fails: a state's error caught or passed up its threads,
//! StopExecution, and calls left in flight by a crash.

use super::*;

impl Run {
    /// StopExecution.
    pub fn abort(&mut self, env: &Env<'_>, effects: &mut Effects, error: StatesError) {
        if self.outcome.is_some() {
            return;
        }
        let last = self.next_event - 1;
        self.emit(
            env,
            effects,
            last,
            "ExecutionAborted",
            Some((
                "executionAbortedEventDetails",
                with_error(json!({}), &error),
            )),
        );
        self.outcome = Some(Outcome::Aborted(error));
        self.drop_all(effects);
    }

    /// A state failed with `error`: retry it, catch it, or fail the thread.
    pub(super) fn fail_state(
        &mut self,
        env: &Env<'_>,
        effects: &mut Effects,
        id: u32,
        error: StatesError,
    ) {
        let Some(thread) = self.threads.get(&id).cloned() else {
            return;
        };
        let error = located(error, &thread);
        // What the state would have assigned had it succeeded is dropped.
        if let Some(t) = self.threads.get_mut(&id) {
            t.assigned = None;
        }
        let outcomes = Self::state_of(env.definition, &thread).and_then(|s| match &s.kind {
            StateKind::Task(t) => Some(&t.outcomes),
            StateKind::Parallel(p) => Some(&p.outcomes),
            StateKind::Map(m) => Some(&m.outcomes),
            _ => None,
        });
        // Branches still running under a failed Parallel or Map end here.
        self.drop_descendants(effects, id);
        if let Some(outcomes) = outcomes {
            let retrier = outcomes
                .retry
                .iter()
                .enumerate()
                .find(|(_, r)| r.errors.iter().any(|p| error_matches(p, &error.error)));
            if let Some((index, retrier)) = retrier {
                let done = thread.retries.get(index).copied().unwrap_or(0);
                if done < retrier.max_attempts {
                    let delay = retrier.delay_ms(done) as i64;
                    if let Some(t) = self.threads.get_mut(&id) {
                        if t.retries.len() <= index {
                            t.retries.resize(index + 1, 0);
                        }
                        t.retries[index] += 1;
                        t.phase = Phase::Sleep {
                            until_ms: env.now_ms + delay,
                            then: AfterSleep::Retry,
                        };
                    }
                    return;
                }
            }
            let catcher = outcomes
                .catch
                .iter()
                .find(|c| c.errors.iter().any(|p| error_matches(p, &error.error)));
            if let Some(catcher) = catcher {
                let error_output = json!({"Error": error.error, "Cause": error.cause});
                // A catcher's Assign reads the error output; the state's own
                // does not apply.
                let staged = self.stage_assign(
                    id,
                    catcher.assign.as_ref(),
                    &error_output,
                    &Self::context(env, &thread, None, None),
                );
                if let Err(e) = staged {
                    return self.thread_failed(env, effects, id, located(e, &thread));
                }
                match apply_result_path(&catcher.result_path, &thread.input, error_output) {
                    Ok(output) => {
                        let type_name = Self::state_of(env.definition, &thread)
                            .map(|s| s.kind.type_name())
                            .unwrap_or("Task");
                        self.emit_exit(env, effects, id, type_name, &output);
                        self.go_to(id, catcher.next.clone(), output);
                        return;
                    }
                    Err(e) => return self.thread_failed(env, effects, id, located(e, &thread)),
                }
            }
        }
        self.thread_failed(env, effects, id, error);
    }

    /// An error nothing in this thread handles: it moves to the parent
    /// Parallel or Map, or fails the execution.
    pub(super) fn thread_failed(
        &mut self,
        env: &Env<'_>,
        effects: &mut Effects,
        id: u32,
        error: StatesError,
    ) {
        let Some(thread) = self.threads.remove(&id) else {
            return;
        };
        if let Phase::Callback { token, .. } = &thread.phase {
            effects.dropped_tokens.push(token.clone());
        }
        let Some(parent_id) = thread.parent else {
            self.emit(
                env,
                effects,
                thread.last_event,
                "ExecutionFailed",
                Some(("executionFailedEventDetails", with_error(json!({}), &error))),
            );
            self.outcome = Some(Outcome::Failed(error));
            self.drop_all(effects);
            return;
        };
        let error = if self.is_map(env, parent_id) {
            self.emit_iteration_end(env, effects, parent_id, thread.slot, "Failed");
            let error = match self.tolerate(parent_id, id, thread.slot, &error) {
                Tolerated::Yes { all_done } => {
                    if all_done && let Err(e) = self.children_done(env, effects, parent_id) {
                        self.fail_state(env, effects, parent_id, e);
                    }
                    return;
                }
                Tolerated::Exceeded => StatesError::new(
                    "States.ExceedToleratedFailureThreshold",
                    "The specified tolerated failure threshold was exceeded",
                ),
                Tolerated::NotAsked => error,
            };
            self.emit_for(env, effects, parent_id, "MapStateFailed", None);
            error
        } else {
            self.emit_for(env, effects, parent_id, "ParallelStateFailed", None);
            error
        };
        self.fail_state(env, effects, parent_id, error);
    }

    /// A Map iteration failed: whether its Map tolerates it (its slot in
    /// the results then holds the error output).
    fn tolerate(&mut self, map_id: u32, child: u32, slot: usize, error: &StatesError) -> Tolerated {
        let Some(Phase::Children {
            pending,
            results,
            tolerance: Some(tolerance),
            ..
        }) = self.threads.get_mut(&map_id).map(|t| &mut t.phase)
        else {
            return Tolerated::NotAsked;
        };
        tolerance.failed += 1;
        if tolerance.exceeded() {
            return Tolerated::Exceeded;
        }
        pending.remove(&child);
        if let Some(r) = results.get_mut(slot) {
            *r = json!({"Error": error.error, "Cause": error.cause});
        }
        Tolerated::Yes {
            all_done: pending.is_empty(),
        }
    }

    pub(super) fn drop_descendants(&mut self, effects: &mut Effects, id: u32) {
        let children: Vec<u32> = self
            .threads
            .iter()
            .filter(|(_, t)| t.parent == Some(id))
            .map(|(cid, _)| *cid)
            .collect();
        for child in children {
            self.drop_descendants(effects, child);
            if let Some(t) = self.threads.remove(&child)
                && let Phase::Callback { token, .. } = t.phase
            {
                effects.dropped_tokens.push(token);
            }
        }
    }

    pub(super) fn drop_all(&mut self, effects: &mut Effects) {
        for (_, t) in std::mem::take(&mut self.threads) {
            if let Phase::Callback { token, .. } = t.phase {
                effects.dropped_tokens.push(token);
            }
        }
    }

    /// After a restart: calls that were in flight have an unknown outcome.
    /// A call that is safe to repeat (a read, or a put or delete of a
    /// whole item without a condition: made twice, it leaves the same
    /// item) is made again, as a retry would: AWS's own integrations
    /// ride out their service's restarts, and a callback task's row put
    /// this way gets a fresh token (the old one is dropped). Any other
    /// call is not repeated (a task runs at most once unless a Retry says
    /// otherwise); it fails so that Retry and Catch decide.
    pub fn recover_in_flight(&mut self, env: &Env<'_>, effects: &mut Effects) {
        for id in self.in_flight() {
            let repeat = match self.threads.get(&id).map(|t| &t.phase) {
                Some(Phase::Invoking { request, .. }) if safe_to_repeat(request) => {
                    Some(request.token.clone())
                }
                _ => None,
            };
            match repeat {
                Some(token) => {
                    effects.dropped_tokens.extend(token);
                    if let Some(t) = self.threads.get_mut(&id) {
                        t.phase = Phase::Run;
                    }
                }
                None => {
                    let error = StatesError::new(
                        "States.TaskFailed",
                        "The engine stopped while this task's call was in flight; it may or may not have taken effect.",
                    );
                    self.task_result(env, effects, id, Err(error));
                }
            }
        }
    }
}

/// An event's details with the error's `error` and `cause`, each left out
/// when empty, as AWS writes them.
pub(super) fn with_error(mut details: Value, error: &StatesError) -> Value {
    if let Value::Object(fields) = &mut details {
        if !error.error.is_empty() {
            fields.insert("error".into(), json!(error.error));
        }
        if !error.cause.is_empty() {
            fields.insert("cause".into(), json!(error.cause));
        }
    }
    details
}

/// What AWS puts before the cause of a runtime error: the state it
/// happened in and the event that entered it.
const LOCATED: &str = "An error occurred while executing the state '";

/// A `States.Runtime` error as AWS reports it: its cause says where it
/// happened ("An error occurred while executing the state 'S' (entered at
/// the event id #2). …"). An error passed up from a branch already says
/// so and is left as it is.
fn located(error: StatesError, thread: &Thread) -> StatesError {
    if error.error != "States.Runtime" || error.cause.starts_with(LOCATED) {
        return error;
    }
    let cause = format!(
        "{LOCATED}{}' (entered at the event id #{}). {}",
        thread.state, thread.entered_event, error.cause
    );
    StatesError::new(error.error, cause)
}

/// Whether making `request` twice leaves DynamoDB as making it once.
pub(super) fn safe_to_repeat(request: &TaskRequest) -> bool {
    let conditional = ["ConditionExpression", "Expected", "ConditionalOperator"]
        .iter()
        .any(|k| request.parameters.get(*k).is_some());
    match request.action.as_str() {
        "GetItem" | "Query" | "Scan" | "BatchGetItem" | "TransactGetItems" => true,
        "PutItem" | "DeleteItem" => !conditional,
        _ => false,
    }
}

/// What a Map makes of one failed iteration.
enum Tolerated {
    /// It has no tolerance: the failure is the Map's.
    NotAsked,
    /// Within its tolerance; `all_done` when it was the last one running.
    Yes {
        all_done: bool,
    },
    Exceeded,
}
