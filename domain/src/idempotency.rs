//! Idempotency keys for machine callers. A client that sends a
//! state-changing call with an `Idempotency-Key` and does not hear the
//! answer sends it again with the same key: it gets the first answer again,
//! and nothing happens twice. The same key with a different request is a
//! mistake, and is refused.
//!
//! Each key is a row in the meta table, per caller (two users' keys never
//! meet), holding a hash of the request and, once it is done, the answer.
//! Rows go by time-to-live after a day.

use aws_sdk_dynamodb::types::AttributeValue;
use sha2::{Digest, Sha256};

use crate::DomainError;
use crate::items::condition_failed;
use crate::items::{s, unavailable};
use crate::services::Services;
use crate::tables::EXPIRES_AT;

/// How long a key is remembered.
pub const KEEP_SECS: i64 = 24 * 3600;
/// How long a request may run under its key before a retry may take the
/// key over (its process may have died).
pub const RUNNING_SECS: i64 = 60;
/// Longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// What a request under a key should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// First use: run it, then [`Idempotency::done`].
    Fresh,
    /// Done before: answer this again.
    Replay { status: u16, body: String },
    /// The first request with this key is still running.
    InProgress,
    /// The key was used with a different request.
    Mismatch,
}

/// Whether `key` is acceptable: 1 to 255 visible ASCII characters.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_LEN && key.bytes().all(|b| b.is_ascii_graphic())
}

/// The hash a request is known by (method, path, body).
pub fn request_hash(method: &str, path: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update(b"\n");
    h.update(path.as_bytes());
    h.update(b"\n");
    h.update(body);
    crate::secrets::hex(&h.finalize())
}

fn row_key(owner: &str, key: &str) -> String {
    let mut h = Sha256::new();
    h.update(owner.as_bytes());
    h.update(b"\n");
    h.update(key.as_bytes());
    format!("idempotency#{}", crate::secrets::hex(&h.finalize()))
}

/// The answers kept for REST calls made with an Idempotency-Key.
/// A handle on [`Services`]; get one with [`Services::idempotency`].
#[derive(Debug, Clone, Copy)]
pub struct Idempotency<'a> {
    s: &'a Services,
}

impl Services {
    /// The kept answers of idempotent REST calls.
    pub fn idempotency(&self) -> Idempotency<'_> {
        Idempotency { s: self }
    }
}

impl Idempotency<'_> {
    /// Starts a request under `owner`'s `key`.
    pub async fn begin(self, owner: &str, key: &str, request: &str) -> Result<Begin, DomainError> {
        let now = self.s.clock.now_ms() / 1000;
        let row = row_key(owner, key);
        let put = self.s
            .ddb
            .put_item()
            .table_name(&self.s.tables.meta)
            .item("key", AttributeValue::S(row.clone()))
            .item("request", AttributeValue::S(request.into()))
            .item("state", AttributeValue::S("running".into()))
            .item("runningUntil", AttributeValue::N((now + RUNNING_SECS).to_string()))
            .item(EXPIRES_AT, AttributeValue::N((now + KEEP_SECS).to_string()))
            // New, forgotten (past its time-to-live, which DynamoDB may be
            // slow to act on), or left running by a request that died.
            .condition_expression(
                "attribute_not_exists(#key) OR #expires < :now OR (#state = :running AND runningUntil < :now)",
            )
            .expression_attribute_names("#key", "key")
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .expression_attribute_values(":running", AttributeValue::S("running".into()))
            .send()
            .await;
        match put {
            Ok(_) => return Ok(Begin::Fresh),
            Err(e) if condition_failed(&e) => {}
            Err(e) => {
                return Err(unavailable("starting an idempotent request")(format!(
                    "{e:?}"
                )));
            }
        }
        let out = self
            .s
            .ddb
            .get_item()
            .table_name(&self.s.tables.meta)
            .key("key", AttributeValue::S(row))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("reading an idempotency key")(format!("{e:?}")))?;
        let Some(item) = out.item() else {
            // Abandoned between our put and our read: the caller may retry.
            return Ok(Begin::InProgress);
        };
        if s(item, "request").as_deref() != Some(request) {
            return Ok(Begin::Mismatch);
        }
        match (s(item, "state").as_deref(), s(item, "response")) {
            (Some("done"), Some(body)) => Ok(Begin::Replay {
                status: item
                    .get("status")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(200),
                body,
            }),
            _ => Ok(Begin::InProgress),
        }
    }

    /// Keeps the answer to a request that ran under `key`.
    pub async fn done(
        self,
        owner: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> Result<(), DomainError> {
        self.s
            .ddb
            .update_item()
            .table_name(&self.s.tables.meta)
            .key("key", AttributeValue::S(row_key(owner, key)))
            .update_expression("SET #state = :done, #status = :status, #response = :body")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#response", "response")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":done", AttributeValue::S("done".into()))
            .expression_attribute_values(":status", AttributeValue::N(status.to_string()))
            .expression_attribute_values(":body", AttributeValue::S(body.into()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable("keeping an idempotent answer")(format!("{e:?}")))
    }

    /// Forgets a key whose request could not be completed (the service was
    /// unavailable), so that a retry runs it again.
    pub async fn forget(self, owner: &str, key: &str) -> Result<(), DomainError> {
        self.s
            .ddb
            .delete_item()
            .table_name(&self.s.tables.meta)
            .key("key", AttributeValue::S(row_key(owner, key)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable("forgetting an idempotency key")(format!("{e:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_and_requests_hash_by_method_path_and_body() {
        assert!(valid_key("order-42-retry"));
        assert!(!valid_key(""));
        assert!(!valid_key("has space"));
        assert!(!valid_key(&"k".repeat(MAX_KEY_LEN + 1)));
        assert!(!valid_key("ünicode"));
        let a = request_hash("POST", "/order", b"{}");
        assert_eq!(a, request_hash("POST", "/order", b"{}"));
        assert_ne!(a, request_hash("POST", "/order/update", b"{}"));
        assert_ne!(a, request_hash("POST", "/order", b"{ }"));
        assert_ne!(row_key("sam", "k"), row_key("kim", "k"));
    }
}
