//! What the browser-facing routes outside the pages share (files, the
//! audit export): the signed-in person, and a refusal as a small page.

use axum::response::{Html, IntoResponse, Response};
use countersign_app::error::AppError;
use countersign_domain::users::User;
use tower_sessions::Session;

use crate::readiness::Readiness;

/// The backend and the session's person; `SignInRequired` without one.
pub(crate) async fn signed_in(
    readiness: &Readiness,
    session: &Session,
) -> Result<(countersign_app::services::Services, User), AppError> {
    let backend = readiness.backend().ok_or(AppError::Unavailable)?;
    let services = countersign_app::services::Services {
        domain: backend.domain.clone(),
        policy: backend.policy,
        kinds: backend.kinds.clone(),
    };
    let user = countersign_app::auth::session_user(&services, session)
        .await?
        .ok_or(AppError::SignInRequired)?;
    Ok((services, user))
}

/// A refusal as a small page: these routes are reached by links and plain
/// forms, so the answer is for a person.
pub(crate) fn refusal(error: AppError, back: Option<&str>) -> Response {
    let back = back.map(|b| format!(r#"<p><a href="{}">Back</a></p>"#, escape(b)));
    let body = format!(
        r#"<!doctype html><html lang="en"><meta charset="utf-8"><title>Countersign</title><link rel="stylesheet" href="/countersign.css"><main class="page"><h1>That did not work</h1><p role="alert">{}</p>{}</main></html>"#,
        escape(&error.to_string()),
        back.unwrap_or_default(),
    );
    (error.status(), Html(body)).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
