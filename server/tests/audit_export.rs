//! The audit export: every decision that took effect, oldest first, across
//! months, filtered by kind, decider and dates, each row naming a receipt
//! that verifies; on the embedded services and on moto (the domain), then
//! over HTTP as staff download it (CSV and JSON Lines), and after an
//! upgrade from a version that did not file decisions by month.

#[path = "support/backends.rs"]
pub mod backends;
#[path = "support/domain.rs"]
mod domain;
#[path = "support/web.rs"]
mod web;

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use countersign_domain::DomainError;
use countersign_domain::audit::{Filter, Row};
use countersign_domain::outcome::Outcome;
use countersign_domain::receipts::{PublicKey, to_file, verify};
use countersign_domain::services::Services;
use countersign_domain::tables::Tables;
use countersign_domain::users::{Role, User};
use domain::{both, waiting_on};
use web::Server;

const PASSWORD: &str = "a-long-enough-password";

fn person(name: &str, roles: &[Role]) -> User {
    User {
        name: name.into(),
        roles: roles.to_vec(),
        groups: Vec::new(),
        created_at: "2026-01-01T00:00:00.000Z".into(),
    }
}

async fn all_rows(s: &Services, filter: Filter) -> Result<Vec<Row>, DomainError> {
    let staff = person("auditor", &[Role::Staff]);
    let mut export = countersign_domain::access::audit_export(s, &staff, filter).await?;
    let mut rows = Vec::new();
    while let Some(page) = export.next_page().await? {
        assert!(!page.is_empty(), "a page is never empty");
        rows.extend(page);
    }
    Ok(rows)
}

