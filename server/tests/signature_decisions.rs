//! Signing documents, against the embedded services AND moto: alice signs
//! by herself, bob signs or declines on his desk, unanswered requests time
//! out, and each human signer decides only their own request.

#[path = "support/backends.rs"]
pub mod backends;
#[path = "support/domain.rs"]
mod domain;
#[path = "support/signing.rs"]
mod signing;

use countersign_domain::DomainError;
use countersign_domain::outcome::Outcome;
use domain::both;
use signing::{desk_request, document_becomes, signers};

#[tokio::test]
async fn alice_signs_by_herself_and_bob_signs_on_his_desk() {
    for (b, s) in both().await {
        let doc = s
            .documents()
            .request("Supplier contract", &signers(&["bob"]), 3600)
            .await
            .expect("started");
        let request = desk_request(&s, "bob", &doc).await;
        let task = request.task_id.expect("a waiting request has a task");
        let d = s
            .documents()
            .decide(&doc, "bob", &task, Outcome::Advance, "bob")
            .await
            .expect("signed");
        assert_eq!(d.outcome, "sign");
        let document = document_becomes(&s, &doc, "SIGNED").await;
        let who: Vec<(&str, &str)> = document
            .signatures
            .iter()
            .map(|g| (g.signer.as_str(), g.how.as_str()))
            .collect();
        assert!(
            who.contains(&("alice", "automatic")) && who.contains(&("bob", "signed")),
            "{}: {who:?}",
            b.name
        );
        let bob = document
            .requests
            .iter()
            .find(|r| r.signer == "bob")
            .expect("bob's request");
        assert_eq!(
            (bob.status.as_str(), bob.decided_by.as_deref()),
            ("SIGNED", Some("bob")),
            "{}",
            b.name
        );
        assert!(
            s.documents()
                .signer_desk("bob")
                .await
                .expect("desk")
                .iter()
                .all(|r| r.document_id != doc)
        );
    }
}

#[tokio::test]
async fn bob_declines_with_a_reason_and_the_document_is_declined() {
    for (b, s) in both().await {
        let doc = s
            .documents()
            .request("NDA", &signers(&["bob"]), 3600)
            .await
            .expect("started");
        let task = desk_request(&s, "bob", &doc).await.task_id.expect("task");
        s.documents()
            .decide(&doc, "bob", &task, Outcome::reject("wrong address"), "bob")
            .await
            .expect("declined");
        let document = document_becomes(&s, &doc, "DECLINED").await;
        let bob = document
            .requests
            .iter()
            .find(|r| r.signer == "bob")
            .expect("bob's request");
        assert_eq!(bob.status.as_str(), "DECLINED", "{}", b.name);
        assert!(
            document
                .history
                .iter()
                .any(|h| h.decision.as_deref() == Some("decline")
                    && h.cause.as_deref() == Some("wrong address")),
            "{}: {:?}",
            b.name,
            document.history
        );
    }
}

#[tokio::test]
async fn each_human_signer_decides_only_their_own_request() {
    for (b, s) in both().await {
        let doc = s
            .documents()
            .request("Board minutes", &signers(&["bob", "erin"]), 3600)
            .await
            .expect("started");
        let bobs = desk_request(&s, "bob", &doc).await.task_id.expect("task");
        let erins = desk_request(&s, "erin", &doc).await.task_id.expect("task");
        assert_ne!(bobs, erins);
        let meddling = s
            .documents()
            .decide(&doc, "bob", &bobs, Outcome::Advance, "erin")
            .await;
        assert_eq!(meddling, Err(DomainError::Forbidden), "{}", b.name);
        s.documents()
            .decide(&doc, "bob", &bobs, Outcome::Advance, "bob")
            .await
            .expect("bob");
        assert_eq!(
            s.documents().get(&doc).await.expect("doc").status.as_str(),
            "WAITING",
            "{}: erin has not signed",
            b.name
        );
        s.documents()
            .decide(&doc, "erin", &erins, Outcome::Advance, "erin")
            .await
            .expect("erin");
        let document = document_becomes(&s, &doc, "SIGNED").await;
        assert_eq!(document.signatures.len(), 3, "{}", b.name);
        // Erin's task id on bob's request names nothing of bob's: not
        // found, not who decided erin's.
        let crossed = s
            .documents()
            .decide(&doc, "bob", &erins, Outcome::Advance, "bob")
            .await;
        assert_eq!(crossed, Err(DomainError::NotFound), "{}", b.name);
        let again = s
            .documents()
            .decide(&doc, "bob", &bobs, Outcome::Advance, "bob")
            .await;
        assert!(
            matches!(again, Err(DomainError::AlreadyDecided { ref by, .. }) if by == "bob"),
            "{}: {again:?}",
            b.name
        );
    }
}

#[tokio::test]
async fn an_unanswered_request_expires_and_the_document_times_out() {
    for (b, s) in both().await {
        let doc = s
            .documents()
            .request("Quote", &signers(&["bob"]), 1)
            .await
            .expect("started");
        let task = desk_request(&s, "bob", &doc).await.task_id.expect("task");
        let document = document_becomes(&s, &doc, "TIMED_OUT").await;
        let bob = document
            .requests
            .iter()
            .find(|r| r.signer == "bob")
            .expect("bob's request");
        assert_eq!(bob.status.as_str(), "EXPIRED", "{}", b.name);
        let late = s
            .documents()
            .decide(&doc, "bob", &task, Outcome::Advance, "bob")
            .await;
        assert!(
            matches!(late, Err(DomainError::Expired) | Err(DomainError::NotFound)),
            "{}: {late:?}",
            b.name
        );
    }
}
