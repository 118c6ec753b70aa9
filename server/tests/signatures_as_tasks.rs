//! Signature requests as a kind of task, on the embedded services AND on
//! moto: a human signer's request is a task row (kind `sign-document`,
//! keyed `document.signer`) that only its signer may decide, from the desk
//! or the task list, once; a decline or a timeout closes the requests still
//! open. Requests written by the version before they were tasks (their
//! executions keep running that definition,
//! `fixtures/sign-document-before-tasks.asl.json`, the file as that version
//! shipped it) are carried over, waiting or closed, and decided like any.

#[path = "support/backends.rs"]
pub mod backends;
#[path = "support/domain.rs"]
mod domain;
#[path = "support/signing.rs"]
mod signing;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use countersign_domain::DomainError;
use countersign_domain::inbox::InboxQuery;
use countersign_domain::migrate::Carried;
use countersign_domain::outcome::Outcome;
use countersign_domain::services::Services;
use countersign_domain::signatures::{request_id, signature_task};
use countersign_domain::tasks::Status;
use countersign_domain::tasks::decide::Answer;
use countersign_domain::users::{Role, User};
use countersign_domain::workflows::{deploy_named, substitute};
use domain::both;
use signing::{desk_request, document_becomes, signers};

const BEFORE: &str = include_str!("fixtures/sign-document-before-tasks.asl.json");

type Row = HashMap<String, AttributeValue>;

fn person(name: &str, roles: &[Role]) -> User {
    User {
        name: name.to_owned(),
        roles: roles.to_vec(),
        groups: Vec::new(),
        created_at: "2026-01-01T00:00:00.000Z".into(),
    }
}

fn text(row: &Row, name: &str) -> Option<String> {
    row.get(name).and_then(|v| v.as_s().ok()).cloned()
}

async fn task_row(s: &Services, id: &str) -> Option<Row> {
    s.ddb
        .get_item()
        .table_name(&s.tables.tasks)
        .key("taskId", AttributeValue::S(id.into()))
        .consistent_read(true)
        .send()
        .await
        .expect("read a task row")
        .item()
        .cloned()
}

