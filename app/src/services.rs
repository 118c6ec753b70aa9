//! What the server hands to server functions through Leptos context.
//! Server build only.

use leptos::prelude::*;

use crate::error::AppError;
use countersign_domain::users::{SessionPolicy, User};

/// Shared handles, cheap to clone (the SDK clients are reference-counted).
#[derive(Clone, Debug)]
pub struct Services {
    /// Orders, documents, users and decisions.
    pub domain: countersign_domain::services::Services,
    pub policy: SessionPolicy,
    /// The kinds of task this server runs, deployed.
    pub kinds: std::sync::Arc<countersign_domain::kinds::Kinds>,
}

impl Services {
    /// The services the server provided; `Unavailable` while it is still
    /// starting (or if called outside a request).
    pub fn from_context() -> Result<Self, AppError> {
        use_context::<Self>().ok_or(AppError::Unavailable)
    }
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
            let user = crate::auth::signed_in().await?;
            let services = Services::from_context()?;
            body(services, user).await
        }
        .await,
    )
}
