//! `countersign bench dashboard`: the dashboard as its users meet it. A real
//! `countersign serve` runs as a child process on loopback (embedded mode,
//! a fresh data directory), and everything is measured from outside it,
//! over HTTP: decisions through the REST API, inbox pages through the
//! dashboard's own server function, bytes a browser downloads, the
//! process's resident memory, and the time from start to ready.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use countersign_domain::api_keys::KeyKind;
use countersign_domain::outcome::Outcome;
use countersign_domain::tables::Tables;
use countersign_domain::users::{Accounts, Role};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::{BenchError, percentile};

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
    /// The built client (`target/site`), for the weight figure.
    pub site_dir: PathBuf,
}

type Http = Client<HttpConnector, Full<Bytes>>;

struct Answer {
    status: u16,
    headers: hyper::HeaderMap,
    body: Bytes,
}

fn fail(what: &str, e: impl std::fmt::Debug) -> BenchError {
    BenchError::Call {
        backend: "dashboard".into(),
        message: format!("{what}: {e:?}"),
    }
}

async fn call(
    http: &Http,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Result<Answer, BenchError> {
    let mut request = hyper::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let request = request
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| fail(url, e))?;
    let response = http.request(request).await.map_err(|e| fail(url, e))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| fail(url, e))?
        .to_bytes();
    Ok(Answer {
        status,
        headers,
        body,
    })
}

fn json_of(answer: &Answer) -> Value {
    serde_json::from_slice(&answer.body).unwrap_or(Value::Null)
}

/// A `countersign serve` child with its own data directory.
struct Server {
    process: std::process::Child,
    base: String,
    services: SocketAddr,
    credential: crate::embedded::Credential,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn free_addr() -> Result<SocketAddr, BenchError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| fail("a free port", e))
}

impl Server {
    /// Starts the server on `data` and returns it with the time from spawn
    /// to the first `200` from `/readyz`.
    async fn start(
        http: &Http,
        data: &Path,
        site: &Path,
    ) -> Result<(Server, Duration), BenchError> {
        let listen = free_addr()?;
        let services = free_addr()?;
        let credential = crate::embedded::Credential {
            access_key_id: "bench".into(),
            secret_access_key: countersign_domain::users::generate_password(),
        };
        let exe = std::env::current_exe().map_err(|e| fail("own executable", e))?;
        let started = Instant::now();
        let process = std::process::Command::new(exe)
            .args(["serve", "--listen", &listen.to_string()])
            .args(["--services-listen", &services.to_string()])
            .args(["--access-key-id", &credential.access_key_id])
            .env(
                "COUNTERSIGN_SERVICES_SECRET_ACCESS_KEY",
                &credential.secret_access_key,
            )
            .arg("--data-dir")
            .arg(data)
            .arg("--site-dir")
            .arg(site)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| fail("starting serve", e))?;
        let server = Server {
            process,
            base: format!("http://{listen}"),
            services,
            credential,
        };
        let deadline = started + Duration::from_secs(60);
        loop {
            let ready = call(http, "GET", &format!("{}/readyz", server.base), &[], vec![])
                .await
                .is_ok_and(|a| a.status == 200);
            if ready {
                return Ok((server, started.elapsed()));
            }
            if Instant::now() > deadline {
                return Err(fail("serve", "never became ready"));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Resident memory, from the kernel's own count.
    fn rss_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.process.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    }

    async fn sdk(&self) -> aws_config::SdkConfig {
        crate::aws::embedded_config(self.services, &self.credential).await
    }
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
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}

struct Decisions {
    count: usize,
    concurrency: usize,
    per_second: f64,
    p50: Duration,
    p99: Duration,
    failed: usize,
}

impl Decisions {
    fn new(count: usize, concurrency: usize, run: (Vec<Duration>, usize, Duration)) -> Self {
        let (latencies, failed, elapsed) = run;
        Decisions {
            count,
            concurrency,
            per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
            p50: percentile(&latencies, 50.0),
            p99: percentile(&latencies, 99.0),
            failed,
        }
    }

