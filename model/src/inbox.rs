//! The staff inbox as it is shown: order steps and signature requests
//! together, a page at a time.

use serde::{Deserialize, Serialize};

/// One waiting step, as staff see it: no token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxItem {
    /// `order` or `signature`.
    pub kind: String,
    /// The order's or the document's id.
    pub id: String,
    pub task_id: String,
    /// The customer, or the signer asked to sign.
    pub who: String,
    /// The order's items, or the document's title.
    pub what: String,
    /// The step: PENDING or PROCESSING (orders), WAITING (signatures).
    pub status: String,
    pub created_at: String,
    /// When it stops waiting by itself, if it ever does.
    pub deadline: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxPage {
    pub items: Vec<InboxItem>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<String>,
    /// The page stopped early after examining its most rows
    /// without filling up (a narrow search): `next` goes on looking.
    pub cut_short: bool,
}
