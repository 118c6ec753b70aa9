//! What a browser meets: the bytes it downloads, and inbox pages through
//! the dashboard's own server function.

use std::time::Instant;

use aws_sdk_dynamodb::types::AttributeValue;
use countersign_domain::tables::Tables;
use countersign_domain::users::Accounts;

use super::client::{Http, Server, call, fail, json_of, put_batch, sign_in};
use super::decisions::drive;
use super::{DashboardBench, ms};
use crate::bench::{BenchError, percentile};

/// Bytes a browser fetches before the inbox is interactive: the page, the
/// stylesheets it links, the JS glue and the wasm module.
pub(super) async fn weight(http: &Http, server: &Server, password: &str) -> Result<(), BenchError> {
    let cookie = sign_in(http, server, password).await?;
    let page = format!("{}/inbox", server.base);
    let html = call(http, "GET", &page, &[("cookie", &cookie)], vec![]).await?;
    let text = String::from_utf8_lossy(&html.body).into_owned();
    let mut paths = vec!["/inbox".to_owned()];
    for piece in text.split("href=\"").skip(1) {
        if let Some(href) = piece.split('"').next()
            && href.ends_with(".css")
            && href.starts_with('/')
        {
            paths.push(href.to_owned());
        }
    }
    let name = crate::web::CLIENT_OUTPUT_NAME;
    paths.push(format!("/pkg/{name}.js"));
    paths.push(format!("/pkg/{name}_bg.wasm"));
    let (mut raw_total, mut gzip_total) = (0, 0);
    let mut parts = Vec::new();
    for path in &paths {
        let url = format!("{}{path}", server.base);
        let raw = call(http, "GET", &url, &[("cookie", &cookie)], vec![]).await?;
        let gz = call(
            http,
            "GET",
            &url,
            &[("cookie", &cookie), ("accept-encoding", "gzip")],
            vec![],
        )
        .await?;
        if raw.status != 200 {
            return Err(fail(path, raw.status));
        }
        raw_total += raw.body.len();
        gzip_total += gz.body.len();
        parts.push(format!("{path} {}/{}", raw.body.len(), gz.body.len()));
    }
    println!(
        "weight  interactive inbox {:>8} bytes raw {:>8} bytes gzip ({:.0} KB)   [{}]",
        raw_total,
        gzip_total,
        gzip_total as f64 / 1024.0,
        parts.join(", ")
    );
    Ok(())
}

/// Loads `inbox_tasks` waiting rows, then times the first inbox page, a
/// page deep in the cursor chain, and a full Scan of the same table (the
/// article's design: staff "check the table").
pub(super) async fn inbox(
    http: &Http,
    server: &Server,
    accounts: &Accounts,
    bench: &DashboardBench,
    password: &str,
) -> Result<(), BenchError> {
    let ddb = accounts.ddb.clone();
    let table = Tables::default().actions;
    let loaded = Instant::now();
    let batches: Vec<usize> = (0..bench.inbox_tasks.div_ceil(25)).collect();
    let total = bench.inbox_tasks;
    let (_, failed, _) = {
        let (ddb, table) = (ddb.clone(), table.clone());
        drive(batches, 8, move |b: usize| {
            let (ddb, table) = (ddb.clone(), table.clone());
            async move {
                let rows: Vec<_> = (b * 25..((b + 1) * 25).min(total))
                    .map(|i| {
                        let s = |v: String| AttributeValue::S(v);
                        let id = format!("00000000-0000-4000-8000-{i:012}");
                        [
                            ("executionId", s(format!("bench-execution:{id}"))),
                            ("orderId", s(id)),
                            ("customer", s(format!("customer-{}", i % 1000))),
                            ("taskId", s(format!("10000000-0000-4000-8000-{i:012}"))),
                            ("status", s("PENDING".into())),
                            ("taskToken", s(format!("bench-token-{i}"))),
                            // Oldest first: one millisecond apart.
                            (
                                "createdAt",
                                s(format!(
                                    "2026-01-01T{:02}:{:02}:{:02}.{:03}Z",
                                    i / 3_600_000,
                                    (i / 60_000) % 60,
                                    (i / 1000) % 60,
                                    i % 1000
                                )),
                            ),
                            ("inbox", s("orders".into())),
                        ]
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect()
                    })
                    .collect();
                put_batch(&ddb, &table, rows).await
            }
        })
        .await
    };
    if failed > 0 {
        return Err(fail(
            "loading the inbox",
            format!("{failed} batches failed"),
        ));
    }
    let load_time = loaded.elapsed();

    let cookie = sign_in(http, server, password).await?;
    let page = |cursor: Option<String>| {
        let body = cursor
            .map(|c| format!("cursor={}", countersign_app::words::urlencode(&c)))
            .unwrap_or_default();
        let cookie = cookie.clone();
        async move {
            let t = Instant::now();
            let a = call(
                http,
                "POST",
                &format!("{}/api/orders/inbox", server.base),
                &[
                    ("cookie", &cookie),
                    ("origin", &server.base),
                    ("accept", "application/json"),
                    ("content-type", "application/x-www-form-urlencoded"),
                ],
                body.into_bytes(),
            )
            .await?;
            if a.status != 200 {
                return Err(fail(
                    "an inbox page",
                    String::from_utf8_lossy(&a.body).into_owned(),
                ));
            }
            Ok::<_, BenchError>((t.elapsed(), json_of(&a)["next"].as_str().map(str::to_owned)))
        }
    };
    let samples = 200;
    let mut first = Vec::new();
    for _ in 0..samples {
        first.push(page(None).await?.0);
    }
    first.sort();
    // Walk the cursor chain deep into the queue.
    let depth = (bench.inbox_tasks / 25 / 2).max(1);
    let mut cursor = None;
    for _ in 0..depth {
        let (_, next) = page(cursor.clone()).await?;
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut deep = Vec::new();
    for _ in 0..samples {
        deep.push(page(cursor.clone()).await?.0);
    }
    deep.sort();

    let mut scans = Vec::new();
    let mut scanned = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let mut start = None;
        scanned = 0;
        loop {
            let out = ddb
                .scan()
                .table_name(&table)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| fail("scanning", e))?;
            scanned += out.items().len();
            start = out.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        scans.push(t.elapsed());
    }
    scans.sort();
    println!(
        "inbox   {} pending tasks (loaded in {:.1} s)   first page p50={:.1} ms p99={:.1} ms   page {} p50={:.1} ms p99={:.1} ms   ({} requests each, HTTP incl.)",
        bench.inbox_tasks,
        load_time.as_secs_f64(),
        ms(percentile(&first, 50.0)),
        ms(percentile(&first, 99.0)),
        depth + 1,
        ms(percentile(&deep, 50.0)),
        ms(percentile(&deep, 99.0)),
        samples
    );
    println!(
        "inbox   full Scan of the table (the article's design): {} rows p50={:.0} ms   ratio {:.0}x the first page",
        scanned,
        ms(percentile(&scans, 50.0)),
        percentile(&scans, 50.0).as_secs_f64() / percentile(&first, 50.0).as_secs_f64().max(1e-9)
    );
    Ok(())
}