/// Waits until the row of `id` is closed (the workflow closes it a moment
/// after the document ends).
async fn closed_row(s: &Services, id: &str) -> Row {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(row) = task_row(s, id).await
            && !row.contains_key("open")
        {
            return row;
        }
        assert!(Instant::now() < deadline, "{id} was never closed");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn a_decline_closes_every_request_still_open() {
    for (b, s) in both().await {
        let doc = s
            .documents()
            .request("Lease", &signers(&["bob", "erin"]), 3600)
            .await
            .expect("started");
        let bobs = desk_request(&s, "bob", &doc).await;
        desk_request(&s, "erin", &doc).await;
        s.documents()
            .decide(
                &doc,
                "bob",
                &bobs.task_id.expect("waits"),
                Outcome::reject("the rent is wrong"),
                "bob",
            )
            .await
            .expect("declined");
        document_becomes(&s, &doc, "DECLINED").await;
        // Erin's wait was stopped with the document: the workflow closed
        // her request, so no list shows it, not even to staff.
        let erins = closed_row(&s, &request_id(&doc, "erin")).await;
        assert_eq!(
            text(&erins, "status").as_deref(),
            Some("EXPIRED"),
            "{}",
            b.name
        );
        assert!(!erins.contains_key("token"), "{}", b.name);
        // Bob's says he declined, whichever of the workflow's sweep and
        // the decision's close came first.
        let bob_row = closed_row(&s, &request_id(&doc, "bob")).await;
        assert_eq!(
            (
                text(&bob_row, "status").as_deref(),
                text(&bob_row, "decidedBy").as_deref(),
                text(&bob_row, "action").as_deref()
            ),
            (Some("REJECTED"), Some("bob"), Some("decline")),
            "{}",
            b.name
        );
        let sam = person("sam", &[Role::Staff]);
        let open = s
            .tasks()
            .list(&sam, &Default::default(), None, 100)
            .await
            .expect("the task list");
        assert!(
            open.tasks.iter().all(|t| !t.id.starts_with(&doc)),
            "{}: {:?}",
            b.name,
            open.tasks
        );
        let document = s.documents().get(&doc).await.expect("document");
        let states: Vec<(&str, &str)> = document
            .requests
            .iter()
            .map(|r| (r.signer.as_str(), r.status.as_str()))
            .collect();
        assert_eq!(
            states,
            [("bob", "DECLINED"), ("erin", "EXPIRED")],
            "{}",
            b.name
        );
        // Erin's answer now is refused: her request expired.
        let late = s
            .documents()
            .decide(
                &doc,
                "erin",
                &request_id(&doc, "erin"),
                Outcome::Advance,
                "erin",
            )
            .await;
        assert!(
            matches!(late, Err(DomainError::Expired)),
            "{}: {late:?}",
            b.name
        );
    }
}

#[tokio::test]
async fn a_request_is_a_task_only_its_signer_answers_from_the_task_list_once() {
    let bob = person("bob", &[Role::Signer]);
    let erin = person("erin", &[Role::Signer]);
    let sam = person("sam", &[Role::Staff]);
    for (b, s) in both().await {
        let doc = s
            .documents()
            .request("Supplier contract", &signers(&["bob"]), 3600)
            .await
            .expect("started");
        let request = desk_request(&s, "bob", &doc).await;
        let id = request.task_id.clone().expect("waits");
        assert_eq!(id, request_id(&doc, "bob"), "{}", b.name);
        // Bob sees it in the one task list; staff too; erin does not.
        let mine = s
            .tasks()
            .list(&bob, &Default::default(), None, 100)
            .await
            .expect("bob's list");
        assert!(mine.tasks.iter().any(|t| t.id == id), "{}", b.name);
        s.tasks()
            .get(&sam, &id)
            .await
            .expect("staff see every task");
        assert!(
            matches!(s.tasks().get(&erin, &id).await, Err(DomainError::NotFound)),
            "{}",
            b.name
        );
        // Staff may see it, not sign it.
        let refused = s
            .tasks()
            .answer(
                &sam,
                &id,
                Answer {
                    action: "sign".into(),
                    ..Answer::default()
                },
            )
            .await;
        assert!(
            matches!(refused, Err(DomainError::Forbidden)),
            "{}: {refused:?}",
            b.name
        );
        // Declining needs a reason, from the task list as on the desk.
        let bare = s
            .tasks()
            .answer(
                &bob,
                &id,
                Answer {
                    action: "decline".into(),
                    ..Answer::default()
                },
            )
            .await;
        assert!(
            matches!(bare, Err(DomainError::Invalid(_))),
            "{}: {bare:?}",
            b.name
        );
        let answered = s
            .tasks()
            .answer(
                &bob,
                &id,
                Answer {
                    action: "sign".into(),
                    ..Answer::default()
                },
            )
            .await
            .expect("signed from the task list");
        assert!(answered.resumed, "{}", b.name);
        let document = document_becomes(&s, &doc, "SIGNED").await;
        let bobs = document
            .requests
            .iter()
            .find(|r| r.signer == "bob")
            .expect("bob's request");
        assert_eq!(
            (bobs.status.as_str(), bobs.decided_by.as_deref()),
            ("SIGNED", Some("bob")),
            "{}",
            b.name
        );
        let decisions: Vec<_> = document
            .history
            .iter()
            .filter_map(|h| h.decision.as_deref())
            .collect();
        assert_eq!(decisions, ["sign"], "{}: {document:#?}", b.name);
        // The desk's answer after it is told who signed.
        let again = s
            .documents()
            .decide(&doc, "bob", &id, Outcome::Advance, "bob")
            .await;
        assert!(
            matches!(again, Err(DomainError::AlreadyDecided { ref by, .. }) if by == "bob"),
            "{}: {again:?}",
            b.name
        );
        assert!(
            s.documents()
                .signer_desk("bob")
                .await
                .expect("desk")
                .iter()
                .all(|r| r.document_id != doc),
            "{}",
            b.name
        );
    }
}

#[tokio::test]
async fn the_desk_and_the_task_list_racing_decide_a_request_once() {
    let bob = person("bob", &[Role::Signer]);
    for (b, s) in both().await {
        let doc = s
            .documents()
            .request("Offer", &signers(&["bob"]), 3600)
            .await
            .expect("started");
        let id = desk_request(&s, "bob", &doc).await.task_id.expect("waits");
        let mut calls = tokio::task::JoinSet::new();
        for i in 0..12 {
            let (s, bob, doc, id) = (s.clone(), bob.clone(), doc.clone(), id.clone());
            calls.spawn(async move {
                if i % 2 == 0 {
                    s.documents()
                        .decide(&doc, "bob", &id, Outcome::Advance, "bob")
                        .await
                        .map(|_| ())
                } else {
                    s.tasks()
                        .answer(
                            &bob,
                            &id,
                            Answer {
                                action: "sign".into(),
                                ..Answer::default()
                            },
                        )
                        .await
                        .map(|_| ())
                }
            });
        }
        let mut won = 0;
        while let Some(done) = calls.join_next().await {
            match done.expect("joined") {
                Ok(()) => won += 1,
                Err(DomainError::AlreadyDecided { by, .. }) => assert_eq!(by, "bob"),
                Err(other) => panic!("{}: {other:?}", b.name),
            }
        }
        assert_eq!(won, 1, "{}: one call decides", b.name);
        let document = document_becomes(&s, &doc, "SIGNED").await;
        let lines = document
            .history
            .iter()
            .filter(|h| h.decision.is_some())
            .count();
        assert_eq!(lines, 1, "{}: {:?}", b.name, document.history);
    }
}

#[tokio::test]
async fn the_definition_writes_the_same_task_the_carry_over_does() {
    for (b, s) in both().await {
        let doc = s
            .documents()
            .request("Invoice", &signers(&["bob"]), 3600)
            .await
            .expect("started");
        desk_request(&s, "bob", &doc).await;
        let row = task_row(&s, &request_id(&doc, "bob"))
            .await
            .expect("the row");
        let written: serde_json::Value =
            serde_json::from_str(&text(&row, "task").expect("task")).expect("JSON");
        let deadline = text(&row, "deadline").expect("deadline");
        assert_eq!(
            written,
            signature_task(&doc, "Invoice", "bob", Some(&deadline)),
            "{}",
            b.name
        );
        for name in [
            "inbox",
            "open",
            "signer",
            "documentId",
            "execution",
            "token",
        ] {
            assert!(row.contains_key(name), "{}: {name} missing", b.name);
        }
    }
}

/// The rows in the old signature requests table.
async fn old_rows(s: &Services) -> Vec<Row> {
    s.ddb
        .scan()
        .table_name(&s.tables.signature_requests)
        .consistent_read(true)
        .send()
        .await
        .expect("scan the old table")
        .items()
        .to_vec()
}

/// Starts a document on the old definition, as the earlier version did,
/// and waits for its requests in the old table.
async fn old_document(s: &Services, humans: &[&str]) -> String {
    let machine = deploy_named(
        &s.sfn,
        &backends::unique("sign-document-before"),
        &substitute(BEFORE, &s.tables),
    )
    .await
    .expect("deploy the old definition");
    let doc = backends::unique("old-doc");
    let input = serde_json::json!({
        "documentId": doc, "title": "Old contract", "signers": signers(humans),
        "timeoutSeconds": 3600, "deadline": "2030-01-01T00:00:00.000Z",
    });
    s.sfn
        .start_execution()
        .state_machine_arn(&machine)
        .name(&doc)
        .input(input.to_string())
        .send()
        .await
        .expect("started on the old definition");
    let deadline = Instant::now() + Duration::from_secs(20);
    while old_rows(s)
        .await
        .iter()
        .filter(|r| text(r, "documentId").as_deref() == Some(doc.as_str()))
        .count()
        < humans.len()
    {
        assert!(Instant::now() < deadline, "the old requests never came");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    doc
}

#[tokio::test]
async fn waiting_requests_of_the_version_before_are_carried_over_and_signed() {
    for (b, s) in both().await {
        let doc = old_document(&s, &["bob", "erin"]).await;
        let old_ids: HashMap<String, String> = old_rows(&s)
            .await
            .iter()
            .filter_map(|r| Some((text(r, "signer")?, text(r, "taskId")?)))
            .collect();
        let pass = s
            .migration()
            .signature_requests()
            .await
            .expect("carry over");
        assert_eq!(pass.carried, 2, "{}: {pass:?}", b.name);
        assert!(
            old_rows(&s).await.is_empty(),
            "{}: the old rows are gone",
            b.name
        );
        let again = s.migration().signature_requests().await.expect("again");
        assert_eq!(again, Carried::default(), "{}", b.name);

        let bobs = desk_request(&s, "bob", &doc).await;
        assert_eq!(bobs.task_id, Some(request_id(&doc, "bob")), "{}", b.name);
        let inbox = s
            .staff_inbox()
            .page(&InboxQuery {
                limit: 100,
                ..InboxQuery::default()
            })
            .await
            .expect("inbox");
        assert!(
            inbox
                .items
                .iter()
                .any(|t| t.task_id == request_id(&doc, "erin")),
            "{}: the carried request is in the staff inbox",
            b.name
        );
        // Bob's page was loaded before the upgrade: it names the old id.
        s.documents()
            .decide(&doc, "bob", &old_ids["bob"], Outcome::Advance, "bob")
            .await
            .expect("bob signs under the old id");
        s.documents()
            .decide(
                &doc,
                "erin",
                &request_id(&doc, "erin"),
                Outcome::Advance,
                "erin",
            )
            .await
            .expect("erin signs under the new one");
        let document = document_becomes(&s, &doc, "SIGNED").await;
        let states: Vec<(&str, &str, Option<&str>)> = document
            .requests
            .iter()
            .map(|r| {
                (
                    r.signer.as_str(),
                    r.status.as_str(),
                    r.decided_by.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            states,
            [
                ("bob", "SIGNED", Some("bob")),
                ("erin", "SIGNED", Some("erin"))
            ],
            "{}",
            b.name
        );
        let again = s
            .documents()
            .decide(&doc, "bob", &old_ids["bob"], Outcome::Advance, "bob")
            .await;
        assert!(
            matches!(again, Err(DomainError::AlreadyDecided { ref by, .. }) if by == "bob"),
            "{}: {again:?}",
            b.name
        );
        assert!(old_rows(&s).await.is_empty(), "{}", b.name);
    }
}

#[tokio::test]
async fn closed_requests_of_the_version_before_keep_how_they_ended() {
    for (b, s) in both().await {
        // A document that version finished: carol declined, dan's request
        // expired with it.
        let doc = backends::unique("old-doc");
        let put = |table: &str, item: Vec<(&str, &str)>| {
            s.ddb.put_item().table_name(table).set_item(Some(
                item.into_iter()
                    .map(|(k, v)| (k.to_owned(), AttributeValue::S(v.to_owned())))
                    .collect(),
            ))
        };
        let people = serde_json::to_string(&signers(&["carol", "dan"])).expect("JSON");
        put(
            &s.tables.documents,
            vec![
                ("documentId", &doc),
                ("status", "DECLINED"),
                ("title", "Old lease"),
                ("signers", &people),
                ("createdAt", "2026-06-01T10:00:00.000Z"),
            ],
        )
        .send()
        .await
        .expect("document");
        put(
            &s.tables.signature_requests,
            vec![
                ("documentId", &doc),
                ("signer", "carol"),
                ("taskId", "6f0c1a9e-0000-4000-8000-000000000001"),
                ("status", "DECLINED"),
                ("createdAt", "2026-06-01T10:00:00.000Z"),
                ("title", "Old lease"),
                ("decidedBy", "carol"),
                ("decidedAt", "2026-06-01T11:00:00.000Z"),
            ],
        )
        .send()
        .await
        .expect("carol's request");
        put(
            &s.tables.signature_requests,
            vec![
                ("documentId", &doc),
                ("signer", "dan"),
                ("taskId", "6f0c1a9e-0000-4000-8000-000000000002"),
                ("status", "EXPIRED"),
                ("createdAt", "2026-06-01T10:00:00.000Z"),
                ("title", "Old lease"),
                ("decidedAt", "2026-06-01T11:00:00.000Z"),
            ],
        )
        .send()
        .await
        .expect("dan's request");
        let pass = s
            .migration()
            .signature_requests()
            .await
            .expect("carry over");
        assert_eq!(pass.carried, 2, "{}: {pass:?}", b.name);
        assert!(old_rows(&s).await.is_empty(), "{}", b.name);
        let document = s.documents().get(&doc).await.expect("document");
        let states: Vec<(&str, &str, Option<&str>)> = document
            .requests
            .iter()
            .map(|r| {
                (
                    r.signer.as_str(),
                    r.status.as_str(),
                    r.decided_by.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            states,
            [
                ("carol", "DECLINED", Some("carol")),
                ("dan", "EXPIRED", None)
            ],
            "{}",
            b.name
        );
        let row = task_row(&s, &request_id(&doc, "carol")).await.expect("row");
        assert_eq!(text(&row, "status").as_deref(), Some("REJECTED"));
        assert!(!row.contains_key("open"), "{}", b.name);
        let sam = person("sam", &[Role::Staff]);
        let task = s
            .tasks()
            .get(&sam, &request_id(&doc, "dan"))
            .await
            .expect("a task like any");
        assert_eq!(task.status, Status::Expired, "{}", b.name);
        // Those rows had no deadline: the carried task still follows the
        // contract (no empty date-time), so it reads as a valid task.
        assert!(task.spec().is_some(), "{}: {:?}", b.name, task.contract);
        // Neither is anyone's to decide.
        assert!(
            s.documents()
                .signer_desk("carol")
                .await
                .expect("desk")
                .is_empty()
        );
    }
}

#[tokio::test]
async fn a_carried_request_that_version_expires_later_is_closed_with_it() {
    for (b, s) in both().await {
        let doc = old_document(&s, &["bob"]).await;
        s.migration().signature_requests().await.expect("carried");
        desk_request(&s, "bob", &doc).await;
        // What the old definition's "Expire request" writes once the old
        // row is gone: an update of a deleted key makes a row of its own.
        s.ddb
            .update_item()
            .table_name(&s.tables.signature_requests)
            .key("documentId", AttributeValue::S(doc.clone()))
            .key("signer", AttributeValue::S("bob".into()))
            .update_expression("SET #status = :expired REMOVE #taskToken, #inbox")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#taskToken", "taskToken")
            .expression_attribute_names("#inbox", "inbox")
            .expression_attribute_values(":expired", AttributeValue::S("EXPIRED".into()))
            .send()
            .await
            .expect("the old workflow's expiry");
        let pass = s.migration().signature_requests().await.expect("again");
        assert_eq!(pass.carried, 1, "{}: {pass:?}", b.name);
        let row = closed_row(&s, &request_id(&doc, "bob")).await;
        assert_eq!(
            text(&row, "status").as_deref(),
            Some("EXPIRED"),
            "{}",
            b.name
        );
        assert!(!row.contains_key("token"), "{}", b.name);
        assert!(old_rows(&s).await.is_empty(), "{}", b.name);
        assert!(
            s.documents()
                .signer_desk("bob")
                .await
                .expect("desk")
                .iter()
                .all(|r| r.document_id != doc),
            "{}",
            b.name
        );
    }
}
