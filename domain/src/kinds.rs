//! Kinds of task, each a workflow brought as files: an ASL definition and a
//! descriptor (`NAME.kind.json`) saying what the kind is called, who may
//! start it, its start form and which fields its list shows. The files in
//! the repository's `workflows/` are built in (a build script lists them,
//! so a new file needs no Rust change); `--workflows-dir` adds more at
//! start. See `docs/tasks.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::forms::{Field, check_fields};
use crate::tables::Tables;
use crate::users::{Role, User};
use countersign_model::tasks::Task;

/// The descriptors and definitions in the repository's `workflows/`:
/// (descriptor file name, descriptor, definition file name, definition).
const BUILT_IN: &[(&str, &str, &str, &str)] = include!(concat!(env!("OUT_DIR"), "/kinds.rs"));

/// What a descriptor file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Descriptor {
    /// The kind's name in task rows, URLs and state machine names: 1 to 48
    /// of a-z, 0-9 and `-`.
    pub kind: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// The ASL file, beside the descriptor.
    pub definition: String,
    /// Who may start one from the dashboard or REST, with what form.
    pub start: StartSpec,
    /// Names of the task's context fields shown in the task list.
    #[serde(default)]
    pub list: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartSpec {
    #[serde(default)]
    pub roles: Vec<Role>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub form: Vec<Field>,
}

/// A kind ready to use: its descriptor, its ASL, and once deployed, the
/// state machine it runs as.
#[derive(Debug, Clone)]
pub struct Kind {
    pub descriptor: Descriptor,
    /// The definition as written (with `${…}` placeholders).
    pub definition: String,
    /// Where it came from, for messages.
    pub source: String,
    pub state_machine_arn: Option<String>,
}

impl Kind {
    pub fn name(&self) -> &str {
        &self.descriptor.kind
    }

    /// The name its state machine is deployed under.
    pub fn state_machine_name(&self) -> String {
        format!("countersign-{}", self.descriptor.kind)
    }

    /// Whether `user` may start one.
    pub fn may_start(&self, user: &User) -> bool {
        let start = &self.descriptor.start;
        start.roles.iter().any(|r| user.has(*r))
            || start.groups.iter().any(|g| user.groups.contains(g))
    }

    /// The `TimeoutSeconds` of the Task state `state`, which a task row
    /// written there inherits as its deadline when it names none.
    pub fn state_timeout(&self, state: &str) -> Option<u64> {
        let definition: serde_json::Value = serde_json::from_str(&self.definition).ok()?;
        find_state(&definition, state)?
            .get("TimeoutSeconds")?
            .as_u64()
    }
}

/// Looks for a state by name, in Parallel branches and Map processors too.
fn find_state<'a>(machine: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    let states = machine.get("States")?.as_object()?;
    if let Some(found) = states.get(name) {
        return Some(found);
    }
    states.values().find_map(|state| {
        let branches = state.get("Branches").and_then(|b| b.as_array());
        let nested = branches
            .into_iter()
            .flatten()
            .chain(state.get("Iterator"))
            .chain(state.get("ItemProcessor"));
        nested.into_iter().find_map(|m| find_state(m, name))
    })
}

/// Why a kind could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KindError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{source_name}: {problem}")]
    Invalid {
        source_name: String,
        problem: String,
    },
    #[error("the kind {kind:?} is defined twice ({first} and {second})")]
    Twice {
        kind: String,
        first: String,
        second: String,
    },
}

/// Every kind this server knows, by name.
#[derive(Debug, Clone, Default)]
pub struct Kinds {
    by_name: BTreeMap<String, Kind>,
}

impl Kinds {
    /// The built-in kinds, then those in `dirs`.
    pub fn load(dirs: &[PathBuf]) -> Result<Self, KindError> {
        let mut kinds = Kinds::default();
        for (file, descriptor, definition_file, definition) in BUILT_IN {
            let kind = parse(
                &format!("workflows/{file}"),
                descriptor,
                definition_file,
                definition.to_string(),
            )?;
            kinds.add(kind)?;
        }
        for dir in dirs {
            for kind in load_dir(dir)? {
                kinds.add(kind)?;
            }
        }
        Ok(kinds)
    }

    fn add(&mut self, kind: Kind) -> Result<(), KindError> {
        if let Some(first) = self.by_name.get(kind.name()) {
            return Err(KindError::Twice {
                kind: kind.name().to_owned(),
                first: first.source.clone(),
                second: kind.source,
            });
        }
        self.by_name.insert(kind.name().to_owned(), kind);
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&Kind> {
        self.by_name.get(name)
    }

    /// `task` with its deadline filled in when its row names none: its
    /// `timeoutSeconds`, or else the `TimeoutSeconds` of the Task state it
    /// waits in (the row's `state`), counted from when it was written.
    pub fn with_deadline(&self, mut task: Task) -> Task {
        if task.deadline.is_some() {
            return task;
        }
        let seconds = task.spec().and_then(|s| s.timeout_seconds).or_else(|| {
            let kind = self.get(task.kind()?)?;
            kind.state_timeout(task.state.as_deref()?)
        });
        let created = time::OffsetDateTime::parse(
            &task.created_at,
            &time::format_description::well_known::Rfc3339,
        );
        if let (Some(seconds), Ok(created)) = (seconds, created) {
            let ms = i64::try_from(created.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
            let later = ms.saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX / 2000) * 1000);
            task.deadline = Some(crate::clock::stamp(later));
        }
        task
    }

