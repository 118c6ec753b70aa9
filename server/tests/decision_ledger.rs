//! The decision ledger under races and faults, on the embedded services
//! AND on moto: the same person deciding twice at once, retry storms
//! without a task id, an error injected at every step of a decision
//! (before and after the call was applied), and a crash whose task then
//! timed out. After the reconciler has run, the workflow, the ledger and
//! the history always agree: nothing lost, nothing doubled.

#[path = "support/backends.rs"]
pub mod backends;
#[path = "support/domain.rs"]
mod domain;
#[path = "support/faults.rs"]
mod faults;

use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use countersign_domain::DomainError;
use countersign_domain::outcome::Outcome;
use countersign_domain::services::Services;
use countersign_domain::signatures::SignerSpec;
use domain::{both, status_becomes, waiting_on};
use faults::{Fault, Faults, When};

/// The ledger row's state for a task, as stored.
async fn ledger_state(s: &Services, task_id: &str) -> Option<String> {
    let out = s
        .ddb
        .get_item()
        .table_name(&s.tables.decisions)
        .key("taskId", AttributeValue::S(task_id.into()))
        .consistent_read(true)
        .send()
        .await
        .expect("read ledger");
    out.item()
        .and_then(|i| i.get("state"))
        .and_then(|v| v.as_s().ok())
        .cloned()
}

/// Decisions in an order's history.
fn decisions_in(o: &countersign_domain::orders::Order) -> Vec<(String, String)> {
    o.history
        .iter()
        .filter_map(|h| Some((h.by.clone(), h.decision.clone()?)))
        .collect()
}

/// The premise of every claim in the ledger: of many conditional writes
/// racing for one item, exactly one wins. DynamoDB guarantees it; moto
/// alone does not (it checks and then writes with no lock, and lost this
/// race in CI), so `countersign_server::moto` runs moto with DynamoDB
/// requests one at a time, and this holds both backends to it.
#[tokio::test]
async fn of_eight_conditional_writes_racing_for_one_item_exactly_one_wins() {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    for b in [backends::embedded().await, backends::moto().await] {
        let table = backends::unique("race");
        b.ddb
            .create_table()
            .table_name(&table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("k")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("attribute"),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("k")
                    .key_type(KeyType::Hash)
                    .build()
                    .expect("key"),
            )
            .send()
            .await
            .expect("table");
        for round in 0..30 {
            let start = std::sync::Arc::new(tokio::sync::Barrier::new(8));
            let calls: Vec<_> = (0..8)
                .map(|i| {
                    let (ddb, table, start) = (b.ddb.clone(), table.clone(), start.clone());
                    tokio::spawn(async move {
                        start.wait().await;
                        ddb.update_item()
                            .table_name(table)
                            .key("k", AttributeValue::S(format!("item-{round}")))
                            .update_expression("SET winner = :me")
                            .condition_expression("attribute_not_exists(winner)")
                            .expression_attribute_values(":me", AttributeValue::N(i.to_string()))
                            .send()
                            .await
                    })
                })
                .collect();
            let mut wins = 0;
            for call in calls {
                match call.await.expect("join") {
                    Ok(_) => wins += 1,
                    Err(e) => assert_eq!(
                        e.as_service_error().and_then(|e| e.meta().code()),
                        Some("ConditionalCheckFailedException"),
                        "{}: {e:?}",
                        b.name
                    ),
                }
            }
            assert_eq!(wins, 1, "{} round {round}: {wins} writes won", b.name);
        }
    }
}

