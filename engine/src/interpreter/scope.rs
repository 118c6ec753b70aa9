//! What a state's fields read and what it writes back: the context object
//! (`$$`) and the workflow variables in reach (`$name`), and the variables
//! its `Assign` sets, kept until the state leaves.

use super::*;

impl Run {
    /// The context object (`$$`) for `thread`.
    pub(super) fn context(
        env: &Env<'_>,
        thread: &Thread,
        token: Option<&str>,
        item: Option<(usize, &Value)>,
    ) -> Bindings {
        let mut ctx = json!({
            "Execution": {
                "Id": env.info.execution_arn,
                "Input": env.info.input,
                "Name": env.info.execution_name,
                "RoleArn": env.info.role_arn,
                "StartTime": iso(env.info.start_ms),
                // Executions here are never redriven.
                "RedriveCount": 0,
            },
            "StateMachine": {"Id": env.info.state_machine_arn, "Name": env.info.state_machine_name},
            "State": {
                "Name": thread.state,
                "EnteredTime": iso(thread.entered_ms),
            },
        });
        // Only states that can retry have a retry count (recorded: a Pass
        // state's `$$.State` holds its name and entry time alone).
        let retries = Self::state_of(env.definition, thread).is_some_and(|s| {
            matches!(
                s.kind,
                StateKind::Task(_) | StateKind::Parallel(_) | StateKind::Map(_)
            )
        });
        if retries {
            ctx["State"]["RetryCount"] = json!(thread.retries.iter().sum::<u32>());
        }
        if let Some(token) = token {
            ctx["Task"] = json!({ "Token": token });
        }
        if let Some((index, value)) = item {
            ctx["Map"] = json!({"Item": {"Index": index, "Value": value}});
        }
        Bindings {
            context: ctx,
            variables: thread.variables.clone(),
        }
    }

    /// Evaluates a state's (or a rule's, or a catcher's) `Assign` against
    /// `value`, to be applied when the state leaves.
    pub(super) fn stage_assign(
        &mut self,
        id: u32,
        assign: Option<&crate::asl::template::Template>,
        value: &Value,
        ctx: &Bindings,
    ) -> Result<(), StatesError> {
        let Some(assign) = assign else {
            return Ok(());
        };
        let Value::Object(assigned) = assign.eval(value, ctx)? else {
            return Err(StatesError::runtime("Assign must give an object"));
        };
        if let Some(t) = self.threads.get_mut(&id) {
            t.assigned = Some(assigned);
        }
        Ok(())
    }
}
