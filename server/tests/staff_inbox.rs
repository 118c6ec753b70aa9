//! The staff inbox (orders and signature requests together: filters,
//! search, sorting, cursor paging), the change counter that drives live
//! updates, and execution events; against the embedded services AND moto.

#[path = "support/backends.rs"]
pub mod backends;
#[path = "support/domain.rs"]
mod domain;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use countersign_domain::DomainError;
use countersign_domain::inbox::{InboxItem, InboxQuery, Kind, Sort};
use countersign_domain::outcome::Outcome;
use countersign_domain::services::Services;
use countersign_domain::signatures::SignerSpec;
use domain::both;

fn query(kind: Kind, sort: Sort) -> InboxQuery {
    InboxQuery {
        kind,
        sort,
        limit: 100,
        ..InboxQuery::default()
    }
}

/// Every row of the inbox for `q`, read a page of `limit` at a time.
async fn all_pages(s: &Services, q: &InboxQuery, limit: usize) -> Vec<InboxItem> {
    let mut q = InboxQuery {
        limit,
        cursor: None,
        ..q.clone()
    };
    let mut out = Vec::new();
    for _ in 0..100 {
        let page = s.staff_inbox().page(&q).await.expect("inbox page");
        assert!(page.items.len() <= limit);
        out.extend(page.items);
        match page.next {
            Some(next) => q.cursor = Some(next),
            None => return out,
        }
    }
    panic!("the inbox never ended");
}

/// Waits until the inbox holds `n` rows for `q`.
async fn inbox_has(s: &Services, q: &InboxQuery, n: usize) -> Vec<InboxItem> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let items = all_pages(s, q, 100).await;
        if items.len() == n {
            return items;
        }
        assert!(
            Instant::now() < deadline,
            "the inbox never held {n} rows: {items:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn human(name: &str) -> SignerSpec {
    SignerSpec {
        name: name.into(),
        automatic: false,
    }
}