fn filter(
    kind: Option<&str>,
    decider: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> Filter {
    Filter::parse(kind, decider, from, to).expect("a valid filter")
}

#[tokio::test]
async fn the_export_holds_each_decision_that_took_effect_oldest_first_across_months() {
    for (b, s) in both().await {
        let name = &b.name;
        let before = s.audit().prepare().await.expect("prepared");
        let first_order = s
            .orders()
            .place("carol", &["Lamp".to_owned()])
            .await
            .expect("placed");
        let pending = waiting_on(&s, &first_order, "PENDING").await;
        s.decisions()
            .decide(
                &first_order,
                &pending.task_id,
                Outcome::Advance,
                "sam",
                Some("=HYPERLINK(\"x\")"),
            )
            .await
            .expect("advanced");
        // A second click on the same task is refused and adds no row.
        assert!(matches!(
            s.decisions()
                .decide(
                    &first_order,
                    &pending.task_id,
                    Outcome::Advance,
                    "erin",
                    None
                )
                .await,
            Err(DomainError::AlreadyDecided { .. })
        ));
        // The next month (and more): the export runs across partitions.
        s.clock.advance(Duration::from_secs(40 * 24 * 3600));
        let processing = waiting_on(&s, &first_order, "PROCESSING").await;
        s.decisions()
            .decide(
                &first_order,
                &processing.task_id,
                Outcome::Reject {
                    reason: "out of stock".into(),
                    error: countersign_domain::outcome::REJECTED.into(),
                },
                "erin",
                None,
            )
            .await
            .expect("rejected");
        let second_order = s
            .orders()
            .place("dave", &["Hat".to_owned()])
            .await
            .expect("placed");
        let other = waiting_on(&s, &second_order, "PENDING").await;
        s.decisions()
            .decide(&second_order, &other.task_id, Outcome::Advance, "sam", None)
            .await
            .expect("advanced");

        let rows = all_rows(&s, Filter::default()).await.expect("exported");
        let tasks: Vec<&str> = rows.iter().map(|r| r.task.as_str()).collect();
        assert_eq!(
            tasks,
            [
                pending.task_id.as_str(),
                processing.task_id.as_str(),
                other.task_id.as_str()
            ],
            "{name}: oldest first, each once"
        );
        assert!(rows.windows(2).all(|w| w[0].at <= w[1].at), "{name}");
        assert_ne!(rows[0].at[..7], rows[2].at[..7], "{name}: two months");
        assert_eq!(
            before,
            rows[0].at[..7],
            "{name}: the history starts this month"
        );
        assert!(rows.iter().all(|r| r.kind == "process-order"), "{name}");
        assert_eq!(rows[0].subject, first_order);
        assert_eq!(rows[0].subject_kind, "order");
        assert_eq!(rows[0].comment.as_deref(), Some("=HYPERLINK(\"x\")"));
        assert_eq!(
            (
                rows[1].action.as_str(),
                rows[1].outcome.as_str(),
                rows[1].by.as_str()
            ),
            ("reject", "failure", "erin"),
            "{name}"
        );
        assert_eq!(rows[1].reason.as_deref(), Some("out of stock"));

        // Each row's receipt is the decision's, and it verifies.
        let key = s.receipts().public_key().await.expect("key");
        let key: PublicKey =
            serde_json::from_value(serde_json::to_value(key).expect("json")).expect("a key");
        for row in &rows {
            let signed = countersign_domain::access::receipt(
                &s,
                &person("auditor", &[Role::Staff]),
                &row.receipt,
            )
            .await
            .expect("a receipt");
            let receipt = verify(to_file(&signed).as_bytes(), &key, &[]).expect("it verifies");
            assert_eq!(
                (receipt.decision.by.as_str(), receipt.decision.at.as_str()),
                (row.by.as_str(), row.at.as_str()),
                "{name}"
            );
        }

        // Filters.
        let by_erin = all_rows(&s, filter(None, Some("erin"), None, None))
            .await
            .expect("export");
        assert_eq!(by_erin.len(), 1, "{name}");
        assert_eq!(by_erin[0].task, processing.task_id);
        let signatures = all_rows(&s, filter(Some("sign-document"), None, None, None))
            .await
            .expect("export");
        assert!(signatures.is_empty(), "{name}");
        let orders = all_rows(&s, filter(Some("process-order"), Some("sam"), None, None))
            .await
            .expect("export");
        assert_eq!(orders.len(), 2, "{name}");
        let later = all_rows(&s, filter(None, None, Some(&rows[1].at), None))
            .await
            .expect("export");
        assert_eq!(later.len(), 2, "{name}: from a moment on, inclusive");
        let earlier = all_rows(&s, filter(None, None, None, Some(&rows[0].at)))
            .await
            .expect("export");
        assert_eq!(earlier.len(), 1, "{name}: up to a moment, inclusive");
        let none = all_rows(
            &s,
            filter(None, None, Some("2001-01-01"), Some("2001-01-31")),
        )
        .await
        .expect("export");
        assert!(none.is_empty(), "{name}");

        // Only staff export.
        for who in [
            person("carol", &[Role::Customer]),
            person("bob", &[Role::Signer]),
        ] {
            assert!(matches!(
                countersign_domain::access::audit_export(&s, &who, Filter::default()).await,
                Err(DomainError::Forbidden)
            ));
        }
    }
}

/// Decisions made through the server's REST API by `staff`, one per order.
async fn decided_orders(server: &Server, count: usize) -> Vec<String> {
    let (accounts, embedded) = server.accounts().await;
    let (_, key) = accounts
        .create_key("sam", countersign_domain::api_keys::KeyKind::Bearer)
        .await
        .expect("a key");
    if let Some(e) = embedded {
        e.stop().await;
    }
    let api = web::Api::new(server.addr, Some(&key));
    let mut orders = Vec::new();
    for i in 0..count {
        let r = api
            .post(
                "/order",
                &serde_json::json!({"items": [format!("Item {i}")], "customer": "carol"}),
            )
            .await;
        assert!(r.status < 300, "{}", r.body);
        let id = r.json()["orderId"].as_str().expect("an id").to_owned();
        let mut done = false;
        for _ in 0..400 {
            let r = api
                .post(
                    "/order/update",
                    &serde_json::json!({"executionId": id, "success": true, "comment": format!("-{i}")}),
                )
                .await;
            if r.status == 200 {
                done = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert!(done, "order {id} was never decided");
        orders.push(id);
    }
    orders
}

#[tokio::test]
async fn staff_download_csv_and_json_lines_and_an_upgrade_files_older_decisions() {
    let server = Server::start().await;
    server.add_user("sam", &[Role::Staff], PASSWORD).await;
    server.add_user("carol", &[Role::Customer], PASSWORD).await;
    let orders = decided_orders(&server, 3).await;
    let mut sam = server.signed_in("sam", PASSWORD).await;
    let mut carol = server.signed_in("carol", PASSWORD).await;

    let r = sam.get("/audit/export?format=jsonl").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.header("content-type")
            .is_some_and(|t| t.starts_with("application/jsonl"))
    );
    assert!(
        r.header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment;") && d.contains(".jsonl"))
    );
    let lines: Vec<serde_json::Value> = r
        .body
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let subjects: Vec<&str> = lines.iter().filter_map(|l| l["subject"].as_str()).collect();
    assert_eq!(subjects, orders, "{}", r.body);
    assert!(
        lines
            .iter()
            .all(|l| l["by"] == "sam" && l["kind"] == "process-order")
    );
    assert_eq!(lines[1]["comment"], "-1", "JSON Lines keep values exactly");
    let receipt = lines[0]["receipt"].as_str().expect("a receipt id");
    let r = sam.get(&format!("/receipts/{receipt}?format=json")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["receipt"]["subject"]["id"], orders[0]);

    let r = sam.get("/audit/export?format=csv&decider=sam").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.header("content-type")
            .is_some_and(|t| t.starts_with("text/csv"))
    );
    let mut csv_lines = r.body.lines();
    assert_eq!(csv_lines.next(), Some(Row::COLUMNS.join(",").as_str()));
    let rows: Vec<&str> = csv_lines.collect();
    assert_eq!(rows.len(), 3, "{}", r.body);
    assert!(
        rows[1].contains(",'-1,"),
        "a formula-like cell is defused: {}",
        rows[1]
    );

    // A filter that matches nothing is an empty file, not an error.
    let r = sam.get("/audit/export?format=jsonl&decider=nobody").await;
    assert_eq!((r.status, r.body.as_str()), (200, ""));
    // Bad input: a clear 400 page each, nothing exported.
    for bad in [
        "/audit/export?format=xml",
        "/audit/export?from=yesterday",
        "/audit/export?from=2026-02-02&to=2026-02-01",
    ] {
        let r = sam.get(bad).await;
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
    // Not staff, not signed in: refused.
    let r = carol.get("/audit/export").await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = server.anonymous().get("/audit/export").await;
    assert_eq!(r.status, 401, "{}", r.body);
    // The page: a plain GET form, staff only.
    let r = sam.get("/audit").await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains(r#"action="/audit/export""#), "{}", r.body);
    assert!(r.body.contains("process-order"), "{}", r.body);

    // An upgrade: the data as a version before the audit index left it
    // (no month on any decision, no note of the first month), with one
    // decision made two months earlier. The restarted server files them.
    let data = server.stop().await;
    {
        let embedded = countersign_server::embedded::EmbeddedServices::start_dynamodb(&data)
            .expect("dynamodb");
        let sdk = countersign_server::aws::in_process_config(embedded.in_process_client()).await;
        let ddb = aws_sdk_dynamodb::Client::new(&sdk);
        let tables = Tables::default();
        let scanned = ddb
            .scan()
            .table_name(&tables.decisions)
            .send()
            .await
            .expect("scan");
        let mut oldest = None;
        for item in scanned.items() {
            let Some(AttributeValue::S(task)) = item.get("taskId") else {
                continue;
            };
            let Some(AttributeValue::S(subject)) = item.get("subject") else {
                continue;
            };
            let mut update = ddb
                .update_item()
                .table_name(&tables.decisions)
                .key("taskId", AttributeValue::S(task.clone()))
                .update_expression("REMOVE auditMonth, taskKind");
            if *subject == orders[0] {
                oldest = Some(task.clone());
                update = ddb
                    .update_item()
                    .table_name(&tables.decisions)
                    .key("taskId", AttributeValue::S(task.clone()))
                    .update_expression("REMOVE auditMonth, taskKind SET #at = :at")
                    .expression_attribute_names("#at", "at")
                    .expression_attribute_values(
                        ":at",
                        AttributeValue::S("2020-03-15T09:00:00.000Z".into()),
                    );
            }
            update.send().await.expect("made old");
        }
        assert!(oldest.is_some());
        ddb.delete_item()
            .table_name(&tables.meta)
            .key("key", AttributeValue::S("audit-since".into()))
            .send()
            .await
            .expect("forgot the first month");
        embedded.stop().await;
    }
    let server = Server::start_with(|config| config.data_dir = data).await;
    let mut sam = server.signed_in("sam", PASSWORD).await;
    let r = sam.get("/audit/export?format=jsonl").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let lines: Vec<serde_json::Value> = r
        .body
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let subjects: Vec<&str> = lines.iter().filter_map(|l| l["subject"].as_str()).collect();
    assert_eq!(
        subjects, orders,
        "every older decision is filed: {}",
        r.body
    );
    assert_eq!(lines[0]["at"], "2020-03-15T09:00:00.000Z");
    assert!(
        lines.iter().all(|l| l["kind"] == "process-order"),
        "{}",
        r.body
    );
    let r = sam
        .get("/audit/export?format=jsonl&kind=process-order&to=2020-12-31")
        .await;
    assert_eq!(r.body.lines().count(), 1, "{}", r.body);
    server.stop().await;
}
