//! The domain deployed on a backend: its own tables and workflows under
//! unique names, so tests can share one moto.

use countersign_domain::orders::Services;
use countersign_domain::tables::Tables;

use super::backends::{self, Backend, unique};

pub async fn services(b: &Backend) -> Services {
    let tables = Tables {
        orders: unique("orders"),
        actions: unique("actions"),
        decisions: unique("decisions"),
        documents: unique("documents"),
        signature_requests: unique("requests"),
        users: unique("users"),
        sessions: unique("sessions"),
        meta: unique("meta"),
        api_keys: unique("api-keys"),
    };
    tables.ensure(&b.ddb).await.expect("tables");
    let process_order_arn = countersign_domain::workflows::deploy_process_order(
        &b.sfn,
        &unique("process-order"),
        &tables,
    )
    .await
    .expect("deploy process-order");
    let sign_document_arn = countersign_domain::workflows::deploy_sign_document(
        &b.sfn,
        &unique("sign-document"),
        &tables,
    )
    .await
    .expect("deploy sign-document");
    Services {
        ddb: b.ddb.clone(),
        sfn: b.sfn.clone(),
        tables,
        process_order_arn,
        sign_document_arn,
    }
}

/// The domain on the embedded services and on moto.
pub async fn both() -> Vec<(Backend, Services)> {
    let mut out = Vec::new();
    for b in [backends::embedded().await, backends::moto().await] {
        let s = services(&b).await;
        out.push((b, s));
    }
    out
}
