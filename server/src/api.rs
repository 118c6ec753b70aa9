//! The REST API for machine callers, compatible with the order article's
//! endpoints (`POST /order`, `GET /order/{id}`, `POST /order/update`), the
//! same for documents under `/documents`, and signed webhooks that complete
//! a waiting task (`POST /hooks/tasks/{hookId}`).
//!
//! Callers authenticate with `Authorization: Bearer <key>` (webhooks with
//! an HMAC signature instead) and act as the key's user, through the same
//! permission checks and the same exactly-once decision service as the
//! dashboard ([`countersign_app::access`]). Every answer is JSON; errors
//! are `{"error": code, "message": text}` with a 4xx status for anything the
//! caller can fix. The contract is `openapi.json`, served at
//! `/openapi.json`.

use std::time::Duration;

// `Json` is only used for output: request bodies are read and parsed here,
// so that every rejection is our JSON error, not axum's plain text.
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::Method;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Json, Router};
use countersign_app::error::AppError;
use countersign_app::services::Services;
use countersign_domain::DomainError;
use countersign_domain::access;
use countersign_domain::api_keys::{SignedCall, WebhookRefusal};
use countersign_domain::decisions::{Decided, Outcome};
use countersign_domain::orders::{Order, PendingTask};
use countersign_domain::signatures::{Document, SignerSpec};
use countersign_domain::users::User;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::tasks_api;
use crate::web::Readiness;

/// The API's contract, kept beside the code that must honour it; the
/// tests fuzz the server against it.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Largest request body: an order of 100 items of 200 characters fits
/// with room to spare; anything bigger is refused before it is parsed.
pub const MAX_BODY: usize = 64 * 1024;

/// The header a webhook call is signed in.
pub const SIGNATURE_HEADER: &str = "countersign-signature";

/// How long an update waits for the workflow to reach its next step.
const SETTLE: Duration = Duration::from_secs(2);

/// Every REST route: method, path and handler. The router is built from
/// this one list, and [`routes`] reads it, so that a test can hold every
/// route to its permission table (a new route cannot go unchecked).
fn table(readiness: &Readiness) -> Vec<(Method, &'static str, MethodRouter<Readiness>)> {
    // Every state-changing call made with an API key takes an
    // Idempotency-Key (webhooks have their own replay protection).
    let idempotent =
        axum::middleware::from_fn_with_state(readiness.clone(), crate::idempotency::layer);
    vec![
        (Method::GET, "/openapi.json", get(openapi)),
        (
            Method::POST,
            "/order",
            post(create_order).route_layer(idempotent.clone()),
        ),
        (
            Method::POST,
            "/order/update",
            post(update_order).route_layer(idempotent.clone()),
        ),
        (Method::GET, "/order/{id}", get(get_order)),
        (
            Method::POST,
            "/documents",
            post(create_document).route_layer(idempotent.clone()),
        ),
        (
            Method::POST,
            "/documents/update",
            post(update_document).route_layer(idempotent.clone()),
        ),
        (Method::GET, "/documents/{id}", get(get_document)),
        (Method::POST, "/hooks/tasks/{hook_id}", post(webhook)),
        (Method::GET, "/v1/kinds", get(tasks_api::list_kinds)),
        (
            Method::POST,
            "/v1/kinds/{kind}/start",
            post(tasks_api::start_kind).route_layer(idempotent.clone()),
        ),
        (Method::GET, "/v1/tasks", get(tasks_api::list_tasks)),
        (Method::GET, "/v1/tasks/{id}", get(tasks_api::get_task)),
        (
            Method::POST,
            "/v1/tasks/{id}/answer",
            post(tasks_api::answer_task).route_layer(idempotent.clone()),
        ),
        (
            Method::POST,
            "/v1/tasks/{id}/claim",
            post(tasks_api::claim_task).route_layer(idempotent.clone()),
        ),
        (
            Method::POST,
            "/v1/tasks/{id}/unclaim",
            post(tasks_api::unclaim_task).route_layer(idempotent.clone()),
        ),
        (
            Method::POST,
            "/v1/tasks/{id}/assign",
            post(tasks_api::assign_task).route_layer(idempotent.clone()),
        ),
        (Method::GET, "/v1/views", get(tasks_api::list_views)),
        (
            Method::POST,
            "/v1/views",
            post(tasks_api::save_view).route_layer(idempotent.clone()),
        ),
        (
            Method::POST,
            "/v1/views/{name}/delete",
            post(tasks_api::delete_view).route_layer(idempotent),
        ),
    ]
}

