//! The workflow definitions. The ASL files in `workflows/` are the ones the
//! AWS deploy uses; `${Name}` placeholders are CloudFormation's definition
//! substitutions, filled here the same way for the embedded engine and
//! tests.

use aws_sdk_sfn::Client;

use crate::DomainError;
use crate::tables::Tables;

/// The process-order definition, as deployed.
pub const PROCESS_ORDER: &str = include_str!("../../workflows/process-order.asl.json");
/// The sign-document definition, as deployed.
pub const SIGN_DOCUMENT: &str = include_str!("../../workflows/sign-document.asl.json");

/// Fills the `${…}` placeholders with the table names.
pub fn substitute(definition: &str, tables: &Tables) -> String {
    definition
        .replace("${OrdersTable}", &tables.orders)
        .replace("${ActionsTable}", &tables.actions)
        .replace("${DocumentsTable}", &tables.documents)
        .replace("${SignatureRequestsTable}", &tables.signature_requests)
}

/// Creates (or updates) the process-order state machine named `name` and
/// returns its ARN.
pub async fn deploy_process_order(
    sfn: &Client,
    name: &str,
    tables: &Tables,
) -> Result<String, DomainError> {
    deploy(sfn, name, &substitute(PROCESS_ORDER, tables)).await
}

/// Creates (or updates) the sign-document state machine named `name` and
/// returns its ARN.
pub async fn deploy_sign_document(
    sfn: &Client,
    name: &str,
    tables: &Tables,
) -> Result<String, DomainError> {
    deploy(sfn, name, &substitute(SIGN_DOCUMENT, tables)).await
}

async fn deploy(sfn: &Client, name: &str, definition: &str) -> Result<String, DomainError> {
    let role = "arn:aws:iam::123456789012:role/countersign-workflows";
    match sfn
        .create_state_machine()
        .name(name)
        .definition(definition)
        .role_arn(role)
        .send()
        .await
    {
        Ok(created) => Ok(created.state_machine_arn().to_owned()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_state_machine_already_exists()) =>
        {
            // Same name, other definition: bring it up to date.
            let listed = sfn.list_state_machines().send().await.map_err(|e| {
                tracing::error!(error = ?e, "listing state machines failed");
                DomainError::Unavailable
            })?;
            let arn = listed
                .state_machines()
                .iter()
                .find(|m| m.name() == name)
                .map(|m| m.state_machine_arn().to_owned())
                .ok_or(DomainError::Unavailable)?;
            sfn.update_state_machine()
                .state_machine_arn(&arn)
                .definition(definition)
                .send()
                .await
                .map_err(|e| {
                    tracing::error!(error = ?e, "updating the state machine failed");
                    DomainError::Unavailable
                })?;
            Ok(arn)
        }
        Err(e) => {
            tracing::error!(error = ?e, "creating the state machine failed");
            Err(DomainError::Unavailable)
        }
    }
}
