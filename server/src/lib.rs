//! The `countersign` binary's library: everything `main.rs` wires together.
//!
//! # Layout
//! - `cli`: the command line; `--help` is the reference for every setting.
//! - `embedded`: the AWS stand-ins started in-process on loopback when no AWS
//!   settings are given (the default).
//! - `aws`: builds AWS SDK clients for either mode, so the rest of the code
//!   has one path to DynamoDB whatever answers on the other side.
//! - `sessions`: the session store, over DynamoDB (both modes).
//! - `listener`: the HTTP server loop, with header-read and connection limits.
//! - `live`: `GET /live`, the event stream that tells open pages to refresh.
//! - `admin`: `countersign users …`, run beside or without `serve`.
//! - `demo`: sample data for `serve --demo`.
//! - `moto`: starts moto, the independent AWS emulator used as a reference.
//! - `bench`: `countersign bench`, figures printed side by side.
//! - `origin`: which origins may change state through the pages.
//! - `api`: the REST API (orders, documents, webhooks; tasks and kinds
//!   under `/v1`), on domain types only.
//! - `readiness`: the backend every front serves from, set once it answers.
//! - `file_store`: where attachments' bytes go (a directory, or S3).
//! - `files`: attachments in the browser: upload, and serving them inline.
//! - `receipts`: a decision's signed receipt as JSON, and the public key.
//! - `audit`: the decision history, streamed as CSV or JSON Lines.
//! - `browser`: what the non-page browser routes share (the signed-in
//!   person, a refusal page).
//! - `web`: the axum router: pages, server functions, static files, health.
//! - [`serve`]: runs the dashboard on a listener until a shutdown signal, so
//!   tests can bind `127.0.0.1:0` and stop it when they are done.

pub mod admin;
pub mod api;
pub mod audit;
pub mod aws;
pub mod bench;
pub mod browser;
pub mod cli;
pub mod demo;
pub mod embedded;
pub mod file_store;
pub mod files;
pub mod listener;
pub mod live;
pub mod moto;
pub mod origin;
pub mod readiness;
pub mod receipts;
pub mod sessions;
pub mod web;

use std::future::Future;
use std::path::PathBuf;

use tokio::net::TcpListener;

/// What `serve` needs to know, resolved from the command line.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Where the embedded services keep their files.
    pub data_dir: PathBuf,
    /// Where the built client (wasm, JS, CSS, icons) is served from.
    pub site_dir: PathBuf,
    /// `None`: the embedded services. `Some`: AWS (or an AWS stand-in).
    pub aws: Option<AwsSettings>,
    /// Table names (both modes).
    pub tables: countersign_domain::tables::Tables,
    /// Create the demo users and place sample orders once ready.
    pub demo: bool,
    /// Directories of task kinds besides the built-in ones.
    pub workflows_dirs: Vec<PathBuf>,
    /// A socket for the embedded services besides the in-process path
    /// (`None`: no socket).
    pub services_socket: Option<embedded::Socket>,
    /// Cookies, origins, client addresses.
    pub web: web::WebSettings,
    /// Session lifetimes and sign-in limits.
    pub policy: countersign_domain::users::SessionPolicy,
    /// The decision lease and how often the reconciler runs.
    pub decisions: DecisionSettings,
    /// What one client, or all of them, may hold of the server.
    pub limits: ServerLimits,
    /// Where attachments are kept, and how large they may be.
    pub files: file_store::FileSettings,
}

/// Time and count limits on what clients hold of the server.
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    pub connections: listener::ConnectionLimits,
    /// Time for a whole request (except `/live`, which stays open) before
    /// it is answered 408.
    pub request_timeout: std::time::Duration,
    pub live: live::LiveLimits,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            connections: Default::default(),
            request_timeout: std::time::Duration::from_secs(30),
            live: Default::default(),
        }
    }
}

/// How unfinished decisions are settled.
#[derive(Debug, Clone, Copy)]
pub struct DecisionSettings {
    /// How long a replica may work on a decision before the reconciler may
    /// take it over.
    pub lease: std::time::Duration,
    /// Time between reconciler passes.
    pub reconcile_every: std::time::Duration,
}

