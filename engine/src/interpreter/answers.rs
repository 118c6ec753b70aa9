//! What reaches a run from outside between steps: a task call's result,
//! a callback or heartbeat for a token, and the clock passing a deadline.

use super::*;

impl Run {
    /// The engine reports how a task call went.
    pub fn task_result(
        &mut self,
        env: &Env<'_>,
        effects: &mut Effects,
        id: u32,
        result: Result<Value, StatesError>,
    ) {
        let Some(thread) = self.threads.get(&id).cloned() else {
            return;
        };
        let Phase::Invoking {
            request,
            timeout_secs,
            heartbeat_secs,
        } = &thread.phase
        else {
            return;
        };
        let Some(state) = Self::state_of(env.definition, &thread) else {
            return;
        };
        let StateKind::Task(task) = &state.kind else {
            return;
        };
        let (resource_type, resource) = task.resource.event_names();
        match (result, &request.token) {
            (Ok(output), Some(token)) => {
                self.emit_for(
                    env,
                    effects,
                    id,
                    "TaskSubmitted",
                    Some((
                        "taskSubmittedEventDetails",
                        json!({"resourceType": resource_type, "resource": resource,
                               "output": output.to_string(), "outputDetails": {"truncated": false}}),
                    )),
                );
                let token = token.clone();
                if let Some(t) = self.threads.get_mut(&id) {
                    t.phase = Phase::Callback {
                        token,
                        timeout_at_ms: timeout_secs.map(|s| env.now_ms + s as i64 * 1000),
                        heartbeat_secs: *heartbeat_secs,
                        heartbeat_at_ms: heartbeat_secs.map(|s| env.now_ms + s as i64 * 1000),
                    };
                }
            }
            (Ok(output), None) => self.task_succeeded(env, effects, id, output),
            (Err(error), _) => {
                self.emit_for(
                    env,
                    effects,
                    id,
                    "TaskFailed",
                    Some((
                        "taskFailedEventDetails",
                        with_error(
                            json!({"resourceType": resource_type, "resource": resource}),
                            &error,
                        ),
                    )),
                );
                self.fail_state(env, effects, id, error);
            }
        }
    }

    pub(super) fn task_succeeded(
        &mut self,
        env: &Env<'_>,
        effects: &mut Effects,
        id: u32,
        output: Value,
    ) {
        let Some(thread) = self.threads.get(&id).cloned() else {
            return;
        };
        let Some(state) = Self::state_of(env.definition, &thread) else {
            return;
        };
        let StateKind::Task(task) = &state.kind else {
            return;
        };
        let (resource_type, resource) = task.resource.event_names();
        self.emit_for(
            env,
            effects,
            id,
            "TaskSucceeded",
            Some((
                "taskSucceededEventDetails",
                json!({"resourceType": resource_type, "resource": resource,
                       "output": output.to_string(), "outputDetails": {"truncated": false}}),
            )),
        );
        if let Some(t) = self.threads.get_mut(&id) {
            t.phase = Phase::Run;
        }
        if let Err(error) =
            self.complete_with_result(env, effects, id, state, &task.outcomes, output)
        {
            self.fail_state(env, effects, id, error);
        }
    }

    /// SendTaskSuccess (`Ok`) or SendTaskFailure (`Err`) for `token`.
    pub fn callback(
        &mut self,
        env: &Env<'_>,
        effects: &mut Effects,
        token: &str,
        result: Result<Value, StatesError>,
    ) -> Result<(), CallbackRefused> {
        let id = self
            .threads
            .iter()
            .find(|(_, t)| matches!(&t.phase, Phase::Callback { token: t, .. } if t == token))
            .map(|(id, _)| *id)
            .ok_or(CallbackRefused::TaskDoesNotExist)?;
        match result {
            Ok(output) => self.task_succeeded(env, effects, id, output),
            Err(error) => {
                if let Some(Phase::Invoking { .. } | Phase::Callback { .. }) =
                    self.threads.get(&id).map(|t| &t.phase)
                {
                    let thread = self.threads.get(&id).cloned();
                    if let Some(StateKind::Task(task)) = thread
                        .as_ref()
                        .and_then(|t| Self::state_of(env.definition, t))
                        .map(|s| &s.kind)
                    {
                        let (resource_type, resource) = task.resource.event_names();
                        self.emit_for(
                            env,
                            effects,
                            id,
                            "TaskFailed",
                            Some((
                                "taskFailedEventDetails",
                                with_error(
                                    json!({"resourceType": resource_type, "resource": resource}),
                                    &error,
                                ),
                            )),
                        );
                    }
                }
                self.fail_state(env, effects, id, error);
            }
        }
        Ok(())
    }

