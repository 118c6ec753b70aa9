//! The AWS stand-ins the dashboard starts in-process when it is given no AWS
//! settings: a file-backed DynamoDB (dynoxide) and the project's Step
//! Functions engine, behind ONE loopback endpoint that dispatches on
//! `X-Amz-Target` as AWS's own front ends do. They speak the real wire
//! protocols, so the dashboard reaches them through the same AWS SDK clients
//! it uses against AWS, and so can the AWS CLI (`countersign emulator`).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use countersign_engine::{DynamoDbHttp, Engine, EngineConfig, ServiceError, Store, TaskRunner};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
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
}

/// The file the embedded DynamoDB keeps its tables in, inside the data dir.
const DYNAMODB_FILE: &str = "dynamodb.sqlite";
/// The file the engine keeps definitions, executions and history in.
const ENGINE_FILE: &str = "stepfunctions.sqlite";

/// Running embedded services; stop them with [`EmbeddedServices::stop`].
pub struct EmbeddedServices {
    endpoint: SocketAddr,
    /// `None` when only DynamoDB runs (the admin commands).
    engine: Option<Engine>,
    sweeper: Option<JoinHandle<()>>,
    stop: Vec<oneshot::Sender<()>>,
    tasks: Vec<JoinHandle<Result<(), String>>>,
}

#[derive(Clone)]
struct Front {
    engine: Engine,
    /// For the item and query actions answered in-process.
    db: dynoxide::Database,
    dynamodb: Arc<str>,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl EmbeddedServices {
    /// Opens (or creates) the data files under `data_dir` and serves both
    /// services on `listen` (port 0: the OS picks a free one).
    pub async fn start(data_dir: &Path, listen: SocketAddr) -> Result<Self, EmbeddedError> {
        let db = open_dynamodb(data_dir)?;
        // dynoxide serves its own listener; it stays private behind the
        // front endpoint.
        let inner_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let (inner_addr, stop_db, dynamodb_task) = serve_dynamodb(db.clone(), inner_addr).await?;
        let db_for_engine = db.clone();
        let db_for_front = db.clone();
        let dynamodb_url: Arc<str> = format!("http://{inner_addr}/").into();
        let sweeper = sweep_expired(db);

        let engine_path = data_dir.join(ENGINE_FILE);
        let store = Store::open(&engine_path).map_err(|e| EmbeddedError::OpenEngine {
            path: engine_path.clone(),
            message: e.to_string(),
        })?;
        let runner = InProcessDynamoDb {
            db: db_for_engine,
            http: DynamoDbHttp::new(&dynamodb_url),
        };
        let engine =
            Engine::open(store, Arc::new(runner), EngineConfig::default()).map_err(|e| {
                EmbeddedError::OpenEngine {
                    path: engine_path.clone(),
                    message: e.to_string(),
                }
            })?;

        let front = TcpListener::bind(listen)
            .await
            .map_err(|source| EmbeddedError::Listen {
                addr: listen,
                source,
            })?;
        let endpoint = front.local_addr().map_err(|source| EmbeddedError::Listen {
            addr: listen,
            source,
        })?;
        let state = Front {
            engine: engine.clone(),
            db: db_for_front,
            dynamodb: dynamodb_url,
            client: Client::builder(TokioExecutor::new()).build_http(),
        };
        let app = Router::new().fallback(dispatch).with_state(state);
        let (stop_front, front_stopped) = oneshot::channel::<()>();
        let front_task = tokio::spawn(async move {
            axum::serve(front, app)
                .with_graceful_shutdown(async move {
                    let _ = front_stopped.await;
                })
                .await
                .map_err(|e| e.to_string())
        });
        tracing::debug!(%endpoint, data_dir = %data_dir.display(), "embedded services listening");
        Ok(Self {
            endpoint,
            engine: Some(engine),
            sweeper: Some(sweeper),
            stop: vec![stop_front, stop_db],
            tasks: vec![front_task, dynamodb_task],
        })
    }

    /// Only the embedded DynamoDB, on `listen`: for the admin commands
    /// (`users`, `api-keys`), which must not run workflows, and may run
    /// while `serve` has the same files open (SQLite allows it).
    pub async fn start_dynamodb(
        data_dir: &Path,
        listen: SocketAddr,
    ) -> Result<Self, EmbeddedError> {
        let db = open_dynamodb(data_dir)?;
        let (endpoint, stop, task) = serve_dynamodb(db, listen).await?;
        Ok(Self {
            endpoint,
            engine: None,
            sweeper: None,
            stop: vec![stop],
            tasks: vec![task],
        })
    }

    /// The loopback address both services answer on.
    pub fn endpoint(&self) -> SocketAddr {
        self.endpoint
    }

    /// The engine itself, for in-process callers that need no HTTP.
    pub fn engine(&self) -> Option<&Engine> {
        self.engine.as_ref()
    }

    /// Stops serving and waits until the data files are released.
    pub async fn stop(self) {
        if let Some(sweeper) = self.sweeper {
            sweeper.abort();
        }
        for stop in self.stop {
            let _ = stop.send(());
        }
        for task in self.tasks {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(message)) => {
                    tracing::warn!(%message, "an embedded service stopped with an error")
                }
                Err(error) => tracing::warn!(%error, "an embedded service task failed"),
            }
        }
    }
}