    fn line(&self, what: &str) -> String {
        format!(
            "decide  {what:<26} decisions={:<6} clients={:<4} {:>8.1} decisions/s  p50={:>6.1} ms  p99={:>6.1} ms  failed={}",
            self.count,
            self.concurrency,
            self.per_second,
            ms(self.p50),
            ms(self.p99),
            self.failed
        )
    }
}

/// Runs `work` over `items` with `concurrency` workers; returns each
/// item's latency (successes only), the failures and the wall time.
async fn drive<T, F, Fut>(
    items: Vec<T>,
    concurrency: usize,
    work: F,
) -> (Vec<Duration>, usize, Duration)
where
    T: Send + 'static,
    F: Fn(T) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let queue = Arc::new(Mutex::new(items));
    let work = Arc::new(work);
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let queue = queue.clone();
        let work = work.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failed = 0;
            loop {
                let Some(item) = queue.lock().await.pop() else {
                    break;
                };
                let t = Instant::now();
                if work(item).await {
                    latencies.push(t.elapsed());
                } else {
                    failed += 1;
                }
            }
            (latencies, failed)
        }));
    }
    let mut latencies = Vec::new();
    let mut failed = 0;
    for w in workers {
        if let Ok((l, f)) = w.await {
            latencies.extend(l);
            failed += f;
        }
    }
    let elapsed = started.elapsed();
    latencies.sort();
    (latencies, failed, elapsed)
}

