//! The REST API for machine callers, compatible with the order article's
//! endpoints (`POST /order`, `GET /order/{id}`, `POST /order/update`), the
//! same for documents under `/documents`, and signed webhooks that complete
//! a waiting task (`POST /hooks/tasks/{hookId}`).
//!
//! Callers authenticate with `Authorization: Bearer <key>` (webhooks with
//! an HMAC signature instead) and act as the key's user, through the same
//! permission checks and the same exactly-once decision service as the
//! dashboard ([`countersign_domain::access`]). Every answer is JSON; errors
//! are `{"error": code, "message": text}` with a 4xx status for anything the
//! caller can fix. The contract is `openapi.json`, served at
//! `/openapi.json`. Nothing here uses the UI crate.
//!
//! # Layout
//! - `mod.rs`: the one table of routes, and the router built from it.
//! - `request`: the backend, the key's user, the body, ids and outcomes.
//! - `error`: refusals and failures as JSON.
//! - `shapes`: answers the order and document calls share.
//! - `orders`, `documents`: the article's calls.
//! - `hooks`: signed webhooks completing a task.
//! - `tasks`: tasks of any kind, kinds and saved views under `/v1`.
//! - `audit`: the decision history export under `/v1`.
//! - `files`: attachments and receipts under `/v1`.
//! - `idempotency`: `Idempotency-Key` on every state-changing call.

use std::time::Duration;

use axum::Router;
use axum::http::Method;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};

use crate::readiness::Readiness;

mod audit;
mod documents;
pub mod error;
mod files;
mod hooks;
pub(crate) mod idempotency;
mod orders;
mod request;
mod shapes;
mod tasks;

use error::ApiError;

/// The API's contract, kept beside the code that must honour it; the
/// tests fuzz the server against it.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Largest request body: an order of 100 items of 200 characters fits
/// with room to spare; anything bigger is refused before it is parsed.
pub const MAX_BODY: usize = 64 * 1024;

/// The header a webhook call is signed in.
pub const SIGNATURE_HEADER: &str = "countersign-signature";

/// How long an update waits for the workflow to reach its next step.
pub(crate) const SETTLE: Duration = Duration::from_secs(2);

/// Every REST route: method, path and handler. The router is built from
/// this one list, and [`routes`] reads it, so that a test can hold every
/// route to its permission table (a new route cannot go unchecked).
fn table(
    readiness: &Readiness,
    upload_limit: u64,
) -> Vec<(Method, &'static str, MethodRouter<Readiness>)> {
    // Every state-changing call made with an API key takes an
    // Idempotency-Key (webhooks have their own replay protection).
    let idempotent = axum::middleware::from_fn_with_state(readiness.clone(), idempotency::layer);
    // An upload may be one file of the largest size, with its form around it.
    let upload_body = axum::extract::DefaultBodyLimit::max(
        usize::try_from(upload_limit.saturating_add(crate::files::FORM_OVERHEAD))
            .unwrap_or(usize::MAX),
    );
    vec![
        (Method::GET, "/openapi.json", get(openapi)),
        (
            Method::POST,
            "/order",
            post(orders::create_order).route_layer(idempotent.clone()),
        ),
        (
            Method::POST,
            "/order/update",
            post(orders::update_order).route_layer(idempotent.clone()),
        ),
        (Method::GET, "/order/{id}", get(orders::get_order)),
        (
            Method::POST,
            "/documents",
            post(documents::create_document).route_layer(idempotent.clone()),
        ),
        (
            Method::POST,
            "/documents/update",
            post(documents::update_document).route_layer(idempotent.clone()),
        ),
        (Method::GET, "/documents/{id}", get(documents::get_document)),
        (Method::POST, "/hooks/tasks/{hook_id}", post(hooks::webhook)),
        (Method::GET, "/v1/kinds", get(tasks::list_kinds)),
        (
            Method::POST,
            "/v1/kinds/{kind}/start",
            post(tasks::start_kind)
                .route_layer(idempotent.clone())
                .layer(upload_body),
        ),
        (Method::GET, "/v1/tasks", get(tasks::list_tasks)),
        (Method::GET, "/v1/tasks/{id}", get(tasks::get_task)),
        (
            Method::POST,
            "/v1/tasks/{id}/answer",
            post(tasks::answer_task).route_layer(idempotent.clone()),
        ),
        (
            Method::POST,
            "/v1/tasks/{id}/claim",
            post(tasks::claim_task).route_layer(idempotent.clone()),
        ),
        (
            Method::POST,
            "/v1/tasks/{id}/unclaim",
            post(tasks::unclaim_task).route_layer(idempotent.clone()),
        ),
        (
            Method::POST,
            "/v1/tasks/{id}/assign",
            post(tasks::assign_task).route_layer(idempotent.clone()),
        ),
        (Method::GET, "/v1/views", get(tasks::list_views)),
        (
            Method::GET,
            "/v1/decisions/export",
            get(audit::export_decisions),
        ),
        (Method::GET, "/v1/files/{of}/{id}", get(files::list_files)),
        (
            Method::POST,
            "/v1/files/{of}/{id}",
            post(files::attach_files).layer(upload_body),
        ),
        (
            Method::GET,
            "/v1/files/{of}/{id}/{name}",
            get(files::get_file),
        ),
        (Method::GET, "/v1/receipts/{id}", get(files::get_receipt)),
        (
            Method::POST,
            "/v1/views",
            post(tasks::save_view).route_layer(idempotent.clone()),
        ),
        (
            Method::POST,
            "/v1/views/{name}/delete",
            post(tasks::delete_view).route_layer(idempotent),
        ),
    ]
}

/// Every REST route's method and path, as the router serves them.
pub fn routes() -> Vec<(Method, &'static str)> {
    table(&Readiness::default(), 0)
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect()
}

pub fn router(readiness: Readiness, upload_limit: u64) -> Router {
    // One method router per path (GET and POST /views, say), each with the
    // JSON 405 for the methods it does not take.
    let mut by_path: Vec<(&'static str, MethodRouter<Readiness>)> = Vec::new();
    for (_, path, handler) in table(&readiness, upload_limit) {
        match by_path.iter_mut().find(|(p, _)| *p == path) {
            Some((_, existing)) => *existing = std::mem::take(existing).merge(handler),
            None => by_path.push((path, handler)),
        }
    }
    by_path
        .into_iter()
        .fold(Router::new(), |router, (path, handler)| {
            router.route(path, handler.fallback(not_allowed))
        })
        .with_state(readiness)
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this method is not allowed here",
    )
}
