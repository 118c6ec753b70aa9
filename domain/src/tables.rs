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
}

impl Default for Tables {
    fn default() -> Self {
        Self {
            orders: "orders".into(),
            actions: "orderProcessingActions".into(),
            decisions: "countersignDecisions".into(),
            documents: "documents".into(),
            signature_requests: "signatureRequests".into(),
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
        // (table, hash key, range key, index and its partition key)
        let plans = [
            (&self.orders, "orderId", None, None),
            (&self.actions, "executionId", None, Some((inbox, "inbox"))),
            (&self.decisions, "taskId", None, None),
            (&self.documents, "documentId", None, None),
            (
                &self.signature_requests,
                "documentId",
                Some("signer"),
                Some((by_signer, "signer")),
            ),
        ];
        for (table, hash, range, index) in plans {
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
                Ok(_) => tracing::info!(table, "created table"),
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
