//! Where attachments' bytes are kept, through the `object_store` crate: a
//! directory (embedded mode), S3 (AWS mode, built by the server), memory
//! (tests), or nowhere (attachments off). Objects are named by their
//! SHA-256, so the same bytes are stored once and never overwritten with
//! other bytes.

use std::sync::Arc;

use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::DomainError;
use crate::items::unavailable;

/// The largest file, unless configured otherwise (`--attachment-limit`).
pub const DEFAULT_LIMIT: u64 = 10 * 1024 * 1024;

/// Where attachments' bytes live. Cheap to clone.
#[derive(Clone)]
pub struct FileStore {
    /// `None`: attachments are off (AWS mode without a bucket).
    inner: Option<Arc<dyn ObjectStore>>,
    /// The largest file accepted, in bytes.
    pub limit: u64,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.inner {
            Some(inner) => write!(f, "FileStore({inner}, limit {})", self.limit),
            None => write!(f, "FileStore(off)"),
        }
    }
}

impl FileStore {
    /// Any object store (S3 in AWS mode).
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        Self {
            inner: Some(inner),
            limit: DEFAULT_LIMIT,
        }
    }

    /// No store: attaching is refused with a message naming the option
    /// that turns it on, and no document shows files.
    pub fn disabled() -> Self {
        Self {
            inner: None,
            limit: 0,
        }
    }

    /// Whether files can be attached here.
    pub fn enabled(&self) -> bool {
        self.inner.is_some()
    }

    pub(crate) fn store(&self) -> Result<&Arc<dyn ObjectStore>, DomainError> {
        self.inner.as_ref().ok_or_else(|| {
            DomainError::Invalid(
                "attachments are off on this server: start it with --attachments-bucket".into(),
            )
        })
    }

    /// A store in memory, for tests and for services nobody configured.
    pub fn in_memory() -> Self {
        Self::new(Arc::new(object_store::memory::InMemory::new()))
    }

    /// A directory on this machine (embedded mode), made if missing.
    pub fn local(dir: &std::path::Path) -> Result<Self, std::io::Error> {
        std::fs::create_dir_all(dir)?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(std::io::Error::other)?;
        Ok(Self::new(Arc::new(store)))
    }

    pub fn with_limit(mut self, limit: u64) -> Self {
        self.limit = limit;
        self
    }

    fn path(sha256: &str) -> Path {
        Path::from(format!("sha256/{sha256}"))
    }

    pub(crate) async fn put(&self, sha256: &str, bytes: Vec<u8>) -> Result<(), DomainError> {
        // The same bytes under the same key: writing them again is harmless,
        // so there is no race between two uploads of one file.
        self.store()?
            .put(&Self::path(sha256), bytes.into())
            .await
            .map(|_| ())
            .map_err(|e| unavailable("storing a file")(format!("{e}")))
    }

    pub(crate) async fn get(&self, sha256: &str) -> Result<Option<Vec<u8>>, DomainError> {
        match self.store()?.get(&Self::path(sha256)).await {
            Ok(found) => found
                .bytes()
                .await
                .map(|b| Some(b.to_vec()))
                .map_err(|e| unavailable("reading a file")(format!("{e}"))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(unavailable("reading a file")(format!("{e}"))),
        }
    }
}
