//! Where the data is kept: a data directory for the embedded services, or
//! AWS; and the tables' names.

use std::path::PathBuf;

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
            attachments: t.attachments_table.clone(),
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

    /// Which files a document or task has, keyed by `owner` and `name`
    /// (the bytes are in the file store, by SHA-256).
    #[arg(
        long,
        env = "COUNTERSIGN_ATTACHMENTS_TABLE",
        default_value = "countersignAttachments"
    )]
    pub attachments_table: String,
}
