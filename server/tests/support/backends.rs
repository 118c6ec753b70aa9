#![allow(
    dead_code,
    reason = "each test binary uses its own part of this support module"
)]

//! The two sides every conformance test runs against: the embedded services
//! (dynoxide + our engine, in-process) and moto, an independent AWS
//! emulator, started once per test binary from the venv `scripts/setup
//! --test` installs.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use countersign_server::embedded::EmbeddedServices;

pub struct Backend {
    pub name: &'static str,
    pub sfn: aws_sdk_sfn::Client,
    pub ddb: aws_sdk_dynamodb::Client,
    /// Keeps the embedded services' data directory for the test's life.
    _data: Option<TempDir>,
    _services: Option<EmbeddedServices>,
}

pub struct TempDir(pub PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

async fn clients(url: &str) -> (aws_sdk_sfn::Client, aws_sdk_dynamodb::Client) {
    let config = countersign_server::aws::local_config(url).await;
    (
        aws_sdk_sfn::Client::new(&config),
        aws_sdk_dynamodb::Client::new(&config),
    )
}

/// Fresh embedded services in a temporary data directory.
pub async fn embedded() -> Backend {
    let dir = std::env::temp_dir().join(unique("countersign-conformance"));
    let services = EmbeddedServices::start(&dir, "127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("embedded services start");
    let (sfn, ddb) = clients(&format!("http://{}", services.endpoint())).await;
    Backend {
        name: "embedded",
        sfn,
        ddb,
        _data: Some(TempDir(dir)),
        _services: Some(services),
    }
}

/// The shared moto server (names in each test are unique, so tests can
/// share it).
pub async fn moto() -> Backend {
    let url = moto_url();
    let (sfn, ddb) = clients(url).await;
    Backend {
        name: "moto",
        sfn,
        ddb,
        _data: None,
        _services: None,
    }
}

fn moto_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("COUNTERSIGN_MOTO_URL") {
            return url;
        }
        let bin = std::env::var("COUNTERSIGN_MOTO_SERVER").unwrap_or_else(|_| {
            let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
            format!("{home}/.cache/countersign/moto-venv/bin/moto_server")
        });
        assert!(
            std::path::Path::new(&bin).exists(),
            "moto_server not found at {bin}: run scripts/setup --test (or set COUNTERSIGN_MOTO_SERVER)"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        // moto outlives nothing: a watcher ends it when this test binary
        // exits, however it exits.
        let watcher = format!(
            "{bin} -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; \
             while kill -0 {parent} 2>/dev/null; do sleep 0.5; done; kill $m",
            parent = std::process::id()
        );
        let mut child = Command::new("bash").arg("-c").arg(watcher).spawn().expect("start moto");
        // Reap the watcher when it ends, so it leaves no zombie behind.
        std::thread::spawn(move || child.wait());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(answer) = raw_post(
                port,
                "/moto-api/config",
                r#"{"stepfunctions":{"execute_state_machine":true}}"#,
            ) {
                // moto answers 201 Created.
                if answer.split_whitespace().nth(1).is_some_and(|code| code.starts_with('2')) {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "moto did not start on port {port}");
            std::thread::sleep(Duration::from_millis(200));
        }
        format!("http://127.0.0.1:{port}")
    })
}

fn raw_post(port: u16, path: &str, body: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}
