//! The AWS deploy template and the workflows stay in step: every `${…}`
//! placeholder in an ASL file is filled by the template's
//! DefinitionSubstitutions, every table the domain creates exists there
//! with the same keys and indexes, and the template points at the files.

use std::collections::BTreeSet;

const TEMPLATE: &str = include_str!("../../deploy/countersign.yaml");
const EXPENSE: &str = include_str!("../../workflows/expense-approval.asl.json");

fn placeholders(asl: &str) -> BTreeSet<String> {
    asl.split("${")
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}

#[test]
fn every_workflow_placeholder_is_substituted_by_the_template() {
    for (file, asl) in [
        (
            "process-order.asl.json",
            countersign_domain::workflows::PROCESS_ORDER,
        ),
        (
            "sign-document.asl.json",
            countersign_domain::workflows::SIGN_DOCUMENT,
        ),
        ("expense-approval.asl.json", EXPENSE),
    ] {
        assert!(
            TEMPLATE.contains(&format!("../workflows/{file}")),
            "the template deploys {file}"
        );
        let start = TEMPLATE
            .find(&format!("../workflows/{file}"))
            .expect("location");
        let block = &TEMPLATE[start..];
        let block = &block[..block.find("\n\n").unwrap_or(block.len())];
        for name in placeholders(asl) {
            assert!(
                block.contains(&format!("{name}: ")),
                "{file} uses ${{{name}}} but the template does not substitute it"
            );
        }
    }
}

#[test]
fn the_template_creates_every_table_and_index_the_domain_uses() {
    let defaults = countersign_domain::tables::Tables::default();
    for table in [
        &defaults.orders,
        &defaults.actions,
        &defaults.decisions,
        &defaults.documents,
        &defaults.signature_requests,
        &defaults.users,
        &defaults.sessions,
        &defaults.meta,
        &defaults.api_keys,
        &defaults.tasks,
        &defaults.views,
    ] {
        assert!(
            TEMPLATE.contains(&format!("\"${{Prefix}}{table}\"")),
            "table {table} missing from the template"
        );
    }
    for index in [
        countersign_domain::tables::INBOX_INDEX,
        countersign_domain::tables::TASKS_BY_SIGNER,
        countersign_domain::tables::CUSTOMER_INDEX,
        countersign_domain::tables::TASKS_OPEN,
        countersign_domain::tables::TASKS_BY_DEADLINE,
        countersign_domain::tables::TASKS_BY_ASSIGNEE,
        countersign_domain::tables::VIEWS_BY_GROUP,
    ] {
        assert!(
            TEMPLATE.contains(&format!("IndexName: {index}")),
            "index {index} missing from the template"
        );
    }
}

#[test]
fn the_substituted_workflows_are_valid_definitions_for_the_engine() {
    let tables = countersign_domain::tables::Tables::default();
    for asl in [
        countersign_domain::workflows::PROCESS_ORDER,
        countersign_domain::workflows::SIGN_DOCUMENT,
        EXPENSE,
    ] {
        let text = countersign_domain::workflows::substitute(asl, &tables);
        assert!(
            placeholders(&text).is_empty(),
            "unfilled placeholders remain"
        );
        countersign_engine::asl::definition::parse(&text).expect("the engine accepts the workflow");
    }
}
