//! A thread's end: the execution's, when it is the top one; otherwise a
//! branch's or an iteration's result joining its Parallel or Map, which
//! goes on once every child is done.

use super::*;

impl Run {
    /// A thread reached its end: the execution succeeds, or the parent
    /// collects the result.
    pub(super) fn finish_thread(
        &mut self,
        env: &Env<'_>,
        effects: &mut Effects,
        id: u32,
        output: Value,
    ) {
        let Some(thread) = self.threads.remove(&id) else {
            return;
        };
        let Some(parent_id) = thread.parent else {
            self.emit(
                env,
                effects,
                thread.last_event,
                "ExecutionSucceeded",
                Some((
                    "executionSucceededEventDetails",
                    json!({"output": output.to_string(), "outputDetails": {"truncated": false}}),
                )),
            );
            self.outcome = Some(Outcome::Succeeded(output));
            self.drop_all(effects);
            return;
        };
        let is_map = self.is_map(env, parent_id);
        if is_map {
            self.emit_iteration_end(env, effects, parent_id, thread.slot, "Succeeded");
        }
        let all_done = match self.threads.get_mut(&parent_id).map(|p| &mut p.phase) {
            Some(Phase::Children {
                pending, results, ..
            }) => {
                pending.remove(&id);
                if let Some(slot) = results.get_mut(thread.slot) {
                    *slot = output;
                }
                pending.is_empty()
            }
            _ => false,
        };
        if all_done && let Err(error) = self.children_done(env, effects, parent_id) {
            self.fail_state(env, effects, parent_id, error);
        }
    }

    pub(super) fn is_map(&self, env: &Env<'_>, id: u32) -> bool {
        self.threads
            .get(&id)
            .and_then(|t| Self::state_of(env.definition, t))
            .is_some_and(|s| matches!(s.kind, StateKind::Map(_)))
    }

    /// Every branch or iteration of a Parallel or Map finished.
    pub(super) fn children_done(
        &mut self,
        env: &Env<'_>,
        effects: &mut Effects,
        id: u32,
    ) -> Result<(), StatesError> {
        let thread = self
            .threads
            .get(&id)
            .cloned()
            .ok_or_else(|| StatesError::runtime("lost thread"))?;
        let state = Self::state_of(env.definition, &thread)
            .ok_or_else(|| StatesError::runtime("lost state"))?;
        let Phase::Children { results, .. } = &thread.phase else {
            return Ok(());
        };
        let (kind, outcomes) = match &state.kind {
            StateKind::Parallel(p) => ("ParallelStateSucceeded", &p.outcomes),
            StateKind::Map(m) => ("MapStateSucceeded", &m.outcomes),
            _ => return Err(StatesError::runtime("children on a state without branches")),
        };
        self.emit_for(env, effects, id, kind, None);
        if let Some(t) = self.threads.get_mut(&id) {
            t.phase = Phase::Run;
        }
        self.complete_with_result(
            env,
            effects,
            id,
            state,
            outcomes,
            Value::Array(results.clone()),
        )
    }

    /// ResultSelector, ResultPath, OutputPath, then leave the state.
    pub(super) fn complete_with_result(
        &mut self,
        env: &Env<'_>,
        effects: &mut Effects,
        id: u32,
        state: &State,
        outcomes: &Outcomes,
        result: Value,
    ) -> Result<(), StatesError> {
        let thread = self
            .threads
            .get(&id)
            .cloned()
            .ok_or_else(|| StatesError::runtime("lost thread"))?;
        let ctx = Self::context(env, &thread, None, None);
        let selected = match &outcomes.result_selector {
            Some(s) => s.eval(&result, &ctx)?,
            None => result,
        };
        self.stage_assign(id, state.assign.as_ref(), &selected, &ctx)?;
        let combined = apply_result_path(&outcomes.result_path, &thread.input, selected)?;
        let output = apply_output_path(&state.output_path, &combined, &ctx)?;
        self.exit_state(env, effects, id, output)
    }

    /// A Map iteration's end, `Succeeded` or `Failed`, as history spells it.
    pub(super) fn emit_iteration_end(
        &mut self,
        env: &Env<'_>,
        effects: &mut Effects,
        map_id: u32,
        index: usize,
        ending: &str,
    ) {
        let name = self
            .threads
            .get(&map_id)
            .map(|t| t.state.clone())
            .unwrap_or_default();
        self.emit_for(
            env,
            effects,
            map_id,
            &format!("MapIteration{ending}"),
            Some((
                &format!("mapIteration{ending}EventDetails"),
                json!({"name": name, "index": index}),
            )),
        );
    }
}
