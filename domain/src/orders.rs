//! Orders: placing one (which starts its workflow), reading it with its
//! history, and the staff inbox of orders waiting for a decision.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

pub use countersign_model::orders::{
    HistoryEntry, Notification, Order, OrderStatus, OrderSummary, PendingTask,
};

use crate::DomainError;
use crate::items::{Item, list_of_maps, s, time_key, unavailable, usable_key};
use crate::outcome::{Pending, Scope};
use crate::services::Services;
use crate::tables::{CUSTOMER_INDEX, INBOX_INDEX};
use crate::workflows::start_workflow;

/// The `history` list of an order or document item.
pub(crate) fn history_of(item: &Item) -> Vec<HistoryEntry> {
    list_of_maps(item, "history")
        .iter()
        .map(|m| HistoryEntry {
            at: s(m, "at").unwrap_or_default(),
            by: s(m, "by").unwrap_or_default(),
            status: s(m, "status"),
            decision: s(m, "decision"),
            comment: s(m, "comment"),
            error: s(m, "error"),
            cause: s(m, "cause"),
            receipt: None,
        })
        .collect()
}

/// An order row's status: PENDING until the workflow first writes one
/// (the row is written as the order is placed); text the workflow never
/// writes reads as ERROR, so such an order waits for nobody.
fn status_of(item: &Item) -> OrderStatus {
    match s(item, "status") {
        None => OrderStatus::Pending,
        Some(text) => OrderStatus::parse(&text).unwrap_or_else(|| {
            tracing::warn!(
                status = text,
                "an order row has a status no workflow writes"
            );
            OrderStatus::Error
        }),
    }
}

/// The kind of task an order's waits are (process-order's task rows).
pub const KIND: &str = "process-order";

/// Most items an order may have.
pub const MAX_ITEMS: usize = 100;
/// Longest item name.
pub const MAX_ITEM_LEN: usize = 200;

/// Orders: placing one, reading it and its history, the step it waits on.
/// A handle on [`Services`]; get one with [`Services::orders`].
#[derive(Debug, Clone, Copy)]
pub struct Orders<'a> {
    s: &'a Services,
}

impl Services {
    /// Orders, for placing, reading and following them.
    pub fn orders(&self) -> Orders<'_> {
        Orders { s: self }
    }
}