/// How the engine's Task states reach the embedded DynamoDB: the item
/// actions that workflows use on every step are called in-process (an HTTP
/// round trip to ourselves was a third of the engine's time); anything
/// else, and any request dynoxide would refuse, goes over its HTTP API so
/// that errors read exactly as dynoxide words them on the wire.
struct InProcessDynamoDb {
    db: dynoxide::Database,
    http: DynamoDbHttp,
}

impl InProcessDynamoDb {
    /// `None`: not handled here, use HTTP.
    fn direct<Req, Resp>(
        &self,
        request: &serde_json::Value,
        call: impl FnOnce(&dynoxide::Database, Req) -> dynoxide::Result<Resp>,
    ) -> Option<Result<serde_json::Value, ServiceError>>
    where
        Req: serde::de::DeserializeOwned,
        Resp: serde::Serialize,
    {
        let request: Req = serde_json::from_value(request.clone()).ok()?;
        match call(&self.db, request) {
            Ok(response) => serde_json::to_value(response).ok().map(Ok),
            // Validation is wrapped and worded by dynoxide's HTTP layer, and
            // a refused request changed nothing: ask again over HTTP.
            Err(error) if error.error_type().ends_with("#ValidationException") => None,
            Err(error) => Some(Err(ServiceError {
                code: error
                    .error_type()
                    .rsplit('#')
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                message: error.to_string(),
            })),
        }
    }
}

#[async_trait::async_trait]
impl TaskRunner for InProcessDynamoDb {
    async fn dynamodb(
        &self,
        action: &str,
        request: &serde_json::Value,
    ) -> Result<serde_json::Value, ServiceError> {
        let direct = match action {
            "PutItem" => self.direct(request, |db, r| db.put_item(r)),
            "GetItem" => self.direct(request, |db, r| db.get_item(r)),
            "UpdateItem" => self.direct(request, |db, r| db.update_item(r)),
            "DeleteItem" => self.direct(request, |db, r| db.delete_item(r)),
            _ => None,
        };
        match direct {
            Some(result) => result,
            None => self.http.dynamodb(action, request).await,
        }
    }
}

