#![allow(
    dead_code,
    reason = "each test binary uses its own part of this support module"
)]

//! Documents to sign in tests: signers, and waiting for a request or a
//! document's status.

use std::time::{Duration, Instant};

use countersign_domain::services::Services;
use countersign_domain::signatures::{Document, SignatureRequest, SignerSpec};

/// Alice (automatic) and the named human signers.
pub fn signers(humans: &[&str]) -> Vec<SignerSpec> {
    let mut list = vec![SignerSpec {
        name: "alice".into(),
        automatic: true,
    }];
    list.extend(humans.iter().map(|h| SignerSpec {
        name: (*h).into(),
        automatic: false,
    }));
    list
}

/// The signer's request on `document`, once it is on their desk.
pub async fn desk_request(s: &Services, signer: &str, document: &str) -> SignatureRequest {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let desk = s.documents().signer_desk(signer).await.expect("desk");
        if let Some(r) = desk.into_iter().find(|r| r.document_id == document) {
            return r;
        }
        assert!(Instant::now() < deadline, "{signer} never saw {document}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The document once it has `status`.
pub async fn document_becomes(s: &Services, id: &str, status: &str) -> Document {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(d) = s.documents().get(id).await
            && d.status.as_str() == status
        {
            return d;
        }
        assert!(
            Instant::now() < deadline,
            "document {id} never became {status}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
