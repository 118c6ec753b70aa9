//! The audit export at size: `export_decisions` decisions that took effect
//! are loaded into the ledger (spread over a year, so the export crosses
//! month partitions), then downloaded through the REST API while the
//! server's resident memory is sampled. Flat memory shows as the same
//! peak for a tenth of the rows as for all of them.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use countersign_domain::tables::Tables;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;

use super::client::{Http, Server, fail, put_batch};
use super::decisions::drive;
use super::{mb, ms};
use crate::bench::BenchError;

/// The kind the loaded decisions carry, so the export counts only them.
const KIND: &str = "bench-export";
/// The loaded decisions are this far apart.
const STEP_MS: i64 = 5 * 60 * 1000;
/// 2025-01-01T00:00:00Z.
const START_MS: i64 = 1_735_689_600_000;

fn at(i: usize) -> String {
    countersign_domain::clock::stamp(START_MS + i as i64 * STEP_MS)
}

/// Loads `count` decided rows into the decisions table.
async fn load(ddb: aws_sdk_dynamodb::Client, count: usize) -> Result<Duration, BenchError> {
    let table = Tables::default().decisions;
    let loaded = Instant::now();
    let batches: Vec<usize> = (0..count.div_ceil(25)).collect();
    let (_, failed, _) = drive(batches, 8, move |b: usize| {
        let (ddb, table) = (ddb.clone(), table.clone());
        async move {
            let rows: Vec<_> = (b * 25..((b + 1) * 25).min(count))
                .map(|i| {
                    let s = |v: String| AttributeValue::S(v);
                    let task = format!("20000000-0000-4000-8000-{i:012}");
                    let when = at(i);
                    let payload = serde_json::json!({
                        "action": "approve",
                        "attachments": [{"name": "invoice.pdf", "sha256": format!("{i:064x}")}],
                    });
                    [
                        ("taskId", s(task.clone())),
                        ("claimId", s(format!("bench-claim-{i}"))),
                        ("subject", s(format!("expense-{i}"))),
                        (
                            "execution",
                            s(format!("arn:aws:states:bench:execution:{i}")),
                        ),
                        ("step", s("Approve".into())),
                        ("actor", s(format!("staff-{}", i % 20))),
                        ("outcome", s("advance".into())),
                        ("comment", s(format!("checked receipt {i}, all fine"))),
                        ("state", s("RECORDED".into())),
                        ("due", s(when.clone())),
                        ("finishedAt", s(when.clone())),
                        ("kind", s("task".into())),
                        ("taskKind", s(KIND.into())),
                        ("payload", s(payload.to_string())),
                        ("auditMonth", s(when[..7].to_owned())),
                        ("at", s(when)),
                    ]
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .chain([("applied".to_owned(), AttributeValue::Bool(true))])
                    .collect()
                })
                .collect();
            put_batch(&ddb, &table, rows).await
        }
    })
    .await;
    if failed > 0 {
        return Err(fail(
            "loading decisions",
            format!("{failed} batches failed"),
        ));
    }
    Ok(loaded.elapsed())
}

/// One download, read frame by frame as a client would, with the
/// server's memory sampled as the rows arrive.
struct Download {
    rows: usize,
    bytes: usize,
    first_byte: Duration,
    took: Duration,
    peak_rss: Option<u64>,
}

async fn download(
    http: &Http,
    server: &Server,
    key: &str,
    query: &str,
) -> Result<Download, BenchError> {
    // From the first loaded row: the server noted its own start as the
    // first month with decisions, and these rows are made up older.
    let url = format!(
        "{}/v1/decisions/export?kind={KIND}&from={}&{query}",
        server.base,
        at(0)
    );
    let request = hyper::Request::get(&url)
        .header("authorization", format!("Bearer {key}"))
        .body(Full::new(Bytes::new()))
        .map_err(|e| fail("export", e))?;
    let started = Instant::now();
    let response = http.request(request).await.map_err(|e| fail("export", e))?;
    if response.status() != 200 {
        return Err(fail("export", response.status()));
    }
    let first_byte = started.elapsed();
    let mut body = response.into_body();
    let (mut rows, mut bytes, mut peak, mut sampled) = (0, 0, server.rss_bytes(), 0);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| fail("export body", e))?;
        if let Some(data) = frame.data_ref() {
            bytes += data.len();
            rows += data.iter().filter(|b| **b == b'\n').count();
            if rows >= sampled + 2000 {
                sampled = rows;
                peak = peak.max(server.rss_bytes());
            }
        }
    }
    Ok(Download {
        rows,
        bytes,
        first_byte,
        took: started.elapsed(),
        peak_rss: peak.max(server.rss_bytes()),
    })
}

/// Loads the decisions and prints one line per download.
pub(super) async fn export(
    http: &Http,
    server: &Server,
    key: &str,
    count: usize,
) -> Result<(), BenchError> {
    if count == 0 {
        return Ok(());
    }
    let ddb = aws_sdk_dynamodb::Client::new(&server.sdk().await);
    let load_time = load(ddb, count).await?;
    println!(
        "export  loaded {count} decisions over {} months in {:.1} s",
        (count as i64 * STEP_MS / (30 * 24 * 3600 * 1000)).max(1),
        load_time.as_secs_f64()
    );
    let tenth = (count / 10).max(1);
    let runs = [
        (
            "JSON Lines",
            tenth,
            format!("format=jsonl&to={}", at(tenth - 1)),
        ),
        ("JSON Lines", count, "format=jsonl".to_owned()),
        ("CSV", count, "format=csv".to_owned()),
    ];
    for (format, expected, query) in runs {
        let before = server.rss_bytes();
        let d = download(http, server, key, &query).await?;
        // CSV has a header line.
        let rows = if format == "CSV" {
            d.rows.saturating_sub(1)
        } else {
            d.rows
        };
        if rows != expected {
            return Err(fail(
                "export",
                format!("{rows} rows exported, {expected} expected"),
            ));
        }
        let growth = match (before, d.peak_rss) {
            (Some(b), Some(p)) => format!("{:+.1} MB", (p as f64 - b as f64) / 1e6),
            _ => "n/a".into(),
        };
        println!(
            "export  {format:<10} {rows:>7} decisions  {:>8.0} rows/s  first byte {:>6.1} ms  {:>6.1} MB  server RSS before {}  peak {} ({growth})",
            rows as f64 / d.took.as_secs_f64().max(1e-9),
            ms(d.first_byte),
            d.bytes as f64 / 1e6,
            mb(before),
            mb(d.peak_rss),
        );
    }
    Ok(())
}
