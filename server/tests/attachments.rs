//! Attachments and receipts over HTTP against a whole server: staff attach
//! files to a document, its signer sees them (and nobody else does), signs,
//! and the decision's receipt names the files' SHA-256; the receipt checks
//! out offline (the library call and the `countersign receipts verify`
//! binary) and fails once one byte of a file or of the receipt changes;
//! a file replaced after the signature is flagged. The same round trip
//! runs in AWS mode with the bytes on moto's S3.

#[path = "support/backends.rs"]
mod backends;
#[path = "support/serve.rs"]
mod serve;
#[path = "support/web.rs"]
mod web;

use std::time::Duration;

use countersign_domain::receipts::{Invalid, PublicKey, verify};
use countersign_domain::secrets::sha256_hex;
use countersign_domain::users::Role;
use web::{Browser, Server};

const PASSWORD: &str = "a-long-enough-password";
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
const TERMS: &[u8] = b"# Terms\n\nPayment in **30 days**.\n\n<script>alert(1)</script>\n";

async fn people(server: &Server) -> (Browser, Browser, Browser, Browser) {
    server.add_user("sam", &[Role::Staff], PASSWORD).await;
    server.add_user("bob", &[Role::Signer], PASSWORD).await;
    server.add_user("erin", &[Role::Signer], PASSWORD).await;
    server.add_user("carol", &[Role::Customer], PASSWORD).await;
    (
        server.signed_in("sam", PASSWORD).await,
        server.signed_in("bob", PASSWORD).await,
        server.signed_in("erin", PASSWORD).await,
        server.signed_in("carol", PASSWORD).await,
    )
}

