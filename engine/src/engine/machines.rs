//! State machines: create, describe, list, update, delete.

use super::{Engine, Page, check_name, now_ms, page_by_offset};
use crate::error::ApiError;
use crate::store::MachineRow;

impl Engine {
    /// CreateStateMachine. Creating the same name with the same definition
    /// again returns the existing machine, as AWS does.
    pub fn create_state_machine(
        &self,
        name: &str,
        definition: &str,
        role_arn: &str,
        kind: Option<&str>,
    ) -> Result<MachineRow, ApiError> {
        check_name(name, "state machine")?;
        if kind.is_some_and(|k| k != "STANDARD") {
            return Err(ApiError::Validation(
                "only STANDARD state machines are supported by this engine".into(),
            ));
        }
        self.definition(definition)?;
        let row = MachineRow {
            arn: self.machine_arn(name),
            name: name.to_owned(),
            definition: definition.to_owned(),
            role_arn: role_arn.to_owned(),
            created_ms: now_ms(),
        };
        if self.inner.store.insert_machine(&row)? {
            return Ok(row);
        }
        match self.inner.store.machine(&row.arn)? {
            Some(existing)
                if existing.definition == definition && existing.role_arn == role_arn =>
            {
                Ok(existing)
            }
            _ => Err(ApiError::StateMachineAlreadyExists(format!(
                "State Machine Already Exists: '{}'",
                row.arn
            ))),
        }
    }

    pub fn describe_state_machine(&self, arn: &str) -> Result<MachineRow, ApiError> {
        self.inner.store.machine(arn)?.ok_or_else(|| {
            ApiError::StateMachineDoesNotExist(format!("State Machine Does Not Exist: '{arn}'"))
        })
    }

    pub fn list_state_machines(
        &self,
        max: Option<usize>,
        next: Option<&str>,
    ) -> Result<Page<MachineRow>, ApiError> {
        let all = self.inner.store.machines()?;
        page_by_offset(all, max, next)
    }

    pub fn update_state_machine(
        &self,
        arn: &str,
        definition: Option<&str>,
        role_arn: Option<&str>,
    ) -> Result<i64, ApiError> {
        if definition.is_none() && role_arn.is_none() {
            return Err(ApiError::Validation(
                "give a definition or a roleArn to update".into(),
            ));
        }
        if let Some(d) = definition {
            self.definition(d)?;
        }
        if !self.inner.store.update_machine(arn, definition, role_arn)? {
            return Err(ApiError::StateMachineDoesNotExist(format!(
                "State Machine Does Not Exist: '{arn}'"
            )));
        }
        Ok(now_ms())
    }

    /// DeleteStateMachine. Running executions keep the definition they
    /// started with, as on AWS.
    pub fn delete_state_machine(&self, arn: &str) -> Result<(), ApiError> {
        if !arn.starts_with("arn:aws:states:") {
            return Err(ApiError::InvalidArn(format!("Invalid Arn: '{arn}'")));
        }
        self.inner.store.delete_machine(arn)?;
        Ok(())
    }
}
