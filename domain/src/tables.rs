//! The tables and how they are keyed. Names are configurable; the defaults
//! match the order article (`orders` by `orderId`, `orderProcessingActions`
//! by `executionId`).
//!
//! The staff inbox must not Scan: pending actions carry `inbox` (the queue
//! name) and `createdAt`, and the `inbox-by-age` index on those two makes the
//! first page one Query however many orders exist.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};

use crate::DomainError;

/// The index of pending actions by queue and age.
pub const INBOX_INDEX: &str = "inbox-by-age";
/// The index of signature requests by signer and age.
pub const SIGNER_INDEX: &str = "signer-inbox";
/// The index of orders by customer and age: a customer's own orders.
pub const CUSTOMER_INDEX: &str = "orders-by-customer";
/// The attribute DynamoDB's time-to-live deletes expired rows by (epoch
/// seconds), on the tables that hold short-lived rows.
pub const EXPIRES_AT: &str = "expiresAt";

#[derive(Debug, Clone)]
pub struct Tables {
    /// Orders by `orderId`, with status, history and notifications.
    pub orders: String,
    /// Pending actions (one per waiting step) by `executionId`.
    pub actions: String,
    /// Decisions by `taskId`: the claim that makes a decision happen once.
    pub decisions: String,
    /// Documents to sign by `documentId`, with each signature.
    pub documents: String,
    /// Signature requests by `documentId` and `signer` (any number of
    /// human signers per document); the `signer-inbox` index lists one
    /// signer's requests.
    pub signature_requests: String,
    /// People who sign in, by `name`, with roles and a password hash.
    pub users: String,
    /// Signed-in sessions by `id`; expired rows go by time-to-live.
    pub sessions: String,
    /// API keys and webhook secrets by `keyId`, each belonging to a user.
    pub api_keys: String,
    /// Small bookkeeping rows by `key` (counters, failed sign-in counts);
    /// short-lived ones go by time-to-live.
    pub meta: String,
}

impl Default for Tables {
    fn default() -> Self {
        Self {
            orders: "orders".into(),
            actions: "orderProcessingActions".into(),
            decisions: "countersignDecisions".into(),
            documents: "documents".into(),
            signature_requests: "signatureRequests".into(),
            users: "countersignUsers".into(),
            sessions: "countersignSessions".into(),
            meta: "countersign-meta".into(),
            api_keys: "countersignApiKeys".into(),
        }
    }
}

fn attr(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("name and type are set")
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .expect("name and type are set")
}

/// An index of rows by `partition`, oldest `createdAt` first.
fn by_age(name: &str, partition: &str) -> GlobalSecondaryIndex {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(partition, KeyType::Hash))
        .key_schema(key("createdAt", KeyType::Range))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .expect("index is complete")
}

impl Tables {
    /// Creates every table that does not exist yet (embedded mode and tests;
    /// in AWS the deploy template creates them).
    pub async fn ensure(&self, ddb: &Client) -> Result<(), DomainError> {
        let inbox = by_age(INBOX_INDEX, "inbox");
        let by_signer = by_age(SIGNER_INDEX, "signer");
        let by_customer = by_age(CUSTOMER_INDEX, "customer");
        // (table, hash key, range key, index and its partition key, TTL)
        let plans = [
            (
                &self.orders,
                "orderId",
                None,
                Some((by_customer, "customer")),
                false,
            ),
            (
                &self.actions,
                "executionId",
                None,
                Some((inbox, "inbox")),
                false,
            ),
            (&self.decisions, "taskId", None, None, false),
            (&self.documents, "documentId", None, None, false),
            (
                &self.signature_requests,
                "documentId",
                Some("signer"),
                Some((by_signer, "signer")),
                false,
            ),
            (&self.users, "name", None, None, false),
            (&self.sessions, "id", None, None, true),
            (&self.meta, "key", None, None, true),
            (&self.api_keys, "keyId", None, None, false),
        ];
        for (table, hash, range, index, ttl) in plans {
            let mut create = ddb
                .create_table()
                .table_name(table)
                .billing_mode(BillingMode::PayPerRequest)
                .attribute_definitions(attr(hash))
                .key_schema(key(hash, KeyType::Hash));
            if let Some(range) = range {
                create = create
                    .attribute_definitions(attr(range))
                    .key_schema(key(range, KeyType::Range));
            }
            if let Some((index, partition)) = index {
                if range != Some(partition) {
                    create = create.attribute_definitions(attr(partition));
                }
                create = create
                    .attribute_definitions(attr("createdAt"))
                    .global_secondary_indexes(index);
            }
            match create.send().await {
                Ok(_) => {
                    tracing::info!(table, "created table");
                    if ttl {
                        enable_ttl(ddb, table).await?;
                    }
                }
                Err(SdkError::ServiceError(e))
                    if matches!(e.err(), CreateTableError::ResourceInUseException(_)) => {}
                Err(e) => {
                    tracing::error!(table, error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "creating a table failed");
                    return Err(DomainError::Unavailable);
                }
            }
        }
        Ok(())
    }
}

/// Lets DynamoDB delete a table's rows once their `expiresAt` has passed.
/// Deletion may lag (up to days on AWS), so readers still check the time.
async fn enable_ttl(ddb: &Client, table: &str) -> Result<(), DomainError> {
    ddb.update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(EXPIRES_AT)
                .build()
                .expect("enabled and attribute are set"),
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            tracing::error!(table, error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "enabling time-to-live failed");
            DomainError::Unavailable
        })
}
