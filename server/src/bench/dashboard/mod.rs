//! `countersign bench dashboard`: the dashboard as its users meet it. A real
//! `countersign serve` runs as a child process on loopback (embedded mode,
//! a fresh data directory), and everything is measured from outside it,
//! over HTTP: decisions through the REST API, inbox pages through the
//! dashboard's own server function, bytes a browser downloads, the
//! process's resident memory, the time from start to ready, and the audit
//! export of many decisions.
//!
//! # Layout
//! - this file: what to measure and the run that prints each figure.
//! - `client`: the server child and the calls made to it.
//! - `decisions`: decision rate and latency, REST and moto.
//! - `pages`: page weight and inbox pages.
//! - `export`: the audit export of many decisions, and memory meanwhile.

mod client;
mod decisions;
mod export;
mod pages;

use std::path::PathBuf;
use std::time::Duration;

use countersign_domain::api_keys::KeyKind;
use countersign_domain::tables::Tables;
use countersign_domain::users::{Accounts, Role};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::BenchError;

use client::{Http, Server, fail};
use decisions::{decisions_moto, decisions_rest};
use pages::{inbox, weight};

/// What to measure, and how much of it.
#[derive(Debug, Clone)]
pub struct DashboardBench {
    /// Orders decided through the REST API (embedded).
    pub orders: usize,
    /// Orders decided against moto (slower; 0 skips moto).
    pub moto_orders: usize,
    /// Clients deciding at once.
    pub concurrency: usize,
    /// Pending tasks loaded for the inbox and memory figures.
    pub inbox_tasks: usize,
    /// Decisions loaded for the audit export figures (0 skips them).
    pub export_decisions: usize,
    /// The built client (`target/site`), for the weight figure.
    pub site_dir: PathBuf,
}

fn mb(bytes: Option<u64>) -> String {
    bytes.map_or("n/a".into(), |b| format!("{:.1} MB", b as f64 / 1e6))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs every dashboard figure and prints one line each.
pub async fn run(bench: DashboardBench) -> Result<(), BenchError> {
    let http: Http = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(bench.concurrency.max(8))
        .build_http();
    let data = std::env::temp_dir().join(format!("countersign-bench-ui-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);

    // Start → ready, on a fresh directory and again on the same one.
    let (first, fresh) = Server::start(&http, &data, &bench.site_dir).await?;
    drop(first);
    let (server, again) = Server::start(&http, &data, &bench.site_dir).await?;
    println!(
        "ready   fresh data dir {:>7.0} ms   existing data dir {:>7.0} ms   (spawn to first 200 from /readyz)",
        ms(fresh),
        ms(again)
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = server.rss_bytes();

    let accounts = Accounts {
        ddb: aws_sdk_dynamodb::Client::new(&server.sdk().await),
        tables: Tables::default(),
    };
    let password = "bench password, not secret";
    accounts
        .add_user("bench-staff", &[Role::Staff], password)
        .await
        .map_err(|e| fail("adding staff", e))?;
    accounts
        .add_user("bench-customer", &[Role::Customer], password)
        .await
        .map_err(|e| fail("adding a customer", e))?;
    let (_, staff_key) = accounts
        .create_key("bench-staff", KeyKind::Bearer)
        .await
        .map_err(|e| fail("a staff key", e))?;
    let (_, customer_key) = accounts
        .create_key("bench-customer", KeyKind::Bearer)
        .await
        .map_err(|e| fail("a customer key", e))?;

    let ours = decisions_rest(&http, &server, &bench, &staff_key, &customer_key).await?;
    println!("{}", ours.line("embedded, REST over HTTP"));
    if bench.moto_orders > 0 {
        let theirs = decisions_moto(&bench).await?;
        println!("{}", theirs.line("moto, the same AWS calls"));
        println!(
            "decide  ratio {:.1}x decisions/s (embedded REST vs moto)",
            ours.per_second / theirs.per_second
        );
    }

    weight(&http, &server, password).await?;
    inbox(&http, &server, &accounts, &bench, password).await?;
    let loaded = server.rss_bytes();
    println!(
        "memory  RSS idle {}   with {} pending tasks loaded and paged {}",
        mb(idle),
        bench.inbox_tasks,
        mb(loaded)
    );
    export::export(&http, &server, &staff_key, bench.export_decisions).await?;
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}
