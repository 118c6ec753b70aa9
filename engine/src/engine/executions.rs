//! Executions: start, describe, list, their history, stop.

use std::sync::Arc;

use serde_json::Value;

use super::{Context, Engine, Live, Page, check_name, lock, now_ms, page_size};
use crate::asl::StatesError;
use crate::error::ApiError;
use crate::interpreter::{Effects, Event, ExecutionInfo, Run};
use crate::store::ExecutionRow;

impl Engine {
    /// StartExecution. Starting again with the same name and input while the
    /// first is running returns it; anything else with a used name is
    /// `ExecutionAlreadyExists`.
    pub async fn start_execution(
        &self,
        machine_arn: &str,
        name: Option<&str>,
        input: Option<&str>,
    ) -> Result<ExecutionRow, ApiError> {
        let machine = self.describe_state_machine(machine_arn)?;
        let name = match name {
            Some(n) => n.to_owned(),
            None => uuid::Uuid::new_v4().to_string(),
        };
        check_name(&name, "execution")?;
        let input_text = input.unwrap_or("{}");
        let input_value: Value = serde_json::from_str(input_text).map_err(|e| {
            ApiError::InvalidExecutionInput(format!("Invalid State Machine Execution Input: {e}"))
        })?;
        let c = &self.inner.config;
        let arn = format!(
            "arn:aws:states:{}:{}:execution:{}:{name}",
            c.region, c.account, machine.name
        );
        let already = |existing: ExecutionRow| {
            if existing.status == "RUNNING" && existing.input == input_text {
                Ok(existing)
            } else {
                Err(ApiError::ExecutionAlreadyExists(format!(
                    "Execution Already Exists: '{arn}'"
                )))
            }
        };
        if let Some(existing) = self.inner.store.execution(&arn)? {
            return already(existing);
        }
        let definition = self.definition(&machine.definition)?;
        let info = ExecutionInfo {
            execution_arn: arn.clone(),
            execution_name: name.clone(),
            state_machine_arn: machine.arn.clone(),
            state_machine_name: machine.name.clone(),
            role_arn: machine.role_arn.clone(),
            input: input_value,
            start_ms: now_ms(),
            region: c.region.clone(),
        };
        let mut effects = Effects::default();
        let ctx = Arc::new(Context { info, definition });
        let run = Run::start(&ctx.env(ctx.info.start_ms), &mut effects);
        let row = ExecutionRow {
            arn: arn.clone(),
            machine_arn: machine.arn.clone(),
            name,
            status: "RUNNING".into(),
            input: input_text.to_owned(),
            output: None,
            error: None,
            cause: None,
            start_ms: ctx.info.start_ms,
            stop_ms: None,
            definition: machine.definition.clone(),
            role_arn: machine.role_arn.clone(),
            run: Some(serde_json::to_string(&run).map_err(|_| ApiError::Internal)?),
        };
        let live = Arc::new(tokio::sync::Mutex::new(Live {
            ctx,
            run,
            armed_for: None,
        }));
        // Hold the execution's lock until it is in the store, so nobody can
        // act on it before it exists there.
        let mut guard = live.clone().lock_owned().await;
        if !self.inner.store.insert_execution(&row, &effects.events)? {
            drop(guard);
            let existing = self
                .inner
                .store
                .execution(&arn)?
                .ok_or(ApiError::Internal)?;
            return already(existing);
        }
        lock(&self.inner.live).insert(arn, live);
        let engine = self.clone();
        tokio::spawn(async move {
            engine
                .advance(&mut guard, Effects::default(), Vec::new())
                .await;
        });
        Ok(row)
    }

    pub fn describe_execution(&self, arn: &str) -> Result<ExecutionRow, ApiError> {
        self.inner.store.execution(arn)?.ok_or_else(|| {
            ApiError::ExecutionDoesNotExist(format!("Execution Does Not Exist: '{arn}'"))
        })
    }

    pub fn list_executions(
        &self,
        machine_arn: &str,
        status: Option<&str>,
        max: Option<usize>,
        next: Option<&str>,
    ) -> Result<Page<ExecutionRow>, ApiError> {
        self.describe_state_machine(machine_arn)?;
        if let Some(s) = status
            && !matches!(
                s,
                "RUNNING" | "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED"
            )
        {
            return Err(ApiError::Validation(format!(
                "'{s}' is not an execution status"
            )));
        }
        let limit = page_size(max)?;
        let before = next
            .map(|t| {
                t.parse::<i64>()
                    .map_err(|_| ApiError::InvalidToken("Invalid nextToken".into()))
            })
            .transpose()?;
        let mut rows = self
            .inner
            .store
            .executions(machine_arn, status, before, limit + 1)?;
        let next_token = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|(seq, _)| seq.to_string())
        } else {
            None
        };
        Ok(Page {
            items: rows.into_iter().map(|(_, r)| r).collect(),
            next_token,
        })
    }

    pub fn execution_history(
        &self,
        arn: &str,
        max: Option<usize>,
        next: Option<&str>,
        reverse: bool,
    ) -> Result<Page<Event>, ApiError> {
        self.describe_execution(arn)?;
        let limit = page_size(max)?;
        let after = next
            .map(|t| {
                t.parse::<u64>()
                    .map_err(|_| ApiError::InvalidToken("Invalid nextToken".into()))
            })
            .transpose()?;
        let mut events = self.inner.store.events(arn, after, reverse, limit + 1)?;
        let next_token = if events.len() > limit {
            events.truncate(limit);
            events.last().map(|e| e.id.to_string())
        } else {
            None
        };
        Ok(Page {
            items: events,
            next_token,
        })
    }

    /// StopExecution: also stops one that is waiting for a callback; its
    /// token is no longer accepted.
    pub async fn stop_execution(
        &self,
        arn: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<i64, ApiError> {
        let Some(live) = self.live(arn) else {
            let row = self.describe_execution(arn)?;
            return Ok(row.stop_ms.unwrap_or_else(now_ms));
        };
        let mut live = live.lock().await;
        let mut effects = Effects::default();
        let now = now_ms();
        let ctx = live.ctx.clone();
        let env = ctx.env(now);
        live.run.abort(
            &env,
            &mut effects,
            StatesError::new(error.unwrap_or_default(), cause.unwrap_or_default()),
        );
        self.advance(&mut live, effects, Vec::new()).await;
        Ok(now)
    }
}
