//! How the REST API refuses or fails: `{"error": code, "message": text}`
//! with the status a caller can act on, from the domain's typed errors.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use countersign_domain::DomainError;
use serde_json::{Value, json};

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
    /// Whether this is the server's failure, not the caller's.
    pub(crate) fn is_server_error(&self) -> bool {
        self.status.is_server_error()
    }

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

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid", message)
    }

    pub(crate) fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
        )
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        let (status, code) = match &error {
            DomainError::BadCredentials => (StatusCode::UNAUTHORIZED, "unauthorized"),
            DomainError::Forbidden => {
                return Self::new(StatusCode::FORBIDDEN, "forbidden", "you may not do this");
            }
            DomainError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            DomainError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid"),
            DomainError::AlreadyDecided { .. } => (StatusCode::CONFLICT, "already_decided"),
            DomainError::Claimed { .. } => (StatusCode::CONFLICT, "claimed"),
            DomainError::NotWaiting { .. } => (StatusCode::CONFLICT, "not_waiting"),
            DomainError::Form(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_form"),
            DomainError::Expired => (StatusCode::GONE, "expired"),
            DomainError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            DomainError::TooManyAttempts { .. } | DomainError::Busy => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_requests")
            }
            // Unavailable, and whatever the domain may add: never a 5xx
            // that says more than that.
            _ => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        };
        Self::new(status, code, error.to_string())
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

pub(crate) type Result<T> = std::result::Result<T, ApiError>;
