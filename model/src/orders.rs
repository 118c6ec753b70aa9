//! Orders as everyone sees them: status, history, notifications, the step
//! waiting for staff (never its token).

use serde::{Deserialize, Serialize};

pub use crate::statuses::OrderStatus;

/// One line of an order's status history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: String,
    /// `workflow` for status changes, the person for decisions.
    pub by: String,
    pub status: Option<String>,
    /// `advance` or `reject`, for a person's decision.
    pub decision: Option<String>,
    pub comment: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// A person's decision: the id of its signed receipt (`/receipts/{id}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
}

/// A message for the customer about their order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub at: String,
    pub status: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub order_id: String,
    pub customer: String,
    pub items: Vec<String>,
    pub status: OrderStatus,
    pub created_at: String,
    pub updated_at: String,
    pub error: Option<String>,
    pub cause: Option<String>,
    pub history: Vec<HistoryEntry>,
    pub notifications: Vec<Notification>,
}

/// An order in a list: what and where it is, without its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSummary {
    pub order_id: String,
    pub customer: String,
    pub items: Vec<String>,
    pub status: OrderStatus,
    pub created_at: String,
    pub updated_at: String,
}

/// A step waiting for staff, as anyone may see it: no token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingTask {
    pub task_id: String,
    pub order_id: String,
    pub customer: String,
    /// The status the order is in while it waits (PENDING, PROCESSING).
    pub step: String,
    pub created_at: String,
}
