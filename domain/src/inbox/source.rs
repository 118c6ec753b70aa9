//! One index of the inbox read in order, a Query page at a time, and the
//! cursor that says where each index stands between pages.

use std::collections::{HashMap, VecDeque};

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::items::{Item, s, unavailable};
use crate::orders::ORDERS_INBOX;
use crate::signatures::SIGNATURES_INBOX;
use crate::tables::{INBOX_INDEX, TASKS_BY_DEADLINE};
use crate::tasks::contract::OPEN;

/// One index the inbox reads, and which part of it.
pub(super) struct Index {
    pub(super) name: &'static str,
    /// The index's partition key and the partition read.
    pub(super) partition_key: &'static str,
    pub(super) partition: &'static str,
    /// The attributes that make up a row's key in this index (table keys
    /// and index keys): what a cursor must hold to resume after it.
    pub(super) keys: &'static [&'static str],
    pub(super) sort_key: &'static str,
    /// On an index other kinds share: only the rows of this staff inbox
    /// queue.
    pub(super) only_inbox: Option<&'static str>,
}

/// Orders' waits, oldest first.
pub(super) const ORDERS_BY_AGE: Index = Index {
    name: INBOX_INDEX,
    partition_key: "inbox",
    partition: ORDERS_INBOX,
    keys: &["taskId", "inbox", "createdAt"],
    sort_key: "createdAt",
    only_inbox: None,
};
/// Signature requests, oldest first.
pub(super) const SIGNATURES_BY_AGE: Index = Index {
    name: INBOX_INDEX,
    partition_key: "inbox",
    partition: SIGNATURES_INBOX,
    keys: &["taskId", "inbox", "createdAt"],
    sort_key: "createdAt",
    only_inbox: None,
};
/// Signature requests, soonest deadline first: from the index of every
/// open task with a deadline (one index fewer to keep).
pub(super) const SIGNATURES_BY_DEADLINE: Index = Index {
    name: TASKS_BY_DEADLINE,
    partition_key: "open",
    partition: OPEN,
    keys: &["taskId", "open", "deadline"],
    sort_key: "deadline",
    only_inbox: Some(SIGNATURES_INBOX),
};

/// One index read in order, a Query page at a time.
pub(super) struct Source {
    table: String,
    index: &'static Index,
    buffer: VecDeque<Item>,
    /// Where the next Query starts; `None` with `fetched` means the end.
    start: Option<Item>,
    fetched: bool,
    /// The last row taken from this source (for the cursor).
    taken: Option<Item>,
    done: bool,
}

/// Where each source stands: not begun, after a row, or finished.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Cursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) orders: Option<Position>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) signatures: Option<Position>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Position {
    After(HashMap<String, String>),
    Done,
}

impl Source {
    pub(super) fn new(
        table: &str,
        index: &'static Index,
        position: Option<Position>,
    ) -> Result<Self, DomainError> {
        let key_attributes = index.keys;
        let (start, done) = match position {
            None => (None, false),
            Some(Position::Done) => (None, true),
            // A key of another shape (an older version's cursor) resumes
            // nowhere: DynamoDB refuses it, and emulators answer it wrongly.
            Some(Position::After(key))
                if key.len() != key_attributes.len()
                    || key_attributes.iter().any(|k| !key.contains_key(*k)) =>
            {
                return Err(DomainError::Invalid("malformed cursor".into()));
            }
            Some(Position::After(key)) => (
                Some(
                    key.into_iter()
                        .map(|(k, v)| (k, AttributeValue::S(v)))
                        .collect(),
                ),
                false,
            ),
        };
        Ok(Source {
            table: table.to_owned(),
            index,
            buffer: VecDeque::new(),
            start,
            fetched: false,
            taken: None,
            done,
        })
    }

