//! What a browser may see: the view of orders, tasks and documents that
//! server functions return. These types exist in both builds; on the
//! server they are made from the domain's types, and they have no field
//! that could carry a task token.

pub use countersign_model::statuses::{DocumentStatus, OrderStatus, RequestStatus};
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: String,
    pub by: String,
    pub status: Option<String>,
    pub decision: Option<String>,
    pub comment: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub at: String,
    pub status: Option<String>,
    pub message: String,
}

/// A row of the staff inbox: an order step or a signature request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxItem {
    /// `order` or `signature`.
    pub kind: String,
    /// The order's or document's id.
    pub id: String,
    pub task_id: String,
    /// The customer, or the signer asked.
    pub who: String,
    /// The items, or the document's title.
    pub what: String,
    pub status: String,
    pub created_at: String,
    pub deadline: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxPage {
    pub items: Vec<InboxItem>,
    pub next: Option<String>,
    /// The search stopped looking before the page filled up.
    pub cut_short: bool,
}

/// What one decision of a bulk action came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkResult {
    pub order_id: String,
    /// What happened, or why not ("already decided by …").
    pub message: String,
    pub ok: bool,
}

/// One Step Functions event of an execution: no input, output or
/// parameters (a task's parameters hold its token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionEvent {
    pub id: i64,
    pub previous: i64,
    pub kind: String,
    pub at: String,
    pub state: Option<String>,
    pub resource: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsPage {
    pub events: Vec<ExecutionEvent>,
    pub next: Option<String>,
}

/// A step waiting for staff, named by its opaque task id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub task_id: String,
    pub order_id: String,
    pub customer: String,
    pub step: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSummary {
    pub order_id: String,
    pub customer: String,
    pub items: Vec<String>,
    pub status: OrderStatus,
    pub created_at: String,
    pub updated_at: String,
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
    /// The step it waits on, if any.
    pub pending: Option<Task>,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub signer: String,
    pub at: String,
    pub how: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureRequest {
    pub document_id: String,
    pub signer: String,
    pub task_id: Option<String>,
    pub status: RequestStatus,
    pub created_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub title: Option<String>,
    pub deadline: Option<String>,
}

/// A request on a signer's desk, with its document (title, co-signers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskCard {
    pub request: SignatureRequest,
    pub document: Document,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub document_id: String,
    pub title: String,
    pub status: DocumentStatus,
    /// Everyone who signs, in order; `automatic` ones sign by themselves.
    pub signers: Vec<(String, bool)>,
    pub signatures: Vec<Signature>,
    pub requests: Vec<SignatureRequest>,
    pub history: Vec<HistoryEntry>,
}

#[cfg(feature = "ssr")]
mod from_domain {
    use super::*;
    use countersign_domain::{inbox, live, orders, outcome, signatures, users};

    impl From<inbox::InboxItem> for InboxItem {
        fn from(i: inbox::InboxItem) -> Self {
            InboxItem {
                kind: i.kind,
                id: i.id,
                task_id: i.task_id,
                who: i.who,
                what: i.what,
                status: i.status,
                created_at: i.created_at,
                deadline: i.deadline,
            }
        }
    }

    impl From<inbox::InboxPage> for InboxPage {
        fn from(p: inbox::InboxPage) -> Self {
            InboxPage {
                items: p.items.into_iter().map(Into::into).collect(),
                next: p.next,
                cut_short: p.cut_short,
            }
        }
    }

    impl From<live::EventsPage> for EventsPage {
        fn from(p: live::EventsPage) -> Self {
            EventsPage {
                events: p
                    .events
                    .into_iter()
                    .map(|e| ExecutionEvent {
                        id: e.id,
                        previous: e.previous,
                        kind: e.kind,
                        at: e.at,
                        state: e.state,
                        resource: e.resource,
                        error: e.error,
                        cause: e.cause,
                    })
                    .collect(),
                next: p.next,
            }
        }
    }

    impl From<&users::User> for Me {
        fn from(u: &users::User) -> Self {
            Me {
                name: u.name.clone(),
                roles: u.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            }
        }
    }

    impl From<orders::HistoryEntry> for HistoryEntry {
        fn from(h: orders::HistoryEntry) -> Self {
            HistoryEntry {
                at: h.at,
                by: h.by,
                status: h.status,
                decision: h.decision,
                comment: h.comment,
                error: h.error,
                cause: h.cause,
            }
        }
    }

    impl From<orders::PendingTask> for Task {
        fn from(t: orders::PendingTask) -> Self {
            Task {
                task_id: t.task_id,
                order_id: t.order_id,
                customer: t.customer,
                step: t.step,
                created_at: t.created_at,
            }
        }
    }

    impl From<orders::OrderSummary> for OrderSummary {
        fn from(o: orders::OrderSummary) -> Self {
            OrderSummary {
                order_id: o.order_id,
                customer: o.customer,
                items: o.items,
                status: o.status,
                created_at: o.created_at,
                updated_at: o.updated_at,
            }
        }
    }

    impl Order {
        pub fn new(o: orders::Order, pending: Option<orders::PendingTask>) -> Self {
            Order {
                order_id: o.order_id,
                customer: o.customer,
                items: o.items,
                status: o.status,
                created_at: o.created_at,
                updated_at: o.updated_at,
                error: o.error,
                cause: o.cause,
                history: o.history.into_iter().map(Into::into).collect(),
                notifications: o
                    .notifications
                    .into_iter()
                    .map(|n| Notification {
                        at: n.at,
                        status: n.status,
                        message: n.message,
                    })
                    .collect(),
                pending: pending.map(Into::into),
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

    impl From<signatures::SignatureRequest> for SignatureRequest {
        fn from(r: signatures::SignatureRequest) -> Self {
            SignatureRequest {
                document_id: r.document_id,
                signer: r.signer,
                task_id: r.task_id,
                status: r.status,
                created_at: r.created_at,
                decided_by: r.decided_by,
                decided_at: r.decided_at,
                title: r.title,
                deadline: r.deadline,
            }
        }
    }

    impl From<signatures::Document> for Document {
        fn from(d: signatures::Document) -> Self {
            Document {
                document_id: d.document_id,
                title: d.title,
                status: d.status,
                signers: d
                    .signers
                    .into_iter()
                    .map(|s| (s.name, s.automatic))
                    .collect(),
                signatures: d
                    .signatures
                    .into_iter()
                    .map(|s| Signature {
                        signer: s.signer,
                        at: s.at,
                        how: s.how,
                    })
                    .collect(),
                requests: d.requests.into_iter().map(Into::into).collect(),
                history: d.history.into_iter().map(Into::into).collect(),
            }
        }
    }
}