#[tokio::test]
async fn the_same_person_deciding_one_step_twenty_times_at_once_makes_one_decision() {
    for (b, s) in both().await {
        let order = s
            .orders()
            .place("carol", &["hat".to_owned()])
            .await
            .expect("placed");
        let task = waiting_on(&s, &order, "PENDING").await;
        let mut calls = Vec::new();
        for i in 0..20 {
            let (s, order, task_id) = (s.clone(), order.clone(), task.task_id.clone());
            let outcome = if i % 2 == 0 {
                Outcome::Advance
            } else {
                Outcome::reject("out of stock")
            };
            calls.push(tokio::spawn(async move {
                s.decisions()
                    .decide(&order, &task_id, outcome, "sam", None)
                    .await
            }));
        }
        let mut won = Vec::new();
        let mut unavailable = 0;
        for call in calls {
            match call.await.expect("join") {
                Ok(d) => won.push(d),
                Err(DomainError::AlreadyDecided { by, .. }) => assert_eq!(by, "sam"),
                // A backend slow under load (moto on a busy machine) may
                // leave a call without a clear answer: it is told to try
                // again, and the reconciler finishes whatever it started.
                Err(DomainError::Unavailable) => unavailable += 1,
                Err(other) => panic!("{}: unexpected {other:?}", b.name),
            }
        }
        assert!(
            won.len() == 1 || (won.is_empty() && unavailable > 0),
            "{}: exactly one call takes effect ({} did, {unavailable} unclear)",
            b.name,
            won.len()
        );
        if unavailable > 0 {
            domain::reconcile_later(&s).await;
        }
        let o = domain::settled(&s, &order).await;
        let decisions = decisions_in(&o);
        assert_eq!(
            decisions.len(),
            1,
            "{}: history holds the one decision the workflow received: {decisions:?}",
            b.name
        );
        assert_eq!(decisions[0].0, "sam");
        if let Some(winner) = won.first() {
            assert_eq!(decisions[0].1, winner.outcome, "{}", b.name);
        }
        let expected = if decisions[0].1 == "advance" {
            "PROCESSING"
        } else {
            "ERROR"
        };
        status_becomes(&s, &order, expected).await;
        assert_eq!(
            ledger_state(&s, &task.task_id).await.as_deref(),
            Some("RECORDED")
        );
    }
}

#[tokio::test]
async fn fifty_identical_calls_without_a_task_decide_only_the_step_waiting_when_they_arrived() {
    for (b, s) in both().await {
        let order = s
            .orders()
            .place("carol", &["hat".to_owned()])
            .await
            .expect("placed");
        waiting_on(&s, &order, "PENDING").await;
        let arrived = s.clock.stamp();
        let mut calls = Vec::new();
        for _ in 0..50 {
            let (s, order, arrived) = (s.clone(), order.clone(), arrived.clone());
            calls.push(tokio::spawn(async move {
                s.decisions()
                    .decide_waiting(
                        &order,
                        Outcome::Advance,
                        "sam",
                        None,
                        &arrived,
                        Duration::from_secs(2),
                    )
                    .await
            }));
        }
        let (mut won, mut told) = (0, 0);
        for call in calls {
            match call.await.expect("join") {
                Ok(d) => {
                    assert_eq!(d.step, "PENDING", "{}", b.name);
                    won += 1
                }
                Err(DomainError::AlreadyDecided { by, .. }) if by == "sam" => told += 1,
                Err(other) => panic!("{}: unexpected {other:?}", b.name),
            }
        }
        assert_eq!((won, told), (1, 49), "{}", b.name);
        // The next step waits, undecided: the storm did not reach it.
        let next = waiting_on(&s, &order, "PROCESSING").await;
        assert_eq!(ledger_state(&s, &next.task_id).await, None, "{}", b.name);

        // Calls one after another still advance step by step.
        let d = s
            .decisions()
            .decide_waiting(
                &order,
                Outcome::Advance,
                "sam",
                None,
                &s.clock.stamp(),
                Duration::from_secs(2),
            )
            .await
            .expect("second step");
        assert_eq!(d.step, "PROCESSING");
        let o = status_becomes(&s, &order, "SENT").await;
        assert_eq!(decisions_in(&o).len(), 2, "{}", b.name);
        let late = s
            .decisions()
            .decide_waiting(
                &order,
                Outcome::Advance,
                "sam",
                None,
                &s.clock.stamp(),
                Duration::from_millis(200),
            )
            .await;
        assert!(
            matches!(late, Err(DomainError::NotWaiting { ref status }) if status == "SENT"),
            "{}: {late:?}",
            b.name
        );
    }
}

/// Where a fault strikes, and whether the caller hears of the decision.
struct Case {
    name: &'static str,
    faults: Vec<Fault>,
    /// What the person is told at once.
    told: fn(&Result<countersign_domain::outcome::Decided, DomainError>) -> bool,
    /// Whether the decision takes effect in the end.
    takes_effect: bool,
}

