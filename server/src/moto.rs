//! Starts moto (PyPI), the independent AWS emulator that conformance tests
//! and benchmarks compare the embedded services against. It is installed by
//! `scripts/setup --test` into a venv; this module only runs it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// moto's server with DynamoDB writes applied one at a time, as AWS does
/// (see the script for why).
const LAUNCHER: &str = include_str!("moto_launcher.py");

/// Why moto could not be started.
#[derive(Debug, thiserror::Error)]
pub enum MotoError {
    #[error(
        "moto_server not found at {0}: run scripts/setup --test (or set COUNTERSIGN_MOTO_SERVER)"
    )]
    NotInstalled(PathBuf),
    #[error("cannot start moto: {0}")]
    Spawn(std::io::Error),
    #[error("moto did not say it listens within a minute")]
    Silent,
    #[error("moto found each of five free ports taken")]
    NoPort,
    #[error("moto did not answer on port {0} within a minute")]
    NotReady(u16),
}

/// Where `scripts/setup --test` installs moto, unless overridden. moto is
/// run by the Python beside it, through `moto_launcher.py`.
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
///
/// moto must be told its port (its Step Functions call its own endpoint
/// on it), so the port is picked here; a parallel test binary may take it
/// before moto binds it, so moto's own announcement is awaited, and a moto
/// that exits without one is started again on another port.
pub fn start() -> Result<String, MotoError> {
    let bin = moto_server_path();
    let python = bin.with_file_name("python");
    if !bin.exists() || !python.exists() {
        return Err(MotoError::NotInstalled(bin));
    }
    let mut tries = 0;
    let port = loop {
        tries += 1;
        match listen(&python)? {
            Some(port) => break port,
            None if tries < 5 => continue,
            None => return Err(MotoError::NoPort),
        }
    };
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

/// Starts moto on a port picked now: the port once moto says it listens
/// there, `None` if moto exited first (the port was taken meanwhile).
fn listen(python: &std::path::Path) -> Result<Option<u16>, MotoError> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(MotoError::Spawn)?;
    // Only moto writes to the pipe (the watcher's own output goes to
    // /dev/null), so the pipe ends when moto does.
    let watcher = format!(
        "exec 3>&1 1>/dev/null; '{}' -c \"$COUNTERSIGN_MOTO_LAUNCHER\" -H 127.0.0.1 -p {port} \
         1>&3 2>&3 3>&- & m=$!; exec 3>&-; \
         while kill -0 {parent} 2>/dev/null; do sleep 0.5; done; kill $m",
        python.display(),
        parent = std::process::id()
    );
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(watcher)
        .env("COUNTERSIGN_MOTO_LAUNCHER", LAUNCHER)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        // Nothing to say, and holding the test's stderr open past the
        // test would keep its runner waiting.
        .stderr(Stdio::null())
        .spawn()
        .map_err(MotoError::Spawn)?;
    let output = child.stdout.take().ok_or(MotoError::Silent)?;
    // Reap the watcher when it ends, so it leaves no zombie behind.
    std::thread::spawn(move || child.wait());
    let (found, announced) = std::sync::mpsc::channel();
    // Reads until the announcement, then drains moto's request log for
    // moto's whole life: a full pipe would stall it.
    std::thread::spawn(move || {
        let mut found = Some(found);
        for line in BufReader::new(output).lines() {
            let Ok(line) = line else { break };
            if announced_port(&line) == Some(port)
                && let Some(found) = found.take()
            {
                let _ = found.send(Some(port));
            }
        }
        if let Some(found) = found {
            let _ = found.send(None);
        }
    });
    announced
        .recv_timeout(Duration::from_secs(60))
        .map_err(|_| MotoError::Silent)
}

/// The port in werkzeug's ` * Running on http://127.0.0.1:PORT`.
fn announced_port(line: &str) -> Option<u16> {
    let (_, rest) = line.split_once("Running on http://127.0.0.1:")?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
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

#[cfg(test)]
mod tests {
    use super::announced_port;

    #[test]
    fn the_port_comes_from_werkzeugs_announcement() {
        assert_eq!(
            announced_port(" * Running on http://127.0.0.1:46847"),
            Some(46847)
        );
        assert_eq!(
            announced_port("\u{1b}[33mPress CTRL+C to quit\u{1b}[0m"),
            None
        );
    }
}
