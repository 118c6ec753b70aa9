//! Orders as a kind of task, on the embedded services AND on moto: an
//! order's wait is a task like any other, decided from the task list as
//! from the order's own page. Orders placed by the version before orders
//! were a kind of task: their executions keep running the old
//! definition (`fixtures/process-order-before-tasks.asl.json`, the file as
//! that version shipped it), which writes each wait into the old actions
//! table. The reconciler carries those waits over into the tasks table, so
//! the order is listed, decided and finished like any other; and the
//! current definition writes the very task the carry-over does.

#[path = "support/backends.rs"]
pub mod backends;
#[path = "support/domain.rs"]
mod domain;

use aws_sdk_dynamodb::types::AttributeValue;
use countersign_domain::migrate::{Carried, order_task};
use countersign_domain::orders::OrderStatus;
use countersign_domain::outcome::Outcome;
use countersign_domain::services::Services;
use countersign_domain::tasks::decide::Answer;
use countersign_domain::users::{Role, User};
use countersign_domain::workflows::{deploy_named, substitute};
use domain::{both, status_becomes, waiting_on};

const BEFORE: &str = include_str!("fixtures/process-order-before-tasks.asl.json");

/// The rows in the old actions table.
async fn old_rows(s: &Services) -> Vec<std::collections::HashMap<String, AttributeValue>> {
    let out = s
        .ddb
        .scan()
        .table_name(&s.tables.actions)
        .consistent_read(true)
        .send()
        .await
        .expect("scan the old table");
    out.items().to_vec()
}

/// Starts an order on the old definition (deployed for it), as the
/// earlier version did.
async fn old_order(s: &Services, customer: &str) -> String {
    let machine = deploy_named(
        &s.sfn,
        &backends::unique("process-order-before"),
        &substitute(BEFORE, &s.tables),
    )
    .await
    .expect("deploy the old definition");
    let order = backends::unique("old-order");
    let input =
        serde_json::json!({"orderId": order, "customer": customer, "items": ["hat", "scarf"]});
    s.sfn
        .start_execution()
        .state_machine_arn(&machine)
        .name(&order)
        .input(input.to_string())
        .send()
        .await
        .expect("started on the old definition");
    order
}