async fn decisions_rest(
    http: &Http,
    server: &Server,
    bench: &DashboardBench,
    staff_key: &str,
    customer_key: &str,
) -> Result<Decisions, BenchError> {
    let customer = format!("Bearer {customer_key}");
    let staff = format!("Bearer {staff_key}");
    // Place the orders and wait for each to wait for staff.
    let base = server.base.clone();
    let placed = Arc::new(Mutex::new(Vec::new()));
    let (_, failed, _) = {
        let (http, base, customer, placed) =
            (http.clone(), base.clone(), customer.clone(), placed.clone());
        drive(
            (0..bench.orders).collect(),
            bench.concurrency,
            move |i: usize| {
                let (http, base, customer, placed) =
                    (http.clone(), base.clone(), customer.clone(), placed.clone());
                async move {
                    let body = json!({"items": [format!("bench item {i}")]});
                    let Ok(a) = call(
                        &http,
                        "POST",
                        &format!("{base}/order"),
                        &[
                            ("authorization", &customer),
                            ("content-type", "application/json"),
                        ],
                        body.to_string().into_bytes(),
                    )
                    .await
                    else {
                        return false;
                    };
                    match json_of(&a)["orderId"].as_str() {
                        Some(id) if a.status == 201 => {
                            placed.lock().await.push(id.to_owned());
                            true
                        }
                        _ => false,
                    }
                }
            },
        )
        .await
    };
    if failed > 0 {
        return Err(fail("placing orders", format!("{failed} failed")));
    }
    let ids = std::mem::take(&mut *placed.lock().await);
    let mut tasks = Vec::new();
    for id in ids {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let a = call(
                http,
                "GET",
                &format!("{base}/order/{id}"),
                &[("authorization", &staff)],
                vec![],
            )
            .await?;
            if let Some(task) = json_of(&a)["pending"]["taskId"].as_str() {
                tasks.push((id, task.to_owned()));
                break;
            }
            if Instant::now() > deadline {
                return Err(fail("an order", "never waited for staff"));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    let count = tasks.len();
    let (http, staff) = (http.clone(), staff.clone());
    let run = drive(tasks, bench.concurrency, move |(id, task)| {
        let (http, base, staff) = (http.clone(), base.clone(), staff.clone());
        async move {
            let body = json!({"executionId": id, "success": true, "taskId": task});
            call(
                &http,
                "POST",
                &format!("{base}/order/update"),
                &[
                    ("authorization", &staff),
                    ("content-type", "application/json"),
                ],
                body.to_string().into_bytes(),
            )
            .await
            .is_ok_and(|a| a.status == 200)
        }
    })
    .await;
    Ok(Decisions::new(count, bench.concurrency, run))
}

/// The same AWS calls a REST decision makes (read the waiting row, claim,
/// SendTaskSuccess, close the row, record history), made by the domain
/// directly against moto.
async fn decisions_moto(bench: &DashboardBench) -> Result<Decisions, BenchError> {
    let url = crate::moto::start()?;
    let config = crate::aws::local_config(&url).await;
    let sfn = aws_sdk_sfn::Client::new(&config);
    let ddb = aws_sdk_dynamodb::Client::new(&config);
    let suffix = std::process::id();
    let name = |t: &str| format!("bench-{suffix}-{t}");
    let tables = Tables {
        orders: name("orders"),
        actions: name("actions"),
        decisions: name("decisions"),
        documents: name("documents"),
        signature_requests: name("requests"),
        users: name("users"),
        sessions: name("sessions"),
        meta: name("meta"),
        api_keys: name("api-keys"),
        tasks: name("tasks"),
        views: name("views"),
    };
    tables
        .ensure(&ddb)
        .await
        .map_err(|e| fail("moto tables", e))?;
    let process_order_arn =
        countersign_domain::workflows::deploy_process_order(&sfn, &name("process-order"), &tables)
            .await
            .map_err(|e| fail("moto workflow", e))?;
    let sign_document_arn =
        countersign_domain::workflows::deploy_sign_document(&sfn, &name("sign-document"), &tables)
            .await
            .map_err(|e| fail("moto workflow", e))?;
    let domain = countersign_domain::services::Services::new(
        ddb,
        sfn,
        tables,
        process_order_arn,
        sign_document_arn,
    );
    let mut ids = Vec::new();
    for i in 0..bench.moto_orders {
        let id = domain
            .place_order("bench-customer", &[format!("bench item {i}")])
            .await
            .map_err(|e| fail("placing an order on moto", e))?;
        ids.push(id);
    }
    let mut tasks = Vec::new();
    for id in ids {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(p) = domain
                .pending_task(&id)
                .await
                .map_err(|e| fail("moto", e))?
            {
                tasks.push((id, p.task_id));
                break;
            }
            if Instant::now() > deadline {
                return Err(fail("a moto order", "never waited for staff"));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let count = tasks.len();
    let run = drive(tasks, bench.concurrency, move |(id, task)| {
        let domain = domain.clone();
        async move {
            domain
                .decide(&id, &task, Outcome::Advance, "bench-staff", None)
                .await
                .is_ok()
        }
    })
    .await;
    Ok(Decisions::new(count, bench.concurrency, run))
}

/// A signed-in staff browser's cookie.
async fn sign_in(http: &Http, server: &Server, password: &str) -> Result<String, BenchError> {
    let body = format!("name=bench-staff&password={}", password.replace(' ', "+"));
    let a = call(
        http,
        "POST",
        &format!("{}/api/auth/sign_in", server.base),
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("accept", "application/json"),
            ("origin", &server.base),
        ],
        body.into_bytes(),
    )
    .await?;
    a.headers
        .get_all(hyper::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|c| c.starts_with("countersign_session="))
        .map(str::to_owned)
        .ok_or_else(|| fail("signing in", String::from_utf8_lossy(&a.body).into_owned()))
}

/// Bytes a browser fetches before the inbox is interactive: the page, the
/// stylesheets it links, the JS glue and the wasm module.
async fn weight(http: &Http, server: &Server, password: &str) -> Result<(), BenchError> {
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
async fn inbox(
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
                let rows: Vec<WriteRequest> = (b * 25..((b + 1) * 25).min(total))
                    .filter_map(|i| {
                        let s = |v: String| AttributeValue::S(v);
                        let id = format!("00000000-0000-4000-8000-{i:012}");
                        let item = [
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
                        .collect();
                        let put = PutRequest::builder().set_item(Some(item)).build().ok()?;
                        Some(WriteRequest::builder().put_request(put).build())
                    })
                    .collect();
                let mut pending = Some(std::collections::HashMap::from([(table.clone(), rows)]));
                while let Some(items) = pending.take().filter(|m| !m.is_empty()) {
                    match ddb
                        .batch_write_item()
                        .set_request_items(Some(items))
                        .send()
                        .await
                    {
                        Ok(out) => pending = out.unprocessed_items().cloned(),
                        Err(_) => return false,
                    }
                }
                true
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
