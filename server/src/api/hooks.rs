use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use countersign_domain::orders::OrderStatus;
use countersign_domain::users::User;
use serde::Deserialize;
use serde_json::Value;

use super::SIGNATURE_HEADER;
use super::documents::settled_document;
use super::error::{ApiError, Result};
use super::orders::settled_order;
use super::request::*;
use super::shapes::*;
use crate::readiness::{Backend, Readiness};
use countersign_domain::access;
use countersign_domain::api_keys::{SignedCall, WebhookRefusal};

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
pub(super) async fn webhook(
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
        && error.is_server_error()
        && let Err(release) = accounts.release_webhook_call(call).await
    {
        tracing::warn!(%release, "a failed webhook call's replay marker stays");
    }
    answer
}

/// The decision a verified webhook call asks for.
async fn complete_hook(
    s: &Backend,
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
    // A task id is a UUID (an earlier version's signature requests), or
    // the subject's id and what waits on it: an order's status, a
    // signature request's signer.
    let named_after_subject = |fits: &dyn Fn(&str) -> bool| {
        task_id
            .split_once('.')
            .is_some_and(|(head, tail)| head == subject && fits(tail))
    };
    let task_named = is_uuid(task_id)
        || match kind {
            "o" => named_after_subject(&|status| OrderStatus::parse(status).is_some()),
            "d" => named_after_subject(&|signer| !signer.is_empty()),
            _ => false,
        };
    if !is_uuid(subject) || !task_named {
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
