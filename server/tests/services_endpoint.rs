//! The embedded services hold every task token, the sessions and the
//! password hashes, so their socket is met here as an attacker on the same
//! machine (or a web page in its browser) would meet it: `serve` opens
//! none by default; `countersign emulator` listens on loopback only,
//! answers only loopback host names, sends no CORS headers and answers
//! only requests signed with its one credential.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use countersign_server::embedded::Credential;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "support/backends.rs"]
mod backends;
#[path = "support/web.rs"]
mod web;

struct Child9(Child);

impl Drop for Child9 {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
}

/// Starts `countersign emulator` with no credential given and reads the
/// one it prints.
fn emulator(data: &std::path::Path) -> (Child9, SocketAddr, Credential) {
    let addr = free_addr();
    let mut child = Command::new(env!("CARGO_BIN_EXE_countersign"))
        .args(["emulator", "--listen", &addr.to_string(), "--data-dir"])
        .arg(data)
        .env_remove("COUNTERSIGN_SERVICES_ACCESS_KEY_ID")
        .env_remove("COUNTERSIGN_SERVICES_SECRET_ACCESS_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start emulator");
    let stdout = child.stdout.take().expect("stdout");
    let child = Child9(child);
    let mut credential = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("a line");
        if let Some(rest) = line.strip_prefix("AWS_ACCESS_KEY_ID=") {
            let (id, secret) = rest
                .split_once(" AWS_SECRET_ACCESS_KEY=")
                .expect("one line with both");
            credential = Some(Credential {
                access_key_id: id.to_owned(),
                secret_access_key: secret.to_owned(),
            });
        }
        if line.starts_with("DynamoDB and Step Functions on") {
            break;
        }
    }
    (child, addr, credential.expect("the credential was printed"))
}

/// One raw HTTP/1.1 exchange; answers status, headers (lower-case) and body.
async fn raw(addr: SocketAddr, request: &str) -> (u16, String, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("answered in time")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_owned())
}

fn scan_request(host: &str, extra: &str) -> String {
    let body = r#"{"TableName":"countersignSessions"}"#;
    format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
         Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.Scan\r\n\
         {extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn the_emulator_answers_only_signed_loopback_requests_without_cors() {
    let data = backends::TempDir(std::env::temp_dir().join(backends::unique("services")));
    let (_child, addr, credential) = emulator(&data.0);
    let host = addr.to_string();

    // Signed with the printed credential, the AWS SDK works.
    let config = countersign_server::aws::embedded_config(addr, &credential).await;
    let sfn = aws_sdk_sfn::Client::new(&config);
    let ddb = aws_sdk_dynamodb::Client::new(&config);
    sfn.list_state_machines().send().await.expect("signed call");
    ddb.list_tables().send().await.expect("signed call");

    // Unsigned: AWS's own refusal, for both services.
    let (status, _, body) = raw(addr, &scan_request(&host, "")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("UnrecognizedClientException"), "{body}");
    let unsigned_sfn = format!(
        "POST / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\
         Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: AWSStepFunctions.ListStateMachines\r\n\
         Content-Length: 2\r\n\r\n{{}}"
    );
    let (status, _, body) = raw(addr, &unsigned_sfn).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("UnrecognizedClientException"), "{body}");

    // Looks signed (any signature passed before), but is not.
    let forged = "X-Amz-Date: 20260101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 \
                  Credential=countersign/20260101/us-east-1/dynamodb/aws4_request, \
                  SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=00\r\n";
    let (status, _, body) = raw(addr, &scan_request(&host, forged)).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("UnrecognizedClientException"), "{body}");

    // The right key id with a wrong secret.
    let wrong = Credential {
        secret_access_key: "not-the-secret".into(),
        ..credential.clone()
    };
    let config = countersign_server::aws::embedded_config(addr, &wrong).await;
    let error = aws_sdk_dynamodb::Client::new(&config)
        .list_tables()
        .send()
        .await
        .expect_err("refused");
    let code = error.as_service_error().and_then(|e| {
        use aws_sdk_dynamodb::error::ProvideErrorMetadata;
        e.code().map(str::to_owned)
    });
    assert_eq!(
        code.as_deref(),
        Some("InvalidSignatureException"),
        "{error:?}"
    );

    // DNS rebinding: a page whose own name resolved to 127.0.0.1.
    let (status, _, body) = raw(addr, &scan_request("evil.example", "")).await;
    assert_eq!(status, 403, "{body}");
    let (status, _, _) = raw(
        addr,
        &scan_request(&format!("evil.example:{}", addr.port()), ""),
    )
    .await;
    assert_eq!(status, 403);

    // No CORS: a preflight is refused and no answer grants an origin.
    let preflight = format!(
        "OPTIONS / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nOrigin: http://evil.example\r\n\
         Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: x-amz-target\r\n\r\n"
    );
    let (status, head, _) = raw(addr, &preflight).await;
    assert_eq!(status, 403);
    assert!(!head.contains("access-control-"), "{head}");
    let (_, head, _) = raw(
        addr,
        &scan_request(&host, "Origin: http://evil.example\r\n"),
    )
    .await;
    assert!(!head.contains("access-control-"), "{head}");
}

#[tokio::test]
async fn the_services_refuse_to_listen_beyond_loopback() {
    let data = backends::TempDir(std::env::temp_dir().join(backends::unique("services")));
    let output = Command::new(env!("CARGO_BIN_EXE_countersign"))
        .args(["emulator", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(&data.0)
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("loopback"), "{stderr}");

    let output = Command::new(env!("CARGO_BIN_EXE_countersign"))
        .args(["serve", "--listen", &free_addr().to_string()])
        .args(["--services-listen", "0.0.0.0:0", "--data-dir"])
        .arg(&data.0)
        .args(["--site-dir", "/nonexistent"])
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("loopback"), "{stderr}");
}

/// The inodes of the TCP sockets `pid` is listening on.
fn listening_sockets(pid: u32) -> Vec<String> {
    let owned: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("fds")
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter_map(|target| {
            let target = target.to_string_lossy().into_owned();
            Some(
                target
                    .strip_prefix("socket:[")?
                    .strip_suffix(']')?
                    .to_owned(),
            )
        })
        .collect();
    let mut listening = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // st 0A is LISTEN; field 9 is the inode.
            if fields.get(3) == Some(&"0A")
                && let Some(inode) = fields.get(9)
                && owned.iter().any(|o| o == inode)
            {
                listening.push((*inode).to_owned());
            }
        }
    }
    listening
}

#[tokio::test]
async fn serve_opens_no_socket_for_the_services_unless_asked() {
    let data = backends::TempDir(std::env::temp_dir().join(backends::unique("services")));
    let listen = free_addr();
    let child = Command::new(env!("CARGO_BIN_EXE_countersign"))
        .args(["serve", "--listen", &listen.to_string(), "--data-dir"])
        .arg(&data.0)
        .args(["--site-dir", "/nonexistent"])
        .env_remove("COUNTERSIGN_SERVICES_LISTEN")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let child = Child9(child);
    let probe = web::Browser::at(listen);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = probe.try_get("/readyz").await
            && r.status == 200
        {
            break;
        }
        assert!(Instant::now() < deadline, "serve never became ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        listening_sockets(child.0.id()).len(),
        1,
        "only the dashboard listens"
    );
}
