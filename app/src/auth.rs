//! Who is calling (server build only). A caller is signed in through a
//! session cookie; every server function asks [`require`] (or
//! [`current_user`]) before it touches anything.
//!
//! A session holds the user's name, when they signed in and when they were
//! last seen. The user is looked up again on every request, so removing a
//! user or a role takes effect at once.

use countersign_domain::users::{Role, User};
use tower_sessions::Session;

use crate::error::AppError;
use crate::services::Services;

/// Session keys.
/// The session key holding the signed-in user's name.
pub const USER: &str = "user";
const SIGNED_IN_AT: &str = "signedInAt";
/// The user's `created_at` at sign-in: a user removed and added again
/// under the same name is another person, and finds no session of the
/// first one's.
const USER_SINCE: &str = "userSince";
const SEEN_AT: &str = "seenAt";

/// The caller's network address as the server determined it (the peer, or
/// a trusted proxy's forwarded header); the server puts it in every
/// request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress(pub String);

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn store_error(error: impl std::fmt::Debug) -> AppError {
    tracing::error!(?error, "the session store failed");
    AppError::Unavailable
}

async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(store_error)
}

/// The caller's address, for counting failed sign-ins.
pub async fn client_address() -> String {
    leptos_axum::extract::<axum::Extension<ClientAddress>>()
        .await
        .map(|axum::Extension(a)| a.0)
        .unwrap_or_else(|_| "unknown".into())
}

/// The signed-in user, or `None`.
///
/// A request with an `Authorization` header is a machine caller: it is
/// the key's user or nobody, and its cookie (if any) is not looked at.
pub async fn current_user() -> Result<Option<User>, AppError> {
    let services = Services::from_context()?;
    if let Some(parts) = leptos::prelude::use_context::<http::request::Parts>()
        && let Some(authorization) = parts.headers.get(http::header::AUTHORIZATION)
    {
        let key =
            countersign_domain::api_keys::bearer_key(authorization.to_str().unwrap_or_default());
        return match key {
            Some(key) => Ok(services.domain.accounts().bearer_user(key).await?),
            None => Ok(None),
        };
    }
    session_user(&services, &session().await?).await
}

/// The user a session is signed in as, or `None` (the session is ended if
/// it outlived its absolute limit, or its user was removed). For routes
/// outside Leptos (file downloads and uploads) as well as pages.
pub async fn session_user(
    services: &Services,
    session: &Session,
) -> Result<Option<User>, AppError> {
    let Some(name) = session.get::<String>(USER).await.map_err(store_error)? else {
        return Ok(None);
    };
    let now = now_secs();
    let signed_in_at: u64 = session
        .get(SIGNED_IN_AT)
        .await
        .map_err(store_error)?
        .unwrap_or(0);
    if now.saturating_sub(signed_in_at) > services.policy.absolute_secs {
        session.flush().await.map_err(store_error)?;
        return Ok(None);
    }
    // Touching the session re-saves it, which moves its idle expiry on;
    // once a minute is enough and spares a write per request.
    let seen_at: u64 = session
        .get(SEEN_AT)
        .await
        .map_err(store_error)?
        .unwrap_or(0);
    if now.saturating_sub(seen_at) >= 60 {
        session.insert(SEEN_AT, now).await.map_err(store_error)?;
    }
    let since: Option<String> = session.get(USER_SINCE).await.map_err(store_error)?;
    match services.domain.accounts().user(&name).await? {
        Some(user) if since.as_deref() == Some(user.created_at.as_str()) => Ok(Some(user)),
        _ => {
            // Removed (and perhaps added again) since signing in.
            session.flush().await.map_err(store_error)?;
            Ok(None)
        }
    }
}

/// The signed-in user; `SignInRequired` if there is none.
pub async fn signed_in() -> Result<User, AppError> {
    current_user().await?.ok_or(AppError::SignInRequired)
}

/// The signed-in user if they hold `role`; otherwise `SignInRequired` or
/// `Forbidden`.
pub async fn require(role: Role) -> Result<User, AppError> {
    let user = signed_in().await?;
    if user.has(role) {
        Ok(user)
    } else {
        Err(AppError::Forbidden)
    }
}

/// Starts a session for `user` under a NEW id, so that an id planted in the
/// browser before sign-in is worth nothing after it.
pub async fn start_session(user: &User) -> Result<(), AppError> {
    let session = session().await?;
    session.cycle_id().await.map_err(store_error)?;
    let now = now_secs();
    session
        .insert(USER, &user.name)
        .await
        .map_err(store_error)?;
    session
        .insert(SIGNED_IN_AT, now)
        .await
        .map_err(store_error)?;
    session
        .insert(USER_SINCE, &user.created_at)
        .await
        .map_err(store_error)?;
    session.insert(SEEN_AT, now).await.map_err(store_error)
}

/// Ends the session: the row is deleted, so the old cookie is worthless
/// even if someone kept a copy.
pub async fn end_session() -> Result<(), AppError> {
    session().await?.flush().await.map_err(store_error)
}

/// A server function's body, run for the signed-in user with the
/// server's services, and answered as every server function is
/// ([`crate::error::reply`]: a refusal is a 4xx). Signing in comes first,
/// so a caller who is not signed in is told that, even while the server
/// starts.
pub async fn as_signed_in<T, F, Fut>(body: F) -> Result<T, AppError>
where
    F: FnOnce(Services, User) -> Fut,
    Fut: std::future::Future<Output = Result<T, AppError>>,
{
    crate::error::reply(
        async move {
            let user = signed_in().await?;
            let services = Services::from_context()?;
            body(services, user).await
        }
        .await,
    )
}
