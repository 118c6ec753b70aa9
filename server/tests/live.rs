//! Live updates across replicas: two `countersign serve --aws` processes on
//! one AWS endpoint (moto), as several dashboard replicas share one
//! DynamoDB. A page connected to replica B hears about an order placed
//! through replica A.

#[path = "support/backends.rs"]
mod backends;
#[path = "support/web.rs"]
mod web;

use std::io::Write;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use web::Browser;

const PASSWORD: &str = "a long enough password";

fn countersign(args: &[String]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_countersign"));
    command
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "countersign-test")
        .env("AWS_SECRET_ACCESS_KEY", "countersign-test")
        .env_remove("AWS_PROFILE");
    command
}

struct Replica {
    addr: SocketAddr,
    child: Child,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn replica(suffix: &str) -> Replica {
    let mut args = vec![
        "serve".to_owned(),
        "--listen".to_owned(),
        "127.0.0.1:0".to_owned(),
        "--provision".to_owned(),
    ];
    args.extend(backends::aws_args(suffix));
    let (child, addrs) =
        backends::spawn_announced(countersign(&args).stderr(Stdio::null()), &["dashboard on "]);
    let addr = addrs[0];
    let replica = Replica { addr, child };
    let probe = Browser::at(addr);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = probe.try_get("/readyz").await
            && r.status == 200
        {
            return replica;
        }
        assert!(Instant::now() < deadline, "replica never became ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn add_user(suffix: &str, name: &str, role: &str) {
    let mut args: Vec<String> = ["users", "add", name, "--role", role]
        .map(str::to_owned)
        .to_vec();
    args.extend(backends::aws_args(suffix));
    let mut child = countersign(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("users add");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .expect("password");
    let out = child.wait_with_output().expect("users add ran");
    assert!(
        out.status.success(),
        "users add: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An open `GET /live` stream with `cookie`.
async fn open_stream(addr: SocketAddr, cookie: Option<&str>) -> tokio::net::TcpStream {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    stream
        .write_all(
            format!(
                "GET /live HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n{cookie}\r\n"
            )
            .as_bytes(),
        )
        .await
        .expect("request");
    stream
}

/// What arrives on `stream` within `wait`.
async fn read_for(stream: &mut tokio::net::TcpStream, wait: Duration) -> String {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    let mut buffer = [0u8; 4096];
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buffer[..n]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test]
async fn a_change_on_one_replica_reaches_pages_on_another() {
    let suffix = backends::unique("live");
    let a = replica(&suffix).await;
    let b = replica(&suffix).await;
    add_user(&suffix, "carol", "customer");
    add_user(&suffix, "sam", "staff");

    // Without a session the stream is refused.
    let mut anonymous = open_stream(b.addr, None).await;
    let refused = read_for(&mut anonymous, Duration::from_secs(2)).await;
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");

    let mut sam = Browser::at(b.addr);
    let r = sam.sign_in("sam", PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut stream = open_stream(b.addr, sam.cookie.as_deref()).await;
    let quiet = read_for(&mut stream, Duration::from_secs(2)).await;
    assert!(quiet.starts_with("HTTP/1.1 200"), "{quiet}");
    assert!(quiet.contains("text/event-stream"), "{quiet}");
    assert!(
        !quiet.contains("event: changed"),
        "nothing happened yet, yet: {quiet}"
    );

    // Carol orders through replica A; sam's stream on B hears of it.
    let mut carol = Browser::at(a.addr);
    let r = carol.sign_in("carol", PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = carol.post("/api/orders/place", &[("items", "Lamp")]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let heard = read_for(&mut stream, Duration::from_secs(5)).await;
    assert!(heard.contains("event: changed"), "{heard}");
}
