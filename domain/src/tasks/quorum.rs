//! Approvals towards a task's quorum, each its own record in the decisions
//! table, and the one resume when the quorum is reached.
//!
//! An approval moves in three writes: its record (one per person, a
//! conditional put), the tally on the task row (one conditional update,
//! so it says exactly how many there are), and, at the quorum, the resume
//! through the ledger's claim (so the workflow resumes once). A failure
//! between any two would leave an approval counted by nobody or a quorum
//! that resumes nothing; so the record is written unfinished, in the
//! ledger's open index with a lease, and is finished only after the tally
//! and any resume. If its lease runs out first, the reconciler finishes
//! the same steps (each is safe to repeat).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use serde_json::{Value, json};

use super::contract::{Action, Approval, Contract, Status, Task};
use crate::DomainError;
use crate::items::condition_failed;
use crate::items::{Item, s, unavailable};
use crate::ledger::APPROVAL;
use crate::outcome::{Outcome, Pending, Scope};
use crate::services::Services;
use crate::services::lease_end;

/// `open` on a record still to be finished, as on unfinished decisions.
const OPEN: &str = "open";

/// An approval record whose lease ran out before it was finished.
#[derive(Debug, Clone)]
pub(crate) struct Unfinished {
    key: String,
    task_id: String,
    action: String,
    approval: Approval,
    due: String,
}

impl Unfinished {
    pub(crate) fn from_item(item: &Item) -> Option<Self> {
        Some(Unfinished {
            key: s(item, "taskId")?,
            task_id: s(item, "subject")?,
            action: s(item, "action")?,
            approval: serde_json::from_str(&s(item, "approval")?).ok()?,
            due: s(item, "due")?,
        })
    }
}

/// What the reconciler did with an unfinished approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Settled {
    /// Another replica holds it.
    Busy,
    /// Counted, and the task resumed if that reached the quorum.
    Finished,
    /// Not yet (a call failed); the next lease tries again.
    Later,
}

fn record_key(task_id: &str, person: &str) -> String {
    format!("{task_id}#{APPROVAL}#{person}")
}

/// The ledger's view of a task waiting with `token`.
pub(super) fn pending(task: &Task, token: String) -> Pending {
    Pending {
        task_id: task.id.clone(),
        token,
        step: task.state.clone().unwrap_or_else(|| "task".into()),
        kind: task.kind().unwrap_or_default().to_owned(),
        scope: Scope::Task {
            subject: match &task.contract {
                Contract::Valid(spec) => spec.subject.id.clone(),
                Contract::Malformed { .. } => task.id.clone(),
            },
            execution_arn: task.execution.clone(),
        },
    }
}

/// The approvals of tasks that need more than one, and their quorum.
/// A handle on [`Services`]; get one with [`Services::approvals`].
#[derive(Debug, Clone, Copy)]
pub struct Approvals<'a> {
    s: &'a Services,
}

impl Services {
    /// The approvals of quorum tasks.
    pub fn approvals(&self) -> Approvals<'_> {
        Approvals { s: self }
    }
}

