//! A task's quorum under concurrency and faults, on the domain: the same
//! person approving twice at once counts once; two approvals reaching the
//! quorum at once resume the workflow once; and a request that stops at
//! any step of an approval (its record, the tally, the resume) ends, after
//! the reconciler, with the workflow resumed once with both approvals and
//! nothing left unfinished. On the embedded services and on moto.

#[path = "support/backends.rs"]
mod backends;
#[path = "support/domain.rs"]
mod domain;
#[path = "support/faults.rs"]
mod faults;

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use countersign_domain::DomainError;
use countersign_domain::kinds::Kinds;
use countersign_domain::services::Services;
use countersign_domain::tasks::Status;
use countersign_domain::tasks::decide::{Answer, Answered};
use countersign_domain::users::{Role, User};
use faults::{Fault, Faults, When};
use serde_json::{Value, json};

fn user(name: &str, roles: &[Role], groups: &[&str]) -> User {
    User {
        name: name.to_owned(),
        roles: roles.to_vec(),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        created_at: "2026-01-01T00:00:00.000Z".into(),
    }
}

struct People {
    carol: User,
    fay: User,
    gus: User,
}

fn people() -> People {
    People {
        carol: user("carol", &[Role::Customer], &[]),
        fay: user("fay", &[Role::Staff], &["finance"]),
        gus: user("gus", &[Role::Signer], &["finance"]),
    }
}

/// The built-in kinds deployed for `s`'s tables.
async fn kinds(s: &Services) -> Kinds {
    let mut kinds = Kinds::load(&[]).expect("built-in kinds");
    kinds.deploy(&s.sfn, &s.tables).await.expect("deploy kinds");
    kinds
}

