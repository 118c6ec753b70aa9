//! Orders: placing, following and deciding them.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{BulkResult, Decision, EventsPage, InboxPage, OrderPage, OrderSummary, Page};

/// Places an order; `items` holds one item a line. Goes to the new order's
/// page.
///
/// Who may call it: customers (for themselves).
#[server(endpoint = "orders/place")]
pub async fn place_order(items: String) -> Result<String, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        let items: Vec<String> = items
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        let id =
            countersign_domain::access::place_order(&services.domain, &user, &items, None).await?;
        crate::redirect::to(&format!("/orders/{id}"));
        Ok(id)
    })
    .await
}

/// The caller's own orders, newest first.
///
/// Who may call it: customers; they see only their own.
#[server(endpoint = "orders/mine")]
pub async fn my_orders(cursor: Option<String>) -> Result<Page<OrderSummary>, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        let (items, next) =
            countersign_domain::access::my_orders(&services.domain, &user, 25, cursor.as_deref())
                .await?;
        Ok(Page { items, next })
    })
    .await
}

/// One order with its history, notifications and waiting step.
///
/// Who may call it: staff (any order); a customer (their own order only:
/// anyone else's is "not found", so ids cannot be probed).
#[server(endpoint = "orders/get")]
pub async fn get_order(order_id: String) -> Result<OrderPage, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        let (order, pending) =
            countersign_domain::access::order(&services.domain, &user, &order_id).await?;
        Ok(OrderPage { order, pending })
    })
    .await
}

/// The staff inbox: waiting order steps and signature requests together.
/// `kind` is all, orders or signatures; `status` a step or any; `q` is
/// searched in ids, names and titles; `sort` is age (oldest first) or
/// deadline (soonest first); `cursor` comes from the previous page.
///
/// Who may call it: staff.
#[server(endpoint = "orders/inbox")]
pub async fn staff_inbox(
    kind: Option<String>,
    status: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    cursor: Option<String>,
) -> Result<InboxPage, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        use countersign_domain::inbox::{InboxQuery, Kind, Sort};
        let query = InboxQuery {
            kind: Kind::parse(kind.as_deref().unwrap_or_default())?,
            status,
            search: q,
            sort: Sort::parse(sort.as_deref().unwrap_or_default())?,
            limit: 25,
            cursor,
        };
        let page = countersign_domain::access::staff_inbox(&services.domain, &user, &query).await?;
        Ok(page)
    })
    .await
}

/// An order's Step Functions events, a page at a time (`page` is the
/// previous answer's `next`).
///
/// Who may call it: staff.
#[server(endpoint = "orders/events")]
pub async fn order_events(order_id: String, page: Option<String>) -> Result<EventsPage, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        let subject = countersign_domain::access::Subject::Order(&order_id);
        let events = countersign_domain::access::execution_events(
            &services.domain,
            &user,
            subject,
            page.as_deref(),
        )
        .await?;
        Ok(events)
    })
    .await
}

/// Decides many orders' waiting steps the same way. Each of `picked` is
/// `<order id>.<task id>`; every one gets its own result, so one already
/// decided does not stop the rest.
///
/// Who may call it: staff.
#[server(endpoint = "orders/decide-many")]
pub async fn decide_orders(
    picked: Option<Vec<String>>,
    action: String,
    reason: Option<String>,
) -> Result<Vec<BulkResult>, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        use countersign_domain::outcome::Outcome;
        let picked = picked.unwrap_or_default();
        if picked.is_empty() {
            return Err(AppError::Invalid("pick at least one order".into()));
        }
        if picked.len() > crate::model::MAX_BULK {
            return Err(AppError::Invalid(format!(
                "pick at most {} orders at once",
                crate::model::MAX_BULK
            )));
        }
        let outcome = match action.as_str() {
            "advance" => Outcome::Advance,
            "reject" => Outcome::reject(reason.unwrap_or_default().trim().to_owned()),
            other => {
                return Err(AppError::Invalid(format!(
                    "the action is advance or reject, not {other:?}"
                )));
            }
        };
        let mut results = Vec::with_capacity(picked.len());
        for pick in picked {
            let Some((order_id, task_id)) = pick.split_once('.') else {
                return Err(AppError::Invalid(format!(
                    "not an order and task: {pick:?}"
                )));
            };
            let decided = countersign_domain::access::decide_order(
                &services.domain,
                &user,
                order_id,
                task_id,
                outcome.clone(),
                None,
            )
            .await
            .map_err(AppError::from);
            results.push(match decided {
                Ok(d) => BulkResult {
                    order_id: order_id.to_owned(),
                    message: crate::words::decided_text(&d.into()),
                    ok: true,
                },
                Err(e) => {
                    // A refusal of the caller (signed out, not staff,
                    // bad reason) is the same for every order.
                    if matches!(
                        e,
                        AppError::SignInRequired | AppError::Forbidden | AppError::Invalid(_)
                    ) {
                        return Err(e);
                    }
                    BulkResult {
                        order_id: order_id.to_owned(),
                        message: e.to_string(),
                        ok: false,
                    }
                }
            });
        }
        // Without JavaScript the results go back to the inbox in its
        // address (the page shows them from there).
        crate::error::back_with("bulk", &crate::words::encode_bulk(&results));
        Ok(results)
    })
    .await
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
    crate::auth::as_signed_in(|services, user| async move {
        use countersign_domain::outcome::Outcome;
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
        let decided = countersign_domain::access::decide_order(
            &services.domain,
            &user,
            &order_id,
            &task_id,
            outcome,
            comment,
        )
        .await?;
        let decided: Decision = decided.into();
        crate::error::back_with("done", &crate::words::decided_text(&decided));
        Ok(decided)
    })
    .await
}