    /// The sort key of the next row, without taking it; reads another page
    /// when needed.
    pub(super) async fn peek(
        &mut self,
        ddb: &aws_sdk_dynamodb::Client,
    ) -> Result<Option<String>, DomainError> {
        while self.buffer.is_empty() && !self.done {
            if self.fetched && self.start.is_none() {
                self.done = true;
                break;
            }
            let mut query = ddb
                .query()
                .table_name(&self.table)
                .index_name(self.index.name)
                .key_condition_expression("#p = :p")
                .expression_attribute_names("#p", self.index.partition_key)
                .expression_attribute_values(":p", AttributeValue::S(self.index.partition.into()))
                .set_exclusive_start_key(self.start.take())
                .limit(100);
            if let Some(inbox) = self.index.only_inbox {
                query = query
                    .filter_expression("#inbox = :inbox")
                    .expression_attribute_names("#inbox", "inbox")
                    .expression_attribute_values(":inbox", AttributeValue::S(inbox.into()));
            }
            let out = query.send().await.map_err(|e| {
                // The start key came from the caller's cursor: one that
                // decodes but names no row of this index is theirs to fix.
                use aws_sdk_dynamodb::error::ProvideErrorMetadata;
                if e.code() == Some("ValidationException") {
                    DomainError::Invalid("malformed cursor".into())
                } else {
                    unavailable("reading the inbox")(format!("{e:?}"))
                }
            })?;
            self.fetched = true;
            self.buffer.extend(out.items().iter().cloned());
            self.start = out.last_evaluated_key().cloned();
        }
        Ok(self
            .buffer
            .front()
            .map(|row| s(row, self.index.sort_key).unwrap_or_default()))
    }

    pub(super) fn take(&mut self) -> Option<Item> {
        let row = self.buffer.pop_front()?;
        self.taken = Some(
            self.index
                .keys
                .iter()
                .filter_map(|k| row.get(*k).map(|v| ((*k).to_owned(), v.clone())))
                .collect(),
        );
        Some(row)
    }

    /// Where a next page resumes this source; `None` if it never moved.
    pub(super) fn position(&self, was: Option<Position>) -> Option<Position> {
        if self.done && self.buffer.is_empty() {
            return Some(Position::Done);
        }
        match &self.taken {
            Some(key) => Some(Position::After(
                key.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_s().ok()?.clone())))
                    .collect(),
            )),
            None => was,
        }
    }
}

pub(super) fn encode(cursor: &Cursor) -> String {
    let json = serde_json::to_vec(cursor).unwrap_or_default();
    crate::secrets::base64url(&json)
}

pub(super) fn decode(text: &str) -> Result<Cursor, DomainError> {
    let malformed = || DomainError::Invalid("malformed cursor".into());
    let bytes = crate::secrets::base64url_decode(text).ok_or_else(malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| malformed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_the_round_trip_and_garbage_is_refused() {
        let cursor = Cursor {
            orders: Some(Position::After(HashMap::from([(
                "createdAt".to_owned(),
                "2026-11-21T10:00:00Z".to_owned(),
            )]))),
            signatures: Some(Position::Done),
        };
        let text = encode(&cursor);
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{text}"
        );
        assert_eq!(decode(&text).ok(), Some(cursor));
        assert!(matches!(
            decode("not a cursor"),
            Err(DomainError::Invalid(_))
        ));
        assert!(matches!(decode("e30"), Ok(c) if c == Cursor::default()));
    }

    #[test]
    fn a_position_of_another_key_shape_is_refused() {
        let old = Position::After(HashMap::from([
            ("executionId".to_owned(), "x".to_owned()),
            ("inbox".to_owned(), "orders".to_owned()),
            ("createdAt".to_owned(), "2026-01-01T00:00:00Z".to_owned()),
        ]));
        let read = |position| Source::new("t", &ORDERS_BY_AGE, Some(position));
        assert!(matches!(read(old), Err(DomainError::Invalid(_))));
        let fits = Position::After(HashMap::from([
            ("taskId".to_owned(), "x".to_owned()),
            ("inbox".to_owned(), "orders".to_owned()),
            ("createdAt".to_owned(), "2026-01-01T00:00:00Z".to_owned()),
        ]));
        assert!(read(fits).is_ok());
        assert!(read(Position::Done).is_ok());
    }
}
