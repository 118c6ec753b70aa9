//! Where signed-in sessions are kept: a tower-sessions store over the
//! DynamoDB API, so the same code serves the embedded DynamoDB, moto and
//! AWS (where every dashboard replica sees every session).
//!
//! A row is `id`, `data` (the session's values as JSON) and `expiresAt`
//! (epoch seconds). DynamoDB's time-to-live deletes rows after `expiresAt`,
//! but only eventually (up to days on AWS), so a load checks the time too.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use countersign_domain::tables::EXPIRES_AT;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result, SessionStore};

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

    /// Writes `record`; with `fresh`, only if its id is unused.
    async fn put(&self, record: &Record, fresh: bool) -> std::result::Result<(), PutError> {
        let (ddb, table) = self.target().map_err(PutError::Other)?;
        let data = serde_json::to_string(&record.data)
            .map_err(|e| PutError::Other(Error::Encode(format!("session values as JSON: {e}"))))?;
        let mut put = ddb
            .put_item()
            .table_name(table)
            .item("id", AttributeValue::S(record.id.to_string()))
            .item("data", AttributeValue::S(data))
            .item(
                EXPIRES_AT,
                AttributeValue::N(record.expiry_date.unix_timestamp().to_string()),
            );
        if fresh {
            put = put.condition_expression("attribute_not_exists(id)");
        }
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
    /// `create` drew an id that is in use.
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
            Ok(()) => Ok(()),
            Err(PutError::Taken) => Err(Error::Backend("unexpected condition".into())),
            Err(PutError::Other(e)) => Err(e),
        }
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let (ddb, table) = self.target()?;
        let out = ddb
            .get_item()
            .table_name(table)
            .key("id", AttributeValue::S(id.to_string()))
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
            .key("id", AttributeValue::S(id.to_string()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| backend("deleting a session", e))
    }
}
