//! Who works on a task: claim it, give it back, assign or reassign it.
//! Each change is one conditional write on the task row, so two people
//! claiming at once get one winner, and the other is told who.

use aws_sdk_dynamodb::types::AttributeValue;

use super::Tasks;
use super::contract::{Assignment, Status, Task};
use crate::DomainError;
use crate::items::condition_failed;
use crate::items::unavailable;
use crate::outcome::MAX_TEXT;
use crate::users::{Role, User};

impl Tasks<'_> {
    /// `user` takes an open task they may decide.
    pub async fn claim(self, user: &User, task_id: &str) -> Result<Task, DomainError> {
        let task = self.open(user, task_id).await?;
        if !task.may_decide(user) {
            return Err(DomainError::Forbidden);
        }
        match &task.assignee {
            Some(by) if by == &user.name => return Ok(task),
            Some(by) => return Err(DomainError::Claimed { by: by.clone() }),
            None => {}
        }
        self.hand_over(user, &task, Some(&user.name), None).await
    }

    /// The assignee (or staff) gives a task back to its pool.
    pub async fn unclaim(self, user: &User, task_id: &str) -> Result<Task, DomainError> {
        let task = self.open(user, task_id).await?;
        let Some(assignee) = &task.assignee else {
            return Ok(task);
        };
        if assignee != &user.name && !user.has(Role::Staff) {
            return Err(DomainError::Forbidden);
        }
        self.hand_over(user, &task, None, None).await
    }

    /// Staff, or the assignee delegating, give a task to `to`, who must be
    /// someone who may decide it.
    pub async fn assign(
        self,
        user: &User,
        task_id: &str,
        to: &str,
        reason: Option<&str>,
    ) -> Result<Task, DomainError> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if reason.is_some_and(|r| r.chars().count() > MAX_TEXT) {
            return Err(DomainError::Invalid(format!(
                "the reason is longer than {MAX_TEXT} characters"
            )));
        }
        let task = self.open(user, task_id).await?;
        let holds = task.assignee.as_deref() == Some(&user.name);
        if !user.has(Role::Staff) && !holds {
            return Err(DomainError::Forbidden);
        }
        let target = self
            .s
            .accounts()
            .user(to)
            .await?
            .ok_or_else(|| DomainError::Invalid(format!("there is no user named {to:?}")))?;
        if !task.may_decide(&target) {
            return Err(DomainError::Invalid(format!(
                "{to} may not decide this task"
            )));
        }
        if task.assignee.as_deref() == Some(to) {
            return Ok(task);
        }
        self.hand_over(user, &task, Some(to), reason).await
    }

    async fn open(self, user: &User, task_id: &str) -> Result<Task, DomainError> {
        let task = self.get(user, task_id).await?;
        match task.status {
            Status::Open => Ok(task),
            _ => Err(self.verdict(&task).await),
        }
    }

    /// Moves the task from the assignee it was read with to `to`: only if
    /// nobody changed hands in between and it still waits.
    async fn hand_over(
        self,
        user: &User,
        seen: &Task,
        to: Option<&str>,
        reason: Option<&str>,
    ) -> Result<Task, DomainError> {
        let change = Assignment {
            from: seen.assignee.clone(),
            to: to.map(str::to_owned),
            by: user.name.clone(),
            at: self.s.clock.stamp(),
            reason: reason.map(str::to_owned),
        };
        let mut assignments = seen.assignments.clone();
        assignments.push(change);
        let assignments = serde_json::to_string(&assignments).unwrap_or_default();
        let mut update = self
            .s
            .ddb
            .update_item()
            .table_name(&self.s.tables.tasks)
            .key("taskId", AttributeValue::S(seen.id.clone()))
            .expression_attribute_names("#open", "open")
            .expression_attribute_names("#assignee", "assignee")
            .expression_attribute_values(":assignments", AttributeValue::S(assignments));
        update = match &seen.assignee {
            Some(current) => update
                .condition_expression("attribute_exists(#open) AND #assignee = :seen")
                .expression_attribute_values(":seen", AttributeValue::S(current.clone())),
            None => update.condition_expression(
                "attribute_exists(#open) AND attribute_not_exists(#assignee)",
            ),
        };
        update = match to {
            Some(to) => update
                .update_expression("SET #assignee = :to, assignments = :assignments")
                .expression_attribute_values(":to", AttributeValue::S(to.into())),
            None => update.update_expression("SET assignments = :assignments REMOVE #assignee"),
        };
        match update.send().await {
            Ok(_) => {
                tracing::info!(
                    task_id = seen.id,
                    by = user.name,
                    to,
                    "a task changed hands"
                );
                self.announce_change().await;
                self.get(user, &seen.id).await.or_else(|_| {
                    // Handed to someone else, the task may no longer be the
                    // giver's to see; say what was done.
                    let mut after = seen.clone();
                    after.assignee = to.map(str::to_owned);
                    Ok(after)
                })
            }
            Err(e) if condition_failed(&e) => {
                let now = self.row(&seen.id).await?.map(|(t, _)| t);
                match now {
                    Some(now) if now.status != Status::Open => Err(self.verdict(&now).await),
                    Some(Task {
                        assignee: Some(by), ..
                    }) if to.is_some() && Some(by.as_str()) != to => {
                        Err(DomainError::Claimed { by })
                    }
                    Some(now) => Ok(now),
                    None => Err(DomainError::NotFound),
                }
            }
            Err(e) => Err(unavailable("assigning a task")(format!("{e:?}"))),
        }
    }

    /// Why a task that no longer waits cannot be worked on.
    pub(crate) async fn verdict(self, task: &Task) -> DomainError {
        match task.status {
            Status::Expired => DomainError::Expired,
            _ => match self.s.decisions().verdict(&task.id).await {
                DomainError::NotFound => DomainError::AlreadyDecided {
                    by: task.decided_by.clone().unwrap_or_default(),
                    at: task.decided_at.clone().unwrap_or_default(),
                },
                other => other,
            },
        }
    }

    /// Tells open pages something changed; a failure only delays them.
    pub(crate) async fn announce_change(self) {
        if let Err(e) = self.s.live().try_announce().await {
            tracing::warn!(error = %e, "telling pages about a task change failed");
        }
    }
}
