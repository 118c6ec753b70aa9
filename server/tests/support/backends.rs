#![allow(
    dead_code,
    reason = "each test binary uses its own part of this support module"
)]

//! The two sides every conformance test runs against: the embedded services
//! (dynoxide + our engine, in-process) and moto, an independent AWS
//! emulator, started once per test binary from the venv `scripts/setup
//! --test` installs.

use std::path::PathBuf;
use std::sync::OnceLock;

use countersign_server::embedded::EmbeddedServices;

pub struct Backend {
    pub name: &'static str,
    pub sfn: aws_sdk_sfn::Client,
    pub ddb: aws_sdk_dynamodb::Client,
    /// What the clients were made from, for tests that make their own
    /// (with a fault-injecting interceptor, say).
    pub config: aws_config::SdkConfig,
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

/// Fresh embedded services in a temporary data directory, reached as
/// `serve` reaches them: in-process, without a socket.
pub async fn embedded() -> Backend {
    let dir = std::env::temp_dir().join(unique("countersign-conformance"));
    let services = EmbeddedServices::start(&dir, None)
        .await
        .expect("embedded services start");
    let config = countersign_server::aws::in_process_config(services.in_process_client()).await;
    Backend {
        name: "embedded",
        sfn: aws_sdk_sfn::Client::new(&config),
        ddb: aws_sdk_dynamodb::Client::new(&config),
        config,
        _data: Some(TempDir(dir)),
        _services: Some(services),
    }
}

/// The shared moto server (names in each test are unique, so tests can
/// share it).
pub async fn moto() -> Backend {
    let config = countersign_server::aws::local_config(moto_url()).await;
    Backend {
        name: "moto",
        sfn: aws_sdk_sfn::Client::new(&config),
        ddb: aws_sdk_dynamodb::Client::new(&config),
        config,
        _data: None,
        _services: None,
    }
}

pub fn moto_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| match std::env::var("COUNTERSIGN_MOTO_URL") {
        Ok(url) => url,
        Err(_) => countersign_server::moto::start().unwrap_or_else(|e| panic!("{e}")),
    })
}

/// The flags that put a `countersign` process in AWS mode on the test's
/// moto, with every table named `<suffix>-<table>`.
#[allow(dead_code, reason = "only the tests that start processes use it")]
pub fn aws_args(suffix: &str) -> Vec<String> {
    let mut args: Vec<String> = [
        "--aws",
        "--aws-region",
        "us-east-1",
        "--aws-endpoint-url",
        moto_url(),
    ]
    .map(str::to_owned)
    .to_vec();
    for table in [
        "orders",
        "actions",
        "decisions",
        "documents",
        "signature-requests",
        "users",
        "sessions",
        "meta",
        "api-keys",
        "tasks",
        "views",
    ] {
        args.push(format!("--{table}-table"));
        args.push(format!("{suffix}-{table}"));
    }
    args
}

/// Spawns `command` (a `countersign` process told to listen on port 0)
/// with its stdout piped, and returns it with the address that follows
/// `http://` in the first line holding each of `announcements`, in order.
///
/// Port 0 and the child's own word, rather than a port picked here: a
/// port free when picked may be taken by a parallel test binary before the
/// child binds it.
pub fn spawn_announced(
    command: &mut std::process::Command,
    announcements: &[&'static str],
) -> (std::process::Child, Vec<std::net::SocketAddr>) {
    use std::io::BufRead;
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let output = child.stdout.take().expect("piped stdout");
    let wanted: Vec<&'static str> = announcements.to_vec();
    let (found, heard) = std::sync::mpsc::channel();
    // Reads to the end of the child's life after the announcements too: a
    // full pipe would stall its logging.
    std::thread::spawn(move || {
        let mut addrs = vec![None; wanted.len()];
        let mut found = Some(found);
        for line in std::io::BufReader::new(output).lines() {
            let Ok(line) = line else { break };
            for (slot, announcement) in addrs.iter_mut().zip(&wanted) {
                if slot.is_none()
                    && let Some((_, rest)) = line.split_once(announcement)
                    && let Some((_, addr)) = rest.split_once("http://")
                {
                    let addr: String = addr
                        .chars()
                        .take_while(|c| c.is_ascii_digit() || matches!(c, '.' | ':' | '[' | ']'))
                        .collect();
                    *slot = addr.parse::<std::net::SocketAddr>().ok();
                }
            }
            if addrs.iter().all(Option::is_some)
                && let Some(found) = found.take()
            {
                let _ = found.send(addrs.iter().flatten().copied().collect::<Vec<_>>());
            }
        }
    });
    match heard.recv_timeout(std::time::Duration::from_secs(60)) {
        Ok(addrs) => (child, addrs),
        Err(_) => {
            let status = child.try_wait().ok().flatten();
            let _ = child.kill();
            panic!("the child never announced {announcements:?} (exit: {status:?})");
        }
    }
}

/// The execution's status and output (JSON) once it has ended; panics if
/// it runs on for 30 s.
pub async fn ended(sfn: &aws_sdk_sfn::Client, execution: &str) -> (String, serde_json::Value) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let out = sfn
            .describe_execution()
            .execution_arn(execution)
            .send()
            .await
            .expect("describe");
        if out.status().as_str() != "RUNNING" {
            let output = out
                .output()
                .and_then(|o| serde_json::from_str(o).ok())
                .unwrap_or(serde_json::Value::Null);
            return (out.status().as_str().to_owned(), output);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{execution} never ended"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