    pub fn all(&self) -> impl Iterator<Item = &Kind> {
        self.by_name.values()
    }

    /// Creates or updates each kind's state machine, filling the
    /// definitions' placeholders with the table names.
    pub async fn deploy(
        &mut self,
        sfn: &aws_sdk_sfn::Client,
        tables: &Tables,
    ) -> Result<(), crate::DomainError> {
        for kind in self.by_name.values_mut() {
            let definition = crate::workflows::substitute(&kind.definition, tables);
            let arn = crate::workflows::deploy_named(sfn, &kind.state_machine_name(), &definition)
                .await?;
            tracing::info!(kind = kind.name(), "deployed a task kind");
            kind.state_machine_arn = Some(arn);
        }
        Ok(())
    }

    /// Finds each kind's state machine deployed by someone else (the AWS
    /// deploy template), by name.
    pub async fn find_deployed(
        &mut self,
        sfn: &aws_sdk_sfn::Client,
    ) -> Result<(), crate::DomainError> {
        for kind in self.by_name.values_mut() {
            kind.state_machine_arn =
                crate::workflows::find_named(sfn, &kind.state_machine_name()).await?;
            if kind.state_machine_arn.is_none() {
                tracing::warn!(
                    kind = kind.name(),
                    "no state machine is deployed for this kind; it cannot be started"
                );
            }
        }
        Ok(())
    }
}

/// Every `*.kind.json` in `dir`, with its definition.
fn load_dir(dir: &Path) -> Result<Vec<Kind>, KindError> {
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|source| KindError::Read {
            path: path.to_owned(),
            source,
        })
    };
    let entries = std::fs::read_dir(dir).map_err(|source| KindError::Read {
        path: dir.to_owned(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".kind.json"))
        .collect();
    files.sort();
    let mut kinds = Vec::new();
    for path in files {
        let source_name = path.display().to_string();
        let descriptor_text = read(&path)?;
        let descriptor: Descriptor =
            serde_json::from_str(&descriptor_text).map_err(|e| KindError::Invalid {
                source_name: source_name.clone(),
                problem: e.to_string(),
            })?;
        let definition_path = dir.join(&descriptor.definition);
        if !is_plain_file_name(&descriptor.definition) {
            return Err(KindError::Invalid {
                source_name,
                problem: "the definition must be a file beside the descriptor".into(),
            });
        }
        let definition = read(&definition_path)?;
        kinds.push(parse(
            &source_name,
            &descriptor_text,
            &descriptor.definition.clone(),
            definition,
        )?);
    }
    Ok(kinds)
}

fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(['/', '\\']) && name != ".." && name != "."
}

fn parse(
    source_name: &str,
    descriptor: &str,
    definition_file: &str,
    definition: String,
) -> Result<Kind, KindError> {
    let invalid = |problem: String| KindError::Invalid {
        source_name: source_name.to_owned(),
        problem,
    };
    let descriptor: Descriptor =
        serde_json::from_str(descriptor).map_err(|e| invalid(e.to_string()))?;
    if !usable_kind_name(&descriptor.kind) {
        return Err(invalid(format!(
            "the kind name {:?} must be 1 to 48 of a-z, 0-9 and '-'",
            descriptor.kind
        )));
    }
    if descriptor.definition != definition_file {
        return Err(invalid("the definition file does not match".into()));
    }
    check_fields(&descriptor.start.form).map_err(invalid)?;
    serde_json::from_str::<serde_json::Value>(&definition)
        .map_err(|e| invalid(format!("{} is not JSON: {e}", descriptor.definition)))?;
    Ok(Kind {
        descriptor,
        definition,
        source: source_name.to_owned(),
        state_machine_arn: None,
    })
}

/// Kind names: short, lower case, safe in a URL and a state machine name.
pub fn usable_kind_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 48
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_kinds_load_and_a_directory_adds_more() {
        let kinds = Kinds::load(&[]).expect("built-in kinds load");
        let expense = kinds
            .get("expense-approval")
            .expect("expense approval is built in");
        assert!(
            expense
                .descriptor
                .start
                .form
                .iter()
                .any(|f| f.name == "amount")
        );

        let dir = std::env::temp_dir().join(format!("kinds-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(
            dir.join("leave.kind.json"),
            r#"{"kind": "leave", "title": "Leave", "definition": "leave.asl.json", "start": {"roles": ["staff"]}}"#,
        )
        .expect("write");
        std::fs::write(
            dir.join("leave.asl.json"),
            r#"{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken", "TimeoutSeconds": 600, "Parameters": {}, "End": true}}}"#,
        )
        .expect("write");
        let kinds = Kinds::load(std::slice::from_ref(&dir)).expect("loads");
        assert_eq!(
            kinds.get("leave").and_then(|k| k.state_timeout("A")),
            Some(600)
        );

        // The same kind twice is refused, naming both files.
        std::fs::copy(dir.join("leave.kind.json"), dir.join("copy.kind.json")).expect("copy");
        let twice = Kinds::load(std::slice::from_ref(&dir)).expect_err("twice");
        assert!(matches!(twice, KindError::Twice { .. }), "{twice}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
