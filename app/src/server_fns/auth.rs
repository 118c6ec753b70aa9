//! Signing in and out.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::Me;

/// The signed-in person, or `None`.
///
/// Who may call it: anyone.
#[server(endpoint = "auth/me")]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    crate::error::reply(
        crate::auth::current_user()
            .await
            .map(|u| u.as_ref().map(Me::from)),
    )
}

/// Checks a name and password and starts a session under a new id; then
/// goes to `next` (a path on this site) or the person's start page.
///
/// Who may call it: anyone; failures are counted per account and per
/// address, and refused for a while once there are too many.
#[server(endpoint = "auth/sign_in")]
pub async fn sign_in(name: String, password: String, next: Option<String>) -> Result<Me, AppError> {
    crate::error::reply(
        async move {
            let services = crate::services::Services::from_context()?;
            let address = crate::auth::client_address().await;
            let user = services
                .domain
                .accounts()
                .sign_in(name.trim(), &password, &address, services.policy.limits)
                .await?;
            crate::auth::start_session(&user).await?;
            let me = Me::from(&user);
            let to = next
                .filter(|n| crate::redirect::is_local_path(n))
                .unwrap_or_else(|| me.home().to_owned());
            crate::redirect::to(&to);
            Ok(me)
        }
        .await,
    )
}

/// Ends the session and goes to the sign-in page.
///
/// Who may call it: anyone (without a session it changes nothing).
#[server(endpoint = "auth/sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    crate::error::reply(
        async move {
            crate::auth::end_session().await?;
            crate::redirect::to("/sign-in");
            Ok(())
        }
        .await,
    )
}
