//! What `serve` and `emulator` listen on and the secrets they are given.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::StoreArgs;

#[derive(Debug, clap::Args)]
pub struct EmulatorArgs {
    /// Address both services listen on: loopback only (other addresses are
    /// refused; the services hold every task token).
    #[arg(
        long,
        env = "COUNTERSIGN_EMULATOR_LISTEN",
        default_value = "127.0.0.1:4600"
    )]
    pub listen: SocketAddr,

    /// Directory for the services' data; created if missing.
    #[arg(long, env = "COUNTERSIGN_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    #[command(flatten)]
    pub credential: ServicesCredentialArgs,
}

/// The one credential the embedded services' socket accepts (requests
/// must be SigV4-signed with it). Without these, one is generated for the
/// data directory, kept there (mode 0600) and printed at start.
#[derive(Debug, Clone, clap::Args)]
pub struct ServicesCredentialArgs {
    /// Access key id the services' socket accepts.
    #[arg(
        long,
        env = "COUNTERSIGN_SERVICES_ACCESS_KEY_ID",
        requires = "secret_access_key"
    )]
    pub access_key_id: Option<String>,

    /// Its secret access key.
    #[arg(
        long,
        env = "COUNTERSIGN_SERVICES_SECRET_ACCESS_KEY",
        requires = "access_key_id",
        hide_env_values = true
    )]
    pub secret_access_key: Option<String>,
}

impl ServicesCredentialArgs {
    pub fn source(&self) -> crate::embedded::CredentialSource {
        match (&self.access_key_id, &self.secret_access_key) {
            (Some(id), Some(secret)) => {
                crate::embedded::CredentialSource::Given(crate::embedded::Credential {
                    access_key_id: id.clone(),
                    secret_access_key: secret.clone(),
                })
            }
            _ => crate::embedded::CredentialSource::DataDir,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address the dashboard listens on.
    #[arg(long, env = "COUNTERSIGN_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Directory holding the built client: `pkg/` (wasm and JS), the
    /// stylesheet and icons. `scripts/build` writes it.
    #[arg(long, env = "COUNTERSIGN_SITE_DIR", default_value = "./target/site")]
    pub site_dir: PathBuf,

    /// Create the demo users (sam and pat: staff, bob: signer, carol and dave:
    /// customers) with new passwords, print them, and place sample orders.
    #[arg(long, env = "COUNTERSIGN_DEMO")]
    pub demo: bool,

    /// A directory of more task kinds (each NAME.kind.json beside its ASL
    /// file; see docs/tasks.md), besides those built in. Repeat for
    /// several; in the environment, separate them with ':'.
    #[arg(
        long = "workflows-dir",
        env = "COUNTERSIGN_WORKFLOWS_DIR",
        value_delimiter = ':'
    )]
    pub workflows_dirs: Vec<PathBuf>,

    /// Allow `--demo` in AWS mode. Without it `--demo --aws` is refused:
    /// demo users with printed passwords do not belong in a real account
    /// by accident.
    #[arg(long, env = "COUNTERSIGN_DEMO_IN_AWS")]
    pub demo_in_aws: bool,

    /// Also serve the embedded DynamoDB and Step Functions on this loopback
    /// address, for the AWS CLI or tests (port 0: any free port). Without
    /// it they have no socket: the dashboard reaches them in-process.
    #[arg(long, env = "COUNTERSIGN_SERVICES_LISTEN")]
    pub services_listen: Option<SocketAddr>,

    #[command(flatten)]
    pub services_credential: ServicesCredentialArgs,

    /// The address people open the dashboard at, e.g.
    /// https://approvals.example.com. Requests that change something must
    /// come from exactly this origin (scheme, host and port); without it,
    /// only from the listening address or a loopback name on its port.
    /// https makes the session cookie Secure.
    #[arg(long, env = "COUNTERSIGN_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Session cookie `Secure` attribute: auto (from --public-url), always
    /// or never.
    #[arg(long, env = "COUNTERSIGN_SECURE_COOKIE", default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub secure_cookie: String,

    /// Take the client address from X-Forwarded-For (last entry). Only
    /// behind a proxy that sets it.
    #[arg(long, env = "COUNTERSIGN_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: bool,

    /// The S3 bucket attachments are kept in (AWS mode; the deploy
    /// template makes one). Without it, AWS mode takes no attachments;
    /// embedded mode keeps them under the data directory.
    #[arg(long, env = "COUNTERSIGN_ATTACHMENTS_BUCKET", requires = "aws")]
    pub attachments_bucket: Option<String>,

    /// The largest file that may be attached, in bytes (default 10 MiB).
    #[arg(long, env = "COUNTERSIGN_ATTACHMENT_LIMIT", default_value_t = countersign_domain::attachments::DEFAULT_LIMIT, value_parser = clap::value_parser!(u64).range(1..=1024 * 1024 * 1024))]
    pub attachment_limit: u64,

    /// Seconds a replica may work on a decision before the reconciler (on
    /// any replica) may take it over and settle it from the workflow.
    #[arg(long, env = "COUNTERSIGN_DECISION_LEASE_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub decision_lease_secs: u64,

    /// Seconds between reconciler passes over unfinished decisions.
    #[arg(long, env = "COUNTERSIGN_RECONCILE_EVERY_SECS", default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub reconcile_every_secs: u64,

    /// Seconds a connection has to send a request's head (slow senders are
    /// cut off).
    #[arg(long, env = "COUNTERSIGN_HEADER_READ_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_read_timeout_secs: u64,

    /// Seconds a request (other than the /live stream) may take before it
    /// is answered 408.
    #[arg(long, env = "COUNTERSIGN_REQUEST_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub request_timeout_secs: u64,

    /// Connections served at once; more wait to be accepted.
    #[arg(long, env = "COUNTERSIGN_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_connections: u64,

    /// Live-update streams (/live) one session may hold open.
    #[arg(long, env = "COUNTERSIGN_LIVE_STREAMS_PER_SESSION", default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub live_streams_per_session: u64,

    /// Live-update streams open in this process, for everyone.
    #[arg(long, env = "COUNTERSIGN_LIVE_STREAMS_MAX", default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub live_streams_max: u64,

    /// Minutes a session may go unused before it ends.
    #[arg(long, env = "COUNTERSIGN_SESSION_IDLE_MINUTES", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub session_idle_minutes: u64,

    /// Hours after sign-in a session ends, used or not.
    #[arg(long, env = "COUNTERSIGN_SESSION_MAX_HOURS", default_value_t = 12, value_parser = clap::value_parser!(u64).range(1..))]
    pub session_max_hours: u64,

    /// Failed sign-ins per account from one address per 15 minutes before
    /// more from there are refused.
    #[arg(long, env = "COUNTERSIGN_SIGN_IN_LIMIT_ACCOUNT", default_value_t = 5)]
    pub sign_in_limit_account: u32,

    /// Failed sign-ins per account per 15 minutes, from all addresses it
    /// never signed in from, before more from such addresses are refused
    /// (the owner at a known address still gets in).
    #[arg(
        long,
        env = "COUNTERSIGN_SIGN_IN_LIMIT_ACCOUNT_ANYWHERE",
        default_value_t = 50
    )]
    pub sign_in_limit_account_anywhere: u32,

    /// Failed sign-ins per client address per 15 minutes before more are
    /// refused.
    #[arg(long, env = "COUNTERSIGN_SIGN_IN_LIMIT_ADDRESS", default_value_t = 20)]
    pub sign_in_limit_address: u32,

    #[command(flatten)]
    pub store: StoreArgs,
}
