//! The one error type every server function returns: what went wrong in
//! words a person can act on, the same in the browser and on the server.
//! On the server each kind also sets the HTTP status of the response.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// No session (or it ended): sign in first. 401.
    #[error("please sign in")]
    SignInRequired,
    /// Wrong name or password. 401.
    #[error("wrong name or password")]
    BadCredentials,
    /// Signed in, but this is not yours to do. 403.
    #[error("you may not do this")]
    Forbidden,
    /// No such thing, or none you may know of. 404.
    #[error("not found")]
    NotFound,
    /// The request is wrong; the message says how. 400.
    #[error("{0}")]
    Invalid(String),
    /// Someone decided first. 409.
    #[error("already decided by {by} at {at}")]
    AlreadyDecided { by: String, at: String },
    /// Someone else holds this task. 409.
    #[error("claimed by {by}")]
    Claimed { by: String },
    /// A form's values were refused; each problem names its field. 422.
    #[error("{}", fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "))]
    Form { fields: Vec<FieldProblem> },
    /// Nothing waits for a decision now; `status` says where it stands. 409.
    #[error("nothing waits for a decision now (the status is {status})")]
    NotWaiting { status: String },
    /// The workflow no longer waits for this. 410.
    #[error("this request expired: the workflow no longer waits for it")]
    Expired,
    /// Too many failed sign-ins. 429.
    #[error("too many failed sign-ins; try again in {} minute(s)", retry_after_secs.div_ceil(60))]
    TooManyAttempts { retry_after_secs: u64 },
    /// Too many sign-ins being checked at once; try again in a second. 429.
    #[error("too many sign-ins at once; try again in a moment")]
    Busy,
    /// A file larger than the server takes. 413.
    #[error("the file is too large: at most {} can be attached", countersign_model::files::size_text(*limit))]
    TooLarge { limit: u64 },
    /// A backing service did not answer; safe to retry. 503.
    #[error("the service is not answering right now; try again in a moment")]
    Unavailable,
    /// The server could not be reached (seen in the browser only).
    #[error("the server could not be reached; check the connection and try again")]
    Unreachable,
    /// The call failed inside the server framework. What happened is
    /// logged on the server under `reference`; the caller sees only the
    /// reference, never the internal text. 500.
    #[error("something went wrong on our side (reference {reference})")]
    Internal { reference: String },
}

/// One refused form value, worded for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // The arguments are the caller's own; the parser's words about
            // them are logged, not repeated.
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                let reference = reference();
                log(&reference, &value);
                AppError::Invalid(format!(
                    "malformed request: the arguments do not fit this call (reference {reference})"
                ))
            }
            ServerFnErrorErr::Request(_) if cfg!(not(feature = "ssr")) => AppError::Unreachable,
            other => {
                let reference = reference();
                log(&reference, &other);
                AppError::Internal { reference }
            }
        }
    }
}

/// A short random reference that ties a message to its log line.
#[cfg(feature = "ssr")]
fn reference() -> String {
    countersign_domain::users::generate_password()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(10)
        .collect()
}

#[cfg(not(feature = "ssr"))]
fn reference() -> String {
    "browser".into()
}

#[cfg(feature = "ssr")]
fn log(reference: &str, error: &ServerFnErrorErr) {
    tracing::warn!(reference, %error, "a server function call failed");
}

#[cfg(not(feature = "ssr"))]
fn log(_: &str, _: &ServerFnErrorErr) {}

#[cfg(feature = "ssr")]
mod server {
    use super::AppError;
    use countersign_domain::DomainError;
    use http::StatusCode;