/// A document for bob to sign, and his request's task id.
async fn document_for_bob(sam: &mut Browser) -> (String, String) {
    let r = sam
        .post(
            "/api/signatures/request",
            &[
                ("title", "Supplier contract"),
                ("signers", "alice (auto)\nbob"),
                ("timeout", "1"),
                ("unit", "hours"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json().as_str().expect("an id").to_owned();
    for _ in 0..400 {
        let r = sam
            .post("/api/signatures/document", &[("document_id", &id)])
            .await;
        let task = r.json()["requests"].as_array().and_then(|list| {
            list.iter()
                .find(|q| q["signer"] == "bob")
                .and_then(|q| q["task_id"].as_str().map(str::to_owned))
        });
        if let Some(task) = task {
            return (id, task);
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("document {id} never waited for bob");
}

fn files_of(r: &web::Response) -> Vec<serde_json::Value> {
    r.json()["files"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_signer_reads_the_files_signs_and_the_receipt_proves_which_bytes() {
    let server = Server::start().await;
    let (mut sam, mut bob, mut erin, mut carol) = people(&server).await;
    let (doc, task) = document_for_bob(&mut sam).await;
    let upload = format!("/files/document/{doc}");

    // Staff attach; the form comes back to the document page.
    let r = sam
        .upload(&upload, &[("contract.pdf", PDF), ("terms.md", TERMS)])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.header("location"),
        Some(format!("/signing/{doc}#files").as_str())
    );

    // Refused: a signer may not attach, a file that is not what its name
    // says, another site's form. Nothing of them is stored.
    let r = bob.upload(&upload, &[("mine.txt", b"hello")]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = sam
        .upload(&upload, &[("fake.pdf", b"<html><script>alert(1)</script>")])
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body.contains("does not hold what its name says"),
        "{}",
        r.body
    );
    let r = sam.upload(&upload, &[("page.html", b"<p>hi</p>")]).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let mut forged = sam.clone();
    forged.origin = Some("https://evil.example".into());
    let r = forged.upload(&upload, &[("evil.txt", b"x")]).await;
    assert_eq!(r.status, 403, "{}", r.body);

    // Bob sees both, the Markdown rendered with its script as text.
    let r = bob
        .post("/api/files/list", &[("of", "document"), ("id", &doc)])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let files = files_of(&r);
    let names: Vec<&str> = files
        .iter()
        .filter_map(|f| f["shown"]["attachment"]["name"].as_str())
        .collect();
    assert_eq!(names, ["contract.pdf", "terms.md"], "{}", r.body);
    let terms = &files[1];
    let html = terms["html"].as_str().expect("rendered");
    assert!(html.contains("<strong>30 days</strong>"), "{html}");
    assert!(!html.contains("<script"), "{html}");
    assert_eq!(
        files[0]["shown"]["attachment"]["sha256"].as_str(),
        Some(sha256_hex(PDF).as_str())
    );

    // The PDF itself, for the browser's viewer, framed only by our pages.
    let r = bob
        .get(&format!("/files/document/{doc}/contract.pdf"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body.as_bytes(), PDF);
    assert_eq!(r.header("content-type"), Some("application/pdf"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("x-frame-options"), Some("SAMEORIGIN"));
    let disposition = r.header("content-disposition").expect("disposition");
    assert!(disposition.starts_with("inline;"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''contract.pdf"),
        "{disposition}"
    );
    let policy = r.header("content-security-policy").expect("policy");
    assert!(policy.contains("frame-ancestors 'self'"), "{policy}");
    let r = bob
        .get(&format!("/files/document/{doc}/terms.md?download"))
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment;"))
    );
    assert!(
        r.header("content-security-policy")
            .is_some_and(|p| p.contains("sandbox"))
    );

    // Nobody else: a signer it is not addressed to, a customer, no session.
    for (who, browser) in [("erin", &mut erin), ("carol", &mut carol)] {
        let r = browser
            .get(&format!("/files/document/{doc}/contract.pdf"))
            .await;
        assert!(
            r.status == 404 || r.status == 403,
            "{who} got {}: {}",
            r.status,
            r.body
        );
        assert!(!r.body.contains("%PDF"), "{who} saw the file");
    }
    let r = server
        .anonymous()
        .get(&format!("/files/document/{doc}/contract.pdf"))
        .await;
    assert_eq!(r.status, 401);

    // Bob signs.
    let r = bob
        .post(
            "/api/signatures/decide",
            &[
                ("document_id", doc.as_str()),
                ("task_id", task.as_str()),
                ("action", "sign"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // The history names the receipt; the receipt names the files' hashes.
    let r = bob
        .post("/api/signatures/document", &[("document_id", &doc)])
        .await;
    let history = r.json()["history"].clone();
    assert!(
        history
            .as_array()
            .is_some_and(|h| h.iter().any(|e| e["receipt"] == task.as_str())),
        "{history}"
    );
    let receipt = bob
        .get_with(
            &format!("/receipts/{task}"),
            &[("accept", "application/json")],
        )
        .await;
    assert_eq!(receipt.status, 200, "{}", receipt.body);
    assert_eq!(receipt.header("content-type"), Some("application/json"));
    let body = receipt.json();
    assert_eq!(body["receipt"]["decision"]["by"], "bob");
    assert_eq!(body["receipt"]["decision"]["action"], "sign");
    assert_eq!(body["receipt"]["subject"]["id"], doc.as_str());
    let hashes: Vec<(&str, &str)> = body["receipt"]["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap_or(""),
                f["sha256"].as_str().unwrap_or(""),
            )
        })
        .collect();
    let (pdf_hash, terms_hash) = (sha256_hex(PDF), sha256_hex(TERMS));
    assert_eq!(
        hashes,
        [
            ("contract.pdf", pdf_hash.as_str()),
            ("terms.md", terms_hash.as_str())
        ]
    );
    // Signed with the key anyone can fetch, and it checks out offline.
    let key = server
        .anonymous()
        .get("/.well-known/countersign-receipt-key")
        .await;
    assert_eq!(key.status, 200, "{}", key.body);
    let public: PublicKey = serde_json::from_str(&key.body).expect("a key");
    assert_eq!(public.crv, "Ed25519");
    let files = vec![
        ("contract.pdf".to_owned(), PDF.to_vec()),
        ("terms.md".to_owned(), TERMS.to_vec()),
    ];
    verify(receipt.body.as_bytes(), &public, &files).expect("the receipt verifies");
    // One byte of a file, or of the receipt, and it does not.
    let mut changed = PDF.to_vec();
    changed[10] ^= 1;
    assert!(matches!(
        verify(
            receipt.body.as_bytes(),
            &public,
            &[("contract.pdf".to_owned(), changed.clone())]
        ),
        Err(Invalid::FileChanged { .. })
    ));
    let tampered = receipt.body.replacen("\"bob\"", "\"bot\"", 1);
    assert_eq!(
        verify(tampered.as_bytes(), &public, &[]),
        Err(Invalid::Signature)
    );
    // The page of the receipt (HTML) is the app's; the same id as JSON
    // is refused to people who may not see the document.
    let r = erin
        .get_with(&format!("/receipts/{task}?format=json"), &[])
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = bob
        .get_with(&format!("/receipts/{task}"), &[("accept", "text/html")])
        .await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("receipt-facts"), "{}", r.body);

    // The binary says the same, with its exit code.
    let dir = std::env::temp_dir().join(backends::unique("receipt"));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("receipt.json"), &receipt.body).expect("write");
    std::fs::write(dir.join("key.json"), &key.body).expect("write");
    std::fs::write(dir.join("contract.pdf"), PDF).expect("write");
    let run = |file: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_countersign"))
            .args(["receipts", "verify"])
            .arg(dir.join("receipt.json"))
            .arg("--key")
            .arg(dir.join("key.json"))
            .arg("--file")
            .arg(dir.join(file))
            .output()
            .expect("runs")
    };
    let good = run("contract.pdf");
    assert!(good.status.success(), "{good:?}");
    assert!(String::from_utf8_lossy(&good.stdout).starts_with("valid: bob chose sign"));
    std::fs::create_dir_all(dir.join("other")).expect("dir");
    std::fs::write(dir.join("other/contract.pdf"), &changed).expect("write");
    let bad = run("other/contract.pdf");
    assert_eq!(bad.status.code(), Some(1), "{bad:?}");
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("is not the file the decision saw"),
        "{bad:?}"
    );

    // Replaced after bob signed: flagged where it is shown; the receipt
    // still proves what he saw.
    let newer = b"%PDF-1.4\n% a later version\n%%EOF\n";
    let r = sam.upload(&upload, &[("contract.pdf", newer)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = sam
        .post("/api/files/list", &[("of", "document"), ("id", &doc)])
        .await;
    let files = files_of(&r);
    let pdf = files
        .iter()
        .find(|f| f["shown"]["attachment"]["name"] == "contract.pdf")
        .expect("listed");
    assert_eq!(pdf["shown"]["changed_after"]["by"], "bob", "{}", r.body);
    assert_eq!(
        pdf["shown"]["changed_after"]["sha256"].as_str(),
        Some(pdf_hash.as_str())
    );
    let terms = files
        .iter()
        .find(|f| f["shown"]["attachment"]["name"] == "terms.md")
        .expect("listed");
    assert!(terms["shown"]["changed_after"].is_null(), "{}", r.body);
    assert!(matches!(
        verify(
            receipt.body.as_bytes(),
            &public,
            &[("contract.pdf".to_owned(), newer.to_vec())]
        ),
        Err(Invalid::FileChanged { .. })
    ));
    server.stop().await;
}

#[tokio::test]
async fn a_file_over_the_limit_is_refused_and_nothing_is_kept() {
    let server = Server::start_with(|c| c.files.limit = 1024).await;
    let (mut sam, mut bob, ..) = people(&server).await;
    let (doc, _) = document_for_bob(&mut sam).await;
    let big = vec![b'a'; 4096];
    let r = sam
        .upload(&format!("/files/document/{doc}"), &[("big.txt", &big)])
        .await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.body.contains("at most 1 KiB"), "{}", r.body);
    let r = bob
        .post("/api/files/list", &[("of", "document"), ("id", &doc)])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(files_of(&r).is_empty(), "{}", r.body);
    // Unknown owners and names are not found, never a 5xx.
    for path in [
        format!("/files/document/{doc}/nothing.pdf"),
        format!("/files/elsewhere/{doc}/x.pdf"),
        "/files/document/no-such-doc/x.pdf".to_owned(),
        "/files/task/%00/x.pdf".to_owned(),
    ] {
        let r = bob.get(&path).await;
        assert!(r.status == 404 || r.status == 400, "{path}: {}", r.status);
    }
    server.stop().await;
}

/// A plain HTTP call to moto's S3, unsigned: the status and the body. The
/// product never creates buckets (the deploy template does), so the test
/// makes its own.
fn moto_s3(method: &str, path: &str) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let url = backends::moto_url();
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(host).expect("moto");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("answer");
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header");
    let head = String::from_utf8_lossy(&answer[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    (status, answer[split + 4..].to_vec())
}

#[tokio::test]
async fn in_aws_mode_files_round_trip_through_s3() {
    let bucket = backends::unique("files")
        .to_ascii_lowercase()
        .replace('_', "-");
    let (status, body) = moto_s3("PUT", &format!("/{bucket}"));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let instance = serve::Instance::moto_on(
        &backends::unique("s3"),
        &[&format!("--attachments-bucket={bucket}")],
    )
    .await;
    instance.add_user("sam", &["staff"]);
    instance.add_user("bob", &["signer"]);
    let password = "a long enough password";
    let mut sam = Browser::at(instance.addr);
    let r = sam.sign_in("sam", password).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut bob = Browser::at(instance.addr);
    let r = bob.sign_in("bob", password).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (doc, task) = document_for_bob(&mut sam).await;

    let r = sam
        .upload(&format!("/files/document/{doc}"), &[("contract.pdf", PDF)])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // The bytes are in the bucket, under their SHA-256 (read with moto's
    // test credentials, as any S3 client would).
    let bucket_store = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(&bucket)
        .with_region("us-east-1")
        .with_access_key_id("countersign-test")
        .with_secret_access_key("countersign-test")
        .with_endpoint(backends::moto_url())
        .with_allow_http(true)
        .build()
        .expect("an S3 client");
    let stored = object_store::ObjectStoreExt::get(
        &bucket_store,
        &object_store::path::Path::from(format!("sha256/{}", sha256_hex(PDF))),
    )
    .await
    .expect("the object")
    .bytes()
    .await
    .expect("its bytes");
    assert_eq!(&stored[..], PDF);
    // Bob reads them back through the dashboard, and signs.
    let r = bob
        .get(&format!("/files/document/{doc}/contract.pdf"))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body.as_bytes(), PDF);
    let r = bob
        .post(
            "/api/signatures/decide",
            &[
                ("document_id", doc.as_str()),
                ("task_id", task.as_str()),
                ("action", "sign"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let receipt = bob.get(&format!("/receipts/{task}?format=json")).await;
    assert_eq!(receipt.status, 200, "{}", receipt.body);
    assert_eq!(
        receipt.json()["receipt"]["files"][0]["sha256"],
        sha256_hex(PDF).as_str()
    );
}

/// The same through the REST API with keys: staff attach, the signer lists
/// and downloads, signs, and fetches the receipt; bad uploads are refused.
#[tokio::test]
async fn machines_attach_download_and_fetch_receipts_with_a_key() {
    let server = Server::start_with(|c| c.files.limit = 64 * 1024).await;
    let (mut sam, mut bob, ..) = people(&server).await;
    let (doc, task) = document_for_bob(&mut sam).await;
    let (accounts, embedded) = server.accounts().await;
    let kind = countersign_domain::api_keys::KeyKind::Bearer;
    let (_, sam_key) = accounts.create_key("sam", kind).await.expect("key");
    let (_, bob_key) = accounts.create_key("bob", kind).await.expect("key");
    if let Some(e) = embedded {
        e.stop().await;
    }
    let sam_api = web::Api::new(server.addr, Some(&sam_key));
    let bob_api = web::Api::new(server.addr, Some(&bob_key));
    let files = format!("/v1/files/document/{doc}");

    let r = sam_api.upload(&files, &[("contract.pdf", PDF)]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["files"][0]["sha256"], sha256_hex(PDF).as_str());
    // The same upload again changes nothing.
    let again = sam_api.upload(&files, &[("contract.pdf", PDF)]).await;
    assert_eq!(again.status, 201, "{}", again.body);
    // Refused, each with a clear 4xx: a signer attaching, no file, not
    // multipart, a file over the limit, a type that lies.
    assert_eq!(
        bob_api.upload(&files, &[("mine.txt", b"hi")]).await.status,
        403
    );
    assert_eq!(sam_api.upload(&files, &[]).await.status, 400);
    assert_eq!(
        sam_api.post(&files, &serde_json::json!({})).await.status,
        400
    );
    let big = vec![b'a'; 128 * 1024];
    assert_eq!(
        sam_api.upload(&files, &[("big.txt", &big)]).await.status,
        413
    );
    let r = sam_api.upload(&files, &[("fake.pdf", b"<html>")]).await;
    assert_eq!(r.status, 400, "{}", r.body);

    let r = bob_api.get(&files).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let listed = r.json();
    let names: Vec<&str> = listed["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["attachment"]["name"].as_str())
        .collect();
    assert_eq!(names, ["contract.pdf"]);
    let r = bob_api.get(&format!("{files}/contract.pdf")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body.as_bytes(), PDF);
    assert_eq!(r.header("content-type"), Some("application/pdf"));
    assert!(
        r.header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment;"))
    );
    assert_eq!(
        bob_api.get(&format!("{files}/nothing.pdf")).await.status,
        404
    );

    let r = bob
        .post(
            "/api/signatures/decide",
            &[
                ("document_id", doc.as_str()),
                ("task_id", task.as_str()),
                ("action", "sign"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let receipt = bob_api.get(&format!("/v1/receipts/{task}")).await;
    assert_eq!(receipt.status, 200, "{}", receipt.body);
    let key = server
        .anonymous()
        .get("/.well-known/countersign-receipt-key")
        .await;
    let key: PublicKey = serde_json::from_str(&key.body).expect("a key");
    let checked = verify(
        receipt.body.as_bytes(),
        &key,
        &[("contract.pdf".to_owned(), PDF.to_vec())],
    )
    .expect("the receipt checks out");
    assert_eq!(checked.decision.by, "bob");
    assert_eq!(
        sam_api.get("/v1/receipts/no-such-decision").await.status,
        404
    );
    server.stop().await;
}
