//! Starting a kind's workflow from its start form. The execution's input
//! is the contract's start input (`docs/tasks.md`): who asked, a fresh
//! subject id, the form's checked values, and the files attached with it.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::Tasks;
use crate::DomainError;
use crate::attachments::{FileRef, MAX_FILES, Owner, check};
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
        self.start_with_files(user, kind, values, Vec::new()).await
    }

    /// [`Self::start`] with files (name and bytes) attached to the new
    /// subject, so that its tasks show them and its first decision sees
    /// them. Every file is checked before anything is stored, and all are
    /// stored before the workflow starts: no task can be decided without
    /// them. The input names them (`attachments`, as a decision's output
    /// does). Whoever may start the kind may attach its files.
    pub async fn start_with_files(
        self,
        user: &User,
        kind: &Kind,
        values: &BTreeMap<String, Value>,
        files: Vec<(String, Vec<u8>)>,
    ) -> Result<Started, DomainError> {
        if !kind.may_start(user) {
            return Err(DomainError::Forbidden);
        }
        let values = crate::forms::validate(&kind.descriptor.start.form, values)
            .map_err(DomainError::Form)?;
        let Some(machine) = &kind.state_machine_arn else {
            return Err(DomainError::Unavailable);
        };
        if !files.is_empty() {
            self.s.files.store()?;
        }
        if files.len() > MAX_FILES {
            return Err(DomainError::Invalid(format!(
                "at most {MAX_FILES} files can be attached"
            )));
        }
        for (i, (name, bytes)) in files.iter().enumerate() {
            check(name, bytes, self.s.files.limit)?;
            if files[..i].iter().any(|(other, _)| other == name) {
                return Err(DomainError::Invalid(format!(
                    "two files are named {name:?}"
                )));
            }
        }
        let subject_id = uuid::Uuid::new_v4().to_string();
        let owner = Owner::of_subject(kind.name(), &subject_id);
        let mut attached = Vec::new();
        for (name, bytes) in files {
            let a = self
                .s
                .attachments()
                .add(&owner, &name, bytes, &user.name)
                .await?;
            attached.push(FileRef {
                name: a.name,
                sha256: a.sha256,
            });
        }
        let mut input = json!({
            "kind": kind.name(),
            "requester": user.name,
            "subject": {"id": subject_id},
            "values": values,
        });
        if !attached.is_empty() {
            input["attachments"] = json!(attached);
        }
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
