//! `countersign`: wires the command line to the library; decides nothing.

use std::process::ExitCode;

use clap::Parser;
use countersign_server::cli::{BenchCommand, Cli, Command, ReceiptsCommand};

use countersign_server::{ServeConfig, serve};
use tracing_subscriber::EnvFilter;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // A benchmark prints figures; progress notes would only interleave.
    let default_level = match cli.command {
        Command::Bench(_) | Command::Receipts(_) => "warn",
        _ => "info",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            // dynoxide logs every 4xx it answers as a warning; the expected
            // ones (a table that exists at start) would drown real news.
            EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                EnvFilter::new(format!("{default_level},dynoxide::server=error"))
            }),
        )
        .init();

    let result = match cli.command {
        Command::Serve(args) => {
            if args.demo && args.store.aws_settings().is_some() && !args.demo_in_aws {
                eprintln!(
                    "countersign: --demo creates users with printed passwords; in AWS mode add --demo-in-aws to mean it"
                );
                return ExitCode::FAILURE;
            }
            let listener = match tokio::net::TcpListener::bind(args.listen).await {
                Ok(listener) => listener,
                Err(error) => {
                    eprintln!("countersign: cannot listen on {}: {error}", args.listen);
                    return ExitCode::FAILURE;
                }
            };
            match listener.local_addr() {
                // On stdout whatever the log level, for people and for
                // callers that asked for port 0.
                Ok(addr) => println!("dashboard on http://{addr}"),
                Err(error) => tracing::warn!(%error, "listening, address unknown"),
            }
            let secure_cookie = match args.secure_cookie.as_str() {
                "always" => Some(true),
                "never" => Some(false),
                _ => None,
            };
            let config = ServeConfig {
                data_dir: args.store.data_dir.clone(),
                site_dir: args.site_dir,
                demo: args.demo,
                workflows_dirs: args.workflows_dirs,
                aws: args.store.aws_settings(),
                tables: args.store.tables(),
                services_socket: args.services_listen.map(|listen| {
                    countersign_server::embedded::Socket {
                        listen,
                        credential: args.services_credential.source(),
                    }
                }),
                decisions: countersign_server::DecisionSettings {
                    lease: std::time::Duration::from_secs(args.decision_lease_secs),
                    reconcile_every: std::time::Duration::from_secs(args.reconcile_every_secs),
                },
                web: countersign_server::web::WebSettings {
                    public_url: args.public_url,
                    secure_cookie,
                    trust_forwarded_for: args.trust_forwarded_for,
                    idle_secs: args.session_idle_minutes * 60,
                    listen: None,
                    request_timeout: std::time::Duration::ZERO,
                    attachment_limit: 0,
                },
                files: countersign_server::file_store::FileSettings {
                    bucket: args.attachments_bucket,
                    limit: args.attachment_limit,
                },
                limits: countersign_server::ServerLimits {
                    connections: countersign_server::listener::ConnectionLimits {
                        header_read_timeout: std::time::Duration::from_secs(
                            args.header_read_timeout_secs,
                        ),
                        max_connections: usize::try_from(args.max_connections)
                            .unwrap_or(usize::MAX),
                    },
                    request_timeout: std::time::Duration::from_secs(args.request_timeout_secs),
                    live: countersign_server::live::LiveLimits {
                        per_session: usize::try_from(args.live_streams_per_session)
                            .unwrap_or(usize::MAX),
                        total: usize::try_from(args.live_streams_max).unwrap_or(usize::MAX),
                    },
                },
                policy: countersign_domain::users::SessionPolicy {
                    idle_secs: args.session_idle_minutes * 60,
                    absolute_secs: args.session_max_hours * 3600,
                    limits: countersign_domain::users::SignInLimits {
                        per_account: args.sign_in_limit_account,
                        per_address: args.sign_in_limit_address,
                        per_account_anywhere: args.sign_in_limit_account_anywhere,
                        ..Default::default()
                    },
                },
            };
            serve(config, listener, shutdown_signal()).await
        }
        Command::Emulator(args) => emulator(args).await,
        Command::Users(command) => countersign_server::admin::users(*command)
            .await
            .map_err(|e| countersign_server::ServeError::Admin(Box::new(e))),
        Command::ApiKeys(command) => countersign_server::admin::api_keys(*command)
            .await
            .map_err(|e| countersign_server::ServeError::Admin(Box::new(e))),
        Command::Receipts(ReceiptsCommand::Verify {
            receipt,
            key,
            files,
        }) => {
            return match countersign_server::receipts::verify_files(&receipt, &key, &files) {
                Ok(summary) => {
                    println!("{summary}");
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("countersign: the receipt does not verify: {error}");
                    ExitCode::FAILURE
                }
            };
        }
        Command::Bench(BenchCommand::Dashboard {
            orders,
            moto_orders,
            concurrency,
            inbox_tasks,
            export_decisions,
            site_dir,
        }) => countersign_server::bench::dashboard::run(
            countersign_server::bench::dashboard::DashboardBench {
                orders,
                moto_orders,
                concurrency,
                inbox_tasks,
                export_decisions,
                site_dir,
            },
        )
        .await
        .map_err(Into::into),
        Command::Bench(BenchCommand::Engine {
            executions,
            moto_executions,
            concurrency,
        }) => countersign_server::bench::engine(executions, moto_executions, concurrency)
            .await
            .map_err(Into::into),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("countersign: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Serves the embedded services until Ctrl-C or SIGTERM.
async fn emulator(
    args: countersign_server::cli::EmulatorArgs,
) -> Result<(), countersign_server::ServeError> {
    let socket = countersign_server::embedded::Socket {
        listen: args.listen,
        credential: args.credential.source(),
    };
    let services =
        countersign_server::embedded::EmbeddedServices::start(&args.data_dir, Some(socket)).await?;
    if let Some((endpoint, _)) = services.endpoint() {
        println!("DynamoDB and Step Functions on http://{endpoint}");
    }
    shutdown_signal().await;
    services.stop().await;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM, whichever comes first.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
