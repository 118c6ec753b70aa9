//! Reading a REST request: the server's services (503 while it starts),
//! the API key's user (401 otherwise), the body (JSON, bounded), and the
//! ids and outcomes callers name.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use countersign_domain::outcome::Outcome;
use countersign_domain::users::User;
use serde::de::DeserializeOwned;

use super::MAX_BODY;
use super::error::{ApiError, Result};
use crate::readiness::{Backend, Readiness};

pub(crate) fn services(readiness: &Readiness) -> Result<Backend> {
    readiness.backend().cloned().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server is still starting; try again in a moment",
        )
    })
}

/// The key's user; 401 without a key or with a wrong one.
pub(crate) async fn caller(s: &Backend, headers: &HeaderMap) -> Result<User> {
    let unauthorized = |m: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m);
    let authorization = headers
        .get(header::AUTHORIZATION)
        .map(|v| countersign_domain::api_keys::bearer_key(v.to_str().unwrap_or_default()));
    match authorization {
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
pub(super) async fn read_body(headers: &HeaderMap, body: Body) -> Result<axum::body::Bytes> {
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
) -> Result<(Backend, User, T)> {
    let s = services(readiness)?;
    let user = caller(&s, headers).await?;
    let request = parse(&read_body(headers, body).await?)?;
    Ok((s, user, request))
}

pub(super) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::invalid(format!("the body is not what this call takes: {e}")))
}

/// Orders and documents are named by UUIDs (the workflow's execution
/// name); anything else names nothing, and is not sent to DynamoDB.
pub(super) fn is_uuid(id: &str) -> bool {
    id.len() == 36
        && id.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// An order id, or the execution ARN the article's clients know it by.
pub(super) fn order_id_from(s: &Backend, given: &str) -> Result<String> {
    let name = given.rsplit(':').next().unwrap_or_default();
    let matches = given == name || given == s.domain.execution_arn(name);
    if matches && is_uuid(name) {
        Ok(name.to_owned())
    } else {
        Err(ApiError::not_found("order"))
    }
}

pub(super) fn document_id_from(s: &Backend, given: &str) -> Result<String> {
    let name = given.rsplit(':').next().unwrap_or_default();
    let matches = given == name || given == s.domain.document_execution_arn(name);
    if matches && is_uuid(name) {
        Ok(name.to_owned())
    } else {
        Err(ApiError::not_found("document"))
    }
}

/// What a failure carries into the workflow: an error name and a cause.
pub(super) fn outcome(
    success: bool,
    error: Option<String>,
    cause: Option<String>,
) -> Result<Outcome> {
    use countersign_domain::outcome::{MAX_ERROR_NAME, MAX_TEXT};
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
        error: error.unwrap_or_else(|| countersign_domain::outcome::REJECTED.into()),
    })
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