/// Runs carry-over passes until one finds a wait to carry (the old
/// workflow writes its row a moment after it was resumed).
async fn carried_once(s: &Services) -> Carried {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let pass = s.migration().order_waits().await.expect("carry over");
        if pass.carried > 0 {
            return pass;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "nothing to carry over: {pass:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_order_waiting_the_old_way_is_carried_over_and_decided_to_the_end() {
    for (b, s) in both().await {
        let order = old_order(&s, "carol").await;
        let pass = carried_once(&s).await;
        assert_eq!(pass.carried, 1, "{}: {pass:?}", b.name);
        assert_eq!(
            old_rows(&s).await.len(),
            0,
            "{}: the old row is gone",
            b.name
        );
        // A second pass (another replica's, say) finds nothing to do.
        let again = s.migration().order_waits().await.expect("again");
        assert_eq!(again, Carried::default(), "{}", b.name);

        let first = waiting_on(&s, &order, "PENDING").await;
        assert_eq!(first.customer, "carol", "{}", b.name);
        let (inbox, _) = s.orders().inbox(100, None).await.expect("inbox");
        assert!(
            inbox.iter().any(|t| t.task_id == first.task_id),
            "{}: the carried wait is in the staff inbox",
            b.name
        );
        s.decisions()
            .decide(&order, &first.task_id, Outcome::Advance, "sam", None)
            .await
            .expect("advanced");
        // The old execution goes on with its own definition: its next wait
        // is written the old way, and carried over in turn.
        carried_once(&s).await;
        let second = waiting_on(&s, &order, "PROCESSING").await;
        assert_ne!(second.task_id, first.task_id, "{}", b.name);
        s.decisions()
            .decide(&order, &second.task_id, Outcome::Advance, "sam", None)
            .await
            .expect("sent");
        let done = status_becomes(&s, &order, "SENT").await;
        let decisions: Vec<_> = done
            .history
            .iter()
            .filter_map(|h| h.decision.as_deref())
            .collect();
        assert_eq!(decisions, ["advance", "advance"], "{}: {done:#?}", b.name);
        assert_eq!(old_rows(&s).await.len(), 0, "{}", b.name);
        // Deciding the first step again is refused, naming who decided it.
        let late = s
            .decisions()
            .decide(&order, &first.task_id, Outcome::Advance, "sam", None)
            .await;
        assert!(
            matches!(late, Err(countersign_domain::DomainError::AlreadyDecided { ref by, .. }) if by == "sam"),
            "{}: {late:?}",
            b.name
        );
    }
}

#[tokio::test]
async fn the_definition_writes_the_same_task_the_carry_over_does() {
    for (b, s) in both().await {
        let order = s
            .orders()
            .place("dora", &["lamp".to_owned()])
            .await
            .expect("placed");
        for (step, next) in [
            (OrderStatus::Pending, "PROCESSING"),
            (OrderStatus::Processing, "SENT"),
        ] {
            let waiting = waiting_on(&s, &order, step.as_str()).await;
            let row = s
                .ddb
                .get_item()
                .table_name(&s.tables.tasks)
                .key("taskId", AttributeValue::S(waiting.task_id.clone()))
                .consistent_read(true)
                .send()
                .await
                .expect("task row");
            let item = row.item().expect("the wait is a task row");
            let written: serde_json::Value = serde_json::from_str(
                item.get("task")
                    .and_then(|t| t.as_s().ok())
                    .expect("task attribute"),
            )
            .expect("task JSON");
            assert_eq!(
                written,
                order_task(&order, "dora", &["lamp".to_owned()], step),
                "{}: {step}",
                b.name
            );
            assert_eq!(
                item.get("inbox")
                    .and_then(|v| v.as_s().ok())
                    .map(String::as_str),
                Some("orders"),
                "{}",
                b.name
            );
            s.decisions()
                .decide(&order, &waiting.task_id, Outcome::Advance, "sam", None)
                .await
                .expect("advanced");
            status_becomes(&s, &order, next).await;
        }
    }
}

fn person(name: &str, roles: &[Role]) -> User {
    User {
        name: name.to_owned(),
        roles: roles.to_vec(),
        groups: Vec::new(),
        created_at: "2026-01-01T00:00:00.000Z".into(),
    }
}

#[tokio::test]
async fn an_order_decided_from_the_task_list_is_decided_once_and_in_its_history() {
    let sam = person("sam", &[Role::Staff]);
    let carol = person("carol", &[Role::Customer]);
    let dave = person("dave", &[Role::Customer]);
    for (b, s) in both().await {
        let order = s
            .orders()
            .place("carol", &["hat".to_owned()])
            .await
            .expect("placed");
        let waiting = waiting_on(&s, &order, "PENDING").await;
        // Staff see it in the one task list; its customer sees it as its
        // requester; another customer does not.
        let task = s
            .tasks()
            .get(&sam, &waiting.task_id)
            .await
            .expect("staff see it");
        assert_eq!(
            task.status,
            countersign_domain::tasks::contract::Status::Open
        );
        s.tasks()
            .get(&carol, &waiting.task_id)
            .await
            .expect("the customer sees her own");
        assert!(
            matches!(
                s.tasks().get(&dave, &waiting.task_id).await,
                Err(countersign_domain::DomainError::NotFound)
            ),
            "{}",
            b.name
        );
        // The customer may see it, not decide it.
        let refused = s
            .tasks()
            .answer(
                &carol,
                &waiting.task_id,
                Answer {
                    action: "advance".into(),
                    ..Answer::default()
                },
            )
            .await;
        assert!(
            matches!(refused, Err(countersign_domain::DomainError::Forbidden)),
            "{}: {refused:?}",
            b.name
        );
        let answered = s
            .tasks()
            .answer(
                &sam,
                &waiting.task_id,
                Answer {
                    action: "advance".into(),
                    reason: Some("packed".into()),
                    ..Answer::default()
                },
            )
            .await
            .expect("advanced from the task list");
        assert!(answered.resumed, "{}", b.name);
        // The order's own page and REST call are told who decided it.
        let late = s
            .decisions()
            .decide(&order, &waiting.task_id, Outcome::Advance, "sam", None)
            .await;
        assert!(
            matches!(late, Err(countersign_domain::DomainError::AlreadyDecided { ref by, .. }) if by == "sam"),
            "{}: {late:?}",
            b.name
        );
        let next = waiting_on(&s, &order, "PROCESSING").await;
        s.decisions()
            .decide(
                &order,
                &next.task_id,
                Outcome::reject("out of stock"),
                "sam",
                None,
            )
            .await
            .expect("rejected from the order's page");
        let done = status_becomes(&s, &order, "ERROR").await;
        let lines: Vec<_> = done
            .history
            .iter()
            .filter_map(|h| {
                Some((
                    h.decision.as_deref()?,
                    h.comment.as_deref(),
                    h.cause.as_deref(),
                ))
            })
            .collect();
        assert_eq!(
            lines,
            [
                ("advance", Some("packed"), None),
                ("reject", None, Some("out of stock"))
            ],
            "{}: {done:#?}",
            b.name
        );
        // moto drops SendTaskFailure's cause (the workflow's Catch sees
        // none); AWS hands it on, as the embedded engine does.
        if b.name != "moto" {
            assert_eq!(done.cause.as_deref(), Some("out of stock"), "{}", b.name);
        }
    }
}

/// The task list and the order's page deciding one step at the same
/// moment, as two people would from two screens: one decision wins, the
/// other screen is told who made it, and the history holds one line.
#[tokio::test]
async fn the_task_list_and_the_order_page_racing_decide_a_step_once() {
    let sam = person("sam", &[Role::Staff]);
    for (b, s) in both().await {
        let order = s
            .orders()
            .place("carol", &["hat".to_owned()])
            .await
            .expect("placed");
        let waiting = waiting_on(&s, &order, "PENDING").await;
        let mut calls = Vec::new();
        for i in 0..16 {
            let (s, sam, order, task) = (
                s.clone(),
                sam.clone(),
                order.clone(),
                waiting.task_id.clone(),
            );
            calls.push(tokio::spawn(async move {
                // Each side both advances and rejects, so which one won
                // shows in the outcome.
                let reject = i % 4 >= 2;
                if i % 2 == 0 {
                    let action = if reject { "reject" } else { "advance" };
                    let answer = Answer {
                        action: action.into(),
                        reason: Some(format!("list {i}")),
                        ..Answer::default()
                    };
                    s.tasks()
                        .answer(&sam, &task, answer)
                        .await
                        .map(|_| action.to_owned())
                } else {
                    let outcome = if reject {
                        Outcome::reject(format!("page {i}"))
                    } else {
                        Outcome::Advance
                    };
                    s.decisions()
                        .decide(&order, &task, outcome, "sam", Some(&format!("page {i}")))
                        .await
                        .map(|_| if reject { "reject" } else { "advance" }.to_owned())
                }
            }));
        }
        let mut won = Vec::new();
        for call in calls {
            match call.await.expect("join") {
                Ok(action) => won.push(action),
                Err(countersign_domain::DomainError::AlreadyDecided { by, .. }) => {
                    assert_eq!(by, "sam", "{}", b.name)
                }
                Err(other) => panic!("{}: unexpected {other:?}", b.name),
            }
        }
        assert_eq!(won.len(), 1, "{}: {won:?}", b.name);
        let expected = if won[0] == "advance" {
            "PROCESSING"
        } else {
            "ERROR"
        };
        let done = status_becomes(&s, &order, expected).await;
        let decisions: Vec<_> = done
            .history
            .iter()
            .filter_map(|h| h.decision.as_deref())
            .collect();
        assert_eq!(decisions, [won[0].as_str()], "{}: {done:#?}", b.name);
    }
}

/// A decision the earlier version had claimed on an old wait but not
/// finished (it was killed in between): the carry-over leaves that wait to
/// the ledger, so the step is decided once, by that claim; once it has
/// taken effect, the old row goes and the next wait is carried over.
#[tokio::test]
async fn an_old_wait_with_a_decision_in_flight_is_left_to_the_ledger() {
    for (b, s) in both().await {
        let order = old_order(&s, "carol").await;
        // The old version's wait, read before anything is carried over.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let row = loop {
            if let Some(row) = old_rows(&s).await.into_iter().next() {
                break row;
            }
            assert!(std::time::Instant::now() < deadline, "no old wait");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        let text = |k: &str| row.get(k).and_then(|v| v.as_s().ok()).cloned().expect(k);
        // The ledger row that version wrote as it claimed the step (the
        // ledger's format is unchanged), its lease run out.
        let claim = [
            ("taskId", text("taskId")),
            ("claimId", "claim-before-the-update".to_owned()),
            ("subject", order.clone()),
            ("execution", text("executionId")),
            ("step", "PENDING".to_owned()),
            ("actor", "sam".to_owned()),
            ("outcome", "advance".to_owned()),
            ("at", "2026-01-01T00:00:00.000Z".to_owned()),
            ("state", "CLAIMED".to_owned()),
            ("due", "2026-01-01T00:00:30.000Z".to_owned()),
            ("open", "open".to_owned()),
            ("kind", "order".to_owned()),
            ("token", text("taskToken")),
        ];
        let mut put = s.ddb.put_item().table_name(&s.tables.decisions);
        for (k, v) in claim {
            put = put.item(k, AttributeValue::S(v));
        }
        put.send().await.expect("the old claim");

        let pass = s.migration().order_waits().await.expect("carry over");
        assert_eq!(
            pass,
            Carried {
                left: 1,
                ..Carried::default()
            },
            "{}: the claimed wait is not carried over",
            b.name
        );
        assert!(
            s.orders()
                .pending_task(&order)
                .await
                .expect("read")
                .is_none(),
            "{}: nobody can decide it a second time",
            b.name
        );
        // The reconciler finishes the claim: the order moves on, the old
        // row of the decided step goes, the next wait is carried over.
        domain::reconcile_later(&s).await;
        let second = loop {
            s.reconciler().pass().await.expect("reconcile");
            if let Some(t) = s.orders().pending_task(&order).await.expect("read") {
                break t;
            }
            assert!(
                std::time::Instant::now() < deadline + std::time::Duration::from_secs(20),
                "{}: the next wait never came",
                b.name
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        assert_eq!(second.step, "PROCESSING", "{}", b.name);
        let now = s.orders().get(&order).await.expect("order");
        let decisions: Vec<_> = now
            .history
            .iter()
            .filter_map(|h| Some((h.by.as_str(), h.decision.as_deref()?)))
            .collect();
        assert_eq!(decisions, [("sam", "advance")], "{}: {now:#?}", b.name);
    }
}
