//! Starts moto (PyPI), the independent AWS emulator that conformance tests
//! and benchmarks compare the embedded services against. It is installed by
//! `scripts/setup --test` into a venv; this module only runs it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// Why moto could not be started.
#[derive(Debug, thiserror::Error)]
pub enum MotoError {
    #[error(
        "moto_server not found at {0}: run scripts/setup --test (or set COUNTERSIGN_MOTO_SERVER)"
    )]
    NotInstalled(PathBuf),
    #[error("cannot start moto: {0}")]
    Spawn(std::io::Error),
    #[error("moto did not answer on port {0} within a minute")]
    NotReady(u16),
}

/// Where `scripts/setup --test` installs moto, unless overridden.
pub fn moto_server_path() -> PathBuf {
    if let Ok(path) = std::env::var("COUNTERSIGN_MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let cache = std::env::var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into())).join(".cache")
        });
    cache.join("countersign/moto-venv/bin/moto_server")
}

/// Starts moto on a free loopback port with state machine execution
/// switched on, and returns its URL. moto ends when this process ends,
/// however it ends: a small watcher outlives neither.
pub fn start() -> Result<String, MotoError> {
    let bin = moto_server_path();
    if !bin.exists() {
        return Err(MotoError::NotInstalled(bin));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(MotoError::Spawn)?;
    let watcher = format!(
        "'{}' -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; \
         while kill -0 {parent} 2>/dev/null; do sleep 0.5; done; kill $m",
        bin.display(),
        parent = std::process::id()
    );
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(watcher)
        .spawn()
        .map_err(MotoError::Spawn)?;
    // Reap the watcher when it ends, so it leaves no zombie behind.
    std::thread::spawn(move || child.wait());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(answer) = post(
            port,
            "/moto-api/config",
            r#"{"stepfunctions":{"execute_state_machine":true}}"#,
        ) {
            // moto answers 201 Created.
            if answer
                .split_whitespace()
                .nth(1)
                .is_some_and(|code| code.starts_with('2'))
            {
                return Ok(format!("http://127.0.0.1:{port}"));
            }
        }
        if Instant::now() > deadline {
            return Err(MotoError::NotReady(port));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn post(port: u16, path: &str, body: &str) -> std::io::Result<String> {
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
