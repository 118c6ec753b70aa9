//! Deciding a task: one of its actions, with its form and a reason or
//! comment, by someone who may (eligible, not excluded: four eyes).
//!
//! A failure action ends the task at once. A success action counts towards
//! the task's quorum ([`super::quorum`]): the approval that reaches it
//! resumes the workflow once, with every approval (who, when, comment,
//! values) in the SendTaskSuccess output.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::Tasks;
use super::contract::{ActionOutcome, Approval, Contract, ReasonRule, Status, Task};
use super::quorum::pending;
use crate::DomainError;
use crate::outcome::{MAX_TEXT, Outcome};
use crate::users::{Role, User};

/// The action staff take on a task whose row breaks the contract: it fails
/// the task with [`MALFORMED_ERROR`], so its workflow does not wait forever.
pub const FAIL_MALFORMED: &str = "fail-malformed";
/// The error name a malformed task is failed with.
pub const MALFORMED_ERROR: &str = "Countersign.MalformedTask";

/// What a person answers.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    pub action: String,
    /// The form's values, typed or as text.
    pub values: BTreeMap<String, Value>,
    /// A failure's reason, or a success's comment.
    pub reason: Option<String>,
}

/// What an answer did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Answered {
    pub task_id: String,
    pub action: String,
    /// Approvals counted so far (after this one).
    pub approvals: usize,
    pub quorum: u32,
    /// Whether the workflow was resumed (by this answer or a concurrent
    /// one that reached the quorum with it).
    pub resumed: bool,
    pub by: String,
    pub at: String,
}

impl Tasks<'_> {
    /// A task decision's payload with the files its decider saw.
    pub(super) async fn with_task_files(
        self,
        task: &Task,
        payload: Value,
    ) -> Result<Option<Value>, DomainError> {
        let files = match crate::attachments::Owner::of_task(task) {
            Some(owner) => self.s.attachments().refs(&owner).await?,
            None => vec![],
        };
        Ok(crate::attachments::with_files(Some(payload), files))
    }

    /// `user` answers task `task_id`.
    pub async fn answer(
        self,
        user: &User,
        task_id: &str,
        answer: Answer,
    ) -> Result<Answered, DomainError> {
        let Some((task, token)) = self.row(task_id).await? else {
            return Err(DomainError::NotFound);
        };
        if !task.may_see(user) {
            return Err(DomainError::NotFound);
        }
        if task.status != Status::Open {
            return Err(self.verdict(&task).await);
        }
        let reason = answer
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_owned);
        if reason
            .as_ref()
            .is_some_and(|r| r.chars().count() > MAX_TEXT)
        {
            return Err(DomainError::Invalid(format!(
                "the reason is longer than {MAX_TEXT} characters"
            )));
        }
        let pending = |token: String| pending(&task, token);
        let spec = match &task.contract {
            Contract::Valid(spec) => spec,
            Contract::Malformed { .. } => {
                // Nobody can answer what cannot be read; staff can end it.
                if !user.has(Role::Staff) || answer.action != FAIL_MALFORMED {
                    return Err(DomainError::Forbidden);
                }
                let reason = reason.ok_or_else(|| {
                    DomainError::Invalid("failing a malformed task needs a reason".into())
                })?;
                let token = token.ok_or(DomainError::Unavailable)?;
                let outcome = Outcome::Reject {
                    reason,
                    error: MALFORMED_ERROR.into(),
                };
                let payload = json!({"action": FAIL_MALFORMED});
                let decided = self
                    .s
                    .decisions()
                    .decide_pending_with(pending(token), outcome, &user.name, None, Some(payload))
                    .await?;
                return Ok(answered(
                    &task,
                    FAIL_MALFORMED,
                    0,
                    1,
                    true,
                    decided.by,
                    decided.at,
                ));
            }
        };
        if !task.may_decide(user) {
            return Err(DomainError::Forbidden);
        }
        let action = spec
            .actions
            .iter()
            .find(|a| a.name == answer.action)
            .ok_or_else(|| {
                DomainError::Invalid(format!(
                    "no action {:?}; this task's actions are {}",
                    answer.action,
                    spec.actions
                        .iter()
                        .map(|a| a.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        // Assigned to someone else, a single decision is theirs to make.
        if spec.quorum <= 1
            && let Some(assignee) = &task.assignee
            && assignee != &user.name
        {
            return Err(DomainError::Claimed {
                by: assignee.clone(),
            });
        }
        match (action.reason, &reason) {
            (ReasonRule::Required, None) => {
                return Err(DomainError::Invalid(format!(
                    "{} needs a reason",
                    action.label
                )));
            }
            (ReasonRule::None, Some(_)) => {
                return Err(DomainError::Invalid(format!(
                    "{} takes no reason or comment",
                    action.label
                )));
            }
            _ => {}
        }
        let values =
            crate::forms::validate(&spec.form, &answer.values).map_err(DomainError::Form)?;
        let values: serde_json::Map<String, Value> = values.into_iter().collect();
        let token = token.ok_or(DomainError::Unavailable)?;
        match action.outcome {
            ActionOutcome::Failure => {
                let outcome = Outcome::Reject {
                    reason: reason.unwrap_or_else(|| action.label.clone()),
                    error: action.error_name().to_owned(),
                };
                let payload = json!({"action": action.name, "values": values});
                let payload = self.with_task_files(&task, payload).await?;
                let decided = self
                    .s
                    .decisions()
                    .decide_pending_with(pending(token), outcome, &user.name, None, payload)
                    .await?;
                Ok(answered(
                    &task,
                    &action.name,
                    task.approvals.len(),
                    spec.quorum,
                    true,
                    decided.by,
                    decided.at,
                ))
            }
            ActionOutcome::Success => {
                let approval = Approval {
                    by: user.name.clone(),
                    at: self.s.clock.stamp(),
                    comment: reason,
                    values,
                };
                let (approvals, new) = self
                    .s
                    .approvals()
                    .approve(&task, &action.name, &approval)
                    .await?;
                let count = approvals.len();
                if !new && count < spec.quorum as usize {
                    let earlier = approvals.iter().find(|a| a.by == user.name);
                    return Err(DomainError::AlreadyDecided {
                        by: user.name.clone(),
                        at: earlier.map(|a| a.at.clone()).unwrap_or_default(),
                    });
                }
                // An approval already tallied, with the quorum reached but
                // the workflow not resumed (a failure in between), is
                // resumed by this retry.
                let resumed = self
                    .s
                    .approvals()
                    .resume_at_quorum(
                        &task,
                        Some(token),
                        action,
                        &approvals,
                        spec.quorum,
                        &approval,
                    )
                    .await?;
                self.s.approvals().finished(&task.id, &user.name).await;
                if !resumed {
                    self.announce_change().await;
                }
                Ok(answered(
                    &task,
                    &action.name,
                    count,
                    spec.quorum,
                    resumed,
                    approval.by,
                    approval.at,
                ))
            }
        }
    }
}

fn answered(
    task: &Task,
    action: &str,
    approvals: usize,
    quorum: u32,
    resumed: bool,
    by: String,
    at: String,
) -> Answered {
    Answered {
        task_id: task.id.clone(),
        action: action.to_owned(),
        approvals,
        quorum,
        resumed,
        by,
        at,
    }
}
