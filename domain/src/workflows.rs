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
        .replace("${TasksTable}", &tables.tasks)
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

/// Creates (or updates) the state machine `name` with `definition` and
/// returns its ARN.
pub async fn deploy_named(
    sfn: &Client,
    name: &str,
    definition: &str,
) -> Result<String, DomainError> {
    deploy(sfn, name, definition).await
}

/// The ARN of the state machine named `name`, looking through every page
/// of ListStateMachines.
pub async fn find_named(sfn: &Client, name: &str) -> Result<Option<String>, DomainError> {
    let mut next = None;
    loop {
        let page = sfn
            .list_state_machines()
            .set_next_token(next)
            .send()
            .await
            .map_err(|e| {
                tracing::error!(error = ?e, "listing state machines failed");
                DomainError::Unavailable
            })?;
        if let Some(found) = page.state_machines().iter().find(|m| m.name() == name) {
            return Ok(Some(found.state_machine_arn().to_owned()));
        }
        next = page.next_token().map(str::to_owned);
        if next.is_none() {
            return Ok(None);
        }
    }
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
            let arn = find_named(sfn, name)
                .await?
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

/// Starts `machine` with a given execution name (the order or document id).
pub(crate) async fn start_workflow(
    sfn: &aws_sdk_sfn::Client,
    machine: &str,
    name: &str,
    input: &serde_json::Value,
) -> Result<(), DomainError> {
    sfn.start_execution()
        .state_machine_arn(machine)
        .name(name)
        .input(input.to_string())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| crate::items::unavailable("starting a workflow")(format!("{e:?}")))
}
