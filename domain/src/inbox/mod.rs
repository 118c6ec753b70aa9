//! The staff inbox: every step waiting for a person, orders and signature
//! requests together, filtered, searched, sorted and paged.
//!
//! Nothing here Scans. Each kind of task has an index sorted the way the
//! inbox may be sorted (orders by age; signature requests by age and by
//! deadline), and a page is a merge of those indexes read in order, a
//! Query page at a time, until the page is full. The cursor remembers, for
//! each index, the last row the merge took, so the next page starts right
//! after it. Filters and search are applied to the rows as they stream by;
//! a search that matches little stops after [`MAX_EXAMINED`] rows and says
//! so, rather than reading the whole table for one page.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::items::{Item, s, unavailable};
use crate::services::Services;
pub use countersign_model::inbox::{InboxItem, InboxPage};

mod source;
use source::{
    Cursor, ORDERS_BY_AGE, Position, SIGNATURES_BY_AGE, SIGNATURES_BY_DEADLINE, Source, decode,
    encode,
};

/// Rows one page may examine before it stops looking for matches.
pub const MAX_EXAMINED: usize = 2_000;
/// Most rows on one page.
pub const MAX_PAGE: usize = 100;

/// Which tasks to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    #[default]
    All,
    Orders,
    Signatures,
}

/// The order of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    /// Oldest first: what has waited longest.
    #[default]
    Age,
    /// Soonest deadline first; tasks without one (orders) after them,
    /// oldest first.
    Deadline,
}

impl Kind {
    /// `all`, `orders`, `signatures`; anything else is refused.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        match text {
            "" | "all" => Ok(Kind::All),
            "orders" => Ok(Kind::Orders),
            "signatures" => Ok(Kind::Signatures),
            other => Err(DomainError::Invalid(format!(
                "the kind is all, orders or signatures, not {other:?}"
            ))),
        }
    }
}

impl Sort {
    /// `age` or `deadline`.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        match text {
            "" | "age" => Ok(Sort::Age),
            "deadline" => Ok(Sort::Deadline),
            other => Err(DomainError::Invalid(format!(
                "the sort is age or deadline, not {other:?}"
            ))),
        }
    }
}

/// What the inbox is asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InboxQuery {
    pub kind: Kind,
    /// A step (`PENDING`, `PROCESSING`, `WAITING`), or any.
    pub status: Option<String>,
    /// Matched, ignoring case, against the order or document id, the
    /// customer or signer, and the document title.
    pub search: Option<String>,
    pub sort: Sort,
    pub limit: usize,
    pub cursor: Option<String>,
}

/// The staff inbox: orders and signature requests in one list.
/// A handle on [`Services`]; get one with [`Services::staff_inbox`].
#[derive(Debug, Clone, Copy)]
pub struct StaffInbox<'a> {
    s: &'a Services,
}

impl Services {
    /// The staff inbox.
    pub fn staff_inbox(&self) -> StaffInbox<'_> {
        StaffInbox { s: self }
    }
}

