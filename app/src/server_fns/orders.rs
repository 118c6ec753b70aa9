//! Orders: placing, following and deciding them.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{Decision, Order, OrderSummary, Page, Task};

/// Places an order; `items` holds one item a line. Goes to the new order's
/// page.
///
/// Who may call it: customers (for themselves).
#[server(endpoint = "orders/place")]
pub async fn place_order(items: String) -> Result<String, AppError> {
    crate::error::reply(
        async move {
            let user = crate::auth::signed_in().await?;
            let services = crate::services::Services::from_context()?;
            let items: Vec<String> = items
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
            let id = crate::access::place_order(&services, &user, &items, None).await?;
            leptos_axum::redirect(&format!("/orders/{id}"));
            Ok(id)
        }
        .await,
    )
}

/// The caller's own orders, newest first.
///
/// Who may call it: customers; they see only their own.
#[server(endpoint = "orders/mine")]
pub async fn my_orders(cursor: Option<String>) -> Result<Page<OrderSummary>, AppError> {
    crate::error::reply(
        async move {
            let user = crate::auth::signed_in().await?;
            let services = crate::services::Services::from_context()?;
            let (items, next) =
                crate::access::my_orders(&services, &user, 25, cursor.as_deref()).await?;
            Ok(Page {
                items: items.into_iter().map(Into::into).collect(),
                next,
            })
        }
        .await,
    )
}

/// One order with its history, notifications and waiting step.
///
/// Who may call it: staff (any order); a customer (their own order only:
/// anyone else's is "not found", so ids cannot be probed).
#[server(endpoint = "orders/get")]
pub async fn get_order(order_id: String) -> Result<Order, AppError> {
    crate::error::reply(
        async move {
            let user = crate::auth::signed_in().await?;
            let services = crate::services::Services::from_context()?;
            let (order, pending) = crate::access::order(&services, &user, &order_id).await?;
            Ok(Order::new(order, pending))
        }
        .await,
    )
}

/// Orders waiting for staff, oldest first.
///
/// Who may call it: staff.
#[server(endpoint = "orders/inbox")]
pub async fn inbox(cursor: Option<String>) -> Result<Page<Task>, AppError> {
    crate::error::reply(
        async move {
            let user = crate::auth::signed_in().await?;
            let services = crate::services::Services::from_context()?;
            let (items, next) =
                crate::access::inbox(&services, &user, 25, cursor.as_deref()).await?;
            Ok(Page {
                items: items.into_iter().map(Into::into).collect(),
                next,
            })
        }
        .await,
    )
}

/// Decides an order's waiting step: `advance` it, or `reject` it with a
/// reason. Exactly one decision per step takes effect; later ones are told
/// who decided.
///
/// Who may call it: staff.
#[server(endpoint = "orders/decide")]
pub async fn decide_order(
    order_id: String,
    task_id: String,
    action: String,
    reason: Option<String>,
    comment: Option<String>,
) -> Result<Decision, AppError> {
    crate::error::reply(
        async move {
            use countersign_domain::decisions::Outcome;
            let user = crate::auth::signed_in().await?;
            let services = crate::services::Services::from_context()?;
            let outcome = match action.as_str() {
                "advance" => Outcome::Advance,
                "reject" => Outcome::reject(reason.unwrap_or_default().trim().to_owned()),
                other => {
                    return Err(AppError::Invalid(format!(
                        "the action is advance or reject, not {other:?}"
                    )));
                }
            };
            let comment = comment.as_deref().map(str::trim).filter(|c| !c.is_empty());
            let decided = crate::access::decide_order(
                &services, &user, &order_id, &task_id, outcome, comment,
            )
            .await?;
            Ok(decided.into())
        }
        .await,
    )
}
