//! What every front (pages, REST, live events) serves from once the
//! backing services answer: set once at start; until then `/readyz` says
//! 503 and every call says the server is still starting. Domain types
//! only, so the REST API needs nothing of the UI crate.

use std::sync::{Arc, OnceLock};

/// The domain's services, the kinds of task deployed, and how long
/// sessions last. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Backend {
    pub domain: countersign_domain::services::Services,
    pub kinds: Arc<countersign_domain::kinds::Kinds>,
    pub policy: countersign_domain::users::SessionPolicy,
}

/// Set once the backing services answer.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<OnceLock<Backend>>);

impl Readiness {
    pub fn set(&self, backend: Backend) {
        // A second call would mean two backends; the first one stays.
        let _ = self.0.set(backend);
    }

    pub fn backend(&self) -> Option<&Backend> {
        self.0.get()
    }
}
