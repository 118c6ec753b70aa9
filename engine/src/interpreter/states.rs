//! The states that do more than pass their input on: a Wait's sleep, a
//! Fail's error, a Task's call, a Parallel's branches and a Map's
//! iterations. Each starts here and goes on when the engine reports back
//! (`answers.rs`) or its children finish.

use super::*;
use crate::asl::definition::{Amount, Batcher, MapState, ParallelState, TaskState};
use crate::asl::path::Path;
use crate::asl::template::Template;

impl Run {
    pub(super) fn wait_state(
        &mut self,
        env: &Env<'_>,
        id: u32,
        state: &State,
        wait: &WaitFor,
        effective: Value,
        ctx: &Bindings,
    ) -> Result<Step, StatesError> {
        let until_ms = match wait {
            WaitFor::Seconds(s) => {
                let secs = seconds(s, &effective, ctx, "Seconds")?;
                env.now_ms
                    .saturating_add(i64::try_from(secs).unwrap_or(i64::MAX).saturating_mul(1000))
            }
            WaitFor::Timestamp(t) => parse_iso(t)
                .ok_or_else(|| StatesError::runtime(format!("'{t}' is not a timestamp")))?,
            WaitFor::TimestampPath(p) => {
                let value = p.get(&effective, ctx).ok_or_else(|| {
                    StatesError::runtime(format!(
                        "The TimestampPath parameter does not reference an input value: {}",
                        p.as_str()
                    ))
                })?;
                value.as_str().and_then(parse_iso).ok_or_else(|| {
                    StatesError::runtime(format!(
                        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
                        p.as_str(),
                        shown(&value)
                    ))
                })?
            }
        };
        // AWS keeps a delay in a signed 32-bit count of seconds (recorded:
        // 24,855 days ahead waits, 24,856 fails).
        if until_ms.saturating_sub(env.now_ms) / 1000 > i64::from(i32::MAX) {
            return Err(StatesError::runtime("Wait state delay is too long."));
        }
        let output = apply_output_path(&state.output_path, &effective, ctx)?;
        self.stage_assign(id, state.assign.as_ref(), &effective, ctx)?;
        if let Some(t) = self.threads.get_mut(&id) {
            t.phase = Phase::Sleep {
                until_ms,
                then: AfterSleep::ExitWait(output),
            };
        }
        Ok(Step::Progress)
    }

