use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// How many service checks the data store has recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceCheckSummary {
    pub count: u64,
}

/// Reads the number of service checks recorded so far.
///
/// Who may call it: anyone; it reveals nothing but a counter.
#[server]
pub async fn service_checks() -> Result<ServiceCheckSummary, ServerFnError> {
    let services = crate::services::Services::from_context()?;
    let count = services
        .service_checks()
        .await
        .map_err(|e| e.into_server_error())?;
    Ok(ServiceCheckSummary { count })
}

/// Records one service check: a round trip to DynamoDB that proves the store
/// answers.
///
/// Who may call it: anyone; it only bumps a counter.
#[server]
pub async fn record_service_check() -> Result<ServiceCheckSummary, ServerFnError> {
    let services = crate::services::Services::from_context()?;
    let count = services
        .record_service_check()
        .await
        .map_err(|e| e.into_server_error())?;
    Ok(ServiceCheckSummary { count })
}
