//! Starting a kind's workflow from its start form. The execution's input
//! is the contract's start input (`docs/tasks.md`): who asked, a fresh
//! subject id, and the form's checked values.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::Tasks;
use crate::DomainError;
use crate::kinds::Kind;
use crate::users::User;

/// A started workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Started {
    pub kind: String,
    /// The subject's id, which is also the execution's name.
    pub subject_id: String,
    pub execution_arn: String,
}

impl Tasks<'_> {
    /// `user` starts `kind` with the start form's `values`.
    pub async fn start(
        self,
        user: &User,
        kind: &Kind,
        values: &BTreeMap<String, Value>,
    ) -> Result<Started, DomainError> {
        if !kind.may_start(user) {
            return Err(DomainError::Forbidden);
        }
        let values = crate::forms::validate(&kind.descriptor.start.form, values)
            .map_err(DomainError::Form)?;
        let Some(machine) = &kind.state_machine_arn else {
            return Err(DomainError::Unavailable);
        };
        let subject_id = uuid::Uuid::new_v4().to_string();
        let input = json!({
            "kind": kind.name(),
            "requester": user.name,
            "subject": {"id": subject_id},
            "values": values,
        });
        let started = self
            .s
            .sfn
            .start_execution()
            .state_machine_arn(machine)
            .name(&subject_id)
            .input(input.to_string())
            .send()
            .await
            .map_err(|e| crate::items::unavailable("starting a workflow")(format!("{e:?}")))?;
        tracing::info!(kind = kind.name(), by = user.name, "started a workflow");
        Ok(Started {
            kind: kind.name().to_owned(),
            subject_id,
            execution_arn: started.execution_arn().to_owned(),
        })
    }
}
