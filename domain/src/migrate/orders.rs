//! Orders' waits as process-order wrote them before orders were a kind of
//! task: into their own table (`orderProcessingActions`, keyed by
//! execution). Such a wait, left in a data directory or an AWS account by
//! that version, is carried over into the tasks table as the row today's
//! process-order writes, with the same token, so the order is decided as
//! any other. An execution started by that version goes on running its
//! own definition (Step Functions keeps it) and writes its next wait the
//! old way, so the reconciler carries waits over on every pass, not only
//! at start: one Query of the old table's inbox index, empty once those
//! orders are done.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

use super::{Carried, Migration, Step};
use crate::DomainError;
use crate::items::{Item, condition_failed, s, unavailable};
use crate::ledger::State;
use crate::orders::{ORDERS_INBOX, OrderStatus, wait_id};
use crate::tables::INBOX_INDEX;

/// The task JSON process-order writes for a wait in `status`; the same
/// text as the definition's "Ask staff" states build.
pub fn order_task(
    order_id: &str,
    customer: &str,
    items: &[String],
    status: OrderStatus,
) -> serde_json::Value {
    let next = match status {
        OrderStatus::Pending => "Mark PROCESSING",
        _ => "Mark SENT",
    };
    json!({
        "kind": crate::orders::KIND,
        "subject": {
            "id": order_id,
            "title": format!("Order from {customer}: {status}"),
            "link": format!("/orders/{order_id}"),
        },
        "requester": customer,
        "eligible": {"roles": ["staff"]},
        "quorum": 1,
        "actions": [
            {"name": "advance", "label": next, "outcome": "success", "reason": "optional"},
            {"name": "reject", "label": "Reject", "outcome": "failure", "error": "Rejected", "reason": "required"}
        ],
        "context": [
            {"name": "status", "label": "Status", "value": status.as_str()},
            {"name": "customer", "label": "Customer", "value": customer},
            {"name": "items", "label": "Items", "value": serde_json::to_string(items).unwrap_or_default()}
        ]
    })
}

impl Migration<'_> {
    /// Carries every wait in the old actions table over (see the module).
    pub async fn order_waits(self) -> Result<Carried, DomainError> {
        let mut done = Carried::default();
        let mut start = None;
        loop {
            let out = self
                .s
                .ddb
                .query()
                .table_name(&self.s.tables.actions)
                .index_name(INBOX_INDEX)
                .key_condition_expression("inbox = :inbox")
                .expression_attribute_values(":inbox", AttributeValue::S(ORDERS_INBOX.into()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| unavailable("reading old order waits")(format!("{e:?}")))?;
            for row in out.items() {
                done.count(self.carry_over(row).await?);
            }
            match out.last_evaluated_key() {
                Some(key) => start = Some(key.clone()),
                None => break,
            }
        }
        if done.carried + done.removed > 0 {
            tracing::info!(
                carried = done.carried,
                removed = done.removed,
                "carried order waits over into the tasks table"
            );
        }
        Ok(done)
    }

    async fn carry_over(self, row: &Item) -> Result<Step, DomainError> {
        let (Some(old_task), Some(order_id), Some(execution)) =
            (s(row, "taskId"), s(row, "orderId"), s(row, "executionId"))
        else {
            return Ok(Step::Left);
        };
        // A decision claimed on the old row is the ledger's to finish; once
        // it has taken effect the old row is only a leftover. One refused
        // outright changed nothing, so the step still waits.
        match self.s.ledger().entry(&old_task).await? {
            Some(entry) if entry.state == State::Failed => {}
            Some(entry) if entry.finished_at.is_some() || entry.state == State::Recorded => {
                return self.remove_old(&execution, &old_task, Step::Removed).await;
            }
            Some(_) => return Ok(Step::Left),
            None => {}
        }
        let Some(status) = s(row, "status").as_deref().and_then(OrderStatus::parse) else {
            return Ok(Step::Left);
        };
        let (Some(token), true) = (s(row, "taskToken"), status.waits()) else {
            return Ok(Step::Left);
        };
        let customer = s(row, "customer").unwrap_or_default();
        let items = match self.s.orders().get(&order_id).await {
            Ok(order) => order.items,
            Err(DomainError::NotFound) => Vec::new(),
            Err(e) => return Err(e),
        };
        let task = order_task(&order_id, &customer, &items, status);
        let created = s(row, "createdAt").unwrap_or_default();
        let put = self
            .s
            .ddb
            .put_item()
            .table_name(&self.s.tables.tasks)
            .item("taskId", AttributeValue::S(wait_id(&order_id, status)))
            .item("token", AttributeValue::S(token))
            .item("execution", AttributeValue::S(execution.clone()))
            .item(
                "state",
                AttributeValue::S(format!("Wait for staff: {status}")),
            )
            .item("createdAt", AttributeValue::S(created))
            .item(
                "open",
                AttributeValue::S(crate::tasks::contract::OPEN.into()),
            )
            .item("inbox", AttributeValue::S(ORDERS_INBOX.into()))
            .item("task", AttributeValue::S(task.to_string()))
            // Carried over once: a second replica's pass changes nothing.
            .condition_expression("attribute_not_exists(taskId)")
            .send()
            .await;
        match put {
            Ok(_) => {}
            Err(e) if condition_failed(&e) => {}
            Err(e) => return Err(unavailable("carrying an order wait over")(format!("{e:?}"))),
        }
        self.remove_old(&execution, &old_task, Step::Carried).await
    }

    /// Deletes the old row while it is still `task_id`'s (the old workflow
    /// may have written its next wait under the same key meanwhile).
    async fn remove_old(
        self,
        execution: &str,
        task_id: &str,
        then: Step,
    ) -> Result<Step, DomainError> {
        let deleted = self
            .s
            .ddb
            .delete_item()
            .table_name(&self.s.tables.actions)
            .key("executionId", AttributeValue::S(execution.into()))
            .condition_expression("taskId = :task")
            .expression_attribute_values(":task", AttributeValue::S(task_id.into()))
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(then),
            Err(e) if condition_failed(&e) => Ok(then),
            Err(e) => Err(unavailable("removing an old order wait")(format!("{e:?}"))),
        }
    }
}
