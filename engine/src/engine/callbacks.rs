//! Callbacks: a task token's success, failure and heartbeat.

use std::sync::Arc;

use serde_json::Value;

use super::{Engine, Live, now_ms, task_gone};
use crate::asl::StatesError;
use crate::error::ApiError;
use crate::interpreter::Effects;
use crate::store::TokenStatus;

impl Engine {
    /// Finds the execution waiting on `token`, or says why none is.
    pub(super) async fn token_owner(
        &self,
        token: &str,
    ) -> Result<Arc<tokio::sync::Mutex<Live>>, ApiError> {
        if token.is_empty() || token.len() > 2048 {
            return Err(ApiError::Validation(
                "taskToken must be 1 to 2048 characters".into(),
            ));
        }
        let (arn, status) = self.inner.store.token(token)?.ok_or_else(|| {
            ApiError::InvalidToken("Invalid Token: the task token is not known".into())
        })?;
        // AWS answers every token whose task is over (completed, timed out,
        // stopped) with TaskTimedOut, "Provided task does not exist anymore".
        if status != TokenStatus::Waiting {
            return Err(task_gone());
        }
        self.live(&arn).ok_or_else(task_gone)
    }

    pub(super) async fn complete(
        &self,
        token: &str,
        result: Result<Value, StatesError>,
    ) -> Result<(), ApiError> {
        let live = self.token_owner(token).await?;
        let mut live = live.lock().await;
        let mut effects = Effects::default();
        let mut tokens = Vec::new();
        let ctx = live.ctx.clone();
        let env = ctx.env(now_ms());
        // A deadline that passed while nobody looked comes first: a callback
        // after the timeout is refused as AWS refuses it.
        if live.run.next_deadline().is_some_and(|d| d <= env.now_ms) {
            for t in live.run.on_time(&env, &mut effects) {
                tokens.push((t, TokenStatus::TimedOut));
            }
        }
        let accepted = if tokens.iter().any(|(t, _)| t == token) {
            Err(task_gone())
        } else {
            live.run
                .callback(&env, &mut effects, token, result)
                .map_err(|_| task_gone())
        };
        if accepted.is_ok() {
            tokens.push((token.to_owned(), TokenStatus::Completed));
        }
        self.advance(&mut live, effects, tokens).await;
        accepted
    }

    pub async fn send_task_success(&self, token: &str, output: &str) -> Result<(), ApiError> {
        let output: Value = serde_json::from_str(output).map_err(|e| {
            ApiError::InvalidOutput(format!("Invalid Output: the output is not JSON: {e}"))
        })?;
        self.complete(token, Ok(output)).await
    }

    pub async fn send_task_failure(
        &self,
        token: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<(), ApiError> {
        if error.is_some_and(|e| e.chars().count() > 256) {
            return Err(ApiError::Validation(
                "error must be at most 256 characters".into(),
            ));
        }
        if cause.is_some_and(|c| c.chars().count() > 32768) {
            return Err(ApiError::Validation(
                "cause must be at most 32768 characters".into(),
            ));
        }
        self.complete(
            token,
            Err(StatesError::new(
                error.unwrap_or_default(),
                cause.unwrap_or_default(),
            )),
        )
        .await
    }

    pub async fn send_task_heartbeat(&self, token: &str) -> Result<(), ApiError> {
        let live = self.token_owner(token).await?;
        let mut live = live.lock().await;
        let ctx = live.ctx.clone();
        let env = ctx.env(now_ms());
        if live.run.next_deadline().is_some_and(|d| d <= env.now_ms) {
            // Overdue: let the timeout happen, then refuse.
            self.advance(&mut live, Effects::default(), Vec::new())
                .await;
            return Err(task_gone());
        }
        live.run.heartbeat(&env, token).map_err(|_| task_gone())?;
        self.advance(&mut live, Effects::default(), Vec::new())
            .await;
        Ok(())
    }
}