impl Orders<'_> {
    /// Starts an order for `customer`; returns its id.
    pub async fn place(self, customer: &str, items: &[String]) -> Result<String, DomainError> {
        if customer.trim().is_empty() {
            return Err(DomainError::Invalid("an order needs a customer".into()));
        }
        if items.is_empty() {
            return Err(DomainError::Invalid(
                "an order needs at least one item".into(),
            ));
        }
        if items.len() > MAX_ITEMS {
            return Err(DomainError::Invalid(format!(
                "an order holds at most {MAX_ITEMS} items"
            )));
        }
        if let Some(bad) = items
            .iter()
            .find(|i| i.trim().is_empty() || i.chars().count() > MAX_ITEM_LEN)
        {
            return Err(DomainError::Invalid(format!(
                "every item needs a name of 1 to {MAX_ITEM_LEN} characters (got {bad:?})"
            )));
        }
        let order_id = uuid::Uuid::new_v4().to_string();
        let input = serde_json::json!({"orderId": order_id, "customer": customer, "items": items});
        start_workflow(&self.s.sfn, &self.s.process_order_arn, &order_id, &input).await?;
        // The workflow writes the order row in its first state. Wait briefly
        // for it, so that the caller's next look (often at once: the page
        // of the new order) finds it; if it is slow, the id is still right.
        for _ in 0..50 {
            match self.get(&order_id).await {
                Err(DomainError::NotFound) => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await
                }
                _ => break,
            }
        }
        self.s.live().announce().await;
        Ok(order_id)
    }

    /// An order's status alone: one read of its row (what callers waiting
    /// for the workflow to move on poll).
    pub async fn status(self, order_id: &str) -> Result<OrderStatus, DomainError> {
        if !usable_key(order_id) {
            return Err(DomainError::NotFound);
        }
        let out = self
            .s
            .ddb
            .get_item()
            .table_name(&self.s.tables.orders)
            .key("orderId", AttributeValue::S(order_id.to_owned()))
            .projection_expression("#status")
            .expression_attribute_names("#status", "status")
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("reading an order")(format!("{e:?}")))?;
        let item = out.item().ok_or(DomainError::NotFound)?;
        Ok(status_of(item))
    }

    /// An order with its history and notifications.
    pub async fn get(self, order_id: &str) -> Result<Order, DomainError> {
        if !usable_key(order_id) {
            return Err(DomainError::NotFound);
        }
        let out = self
            .s
            .ddb
            .get_item()
            .table_name(&self.s.tables.orders)
            .key("orderId", AttributeValue::S(order_id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("reading an order")(format!("{e:?}")))?;
        let item = out.item().ok_or(DomainError::NotFound)?;
        let mut history = history_of(item);
        history.extend(self.s.ledger().decision_lines(order_id).await?);
        history.sort_by(|a, b| time_key(&a.at).cmp(&time_key(&b.at)));
        let notifications = list_of_maps(item, "notifications")
            .iter()
            .map(|m| Notification {
                at: s(m, "at").unwrap_or_default(),
                status: s(m, "status"),
                message: s(m, "message").unwrap_or_default(),
            })
            .collect();
        Ok(Order {
            order_id: order_id.to_owned(),
            customer: s(item, "customer").unwrap_or_default(),
            items: s(item, "items")
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default(),
            status: status_of(item),
            created_at: s(item, "createdAt").unwrap_or_default(),
            updated_at: s(item, "updatedAt").unwrap_or_default(),
            error: s(item, "error"),
            cause: s(item, "cause"),
            history,
            notifications,
        })
    }

    /// `customer`'s own orders, newest first: one Query on the customer
    /// index per page. `cursor` is the previous page's, as returned.
    pub async fn placed_by(
        self,
        customer: &str,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<(Vec<OrderSummary>, Option<String>), DomainError> {
        let query = self
            .s
            .ddb
            .query()
            .table_name(&self.s.tables.orders)
            .index_name(CUSTOMER_INDEX)
            .key_condition_expression("customer = :c")
            .expression_attribute_values(":c", AttributeValue::S(customer.into()))
            .scan_index_forward(false)
            .limit(limit.clamp(1, 100))
            .set_exclusive_start_key(decode_cursor(cursor, CUSTOMER_KEYS)?);
        let out = query
            .send()
            .await
            .map_err(|e| unavailable("listing a customer's orders")(format!("{e:?}")))?;
        let orders = out
            .items()
            .iter()
            .filter_map(|item| {
                Some(OrderSummary {
                    order_id: s(item, "orderId")?,
                    customer: s(item, "customer").unwrap_or_default(),
                    items: s(item, "items")
                        .and_then(|t| serde_json::from_str(&t).ok())
                        .unwrap_or_default(),
                    status: status_of(item),
                    created_at: s(item, "createdAt").unwrap_or_default(),
                    updated_at: s(item, "updatedAt").unwrap_or_default(),
                })
            })
            .collect();
        Ok((orders, encode_cursor(out.last_evaluated_key())))
    }

    /// The task row of the step an order waits on, if it still waits:
    /// the row of the wait for the order's current status.
    async fn waiting_row(self, order_id: &str) -> Result<Option<Item>, DomainError> {
        if !usable_key(order_id) {
            return Ok(None);
        }
        let status = match self.status(order_id).await {
            Ok(status) if status.waits() => status,
            Ok(_) | Err(DomainError::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        let out = self
            .s
            .ddb
            .get_item()
            .table_name(&self.s.tables.tasks)
            .key("taskId", AttributeValue::S(wait_id(order_id, status)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("reading a pending action")(format!("{e:?}")))?;
        // A closed row is a decided step the workflow has not left yet.
        Ok(out.item().filter(|item| item.contains_key("open")).cloned())
    }

    /// The step an order currently waits on, with its token.
    pub(crate) async fn pending(self, order_id: &str) -> Result<Option<Pending>, DomainError> {
        Ok(self.waiting_row(order_id).await?.and_then(|item| {
            let wait = order_wait(&item)?;
            Some(Pending {
                task_id: wait.task_id,
                token: s(&item, "token")?,
                step: wait.step,
                kind: KIND.into(),
                scope: Scope::Order {
                    order_id: wait.order_id,
                    execution_arn: s(&item, "execution")?,
                },
            })
        }))
    }

    /// The step an order waits on, as anyone may see it.
    pub async fn pending_task(self, order_id: &str) -> Result<Option<PendingTask>, DomainError> {
        Ok(self
            .waiting_row(order_id)
            .await?
            .as_ref()
            .and_then(order_wait))
    }

    /// Orders waiting for staff, oldest first: one Query on the tasks
    /// table's inbox index per page, whatever the number of orders.
    /// `cursor` is the previous page's last task, as returned.
    pub async fn inbox(
        self,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<(Vec<PendingTask>, Option<String>), DomainError> {
        let mut query = self
            .s
            .ddb
            .query()
            .table_name(&self.s.tables.tasks)
            .index_name(INBOX_INDEX)
            .key_condition_expression("inbox = :inbox")
            .expression_attribute_values(":inbox", AttributeValue::S(ORDERS_INBOX.into()))
            .limit(limit.clamp(1, 100));
        query = query.set_exclusive_start_key(decode_cursor(cursor, INBOX_KEYS)?);
        let out = query
            .send()
            .await
            .map_err(|e| unavailable("reading the inbox")(format!("{e:?}")))?;
        let tasks = out.items().iter().filter_map(order_wait).collect();
        let next = encode_cursor(out.last_evaluated_key());
        Ok((tasks, next))
    }
}

/// The staff inbox an order's waits are listed in (`inbox` on their task
/// rows, as process-order writes it).
pub(crate) const ORDERS_INBOX: &str = "orders";

/// The task id of an order's wait in `status`, as process-order writes it:
/// one per wait, so a decided wait's row and the next never share a key.
pub(crate) fn wait_id(order_id: &str, status: OrderStatus) -> String {
    format!("{order_id}.{status}")
}

/// An order's wait, from its task row: the order and status from the task
/// id, the customer as the task's requester.
pub(crate) fn order_wait(item: &Item) -> Option<PendingTask> {
    let task_id = s(item, "taskId")?;
    let (order_id, step) = task_id.rsplit_once('.')?;
    let customer = s(item, "task")
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|t| t.get("requester")?.as_str().map(str::to_owned))
        .unwrap_or_default();
    Some(PendingTask {
        order_id: order_id.to_owned(),
        step: step.to_owned(),
        customer,
        created_at: s(item, "createdAt").unwrap_or_default(),
        task_id,
    })
}

/// A page cursor: the last key of the previous page. It holds key
/// attributes only (ids and times, never a token).
fn encode_cursor(key: Option<&Item>) -> Option<String> {
    key.map(|key| {
        let plain: HashMap<&String, &String> = key
            .iter()
            .filter_map(|(k, v)| v.as_s().ok().map(|s| (k, s)))
            .collect();
        serde_json::to_string(&plain).unwrap_or_default()
    })
}

/// A row's key in the customer index: the table's and the index's.
const CUSTOMER_KEYS: &[&str] = &["orderId", "customer", "createdAt"];
/// A row's key in the tasks table's inbox index.
const INBOX_KEYS: &[&str] = &["taskId", "inbox", "createdAt"];

/// A page's start key from a caller's cursor, which must name exactly the
/// attributes of a row's key in the index read (`keys`): DynamoDB refuses
/// any other start key, and emulators answer it with a wrong page or a 500,
/// so one from an older version (or made up) is the caller's to fix.
fn decode_cursor(cursor: Option<&str>, keys: &[&str]) -> Result<Option<Item>, DomainError> {
    let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    let malformed = || DomainError::Invalid("malformed cursor".into());
    let start: HashMap<String, String> = serde_json::from_str(cursor).map_err(|_| malformed())?;
    if start.len() != keys.len() || keys.iter().any(|k| !start.contains_key(*k)) {
        return Err(malformed());
    }
    Ok(Some(
        start
            .into_iter()
            .map(|(k, v)| (k, AttributeValue::S(v)))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::time_key;

    #[test]
    fn timestamps_sort_in_time_order_whatever_their_fraction() {
        let mut at = vec![
            "2026-12-01T10:00:01Z",
            "2026-12-01T10:00:00.5Z",
            "2026-12-01T10:00:00.123456Z",
            "2026-12-01T10:00:00Z",
        ];
        at.sort_by_key(|a| time_key(a));
        assert_eq!(
            at,
            [
                "2026-12-01T10:00:00Z",
                "2026-12-01T10:00:00.123456Z",
                "2026-12-01T10:00:00.5Z",
                "2026-12-01T10:00:01Z"
            ]
        );
    }
}
