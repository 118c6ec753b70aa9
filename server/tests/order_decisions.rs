//! The order workflow and its decisions, run against the embedded services
//! AND against moto: the same domain code, the same ASL, two backends.

#[path = "support/backends.rs"]
pub mod backends;
#[path = "support/domain.rs"]
mod domain;

use domain::{both, status_becomes, waiting_on};

use std::time::Duration;

use countersign_domain::DomainError;
use countersign_domain::outcome::Outcome;

#[tokio::test]
async fn an_order_goes_pending_processing_sent_with_its_history() {
    for (b, s) in both().await {
        let items = vec!["Really nice hat".to_owned(), "Cool jeans".to_owned()];
        let order = s.orders().place("carol", &items).await.expect("placed");
        let first = waiting_on(&s, &order, "PENDING").await;
        assert_eq!(first.customer, "carol");
        let d = s
            .decisions()
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
        s.decisions()
            .decide(&order, &second.task_id, Outcome::Advance, "sam", None)
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
            s.orders()
                .pending_task(&order)
                .await
                .expect("read")
                .is_none(),
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
            .orders()
            .place("dave", &["lamp".to_owned()])
            .await
            .expect("placed");
        let t = waiting_on(&s, &early, "PENDING").await;
        s.decisions()
            .decide(
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
            .orders()
            .place("dave", &["desk".to_owned()])
            .await
            .expect("placed");
        let t = waiting_on(&s, &late, "PENDING").await;
        s.decisions()
            .decide(&late, &t.task_id, Outcome::Advance, "sam", None)
            .await
            .expect("advance");
        let t = waiting_on(&s, &late, "PROCESSING").await;
        s.decisions()
            .decide(
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
            .orders()
            .place("carol", &["hat".to_owned()])
            .await
            .expect("placed");
        let task = waiting_on(&s, &order, "PENDING").await;
        let mut attempts = Vec::new();
        for i in 0..100 {
            let (s, order, task_id) = (s.clone(), order.clone(), task.task_id.clone());
            attempts.push(tokio::spawn(async move {
                s.decisions()
                    .decide(
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
                s.orders()
                    .place("carol", &["hat".to_owned()])
                    .await
                    .expect("placed"),
            );
        }
        let mut decided = Vec::new();
        for order in &orders {
            let t = waiting_on(&s, order, "PENDING").await;
            let (s, order) = (s.clone(), order.clone());
            decided.push(tokio::spawn(async move {
                s.decisions()
                    .decide(&order, &t.task_id, Outcome::Advance, "sam", None)
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
            let again = s.orders().pending_task(order).await.expect("read");
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
            .orders()
            .place("carol", &["hat".to_owned()])
            .await
            .expect("placed");
        let t = waiting_on(&s, &order, "PENDING").await;

        let refused = s
            .decisions()
            .decide(&order, &t.task_id, Outcome::reject("  "), "sam", None)
            .await;
        assert!(
            matches!(refused, Err(DomainError::Invalid(_))),
            "{}: {refused:?}",
            b.name
        );
        assert_eq!(
            s.orders()
                .pending_task(&order)
                .await
                .expect("read")
                .map(|p| p.task_id),
            Some(t.task_id.clone())
        );

        let first = s
            .decisions()
            .decide(&order, &t.task_id, Outcome::Advance, "sam", None)
            .await
            .expect("first");
        let late = s
            .decisions()
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
            .decisions()
            .decide(&order, "no-such-task", Outcome::Advance, "sam", None)
            .await;
        assert_eq!(unknown, Err(DomainError::NotFound), "{}", b.name);
        assert!(matches!(
            s.orders().place("carol", &[]).await,
            Err(DomainError::Invalid(_))
        ));
        assert!(matches!(
            s.orders().get("no-such-order").await,
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
                .orders()
                .place("carol", &["hat".to_owned()])
                .await
                .expect("placed");
            waiting_on(&s, &order, "PENDING").await;
            placed.push(order);
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let (page, next) = s.orders().inbox(2, cursor.as_deref()).await.expect("inbox");
            assert!(page.len() <= 2, "{}", b.name);
            seen.extend(page.into_iter().map(|t| t.order_id));
            cursor = next;
            if cursor.is_none() {
                break;
            }
        }
        assert_eq!(seen, placed, "{}: oldest first, every order once", b.name);

        // A cursor of another shape (an older version's, keyed by
        // execution, or made up) is the caller's mistake, on every store.
        for stale in [
            r#"{"executionId":"x","inbox":"orders","createdAt":"2026-01-01T00:00:00Z"}"#,
            r#"{"whatever":"x"}"#,
            r#"{"taskId":"x","inbox":"orders","createdAt":"a","extra":"b"}"#,
        ] {
            let refused = s.orders().inbox(2, Some(stale)).await;
            assert!(
                matches!(refused, Err(DomainError::Invalid(_))),
                "{}: {stale}: {refused:?}",
                b.name
            );
            let refused = s.orders().placed_by("carol", 2, Some(stale)).await;
            assert!(
                matches!(refused, Err(DomainError::Invalid(_))),
                "{}: {stale}: {refused:?}",
                b.name
            );
        }
    }
}
