//! The AWS stand-ins the dashboard starts in-process when it is given no AWS
//! settings: a file-backed DynamoDB (dynoxide) and the project's Step
//! Functions engine, behind ONE front that dispatches on `X-Amz-Target` as
//! AWS's own front ends do. They speak the real wire protocols, so the
//! dashboard reaches them through the same AWS SDK clients it uses against
//! AWS, in-process (no socket). A socket is opened only when asked for
//! (`serve --services-listen`, `countersign emulator`): on loopback, for
//! loopback host names, and only for requests signed with the one
//! credential ([`guard`]), because the services hold every task token.

mod credential;
mod dynamodb;
pub mod guard;

pub use credential::{Credential, CredentialError, CredentialSource};

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use aws_smithy_runtime_api::client::http::{
    HttpConnector as SdkConnector, HttpConnectorFuture, SharedHttpClient, SharedHttpConnector,
    http_client_fn,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::body::SdkBody;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use countersign_engine::{Engine, EngineConfig, ServiceError, Store, TaskRunner};
use dynamodb::DynamoDb;
use http_body_util::BodyExt;
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
    #[error("cannot open the Step Functions data file {path}: {message}")]
    OpenEngine { path: PathBuf, message: String },
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(
        "the embedded services listen on loopback only (127.0.0.1, ::1), not {0}: \
         they hold every task token; use AWS mode (--aws) to serve other machines"
    )]
    NotLoopback(SocketAddr),
    #[error("the services' credential: {0}")]
    Credential(#[from] CredentialError),
}

/// The file the embedded DynamoDB keeps its tables in, inside the data dir.
const DYNAMODB_FILE: &str = "dynamodb.sqlite";
/// The file the engine keeps definitions, executions and history in.
const ENGINE_FILE: &str = "stepfunctions.sqlite";

/// A socket for the services: where, and whose signature it accepts.
#[derive(Debug, Clone)]
pub struct Socket {
    pub listen: SocketAddr,
    pub credential: CredentialSource,
}

/// Running embedded services; stop them with [`EmbeddedServices::stop`].
pub struct EmbeddedServices {
    /// The socket's address and the credential it accepts, when one is open.
    endpoint: Option<(SocketAddr, Credential)>,
    /// The front's router, for callers in this process (see
    /// [`EmbeddedServices::in_process_client`]).
    front: Router,
    /// `None` when only DynamoDB runs (the admin commands).
    engine: Option<Engine>,
    sweeper: JoinHandle<()>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

#[derive(Clone)]
struct Front {
    engine: Option<Engine>,
    db: DynamoDb,
}

impl EmbeddedServices {
    /// Opens (or creates) the data files under `data_dir` and runs both
    /// services; with `socket`, also serves them there.
    pub async fn start(data_dir: &Path, socket: Option<Socket>) -> Result<Self, EmbeddedError> {
        let (db, sweeper) = open_dynamodb(data_dir)?;
        let engine_path = data_dir.join(ENGINE_FILE);
        let store = Store::open(&engine_path).map_err(|e| EmbeddedError::OpenEngine {
            path: engine_path.clone(),
            message: e.to_string(),
        })?;
        let engine =
            Engine::open(store, Arc::new(db.clone()), EngineConfig::default()).map_err(|e| {
                EmbeddedError::OpenEngine {
                    path: engine_path.clone(),
                    message: e.to_string(),
                }
            })?;
        let front = Front {
            engine: Some(engine.clone()),
            db,
        };
        let mut services = Self {
            endpoint: None,
            front: Router::new().fallback(dispatch).with_state(front),
            engine: Some(engine),
            sweeper,
            stop: None,
            task: None,
        };
        if let Some(socket) = socket {
            services.listen(data_dir, socket).await?;
        }
        Ok(services)
    }

    /// Only the embedded DynamoDB, in-process: for the admin commands
    /// (`users`, `api-keys`), which must not run workflows, and may run
    /// while `serve` has the same files open (SQLite allows it).
    pub fn start_dynamodb(data_dir: &Path) -> Result<Self, EmbeddedError> {
        let (db, sweeper) = open_dynamodb(data_dir)?;
        let front = Front { engine: None, db };
        Ok(Self {
            endpoint: None,
            front: Router::new().fallback(dispatch).with_state(front),
            engine: None,
            sweeper,
            stop: None,
            task: None,
        })
    }

    async fn listen(&mut self, data_dir: &Path, socket: Socket) -> Result<(), EmbeddedError> {
        let addr = socket.listen;
        if !addr.ip().is_loopback() {
            return Err(EmbeddedError::NotLoopback(addr));
        }
        let credential = match socket.credential {
            CredentialSource::Given(credential) => credential,
            CredentialSource::DataDir => {
                let credential = Credential::for_data_dir(data_dir)?;
                // For people, not the log: the AWS CLI needs it, and a log
                // line may travel further than the terminal.
                println!("{}", credential.export_line());
                credential
            }
        };
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| EmbeddedError::Listen { addr, source })?;
        let bound = listener
            .local_addr()
            .map_err(|source| EmbeddedError::Listen { addr, source })?;
        let app = self
            .front
            .clone()
            .layer(axum::middleware::from_fn_with_state(
                Arc::new(credential.clone()),
                guard::guard,
            ));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        // On stdout beside the credential line, whatever the log level:
        // a caller who asked for port 0 learns the port.
        println!("embedded services on http://{bound}");
        self.endpoint = Some((bound, credential));
        self.stop = Some(stop);
        self.task = Some(task);
        Ok(())
    }

    /// The socket's address and the credential it accepts, if one is open.
    pub fn endpoint(&self) -> Option<(SocketAddr, &Credential)> {
        self.endpoint.as_ref().map(|(addr, c)| (*addr, c))
    }

