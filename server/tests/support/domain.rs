#![allow(
    dead_code,
    reason = "each test binary uses its own part of this support module"
)]

//! The domain deployed on a backend: its own tables and workflows under
//! unique names, so tests can share one moto.

use countersign_domain::services::Services;
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
        tasks: unique("tasks"),
        views: unique("views"),
        attachments: unique("attachments"),
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
    Services::new(
        b.ddb.clone(),
        b.sfn.clone(),
        tables,
        process_order_arn,
        sign_document_arn,
    )
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

/// Waits until the order waits on `step` and returns that task.
pub async fn waiting_on(
    s: &Services,
    order: &str,
    step: &str,
) -> countersign_domain::orders::PendingTask {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Some(t) = s.orders().pending_task(order).await.expect("read")
            && t.step == step
        {
            return t;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "order {order} never waited on {step}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Waits until the order's status is `status` and returns the order.
pub async fn status_becomes(
    s: &Services,
    order: &str,
    status: &str,
) -> countersign_domain::orders::Order {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if let Ok(o) = s.orders().get(order).await
            && o.status.as_str() == status
        {
            return o;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "order {order} never became {status}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Runs reconciler passes "later" (the clock moved past every lease) until
/// nothing is left to do.
pub async fn reconcile_later(s: &Services) {
    for _ in 0..10 {
        s.clock.advance(s.lease + std::time::Duration::from_secs(1));
        let pass = s.reconciler().pass().await.expect("reconciler pass");
        if pass.found == 0 {
            return;
        }
    }
    panic!("the reconciler never finished");
}

/// The order once its workflow has left PENDING (the decision taken in).
pub async fn settled(s: &Services, order: &str) -> countersign_domain::orders::Order {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let o = s.orders().get(order).await.expect("order");
        if o.status != countersign_domain::orders::OrderStatus::Pending {
            return o;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "order {order} never left PENDING"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