impl Approvals<'_> {
    /// Records `approval` of `action` (once per person) and returns every
    /// approval on the task after it, exactly, and whether this one is new
    /// (`false`: the person had approved before).
    pub(super) async fn approve(
        self,
        task: &Task,
        action: &str,
        approval: &Approval,
    ) -> Result<(Vec<Approval>, bool), DomainError> {
        let key = record_key(&task.id, &approval.by);
        let record = HashMap::from([
            ("taskId".to_owned(), AttributeValue::S(key.clone())),
            ("kind".to_owned(), AttributeValue::S(APPROVAL.into())),
            ("subject".to_owned(), AttributeValue::S(task.id.clone())),
            (
                "execution".to_owned(),
                AttributeValue::S(task.execution.clone()),
            ),
            ("actor".to_owned(), AttributeValue::S(approval.by.clone())),
            ("at".to_owned(), AttributeValue::S(approval.at.clone())),
            ("outcome".to_owned(), AttributeValue::S("approve".into())),
            ("action".to_owned(), AttributeValue::S(action.into())),
            ("state".to_owned(), AttributeValue::S("TALLYING".into())),
            ("open".to_owned(), AttributeValue::S(OPEN.into())),
            ("due".to_owned(), AttributeValue::S(lease_end(self.s))),
            (
                "approval".to_owned(),
                AttributeValue::S(serde_json::to_string(approval).unwrap_or_default()),
            ),
        ]);
        let put = self
            .s
            .ddb
            .put_item()
            .table_name(&self.s.tables.decisions)
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
                self.record(&key).await?.unwrap_or_else(|| approval.clone())
            }
            Err(e) => return Err(unavailable("recording an approval")(format!("{e:?}"))),
        };
        self.tally(task, &approval).await
    }

    async fn record(self, key: &str) -> Result<Option<Approval>, DomainError> {
        let out = self
            .s
            .ddb
            .get_item()
            .table_name(&self.s.tables.decisions)
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
        self,
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
                .s
                .ddb
                .update_item()
                .table_name(&self.s.tables.tasks)
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
                    let Some((now, _)) = self.s.tasks().row(&task.id).await? else {
                        return Err(DomainError::NotFound);
                    };
                    if now.status != Status::Open {
                        return Err(self.s.tasks().verdict(&now).await);
                    }
                    seen = now.approvals;
                }
                Err(e) => return Err(unavailable("counting an approval")(format!("{e:?}"))),
            }
        }
        Err(DomainError::Unavailable)
    }

    /// Resumes the task with every approval if `approvals` reach its
    /// quorum, as decided by `last`'s approver; whether it is resumed (by
    /// this call, or by a concurrent approval that reached the quorum with
    /// these counted).
    pub(super) async fn resume_at_quorum(
        self,
        task: &Task,
        token: Option<String>,
        action: &Action,
        approvals: &[Approval],
        quorum: u32,
        last: &Approval,
    ) -> Result<bool, DomainError> {
        if approvals.len() < quorum as usize {
            return Ok(false);
        }
        let token = token.ok_or(DomainError::Unavailable)?;
        let payload = self
            .s
            .tasks()
            .with_task_files(task, success_payload(action, approvals))
            .await?;
        let resumed = self
            .s
            .decisions()
            .decide_pending_with(
                pending(task, token),
                Outcome::Advance,
                &last.by,
                last.comment.as_deref(),
                payload,
            )
            .await;
        match resumed {
            Ok(_) => Ok(true),
            Err(DomainError::AlreadyDecided { .. }) if quorum > 1 => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// Takes `person`'s approval record out of the open index: counted,
    /// and resumed if that was due. A failure here only leaves the
    /// reconciler a pass with nothing to change.
    pub(super) async fn finished(self, task_id: &str, person: &str) {
        let done = self
            .s
            .ddb
            .update_item()
            .table_name(&self.s.tables.decisions)
            .key("taskId", AttributeValue::S(record_key(task_id, person)))
            .update_expression("SET #state = :recorded REMOVE #open, #due")
            .condition_expression("attribute_exists(taskId)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#open", "open")
            .expression_attribute_names("#due", "due")
            .expression_attribute_values(":recorded", AttributeValue::S("RECORDED".into()))
            .send()
            .await;
        if let Err(e) = done {
            tracing::warn!(task_id, error = ?e, "finishing an approval record failed; the reconciler will");
        }
    }

    /// For the reconciler: finishes an approval whose lease ran out (its
    /// request failed or its process died mid-way).
    pub(crate) async fn settle(self, row: &Unfinished) -> Result<Settled, DomainError> {
        let leased = self
            .s
            .ddb
            .update_item()
            .table_name(&self.s.tables.decisions)
            .key("taskId", AttributeValue::S(row.key.clone()))
            .update_expression("SET #due = :due")
            .condition_expression("attribute_exists(#open) AND #due = :seen")
            .expression_attribute_names("#open", "open")
            .expression_attribute_names("#due", "due")
            .expression_attribute_values(":due", AttributeValue::S(lease_end(self.s)))
            .expression_attribute_values(":seen", AttributeValue::S(row.due.clone()))
            .send()
            .await;
        match leased {
            Ok(_) => {}
            Err(e) if condition_failed(&e) => return Ok(Settled::Busy),
            Err(e) => return Err(unavailable("leasing an approval")(format!("{e:?}"))),
        }
        let person = row.approval.by.as_str();
        let Some((task, token)) = self.s.tasks().row(&row.task_id).await? else {
            self.finished(&row.task_id, person).await;
            return Ok(Settled::Finished);
        };
        let action = match &task.contract {
            Contract::Valid(spec) if task.status == Status::Open => spec
                .actions
                .iter()
                .find(|a| a.name == row.action)
                .map(|a| (a.clone(), spec.quorum)),
            _ => None,
        };
        // Decided, expired or unreadable since: nothing left to count.
        let Some((action, quorum)) = action else {
            self.finished(&row.task_id, person).await;
            return Ok(Settled::Finished);
        };
        let counted = match self.tally(&task, &row.approval).await {
            Ok((approvals, _)) => {
                self.resume_at_quorum(&task, token, &action, &approvals, quorum, &row.approval)
                    .await
            }
            Err(e) => Err(e),
        };
        match counted {
            Ok(_)
            | Err(
                DomainError::AlreadyDecided { .. } | DomainError::Expired | DomainError::NotFound,
            ) => {
                self.finished(&row.task_id, person).await;
                self.s.tasks().announce_change().await;
                Ok(Settled::Finished)
            }
            Err(e) => {
                tracing::warn!(task_id = row.task_id, error = %e, "an approval is not counted yet; retrying later");
                Ok(Settled::Later)
            }
        }
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