/// Every REST route's method and path, as the router serves them.
pub fn routes() -> Vec<(Method, &'static str)> {
    table(&Readiness::default())
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect()
}

pub fn router(readiness: Readiness) -> Router {
    // One method router per path (GET and POST /views, say), each with the
    // JSON 405 for the methods it does not take.
    let mut by_path: Vec<(&'static str, MethodRouter<Readiness>)> = Vec::new();
    for (_, path, handler) in table(&readiness) {
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

/// A refusal or failure, as the caller sees it.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Each refused form value, for `invalid_form`.
    fields: Option<Value>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            fields: None,
        }
    }

    pub(crate) fn with_fields(mut self, fields: Value) -> Self {
        self.fields = Some(fields);
        self
    }

    fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid", message)
    }

    fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
        )
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        let code = match &error {
            AppError::SignInRequired | AppError::BadCredentials => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Invalid(_) => "invalid",
            AppError::AlreadyDecided { .. } => "already_decided",
            AppError::Claimed { .. } => "claimed",
            AppError::Form { .. } => "invalid_form",
            AppError::NotWaiting { .. } => "not_waiting",
            AppError::Expired => "expired",
            AppError::TooManyAttempts { .. } | AppError::Busy => "too_many_requests",
            AppError::Unavailable | AppError::Unreachable => "unavailable",
            AppError::Internal { .. } => "internal",
        };
        Self::new(error.status(), code, error.to_string())
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        AppError::from(error).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": self.code, "message": self.message});
        if let Some(fields) = self.fields {
            body["fields"] = fields;
        }
        let body = Json(body);
        let mut response = (self.status, body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, "Bearer".parse().expect("valid"));
        }
        response
    }
}

type Result<T> = std::result::Result<T, ApiError>;

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

pub(crate) fn services(readiness: &Readiness) -> Result<Services> {
    readiness.services().cloned().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server is still starting; try again in a moment",
        )
    })
}

/// The key's user; 401 without a key or with a wrong one.
pub(crate) async fn caller(s: &Services, headers: &HeaderMap) -> Result<User> {
    let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
    match countersign_app::auth::bearer_key(headers) {
        None => Err(unauthorized("send an API key: Authorization: Bearer <key>")),
        Some(None) => Err(unauthorized(
            "the Authorization header must be: Bearer <key>",
        )),
        Some(Some(key)) => s
            .domain
            .accounts()
            .bearer_user(key)
            .await?
            .ok_or_else(|| unauthorized("the API key is unknown or revoked")),
    }
}

/// The body, at most [`MAX_BODY`] bytes, declared as JSON if declared at
/// all. `curl -d '{…}'` labels its body as a form, and the article's API
/// parsed the body whatever its label, so that label is taken as JSON too.
async fn read_body(headers: &HeaderMap, body: Body) -> Result<axum::body::Bytes> {
    if let Some(kind) = headers.get(header::CONTENT_TYPE) {
        let kind = kind.to_str().unwrap_or_default().to_ascii_lowercase();
        let essence = kind.split(';').next().unwrap_or_default().trim();
        let json = essence == "application/json"
            || essence.ends_with("+json")
            || essence == "application/x-www-form-urlencoded";
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as application/json",
            ));
        }
    }
    axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body may hold at most {MAX_BODY} bytes"),
        )
    })
}

/// How every call with a body starts: the services, the key's user, then
/// the body (so an unauthenticated caller learns nothing from parsing).
pub(crate) async fn authorized<T: DeserializeOwned>(
    readiness: &Readiness,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Services, User, T)> {
    let s = services(readiness)?;
    let user = caller(&s, headers).await?;
    let request = parse(&read_body(headers, body).await?)?;
    Ok((s, user, request))
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::invalid(format!("the body is not what this call takes: {e}")))
}