fn ok(r: &Result<countersign_domain::outcome::Decided, DomainError>) -> bool {
    r.is_ok()
}
fn unavailable(r: &Result<countersign_domain::outcome::Decided, DomainError>) -> bool {
    matches!(r, Err(DomainError::Unavailable))
}

fn cases(s: &Services) -> Vec<Case> {
    let decisions = format!("\"{}\"", s.tables.decisions);
    let tasks = format!("\"{}\"", s.tables.tasks);
    let meta = format!("\"{}\"", s.tables.meta);
    let put_claim = |when| Fault::once("PutItem", &[&decisions], when);
    let send = |when| Fault::once("SendTaskSuccess", &[], when);
    let history = |when| Fault::once("GetExecutionHistory", &[], when);
    let close = |when| Fault::once("UpdateItem", &[&tasks], when);
    let to_recorded = |when| Fault::once("UpdateItem", &[&decisions, "\"RECORDED\""], when);
    let to_sent = |when| Fault::once("UpdateItem", &[&decisions, "\"SENT\""], when);
    let bump = |when| Fault::once("UpdateItem", &[&meta], when);
    vec![
        Case {
            name: "claim fails before it is written",
            faults: vec![put_claim(When::Before)],
            told: unavailable,
            takes_effect: false,
        },
        Case {
            name: "claim written, its answer lost",
            faults: vec![put_claim(When::After)],
            told: ok,
            takes_effect: true,
        },
        Case {
            name: "send fails before it reaches Step Functions",
            faults: vec![send(When::Before)],
            told: ok,
            takes_effect: true,
        },
        Case {
            name: "send applied, its answer lost",
            faults: vec![send(When::After)],
            told: ok,
            takes_effect: true,
        },
        Case {
            name: "send not applied and history unreadable (a crash before the send)",
            faults: vec![send(When::Before), history(When::Before)],
            told: unavailable,
            takes_effect: true,
        },
        Case {
            name: "send applied, answer lost and history unreadable",
            faults: vec![send(When::After), history(When::Before)],
            told: unavailable,
            takes_effect: true,
        },
        Case {
            name: "ledger write after a successful send fails",
            faults: vec![to_sent(When::Before)],
            told: ok,
            takes_effect: true,
        },
        Case {
            name: "close fails",
            faults: vec![close(When::Before)],
            told: ok,
            takes_effect: true,
        },
        Case {
            name: "close applied, its answer lost",
            faults: vec![close(When::After)],
            told: ok,
            takes_effect: true,
        },
        Case {
            name: "the last ledger write fails",
            faults: vec![to_recorded(When::Before)],
            told: ok,
            takes_effect: true,
        },
        Case {
            name: "the last ledger write applied, its answer lost",
            faults: vec![to_recorded(When::After)],
            told: ok,
            takes_effect: true,
        },
        Case {
            name: "change counter fails",
            faults: vec![bump(When::Before)],
            told: ok,
            takes_effect: true,
        },
    ]
}

