use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use countersign_domain::DomainError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::SETTLE;
use super::error::{ApiError, Result};
use super::request::*;
use super::shapes::*;
use crate::readiness::{Backend, Readiness};
use axum::response::{IntoResponse, Response};
use countersign_domain::access;
use countersign_domain::orders::{Order, PendingTask};
use countersign_domain::outcome::Decided;
use std::time::Duration;

#[derive(Deserialize)]
struct CreateOrder {
    items: Vec<String>,
    customer: Option<String>,
}

pub(super) async fn create_order(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let (s, user, request): (_, _, CreateOrder) = authorized(&readiness, &headers, body).await?;
    let order_id = access::place_order(
        &s.domain,
        &user,
        &request.items,
        request.customer.as_deref(),
    )
    .await?;
    let created = Created {
        execution_id: s.domain.execution_arn(&order_id),
        order_id: Some(order_id.clone()),
        document_id: None,
    };
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/order/{order_id}"))],
        Json(created),
    )
        .into_response())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct OrderOut {
    order_id: String,
    execution_id: String,
    customer: String,
    items: Vec<String>,
    status: countersign_domain::orders::OrderStatus,
    created_at: String,
    updated_at: String,
    error: Option<String>,
    cause: Option<String>,
    history: Vec<countersign_domain::orders::HistoryEntry>,
    notifications: Vec<NotificationOut>,
    /// The step waiting for a decision, if any.
    pending: Option<PendingOut>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NotificationOut {
    at: String,
    status: Option<String>,
    message: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PendingOut {
    task_id: String,
    step: String,
    since: String,
    /// Where a signed webhook call completes this step.
    hook_path: String,
}

fn order_out(s: &Backend, order: Order, pending: Option<PendingTask>) -> OrderOut {
    OrderOut {
        execution_id: s.domain.execution_arn(&order.order_id),
        pending: pending.map(|p| PendingOut {
            hook_path: format!("/hooks/tasks/o.{}.{}", p.order_id, p.task_id),
            task_id: p.task_id,
            step: p.step,
            since: p.created_at,
        }),
        order_id: order.order_id,
        customer: order.customer,
        items: order.items,
        status: order.status,
        created_at: order.created_at,
        updated_at: order.updated_at,
        error: order.error,
        cause: order.cause,
        history: order.history,
        notifications: order
            .notifications
            .into_iter()
            .map(|n| NotificationOut {
                at: n.at,
                status: n.status,
                message: n.message,
            })
            .collect(),
    }
}

pub(super) async fn get_order(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<OrderOut>> {
    let s = services(&readiness)?;
    let user = caller(&s, &headers).await?;
    let id = order_id_from(&s, &id)?;
    let (order, pending) = access::order(&s.domain, &user, &id).await?;
    Ok(Json(order_out(&s, order, pending)))
}

pub(super) async fn update_order(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>> {
    // "The step waiting now" means now, as the request comes in: a step
    // decided after this moment by a concurrent call was this call's step.
    let arrived = services(&readiness)?.domain.clock.stamp();
    let (s, user, request): (_, _, UpdateRequest) = authorized(&readiness, &headers, body).await?;
    let given = request
        .execution_id
        .as_deref()
        .ok_or_else(|| ApiError::invalid("executionId is required"))?;
    let order_id = order_id_from(&s, given)?;
    let outcome = outcome(request.success, request.error, request.cause)?;
    let comment = request.comment.as_deref();
    let decided = match request.task_id {
        Some(task_id) => {
            access::decide_order(&s.domain, &user, &order_id, &task_id, outcome, comment).await
        }
        None => {
            access::decide_waiting_order(
                &s.domain, &user, &order_id, outcome, comment, &arrived, SETTLE,
            )
            .await
        }
    };
    let decided = decided.map_err(|e| match e {
        DomainError::NotWaiting { status } => ApiError::new(
            StatusCode::CONFLICT,
            "not_waiting",
            format!("order {order_id} is {status} and waits for no decision now"),
        ),
        other => other.into(),
    })?;
    let status = settled_order(&s, &decided).await?;
    Ok(Json(decided_json(decided, status, "orderId")))
}

/// The order's status once the workflow has left the decided step. Only
/// the order row is read: its status changes when the workflow takes the
/// decision in (every DynamoDB read counts; see `countersign bench`).
pub(super) async fn settled_order(s: &Backend, decided: &Decided) -> Result<String> {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let status = s.domain.orders().status(&decided.subject).await?;
        if status.as_str() != decided.step || tokio::time::Instant::now() >= deadline {
            return Ok(status.to_string());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