    pub(super) fn task_state(
        &mut self,
        env: &Env<'_>,
        effects: &mut Effects,
        id: u32,
        thread: &Thread,
        task: &TaskState,
        effective: Value,
    ) -> Result<Step, StatesError> {
        let token = task.resource.wait_for_task_token.then(|| (env.new_token)());
        let ctx = &Self::context(env, thread, token.as_deref(), None);
        let parameters = match &task.outcomes.parameters {
            Some(p) => p.eval(&effective, ctx)?,
            None => effective.clone(),
        };
        let timeout_secs = task
            .timeout
            .as_ref()
            .map(|s| seconds(s, &effective, ctx, "TimeoutSeconds"))
            .transpose()?;
        let heartbeat_secs = task
            .heartbeat
            .as_ref()
            .map(|s| seconds(s, &effective, ctx, "HeartbeatSeconds"))
            .transpose()?;
        let (resource_type, resource) = task.resource.event_names();
        let mut scheduled = json!({
            "resourceType": resource_type,
            "resource": resource,
            "region": env.info.region,
            "parameters": parameters.to_string(),
        });
        if let Some(t) = timeout_secs {
            scheduled["timeoutInSeconds"] = json!(t);
        }
        if let Some(h) = heartbeat_secs {
            scheduled["heartbeatInSeconds"] = json!(h);
        }
        self.emit_for(
            env,
            effects,
            id,
            "TaskScheduled",
            Some(("taskScheduledEventDetails", scheduled)),
        );
        self.emit_for(
            env,
            effects,
            id,
            "TaskStarted",
            Some((
                "taskStartedEventDetails",
                json!({"resourceType": resource_type, "resource": resource}),
            )),
        );
        let request = TaskRequest {
            action: task.resource.action.clone(),
            parameters,
            error_prefix: task.resource.error_prefix().to_owned(),
            token,
        };
        if let Some(t) = self.threads.get_mut(&id) {
            t.phase = Phase::Invoking {
                request: request.clone(),
                timeout_secs,
                heartbeat_secs,
            };
        }
        Ok(Step::Invoke {
            thread: id,
            request,
        })
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "the state, its thread and the step's context, as run_thread has them"
    )]
    pub(super) fn parallel_state(
        &mut self,
        env: &Env<'_>,
        effects: &mut Effects,
        id: u32,
        thread: &Thread,
        parallel: &ParallelState,
        effective: Value,
        ctx: &Bindings,
    ) -> Result<Step, StatesError> {
        let input = match &parallel.outcomes.parameters {
            Some(p) => p.eval(&effective, ctx)?,
            None => effective.clone(),
        };
        self.emit_for(env, effects, id, "ParallelStateStarted", None);
        let last = self.threads.get(&id).map_or(0, |t| t.last_event);
        let mut pending = BTreeSet::new();
        for (i, branch) in parallel.branches.iter().enumerate() {
            let mut scope = thread.scope.clone();
            scope.push((thread.state.clone(), i));
            pending.insert(self.spawn(
                scope,
                Some(id),
                i,
                branch.start_at.clone(),
                input.clone(),
                last,
            ));
        }
        if let Some(t) = self.threads.get_mut(&id) {
            t.phase = Phase::Children {
                effective_input: input,
                results: vec![Value::Null; parallel.branches.len()],
                pending,
                tolerance: None,
            };
        }
        Ok(Step::Progress)
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "the state, its thread and the step's context, as run_thread has them"
    )]
    pub(super) fn map_state(
        &mut self,
        env: &Env<'_>,
        effects: &mut Effects,
        id: u32,
        thread: &Thread,
        map: &MapState,
        effective: Value,
        ctx: &Bindings,
    ) -> Result<Step, StatesError> {
        let items = match &map.items_path {
            PathSetting::Default => effective.clone(),
            PathSetting::Null => Value::Null,
            PathSetting::Path(p) => p.get(&effective, ctx).unwrap_or(Value::Null),
        };
        let Value::Array(items) = items else {
            return Err(StatesError::runtime(format!(
                "Map state '{}': the ItemsPath does not name an array",
                thread.state
            )));
        };
        let limits = MapLimits::read(map, &effective, ctx)?;
        let mut inputs = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            inputs.push(match &map.outcomes.parameters {
                Some(p) => p.eval(
                    &effective,
                    &Self::context(env, thread, None, Some((i, item))),
                )?,
                None => item.clone(),
            });
        }
        if let Some(batcher) = &map.batcher {
            inputs = batches(batcher, inputs, &effective, ctx)?;
        }
        self.emit_for(
            env,
            effects,
            id,
            "MapStateStarted",
            Some((
                "mapStateStartedEventDetails",
                json!({"length": inputs.len()}),
            )),
        );
        let count = inputs.len();
        let mut pending = BTreeSet::new();
        for (i, input) in inputs.into_iter().enumerate() {
            self.emit_for(
                env,
                effects,
                id,
                "MapIterationStarted",
                Some((
                    "mapIterationStartedEventDetails",
                    json!({"name": thread.state, "index": i}),
                )),
            );
            let last = self.threads.get(&id).map_or(0, |t| t.last_event);
            let mut scope = thread.scope.clone();
            scope.push((thread.state.clone(), 0));
            pending.insert(self.spawn(
                scope,
                Some(id),
                i,
                map.iterator.start_at.clone(),
                input,
                last,
            ));
        }
        let empty = pending.is_empty();
        if let Some(t) = self.threads.get_mut(&id) {
            t.phase = Phase::Children {
                effective_input: effective,
                results: vec![Value::Null; count],
                pending,
                tolerance: limits.tolerance(count),
            };
        }
        if empty {
            self.children_done(env, effects, id)?;
        }
        Ok(Step::Progress)
    }
}

/// A Fail state's error and cause: fixed, or read by a path or an
/// intrinsic function (ErrorPath / CausePath). A path that finds nothing is
/// a runtime error, in AWS's words.
pub(super) fn fail_error(
    thread: &Thread,
    ctx: &Bindings,
    error: (&Option<String>, &Option<Template>, &str),
    cause: (&Option<String>, &Option<Template>, &str),
) -> Result<StatesError, StatesError> {
    let read = |(fixed, dynamic, field): (&Option<String>, &Option<Template>, &str)| {
        if let Some(fixed) = fixed {
            return Ok(fixed.clone());
        }
        let value = match dynamic {
            None => return Ok(String::new()),
            Some(Template::Path(p)) => p.get(&thread.input, ctx).ok_or_else(|| {
                StatesError::runtime(format!(
                    "The JSONPath '{}' specified for the field '{field}' could not be found in the input '{}'",
                    p.as_str(),
                    thread.input
                ))
            })?,
            Some(other) => other.eval(&thread.input, ctx)?,
        };
        Ok(shown(&value))
    };
    Ok(StatesError::new(read(error)?, read(cause)?))
}

