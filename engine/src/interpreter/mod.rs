//! Advances one execution. Everything an execution is between two steps
//! lives in [`Run`], which is plain data: the engine stores it after every
//! step and reloads it after a restart, so a waiting execution survives
//! `kill -9`.
//!
//! The interpreter performs no I/O. When a Task state needs DynamoDB it
//! returns [`Step::Invoke`]; the engine stores the run (so the call is never
//! repeated), performs the call, and reports back with [`Run::task_result`].
//! Parallel branches and Map iterations are threads of the same run.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::asl::definition::{
    Definition, Machine, Outcomes, PathSetting, State, StateKind, Transition, WaitFor,
};
use crate::asl::{Bindings, StatesError, error_matches};

mod answers;
mod failures;
mod host;
mod paths;
mod scope;
mod states;
mod threads;

use failures::with_error;
pub use host::{CallbackRefused, Effects, Env, Event, ExecutionInfo, Outcome, Step, TaskRequest};
pub use paths::iso;
use paths::{apply_input_path, apply_output_path, apply_result_path, parse_iso, seconds, shown};
use states::{Tolerance, fail_error};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum AfterSleep {
    /// A Wait state's time is up: leave with this output.
    ExitWait(Value),
    /// A retrier's back-off is over: run the state again.
    Retry,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Phase {
    /// About to enter the current state.
    Enter,
    /// Entered; (re)run its work.
    Run,
    Sleep {
        until_ms: i64,
        then: AfterSleep,
    },
    /// The engine is calling DynamoDB for this thread.
    Invoking {
        request: TaskRequest,
        timeout_secs: Option<u64>,
        heartbeat_secs: Option<u64>,
    },
    /// Waiting for SendTaskSuccess / SendTaskFailure with `token`.
    Callback {
        token: String,
        timeout_at_ms: Option<i64>,
        heartbeat_secs: Option<u64>,
        heartbeat_at_ms: Option<i64>,
    },
    /// Waiting for Parallel branches or Map iterations.
    Children {
        effective_input: Value,
        pending: BTreeSet<u32>,
        results: Vec<Value>,
        /// A Map that tolerates failed iterations: how many, and how many
        /// have failed so far.
        #[serde(default)]
        tolerance: Option<Tolerance>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Thread {
    /// How to find this thread's states from the top: (Parallel or Map
    /// state name, branch index) pairs.
    scope: Vec<(String, usize)>,
    parent: Option<u32>,
    /// This thread's index among its parent's branches or items.
    slot: usize,
    state: String,
    /// The current state's raw input.
    input: Value,
    entered_ms: i64,
    /// The id of the event that entered the current state (runtime errors
    /// name it). Runs stored before it was kept read it as 0.
    #[serde(default)]
    entered_event: u64,
    /// The workflow variables this thread reads (`$name`): its branch's
    /// own and, copied when it started, those of the states around it.
    #[serde(default)]
    variables: serde_json::Map<String, Value>,
    /// What the current state's `Assign` set, applied as it leaves (every
    /// field of a state reads the variables as they were on entry).
    #[serde(default)]
    assigned: Option<serde_json::Map<String, Value>>,
    phase: Phase,
    retries: Vec<u32>,
    last_event: u64,
}

/// The whole interpreter state of one execution.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    threads: BTreeMap<u32, Thread>,
    next_thread: u32,
    next_event: u64,
    pub outcome: Option<Outcome>,
    /// The execution-wide deadline (`TimeoutSeconds` at the top level).
    pub deadline_ms: Option<i64>,
}

impl Run {
    /// A new run at its first state, with `ExecutionStarted` emitted.
    pub fn start(env: &Env<'_>, effects: &mut Effects) -> Self {
        let mut run = Run {
            threads: BTreeMap::new(),
            next_thread: 0,
            next_event: 1,
            outcome: None,
            deadline_ms: env
                .definition
                .timeout_seconds
                .map(|s| env.info.start_ms + (s as i64) * 1000),
        };
        let id = run.emit(
            env,
            effects,
            0,
            "ExecutionStarted",
            Some((
                "executionStartedEventDetails",
                json!({
                    "input": env.info.input.to_string(),
                    "inputDetails": {"truncated": false},
                    "roleArn": env.info.role_arn,
                }),
            )),
        );
        run.spawn(
            Vec::new(),
            None,
            0,
            env.definition.machine.start_at.clone(),
            env.info.input.clone(),
            id,
        );
        run
    }

    /// The tokens this run is waiting on.
    pub fn waiting_tokens(&self) -> Vec<String> {
        self.threads
            .values()
            .filter_map(|t| match &t.phase {
                Phase::Callback { token, .. } => Some(token.clone()),
                _ => None,
            })
            .collect()
    }

    /// Calls that were in flight when the run was stored; after a restart
    /// their outcome is unknown.
    pub fn in_flight(&self) -> Vec<u32> {
        self.threads
            .iter()
            .filter(|(_, t)| matches!(t.phase, Phase::Invoking { .. }))
            .map(|(id, _)| *id)
            .collect()
    }

    /// The earliest moment something is due (a Wait, a back-off, a task
    /// timeout or heartbeat, the execution deadline).
    pub fn next_deadline(&self) -> Option<i64> {
        if self.outcome.is_some() {
            return None;
        }
        let threads = self.threads.values().filter_map(|t| match &t.phase {
            Phase::Sleep { until_ms, .. } => Some(*until_ms),
            Phase::Callback {
                timeout_at_ms,
                heartbeat_at_ms,
                ..
            } => match (timeout_at_ms, heartbeat_at_ms) {
                (Some(a), Some(b)) => Some(*a.min(b)),
                (a, b) => a.or(*b),
            },
            _ => None,
        });
        threads.chain(self.deadline_ms).min()
    }

    fn emit(
        &mut self,
        env: &Env<'_>,
        effects: &mut Effects,
        previous: u64,
        kind: &str,
        details: Option<(&str, Value)>,
    ) -> u64 {
        let id = self.next_event;
        self.next_event += 1;
        effects.events.push(Event {
            id,
            previous_event_id: previous,
            timestamp_ms: env.now_ms,
            kind: kind.to_owned(),
            details: details.map(|(k, v)| (k.to_owned(), v)),
        });
        id
    }

    /// Emits an event in `thread`'s chain.
    fn emit_for(
        &mut self,
        env: &Env<'_>,
        effects: &mut Effects,
        thread: u32,
        kind: &str,
        details: Option<(&str, Value)>,
    ) {
        let previous = self.threads.get(&thread).map_or(0, |t| t.last_event);
        let id = self.emit(env, effects, previous, kind, details);
        if let Some(t) = self.threads.get_mut(&thread) {
            t.last_event = id;
        }
    }

    fn spawn(
        &mut self,
        scope: Vec<(String, usize)>,
        parent: Option<u32>,
        slot: usize,
        state: String,
        input: Value,
        last_event: u64,
    ) -> u32 {
        let id = self.next_thread;
        self.next_thread += 1;
        // A branch or iteration reads the variables around it as they are
        // now; what it assigns stays its own (AWS's scoping).
        let variables = parent
            .and_then(|p| self.threads.get(&p))
            .map(|p| p.variables.clone())
            .unwrap_or_default();
        self.threads.insert(
            id,
            Thread {
                scope,
                parent,
                slot,
                state,
                input,
                entered_ms: 0,
                entered_event: 0,
                variables,
                assigned: None,
                phase: Phase::Enter,
                retries: Vec::new(),
                last_event,
            },
        );
        id
    }

    /// Does the next piece of work, if any.
    pub fn step(&mut self, env: &Env<'_>, effects: &mut Effects) -> Step {
        if self.outcome.is_some() {
            return Step::Idle;
        }
        let runnable = self
            .threads
            .iter()
            .find(|(_, t)| matches!(t.phase, Phase::Enter | Phase::Run))
            .map(|(id, _)| *id);
        let Some(id) = runnable else {
            return Step::Idle;
        };
        match self.run_thread(env, effects, id) {
            Ok(step) => step,
            Err(error) => {
                self.fail_state(env, effects, id, error);
                Step::Progress
            }
        }
    }

    fn machine<'d>(definition: &'d Definition, scope: &[(String, usize)]) -> Option<&'d Machine> {
        let mut machine = &definition.machine;
        for (name, index) in scope {
            machine = match &machine.states.get(name)?.kind {
                StateKind::Parallel(p) => p.branches.get(*index)?,
                StateKind::Map(m) => &m.iterator,
                _ => return None,
            };
        }
        Some(machine)
    }

    fn state_of<'d>(definition: &'d Definition, thread: &Thread) -> Option<&'d State> {
        Self::machine(definition, &thread.scope)?
            .states
            .get(&thread.state)
    }

    fn run_thread(
        &mut self,
        env: &Env<'_>,
        effects: &mut Effects,
        id: u32,
    ) -> Result<Step, StatesError> {
        let thread = self
            .threads
            .get(&id)
            .cloned()
            .ok_or_else(|| StatesError::runtime("lost thread"))?;
        let state = Self::state_of(env.definition, &thread).ok_or_else(|| {
            StatesError::runtime(format!(
                "the state '{}' is not in the definition",
                thread.state
            ))
        })?;
        let type_name = state.kind.type_name();
        if thread.phase == Phase::Enter {
            self.emit_for(
                env,
                effects,
                id,
                &format!("{type_name}StateEntered"),
                Some((
                    "stateEnteredEventDetails",
                    json!({"name": thread.state, "input": thread.input.to_string(), "inputDetails": {"truncated": false}}),
                )),
            );
            if let Some(t) = self.threads.get_mut(&id) {
                t.entered_ms = env.now_ms;
                t.entered_event = t.last_event;
                t.retries.clear();
                t.phase = Phase::Run;
            }
        }
        let thread = self
            .threads
            .get(&id)
            .cloned()
            .ok_or_else(|| StatesError::runtime("lost thread"))?;
        let ctx = Self::context(env, &thread, None, None);
        let effective = apply_input_path(&state.input_path, &thread.input, &ctx)?;

        match &state.kind {
            StateKind::Pass {
                result,
                parameters,
                result_path,
            } => {
                let value = match (parameters, result) {
                    (Some(p), _) => p.eval(&effective, &ctx)?,
                    (None, Some(r)) => r.clone(),
                    (None, None) => effective.clone(),
                };
                self.stage_assign(id, state.assign.as_ref(), &value, &ctx)?;
                let combined = apply_result_path(result_path, &thread.input, value)?;
                let output = apply_output_path(&state.output_path, &combined, &ctx)?;
                self.exit_state(env, effects, id, output)?;
                Ok(Step::Progress)
            }
            StateKind::Choice { choices, default } => {
                let mut next = None;
                for rule in choices {
                    if rule.condition.eval(&effective, &ctx)? {
                        next = Some(rule.next.clone());
                        self.stage_assign(id, rule.assign.as_ref(), &effective, &ctx)?;
                        break;
                    }
                }
                if next.is_none() && default.is_some() {
                    self.stage_assign(id, state.assign.as_ref(), &effective, &ctx)?;
                }
                let next = next.or_else(|| default.clone()).ok_or_else(|| {
                    StatesError::new(
                        "States.NoChoiceMatched",
                        format!(
                            "No Choice Rules matched and no Default in state '{}'",
                            thread.state
                        ),
                    )
                })?;
                let output = apply_output_path(&state.output_path, &effective, &ctx)?;
                self.emit_exit(env, effects, id, type_name, &output);
                self.go_to(id, next, output);
                Ok(Step::Progress)
            }
            StateKind::Wait(wait) => self.wait_state(env, id, state, wait, effective, &ctx),
            StateKind::Succeed => {
                let output = apply_output_path(&state.output_path, &effective, &ctx)?;
                self.emit_exit(env, effects, id, type_name, &output);
                self.finish_thread(env, effects, id, output);
                Ok(Step::Progress)
            }
            StateKind::Fail {
                error,
                cause,
                error_path,
                cause_path,
            } => {
                match fail_error(
                    &thread,
                    &ctx,
                    (error, error_path, "ErrorPath"),
                    (cause, cause_path, "CausePath"),
                ) {
                    Ok(failure) => self.thread_failed(env, effects, id, failure),
                    Err(runtime) => self.fail_state(env, effects, id, runtime),
                }
                Ok(Step::Progress)
            }
            StateKind::Task(task) => self.task_state(env, effects, id, &thread, task, effective),
            StateKind::Parallel(parallel) => {
                self.parallel_state(env, effects, id, &thread, parallel, effective, &ctx)
            }
            StateKind::Map(map) => self.map_state(env, effects, id, &thread, map, effective, &ctx),
        }
    }

    fn emit_exit(
        &mut self,
        env: &Env<'_>,
        effects: &mut Effects,
        id: u32,
        type_name: &str,
        output: &Value,
    ) {
        let Some(thread) = self.threads.get_mut(&id) else {
            return;
        };
        let mut details = json!({"name": thread.state, "output": output.to_string(), "outputDetails": {"truncated": false}});
        // The state's assignments take effect now, as it leaves; history
        // shows each value as JSON text, as AWS's does.
        if let Some(assigned) = thread.assigned.take() {
            let shown: BTreeMap<&String, String> =
                assigned.iter().map(|(k, v)| (k, v.to_string())).collect();
            details["assignedVariables"] = json!(shown);
            details["assignedVariablesDetails"] = json!({"truncated": false});
            thread.variables.extend(assigned);
        }
        self.emit_for(
            env,
            effects,
            id,
            &format!("{type_name}StateExited"),
            Some(("stateExitedEventDetails", details)),
        );
    }

    fn go_to(&mut self, id: u32, next: String, input: Value) {
        if let Some(t) = self.threads.get_mut(&id) {
            t.state = next;
            t.input = input;
            t.phase = Phase::Enter;
        }
    }

    /// Emits the state's exit event and follows its transition.
    fn exit_state(
        &mut self,
        env: &Env<'_>,
        effects: &mut Effects,
        id: u32,
        output: Value,
    ) -> Result<(), StatesError> {
        let thread = self
            .threads
            .get(&id)
            .ok_or_else(|| StatesError::runtime("lost thread"))?;
        let state = Self::state_of(env.definition, thread)
            .ok_or_else(|| StatesError::runtime("lost state"))?;
        let transition = state.transition.clone();
        let type_name = state.kind.type_name();
        self.emit_exit(env, effects, id, type_name, &output);
        match transition {
            Transition::Next(next) => self.go_to(id, next, output),
            Transition::End | Transition::None => self.finish_thread(env, effects, id, output),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
