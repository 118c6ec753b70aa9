//! The command line. Every flag can also be set through the environment
//! variable named in its help.
//!
//! # Layout
//! - this file: the commands and their subcommands.
//! - `store`: where the data is kept (a data directory, or AWS) and the
//!   table names.
//! - `serve`: what `serve` and `emulator` listen on, and their secrets.

use clap::{Parser, Subcommand};

mod serve;
mod store;

pub use serve::{EmulatorArgs, ServeArgs, ServicesCredentialArgs};
pub use store::{AwsArgs, StoreArgs, TableArgs};

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
    /// Check decision receipts offline.
    #[command(subcommand)]
    Receipts(ReceiptsCommand),
}

#[derive(Debug, Subcommand)]
pub enum ReceiptsCommand {
    /// Check a receipt (as downloaded from its page, or `GET
    /// /receipts/{id}`) against the server's public key and, for each
    /// `--file`, that the file is the one the decision saw. Exits 0 when
    /// everything matches, 1 otherwise, saying why.
    Verify {
        /// The receipt file (JSON).
        receipt: std::path::PathBuf,
        /// The public key (JSON, from `/.well-known/countersign-receipt-key`).
        #[arg(long)]
        key: std::path::PathBuf,
        /// A file the decision was about, checked by its name and bytes.
        #[arg(long = "file")]
        files: Vec<std::path::PathBuf>,
    },
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
    /// pages at depth against a full Scan, resident memory, and the audit
    /// export of many decisions.
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
        /// Decisions loaded for the audit export figures (0 skips them).
        #[arg(long, default_value_t = 100_000)]
        export_decisions: usize,
        /// The built client, as `serve --site-dir` takes it.
        #[arg(long, env = "COUNTERSIGN_SITE_DIR", default_value = "target/site")]
        site_dir: std::path::PathBuf,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use std::path::PathBuf;

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
