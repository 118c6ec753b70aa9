//! The HTTP surface of `serve`, driven over a real socket: health, readiness,
//! a page rendered with data, and a server function round trip to the
//! embedded DynamoDB.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use countersign_server::{ServeConfig, serve};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

struct Running {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), countersign_server::ServeError>>,
    _data: TempDir,
}

/// A directory removed when dropped, without pulling in a crate for it.
struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn start() -> Running {
    let dir = std::env::temp_dir().join(format!(
        "countersign-http-test-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let config = ServeConfig {
        data_dir: dir.clone(),
        site_dir: dir.join("site"),
        aws: None,
        tables: Default::default(),
        demo: false,
    };
    let task = tokio::spawn(serve(config, listener, async move {
        let _ = stopped.await;
    }));
    let running = Running {
        addr,
        stop,
        task,
        _data: TempDir(dir),
    };
    wait_ready(running.addr).await;
    running
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

async fn wait_ready(addr: SocketAddr) {
    for _ in 0..200 {
        if let Ok((200, _)) = get(addr, "/readyz").await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("server at {addr} never became ready");
}

/// A minimal HTTP/1.1 client: enough for these checks, and it keeps the
/// test free of another HTTP stack.
async fn request(addr: SocketAddr, raw: String) -> std::io::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.write_all(raw.as_bytes()).await?;
    let mut buf = Vec::new();
    stream.read_to_end(&mut buf).await?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

async fn get(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    request(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
    .await
}

async fn post_json(addr: SocketAddr, path: &str) -> std::io::Result<(u16, String)> {
    request(
        addr,
        format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
    )
    .await
}

/// The path of the server function behind the start page's form.
fn record_check_path(html: &str) -> String {
    let start = html
        .find("/api/record_service_check")
        .expect("form action in page");
    let end = html[start..].find('"').expect("end of action") + start;
    html[start..end].to_owned()
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let server = start().await;
    assert_eq!(
        get(server.addr, "/healthz").await.expect("healthz"),
        (200, "ok".into())
    );
    assert_eq!(
        get(server.addr, "/readyz").await.expect("readyz"),
        (200, "ready".into())
    );
    let _ = server.stop.send(());
    server.task.await.expect("join").expect("clean shutdown");
}

#[tokio::test]
async fn the_start_page_shows_what_the_server_function_recorded() {
    let server = start().await;
    let (status, page) = get(server.addr, "/").await.expect("page");
    assert_eq!(status, 200);
    assert!(page.contains("Service checks recorded: 0"), "{page}");

    let path = record_check_path(&page);
    for expected in 1..=3 {
        let (status, body) = post_json(server.addr, &path).await.expect("server fn");
        assert_eq!(status, 200, "{body}");
        assert!(body.contains(&format!("\"count\":{expected}")), "{body}");
    }
    let (_, page) = get(server.addr, "/").await.expect("page");
    assert!(page.contains("Service checks recorded: 3"), "{page}");
    let _ = server.stop.send(());
    server.task.await.expect("join").expect("clean shutdown");
}

#[tokio::test]
async fn the_count_survives_a_restart_on_the_same_data_dir() {
    let server = start().await;
    let (_, page) = get(server.addr, "/").await.expect("page");
    let path = record_check_path(&page);
    post_json(server.addr, &path).await.expect("server fn");
    let data_dir = server._data.0.clone();
    let _ = server.stop.send(());
    server.task.await.expect("join").expect("clean shutdown");

    // Same directory, new process-equivalent: a fresh serve() on it.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let config = ServeConfig {
        data_dir: data_dir.clone(),
        site_dir: data_dir.join("site"),
        aws: None,
        tables: Default::default(),
        demo: false,
    };
    let task = tokio::spawn(serve(config, listener, async move {
        let _ = stopped.await;
    }));
    wait_ready(addr).await;
    let (_, page) = get(addr, "/").await.expect("page");
    assert!(page.contains("Service checks recorded: 1"), "{page}");
    let _ = stop.send(());
    task.await.expect("join").expect("clean shutdown");
    let _cleanup = TempDir(data_dir);
}