impl Default for DecisionSettings {
    fn default() -> Self {
        Self {
            lease: countersign_domain::services::DEFAULT_LEASE,
            reconcile_every: std::time::Duration::from_secs(2),
        }
    }
}

/// AWS mode: where to go and what is already deployed there.
#[derive(Debug, Clone, Default)]
pub struct AwsSettings {
    pub region: Option<String>,
    /// An AWS-compatible endpoint instead of AWS's own (moto, say).
    pub endpoint_url: Option<String>,
    /// The deployed process-order state machine; without it, the server
    /// deploys one (for stand-ins; on AWS the deploy template does).
    pub process_order_arn: Option<String>,
    /// The deployed sign-document state machine; likewise.
    pub sign_document_arn: Option<String>,
    /// Create missing tables and state machines at start.
    pub provision: bool,
}

/// The name the process-order state machine is deployed under.
pub const PROCESS_ORDER_NAME: &str = "countersign-process-order";
/// The name the sign-document state machine is deployed under.
pub const SIGN_DOCUMENT_NAME: &str = "countersign-sign-document";

/// Why the dashboard could not start or stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("starting the embedded services failed: {0}")]
    Embedded(#[from] embedded::EmbeddedError),
    #[error("loading task kinds: {0}")]
    Kinds(#[from] countersign_domain::kinds::KindError),
    #[error("setting up orders: {0}")]
    Domain(#[from] countersign_domain::DomainError),
    #[error("benchmark: {0}")]
    Bench(#[from] bench::BenchError),
    #[error("{0}")]
    Admin(Box<admin::AdminError>),
    #[error("{0}")]
    Files(#[from] file_store::FileStoreError),
    #[error("the web server failed: {0}")]
    Http(#[from] std::io::Error),
}

/// Serves the dashboard on `listener` until `shutdown` resolves.
///
/// The listener answers at once: `/healthz` says the process is alive while
/// the embedded services start, and `/readyz` turns ready only once they
/// answer and the tables exist.
pub async fn serve(
    config: ServeConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let readiness = readiness::Readiness::default();
    let sessions = sessions::DynamoDbStore::default();
    let live = live::Live::new(config.limits.live);
    let (stop_reconciler, reconciler_stopped) = tokio::sync::watch::channel(false);
    let mut web = config.web.clone();
    web.listen = web.listen.or(listener.local_addr().ok());
    web.request_timeout = config.limits.request_timeout;
    web.attachment_limit = config.files.limit;
    let router = web::router(
        &config.site_dir,
        readiness.clone(),
        sessions.clone(),
        live.clone(),
        &web,
    );

    let (stop_http, http_stopped) = tokio::sync::oneshot::channel::<()>();
    let connections = config.limits.connections;
    let http = tokio::spawn(async move {
        let stopped = async {
            let _ = http_stopped.await;
        };
        listener::serve(
            listener,
            router,
            connections,
            stopped,
            std::time::Duration::from_secs(10),
        )
        .await
    });

    // Shutdown may arrive while the services are still starting; either way
    // the web server is stopped before returning.
    tokio::pin!(shutdown);
    let outcome = tokio::select! {
        started = start_backend(&config, &readiness, &sessions, &live, reconciler_stopped) => match started {
            Ok(embedded) => {
                (&mut shutdown).await;
                Ok(Some(embedded))
            }
            Err(error) => Err(error),
        },
        () = &mut shutdown => Ok(None),
    };
    tracing::info!("shutting down");
    live.stop();
    let _ = stop_reconciler.send(true);
    let _ = stop_http.send(());
    let served = http.await;
    if let Some(Some(embedded)) = outcome? {
        embedded.stop().await;
    }
    match served {
        Ok(result) => Ok(result?),
        Err(join) => Err(ServeError::Http(std::io::Error::other(join))),
    }
}

/// Starts the embedded services (or reaches AWS), creates what is missing
/// and marks the server ready.
async fn start_backend(
    config: &ServeConfig,
    readiness: &readiness::Readiness,
    sessions: &sessions::DynamoDbStore,
    live: &live::Live,
    mut reconciler_stopped: tokio::sync::watch::Receiver<bool>,
) -> Result<Option<embedded::EmbeddedServices>, ServeError> {
    let (sdk, embedded, provision_all) = match &config.aws {
        None => {
            let embedded =
                embedded::EmbeddedServices::start(&config.data_dir, config.services_socket.clone())
                    .await?;
            let sdk = aws::in_process_config(embedded.in_process_client()).await;
            match embedded.endpoint() {
                Some((endpoint, _)) => {
                    tracing::info!(%endpoint, "embedded services started, with a socket")
                }
                None => tracing::info!("embedded services started, in-process only"),
            }
            (sdk, Some(embedded), true)
        }
        Some(settings) => (aws::aws_config(settings).await, None, settings.provision),
    };
    let files = match &config.aws {
        None => file_store::local(&config.data_dir, config.files.limit)?,
        Some(settings) => file_store::s3(&sdk, &config.files, settings.endpoint_url.as_deref())?,
    };
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let sfn = aws_sdk_sfn::Client::new(&sdk);
    if provision_all {
        config.tables.ensure(&dynamodb).await?;
    }
    let given_arn = config
        .aws
        .as_ref()
        .and_then(|a| a.process_order_arn.clone());
    let process_order_arn = match given_arn {
        Some(arn) => arn,
        None => {
            countersign_domain::workflows::deploy_process_order(
                &sfn,
                PROCESS_ORDER_NAME,
                &config.tables,
            )
            .await?
        }
    };
    let given_arn = config
        .aws
        .as_ref()
        .and_then(|a| a.sign_document_arn.clone());
    let sign_document_arn = match given_arn {
        Some(arn) => arn,
        None => {
            countersign_domain::workflows::deploy_sign_document(
                &sfn,
                SIGN_DOCUMENT_NAME,
                &config.tables,
            )
            .await?
        }
    };
    // Kinds are read before anything is deployed: a broken file stops the
    // start with its name, instead of a kind that silently is not there.
    let mut kinds = countersign_domain::kinds::Kinds::load(&config.workflows_dirs)?;
    let deploy_kinds = config.aws.as_ref().is_none_or(|a| a.provision);
    if deploy_kinds {
        kinds.deploy(&sfn, &config.tables).await?;
    } else {
        kinds.find_deployed(&sfn).await?;
    }
    let mut orders = countersign_domain::services::Services::new(
        dynamodb.clone(),
        sfn,
        config.tables.clone(),
        process_order_arn,
        sign_document_arn,
    )
    .with_files(files);
    orders.lease = config.decisions.lease;
    // Decisions a crash interrupted settle now (those whose lease has run
    // out) and then continuously, on every replica.
    // A failed pass (an AWS stack deployed before the ledger's index, say)
    // does not stop the dashboard: the background passes say so and retry.
    if let Err(error) = orders.reconciler().pass().await {
        tracing::warn!(%error, "the first reconciler pass failed");
    }
    // Decisions from before the audit index are filed under it once per
    // deployment; an export tries again if this fails.
    if let Err(error) = orders.audit().prepare().await {
        tracing::warn!(%error, "filing earlier decisions for the audit export failed");
    }
    let reconciler = orders.clone();
    let every = config.decisions.reconcile_every;
    tokio::spawn(async move {
        let stopped = async move {
            let _ = reconciler_stopped.wait_for(|stopped| *stopped).await;
        };
        reconciler.reconciler().until(every, stopped).await
    });
    sessions.connect(dynamodb.clone(), config.tables.sessions.clone());
    if config.demo {
        demo::create_users(&orders.accounts()).await?;
        demo::place_sample_orders(&orders).await?;
    }
    live.watch(orders.clone());
    readiness.set(readiness::Backend {
        domain: orders,
        policy: config.policy,
        kinds: std::sync::Arc::new(kinds),
    });
    tracing::info!("ready");
    Ok(embedded)
}