/// Step Functions calls go to the engine; everything else is DynamoDB's.
async fn dispatch(State(front): State<Front>, request: Request<Body>) -> Response {
    let is_sfn = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with(countersign_engine::api::TARGET_PREFIX));
    let (parts, body) = request.into_parts();
    let Ok(body) = body.collect().await.map(|b| b.to_bytes()) else {
        return (StatusCode::BAD_REQUEST, "unreadable request body").into_response();
    };
    if is_sfn && parts.method == Method::POST {
        return countersign_engine::api::handle(&front.engine, &parts.headers, &body).await;
    }
    if parts.method == Method::POST
        && let Some(response) = dynamodb_in_process(&front.db, &parts.headers, &body)
    {
        return response;
    }
    forward(&front, parts.method, &parts.uri, &parts.headers, body).await
}

/// The DynamoDB actions the dashboard makes on every request, answered by
/// calling dynoxide in-process: the HTTP hop from this front to dynoxide's
/// own listener cost as much again as the request itself (measured with
/// `countersign bench dashboard`). Only successes are answered here; any
/// error (a failed condition, a validation) is left to dynoxide's HTTP
/// layer, which words it exactly as on the wire. A refused request changed
/// nothing, so asking again is safe.
fn dynamodb_in_process(
    db: &dynoxide::Database,
    headers: &HeaderMap,
    body: &Bytes,
) -> Option<Response> {
    fn answer<Req, Resp>(
        db: &dynoxide::Database,
        body: &Bytes,
        call: impl FnOnce(&dynoxide::Database, Req) -> dynoxide::Result<Resp>,
    ) -> Option<Response>
    where
        Req: serde::de::DeserializeOwned,
        Resp: serde::Serialize,
    {
        let request: Req = serde_json::from_slice(body).ok()?;
        let response = call(db, request).ok()?;
        let bytes = serde_json::to_vec(&response).ok()?;
        Some(
            (
                [(
                    axum::http::header::CONTENT_TYPE,
                    "application/x-amz-json-1.0",
                )],
                bytes,
            )
                .into_response(),
        )
    }
    let target = headers.get("x-amz-target")?.to_str().ok()?;
    match target.strip_prefix("DynamoDB_20120810.")? {
        "GetItem" => answer(db, body, |db, r| db.get_item(r)),
        "PutItem" => answer(db, body, |db, r| db.put_item(r)),
        "UpdateItem" => answer(db, body, |db, r| db.update_item(r)),
        "DeleteItem" => answer(db, body, |db, r| db.delete_item(r)),
        "Query" => answer(db, body, |db, r| db.query(r)),
        _ => None,
    }
}

async fn forward(
    front: &Front,
    method: Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let target = format!("{}{}", front.dynamodb.trim_end_matches('/'), path);
    let mut builder = Request::builder().method(method).uri(target);
    for (name, value) in headers {
        if name != "host" {
            builder = builder.header(name, value);
        }
    }
    let Ok(request) = builder.body(Full::new(body)) else {
        return (StatusCode::BAD_REQUEST, "malformed request").into_response();
    };
    match front.client.request(request).await {
        Ok(response) => {
            let (parts, body) = response.into_parts();
            match body.collect().await {
                Ok(bytes) => Response::from_parts(parts, Body::from(bytes.to_bytes())),
                Err(_) => (StatusCode::BAD_GATEWAY, "DynamoDB stand-in broke off").into_response(),
            }
        }
        Err(error) => {
            tracing::warn!(%error, "DynamoDB stand-in unreachable");
            (StatusCode::BAD_GATEWAY, "DynamoDB stand-in unreachable").into_response()
        }
    }
}

fn open_dynamodb(data_dir: &Path) -> Result<dynoxide::Database, EmbeddedError> {
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
    Ok(db)
}

type Running = (
    SocketAddr,
    oneshot::Sender<()>,
    JoinHandle<Result<(), String>>,
);

async fn serve_dynamodb(
    db: dynoxide::Database,
    addr: SocketAddr,
) -> Result<Running, EmbeddedError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| EmbeddedError::Listen { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| EmbeddedError::Listen { addr, source })?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(dynoxide::server::serve_with_shutdown(
        listener,
        db,
        async move {
            let _ = stopped.await;
        },
    ));
    Ok((bound, stop, task))
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
