//! Deciding a task: one of its actions, with its form and a reason or
//! comment, by someone who may (eligible, not excluded: four eyes).
//!
//! A failure action ends the task at once. A success action counts towards
//! the task's quorum: each approval is its own ledger record (one per
//! person, a conditional put) and is tallied on the task row with one
//! conditional update, which says exactly how many there are. The approval
//! that reaches the quorum resumes the workflow through the ledger's claim,
//! so it resumes once, with every approval (who, when, comment, values) in
//! the SendTaskSuccess output.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use serde::Serialize;
use serde_json::{Value, json};

use super::contract::{Action, ActionOutcome, Approval, Contract, ReasonRule, Status, Task};
use crate::DomainError;
use crate::decisions::{MAX_TEXT, Outcome, Pending, Scope};
use crate::ledger::condition_failed;
use crate::orders::{Services, s, unavailable};
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

impl Services {
    /// `user` answers task `task_id`.
    pub async fn answer_task(
        &self,
        user: &User,
        task_id: &str,
        answer: Answer,
    ) -> Result<Answered, DomainError> {
        let Some((task, token)) = self.task_row(task_id).await? else {
            return Err(DomainError::NotFound);
        };
        if !task.may_see(user) {
            return Err(DomainError::NotFound);
        }
        if task.status != Status::Open {
            return Err(self.task_verdict(&task).await);
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
        let pending = |token: String| Pending {
            task_id: task.id.clone(),
            token,
            step: task.state.clone().unwrap_or_else(|| "task".into()),
            scope: Scope::Task {
                task_id: task.id.clone(),
                execution_arn: task.execution.clone(),
            },
        };
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
                    error: action.error.clone().unwrap_or_else(|| "Rejected".into()),
                };
                let payload = json!({"action": action.name, "values": values});
                let decided = self
                    .decide_pending_with(pending(token), outcome, &user.name, None, Some(payload))
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
                    at: self.clock.stamp(),
                    comment: reason,
                    values,
                };
                let (approvals, new) = self.approve(&task, &approval).await?;
                let count = approvals.len();
                if !new && count < spec.quorum as usize {
                    let earlier = approvals.iter().find(|a| a.by == user.name);
                    return Err(DomainError::AlreadyDecided {
                        by: user.name.clone(),
                        at: earlier.map(|a| a.at.clone()).unwrap_or_default(),
                    });
                }
                // An approval already tallied, with the quorum reached but
                // the workflow not resumed (a failure in between): this
                // retry resumes it.
                if count < spec.quorum as usize {
                    self.announce_task_change().await;
                    return Ok(answered(
                        &task,
                        &action.name,
                        count,
                        spec.quorum,
                        false,
                        approval.by,
                        approval.at,
                    ));
                }
                let payload = success_payload(action, &approvals);
                let resumed = self
                    .decide_pending_with(
                        pending(token),
                        Outcome::Advance,
                        &user.name,
                        approval.comment.as_deref(),
                        Some(payload),
                    )
                    .await;
                match resumed {
                    Ok(_) => {}
                    // Another approval reached the quorum at the same
                    // moment and resumed it with this one counted.
                    Err(DomainError::AlreadyDecided { .. }) if spec.quorum > 1 => {}
                    Err(e) => return Err(e),
                }
                Ok(answered(
                    &task,
                    &action.name,
                    count,
                    spec.quorum,
                    true,
                    approval.by,
                    approval.at,
                ))
            }
        }
    }

    /// Records `approval` (once per person) and returns every approval on
    /// the task after it, exactly, and whether this one is new (`false`:
    /// the person had approved before).
    async fn approve(
        &self,
        task: &Task,
        approval: &Approval,
    ) -> Result<(Vec<Approval>, bool), DomainError> {
        let record_key = format!("{}#approval#{}", task.id, approval.by);
        let record = HashMap::from([
            ("taskId".to_owned(), AttributeValue::S(record_key.clone())),
            ("kind".to_owned(), AttributeValue::S("approval".into())),
            ("subject".to_owned(), AttributeValue::S(task.id.clone())),
            (
                "execution".to_owned(),
                AttributeValue::S(task.execution.clone()),
            ),
            ("actor".to_owned(), AttributeValue::S(approval.by.clone())),
            ("at".to_owned(), AttributeValue::S(approval.at.clone())),
            ("outcome".to_owned(), AttributeValue::S("approve".into())),
            ("state".to_owned(), AttributeValue::S("RECORDED".into())),
            (
                "approval".to_owned(),
                AttributeValue::S(serde_json::to_string(approval).unwrap_or_default()),
            ),
        ]);
        let put = self
            .ddb
            .put_item()
            .table_name(&self.tables.decisions)
            .set_item(Some(record))
            .condition_expression("attribute_not_exists(taskId)")
            .send()
            .await;
        let approval = match put {
            Ok(_) => approval.clone(),
            Err(e) if condition_failed(&e) => {
                // Approved before. If the tally has it, that approval
                // stands; if a failure cut it off before the tally, finish
                // it now with what was recorded then.
                if task.approvals.iter().any(|a| a.by == approval.by) {
                    return Ok((task.approvals.clone(), false));
                }
                self.approval_record(&record_key)
                    .await?
                    .unwrap_or_else(|| approval.clone())
            }
            Err(e) => return Err(unavailable("recording an approval")(format!("{e:?}"))),
        };
        self.tally(task, &approval).await
    }

    async fn approval_record(&self, key: &str) -> Result<Option<Approval>, DomainError> {
        let out = self
            .ddb
            .get_item()
            .table_name(&self.tables.decisions)
            .key("taskId", AttributeValue::S(key.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("reading an approval")(format!("{e:?}")))?;
        Ok(out
            .item()
            .and_then(|i| s(i, "approval"))
            .and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Adds `approval` to the task row's tally, once per person, while the
    /// task is open; retried when someone else's approval landed between
    /// the read and the write.
    async fn tally(
        &self,
        task: &Task,
        approval: &Approval,
    ) -> Result<(Vec<Approval>, bool), DomainError> {
        let mut seen = task.approvals.clone();
        for _ in 0..20 {
            if seen.iter().any(|a| a.by == approval.by) {
                return Ok((seen, false));
            }
            let before = serde_json::to_string(&seen).unwrap_or_default();
            let mut after = seen.clone();
            after.push(approval.clone());
            let mut update = self
                .ddb
                .update_item()
                .table_name(&self.tables.tasks)
                .key("taskId", AttributeValue::S(task.id.clone()))
                .update_expression("SET approvals = :after")
                .expression_attribute_names("#open", "open")
                .expression_attribute_values(
                    ":after",
                    AttributeValue::S(serde_json::to_string(&after).unwrap_or_default()),
                )
                .return_values(ReturnValue::AllNew);
            update = if seen.is_empty() {
                update.condition_expression(
                    "attribute_exists(#open) AND attribute_not_exists(approvals)",
                )
            } else {
                update
                    .condition_expression("attribute_exists(#open) AND approvals = :before")
                    .expression_attribute_values(":before", AttributeValue::S(before))
            };
            match update.send().await {
                Ok(_) => return Ok((after, true)),
                Err(e) if condition_failed(&e) => {
                    let Some((now, _)) = self.task_row(&task.id).await? else {
                        return Err(DomainError::NotFound);
                    };
                    if now.status != Status::Open {
                        return Err(self.task_verdict(&now).await);
                    }
                    seen = now.approvals;
                }
                Err(e) => return Err(unavailable("counting an approval")(format!("{e:?}"))),
            }
        }
        Err(DomainError::Unavailable)
    }
}

fn success_payload(action: &Action, approvals: &[Approval]) -> Value {
    let mut values = serde_json::Map::new();
    for approval in approvals {
        for (k, v) in &approval.values {
            values.insert(k.clone(), v.clone());
        }
    }
    let mut payload = json!({
        "action": action.name,
        "approvals": approvals,
        "values": values,
    });
    if let (Some(Value::Object(extra)), Some(out)) = (&action.output, payload.as_object_mut()) {
        out.insert("output".into(), Value::Object(extra.clone()));
    }
    payload
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
