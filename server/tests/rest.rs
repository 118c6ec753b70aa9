//! The REST API through the real binary, as its users drive it: `countersign
//! serve` in a child process, users and keys made with `countersign users`
//! and `countersign api-keys` beside the running server, and plain HTTP
//! calls with JSON bodies.
//!
//! The order article's call sequence runs twice: on the embedded services
//! and in AWS mode against moto.

#[path = "support/backends.rs"]
mod backends;
#[path = "support/serve.rs"]
mod serve;
#[path = "support/web.rs"]
mod web;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use serve::{Instance, assert_error, wait_for};
use web::{Api, Response};

#[derive(PartialEq)]
enum DropsCause {
    Yes,
    No,
}

/// The sequence of the order article, then what must be refused around it.
async fn article_sequence(instance: &Instance, drops_failure_cause: DropsCause) {
    instance.add_user("sam", &["staff"]);
    instance.add_user("kim", &["staff"]);
    instance.add_user("carol", &["customer"]);
    instance.add_user("dave", &["customer"]);
    let sam = instance.api(&instance.key("sam", "bearer"));
    let kim = instance.api(&instance.key("kim", "bearer"));
    let carol = instance.api(&instance.key("carol", "bearer"));
    let dave = instance.api(&instance.key("dave", "bearer"));

    // POST /order → the id; the workflow starts PENDING.
    let created = carol
        .post(
            "/order",
            &json!({"items": ["Really nice hat", "Cool jeans"]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let created = created.json();
    let order_id = created["orderId"].as_str().expect("orderId").to_owned();
    let execution_id = created["executionId"]
        .as_str()
        .expect("executionId")
        .to_owned();
    assert!(execution_id.ends_with(&order_id), "{execution_id}");
    let order = wait_for(&carol, &format!("/order/{order_id}"), |o| {
        o["pending"].is_object()
    })
    .await;
    assert_eq!(order["status"], "PENDING");
    assert_eq!(order["items"], json!(["Really nice hat", "Cool jeans"]));
    let first_task = order["pending"]["taskId"]
        .as_str()
        .expect("task")
        .to_owned();

    // A customer may not decide; another customer may not even look.
    let refused = carol
        .post(
            "/order/update",
            &json!({"executionId": execution_id, "success": true}),
        )
        .await;
    assert_error(&refused, 403, "forbidden");
    let hidden = dave.get(&format!("/order/{order_id}")).await;
    assert_error(&hidden, 404, "not_found");

    // POST /order/update twice, as the article's staff do: PROCESSING, SENT.
    let first = sam
        .post(
            "/order/update",
            &json!({"executionId": execution_id, "success": true}),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.json()["step"], "PENDING");
    assert_eq!(first.json()["taskId"], first_task.as_str());
    let second = sam
        .post(
            "/order/update",
            &json!({"executionId": order_id, "success": true}),
        )
        .await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.json()["step"], "PROCESSING");

    // GET /order/{id} shows SENT and how it got there.
    let order = wait_for(&carol, &format!("/order/{order_id}"), |o| {
        o["status"] == "SENT"
    })
    .await;
    let statuses: Vec<&str> = order["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|h| h["status"].as_str())
        .collect();
    assert_eq!(statuses, ["PENDING", "PROCESSING", "SENT"]);
    let deciders: Vec<&str> = order["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|h| h["decision"] == "advance")
        .filter_map(|h| h["by"].as_str())
        .collect();
    // Exactly on every backend: decisions live in the ledger, so moto's
    // non-atomic list_append (the workflow's own status lines) cannot lose
    // one.
    assert_eq!(deciders, ["sam", "sam"]);
    assert!(order["pending"].is_null());

    // A retry of the first update, naming its step, is told who decided;
    // with nothing waiting any more, an update says so.
    let retry = kim
        .post(
            "/order/update",
            &json!({"executionId": order_id, "success": true, "taskId": first_task}),
        )
        .await;
    assert_error(&retry, 409, "already_decided");
    assert!(
        retry.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("sam"))
    );
    let late = kim
        .post(
            "/order/update",
            &json!({"executionId": order_id, "success": true}),
        )
        .await;
    assert_error(&late, 409, "not_waiting");

    // The failure path: SendTaskFailure with the caller's error and cause
    // takes the workflow to its Catch, and the order to ERROR.
    let created = carol.post("/order", &json!({"items": ["Umbrella"]})).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let failing = created.json()["orderId"].as_str().expect("id").to_owned();
    wait_for(&carol, &format!("/order/{failing}"), |o| {
        o["pending"].is_object()
    })
    .await;
    let failed = sam
        .post(
            "/order/update",
            &json!({"executionId": failing, "success": false, "error": "OutOfStock", "cause": "no umbrellas left"}),
        )
        .await;
    assert_eq!(failed.status, 200, "{}", failed.body);
    assert_eq!(failed.json()["decision"], "reject");
    let order = wait_for(&carol, &format!("/order/{failing}"), |o| {
        o["status"] == "ERROR"
    })
    .await;
    assert_eq!(order["error"], "OutOfStock");
    // Our history keeps the caller's error and cause on every backend;
    // moto drops SendTaskFailure's cause on its way into the workflow, so
    // the workflow's own record of it is checked where it is kept.
    let rejection = order["history"]
        .as_array()
        .expect("history")
        .iter()
        .find(|h| h["decision"] == "reject")
        .cloned()
        .expect("the rejection is in the history");
    assert_eq!(
        (&rejection["by"], &rejection["error"], &rejection["cause"]),
        (
            &json!("sam"),
            &json!("OutOfStock"),
            &json!("no umbrellas left")
        )
    );
    if drops_failure_cause == DropsCause::No {
        assert_eq!(order["cause"], "no umbrellas left");
    }

    // Two staff deciding the same step at once: exactly one wins.
    let created = carol.post("/order", &json!({"items": ["Scarf"]})).await;
    let raced = created.json()["orderId"].as_str().expect("id").to_owned();
    let order = wait_for(&carol, &format!("/order/{raced}"), |o| {
        o["pending"].is_object()
    })
    .await;
    let task = order["pending"]["taskId"]
        .as_str()
        .expect("task")
        .to_owned();
    let body = json!({"executionId": raced, "success": true, "taskId": task});
    let (a, b) = tokio::join!(
        sam.post("/order/update", &body),
        kim.post("/order/update", &body)
    );
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{} / {}", a.body, b.body);
    let order = wait_for(&carol, &format!("/order/{raced}"), |o| {
        o["status"] == "PROCESSING"
    })
    .await;
    let decisions = order["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|h| h["decision"].is_string())
        .count();
    // Exactly one on every backend: decisions are kept in the ledger, not
    // appended to the order row beside the workflow's own writes (moto's
    // updates are not atomic, and such an append once lost a line there).
    assert_eq!(decisions, 1, "{order}");

    // Keys: none, malformed, unknown, and revoked while the server runs.
    assert_error(
        &instance
            .anonymous()
            .get(&format!("/order/{order_id}"))
            .await,
        401,
        "unauthorized",
    );
    let forged = instance.api("csk_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_error(
        &forged.get(&format!("/order/{order_id}")).await,
        401,
        "unauthorized",
    );
    let listed = instance.admin(&["api-keys", "list"], "");
    let dave_key = listed
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("dave"))
        .and_then(|l| l.split_whitespace().next())
        .expect("dave's key is listed")
        .to_owned();
    assert!(
        !listed.contains(dave.key.as_deref().expect("key")),
        "a listing shows a secret"
    );
    instance.admin(&["api-keys", "revoke", &dave_key], "");
    assert_error(
        &dave.get(&format!("/order/{order_id}")).await,
        401,
        "unauthorized",
    );
}

#[tokio::test]
async fn the_article_sequence_on_the_embedded_services() {
    article_sequence(&Instance::embedded().await, DropsCause::No).await;
}

#[tokio::test]
async fn the_article_sequence_in_aws_mode_against_moto() {
    article_sequence(&Instance::moto().await, DropsCause::Yes).await;
}

/// One staff key, many identical or mixed calls at once for the same step,
/// as a client's retry storm sends them: one decision takes effect, every
/// other call is told "already decided", and the next step is untouched.
async fn retry_storms(instance: &Instance) {
    instance.add_user("sam", &["staff"]);
    instance.add_user("carol", &["customer"]);
    let sam = instance.api(&instance.key("sam", "bearer"));
    let carol = instance.api(&instance.key("carol", "bearer"));
    let place = || async {
        let created = carol.post("/order", &json!({"items": ["Scarf"]})).await;
        let id = created.json()["orderId"].as_str().expect("id").to_owned();
        let order = wait_for(&carol, &format!("/order/{id}"), |o| {
            o["pending"].is_object()
        })
        .await;
        let task = order["pending"]["taskId"]
            .as_str()
            .expect("task")
            .to_owned();
        (id, task)
    };
    let decisions_of = |order: &Value| {
        order["history"]
            .as_array()
            .expect("history")
            .iter()
            .filter(|h| h["decision"].is_string())
            .map(|h| h["decision"].as_str().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
    };

    // 20 at once with the task id, half advancing, half rejecting.
    let (mixed, task) = place().await;
    let calls = (0..20).map(|i| {
        let body = if i % 2 == 0 {
            json!({"executionId": mixed, "success": true, "taskId": task})
        } else {
            json!({"executionId": mixed, "success": false, "taskId": task, "error": "OutOfStock", "cause": "none left"})
        };
        let sam = &sam;
        async move { sam.post("/order/update", &body).await }
    });
    let answers = futures_util::future::join_all(calls).await;
    let won: Vec<&Response> = answers.iter().filter(|r| r.status == 200).collect();
    assert_eq!(
        won.len(),
        1,
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for r in answers.iter().filter(|r| r.status != 200) {
        assert_error(r, 409, "already_decided");
    }
    let decision = won[0].json()["decision"]
        .as_str()
        .expect("decision")
        .to_owned();
    let expected = if decision == "advance" {
        "PROCESSING"
    } else {
        "ERROR"
    };
    let order = wait_for(&carol, &format!("/order/{mixed}"), |o| {
        o["status"] == expected
    })
    .await;
    assert_eq!(decisions_of(&order), [decision]);

    // 50 identical calls without a task id, all arrived while PENDING
    // waited: that step is decided once; the next one is left alone.
    let (storm, _) = place().await;
    let body = json!({"executionId": storm, "success": true});
    let answers = sam
        .posts_arrived_together("/order/update", &vec![body.clone(); 50])
        .await;
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    statuses.sort_unstable();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        49,
        "{statuses:?}"
    );
    let order = wait_for(&carol, &format!("/order/{storm}"), |o| {
        o["pending"]["step"] == "PROCESSING"
    })
    .await;
    assert_eq!(order["status"], "PROCESSING");
    assert_eq!(decisions_of(&order), ["advance"]);
    // One after another still advances.
    let next = sam.post("/order/update", &body).await;
    assert_eq!(next.status, 200, "{}", next.body);
    assert_eq!(next.json()["status"], "SENT");

    // 20 at once without a task id, half advancing, half rejecting.
    let (mixed, _) = place().await;
    let bodies: Vec<Value> = (0..20)
        .map(|i| {
            if i % 2 == 0 {
                json!({"executionId": mixed, "success": true})
            } else {
                json!({"executionId": mixed, "success": false, "error": "OutOfStock", "cause": "none left"})
            }
        })
        .collect();
    let answers = sam.posts_arrived_together("/order/update", &bodies).await;
    let won: Vec<&Response> = answers.iter().filter(|r| r.status == 200).collect();
    assert_eq!(
        won.len(),
        1,
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for r in answers.iter().filter(|r| r.status != 200) {
        assert_error(r, 409, "already_decided");
    }
    let decision = won[0].json()["decision"]
        .as_str()
        .expect("decision")
        .to_owned();
    let order = wait_for(&carol, &format!("/order/{mixed}"), |o| {
        o["status"]
            == if decision == "advance" {
                "PROCESSING"
            } else {
                "ERROR"
            }
    })
    .await;
    assert_eq!(decisions_of(&order), [decision]);
}

/// `Idempotency-Key`: a retried call gets the first answer again and
/// changes nothing; the key with another request is refused; keys are
/// each caller's own.
async fn idempotency_keys(instance: &Instance) {
    instance.add_user("lee", &["staff"]);
    instance.add_user("erin", &["customer"]);
    instance.add_user("fay", &["customer"]);
    let lee = instance.api(&instance.key("lee", "bearer"));
    let erin = instance.api(&instance.key("erin", "bearer"));
    let fay = instance.api(&instance.key("fay", "bearer"));
    let with_key = |api: &Api, path: &str, body: &Value, key: &str| {
        let (api, path, body, key) = (api.clone(), path.to_owned(), body.clone(), key.to_owned());
        async move {
            api.raw(
                "POST",
                &path,
                body.to_string().into_bytes(),
                &[
                    ("content-type", "application/json"),
                    ("idempotency-key", &key),
                ],
            )
            .await
        }
    };

    let order = json!({"items": ["Umbrella"]});
    let first = with_key(&erin, "/order", &order, "erin-order-1").await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert_eq!(first.header("idempotent-replayed"), None);
    let again = with_key(&erin, "/order", &order, "erin-order-1").await;
    assert_eq!(
        (again.status, again.body.as_str()),
        (201, first.body.as_str())
    );
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    let other = with_key(
        &erin,
        "/order",
        &json!({"items": ["Boots"]}),
        "erin-order-1",
    )
    .await;
    assert_error(&other, 422, "idempotency_key_reused");
    let bad = with_key(&erin, "/order", &order, "has space").await;
    assert_error(&bad, 400, "invalid");
    // Another caller's key of the same name is another key.
    let fays = with_key(&fay, "/order", &order, "erin-order-1").await;
    assert_eq!(fays.status, 201, "{}", fays.body);
    assert_ne!(fays.json()["orderId"], first.json()["orderId"]);

    // A decision retried with its key is not a second decision.
    let id = first.json()["orderId"].as_str().expect("id").to_owned();
    wait_for(&erin, &format!("/order/{id}"), |o| o["pending"].is_object()).await;
    let advance = json!({"executionId": id, "success": true});
    let calls = (0..10).map(|_| with_key(&lee, "/order/update", &advance, "lee-advance-1"));
    let answers = futures_util::future::join_all(calls).await;
    let decided: Vec<&Response> = answers
        .iter()
        .filter(|r| r.status == 200 && r.header("idempotent-replayed").is_none())
        .collect();
    assert_eq!(
        decided.len(),
        1,
        "{:?}",
        answers
            .iter()
            .map(|r| (r.status, r.header("idempotent-replayed")))
            .collect::<Vec<_>>()
    );
    for r in &answers {
        match r.status {
            200 => assert_eq!(r.body, decided[0].body),
            _ => assert_error(r, 409, "in_progress"),
        }
    }
    let replay = with_key(&lee, "/order/update", &advance, "lee-advance-1").await;
    assert_eq!(
        (replay.status, replay.body.as_str()),
        (200, decided[0].body.as_str())
    );
    let order = wait_for(&erin, &format!("/order/{id}"), |o| {
        o["pending"]["step"] == "PROCESSING"
    })
    .await;
    assert_eq!(
        order["status"], "PROCESSING",
        "the retry did not decide the next step"
    );
}

/// Where a crash test's instance lives, so it can be started again on the
/// same data after `kill -9`.
enum Home {
    Embedded,
    Moto(String),
}

/// The flags that make a restarted server settle what the crash left at
/// once: a one-second lease, a pass every second.
const QUICK_RECONCILER: [&str; 4] = ["--decision-lease-secs", "1", "--reconcile-every-secs", "1"];

/// One staff client's work: decide each of `ids` step by step until every
/// order has ended, or the server stops answering. Some orders are
/// rejected at PROCESSING. Returns the decisions it was told took effect.
async fn decide_all(
    api: Api,
    ids: Vec<(usize, String)>,
    decided: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> Result<(), String> {
    let mut open = ids;
    while !open.is_empty() {
        let mut still = Vec::new();
        for (n, id) in open {
            let order = api
                .try_raw("GET", &format!("/order/{id}"), Vec::new(), &[])
                .await?;
            let order: Value = serde_json::from_str(&order.body).unwrap_or_default();
            if matches!(order["status"].as_str(), Some("SENT" | "ERROR")) {
                continue;
            }
            if let Some(task) = order["pending"]["taskId"].as_str() {
                let reject = n % 7 == 3 && order["pending"]["step"] == "PROCESSING";
                let body = if reject {
                    json!({"executionId": id, "taskId": task, "success": false, "error": "OutOfStock", "cause": "none left"})
                } else {
                    json!({"executionId": id, "taskId": task, "success": true})
                };
                let r = api
                    .try_raw(
                        "POST",
                        "/order/update",
                        body.to_string().into_bytes(),
                        &[("content-type", "application/json")],
                    )
                    .await?;
                if r.status == 200 {
                    decided.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
            still.push((n, id));
        }
        open = still;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

/// 16 clients decide `count` orders; the server is killed with SIGKILL
/// half way, started again on the same data, and the clients finish. Then
/// every order's decisions in its history must equal the task successes
/// and failures in its execution's history, and no order may show a
/// waiting step that no longer waits.
async fn kill_9_under_decision_load(home: Home, count: usize) {
    let mut instance = match &home {
        Home::Embedded => {
            let dir = std::env::temp_dir().join(backends::unique("countersign-crash"));
            Instance::embedded_on(backends::TempDir(dir), &QUICK_RECONCILER).await
        }
        Home::Moto(suffix) => Instance::moto_on(suffix, &QUICK_RECONCILER).await,
    };
    instance.add_user("ops", &["staff"]);
    instance.add_user("buyer", &["customer"]);
    let ops_key = instance.key("ops", "bearer");
    let buyer_key = instance.key("buyer", "bearer");
    let buyer = instance.api(&buyer_key);
    let clients = 16;
    let mut placed = Vec::new();
    for from in (0..count).step_by(clients) {
        let batch = (from..count.min(from + clients)).map(|i| {
            let buyer = buyer.clone();
            async move {
                let r = buyer
                    .post("/order", &json!({"items": [format!("item {i}")]}))
                    .await;
                assert_eq!(r.status, 201, "{}", r.body);
                r.json()["orderId"].as_str().expect("id").to_owned()
            }
        });
        placed.extend(futures_util::future::join_all(batch).await);
    }
    let ids: Vec<(usize, String)> = placed.into_iter().enumerate().collect();
    let share = |k: usize| {
        ids.iter()
            .filter(|(n, _)| n % clients == k)
            .cloned()
            .collect::<Vec<_>>()
    };

    // Load, and the kill in the middle of it.
    let decided = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let running: Vec<_> = (0..clients)
        .map(|k| {
            tokio::spawn(decide_all(
                instance.api(&ops_key),
                share(k),
                decided.clone(),
            ))
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while decided.load(std::sync::atomic::Ordering::Relaxed) < count {
        assert!(Instant::now() < deadline, "the load never got going");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    instance.child.kill().expect("kill -9");
    let before = decided.load(std::sync::atomic::Ordering::Relaxed);
    // Each client had at most one call open when the process died.
    let mut interrupted = 0;
    for client in running {
        if client.await.expect("join").is_err() {
            interrupted += 1;
        }
    }
    let _ = instance.child.wait();
    let data = instance._data.take();
    drop(instance);

    // Started again on the same data; the clients finish.
    let instance = match (&home, data) {
        (Home::Embedded, Some(data)) => Instance::embedded_on(data, &QUICK_RECONCILER).await,
        (Home::Moto(suffix), _) => Instance::moto_on(suffix, &QUICK_RECONCILER).await,
        (Home::Embedded, None) => unreachable!("an embedded instance has its data"),
    };
    let finishing: Vec<_> = (0..clients)
        .map(|k| {
            tokio::spawn(decide_all(
                instance.api(&ops_key),
                share(k),
                decided.clone(),
            ))
        })
        .collect();
    for client in finishing {
        client
            .await
            .expect("join")
            .expect("the restarted server answers");
    }

    // The reconciler leaves nothing unfinished.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let open = instance
            .ddb
            .query()
            .table_name(&instance.tables.decisions)
            .index_name(countersign_domain::tables::DECISIONS_OPEN)
            .key_condition_expression("#open = :open")
            .expression_attribute_names("#open", "open")
            .expression_attribute_values(
                ":open",
                aws_sdk_dynamodb::types::AttributeValue::S("open".into()),
            )
            .send()
            .await
            .expect("open decisions");
        if open.items().is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} decisions never settled",
            open.items().len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let ops = instance.api(&ops_key);
    let (mut decisions, mut lost, mut doubled, mut stuck) = (0, 0, 0, 0);
    for (_, id) in &ids {
        let order = ops.get(&format!("/order/{id}")).await.json();
        let in_history = order["history"]
            .as_array()
            .expect("history")
            .iter()
            .filter(|h| h["decision"].is_string())
            .count();
        if !order["pending"].is_null()
            || !matches!(order["status"].as_str(), Some("SENT" | "ERROR"))
        {
            stuck += 1;
        }
        let arn = order["executionId"].as_str().expect("execution");
        let events = instance
            .sfn
            .get_execution_history()
            .execution_arn(arn)
            .max_results(1000)
            .send()
            .await
            .expect("execution history");
        let in_workflow = events
            .events()
            .iter()
            .filter(|e| {
                let ours = e
                    .task_succeeded_event_details()
                    .and_then(|d| d.output())
                    .and_then(|o| serde_json::from_str::<Value>(o).ok())
                    .is_some_and(|o| o["taskId"].is_string());
                let failed = e
                    .task_failed_event_details()
                    .is_some_and(|d| d.error() == Some("OutOfStock"));
                ours || failed
            })
            .count();
        decisions += in_history;
        lost += in_workflow.saturating_sub(in_history);
        doubled += in_history.saturating_sub(in_workflow);
    }
    eprintln!(
        "kill -9 under load: orders={count} clients={clients} decided before the kill={before} calls cut by the kill={interrupted} decisions={decisions} lost={lost} doubled={doubled} stuck={stuck}"
    );
    assert_eq!((lost, doubled, stuck), (0, 0, 0));
    assert_eq!(decisions, 2 * count, "every order was decided to its end");
}

#[tokio::test]
async fn kill_9_under_decision_load_loses_and_doubles_nothing_on_the_embedded_services() {
    kill_9_under_decision_load(Home::Embedded, 200).await;
}

#[tokio::test]
async fn kill_9_under_decision_load_loses_and_doubles_nothing_in_aws_mode_against_moto() {
    kill_9_under_decision_load(Home::Moto(backends::unique("crash")), 60).await;
}

#[tokio::test]
async fn retry_storms_make_one_decision_on_the_embedded_services() {
    let instance = Instance::embedded().await;
    retry_storms(&instance).await;
    idempotency_keys(&instance).await;
}

#[tokio::test]
async fn retry_storms_make_one_decision_in_aws_mode_against_moto() {
    let instance = Instance::moto().await;
    retry_storms(&instance).await;
    idempotency_keys(&instance).await;
}

#[tokio::test]
async fn documents_are_signed_and_declined_over_rest() {
    let instance = Instance::embedded().await;
    instance.add_user("sam", &["staff"]);
    instance.add_user("bob", &["signer"]);
    instance.add_user("eve", &["signer"]);
    let sam = instance.api(&instance.key("sam", "bearer"));
    let bob = instance.api(&instance.key("bob", "bearer"));
    let eve = instance.api(&instance.key("eve", "bearer"));

    let mut ids = Vec::new();
    for _ in 0..2 {
        let created = sam
            .post(
                "/documents",
                &json!({"title": "Lease", "signers": [{"name": "alice", "automatic": true}, {"name": "bob"}], "timeoutSeconds": 3600}),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        let id = created.json()["documentId"]
            .as_str()
            .expect("id")
            .to_owned();
        wait_for(&bob, &format!("/documents/{id}"), |d| {
            d["requests"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["taskId"].is_string()))
        })
        .await;
        ids.push(id);
    }
    let mut tokens = std::collections::HashSet::new();
    instance.harvest(&mut tokens).await;
    // Eve is no signer of it: not found, and she cannot sign for bob.
    assert_error(
        &eve.get(&format!("/documents/{}", ids[0])).await,
        404,
        "not_found",
    );
    let body = json!({"documentId": ids[0], "success": true});
    let refused = eve.post("/documents/update", &body).await;
    assert_error(&refused, 404, "not_found");

    let signed = bob.post("/documents/update", &body).await;
    assert_eq!(signed.status, 200, "{}", signed.body);
    assert_eq!(signed.json()["decision"], "sign");
    assert_eq!(signed.json()["status"], "SIGNED");
    let again = bob.post("/documents/update", &body).await;
    assert_error(&again, 409, "already_decided");

    let declined = bob
        .post(
            "/documents/update",
            &json!({"executionId": ids[1], "success": false, "cause": "wrong address"}),
        )
        .await;
    assert_eq!(declined.status, 200, "{}", declined.body);
    let document = wait_for(&sam, &format!("/documents/{}", ids[1]), |d| {
        d["status"] == "DECLINED"
    })
    .await;
    assert_eq!(document["requests"][0]["decidedBy"], "bob");
    assert_no_token_leaked(&tokens);
}

#[tokio::test]
async fn a_signer_signs_through_the_requests_webhook() {
    use countersign_domain::api_keys::webhook_signature;
    let instance = Instance::embedded().await;
    instance.add_user("sam", &["staff"]);
    instance.add_user("bob", &["signer"]);
    let sam = instance.api(&instance.key("sam", "bearer"));
    let bob = instance.api(&instance.key("bob", "bearer"));
    let secret = instance.key("bob", "webhook");
    let key_id = secret.split('_').nth(1).expect("key id").to_owned();
    let created = sam
        .post(
            "/documents",
            &json!({"title": "Lease", "signers": [{"name": "bob"}], "timeoutSeconds": 3600}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["documentId"]
        .as_str()
        .expect("id")
        .to_owned();
    let document = wait_for(&bob, &format!("/documents/{id}"), |d| {
        d["requests"][0]["hookPath"].is_string()
    })
    .await;
    let hook = document["requests"][0]["hookPath"]
        .as_str()
        .expect("hook")
        .to_owned();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let body = br#"{"status":"SUCCESS"}"#.to_vec();
    let header = format!(
        "t={now},k={key_id},v1={}",
        webhook_signature(&secret, now, "POST", &hook, &body)
    );
    let done = instance
        .anonymous()
        .raw(
            "POST",
            &hook,
            body,
            &[
                ("content-type", "application/json"),
                ("countersign-signature", &header),
            ],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.json()["by"], "bob");
    let signed = wait_for(&bob, &format!("/documents/{id}"), |d| {
        d["status"] == "SIGNED"
    })
    .await;
    assert_eq!(signed["requests"][0]["status"], "SIGNED");
}

#[tokio::test]
async fn webhooks_must_be_signed_recent_and_new() {
    use countersign_domain::api_keys::webhook_signature;
    let instance = Instance::embedded().await;
    instance.add_user("carol", &["customer"]);
    instance.add_user("shipper", &["staff"]);
    let carol = instance.api(&instance.key("carol", "bearer"));
    let secret = instance.key("shipper", "webhook");
    let key_id = secret.split('_').nth(1).expect("key id").to_owned();
    // A bearer key is no webhook secret, and the other way round.
    assert_error(
        &instance.api(&secret).get("/order/x").await,
        401,
        "unauthorized",
    );

    let created = carol.post("/order", &json!({"items": ["Boots"]})).await;
    let order_id = created.json()["orderId"].as_str().expect("id").to_owned();
    let order = wait_for(&carol, &format!("/order/{order_id}"), |o| {
        o["pending"].is_object()
    })
    .await;
    let hook = order["pending"]["hookPath"]
        .as_str()
        .expect("hook")
        .to_owned();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let body = br#"{"status":"SUCCESS"}"#.to_vec();
    let signed_for = |path: &str, t: u64, key: &str, body: &[u8]| {
        format!(
            "t={t},k={key_id},v1={}",
            webhook_signature(key, t, "POST", path, body)
        )
    };
    let signed = |t: u64, key: &str, body: &[u8]| signed_for(&hook, t, key, body);
    let anyone = instance.anonymous();
    let call = |header: String, body: Vec<u8>| {
        let anyone = anyone.clone();
        let hook = hook.clone();
        async move {
            anyone
                .raw(
                    "POST",
                    &hook,
                    body,
                    &[
                        ("content-type", "application/json"),
                        ("countersign-signature", &header),
                    ],
                )
                .await
        }
    };

    // Unsigned, signed with another secret, over another body, too old, too
    // far ahead: all refused, and the order has not moved.
    assert_error(
        &call(String::new(), body.clone()).await,
        401,
        "bad_signature",
    );
    let wrong_secret = signed(now, "csw_0123456789ab_not-the-secret", &body);
    assert_error(
        &call(wrong_secret, body.clone()).await,
        401,
        "bad_signature",
    );
    let other_body = signed(now, &secret, br#"{"status":"FAILURE"}"#);
    assert_error(&call(other_body, body.clone()).await, 401, "bad_signature");
    // A minute beyond the window each way: the server's clock may have
    // ticked past `now` by the time it checks, so a one-second margin would
    // flake (it did in CI).
    let outside = countersign_domain::api_keys::WEBHOOK_WINDOW_SECS + 60;
    assert_error(
        &call(signed(now - outside, &secret, &body), body.clone()).await,
        401,
        "bad_signature",
    );
    assert_error(
        &call(signed(now + outside, &secret, &body), body.clone()).await,
        401,
        "bad_signature",
    );
    let order = carol.get(&format!("/order/{order_id}")).await.json();
    assert_eq!(order["status"], "PENDING");

    // Signed and recent: the step is decided, by the secret's user.
    let good = signed(now, &secret, &body);
    let done = call(good.clone(), body.clone()).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.json()["by"], "shipper");
    assert_eq!(done.json()["status"], "PROCESSING");
    // The same call again is a replay; a fresh signature for the same step
    // is told who decided it.
    assert_error(&call(good, body.clone()).await, 409, "replayed");
    let fresh = call(signed(now + 1, &secret, &body), body.clone()).await;
    assert_error(&fresh, 409, "already_decided");

    // A failure through the next step's hook: ERROR with its cause.
    let order = wait_for(&carol, &format!("/order/{order_id}"), |o| {
        o["pending"].is_object()
    })
    .await;
    let next_hook = order["pending"]["hookPath"]
        .as_str()
        .expect("hook")
        .to_owned();
    let failure = br#"{"status":"FAILURE","error":"CarrierLost","cause":"parcel lost"}"#.to_vec();
    // The signature names the task: one made for this hook does not
    // work at another's.
    let for_next = signed_for(&next_hook, now, &secret, &failure);
    let misdirected = anyone
        .raw(
            "POST",
            &hook,
            failure.clone(),
            &[("countersign-signature", &for_next)],
        )
        .await;
    assert_error(&misdirected, 401, "bad_signature");
    let failed = anyone
        .raw(
            "POST",
            &next_hook,
            failure.clone(),
            &[("countersign-signature", &for_next)],
        )
        .await;
    assert_eq!(failed.status, 200, "{}", failed.body);
    let order = wait_for(&carol, &format!("/order/{order_id}"), |o| {
        o["status"] == "ERROR"
    })
    .await;
    assert_eq!(order["error"], "CarrierLost");
    assert_eq!(order["cause"], "parcel lost");

    // Revoked: refused.
    instance.admin(&["api-keys", "revoke", &key_id], "");
    let body = br#"{"status":"SUCCESS"}"#.to_vec();
    let revoked = anyone
        .raw(
            "POST",
            &next_hook,
            body.clone(),
            &[(
                "countersign-signature",
                &signed_for(&next_hook, now + 2, &secret, &body),
            )],
        )
        .await;
    assert_error(&revoked, 401, "bad_signature");
}

#[tokio::test]
async fn bad_input_gets_a_json_4xx_and_changes_nothing() {
    let instance = Instance::embedded().await;
    instance.add_user("pat", &["staff", "customer", "signer"]);
    let pat = instance.api(&instance.key("pat", "bearer"));
    let created = pat.post("/order", &json!({"items": ["Lamp"]})).await;
    let order_id = created.json()["orderId"].as_str().expect("id").to_owned();
    wait_for(&pat, &format!("/order/{order_id}"), |o| {
        o["pending"].is_object()
    })
    .await;

    let json_type = [("content-type", "application/json")];
    // (method, path, body, headers, status, error code)
    type Case<'a> = (
        &'a str,
        &'a str,
        Vec<u8>,
        Vec<(&'a str, &'a str)>,
        u16,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "POST",
            "/order",
            b"{\"items\": []}".to_vec(),
            json_type.to_vec(),
            400,
            "invalid",
        ),
        (
            "POST",
            "/order",
            b"{\"items\": [\"  \"]}".to_vec(),
            json_type.to_vec(),
            400,
            "invalid",
        ),
        (
            "POST",
            "/order",
            b"{\"items\": \"hat\"}".to_vec(),
            json_type.to_vec(),
            400,
            "invalid",
        ),
        (
            "POST",
            "/order",
            b"{}".to_vec(),
            json_type.to_vec(),
            400,
            "invalid",
        ),
        (
            "POST",
            "/order",
            b"{\"items\": [".to_vec(),
            json_type.to_vec(),
            400,
            "invalid",
        ),
        (
            "POST",
            "/order",
            b"items=hat".to_vec(),
            vec![("content-type", "text/plain")],
            415,
            "unsupported_media_type",
        ),
        (
            "POST",
            "/order",
            vec![b'x'; 70_000],
            json_type.to_vec(),
            413,
            "payload_too_large",
        ),
        (
            "POST",
            "/order",
            format!("{{\"items\": [{}]}}", vec!["\"x\""; 101].join(",")).into_bytes(),
            json_type.to_vec(),
            400,
            "invalid",
        ),
        (
            "POST",
            "/order",
            format!("{{\"items\": [\"{}\"]}}", "x".repeat(201)).into_bytes(),
            json_type.to_vec(),
            400,
            "invalid",
        ),
        ("GET", "/order/not-an-id", vec![], vec![], 404, "not_found"),
        (
            "GET",
            "/order/00000000-0000-0000-0000-000000000000",
            vec![],
            vec![],
            404,
            "not_found",
        ),
        (
            "GET",
            "/order/arn:aws:states:us-east-1:1:execution:elsewhere:00000000-0000-0000-0000-000000000000",
            vec![],
            vec![],
            404,
            "not_found",
        ),
        (
            "POST",
            "/order/update",
            b"{\"success\": true}".to_vec(),
            json_type.to_vec(),
            400,
            "invalid",
        ),
        (
            "POST",
            "/order/update",
            format!("{{\"executionId\": \"{order_id}\"}}").into_bytes(),
            json_type.to_vec(),
            400,
            "invalid",
        ),
        (
            "POST",
            "/order/update",
            format!("{{\"executionId\": \"{order_id}\", \"success\": false}}").into_bytes(),
            json_type.to_vec(),
            400,
            "invalid",
        ),
        (
            "POST",
            "/order/update",
            format!(
                "{{\"executionId\": \"{order_id}\", \"success\": false, \"error\": \"{}\"}}",
                "E".repeat(257)
            )
            .into_bytes(),
            json_type.to_vec(),
            400,
            "invalid",
        ),
        (
            "POST",
            "/order/update",
            b"{\"executionId\": \"\", \"success\": true}".to_vec(),
            json_type.to_vec(),
            404,
            "not_found",
        ),
        (
            "POST",
            "/order/update",
            format!("{{\"executionId\": \"{order_id}\", \"success\": true, \"taskId\": \"nope\"}}")
                .into_bytes(),
            json_type.to_vec(),
            404,
            "not_found",
        ),
        (
            "POST",
            "/order/update",
            format!("{{\"executionId\": \"{order_id}\", \"success\": true, \"taskId\": \"\"}}")
                .into_bytes(),
            json_type.to_vec(),
            404,
            "not_found",
        ),
        (
            "POST",
            "/documents",
            b"{\"title\": \"T\", \"signers\": [], \"timeoutSeconds\": 60}".to_vec(),
            json_type.to_vec(),
            400,
            "invalid",
        ),
        (
            "POST",
            "/documents",
            b"{\"title\": \"T\", \"signers\": [{\"name\": \"bob\"}], \"timeoutSeconds\": 0}"
                .to_vec(),
            json_type.to_vec(),
            400,
            "invalid",
        ),
        (
            "POST",
            "/documents",
            b"{\"title\": \"T\", \"signers\": [{\"name\": \"bob\"}], \"timeoutSeconds\": -1}"
                .to_vec(),
            json_type.to_vec(),
            400,
            "invalid",
        ),
        (
            "POST",
            "/documents/update",
            b"{\"success\": true}".to_vec(),
            json_type.to_vec(),
            400,
            "invalid",
        ),
        ("GET", "/documents/%00", vec![], vec![], 404, "not_found"),
        (
            "POST",
            "/hooks/tasks/o.x.y",
            b"{}".to_vec(),
            json_type.to_vec(),
            401,
            "bad_signature",
        ),
        (
            "DELETE",
            "/order",
            vec![],
            vec![],
            405,
            "method_not_allowed",
        ),
    ];
    for (method, path, body, headers, status, code) in cases {
        let r = pat.raw(method, path, body, &headers).await;
        assert_eq!(
            (r.status, r.json()["error"].as_str().map(str::to_owned)),
            (status, Some(code.to_owned())),
            "{method} {path}: {}",
            r.body
        );
        assert!(
            r.json()["message"].is_string(),
            "{method} {path}: {}",
            r.body
        );
    }
    // Nothing of the above moved the order: it still waits at its first
    // step.
    let order = pat.get(&format!("/order/{order_id}")).await.json();
    assert_eq!(order["status"], "PENDING");
    assert!(order["pending"].is_object());
    assert_eq!(order["history"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn the_openapi_document_names_every_route() {
    let instance = Instance::embedded().await;
    let r = instance.anonymous().get("/openapi.json").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let doc: Value = r.json();
    assert_eq!(doc["openapi"], "3.0.3");
    // Every route the router serves, from its one table.
    for (method, path) in countersign_server::api::routes() {
        if path == "/openapi.json" {
            continue;
        }
        let path = path.replace("{hook_id}", "{hookId}");
        let method = method.as_str().to_ascii_lowercase();
        let path = path.as_str();
        let method = method.as_str();
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
}

/// No response this binary received holds any of `tokens`.
fn assert_no_token_leaked(tokens: &std::collections::HashSet<String>) {
    assert!(!tokens.is_empty(), "no tokens were harvested to look for");
    let bodies = web::seen_bodies();
    for token in tokens {
        assert!(
            !bodies.iter().any(|b| b.contains(token.as_str())),
            "a task token reached a caller"
        );
    }
}

#[tokio::test]
async fn every_rest_route_admits_exactly_its_callers() {
    let instance = Instance::embedded().await;
    let people = [
        ("sam", "staff"),
        ("bob", "signer"),
        ("erin", "signer"),
        ("carol", "customer"),
        ("dave", "customer"),
    ];
    let mut callers: Vec<(&str, Api)> = vec![("anonymous", instance.anonymous())];
    for (name, role) in people {
        instance.add_user(name, &[role]);
        callers.push((name, instance.api(&instance.key(name, "bearer"))));
    }
    let caller = |name: &str| {
        callers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, api)| api.clone())
            .expect("a caller")
    };
    let (sam, bob, carol) = (caller("sam"), caller("bob"), caller("carol"));

    // Fresh things to act on.
    let new_order = || async {
        let created = carol.post("/order", &json!({"items": ["Lamp"]})).await;
        let id = created.json()["orderId"].as_str().expect("id").to_owned();
        wait_for(&carol, &format!("/order/{id}"), |o| {
            o["pending"].is_object()
        })
        .await;
        id
    };
    let new_document = || async {
        let created = sam
            .post(
                "/documents",
                &json!({"title": "NDA", "signers": [{"name": "bob"}], "timeoutSeconds": 3600}),
            )
            .await;
        let id = created.json()["documentId"]
            .as_str()
            .expect("id")
            .to_owned();
        wait_for(&bob, &format!("/documents/{id}"), |d| {
            d["requests"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["taskId"].is_string()))
        })
        .await;
        id
    };
    // Erin is finance: she may decide carol's expenses; bob may not see them.
    instance.admin(&["users", "groups", "erin", "--group", "finance"], "");
    let new_expense = || async {
        let started = carol
            .post(
                "/v1/kinds/expense-approval/start",
                &json!({"values": {"amount": "12", "currency": "EUR", "purpose": "lamp"}}),
            )
            .await;
        let id = started.json()["subjectId"].as_str().expect("id").to_owned();
        wait_for(&carol, &format!("/v1/tasks/{id}"), |t| {
            t["status"] == "OPEN"
        })
        .await;
        id
    };
    let erin = caller("erin");
    let claimed_expense = || async {
        let id = new_expense().await;
        let claimed = erin
            .post(&format!("/v1/tasks/{id}/claim"), &json!({}))
            .await;
        assert_eq!(claimed.status, 200, "{}", claimed.body);
        id
    };
    let carols_expense = new_expense().await;
    let carols_order = new_order().await;
    let bobs_document = new_document().await;
    // A file on bob's document, and a decision with a receipt.
    let attached = caller("sam")
        .upload(
            &format!("/v1/files/document/{bobs_document}"),
            &[("terms.txt", b"Pay in 30 days.\n")],
        )
        .await;
    assert_eq!(attached.status, 201, "{}", attached.body);
    let decided = caller("sam")
        .post(
            "/order/update",
            &json!({"executionId": new_order().await, "success": true}),
        )
        .await;
    assert_eq!(decided.status, 200, "{}", decided.body);
    let receipt_id = decided.json()["taskId"]
        .as_str()
        .expect("a task id")
        .to_owned();
    let hook = carol.get(&format!("/order/{carols_order}")).await.json()["pending"]["hookPath"]
        .as_str()
        .expect("hook")
        .to_owned();

    // (method, path as routed) → the status each caller gets.
    let everyone = |status: u16| -> Vec<(&'static str, u16)> {
        ["anonymous", "sam", "bob", "erin", "carol", "dave"]
            .into_iter()
            .map(|n| (n, status))
            .collect()
    };
    let signed_in = |status: u16| -> Vec<(&'static str, u16)> {
        let mut all = everyone(status);
        all[0].1 = 401;
        all
    };
    type Route<'a> = (&'a str, &'a str);
    let table: Vec<(Route, Vec<(&str, u16)>)> = vec![
        (("GET", "/openapi.json"), everyone(200)),
        (
            ("POST", "/order"),
            vec![
                ("anonymous", 401),
                ("sam", 201),
                ("bob", 403),
                ("erin", 403),
                ("carol", 201),
                ("dave", 201),
            ],
        ),
        (
            ("GET", "/order/{id}"),
            vec![
                ("anonymous", 401),
                ("sam", 200),
                ("bob", 403),
                ("erin", 403),
                ("carol", 200),
                ("dave", 404),
            ],
        ),
        (
            ("POST", "/order/update"),
            vec![
                ("anonymous", 401),
                ("sam", 200),
                ("bob", 403),
                ("erin", 403),
                ("carol", 403),
                // Another customer's order does not exist for them.
                ("dave", 404),
            ],
        ),
        (
            ("POST", "/documents"),
            vec![
                ("anonymous", 401),
                ("sam", 201),
                ("bob", 403),
                ("erin", 403),
                ("carol", 403),
                ("dave", 403),
            ],
        ),
        (
            ("GET", "/documents/{id}"),
            vec![
                ("anonymous", 401),
                ("sam", 200),
                ("bob", 200),
                ("erin", 404),
                ("carol", 403),
                ("dave", 403),
            ],
        ),
        (
            ("POST", "/documents/update"),
            vec![
                ("anonymous", 401),
                ("sam", 403),
                ("bob", 200),
                ("erin", 404),
                ("carol", 403),
                ("dave", 403),
            ],
        ),
        // A bearer key is no webhook signature, for anyone.
        (("POST", "/hooks/tasks/{hook_id}"), everyone(401)),
        (("GET", "/v1/kinds"), signed_in(200)),
        // Anyone signed in may ask for an expense.
        (("POST", "/v1/kinds/{kind}/start"), signed_in(201)),
        (("GET", "/v1/tasks"), signed_in(200)),
        (
            ("GET", "/v1/tasks/{id}"),
            vec![
                ("anonymous", 401),
                ("sam", 200),
                ("bob", 404),
                ("erin", 200),
                ("carol", 200),
                ("dave", 404),
            ],
        ),
        (
            ("POST", "/v1/tasks/{id}/answer"),
            vec![
                ("anonymous", 401),
                // Staff outside finance see it but may not decide it.
                ("sam", 403),
                ("bob", 404),
                ("erin", 200),
                // The requester: excluded.
                ("carol", 403),
                ("dave", 404),
            ],
        ),
        (
            ("POST", "/v1/tasks/{id}/claim"),
            vec![
                ("anonymous", 401),
                ("sam", 403),
                ("bob", 404),
                ("erin", 200),
                ("carol", 403),
                ("dave", 404),
            ],
        ),
        (
            ("POST", "/v1/tasks/{id}/unclaim"),
            vec![
                ("anonymous", 401),
                ("sam", 200),
                ("bob", 404),
                ("erin", 200),
                ("carol", 403),
                ("dave", 404),
            ],
        ),
        (("GET", "/v1/views"), signed_in(200)),
        (("POST", "/v1/views"), signed_in(201)),
        // Files: whoever may see the document; only staff attach.
        (
            ("GET", "/v1/files/{of}/{id}"),
            vec![
                ("anonymous", 401),
                ("sam", 200),
                ("bob", 200),
                ("erin", 404),
                ("carol", 403),
                ("dave", 403),
            ],
        ),
        (
            ("GET", "/v1/files/{of}/{id}/{name}"),
            vec![
                ("anonymous", 401),
                ("sam", 200),
                ("bob", 200),
                ("erin", 404),
                ("carol", 403),
                ("dave", 403),
            ],
        ),
        (
            ("POST", "/v1/files/{of}/{id}"),
            vec![
                ("anonymous", 401),
                ("sam", 201),
                ("bob", 403),
                ("erin", 404),
                ("carol", 403),
                ("dave", 403),
            ],
        ),
        // A receipt: staff and the order's customer (carol placed them).
        (
            ("GET", "/v1/receipts/{id}"),
            vec![
                ("anonymous", 401),
                ("sam", 200),
                ("bob", 404),
                ("erin", 404),
                ("carol", 200),
                ("dave", 404),
            ],
        ),
        // The decision history is for staff.
        (
            ("GET", "/v1/decisions/export"),
            vec![
                ("anonymous", 401),
                ("sam", 200),
                ("bob", 403),
                ("erin", 403),
                ("carol", 403),
                ("dave", 403),
            ],
        ),
        (
            ("POST", "/v1/views/{name}/delete"),
            vec![
                ("anonymous", 401),
                // Each deletes their own view of that name.
                ("sam", 200),
                ("bob", 200),
                ("erin", 200),
                ("carol", 200),
                ("dave", 200),
            ],
        ),
        (
            ("POST", "/v1/tasks/{id}/assign"),
            vec![
                ("anonymous", 401),
                ("sam", 200),
                ("bob", 404),
                // Erin holds none of these: she may not hand them on.
                ("erin", 403),
                ("carol", 403),
                ("dave", 404),
            ],
        ),
    ];

    // The table must name every route the router serves.
    let routed: BTreeSet<(String, String)> = countersign_server::api::routes()
        .into_iter()
        .map(|(method, path)| (method.to_string(), path.to_owned()))
        .collect();
    let covered: BTreeSet<(String, String)> = table
        .iter()
        .map(|((m, p), _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(routed, covered, "a REST route is missing from the table");

    let mut failures = Vec::new();
    for ((method, route), expected) in &table {
        for (who, want) in expected {
            let api = caller(who);
            let (path, body) = match *route {
                "/order" => ("/order".to_owned(), json!({"items": ["Lamp"]})),
                "/order/{id}" => (format!("/order/{carols_order}"), json!(null)),
                "/order/update" => (
                    "/order/update".to_owned(),
                    json!({"executionId": new_order().await, "success": true}),
                ),
                "/documents" => (
                    "/documents".to_owned(),
                    json!({"title": "NDA", "signers": [{"name": "bob"}], "timeoutSeconds": 3600}),
                ),
                "/documents/{id}" => (format!("/documents/{bobs_document}"), json!(null)),
                "/documents/update" => (
                    "/documents/update".to_owned(),
                    json!({"documentId": new_document().await, "success": true}),
                ),
                "/hooks/tasks/{hook_id}" => (hook.clone(), json!({"status": "SUCCESS"})),
                "/v1/kinds/{kind}/start" => (
                    "/v1/kinds/expense-approval/start".to_owned(),
                    json!({"values": {"amount": "3", "currency": "EUR", "purpose": "pens"}}),
                ),
                "/v1/tasks/{id}" => (format!("/v1/tasks/{carols_expense}"), json!(null)),
                "/v1/tasks/{id}/answer" => (
                    format!("/v1/tasks/{}/answer", new_expense().await),
                    json!({"action": "approve"}),
                ),
                "/v1/tasks/{id}/claim" => (
                    format!("/v1/tasks/{}/claim", new_expense().await),
                    json!({}),
                ),
                "/v1/tasks/{id}/unclaim" => (
                    format!("/v1/tasks/{}/unclaim", claimed_expense().await),
                    json!({}),
                ),
                "/v1/views" => (
                    "/v1/views".to_owned(),
                    json!({"name": "Open", "view": "open"}),
                ),
                "/v1/views/{name}/delete" => {
                    // A view of their own to delete, when they may save one.
                    if *who != "anonymous" {
                        api.post("/v1/views", &json!({"name": "Gone", "view": "open"}))
                            .await;
                    }
                    ("/v1/views/Gone/delete".to_owned(), json!({}))
                }
                "/v1/tasks/{id}/assign" => (
                    format!("/v1/tasks/{}/assign", new_expense().await),
                    json!({"to": "erin"}),
                ),
                "/v1/files/{of}/{id}" => {
                    (format!("/v1/files/document/{bobs_document}"), json!(null))
                }
                "/v1/files/{of}/{id}/{name}" => (
                    format!("/v1/files/document/{bobs_document}/terms.txt"),
                    json!(null),
                ),
                "/v1/receipts/{id}" => (format!("/v1/receipts/{receipt_id}"), json!(null)),
                other => (other.to_owned(), json!(null)),
            };
            let r = if *method == "GET" {
                api.get(&path).await
            } else if *route == "/v1/files/{of}/{id}" {
                api.upload(&path, &[("more.txt", b"More terms.\n")]).await
            } else {
                api.post(&path, &body).await
            };
            if r.status != *want {
                failures.push(format!(
                    "{method} {route} as {who}: {} (wanted {want}): {}",
                    r.status, r.body
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
