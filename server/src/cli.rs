//! The command line. Every flag can also be set through the environment
//! variable named in its help.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Countersign: approvals for the human steps of AWS Step Functions workflows.
#[derive(Debug, Parser)]
#[command(name = "countersign", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the dashboard. With no AWS settings it starts its own DynamoDB
    /// and Step Functions stand-ins on loopback, keeping their data in
    /// `--data-dir`.
    Serve(Box<ServeArgs>),
    /// Serve the embedded DynamoDB and Step Functions engine on one
    /// loopback endpoint, for any AWS SDK or the AWS CLI
    /// (`aws --endpoint-url http://127.0.0.1:4600 stepfunctions list-state-machines`).
    Emulator(EmulatorArgs),
    /// Measure and print figures (not a test: nothing fails on a number).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Manage who may sign in. Uses the same data (`--data-dir` or the AWS
    /// settings) as `serve`, and works while it runs.
    #[command(subcommand)]
    Users(Box<UsersCommand>),
    /// Manage keys for the REST API and webhooks. Same data settings as
    /// `serve`; works while it runs.
    #[command(subcommand, name = "api-keys")]
    ApiKeys(Box<ApiKeysCommand>),
}

#[derive(Debug, Subcommand)]
pub enum ApiKeysCommand {
    /// Create a key for a user; it acts with the user's roles. The key is
    /// printed once, alone on the last line, and stored only as a hash
    /// (webhook secrets as they are: checking a signature needs them).
    Create {
        #[arg(long)]
        user: String,
        /// bearer (for `Authorization: Bearer`) or webhook (signs webhook calls).
        #[arg(long, default_value = "bearer")]
        kind: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List keys: id, user, kind, created (never the secrets).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a key by id; its next use is refused.
    Revoke {
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user. The password is read from standard input (one line) or,
    /// at a terminal, asked for without echo.
    Add {
        /// 1 to 64 of a-z, 0-9, '.', '_', '-'.
        name: String,
        /// staff, signer or customer; repeat for several.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// A group they belong to (e.g. finance); repeat for several.
        #[arg(long = "group")]
        groups: Vec<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Without NAME: every group and its members. With NAME and --group:
    /// set that user's groups (no --group: none). With NAME alone: print
    /// their groups.
    Groups {
        name: Option<String>,
        #[arg(long = "group")]
        groups: Vec<String>,
        /// With NAME: take every group away.
        #[arg(long)]
        clear: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List users and their roles.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Remove a user; their sessions end at their next request.
    Remove {
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Where the data lives: the embedded services' directory, or AWS.
#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// Directory for the embedded services' data; created if missing.
    #[arg(long, env = "COUNTERSIGN_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    #[command(flatten)]
    pub aws: AwsArgs,

    #[command(flatten)]
    pub tables: TableArgs,
}

impl StoreArgs {
    pub fn tables(&self) -> countersign_domain::tables::Tables {
        let t = &self.tables;
        countersign_domain::tables::Tables {
            orders: t.orders_table.clone(),
            actions: t.actions_table.clone(),
            decisions: t.decisions_table.clone(),
            documents: t.documents_table.clone(),
            signature_requests: t.signature_requests_table.clone(),
            users: t.users_table.clone(),
            sessions: t.sessions_table.clone(),
            meta: t.meta_table.clone(),
            api_keys: t.api_keys_table.clone(),
            tasks: t.tasks_table.clone(),
            views: t.views_table.clone(),
        }
    }

    /// `None`: the embedded services.
    pub fn aws_settings(&self) -> Option<crate::AwsSettings> {
        let a = &self.aws;
        a.aws.then(|| crate::AwsSettings {
            region: a.aws_region.clone(),
            endpoint_url: a.aws_endpoint_url.clone(),
            process_order_arn: a.process_order_arn.clone(),
            sign_document_arn: a.sign_document_arn.clone(),
            provision: a.provision,
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Executions started and driven to their first wait (Pass → putItem →
    /// putItem.waitForTaskToken): the embedded engine, then moto, then the
    /// ratio.
    Engine {
        /// Executions on the embedded engine.
        #[arg(long, default_value_t = 2000)]
        executions: usize,
        /// Executions on moto (slower; 0 skips it).
        #[arg(long, default_value_t = 100)]
        moto_executions: usize,
        /// Executions in flight at once.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
    /// The dashboard from outside, a real `serve` child on loopback:
    /// decisions through the REST API (then the same AWS calls against
    /// moto), start-to-ready time, bytes to an interactive inbox, inbox
    /// pages at depth against a full Scan, and resident memory.
    Dashboard {
        /// Orders decided through the REST API.
        #[arg(long, default_value_t = 2000)]
        orders: usize,
        /// Orders decided against moto (slower; 0 skips it).
        #[arg(long, default_value_t = 200)]
        moto_orders: usize,
        /// Clients deciding at once.
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        /// Pending tasks loaded for the inbox and memory figures.
        #[arg(long, default_value_t = 100_000)]
        inbox_tasks: usize,
        /// The built client, as `serve --site-dir` takes it.
        #[arg(long, env = "COUNTERSIGN_SITE_DIR", default_value = "target/site")]
        site_dir: std::path::PathBuf,
    },
}

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

/// AWS mode. Without `--aws` everything runs embedded.
#[derive(Debug, clap::Args)]
pub struct AwsArgs {
    /// Use AWS (the default credential chain) instead of the embedded
    /// services: for several replicas and real Step Functions.
    #[arg(long, env = "COUNTERSIGN_AWS")]
    pub aws: bool,

    /// AWS region (default: the SDK's region chain).
    #[arg(long, env = "COUNTERSIGN_AWS_REGION", requires = "aws")]
    pub aws_region: Option<String>,

    /// An AWS-compatible endpoint instead of AWS's own, e.g. moto.
    #[arg(long, env = "COUNTERSIGN_AWS_ENDPOINT_URL", requires = "aws")]
    pub aws_endpoint_url: Option<String>,

    /// ARN of the deployed process-order state machine. Without it the
    /// server deploys `countersign-process-order` itself.
    #[arg(long, env = "COUNTERSIGN_PROCESS_ORDER_ARN", requires = "aws")]
    pub process_order_arn: Option<String>,

    /// ARN of the deployed sign-document state machine. Without it the
    /// server deploys `countersign-sign-document` itself.
    #[arg(long, env = "COUNTERSIGN_SIGN_DOCUMENT_ARN", requires = "aws")]
    pub sign_document_arn: Option<String>,

    /// Create missing tables at start (the deploy template does on AWS).
    #[arg(long, env = "COUNTERSIGN_PROVISION", requires = "aws")]
    pub provision: bool,
}

/// Table names, the same in both modes.
#[derive(Debug, clap::Args)]
pub struct TableArgs {
    /// Orders, keyed by `orderId`.
    #[arg(long, env = "COUNTERSIGN_ORDERS_TABLE", default_value = "orders")]
    pub orders_table: String,

    /// Pending actions (one per waiting step), keyed by `executionId`.
    #[arg(
        long,
        env = "COUNTERSIGN_ACTIONS_TABLE",
        default_value = "orderProcessingActions"
    )]
    pub actions_table: String,

    /// Decisions (the exactly-once claims), keyed by `taskId`.
    #[arg(
        long,
        env = "COUNTERSIGN_DECISIONS_TABLE",
        default_value = "countersignDecisions"
    )]
    pub decisions_table: String,

    /// Documents to sign, keyed by `documentId`.
    #[arg(long, env = "COUNTERSIGN_DOCUMENTS_TABLE", default_value = "documents")]
    pub documents_table: String,

    /// Signature requests, keyed by `documentId` and `signer`.
    #[arg(
        long,
        env = "COUNTERSIGN_SIGNATURE_REQUESTS_TABLE",
        default_value = "signatureRequests"
    )]
    pub signature_requests_table: String,

    /// Users, keyed by `name`.
    #[arg(
        long,
        env = "COUNTERSIGN_USERS_TABLE",
        default_value = "countersignUsers"
    )]
    pub users_table: String,

    /// Sessions, keyed by `id`, with time-to-live on `expiresAt`.
    #[arg(
        long,
        env = "COUNTERSIGN_SESSIONS_TABLE",
        default_value = "countersignSessions"
    )]
    pub sessions_table: String,