#[tokio::test]
async fn a_fault_at_any_step_of_a_decision_ends_with_workflow_ledger_and_history_agreeing() {
    for (b, plain) in both().await {
        let faults = Faults::default();
        let (sfn, ddb) = faults.clients(&b.config);
        let s = Services {
            sfn,
            ddb,
            ..plain.clone()
        };
        for case in cases(&s) {
            let what = format!("{}: {}", b.name, case.name);
            let order = s
                .orders()
                .place("carol", &["hat".to_owned()])
                .await
                .expect("placed");
            let task = waiting_on(&s, &order, "PENDING").await;
            for fault in case.faults {
                faults.inject(fault);
            }
            let told = s
                .decisions()
                .decide(&order, &task.task_id, Outcome::Advance, "sam", None)
                .await;
            assert!(faults.struck() > 0, "{what}: the fault struck");
            faults.clear();
            assert!((case.told)(&told), "{what}: told {told:?}");

            domain::reconcile_later(&s).await;

            if case.takes_effect {
                let o = status_becomes(&s, &order, "PROCESSING").await;
                assert_eq!(
                    decisions_in(&o),
                    [("sam".to_owned(), "advance".to_owned())],
                    "{what}: one decision in history"
                );
                assert_eq!(
                    ledger_state(&s, &task.task_id).await.as_deref(),
                    Some("RECORDED"),
                    "{what}"
                );
                let next = waiting_on(&s, &order, "PROCESSING").await;
                assert_ne!(next.task_id, task.task_id, "{what}: no stale waiting row");
                let again = s
                    .decisions()
                    .decide(&order, &task.task_id, Outcome::Advance, "pat", None)
                    .await;
                assert!(
                    matches!(again, Err(DomainError::AlreadyDecided { ref by, .. }) if by == "sam"),
                    "{what}: {again:?}"
                );
            } else {
                let o = s.orders().get(&order).await.expect("order");
                assert_eq!(o.status.as_str(), "PENDING", "{what}");
                assert!(decisions_in(&o).is_empty(), "{what}");
                assert_eq!(ledger_state(&s, &task.task_id).await, None, "{what}");
                // Nothing was lost: the step can still be decided.
                s.decisions()
                    .decide(&order, &task.task_id, Outcome::Advance, "sam", None)
                    .await
                    .unwrap_or_else(|e| panic!("{what}: retry {e:?}"));
                status_becomes(&s, &order, "PROCESSING").await;
            }
            faults.clear();
        }
    }
}

