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
}

#[derive(Debug, clap::Args)]
pub struct EmulatorArgs {
    /// Address both services listen on. Keep it on loopback: the stand-ins
    /// accept any credentials.
    #[arg(
        long,
        env = "COUNTERSIGN_EMULATOR_LISTEN",
        default_value = "127.0.0.1:4600"
    )]
    pub listen: SocketAddr,

    /// Directory for the services' data; created if missing.
    #[arg(long, env = "COUNTERSIGN_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address the dashboard listens on.
    #[arg(long, env = "COUNTERSIGN_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Directory for the embedded services' data; created if missing.
    #[arg(long, env = "COUNTERSIGN_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Directory holding the built client: `pkg/` (wasm and JS), the
    /// stylesheet and icons. `scripts/build` writes it.
    #[arg(long, env = "COUNTERSIGN_SITE_DIR", default_value = "./target/site")]
    pub site_dir: PathBuf,

    /// Place a few sample orders once started.
    #[arg(long, env = "COUNTERSIGN_DEMO")]
    pub demo: bool,

    #[command(flatten)]
    pub aws: AwsArgs,

    #[command(flatten)]
    pub tables: TableArgs,
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
        assert_eq!(args.data_dir, PathBuf::from("./data"));
    }

    #[test]
    fn a_malformed_listen_address_is_refused_with_its_name() {
        let error = Cli::try_parse_from(["countersign", "serve", "--listen", "nowhere"])
            .expect_err("must be refused");
        assert!(error.to_string().contains("--listen"), "{error}");
    }
}
