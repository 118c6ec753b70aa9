//! Creates the tables the dashboard needs where they are missing, so that a
//! fresh data directory works with no set-up step.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};

/// Table names. In AWS mode they come from the deploy; these are the
/// embedded defaults.
#[derive(Debug, Clone)]
pub struct Tables {
    /// Small bookkeeping rows (counters), keyed by `key`.
    pub meta: String,
}

impl Default for Tables {
    fn default() -> Self {
        Self {
            meta: "countersign-meta".into(),
        }
    }
}

/// Why a table could not be created.
#[derive(Debug, thiserror::Error)]
#[error("table {table}: {message}")]
pub struct ProvisionError {
    table: String,
    message: String,
}

/// Creates every table in `tables` that does not exist yet.
pub async fn ensure_tables(client: &Client, tables: &Tables) -> Result<(), ProvisionError> {
    create_if_missing(client, &tables.meta, "key").await
}

async fn create_if_missing(client: &Client, table: &str, key: &str) -> Result<(), ProvisionError> {
    let created = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(key)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| ProvisionError {
                    table: table.into(),
                    message: e.to_string(),
                })?,
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(key)
                .key_type(KeyType::Hash)
                .build()
                .map_err(|e| ProvisionError {
                    table: table.into(),
                    message: e.to_string(),
                })?,
        )
        .send()
        .await;
    match created {
        Ok(_) => {
            tracing::info!(table, "created table");
            Ok(())
        }
        // Already there from an earlier start: exactly what we want.
        Err(SdkError::ServiceError(e))
            if matches!(e.err(), CreateTableError::ResourceInUseException(_)) =>
        {
            Ok(())
        }
        Err(e) => Err(ProvisionError {
            table: table.into(),
            message: aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string(),
        }),
    }
}