/// Orders and documents are named by UUIDs (the workflow's execution
/// name); anything else names nothing, and is not sent to DynamoDB.
fn is_uuid(id: &str) -> bool {
    id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// An order id, or the execution ARN the article's clients know it by.
fn order_id_from(s: &Services, given: &str) -> Result<String> {
    let name = given.rsplit(':').next().unwrap_or_default();
    let matches = given == name || given == s.domain.execution_arn(name);
    if matches && is_uuid(name) {
        Ok(name.to_owned())
    } else {
        Err(ApiError::not_found("order"))
    }
}

fn document_id_from(s: &Services, given: &str) -> Result<String> {
    let name = given.rsplit(':').next().unwrap_or_default();
    let matches = given == name || given == s.domain.document_execution_arn(name);
    if matches && is_uuid(name) {
        Ok(name.to_owned())
    } else {
        Err(ApiError::not_found("document"))
    }
}

/// What a failure carries into the workflow: an error name and a cause.
fn outcome(success: bool, error: Option<String>, cause: Option<String>) -> Result<Outcome> {
    use countersign_domain::decisions::{MAX_ERROR_NAME, MAX_TEXT};
    // Checked whatever `success` says: a field the caller sent is not
    // silently dropped for being too long.
    if error
        .as_ref()
        .is_some_and(|e| e.chars().count() > MAX_ERROR_NAME)
        || cause.as_ref().is_some_and(|c| c.chars().count() > MAX_TEXT)
    {
        return Err(ApiError::invalid(format!(
            "error holds at most {MAX_ERROR_NAME} characters, cause {MAX_TEXT}"
        )));
    }
    if success {
        return Ok(Outcome::Advance);
    }
    let error = error.filter(|e| !e.trim().is_empty());
    let cause = cause.filter(|c| !c.trim().is_empty());
    let reason = cause
        .clone()
        .or_else(|| error.clone())
        .ok_or_else(|| ApiError::invalid("a failure needs an error or a cause saying why"))?;
    Ok(Outcome::Reject {
        reason,
        error: error.unwrap_or_else(|| countersign_domain::decisions::REJECTED.into()),
    })
}

// ---- orders --------------------------------------------------------------

#[derive(Deserialize)]
struct CreateOrder {
    items: Vec<String>,
    customer: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Created {
    #[serde(skip_serializing_if = "Option::is_none")]
    order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    document_id: Option<String>,
    execution_id: String,
}

async fn create_order(
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
struct OrderOut {
    order_id: String,
    execution_id: String,
    customer: String,
    items: Vec<String>,
    status: String,
    created_at: String,
    updated_at: String,
    error: Option<String>,
    cause: Option<String>,
    history: Vec<HistoryOut>,
    notifications: Vec<NotificationOut>,
    /// The step waiting for a decision, if any.
    pending: Option<PendingOut>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HistoryOut {
    at: String,
    by: String,
    status: Option<String>,
    decision: Option<String>,
    comment: Option<String>,
    error: Option<String>,
    cause: Option<String>,
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

fn history_out(history: Vec<countersign_domain::orders::HistoryEntry>) -> Vec<HistoryOut> {
    history
        .into_iter()
        .map(|h| HistoryOut {
            at: h.at,
            by: h.by,
            status: h.status,
            decision: h.decision,
            comment: h.comment,
            error: h.error,
            cause: h.cause,
        })
        .collect()
}

fn order_out(s: &Services, order: Order, pending: Option<PendingTask>) -> OrderOut {
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
        history: history_out(order.history),
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

async fn get_order(
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateRequest {
    /// The order's execution ARN or its id (for documents, also
    /// `documentId`).
    execution_id: Option<String>,
    document_id: Option<String>,
    success: bool,
    error: Option<String>,
    cause: Option<String>,
    /// The step meant; makes a retry safe (without it, whatever step waits
    /// now is decided).
    task_id: Option<String>,
    comment: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DecidedOut {
    task_id: String,
    /// The status the order was in (`signature` for a document).
    step: String,
    decision: &'static str,
    by: String,
    at: String,
    /// The order's or document's status once the workflow has moved on (or
    /// as it stands, if it has not done so within two seconds).
    status: String,
}

async fn update_order(
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
async fn settled_order(s: &Services, decided: &Decided) -> Result<String> {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let status = s.domain.order_status(&decided.subject).await?;
        if status != decided.step || tokio::time::Instant::now() >= deadline {
            return Ok(status);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn decided_json(decided: Decided, status: String, subject_key: &str) -> Value {
    let mut value = serde_json::to_value(DecidedOut {
        task_id: decided.task_id,
        step: decided.step,
        decision: decided.outcome,
        by: decided.by,
        at: decided.at,
        status,
    })
    .unwrap_or_default();
    value[subject_key] = Value::String(decided.subject);
    value
}

// ---- documents -----------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateDocument {
    title: String,
    signers: Vec<SignerIn>,
    timeout_seconds: u64,
}

#[derive(Deserialize)]
struct SignerIn {
    name: String,
    #[serde(default)]
    automatic: bool,
}

async fn create_document(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let (s, user, request): (_, _, CreateDocument) = authorized(&readiness, &headers, body).await?;
    let signers: Vec<SignerSpec> = request
        .signers
        .into_iter()
        .map(|s| SignerSpec {
            name: s.name,
            automatic: s.automatic,
        })
        .collect();
    let id = access::request_signatures(
        &s.domain,
        &user,
        &request.title,
        &signers,
        request.timeout_seconds,
    )
    .await?;
    let created = Created {
        execution_id: s.domain.document_execution_arn(&id),
        order_id: None,
        document_id: Some(id.clone()),
    };
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/documents/{id}"))],
        Json(created),
    )
        .into_response())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DocumentOut {
    document_id: String,
    title: String,
    status: String,
    signers: Vec<SignerOut>,
    signatures: Vec<SignatureOut>,
    requests: Vec<RequestOut>,
    history: Vec<HistoryOut>,
}

#[derive(Serialize)]
struct SignerOut {
    name: String,
    automatic: bool,
}

#[derive(Serialize)]
struct SignatureOut {
    signer: String,
    at: String,
    how: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestOut {
    signer: String,
    status: String,
    created_at: String,
    task_id: Option<String>,
    hook_path: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<String>,
}

fn document_out(document: Document) -> DocumentOut {
    let id = document.document_id.clone();
    DocumentOut {
        document_id: document.document_id,
        title: document.title,
        status: document.status,
        signers: document
            .signers
            .into_iter()
            .map(|s| SignerOut {
                name: s.name,
                automatic: s.automatic,
            })
            .collect(),
        signatures: document
            .signatures
            .into_iter()
            .map(|s| SignatureOut {
                signer: s.signer,
                at: s.at,
                how: s.how,
            })
            .collect(),
        requests: document
            .requests
            .into_iter()
            .map(|r| RequestOut {
                hook_path: r
                    .task_id
                    .as_ref()
                    .map(|t| format!("/hooks/tasks/d.{id}.{t}")),
                signer: r.signer,
                status: r.status,
                created_at: r.created_at,
                task_id: r.task_id,
                decided_by: r.decided_by,
                decided_at: r.decided_at,
            })
            .collect(),
        history: history_out(document.history),
    }
}

async fn get_document(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<DocumentOut>> {
    let s = services(&readiness)?;
    let user = caller(&s, &headers).await?;
    let id = document_id_from(&s, &id)?;
    let document = access::document(&s.domain, &user, &id).await?;
    Ok(Json(document_out(document)))
}

async fn update_document(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>> {
    let (s, user, request): (_, _, UpdateRequest) = authorized(&readiness, &headers, body).await?;
    // Only signers sign: anyone else is refused before the document is
    // looked at (and told nothing about where it stands).
    if !user.has(countersign_domain::users::Role::Signer) {
        return Err(AppError::Forbidden.into());
    }
    let given = request
        .document_id
        .as_deref()
        .or(request.execution_id.as_deref())
        .ok_or_else(|| ApiError::invalid("documentId (or executionId) is required"))?;
    let document_id = document_id_from(&s, given)?;
    let outcome = outcome(request.success, request.error, request.cause)?;
    let task_id = match request.task_id {
        Some(task_id) => task_id,
        None => own_request(&s, &user, &document_id).await?,
    };
    let decided =
        access::decide_signature(&s.domain, &user, &document_id, &task_id, outcome).await?;
    let status = settled_document(&s, &user, &document_id).await?;
    Ok(Json(decided_json(decided, status, "documentId")))
}

/// The task id of the caller's own waiting request on a document; if it
/// has been decided, who decided it.
async fn own_request(s: &Services, user: &User, document_id: &str) -> Result<String> {
    let document = access::document(&s.domain, user, document_id).await?;
    let mine = document
        .requests
        .into_iter()
        .find(|r| r.signer == user.name);
    match mine {
        Some(r) if r.task_id.is_some() => r
            .task_id
            .ok_or_else(|| not_waiting_document(document_id, &document.status)),
        Some(r) if r.status == "EXPIRED" => Err(AppError::Expired.into()),
        Some(r) => match (r.decided_by, r.decided_at) {
            (Some(by), Some(at)) => Err(AppError::AlreadyDecided { by, at }.into()),
            _ => Err(not_waiting_document(document_id, &document.status)),
        },
        None => Err(not_waiting_document(document_id, &document.status)),
    }
}

fn not_waiting_document(document_id: &str, status: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "not_waiting",
        format!("document {document_id} is {status} and waits for no signature of yours"),
    )
}

/// The document's status once its workflow has taken the decision in.
async fn settled_document(s: &Services, user: &User, document_id: &str) -> Result<String> {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let document = access::document(&s.domain, user, document_id).await?;
        if document.status != "WAITING" || tokio::time::Instant::now() >= deadline {
            return Ok(document.status);
        }
        // Other signers may still be waiting: then WAITING is the answer.
        if document.requests.iter().any(|r| r.task_id.is_some()) {
            return Ok(document.status);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ---- webhooks ------------------------------------------------------------

#[derive(Deserialize)]
struct WebhookBody {
    status: WebhookStatus,
    error: Option<String>,
    cause: Option<String>,
}

#[derive(Deserialize, PartialEq)]
#[serde(rename_all = "UPPERCASE")]
enum WebhookStatus {
    Success,
    Failure,
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Completes the task a hook path names, for a caller holding a webhook
/// secret. The signature is checked before anything else, so an unsigned
/// caller learns nothing about which tasks exist.
async fn webhook(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
    Path(hook_id): Path<String>,
    body: Body,
) -> Result<Json<Value>> {
    let s = services(&readiness)?;
    let bytes = read_body(&headers, body).await?;
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let accounts = s.domain.accounts();
    let call = SignedCall {
        header: signature,
        method: "POST",
        path: uri.path(),
        body: &bytes,
    };
    let (user, call) = match accounts.webhook_user(call, now_secs()).await? {
        Ok(accepted) => accepted,
        Err(WebhookRefusal::Replayed) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "replayed",
                WebhookRefusal::Replayed.to_string(),
            ));
        }
        Err(refusal) => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "bad_signature",
                refusal.to_string(),
            ));
        }
    };
    let answer = complete_hook(&s, &user, &hook_id, &bytes).await;
    // A call that failed for a passing reason (the services unavailable)
    // may be sent again as it was; any other answer spends it.
    if let Err(error) = &answer
        && error.status.is_server_error()
        && let Err(release) = accounts.release_webhook_call(call).await
    {
        tracing::warn!(%release, "a failed webhook call's replay marker stays");
    }
    answer
}

/// The decision a verified webhook call asks for.
async fn complete_hook(
    s: &Services,
    user: &User,
    hook_id: &str,
    bytes: &[u8],
) -> Result<Json<Value>> {
    let request: WebhookBody = parse(bytes)?;
    let outcome = outcome(
        request.status == WebhookStatus::Success,
        request.error,
        request.cause,
    )?;
    let mut parts = hook_id.splitn(3, '.');
    let (kind, subject, task_id) = (parts.next(), parts.next(), parts.next());
    let (Some(kind), Some(subject), Some(task_id)) = (kind, subject, task_id) else {
        return Err(ApiError::not_found("task"));
    };
    if !is_uuid(subject) || !is_uuid(task_id) {
        return Err(ApiError::not_found("task"));
    }
    match kind {
        "o" => {
            let decided =
                access::decide_order(&s.domain, user, subject, task_id, outcome, None).await?;
            let status = settled_order(s, &decided).await?;
            Ok(Json(decided_json(decided, status, "orderId")))
        }
        "d" => {
            let decided =
                access::decide_signature(&s.domain, user, subject, task_id, outcome).await?;
            let status = settled_document(s, user, subject).await?;
            Ok(Json(decided_json(decided, status, "documentId")))
        }
        _ => Err(ApiError::not_found("task")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_recognised_strictly() {
        assert!(is_uuid("0b0f8a2e-6c1d-4c8e-9a51-2f7d3e4b5a69"));
        for bad in [
            "",
            "0b0f8a2e-6c1d-4c8e-9a51-2f7d3e4b5a6",
            "0b0f8a2e-6c1d-4c8e-9a51-2f7d3e4b5a6g",
            "0b0f8a2e06c1d-4c8e-9a51-2f7d3e4b5a69",
            "../../../../etc/passwd-000000000000",
        ] {
            assert!(!is_uuid(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_failure_needs_a_reason_and_keeps_its_error_name() {
        assert!(outcome(false, None, None).is_err());
        assert!(outcome(false, Some(" ".into()), Some("".into())).is_err());
        assert_eq!(
            outcome(false, Some("OutOfStock".into()), None).ok(),
            Some(Outcome::Reject {
                reason: "OutOfStock".into(),
                error: "OutOfStock".into()
            })
        );
        assert_eq!(
            outcome(false, None, Some("no hats left".into())).ok(),
            Some(Outcome::reject("no hats left"))
        );
        assert_eq!(outcome(true, None, None).ok(), Some(Outcome::Advance));
    }
}