    /// An HTTP client for the AWS SDK that hands each request straight to
    /// the front's router, in this process: the same wire protocol, the
    /// same handlers, no socket. The dashboard's own SDK clients use it (a
    /// decision makes a dozen DynamoDB calls, and the loopback round trips
    /// were most of their cost).
    pub fn in_process_client(&self) -> SharedHttpClient {
        let router = self.front.clone();
        http_client_fn(move |_, _| SharedHttpConnector::new(InProcessConnector(router.clone())))
    }

    /// The engine itself, for in-process callers that need no HTTP.
    pub fn engine(&self) -> Option<&Engine> {
        self.engine.as_ref()
    }

    /// Stops serving and waits until the data files are released.
    pub async fn stop(self) {
        self.sweeper.abort();
        if let Some(stop) = self.stop {
            let _ = stop.send(());
        }
        if let Some(task) = self.task {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    tracing::warn!(%error, "the embedded services' socket stopped with an error")
                }
                Err(error) => tracing::warn!(%error, "an embedded service task failed"),
            }
        }
    }
}

/// Serves SDK requests with the front's router, without a socket.
#[derive(Clone)]
struct InProcessConnector(Router);

impl std::fmt::Debug for InProcessConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InProcessConnector")
    }
}

impl SdkConnector for InProcessConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        use tower::ServiceExt;
        let router = self.0.clone();
        HttpConnectorFuture::new(async move {
            let broken =
                |e: &dyn std::fmt::Display| ConnectorError::other(e.to_string().into(), None);
            let request = request.try_into_http1x().map_err(|e| broken(&e))?;
            let (parts, body) = request.into_parts();
            // SDK bodies for these JSON protocols are always in memory.
            let bytes = Bytes::copy_from_slice(body.bytes().unwrap_or_default());
            let request = Request::from_parts(parts, Body::from(bytes));
            let response = router.oneshot(request).await.map_err(|e| broken(&e))?;
            let (parts, body) = response.into_parts();
            let bytes = body.collect().await.map_err(|e| broken(&e))?.to_bytes();
            let response = axum::http::Response::from_parts(parts, SdkBody::from(bytes));
            HttpResponse::try_from(response).map_err(|e| broken(&e))
        })
    }
}

/// How the engine's Task states reach the embedded DynamoDB: in-process.
#[async_trait::async_trait]
impl TaskRunner for DynamoDb {
    async fn dynamodb(
        &self,
        action: &str,
        request: &serde_json::Value,
    ) -> Result<serde_json::Value, ServiceError> {
        self.call(action, request).await
    }
}

/// Step Functions calls go to the engine; everything else is DynamoDB's.
async fn dispatch(State(front): State<Front>, request: Request<Body>) -> Response {
    let target = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let is_sfn = target
        .as_deref()
        .is_some_and(|t| t.starts_with(countersign_engine::api::TARGET_PREFIX));
    let (parts, body) = request.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else {
        return (StatusCode::BAD_REQUEST, "unreadable request body").into_response();
    };
    if parts.method != Method::POST {
        // DynamoDB answers a GET with its health line; nothing else.
        return (StatusCode::NOT_FOUND, "<UnknownOperationException/>\n").into_response();
    }
    if is_sfn {
        return match &front.engine {
            Some(engine) => countersign_engine::api::handle(engine, &parts.headers, &body).await,
            None => (StatusCode::BAD_REQUEST, "Step Functions does not run here").into_response(),
        };
    }
    let (status, body) = front.db.http(target.as_deref(), body).await;
    (
        status,
        [(header::CONTENT_TYPE, dynamodb::CONTENT_TYPE)],
        body,
    )
        .into_response()
}

/// Opens the DynamoDB file; answers the in-process handle and its expiry
/// sweeper.
fn open_dynamodb(data_dir: &Path) -> Result<(DynamoDb, JoinHandle<()>), EmbeddedError> {
    std::fs::create_dir_all(data_dir).map_err(|source| EmbeddedError::DataDir {
        path: data_dir.to_owned(),
        source,
    })?;
    let path = data_dir.join(DYNAMODB_FILE);
    let db =
        dynoxide::Database::new(&path.to_string_lossy()).map_err(|e| EmbeddedError::OpenStore {
            path: path.clone(),
            message: e.to_string(),
        })?;
    // WAL with synchronous=NORMAL, as the engine's own store: a commit
    // survives the process being killed, without an fsync per write.
    // dynoxide's default (FULL) made every DynamoDB write wait for the
    // disk. `disable_bulk_loading` is dynoxide's call that sets exactly
    // these "normal" pragmas.
    db.disable_bulk_loading()
        .map_err(|e| EmbeddedError::OpenStore {
            path: path.clone(),
            message: e.to_string(),
        })?;
    let sweeper = sweep_expired(db.clone());
    Ok((DynamoDb::start(db), sweeper))
}

/// How often expired rows (sessions, sign-in counters) are deleted.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// DynamoDB's time-to-live, embedded: dynoxide deletes expired rows when
/// asked, so ask once a minute. Ends with the process.
fn sweep_expired(db: dynoxide::Database) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        tick.tick().await;
        loop {
            tick.tick().await;
            let db = db.clone();
            match tokio::task::spawn_blocking(move || db.sweep_ttl()).await {
                Ok(Ok(0)) => {}
                Ok(Ok(deleted)) => tracing::debug!(deleted, "expired rows deleted"),
                Ok(Err(error)) => tracing::warn!(%error, "deleting expired rows failed"),
                Err(error) => tracing::warn!(%error, "the expiry sweep stopped"),
            }
        }
    })
}
