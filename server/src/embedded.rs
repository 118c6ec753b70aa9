//! The AWS stand-ins the dashboard starts in-process when it is given no AWS
//! settings: a file-backed DynamoDB (dynoxide) on a loopback port the OS
//! picks. They speak the real wire protocol, so the dashboard reaches them
//! through the same AWS SDK clients it uses against AWS.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Why the embedded services could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the DynamoDB data file {path}: {message}")]
    OpenStore { path: PathBuf, message: String },
    #[error("cannot listen on loopback: {0}")]
    Listen(std::io::Error),
}

/// Running embedded services; stop them with [`EmbeddedServices::stop`].
#[derive(Debug)]
pub struct EmbeddedServices {
    endpoint: SocketAddr,
    stop: oneshot::Sender<()>,
    dynamodb: JoinHandle<Result<(), String>>,
}

/// The file the embedded DynamoDB keeps its tables in, inside the data dir.
const DYNAMODB_FILE: &str = "dynamodb.sqlite";

impl EmbeddedServices {
    /// Opens (or creates) the data files under `data_dir` and starts serving
    /// on `127.0.0.1` at a free port.
    pub async fn start(data_dir: &Path) -> Result<Self, EmbeddedError> {
        std::fs::create_dir_all(data_dir).map_err(|source| EmbeddedError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = data_dir.join(DYNAMODB_FILE);
        let db = dynoxide::Database::new(&path.to_string_lossy()).map_err(|e| {
            EmbeddedError::OpenStore {
                path: path.clone(),
                message: e.to_string(),
            }
        })?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(EmbeddedError::Listen)?;
        let endpoint = listener.local_addr().map_err(EmbeddedError::Listen)?;
        let (stop, stopped) = oneshot::channel::<()>();
        let dynamodb = tokio::spawn(dynoxide::server::serve_with_shutdown(
            listener,
            db,
            async move {
                let _ = stopped.await;
            },
        ));
        tracing::debug!(%endpoint, path = %path.display(), "embedded DynamoDB listening");
        Ok(Self {
            endpoint,
            stop,
            dynamodb,
        })
    }

    /// The loopback address every embedded service answers on.
    pub fn endpoint(&self) -> SocketAddr {
        self.endpoint
    }

    /// Stops serving and waits until the data files are released.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        match self.dynamodb.await {
            Ok(Ok(())) => {}
            Ok(Err(message)) => tracing::warn!(%message, "embedded DynamoDB stopped with an error"),
            Err(error) => tracing::warn!(%error, "embedded DynamoDB task failed"),
        }
    }
}
