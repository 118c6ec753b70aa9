//! What the server hands to server functions: clients for the AWS services
//! and the names of the tables. Server build only.

use aws_sdk_dynamodb::types::AttributeValue;
use leptos::prelude::*;

/// Shared handles, cheap to clone (the SDK clients are reference-counted).
#[derive(Clone, Debug)]
pub struct Services {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub meta_table: String,
    /// Orders and their decisions.
    pub orders: countersign_domain::orders::Services,
}

/// Why a service call failed, in words a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The data store did not answer; the cause is logged, never shown.
    #[error("the data store is not answering right now; try again in a moment")]
    StoreUnavailable,
}

impl ServiceError {
    /// The message a browser may see: the variant's words, never the cause's.
    pub fn into_server_error(self) -> ServerFnError {
        ServerFnError::ServerError(self.to_string())
    }
}

/// The key of the counter row in the meta table.
const SERVICE_CHECK_KEY: &str = "service-checks";

impl Services {
    /// The services the server provided, or an error if a server function is
    /// called outside a request the server set up.
    pub fn from_context() -> Result<Self, ServerFnError> {
        use_context::<Self>()
            .ok_or_else(|| ServerFnError::ServerError("the server is not set up".into()))
    }

    /// The recorded number of service checks (0 before the first).
    pub async fn service_checks(&self) -> Result<u64, ServiceError> {
        let out = self
            .dynamodb
            .get_item()
            .table_name(&self.meta_table)
            .key("key", AttributeValue::S(SERVICE_CHECK_KEY.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| {
                tracing::error!(error = ?e, "reading the service check counter failed");
                ServiceError::StoreUnavailable
            })?;
        Ok(out
            .item
            .as_ref()
            .and_then(|item| item.get("count"))
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0))
    }

    /// Adds one to the counter atomically and returns the new value.
    pub async fn record_service_check(&self) -> Result<u64, ServiceError> {
        let out = self
            .dynamodb
            .update_item()
            .table_name(&self.meta_table)
            .key("key", AttributeValue::S(SERVICE_CHECK_KEY.into()))
            .update_expression("ADD #count :one")
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| {
                tracing::error!(error = ?e, "recording a service check failed");
                ServiceError::StoreUnavailable
            })?;
        Ok(out
            .attributes
            .as_ref()
            .and_then(|item| item.get("count"))
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0))
    }
}