impl StaffInbox<'_> {
    /// One page of the staff inbox.
    pub async fn page(self, query: &InboxQuery) -> Result<InboxPage, DomainError> {
        let limit = query.limit.clamp(1, MAX_PAGE);
        let cursor = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
            Some(text) => decode(text)?,
            None => Cursor::default(),
        };
        let status = query
            .status
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty() && *s != "any")
            .map(str::to_uppercase);
        if let Some(bad) = status
            .as_deref()
            .filter(|s| !["PENDING", "PROCESSING", "WAITING"].contains(s))
        {
            return Err(DomainError::Invalid(format!(
                "the status is PENDING, PROCESSING or WAITING, not {bad:?}"
            )));
        }
        let search = query
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase);
        // A status belongs to one kind, so the other kind's index is not read.
        let wants_orders =
            query.kind != Kind::Signatures && status.as_deref().is_none_or(|s| s != "WAITING");
        let wants_signatures =
            query.kind != Kind::Orders && status.as_deref().is_none_or(|s| s == "WAITING");
        let mut orders = Source::new(
            &self.s.tables.tasks,
            &ORDERS_BY_AGE,
            if wants_orders {
                cursor.orders.clone()
            } else {
                Some(Position::Done)
            },
        )?;
        let mut signatures = Source::new(
            &self.s.tables.tasks,
            match query.sort {
                Sort::Age => &SIGNATURES_BY_AGE,
                Sort::Deadline => &SIGNATURES_BY_DEADLINE,
            },
            if wants_signatures {
                cursor.signatures.clone()
            } else {
                Some(Position::Done)
            },
        )?;

        let mut items = Vec::new();
        let mut examined = 0;
        let mut ended_documents: HashMap<String, bool> = HashMap::new();
        let mut cut_short = false;
        while items.len() < limit {
            if examined >= MAX_EXAMINED {
                cut_short = true;
                break;
            }
            let order_key = orders.peek(&self.s.ddb).await?;
            let signature_key = signatures.peek(&self.s.ddb).await?;
            let from_orders = match (&order_key, &signature_key) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                // By deadline, everything with one comes first.
                (Some(_), Some(_)) if query.sort == Sort::Deadline => false,
                (Some(o), Some(s)) => o <= s,
            };
            examined += 1;
            let item = if from_orders {
                orders.take().and_then(|row| order_item(&row))
            } else {
                signatures.take().and_then(|row| signature_item(&row))
            };
            let Some(item) = item else { continue };
            if status.as_deref().is_some_and(|s| s != item.status) {
                continue;
            }
            if let Some(needle) = &search {
                let hay = [&item.id, &item.who, &item.what];
                if !hay
                    .iter()
                    .any(|h| h.to_lowercase().contains(needle.as_str()))
                {
                    continue;
                }
            }
            // A request carried over from an earlier version can outlive
            // its document (another signer declined, and that version's
            // workflow left the others open): not a task.
            if item.kind == "signature" {
                let ended = match ended_documents.get(&item.id) {
                    Some(ended) => *ended,
                    None => {
                        let ended = self.document_ended(&item.id).await?;
                        ended_documents.insert(item.id.clone(), ended);
                        ended
                    }
                };
                if ended {
                    continue;
                }
            }
            items.push(item);
        }

        let next = Cursor {
            orders: orders.position(cursor.orders),
            signatures: signatures.position(cursor.signatures),
        };
        let finished = matches!(next.orders, Some(Position::Done))
            && matches!(next.signatures, Some(Position::Done));
        self.fill_in_items(&mut items).await?;
        Ok(InboxPage {
            items,
            next: (!finished).then(|| encode(&next)),
            cut_short,
        })
    }

    /// Whether a document no longer waits for signatures.
    pub(crate) async fn document_ended(self, document_id: &str) -> Result<bool, DomainError> {
        let out = self
            .s
            .ddb
            .get_item()
            .table_name(&self.s.tables.documents)
            .key("documentId", AttributeValue::S(document_id.into()))
            .projection_expression("#status")
            .expression_attribute_names("#status", "status")
            .send()
            .await
            .map_err(|e| unavailable("reading a document")(format!("{e:?}")))?;
        Ok(out
            .item()
            .and_then(|i| s(i, "status"))
            .is_some_and(|status| status != "WAITING"))
    }

    /// An order's row in the inbox says what was ordered; the pending row
    /// does not carry the items, so they are read from the orders (at
    /// once, one request per order on the page).
    async fn fill_in_items(self, items: &mut [InboxItem]) -> Result<(), DomainError> {
        let mut reads = tokio::task::JoinSet::new();
        for (at, item) in items.iter().enumerate() {
            if item.kind != "order" {
                continue;
            }
            let ddb = self.s.ddb.clone();
            let table = self.s.tables.orders.clone();
            let id = item.id.clone();
            reads.spawn(async move {
                let out = ddb
                    .get_item()
                    .table_name(table)
                    .key("orderId", AttributeValue::S(id))
                    .projection_expression("#items")
                    .expression_attribute_names("#items", "items")
                    .send()
                    .await;
                (at, out)
            });
        }
        while let Some(done) = reads.join_next().await {
            let (at, out) = done.map_err(|e| unavailable("reading orders")(e.to_string()))?;
            let out = out.map_err(|e| unavailable("reading an order")(format!("{e:?}")))?;
            let names: Vec<String> = out
                .item()
                .and_then(|i| s(i, "items"))
                .and_then(|json| serde_json::from_str(&json).ok())
                .unwrap_or_default();
            items[at].what = names.join(", ");
        }
        Ok(())
    }
}

fn order_item(row: &Item) -> Option<InboxItem> {
    let wait = crate::orders::order_wait(row)?;
    Some(InboxItem {
        kind: "order".into(),
        id: wait.order_id,
        task_id: wait.task_id,
        who: wait.customer,
        what: String::new(),
        status: wait.step,
        created_at: wait.created_at,
        deadline: None,
    })
}

fn signature_item(row: &Item) -> Option<InboxItem> {
    // Closed requests lose `open` and `inbox`, so they are not in these
    // indexes; a row without its token is closing right now.
    s(row, "token")?;
    let request = crate::signatures::request_from(row)?;
    Some(InboxItem {
        kind: "signature".into(),
        id: request.document_id,
        task_id: request.task_id?,
        who: request.signer,
        what: request.title.unwrap_or_default(),
        status: request.status.as_str().into(),
        created_at: request.created_at,
        deadline: request.deadline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_sorts_parse_and_refuse_the_unknown() {
        assert_eq!(Kind::parse("").ok(), Some(Kind::All));
        assert_eq!(Kind::parse("signatures").ok(), Some(Kind::Signatures));
        assert!(Kind::parse("invoices").is_err());
        assert_eq!(Sort::parse("deadline").ok(), Some(Sort::Deadline));
        assert!(Sort::parse("random").is_err());
    }
}
