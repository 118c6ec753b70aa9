//! The AWS stand-ins the dashboard starts in-process when it is given no AWS
//! settings: a file-backed DynamoDB (dynoxide) and the project's Step
//! Functions engine, behind ONE loopback endpoint that dispatches on
//! `X-Amz-Target` as AWS's own front ends do. They speak the real wire
//! protocols, so the dashboard reaches them through the same AWS SDK clients
//! it uses against AWS, and so can the AWS CLI (`countersign emulator`).

use std::net::{Ipv4Addr, SocketAddr};
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
    /// The front's router, for callers in this process (see
    /// [`EmbeddedServices::in_process_client`]).
    front: Option<Router>,
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
    db: DynamoDbThread,
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
        let db_thread = DynamoDbThread::start(db.clone());
        let dynamodb_url: Arc<str> = format!("http://{inner_addr}/").into();
        let sweeper = sweep_expired(db);

        let engine_path = data_dir.join(ENGINE_FILE);
        let store = Store::open(&engine_path).map_err(|e| EmbeddedError::OpenEngine {
            path: engine_path.clone(),
            message: e.to_string(),
        })?;
        let runner = InProcessDynamoDb {
            db: db_thread.clone(),
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
            db: db_thread,
            dynamodb: dynamodb_url,
            client: Client::builder(TokioExecutor::new()).build_http(),
        };
        let app = Router::new().fallback(dispatch).with_state(state);
        let in_process = app.clone();
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
            front: Some(in_process),
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
            front: None,
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

    /// An HTTP client for the AWS SDK that hands each request straight to
    /// the front's router, in this process: the same wire protocol, the
    /// same handlers, no socket. The dashboard's own SDK clients use it (a
    /// decision makes a dozen DynamoDB calls, and the loopback round trips
    /// were most of their cost); other processes use [`Self::endpoint`].
    /// `None` when only DynamoDB runs.
    pub fn in_process_client(&self) -> Option<SharedHttpClient> {
        let router = self.front.clone()?;
        Some(http_client_fn(move |_, _| {
            SharedHttpConnector::new(InProcessConnector(router.clone()))
        }))
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

/// How the engine's Task states reach the embedded DynamoDB: the item
/// actions that workflows use on every step are called in-process (an HTTP
/// round trip to ourselves was a third of the engine's time); anything
/// else, and any request dynoxide would refuse, goes over its HTTP API so
/// that errors read exactly as dynoxide words them on the wire.
struct InProcessDynamoDb {
    db: DynamoDbThread,
    http: DynamoDbHttp,
}

impl InProcessDynamoDb {
    /// `None`: not handled here, use HTTP.
    async fn direct<Req, Resp>(
        &self,
        request: &serde_json::Value,
        call: impl FnOnce(&dynoxide::Database, Req) -> dynoxide::Result<Resp> + Send + 'static,
    ) -> Option<Result<serde_json::Value, ServiceError>>
    where
        Req: serde::de::DeserializeOwned + Send + 'static,
        Resp: serde::Serialize + Send + 'static,
    {
        let request: Req = serde_json::from_value(request.clone()).ok()?;
        match self.db.run(move |db| call(db, request)).await? {
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

/// One thread that makes every in-process DynamoDB call, one after the
/// other. dynoxide guards its SQLite connection with a fair mutex that
/// hands the lock to the next waiter's thread on release; with calls
/// arriving from every runtime thread, the lock sat idle while threads
/// woke, and the whole server ran at one core (`countersign bench
/// dashboard`, `top`, perf). Queued to one thread, calls take the lock
/// uncontended, and SQLite's blocking work leaves the async threads alone.
#[derive(Clone)]
struct DynamoDbThread {
    jobs: std::sync::mpsc::Sender<DynamoDbJob>,
}

type DynamoDbJob = Box<dyn FnOnce(&dynoxide::Database) + Send>;

impl DynamoDbThread {
    fn start(db: dynoxide::Database) -> Self {
        let (jobs, queue) = std::sync::mpsc::channel::<DynamoDbJob>();
        // Ends when the last sender (the engine's runner, the front) is
        // dropped.
        std::thread::Builder::new()
            .name("dynamodb".into())
            .spawn(move || {
                while let Ok(job) = queue.recv() {
                    job(&db);
                }
            })
            .expect("a thread can be started");
        Self { jobs }
    }

    /// Runs `call` on the thread; `None` if the thread is gone.
    async fn run<T: Send + 'static>(
        &self,
        call: impl FnOnce(&dynoxide::Database) -> T + Send + 'static,
    ) -> Option<T> {
        let (done, answer) = oneshot::channel();
        self.jobs
            .send(Box::new(move |db| {
                let _ = done.send(call(db));
            }))
            .ok()?;
        answer.await.ok()
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
            "PutItem" => self.direct(request, |db, r| db.put_item(r)).await,
            "GetItem" => self.direct(request, |db, r| db.get_item(r)).await,
            "UpdateItem" => self.direct(request, |db, r| db.update_item(r)).await,
            "DeleteItem" => self.direct(request, |db, r| db.delete_item(r)).await,
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
        && let Some(response) = dynamodb_in_process(&front.db, &parts.headers, &body).await
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
async fn dynamodb_in_process(
    db: &DynamoDbThread,
    headers: &HeaderMap,
    body: &Bytes,
) -> Option<Response> {
    async fn answer<Req, Resp>(
        db: &DynamoDbThread,
        body: &Bytes,
        call: impl FnOnce(&dynoxide::Database, Req) -> dynoxide::Result<Resp> + Send + 'static,
    ) -> Option<Response>
    where
        Req: serde::de::DeserializeOwned + Send + 'static,
        Resp: serde::Serialize + Send + 'static,
    {
        let request: Req = serde_json::from_slice(body).ok()?;
        let response = db.run(move |db| call(db, request)).await?.ok()?;
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
        "GetItem" => answer(db, body, |db, r| db.get_item(r)).await,
        "PutItem" => answer(db, body, |db, r| db.put_item(r)).await,
        "UpdateItem" => answer(db, body, |db, r| db.update_item(r)).await,
        "DeleteItem" => answer(db, body, |db, r| db.delete_item(r)).await,
        "Query" => answer(db, body, |db, r| db.query(r)).await,
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
