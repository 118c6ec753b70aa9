//! What the server hands to server functions through Leptos context.
//! Server build only.

use leptos::prelude::*;

use crate::error::AppError;
use countersign_domain::users::SessionPolicy;

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