#[tokio::test]
async fn orders_and_signature_requests_share_one_inbox_filtered_sorted_and_paged() {
    for (b, s) in both().await {
        let before = s.live().changes().await.expect("counter");
        let mut orders = Vec::new();
        for (customer, item) in [("carol", "Hat"), ("dave", "Scarf"), ("carol", "Boots")] {
            orders.push(
                s.orders()
                    .place(customer, &[item.to_owned()])
                    .await
                    .expect("placed"),
            );
            // Distinct creation times, so "oldest first" has one answer.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let long = s
            .documents()
            .request("Lease renewal", &[human("bob")], 86_400)
            .await
            .expect("requested");
        let short = s
            .documents()
            .request("Supplier contract", &[human("bob"), human("erin")], 3_600)
            .await
            .expect("requested");
        let all = inbox_has(&s, &query(Kind::All, Sort::Age), 6).await;
        assert!(
            s.live().changes().await.expect("counter") >= before + 5,
            "{}: each placement and request bumps the change counter",
            b.name
        );

        // Oldest first, whatever the kind; the orders say what was ordered.
        let created: Vec<&str> = all.iter().map(|i| i.created_at.as_str()).collect();
        let mut sorted = created.clone();
        sorted.sort();
        assert_eq!(created, sorted, "{}", b.name);
        assert_eq!(all[0].kind, "order");
        assert_eq!(all[0].id, orders[0]);
        assert_eq!(all[0].what, "Hat");
        assert_eq!(all[0].who, "carol");
        assert_eq!(all[0].status, "PENDING");
        assert_eq!(all[0].deadline, None);
        let contract: Vec<&InboxItem> = all.iter().filter(|i| i.id == short).collect();
        assert_eq!(contract.len(), 2, "{}: one row per human signer", b.name);
        assert!(contract.iter().all(|i| i.what == "Supplier contract"
            && i.status.as_str() == "WAITING"
            && i.deadline.is_some()));

        // Paged two at a time: the same rows in the same order, each once.
        let paged = all_pages(&s, &query(Kind::All, Sort::Age), 2).await;
        assert_eq!(paged, all, "{}", b.name);

        // Kinds and statuses.
        let only_orders = all_pages(&s, &query(Kind::Orders, Sort::Age), 100).await;
        assert_eq!(only_orders.len(), 3);
        let only_signatures = all_pages(&s, &query(Kind::Signatures, Sort::Age), 100).await;
        assert_eq!(only_signatures.len(), 3);
        let waiting = InboxQuery {
            status: Some("waiting".into()),
            ..query(Kind::All, Sort::Age)
        };
        assert_eq!(all_pages(&s, &waiting, 100).await, only_signatures);

        // Search: customer, title, id prefix; any case.
        let carol = InboxQuery {
            search: Some("CAROL".into()),
            ..query(Kind::All, Sort::Age)
        };
        let found = all_pages(&s, &carol, 1).await;
        assert_eq!(
            found.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(),
            vec![orders[0].as_str(), orders[2].as_str()]
        );
        let lease = InboxQuery {
            search: Some("lease".into()),
            ..query(Kind::All, Sort::Age)
        };
        assert_eq!(all_pages(&s, &lease, 100).await[0].id, long);
        let by_id = InboxQuery {
            search: Some(orders[1][..8].to_owned()),
            ..query(Kind::All, Sort::Age)
        };
        assert_eq!(all_pages(&s, &by_id, 100).await[0].id, orders[1]);

        // By deadline: the sooner document first, then the later, then the
        // orders (no deadline) oldest first; paging agrees.
        let by_deadline = all_pages(&s, &query(Kind::All, Sort::Deadline), 100).await;
        let ids: Vec<&str> = by_deadline.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(
            ids,
            vec![
                short.as_str(),
                short.as_str(),
                long.as_str(),
                orders[0].as_str(),
                orders[1].as_str(),
                orders[2].as_str()
            ],
            "{}",
            b.name
        );
        assert_eq!(
            all_pages(&s, &query(Kind::All, Sort::Deadline), 4).await,
            by_deadline
        );

        // Decided rows leave; a request whose document ended (erin
        // declined, so bob's is moot) leaves too.
        let first = &all[0];
        s.decisions()
            .decide(&first.id, &first.task_id, Outcome::Advance, "sam", None)
            .await
            .expect("advanced");
        let erin = contract.iter().find(|i| i.who == "erin").expect("erin's");
        s.documents()
            .decide(&short, "erin", &erin.task_id, Outcome::reject("no"), "erin")
            .await
            .expect("declined");
        // The first order comes back at its next step (PROCESSING).
        let after = inbox_has(&s, &query(Kind::All, Sort::Age), 4).await;
        assert!(
            after.iter().all(|i| i.id != short),
            "{}: {after:#?}",
            b.name
        );
        assert!(
            after
                .iter()
                .any(|i| i.id == orders[0] && i.status.as_str() == "PROCESSING")
        );
        let bob_desk = s.documents().signer_desk("bob").await.expect("desk");
        assert_eq!(
            bob_desk
                .iter()
                .map(|r| r.document_id.as_str())
                .collect::<Vec<_>>(),
            vec![long.as_str()],
            "{}: an ended document leaves bob's desk too",
            b.name
        );
    }
}

#[tokio::test]
async fn bad_inbox_questions_are_refused_with_a_reason() {
    let b = backends::embedded().await;
    let s = domain::services(&b).await;
    let bad_cursor = InboxQuery {
        cursor: Some("not-a-cursor!".into()),
        ..query(Kind::All, Sort::Age)
    };
    assert!(matches!(
        s.staff_inbox().page(&bad_cursor).await,
        Err(DomainError::Invalid(m)) if m.contains("cursor")
    ));
    let bad_status = InboxQuery {
        status: Some("LOST".into()),
        ..query(Kind::All, Sort::Age)
    };
    assert!(matches!(
        s.staff_inbox().page(&bad_status).await,
        Err(DomainError::Invalid(m)) if m.contains("PENDING")
    ));
    assert!(Kind::parse("invoices").is_err());
    assert!(Sort::parse("price").is_err());
}

#[tokio::test]
async fn execution_events_page_and_never_carry_a_token() {
    for (b, s) in both().await {
        let order = s
            .orders()
            .place("carol", &["Lamp".to_owned()])
            .await
            .expect("placed");
        let arn = s.execution_arn(&order);
        // Wait for the first callback step, whose parameters hold a token.
        let deadline = Instant::now() + Duration::from_secs(20);
        while s
            .orders()
            .pending_task(&order)
            .await
            .expect("read")
            .is_none()
        {
            assert!(Instant::now() < deadline, "never waited");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let waiting = s
            .orders()
            .pending_task(&order)
            .await
            .expect("read")
            .expect("waits");
        let row = s
            .ddb
            .get_item()
            .table_name(&s.tables.tasks)
            .key(
                "taskId",
                aws_sdk_dynamodb::types::AttributeValue::S(waiting.task_id),
            )
            .send()
            .await
            .expect("row");
        let token = row
            .item()
            .and_then(|i| i.get("token"))
            .and_then(|v| v.as_s().ok())
            .expect("the waiting row holds its token")
            .clone();
        let mut ids = Vec::new();
        let mut kinds = Vec::new();
        let mut page = None;
        let mut pages = 0;
        loop {
            let got = s
                .live()
                .execution_events(&arn, 2, page.as_deref())
                .await
                .expect("events");
            // moto 5.2.5 ignores maxResults and answers every event at
            // once; the embedded engine pages as AWS does.
            if b.name != "moto" {
                assert!(
                    got.events.len() <= 2,
                    "{}: {} events",
                    b.name,
                    got.events.len()
                );
            }
            let text = serde_json::to_string(&got).expect("json");
            assert!(
                !text.contains(&token),
                "{}: an event carried the token",
                b.name
            );
            ids.extend(got.events.iter().map(|e| e.id));
            kinds.extend(got.events.into_iter().map(|e| (e.kind, e.state)));
            pages += 1;
            match got.next {
                Some(next) => page = Some(next),
                None => break,
            }
        }
        if b.name != "moto" {
            assert!(
                pages >= 2,
                "{}: a page of 2 cannot hold every event",
                b.name
            );
        }
        let distinct: HashSet<i64> = ids.iter().copied().collect();
        assert_eq!(distinct.len(), ids.len(), "{}: each event once", b.name);
        assert_eq!(ids.first(), Some(&1));
        assert_eq!(kinds[0].0, "ExecutionStarted");
        assert!(
            kinds
                .iter()
                .any(|(k, s)| k == "TaskStateEntered"
                    && s.as_deref() == Some("Wait for staff: PENDING")),
            "{}: {kinds:?}",
            b.name
        );
        assert!(matches!(
            s.live()
                .execution_events(&s.execution_arn("no-such-order"), 10, None)
                .await,
            Err(DomainError::NotFound)
        ));
    }
}

#[tokio::test]
async fn a_tasks_table_from_before_the_signer_index_gets_it_added() {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
        Projection, ProjectionType, ScalarAttributeType,
    };
    let b = backends::embedded().await;
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("attr")
    };
    let key = |n: &str, t| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .expect("key")
    };
    // The tasks table as an earlier version made it (one index of those
    // there are now).
    let tables = countersign_domain::tables::Tables {
        tasks: backends::unique("old-tasks"),
        ..countersign_domain::tables::Tables::default()
    };
    b.ddb
        .create_table()
        .table_name(&tables.tasks)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("taskId"))
        .attribute_definitions(attr("open"))
        .attribute_definitions(attr("createdAt"))
        .key_schema(key("taskId", KeyType::Hash))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(countersign_domain::tables::TASKS_OPEN)
                .key_schema(key("open", KeyType::Hash))
                .key_schema(key("createdAt", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .expect("index"),
        )
        .send()
        .await
        .expect("old table");
    tables.ensure(&b.ddb).await.expect("ensure");
    let described = b
        .ddb
        .describe_table()
        .table_name(&tables.tasks)
        .send()
        .await
        .expect("describe");
    let mut names: Vec<String> = described
        .table()
        .expect("table")
        .global_secondary_indexes()
        .iter()
        .filter_map(|i| i.index_name().map(str::to_owned))
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            countersign_domain::tables::INBOX_INDEX,
            countersign_domain::tables::TASKS_BY_ASSIGNEE,
            countersign_domain::tables::TASKS_BY_DEADLINE,
            countersign_domain::tables::TASKS_BY_SIGNER,
            countersign_domain::tables::TASKS_OPEN,
        ]
    );
}
