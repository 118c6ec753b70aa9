//! Human tasks of any kind: what a workflow asks through the task contract
//! ([`contract`]), listed, claimed, assigned and decided here. Decisions go
//! through the one ledger ([`crate::ledger`]), so a task resumes its
//! workflow exactly once, whatever races for it.
//!
//! # Layout
//! - `contract`: the row a workflow writes, its schema, how it reads back.
//! - `views`: the lists: open, unassigned, assigned to me, my groups, by
//!   deadline; queries on sparse indexes, never a Scan.
//! - `assign`: claim, give back, assign and reassign.
//! - `decide`: actions, forms and four eyes.
//! - `quorum`: approvals counted exactly, and the one resume at the
//!   quorum, finished by the reconciler when a request stops half-way.
//! - `start`: starting a kind's workflow from its start form.
//! - `saved`: named views of the list, kept on the server and shareable
//!   with a group.

pub mod assign;
pub mod contract;
pub mod decide;
pub mod quorum;
pub mod saved;
pub mod start;
pub mod views;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::DomainError;
use crate::items::{unavailable, usable_key};
use crate::services::Services;
use crate::users::User;
pub use contract::{Contract, Spec, Status, Task};

/// How a decided task ended, for its row.
pub(crate) struct Ending<'a> {
    pub outcome: &'a crate::outcome::Outcome,
    /// Whether the workflow took the decision (else the task expired).
    pub applied: bool,
    pub at: &'a str,
    pub by: &'a str,
    /// The task action taken, if the decision was one.
    pub action: Option<&'a str>,
}

/// Human tasks of any kind: reading, listing, starting, assigning and answering them.
/// A handle on [`Services`]; get one with [`Services::tasks`].
#[derive(Debug, Clone, Copy)]
pub struct Tasks<'a> {
    s: &'a Services,
}

impl Services {
    /// Tasks of every kind.
    pub fn tasks(&self) -> Tasks<'_> {
        Tasks { s: self }
    }
}

impl Tasks<'_> {
    /// A task and its token (server side only), read consistently.
    pub(crate) async fn row(
        self,
        task_id: &str,
    ) -> Result<Option<(Task, Option<String>)>, DomainError> {
        if !usable_key(task_id) {
            return Ok(None);
        }
        let out = self
            .s
            .ddb
            .get_item()
            .table_name(&self.s.tables.tasks)
            .key("taskId", AttributeValue::S(task_id.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("reading a task")(format!("{e:?}")))?;
        Ok(out.item().and_then(contract::from_item))
    }

    /// A task `user` may see; `NotFound` for one they may not (which is not
    /// told from one that does not exist).
    pub async fn get(self, user: &User, task_id: &str) -> Result<Task, DomainError> {
        match self.row(task_id).await? {
            Some((task, _)) if task.may_see(user) => Ok(task),
            _ => Err(DomainError::NotFound),
        }
    }

    /// Step 3 of a decision on a task: the row leaves the open indexes
    /// (the staff inbox's and the signer's too), with how it ended.
    /// Conditional on it still being open, so that a late close never
    /// rewrites a task that ended otherwise.
    pub(crate) async fn close(self, task_id: &str, end: &Ending<'_>) -> Result<(), (bool, String)> {
        use crate::outcome::Outcome;
        let status = match (end.outcome, end.applied) {
            (Outcome::Advance, true) => Status::Approved,
            (Outcome::Reject { .. }, true) => Status::Rejected,
            (_, false) => Status::Expired,
        };
        let mut update = self
            .s
            .ddb
            .update_item()
            .table_name(&self.s.tables.tasks)
            .key("taskId", AttributeValue::S(task_id.into()))
            .expression_attribute_names("#open", "open")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":status", AttributeValue::S(status.as_str().into()))
            .expression_attribute_values(":at", AttributeValue::S(end.at.into()));
        update = if end.applied {
            // A decision the workflow took is what happened, even where the
            // workflow closed the row first as it ended (sign-document
            // closes every open request once one signer declines, the
            // decliner's own included).
            update
                .condition_expression(
                    "attribute_exists(#open) OR (#status = :expired AND attribute_not_exists(decidedBy))",
                )
                .expression_attribute_values(
                    ":expired",
                    AttributeValue::S(Status::Expired.as_str().into()),
                )
        } else {
            update.condition_expression("attribute_exists(#open)")
        };
        update = match (end.applied, end.action) {
            (true, Some(action)) => update
                .update_expression("SET #status = :status, decidedAt = :at, decidedBy = :by, #action = :action REMOVE #open, #token, assignee, inbox")
                .expression_attribute_names("#action", "action")
                .expression_attribute_values(":by", AttributeValue::S(end.by.into()))
                .expression_attribute_values(":action", AttributeValue::S(action.into())),
            (true, None) => update
                .update_expression("SET #status = :status, decidedAt = :at, decidedBy = :by REMOVE #open, #token, assignee, inbox")
                .expression_attribute_values(":by", AttributeValue::S(end.by.into())),
            (false, _) => update.update_expression(
                "SET #status = :status, decidedAt = :at REMOVE #open, #token, assignee, inbox",
            ),
        };
        update
            .send()
            .await
            .map(|_| ())
            .map_err(|e| (crate::items::condition_failed(&e), format!("{e:?}")))
    }
}
