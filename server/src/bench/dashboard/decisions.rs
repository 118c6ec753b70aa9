//! Decisions per second and their latency: through the REST API on the
//! embedded services, and straight against moto for comparison.

use std::sync::Arc;
use std::time::{Duration, Instant};

use countersign_domain::outcome::Outcome;
use countersign_domain::tables::Tables;
use serde_json::json;
use tokio::sync::Mutex;

use super::client::{Http, Server, call, fail, json_of};
use super::{DashboardBench, ms};
use crate::bench::{BenchError, percentile};

pub(super) struct Decisions {
    pub(super) count: usize,
    pub(super) concurrency: usize,
    pub(super) per_second: f64,
    p50: Duration,
    p99: Duration,
    pub(super) failed: usize,
}

impl Decisions {
    pub(super) fn new(
        count: usize,
        concurrency: usize,
        run: (Vec<Duration>, usize, Duration),
    ) -> Self {
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

    pub(super) fn line(&self, what: &str) -> String {
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
pub(super) async fn drive<T, F, Fut>(
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

pub(super) async fn decisions_rest(
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
pub(super) async fn decisions_moto(bench: &DashboardBench) -> Result<Decisions, BenchError> {
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
        attachments: name("attachments"),
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
            .orders()
            .place("bench-customer", &[format!("bench item {i}")])
            .await
            .map_err(|e| fail("placing an order on moto", e))?;
        ids.push(id);
    }
    let mut tasks = Vec::new();
    for id in ids {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(p) = domain
                .orders()
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
                .decisions()
                .decide(&id, &task, Outcome::Advance, "bench-staff", None)
                .await
                .is_ok()
        }
    })
    .await;
    Ok(Decisions::new(count, bench.concurrency, run))
}
