//! Where signed-in sessions are kept: a tower-sessions store over the
//! DynamoDB API, so the same code serves the embedded DynamoDB, moto and
//! AWS (where every dashboard replica sees every session).
//!
//! A row is `id`, `data` (the session's values as JSON) and `expiresAt`
//! (epoch seconds). DynamoDB's time-to-live deletes rows after `expiresAt`,
//! but only eventually (up to days on AWS), so a load checks the time too.
//!
//! `id` is the SHA-256 of the cookie's session id, never the id itself:
//! whoever reads the table (a backup, a console, a leaked scan) learns no
//! cookie that signs them in. A session id is 128 random bits, so a plain
//! hash is enough (nothing to guess, unlike a password).
//!
//! Only `create` may add a row; `save` changes a row that still exists,
//! so a request that was under way when its session ended (sign-out in
//! another tab, a removed user) cannot bring the session back.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use countersign_domain::tables::EXPIRES_AT;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result, SessionStore};

/// The row key for session `id`.
fn row_key(id: &Id) -> AttributeValue {
    AttributeValue::S(countersign_domain::api_keys::sha256_hex(id.to_string()))
}

/// Sessions in one DynamoDB table. The server builds its router before
/// the table is reachable, so a store may start unconnected and be
/// [`connect`](DynamoDbStore::connect)ed once the backend is up; until
/// then every call fails (and the dashboard says it is starting).
#[derive(Debug, Clone, Default)]
pub struct DynamoDbStore {
    target: Arc<OnceLock<(Client, String)>>,
}

impl DynamoDbStore {
    pub fn new(ddb: Client, table: impl Into<String>) -> Self {
        let store = Self::default();
        store.connect(ddb, table);
        store
    }

    /// Points an unconnected store at its table (later calls change nothing).
    pub fn connect(&self, ddb: Client, table: impl Into<String>) {
        let _ = self.target.set((ddb, table.into()));
    }

    fn target(&self) -> Result<(&Client, &str)> {
        self.target
            .get()
            .map(|(c, t)| (c, t.as_str()))
            .ok_or_else(|| Error::Backend("the session store is not connected yet".into()))
    }

    /// Writes `record`; with `fresh`, only if its id is unused, else only
    /// if its row still exists.
    async fn put(&self, record: &Record, fresh: bool) -> std::result::Result<(), PutError> {
        let (ddb, table) = self.target().map_err(PutError::Other)?;
        let data = serde_json::to_string(&record.data)
            .map_err(|e| PutError::Other(Error::Encode(format!("session values as JSON: {e}"))))?;
        let mut put = ddb
            .put_item()
            .table_name(table)
            .item("id", row_key(&record.id))
            .item("data", AttributeValue::S(data))
            .item(
                EXPIRES_AT,
                AttributeValue::N(record.expiry_date.unix_timestamp().to_string()),
            );
        put = put.condition_expression(if fresh {
            "attribute_not_exists(id)"
        } else {
            "attribute_exists(id)"
        });
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(PutError::Taken)
            }
            Err(e) => Err(PutError::Other(backend("saving a session", e))),
        }
    }
}

enum PutError {
    /// `create` drew an id that is in use, or `save` found the row gone.
    Taken,
    Other(Error),
}

/// The cause goes to the log; the error says only what failed, because
/// tower-sessions may pass it on.
fn backend(what: &str, error: impl std::fmt::Debug) -> Error {
    tracing::error!(?error, "{what} failed");
    Error::Backend(format!("{what} failed"))
}

#[async_trait]
impl SessionStore for DynamoDbStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // Ids are 128 random bits, so a collision means something is badly
        // wrong; still, never hand one person another's session.
        for _ in 0..3 {
            match self.put(record, true).await {
                Ok(()) => return Ok(()),
                Err(PutError::Taken) => record.id = Id::default(),
                Err(PutError::Other(e)) => return Err(e),
            }
        }
        Err(Error::Backend("no unused session id after 3 draws".into()))
    }

    async fn save(&self, record: &Record) -> Result<()> {
        match self.put(record, false).await {
            // Ended while this request ran: it stays ended, and the next
            // request with its cookie is signed out.
            Ok(()) | Err(PutError::Taken) => Ok(()),
            Err(PutError::Other(e)) => Err(e),
        }
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let (ddb, table) = self.target()?;
        let out = ddb
            .get_item()
            .table_name(table)
            .key("id", row_key(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend("loading a session", e))?;
        let Some(item) = out.item() else {
            return Ok(None);
        };
        let expires = item
            .get(EXPIRES_AT)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
            .and_then(|n| OffsetDateTime::from_unix_timestamp(n).ok());
        let Some(expiry_date) = expires.filter(|at| *at > OffsetDateTime::now_utc()) else {
            // Expired but not yet swept: as good as gone.
            return Ok(None);
        };
        let data = item
            .get("data")
            .and_then(|v| v.as_s().ok())
            .ok_or_else(|| Error::Decode("a session row without data".into()))?;
        let data = serde_json::from_str(data)
            .map_err(|e| Error::Decode(format!("session values: {e}")))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        let (ddb, table) = self.target()?;
        ddb.delete_item()
            .table_name(table)
            .key("id", row_key(id))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| backend("deleting a session", e))
    }
}