#[tokio::test]
async fn a_claim_left_by_a_crash_whose_task_then_timed_out_ends_expired() {
    for (b, plain) in both().await {
        let faults = Faults::default();
        let (sfn, ddb) = faults.clients(&b.config);
        let s = Services {
            sfn,
            ddb,
            ..plain.clone()
        };
        let signers = [
            SignerSpec {
                name: "alice".into(),
                automatic: true,
            },
            SignerSpec {
                name: "bob".into(),
                automatic: false,
            },
        ];
        let doc = s
            .documents()
            .request("Quote", &signers, 2)
            .await
            .expect("started");
        let task = loop {
            let desk = s.documents().signer_desk("bob").await.expect("desk");
            if let Some(t) = desk
                .into_iter()
                .find(|r| r.document_id == doc)
                .and_then(|r| r.task_id)
            {
                break t;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        // The claim is written, then the process "dies": the send never
        // leaves and nothing can be read back.
        faults.inject(Fault::once("SendTaskSuccess", &[], When::Before));
        faults.inject(Fault::once("GetExecutionHistory", &[], When::Before));
        let told = s
            .documents()
            .decide(&doc, "bob", &task, Outcome::Advance, "bob")
            .await;
        assert_eq!(told, Err(DomainError::Unavailable), "{}", b.name);
        assert_eq!(
            ledger_state(&s, &task).await.as_deref(),
            Some("CLAIMED"),
            "{}",
            b.name
        );
        // Meanwhile the request times out in the workflow.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while s
            .documents()
            .get(&doc)
            .await
            .expect("document")
            .status
            .as_str()
            != "TIMED_OUT"
        {
            assert!(
                std::time::Instant::now() < deadline,
                "{}: no timeout",
                b.name
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        domain::reconcile_later(&s).await;
        assert_eq!(
            ledger_state(&s, &task).await.as_deref(),
            Some("RECORDED"),
            "{}",
            b.name
        );
        let again = s
            .documents()
            .decide(&doc, "bob", &task, Outcome::Advance, "bob")
            .await;
        assert_eq!(again, Err(DomainError::Expired), "{}", b.name);
        let document = s.documents().get(&doc).await.expect("document");
        assert!(
            document.history.iter().all(|h| h.decision.is_none()),
            "{}: an expired claim writes no decision: {:?}",
            b.name,
            document.history
        );
        let bob = document
            .requests
            .iter()
            .find(|r| r.signer == "bob")
            .expect("bob");
        assert_eq!(bob.status.as_str(), "EXPIRED", "{}", b.name);
        assert_eq!(bob.decided_by, None, "{}", b.name);
    }
}

#[tokio::test]
async fn a_signature_whose_answer_is_lost_after_it_took_effect_and_whose_close_fails_is_signed_once()
 {
    for (b, plain) in both().await {
        let faults = Faults::default();
        let (sfn, ddb) = faults.clients(&b.config);
        let s = Services {
            sfn,
            ddb,
            ..plain.clone()
        };
        let signers = [SignerSpec {
            name: "bob".into(),
            automatic: false,
        }];
        let doc = s
            .documents()
            .request("Quote", &signers, 3600)
            .await
            .expect("started");
        let task = loop {
            let desk = s.documents().signer_desk("bob").await.expect("desk");
            if let Some(t) = desk
                .into_iter()
                .find(|r| r.document_id == doc)
                .and_then(|r| r.task_id)
            {
                break t;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        // Step Functions takes the signature but its answer is lost; then
        // closing the request's row fails.
        let tasks = format!("\"{}\"", s.tables.tasks);
        faults.inject(Fault::once("SendTaskSuccess", &[], When::After));
        faults.inject(Fault::once("UpdateItem", &[&tasks], When::Before));
        let told = s
            .documents()
            .decide(&doc, "bob", &task, Outcome::Advance, "bob")
            .await;
        assert_eq!(faults.struck(), 2, "{}: both faults struck", b.name);
        faults.clear();
        assert!(
            matches!(told, Ok(_) | Err(DomainError::Unavailable)),
            "{}: {told:?}",
            b.name
        );
        domain::reconcile_later(&s).await;
        assert_eq!(
            ledger_state(&s, &task).await.as_deref(),
            Some("RECORDED"),
            "{}",
            b.name
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let document = loop {
            let d = s.documents().get(&doc).await.expect("document");
            if d.status.as_str() == "SIGNED" {
                break d;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{}: never signed",
                b.name
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        };
        let bob = &document.requests[0];
        assert_eq!(
            (bob.status.as_str(), bob.decided_by.as_deref()),
            ("SIGNED", Some("bob")),
            "{}",
            b.name
        );
        let lines = document
            .history
            .iter()
            .filter(|h| h.decision.is_some())
            .count();
        assert_eq!(lines, 1, "{}: {:?}", b.name, document.history);
        assert!(
            s.documents()
                .signer_desk("bob")
                .await
                .expect("desk")
                .is_empty(),
            "{}",
            b.name
        );
        let again = s
            .documents()
            .decide(&doc, "bob", &task, Outcome::Advance, "bob")
            .await;
        assert!(
            matches!(again, Err(DomainError::AlreadyDecided { ref by, .. }) if by == "bob"),
            "{}: {again:?}",
            b.name
        );
    }
}

/// The order article's race, made to happen every time: the close of the
/// decided step's waiting row runs only after the workflow has written the
/// row of its next wait (the close is failed once, the test waits for the
/// next row, then the reconciler closes). The article kept both under one
/// key and its unconditional delete erased the next and left the order
/// stuck; each wait is a task row of its own now, and the close is
/// conditional on it, so the next step survives.
#[tokio::test]
async fn closing_after_the_workflow_wrote_its_next_wait_leaves_that_wait_alone() {
    for (b, plain) in both().await {
        let faults = Faults::default();
        let (sfn, ddb) = faults.clients(&b.config);
        let s = Services {
            sfn,
            ddb,
            ..plain.clone()
        };
        let order = s
            .orders()
            .place("carol", &["hat".to_owned()])
            .await
            .expect("placed");
        let first = waiting_on(&s, &order, "PENDING").await;
        let tasks = format!("\"{}\"", s.tables.tasks);
        faults.inject(Fault::once("UpdateItem", &[&tasks], When::Before));
        s.decisions()
            .decide(&order, &first.task_id, Outcome::Advance, "sam", None)
            .await
            .expect("decided");
        assert_eq!(faults.struck(), 1, "{}: the close was held back", b.name);
        let next = waiting_on(&s, &order, "PROCESSING").await;
        domain::reconcile_later(&s).await;
        assert_eq!(
            ledger_state(&s, &first.task_id).await.as_deref(),
            Some("RECORDED"),
            "{}",
            b.name
        );
        let still = s.orders().pending_task(&order).await.expect("read");
        assert_eq!(
            still.map(|t| t.task_id),
            Some(next.task_id),
            "{}: the next step's row survived the late close",
            b.name
        );
    }
}
