//! What a browser may see: the model crate's orders, documents and inbox
//! (the domain's own types, which hold no token), and the few views only
//! pages need (who is signed in, an order with its waiting step, a bulk
//! action's results).

pub use countersign_model::documents::{
    Document, DocumentStatus, RequestStatus, Signature, SignatureRequest, SignerSpec,
};
pub use countersign_model::events::{EventsPage, ExecutionEvent};
pub use countersign_model::inbox::{InboxItem, InboxPage};
pub use countersign_model::orders::{
    HistoryEntry, Notification, Order, OrderStatus, OrderSummary, PendingTask,
};
use serde::{Deserialize, Serialize};

/// Most orders one bulk action decides.
pub const MAX_BULK: usize = 100;

/// The signed-in person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub name: String,
    /// `staff`, `signer`, `customer`.
    pub roles: Vec<String>,
}

impl Me {
    pub fn is(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// Where this person starts.
    pub fn home(&self) -> &'static str {
        if self.is("staff") {
            "/inbox"
        } else if self.is("signer") {
            "/desk"
        } else {
            "/orders"
        }
    }
}

/// One page of a list, with the cursor of the next one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// What one decision of a bulk action came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkResult {
    pub order_id: String,
    /// What happened, or why not ("already decided by …").
    pub message: String,
    pub ok: bool,
}

/// An order's page: the order, and the step it waits on (staff only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPage {
    pub order: Order,
    pub pending: Option<PendingTask>,
}

/// A request on a signer's desk, with its document (title, co-signers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskCard {
    pub request: SignatureRequest,
    pub document: Document,
}

/// A decision that took effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub subject: String,
    pub task_id: String,
    pub step: String,
    pub outcome: String,
    pub by: String,
    pub at: String,
}

#[cfg(feature = "ssr")]
mod from_domain {
    use super::*;
    use countersign_domain::{outcome, users};

    impl From<&users::User> for Me {
        fn from(u: &users::User) -> Self {
            Me {
                name: u.name.clone(),
                roles: u.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            }
        }
    }

    impl From<outcome::Decided> for Decision {
        fn from(d: outcome::Decided) -> Self {
            Decision {
                subject: d.subject,
                task_id: d.task_id,
                step: d.step,
                outcome: d.outcome.to_owned(),
                by: d.by,
                at: d.at,
            }
        }
    }
}