    /// Bookkeeping (counters), keyed by `key`, with time-to-live on `expiresAt`.
    #[arg(
        long,
        env = "COUNTERSIGN_META_TABLE",
        default_value = "countersign-meta"
    )]
    pub meta_table: String,

    /// API keys and webhook secrets, keyed by `keyId`.
    #[arg(
        long,
        env = "COUNTERSIGN_API_KEYS_TABLE",
        default_value = "countersignApiKeys"
    )]
    pub api_keys_table: String,

    /// Human tasks of every kind, keyed by `taskId` (docs/tasks.md).
    #[arg(
        long,
        env = "COUNTERSIGN_TASKS_TABLE",
        default_value = "countersignTasks"
    )]
    pub tasks_table: String,

    /// Saved views of the task list, keyed by `owner` and `name`.
    #[arg(
        long,
        env = "COUNTERSIGN_VIEWS_TABLE",
        default_value = "countersignViews"
    )]
    pub views_table: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_defaults_to_loopback_and_local_data() {
        let cli = Cli::try_parse_from(["countersign", "serve"]).expect("parses");
        let Command::Serve(args) = cli.command else {
            panic!("expected serve");
        };
        assert_eq!(args.listen, "127.0.0.1:3000".parse().expect("address"));
        assert_eq!(args.store.data_dir, PathBuf::from("./data"));
    }

    #[test]
    fn admin_commands_take_the_same_data_settings_as_serve() {
        let cli = Cli::try_parse_from([
            "countersign",
            "users",
            "add",
            "sam",
            "--role",
            "staff",
            "--data-dir",
            "/tmp/x",
        ])
        .expect("parses");
        let Command::Users(command) = cli.command else {
            panic!("expected users");
        };
        let UsersCommand::Add {
            name, roles, store, ..
        } = *command
        else {
            panic!("expected users add");
        };
        assert_eq!((name.as_str(), roles), ("sam", vec!["staff".to_owned()]));
        assert_eq!(store.data_dir, PathBuf::from("/tmp/x"));
        assert!(store.aws_settings().is_none());
    }

    #[test]
    fn a_malformed_listen_address_is_refused_with_its_name() {
        let error = Cli::try_parse_from(["countersign", "serve", "--listen", "nowhere"])
            .expect_err("must be refused");
        assert!(error.to_string().contains("--listen"), "{error}");
    }
}
