//! The order workflow and its decisions, run against the embedded services
//! AND against moto: the same domain code, the same ASL, two backends.

#[path = "support/backends.rs"]
pub mod backends;
#[path = "support/domain.rs"]
mod domain;

use domain::both;

use std::time::{Duration, Instant};

use countersign_domain::DomainError;
use countersign_domain::decisions::Outcome;
use countersign_domain::orders::{PendingTask, Services};

/// Waits until the order waits on `step` and returns that task.
async fn waiting_on(s: &Services, order: &str, step: &str) -> PendingTask {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(t) = s.pending_task(order).await.expect("read")
            && t.step == step
        {
            return t;
        }
        assert!(
            Instant::now() < deadline,
            "order {order} never waited on {step}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn status_becomes(
    s: &Services,
    order: &str,
    status: &str,
) -> countersign_domain::orders::Order {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(o) = s.order(order).await
            && o.status == status
        {
            return o;
        }
        assert!(
            Instant::now() < deadline,
            "order {order} never became {status}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_order_goes_pending_processing_sent_with_its_history() {
    for (b, s) in both().await {
        let items = vec!["Really nice hat".to_owned(), "Cool jeans".to_owned()];
        let order = s.place_order("carol", &items).await.expect("placed");
        let first = waiting_on(&s, &order, "PENDING").await;
        assert_eq!(first.customer, "carol");
        let d = s
            .decide(
                &order,
                &first.task_id,
                Outcome::Advance,
                "sam",
                Some("in stock"),
            )
            .await
            .expect("advance");
        assert_eq!((d.step.as_str(), d.by.as_str()), ("PENDING", "sam"));
        let second = waiting_on(&s, &order, "PROCESSING").await;
        assert_ne!(second.task_id, first.task_id);
        s.decide(&order, &second.task_id, Outcome::Advance, "sam", None)
            .await
            .expect("sent");
        let o = status_becomes(&s, &order, "SENT").await;
        assert_eq!(o.items, items, "{}", b.name);
        let statuses: Vec<_> = o.history.iter().filter_map(|h| h.status.clone()).collect();
        assert_eq!(statuses, ["PENDING", "PROCESSING", "SENT"], "{}", b.name);
        let decisions: Vec<_> = o
            .history
            .iter()
            .filter(|h| h.decision.is_some())
            .map(|h| (h.by.clone(), h.decision.clone()))
            .collect();
        assert_eq!(decisions.len(), 2, "{}", b.name);
        assert!(
            decisions
                .iter()
                .all(|(by, d)| by == "sam" && d.as_deref() == Some("advance"))
        );
        assert_eq!(
            o.notifications.len(),
            3,
            "{}: one notification per status",
            b.name
        );
        assert!(
            s.pending_task(&order).await.expect("read").is_none(),
            "{}: nothing left pending",
            b.name
        );
    }
}

#[tokio::test]
async fn a_rejection_at_either_wait_records_error_with_the_reason() {
    for (b, s) in both().await {
        // At the first wait.
        let early = s
            .place_order("dave", &["lamp".to_owned()])
            .await
            .expect("placed");
        let t = waiting_on(&s, &early, "PENDING").await;
        s.decide(
            &early,
            &t.task_id,
            Outcome::reject("out of stock"),
            "sam",
            None,
        )
        .await
        .expect("rejected");
        let o = status_becomes(&s, &early, "ERROR").await;
        assert_eq!(o.error.as_deref(), Some("Rejected"), "{}", b.name);
        // Our own history keeps the reason on every backend (moto drops
        // SendTaskFailure's cause on its way into the workflow).
        assert!(
            o.history
                .iter()
                .any(|h| h.decision.as_deref() == Some("reject")
                    && h.cause.as_deref() == Some("out of stock"))
        );
        if b.name == "embedded" {
            assert_eq!(o.cause.as_deref(), Some("out of stock"));
        }

        // At the second wait.
        let late = s
            .place_order("dave", &["desk".to_owned()])
            .await
            .expect("placed");
        let t = waiting_on(&s, &late, "PENDING").await;
        s.decide(&late, &t.task_id, Outcome::Advance, "sam", None)
            .await
            .expect("advance");
        let t = waiting_on(&s, &late, "PROCESSING").await;
        s.decide(
            &late,
            &t.task_id,
            Outcome::reject("address unknown"),
            "sam",
            None,
        )
        .await
        .expect("rejected");
        let o = status_becomes(&s, &late, "ERROR").await;
        let statuses: Vec<_> = o.history.iter().filter_map(|h| h.status.clone()).collect();
        assert_eq!(statuses, ["PENDING", "PROCESSING", "ERROR"], "{}", b.name);
    }
}

#[tokio::test]
async fn a_hundred_concurrent_decisions_on_one_task_make_exactly_one() {
    for (b, s) in both().await {
        let order = s
            .place_order("carol", &["hat".to_owned()])
            .await
            .expect("placed");
        let task = waiting_on(&s, &order, "PENDING").await;
        let mut attempts = Vec::new();
        for i in 0..100 {
            let (s, order, task_id) = (s.clone(), order.clone(), task.task_id.clone());
            attempts.push(tokio::spawn(async move {
                s.decide(
                    &order,
                    &task_id,
                    Outcome::Advance,
                    &format!("staff-{i}"),
                    None,
                )
                .await
            }));
        }
        let mut winners = Vec::new();
        let mut told = Vec::new();
        for a in attempts {
            match a.await.expect("join") {
                Ok(d) => winners.push(d.by),
                Err(DomainError::AlreadyDecided { by, .. }) => told.push(by),
                Err(other) => panic!("{}: unexpected {other:?}", b.name),
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "{}: exactly one decision takes effect",
            b.name
        );
        assert_eq!(told.len(), 99, "{}", b.name);
        assert!(
            told.iter().all(|by| *by == winners[0]),
            "{}: the others are told who decided",
            b.name
        );
        let o = status_becomes(&s, &order, "PROCESSING").await;
        assert_eq!(
            o.history.iter().filter(|h| h.decision.is_some()).count(),
            1,
            "{}",
            b.name
        );
    }
}

/// The order article's bug: deleting the pending row by execution id after
/// resuming erases the row the execution has meanwhile written for its next
/// wait. Here the close is conditional on the token, so every order's next
/// step stays visible.
#[tokio::test]
async fn deciding_never_erases_the_next_steps_pending_row() {
    for (b, s) in both().await {
        let mut orders = Vec::new();
        for _ in 0..10 {
            orders.push(
                s.place_order("carol", &["hat".to_owned()])
                    .await
                    .expect("placed"),
            );
        }
        let mut decided = Vec::new();
        for order in &orders {
            let t = waiting_on(&s, order, "PENDING").await;
            let (s, order) = (s.clone(), order.clone());
            decided.push(tokio::spawn(async move {
                s.decide(&order, &t.task_id, Outcome::Advance, "sam", None)
                    .await
            }));
        }
        for d in decided {
            d.await.expect("join").expect("decided");
        }
        for order in &orders {
            let next = waiting_on(&s, order, "PROCESSING").await;
            // Still there a moment later: nothing deleted it behind our back.
            tokio::time::sleep(Duration::from_millis(50)).await;
            let again = s.pending_task(order).await.expect("read");
            assert_eq!(
                again.as_ref().map(|t| &t.task_id),
                Some(&next.task_id),
                "{}",
                b.name
            );
        }
    }
}

#[tokio::test]
async fn a_decided_step_tells_who_decided_it_and_bad_input_changes_nothing() {
    for (b, s) in both().await {
        let order = s
            .place_order("carol", &["hat".to_owned()])
            .await
            .expect("placed");
        let t = waiting_on(&s, &order, "PENDING").await;

        let refused = s
            .decide(&order, &t.task_id, Outcome::reject("  "), "sam", None)
            .await;
        assert!(
            matches!(refused, Err(DomainError::Invalid(_))),
            "{}: {refused:?}",
            b.name
        );
        assert_eq!(
            s.pending_task(&order)
                .await
                .expect("read")
                .map(|p| p.task_id),
            Some(t.task_id.clone())
        );

        let first = s
            .decide(&order, &t.task_id, Outcome::Advance, "sam", None)
            .await
            .expect("first");
        let late = s
            .decide(&order, &t.task_id, Outcome::Advance, "pat", None)
            .await;
        assert_eq!(
            late,
            Err(DomainError::AlreadyDecided {
                by: "sam".into(),
                at: first.at.clone()
            }),
            "{}",
            b.name
        );
        assert_eq!(
            late.expect_err("late").to_string(),
            format!("already decided by sam at {}", first.at)
        );

        let unknown = s
            .decide(&order, "no-such-task", Outcome::Advance, "sam", None)
            .await;
        assert_eq!(unknown, Err(DomainError::NotFound), "{}", b.name);
        assert!(matches!(
            s.place_order("carol", &[]).await,
            Err(DomainError::Invalid(_))
        ));
        assert!(matches!(
            s.order("no-such-order").await,
            Err(DomainError::NotFound)
        ));
    }
}

#[tokio::test]
async fn the_inbox_lists_waiting_orders_oldest_first_in_pages() {
    for (b, s) in both().await {
        let mut placed = Vec::new();
        for _ in 0..5 {
            let order = s
                .place_order("carol", &["hat".to_owned()])
                .await
                .expect("placed");
            waiting_on(&s, &order, "PENDING").await;
            placed.push(order);
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let (page, next) = s.inbox(2, cursor.as_deref()).await.expect("inbox");
            assert!(page.len() <= 2, "{}", b.name);
            seen.extend(page.into_iter().map(|t| t.order_id));
            cursor = next;
            if cursor.is_none() {
                break;
            }
        }
        assert_eq!(seen, placed, "{}: oldest first, every order once", b.name);
    }
}

/// A crash right after the claim: the decision row says CLAIMED, nothing
/// was sent. The next start's repair completes it as its owner would have,
/// and everyone else is told who decided.
#[tokio::test]
async fn a_claim_left_by_a_crash_is_completed_at_the_next_start() {
    use aws_sdk_dynamodb::types::AttributeValue;
    for (b, s) in both().await {
        let order = s
            .place_order("carol", &["hat".to_owned()])
            .await
            .expect("placed");
        let t = waiting_on(&s, &order, "PENDING").await;
        // Exactly what the claim step writes, and then the "crash".
        s.ddb
            .put_item()
            .table_name(&s.tables.decisions)
            .item("taskId", AttributeValue::S(t.task_id.clone()))
            .item("subject", AttributeValue::S(order.clone()))
            .item("step", AttributeValue::S("PENDING".into()))
            .item("outcome", AttributeValue::S("advance".into()))
            .item("actor", AttributeValue::S("sam".into()))
            .item("at", AttributeValue::S("2026-11-21T10:00:00.000Z".into()))
            .item("state", AttributeValue::S("CLAIMED".into()))
            .send()
            .await
            .expect("claim");
        assert_eq!(s.repair_claims().await.expect("repair"), 1, "{}", b.name);
        waiting_on(&s, &order, "PROCESSING").await;
        let other = s
            .decide(&order, &t.task_id, Outcome::Advance, "pat", None)
            .await;
        assert!(
            matches!(other, Err(DomainError::AlreadyDecided { ref by, .. }) if by == "sam"),
            "{}: {other:?}",
            b.name
        );
        assert_eq!(
            s.repair_claims().await.expect("repair again"),
            0,
            "{}: nothing left to repair",
            b.name
        );
    }
}