    /// SendTaskHeartbeat: pushes the heartbeat deadline out.
    pub fn heartbeat(&mut self, env: &Env<'_>, token: &str) -> Result<(), CallbackRefused> {
        for thread in self.threads.values_mut() {
            if let Phase::Callback {
                token: t,
                heartbeat_secs,
                heartbeat_at_ms,
                ..
            } = &mut thread.phase
                && t == token
            {
                if let Some(secs) = heartbeat_secs {
                    *heartbeat_at_ms = Some(env.now_ms + *secs as i64 * 1000);
                }
                return Ok(());
            }
        }
        Err(CallbackRefused::TaskDoesNotExist)
    }

    /// Handles everything due at `env.now_ms`: Waits and back-offs that are
    /// over, task timeouts and missed heartbeats, the execution deadline.
    /// Returns the tokens whose tasks timed out.
    pub fn on_time(&mut self, env: &Env<'_>, effects: &mut Effects) -> Vec<String> {
        let mut timed_out = Vec::new();
        if self.outcome.is_some() {
            return timed_out;
        }
        if self.deadline_ms.is_some_and(|d| d <= env.now_ms) {
            let error = StatesError::timeout("The execution timed out (TimeoutSeconds).");
            let last = self.next_event - 1;
            self.emit(
                env,
                effects,
                last,
                "ExecutionTimedOut",
                Some((
                    "executionTimedOutEventDetails",
                    with_error(json!({}), &error),
                )),
            );
            self.outcome = Some(Outcome::TimedOut(error));
            self.drop_all(effects);
            return timed_out;
        }
        let due: Vec<u32> = self
            .threads
            .iter()
            .filter(|(_, t)| match &t.phase {
                Phase::Sleep { until_ms, .. } => *until_ms <= env.now_ms,
                Phase::Callback {
                    timeout_at_ms,
                    heartbeat_at_ms,
                    ..
                } => {
                    timeout_at_ms.is_some_and(|d| d <= env.now_ms)
                        || heartbeat_at_ms.is_some_and(|d| d <= env.now_ms)
                }
                _ => false,
            })
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            let Some(thread) = self.threads.get(&id).cloned() else {
                continue;
            };
            match thread.phase.clone() {
                Phase::Sleep {
                    then: AfterSleep::ExitWait(output),
                    ..
                } => {
                    if let Err(error) = self.exit_state(env, effects, id, output) {
                        self.fail_state(env, effects, id, error);
                    }
                }
                Phase::Sleep {
                    then: AfterSleep::Retry,
                    ..
                } => {
                    if let Some(t) = self.threads.get_mut(&id) {
                        t.phase = Phase::Run;
                    }
                }
                Phase::Callback { token, .. } => {
                    // AWS names the error and gives no cause, for a missed
                    // heartbeat as for TimeoutSeconds (recorded: TaskTimedOut
                    // and ExecutionFailed carry only `States.Timeout`, and
                    // a Catch sees `"Cause": ""`).
                    let error = StatesError::timeout("");
                    if let Some(StateKind::Task(task)) =
                        Self::state_of(env.definition, &thread).map(|s| &s.kind)
                    {
                        let (resource_type, resource) = task.resource.event_names();
                        self.emit_for(
                            env,
                            effects,
                            id,
                            "TaskTimedOut",
                            Some((
                                "taskTimedOutEventDetails",
                                with_error(
                                    json!({"resourceType": resource_type, "resource": resource}),
                                    &error,
                                ),
                            )),
                        );
                    }
                    timed_out.push(token);
                    self.fail_state(env, effects, id, error);
                }
                _ => {}
            }
        }
        timed_out
    }
}
