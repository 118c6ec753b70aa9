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

/// Several replicas asking for the receipt key at once on a deployment that
/// has none: one key is made, and every replica signs with it.
#[tokio::test]
async fn replicas_racing_for_the_receipt_key_all_get_the_same_one() {
    for (b, s) in both().await {
        let replicas: Vec<_> = (0..6)
            .map(|_| countersign_domain::services::Services {
                receipt_key: Default::default(),
                ..s.clone()
            })
            .collect();
        let keys =
            futures_util::future::join_all(replicas.iter().map(|r| r.receipts().public_key()))
                .await;
        let keys: Vec<String> = keys
            .into_iter()
            .map(|k| serde_json::to_string(&k.expect("a key")).expect("json"))
            .collect();
        assert!(
            keys.windows(2).all(|w| w[0] == w[1]),
            "{}: {keys:?}",
            b.name
        );
        // A replica started later reads the same key.
        let later = countersign_domain::services::Services {
            receipt_key: Default::default(),
            ..s.clone()
        };
        let key = later.receipts().public_key().await.expect("a key");
        assert_eq!(
            serde_json::to_string(&key).expect("json"),
            keys[0],
            "{}",
            b.name
        );
    }
}

/// Two uploads of one name at once, and bob signing while a third replaces
/// it: one whole file stays under the name, and bob's receipt names bytes
/// that are stored, the old or the new, never a mix.
#[tokio::test]
async fn uploads_racing_each_other_and_a_signature_leave_whole_files() {
    use countersign_domain::attachments::Owner;
    use countersign_domain::file_store::FileStore;
    use countersign_domain::secrets::sha256_hex;
    for (b, s) in both().await {
        let s = s.with_files(FileStore::in_memory());
        let doc = s
            .documents()
            .request("Lease", &signers(&["bob"]), 3600)
            .await
            .expect("started");
        let owner = Owner::document(&doc);
        let first = b"first version of the lease\n".to_vec();
        let second = b"second version of the lease\n".to_vec();
        let (a, c) = tokio::join!(
            s.attachments()
                .add(&owner, "lease.txt", first.clone(), "sam"),
            s.attachments()
                .add(&owner, "lease.txt", second.clone(), "kim"),
        );
        a.expect("stored");
        c.expect("stored");
        let listed = s.attachments().list(&owner).await.expect("listed");
        assert_eq!(listed.len(), 1, "{}: one row per name", b.name);
        let opened = s
            .attachments()
            .open(&owner, "lease.txt")
            .await
            .expect("opened");
        assert!(opened.intact, "{}", b.name);
        assert_eq!(sha256_hex(&opened.bytes), listed[0].sha256, "{}", b.name);

        let request = desk_request(&s, "bob", &doc).await;
        let task = request.task_id.expect("a task");
        let third = b"third version of the lease\n".to_vec();
        let third_hash = sha256_hex(&third);
        let (signed, replaced) = tokio::join!(
            s.documents()
                .decide(&doc, "bob", &task, Outcome::Advance, "bob"),
            s.attachments()
                .add(&owner, "lease.txt", third.clone(), "sam"),
        );
        signed.expect("signed");
        replaced.expect("replaced");
        let staff = countersign_domain::users::User {
            name: "sam".into(),
            roles: vec![countersign_domain::users::Role::Staff],
            groups: Vec::new(),
            created_at: "2026-01-01T00:00:00.000Z".into(),
        };
        let receipt = countersign_domain::access::receipt(&s, &staff, &task)
            .await
            .expect("a receipt");
        let seen = receipt.receipt["files"][0]["sha256"]
            .as_str()
            .expect("bob's decision names the file")
            .to_owned();
        let before = [sha256_hex(&first), sha256_hex(&second)];
        assert!(
            before.contains(&seen) || seen == third_hash,
            "{}: {seen} is none of the versions",
            b.name
        );
        // The bytes bob's receipt names are still there to check it by.
        let by_hash = [first, second, third]
            .into_iter()
            .find(|bytes| sha256_hex(bytes) == seen)
            .expect("a version");
        let key: countersign_domain::receipts::PublicKey = serde_json::from_value(
            serde_json::to_value(s.receipts().public_key().await.expect("key")).expect("json"),
        )
        .expect("a key");
        countersign_domain::receipts::verify(
            countersign_domain::receipts::to_file(&receipt).as_bytes(),
            &key,
            &[("lease.txt".to_owned(), by_hash)],
        )
        .expect("the receipt checks out against the bytes bob saw");
        // Whatever bob saw, the page says whether it changed since.
        let shown = s.attachments().shown(&owner).await.expect("shown");
        assert_eq!(
            shown[0].changed_after.is_some(),
            seen != third_hash,
            "{}",
            b.name
        );
    }
}
