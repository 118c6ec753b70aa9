//! The workflow definitions. The ASL files in `workflows/` are the ones the
//! AWS deploy uses; `${Name}` placeholders are CloudFormation's definition
//! substitutions, filled here the same way for the embedded engine and
//! tests.

use aws_sdk_sfn::Client;

use crate::DomainError;
use crate::tables::Tables;

/// The process-order definition, as deployed.
pub const PROCESS_ORDER: &str = include_str!("../../workflows/process-order.asl.json");

/// Fills the `${…}` placeholders with the table names.
pub fn process_order_definition(tables: &Tables) -> String {
    PROCESS_ORDER
        .replace("${OrdersTable}", &tables.orders)
        .replace("${ActionsTable}", &tables.actions)
}

/// Creates (or updates) the process-order state machine named `name` and
/// returns its ARN.
pub async fn deploy_process_order(
    sfn: &Client,
    name: &str,
    tables: &Tables,
) -> Result<String, DomainError> {
    let definition = process_order_definition(tables);
    let role = "arn:aws:iam::123456789012:role/countersign-workflows";
    match sfn
        .create_state_machine()
        .name(name)
        .definition(&definition)
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
