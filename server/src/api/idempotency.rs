//! `Idempotency-Key` on the REST API's state-changing calls: a retry with
//! the same key and the same request gets the first answer again (marked
//! `Idempotent-Replayed: true`) and changes nothing; the same key with a
//! different request is refused with 422; while the first request still
//! runs, 409. Keys belong to the caller (the API key's user). An answer
//! the server could not give (5xx) is not kept, so its retry runs again.
//! What is remembered lives in the domain (`countersign_domain::idempotency`).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use countersign_domain::idempotency::{Begin, request_hash, valid_key};

use super::MAX_BODY;
use super::error::ApiError;
use super::request::{caller, services};
use crate::readiness::Readiness;

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// The response header on a replayed answer.
pub const REPLAYED: &str = "idempotent-replayed";
/// Largest answer kept (the API's answers are a few hundred bytes).
const MAX_ANSWER: usize = 256 * 1024;

/// The middleware; put on each state-changing bearer route.
pub async fn layer(State(readiness): State<Readiness>, request: Request, next: Next) -> Response {
    let Some(given) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    let Some(key) = given
        .to_str()
        .ok()
        .filter(|k| valid_key(k))
        .map(str::to_owned)
    else {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            "the Idempotency-Key header needs 1 to 255 visible ASCII characters",
        )
        .into_response();
    };
    // Not ready, or not signed in: the route itself says so.
    let Ok(s) = services(&readiness) else {
        return next.run(request).await;
    };
    let Ok(user) = caller(&s, request.headers()).await else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body may hold at most {MAX_BODY} bytes"),
        )
        .into_response();
    };
    let hash = request_hash(parts.method.as_str(), parts.uri.path(), &bytes);
    match s.domain.idempotency().begin(&user.name, &key, &hash).await {
        Ok(Begin::Fresh) => {}
        Ok(Begin::Replay { status, body }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut response = (status, body).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            headers.insert(REPLAYED, HeaderValue::from_static("true"));
            return response;
        }
        Ok(Begin::InProgress) => {
            return ApiError::new(
                StatusCode::CONFLICT,
                "in_progress",
                "a request with this Idempotency-Key is still being handled; try again in a moment",
            )
            .into_response();
        }
        Ok(Begin::Mismatch) => {
            return ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used with a different request",
            )
            .into_response();
        }
        Err(e) => return ApiError::from(e).into_response(),
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (parts, body) = response.into_parts();
    let kept = match axum::body::to_bytes(body, MAX_ANSWER).await {
        Ok(answer) if !parts.status.is_server_error() => {
            let text = String::from_utf8_lossy(&answer).into_owned();
            let done = s
                .domain
                .idempotency()
                .done(&user.name, &key, parts.status.as_u16(), &text)
                .await;
            if let Err(e) = done {
                // The answer stands; a retry will be told "in progress"
                // until the key may be taken over.
                tracing::warn!(error = %e, "an idempotent answer could not be kept");
            }
            answer
        }
        Ok(answer) => {
            let _ = s.domain.idempotency().forget(&user.name, &key).await;
            answer
        }
        Err(_) => {
            let _ = s.domain.idempotency().forget(&user.name, &key).await;
            return ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the answer could not be read",
            )
            .into_response();
        }
    };
    Response::from_parts(parts, Body::from(kept))
}