/// What a Map reads from its input when it starts: MaxConcurrencyPath
/// (checked only: every iteration runs at once here) and how many failed
/// iterations it tolerates. Errors in AWS's words (recorded).
struct MapLimits {
    count: Option<u64>,
    percentage: Option<f64>,
}

impl MapLimits {
    fn read(map: &MapState, input: &Value, ctx: &Bindings) -> Result<Self, StatesError> {
        if let Some(p) = &map.max_concurrency_path {
            let n = whole(p, input, ctx, "MaxConcurrencyPath")?;
            if n < 0 {
                return Err(StatesError::runtime("MaxConcurrency cannot be negative."));
            }
        }
        let count = match &map.tolerated_count {
            None => None,
            Some(Amount::Fixed(n)) => Some(*n as u64),
            Some(Amount::Path(p)) => {
                let n = whole(p, input, ctx, "ToleratedFailureCountPath")?;
                Some(u64::try_from(n).map_err(|_| {
                    StatesError::runtime("ToleratedFailureCount cannot be negative.")
                })?)
            }
        };
        let percentage = match &map.tolerated_percentage {
            None => None,
            Some(Amount::Fixed(p)) => Some(*p),
            Some(Amount::Path(p)) => {
                let value = p
                    .get(input, ctx)
                    .ok_or_else(|| StatesError::runtime(p.missing(input, ctx)))?;
                let pct = value.as_f64().ok_or_else(|| {
                    StatesError::runtime(format!(
                        "The ToleratedFailurePercentagePath field refers to value \"{}\" which is not a valid float: {}",
                        shown(&value),
                        p.as_str()
                    ))
                })?;
                if !(0.0..=100.0).contains(&pct) {
                    return Err(StatesError::runtime(
                        "ToleratedFailurePercentage must be between 0 and 100.",
                    ));
                }
                Some(pct)
            }
        };
        Ok(Self { count, percentage })
    }

    fn tolerance(&self, total: usize) -> Option<Tolerance> {
        (self.count.is_some() || self.percentage.is_some()).then_some(Tolerance {
            count: self.count,
            percentage: self.percentage,
            total,
            failed: 0,
        })
    }
}

/// An integer a Map field's path reads.
fn whole(p: &Path, input: &Value, ctx: &Bindings, field: &str) -> Result<i64, StatesError> {
    let value = p
        .get(input, ctx)
        .ok_or_else(|| StatesError::runtime(p.missing(input, ctx)))?;
    value.as_i64().ok_or_else(|| {
        StatesError::runtime(format!(
            "The {field} field refers to value \"{}\" which is not a valid integer: {}",
            shown(&value),
            p.as_str()
        ))
    })
}

/// ItemBatcher: the iterations' inputs grouped, each `{"Items": [...]}`
/// with the BatchInput's fields.
fn batches(
    batcher: &Batcher,
    inputs: Vec<Value>,
    effective: &Value,
    ctx: &Bindings,
) -> Result<Vec<Value>, StatesError> {
    let size = match &batcher.max_items {
        None => inputs.len().max(1),
        Some(Amount::Fixed(n)) => (*n as usize).max(1),
        Some(Amount::Path(p)) => {
            let n = whole(p, effective, ctx, "MaxItemsPerBatchPath")?;
            usize::try_from(n)
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| StatesError::runtime("MaxItemsPerBatch must be greater than 0."))?
        }
    };
    let extra = match &batcher.batch_input {
        Some(t) => Some(t.eval(effective, ctx)?),
        None => None,
    };
    Ok(inputs
        .chunks(size)
        .map(|chunk| {
            let mut batch = serde_json::Map::new();
            if let Some(Value::Object(fields)) = &extra {
                batch.insert("BatchInput".into(), Value::Object(fields.clone()));
            }
            batch.insert("Items".into(), Value::Array(chunk.to_vec()));
            Value::Object(batch)
        })
        .collect())
}

/// How many of a Map's iterations may fail before the Map does
/// (ToleratedFailureCount / ToleratedFailurePercentage).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Tolerance {
    pub(super) count: Option<u64>,
    pub(super) percentage: Option<f64>,
    pub(super) total: usize,
    pub(super) failed: usize,
}

impl Tolerance {
    pub(super) fn exceeded(&self) -> bool {
        let share = self.failed as f64 * 100.0 / self.total.max(1) as f64;
        self.count.is_some_and(|c| self.failed as u64 > c)
            || self.percentage.is_some_and(|p| share > p)
    }
}