/// Starts an expense of 5000 (two of finance must approve) and waits for
/// its task; the task id and the execution.
async fn large_expense(s: &Services, kinds: &Kinds, p: &People) -> (String, String) {
    let kind = kinds.get("expense-approval").expect("expense kind");
    let values = BTreeMap::from([
        ("amount".to_owned(), json!("5000")),
        ("currency".to_owned(), json!("EUR")),
        ("purpose".to_owned(), json!("servers")),
    ]);
    let started = s
        .tasks()
        .start(&p.carol, kind, &values)
        .await
        .expect("started");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(task) = s.tasks().get(&p.fay, &started.subject_id).await
            && task.status == Status::Open
        {
            assert_eq!(task.spec().map(|spec| spec.quorum), Some(2));
            return (task.id, started.execution_arn);
        }
        assert!(std::time::Instant::now() < deadline, "no task appeared");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn approve(comment: &str) -> Answer {
    Answer {
        action: "approve".into(),
        values: BTreeMap::new(),
        reason: Some(comment.to_owned()),
    }
}

/// How many times the execution's history says a task succeeded.
async fn successes(s: &Services, execution: &str) -> usize {
    let history = s
        .sfn
        .get_execution_history()
        .execution_arn(execution)
        .max_results(1000)
        .send()
        .await
        .expect("history");
    history
        .events()
        .iter()
        .filter(|e| e.r#type().as_str() == "TaskSucceeded")
        .count()
}

/// Who approved, in the workflow's output.
fn approvers(output: &Value) -> Vec<String> {
    let mut by: Vec<String> = output["decision"]["approvals"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|a| a["by"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    by.sort();
    by
}

/// Approval records of the task still in the ledger's open index.
async fn unfinished_records(s: &Services, task_id: &str) -> Vec<String> {
    let mut open = Vec::new();
    for person in ["fay", "gus"] {
        let out = s
            .ddb
            .get_item()
            .table_name(&s.tables.decisions)
            .key(
                "taskId",
                AttributeValue::S(format!("{task_id}#approval#{person}")),
            )
            .consistent_read(true)
            .send()
            .await
            .expect("read record");
        if out.item().is_some_and(|i| i.contains_key("open")) {
            open.push(person.to_owned());
        }
    }
    open
}

#[tokio::test]
async fn the_same_person_approving_twice_at_once_counts_once() {
    for (b, s) in domain::both().await {
        let kinds = kinds(&s).await;
        let p = people();
        let (task_id, execution) = large_expense(&s, &kinds, &p).await;
        let (first, second) = tokio::join!(
            s.tasks().answer(&p.fay, &task_id, approve("first")),
            s.tasks().answer(&p.fay, &task_id, approve("second")),
        );
        let results = [&first, &second];
        let won: Vec<&Answered> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(won.len(), 1, "{}: {first:?} {second:?}", b.name);
        assert_eq!(won[0].approvals, 1, "{}", b.name);
        assert!(!won[0].resumed, "{}", b.name);
        assert!(
            results.iter().any(|r| matches!(
                r,
                Err(DomainError::AlreadyDecided { by, .. }) if by == "fay"
            )),
            "{}: the other is told fay approved already: {first:?} {second:?}",
            b.name
        );
        let task = s.tasks().get(&p.fay, &task_id).await.expect("task");
        assert_eq!(task.status, Status::Open, "{}", b.name);
        assert_eq!(task.approvals.len(), 1, "{}", b.name);
        assert!(unfinished_records(&s, &task_id).await.is_empty());

        // The second approver still completes it, with two approvals.
        let done = s
            .tasks()
            .answer(&p.gus, &task_id, approve("fine"))
            .await
            .expect("gus approves");
        assert!(done.resumed);
        let (status, output) = backends::ended(&s.sfn, &execution).await;
        assert_eq!(status, "SUCCEEDED", "{}", b.name);
        assert_eq!(approvers(&output), ["fay", "gus"], "{}", b.name);
    }
}

#[tokio::test]
async fn two_approvals_reaching_the_quorum_at_once_resume_the_workflow_once() {
    for (b, s) in domain::both().await {
        let kinds = kinds(&s).await;
        let p = people();
        for round in 0..3 {
            let what = format!("{} round {round}", b.name);
            let (task_id, execution) = large_expense(&s, &kinds, &p).await;
            let (fay, gus) = tokio::join!(
                s.tasks().answer(&p.fay, &task_id, approve("fay agrees")),
                s.tasks().answer(&p.gus, &task_id, approve("gus agrees")),
            );
            let fay = fay.unwrap_or_else(|e| panic!("{what}: fay {e:?}"));
            let gus = gus.unwrap_or_else(|e| panic!("{what}: gus {e:?}"));
            // The tally is exact: one counted first (1 of 2, nothing to
            // resume yet), the other reached the quorum and resumed it.
            let mut counts = [fay.approvals, gus.approvals];
            counts.sort_unstable();
            assert_eq!(counts, [1, 2], "{what}: {fay:?} {gus:?}");
            let last = if fay.approvals == 2 { &fay } else { &gus };
            assert!(last.resumed, "{what}: {last:?}");
            let (status, output) = backends::ended(&s.sfn, &execution).await;
            assert_eq!(status, "SUCCEEDED", "{what}");
            assert_eq!(approvers(&output), ["fay", "gus"], "{what}");
            assert_eq!(successes(&s, &execution).await, 1, "{what}");
            assert!(unfinished_records(&s, &task_id).await.is_empty(), "{what}");
        }
    }
}

/// Where gus's approval (the one reaching the quorum) stops.
struct Case {
    name: &'static str,
    faults: Vec<Fault>,
}

fn cases(s: &Services) -> Vec<Case> {
    let decisions = format!("\"{}\"", s.tables.decisions);
    let tasks = format!("\"{}\"", s.tables.tasks);
    let record = |when| Fault::once("PutItem", &[&decisions, "\"approval\""], when);
    let tally = |when| Fault::once("UpdateItem", &[&tasks, "approvals"], when);
    let claim = |when| Fault::once("PutItem", &[&decisions, "\"CLAIMED\""], when);
    let send = |when| Fault::once("SendTaskSuccess", &[], when);
    let finish = |when| Fault::once("UpdateItem", &[&decisions, "#approval#", "REMOVE"], when);
    vec![
        Case {
            name: "the record is written, its answer lost",
            faults: vec![record(When::After)],
        },
        Case {
            name: "the tally fails before it is written",
            faults: vec![tally(When::Before)],
        },
        Case {
            name: "the tally is written, its answer lost",
            faults: vec![tally(When::After)],
        },
        Case {
            name: "the resume's claim fails before it is written",
            faults: vec![claim(When::Before)],
        },
        Case {
            name: "the resume is sent, its answer lost",
            faults: vec![send(When::After)],
        },
        Case {
            name: "finishing the record fails",
            faults: vec![finish(When::Before)],
        },
    ]
}

#[tokio::test]
async fn an_approval_stopped_at_any_step_ends_resumed_once_with_every_approval() {
    for (b, plain) in domain::both().await {
        let faults = Faults::default();
        let (sfn, ddb) = faults.clients(&b.config);
        let s = Services {
            sfn,
            ddb,
            ..plain.clone()
        };
        let kinds = kinds(&s).await;
        let p = people();
        for case in cases(&s) {
            let what = format!("{}: {}", b.name, case.name);
            let (task_id, execution) = large_expense(&s, &kinds, &p).await;
            s.tasks()
                .answer(&p.fay, &task_id, approve("fay agrees"))
                .await
                .unwrap_or_else(|e| panic!("{what}: fay {e:?}"));
            for fault in case.faults {
                faults.inject(fault);
            }
            let told = s
                .tasks()
                .answer(&p.gus, &task_id, approve("gus agrees"))
                .await;
            assert!(faults.struck() > 0, "{what}: the fault struck ({told:?})");
            faults.clear();
            // Told it failed, or that it went through: never a wrong answer.
            assert!(
                matches!(&told, Ok(a) if a.resumed)
                    || matches!(told, Err(DomainError::Unavailable)),
                "{what}: told {told:?}"
            );

            // Nobody retries: the reconciler finishes it.
            domain::reconcile_later(&s).await;

            let (status, output) = backends::ended(&s.sfn, &execution).await;
            assert_eq!(status, "SUCCEEDED", "{what}");
            assert_eq!(approvers(&output), ["fay", "gus"], "{what}");
            assert_eq!(successes(&s, &execution).await, 1, "{what}");
            assert!(
                unfinished_records(&s, &task_id).await.is_empty(),
                "{what}: every record finished"
            );
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            loop {
                let task = s.tasks().get(&p.fay, &task_id).await.expect("task");
                if task.status == Status::Approved {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "{what}: the task row says {:?}",
                    task.status
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            // A retry now is told it is decided, and changes nothing.
            let again = s.tasks().answer(&p.gus, &task_id, approve("again")).await;
            assert!(
                matches!(again, Err(DomainError::AlreadyDecided { .. })),
                "{what}: {again:?}"
            );
        }
    }
}