    impl AppError {
        pub fn status(&self) -> StatusCode {
            match self {
                AppError::SignInRequired | AppError::BadCredentials => StatusCode::UNAUTHORIZED,
                AppError::Forbidden => StatusCode::FORBIDDEN,
                AppError::NotFound => StatusCode::NOT_FOUND,
                AppError::Invalid(_) => StatusCode::BAD_REQUEST,
                AppError::AlreadyDecided { .. }
                | AppError::NotWaiting { .. }
                | AppError::Claimed { .. } => StatusCode::CONFLICT,
                AppError::Form { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                AppError::Expired => StatusCode::GONE,
                AppError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                AppError::TooManyAttempts { .. } | AppError::Busy => StatusCode::TOO_MANY_REQUESTS,
                AppError::Unavailable | AppError::Unreachable => StatusCode::SERVICE_UNAVAILABLE,
                AppError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            }
        }
    }

    impl From<DomainError> for AppError {
        fn from(error: DomainError) -> Self {
            match error {
                DomainError::AlreadyDecided { by, at } => AppError::AlreadyDecided { by, at },
                DomainError::Expired => AppError::Expired,
                DomainError::NotWaiting { status } => AppError::NotWaiting { status },
                DomainError::Forbidden => AppError::Forbidden,
                DomainError::NotFound => AppError::NotFound,
                DomainError::Invalid(m) => AppError::Invalid(m),
                DomainError::BadCredentials => AppError::BadCredentials,
                DomainError::TooManyAttempts { retry_after_secs } => {
                    AppError::TooManyAttempts { retry_after_secs }
                }
                DomainError::Busy => AppError::Busy,
                DomainError::TooLarge { limit } => AppError::TooLarge { limit },
                DomainError::Claimed { by } => AppError::Claimed { by },
                DomainError::Form(errors) => AppError::Form {
                    fields: errors
                        .iter()
                        .map(|e| super::FieldProblem {
                            field: e.field.clone(),
                            message: e.to_string(),
                        })
                        .collect(),
                },
                _ => AppError::Unavailable,
            }
        }
    }

    /// Whether this call is a browser's plain form post (no JavaScript):
    /// it wants a page back, not data.
    pub fn plain_form_post() -> bool {
        leptos::prelude::use_context::<http::request::Parts>().is_some_and(|parts| {
            parts
                .headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.contains("text/html"))
        })
    }

    /// After a plain form post, sends the browser back to the page it
    /// posted from with `name=value` in the address, so that page can say
    /// what happened (with JavaScript the caller gets the value instead).
    /// Only the referring page's path and query are used: same-origin
    /// checks already vouch for it, and no other site can be named.
    pub fn back_with(name: &str, value: &str) {
        if !plain_form_post() {
            return;
        }
        let Some(parts) = leptos::prelude::use_context::<http::request::Parts>() else {
            return;
        };
        let referer = parts
            .headers
            .get(http::header::REFERER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("/");
        // `https://host/inbox?q=1` → `/inbox?q=1`; anything that is not a
        // path on this site (`//evil.example`, `/\evil.example`) → `/`.
        let local = match referer.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("/", |at| &rest[at..]),
            None => referer,
        };
        let local = if crate::redirect::is_local_path(local) {
            local
        } else {
            "/"
        };
        let (path, query) = local.split_once('?').unwrap_or((local, ""));
        let mut kept: Vec<String> = query
            .split('&')
            .filter(|p| {
                !p.is_empty()
                    && !["done=", "bulk=", "__err", "__path"]
                        .iter()
                        .any(|own| p.starts_with(own))
            })
            .map(str::to_owned)
            .collect();
        kept.push(format!("{name}={}", crate::words::urlencode(value)));
        crate::redirect::to(&format!("{path}?{}", kept.join("&")));
    }

    /// Sets the response's status from the error, then passes the result
    /// on. Every server function ends with it, so a refusal is a 4xx.
    ///
    /// Not for a plain form post (a browser without JavaScript): that one
    /// is answered with a redirect back to the page, the error in its
    /// address, and a 4xx would stop the browser from following it.
    pub fn reply<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        use leptos::prelude::use_context;
        if let Err(error) = &result
            && let (false, Some(options)) = (
                plain_form_post(),
                use_context::<leptos_axum::ResponseOptions>(),
            )
        {
            options.set_status(error.status());
        }
        result
    }
}

#[cfg(feature = "ssr")]
pub use server::{back_with, plain_form_post, reply};
