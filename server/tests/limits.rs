//! What one client may hold of the server: a connection that trickles its
//! headers is cut off, a request that never finishes is answered 408, at
//! most so many connections are served at once, and a session may keep
//! only a few `/live` streams open (and everyone together only so many).
//! The limits are set small here; the waits are the server's own limits,
//! not sleeps of the test's.

#[path = "support/backends.rs"]
mod backends;
#[path = "support/web.rs"]
mod web;

use std::time::{Duration, Instant};

use countersign_domain::users::Role;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use web::Server;

const PASSWORD: &str = "a-long-enough-password";

/// Reads until the server closes the connection; answers what it sent.
async fn until_closed(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut answer = Vec::new();
    tokio::time::timeout(within, stream.read_to_end(&mut answer))
        .await
        .ok()?
        .ok()?;
    Some(String::from_utf8_lossy(&answer).into_owned())
}

#[tokio::test]
async fn a_slow_header_sender_is_cut_off_and_a_stuck_request_gets_408() {
    let server = Server::start_with(|c| {
        c.limits.connections.header_read_timeout = Duration::from_millis(300);
        c.limits.request_timeout = Duration::from_millis(500);
    })
    .await;

    // Slowloris: half a request head, then nothing.
    let mut slow = TcpStream::connect(server.addr).await.expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .expect("write");
    let started = Instant::now();
    let closed = until_closed(&mut slow, Duration::from_secs(10)).await;
    assert!(closed.is_some(), "the connection stayed open");
    assert!(started.elapsed() < Duration::from_secs(5));

    // A body announced and never sent: the request is answered 408.
    let mut stuck = TcpStream::connect(server.addr).await.expect("connect");
    let head = format!(
        "POST /api/auth/sign_in HTTP/1.1\r\nHost: {}\r\nOrigin: http://{}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nname=",
        server.addr, server.addr
    );
    stuck.write_all(head.as_bytes()).await.expect("write");
    let mut answer = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(10), stuck.read(&mut answer))
        .await
        .expect("answered before the test gave up")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");

    // Everyone else is served as usual.
    let probe = server.anonymous();
    assert_eq!(probe.try_get("/healthz").await.expect("get").status, 200);
    server.stop().await;
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_until_one_closes() {
    let server = Server::start_with(|c| c.limits.connections.max_connections = 2).await;
    // Two idle connections take both places.
    let first = TcpStream::connect(server.addr).await.expect("connect");
    let _second = TcpStream::connect(server.addr).await.expect("connect");
    // The kernel accepts a third, but it is not served …
    let mut third = TcpStream::connect(server.addr).await.expect("connect");
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut buffer = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(500), third.read(&mut buffer)).await;
    assert!(early.is_err(), "served beyond the cap");
    // … until a place is free.
    drop(first);
    let answer = until_closed(&mut third, Duration::from_secs(10))
        .await
        .expect("served once a place was free");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(_second);
    server.stop().await;
}

/// Opens `/live` with `cookie`; answers the status and the open stream.
async fn live(server: &Server, cookie: &str) -> (u16, TcpStream) {
    let mut stream = TcpStream::connect(server.addr).await.expect("connect");
    let request = format!(
        "GET /live HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n",
        server.addr
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut head = vec![0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut head))
        .await
        .expect("answered")
        .expect("read");
    let text = String::from_utf8_lossy(&head[..n]);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, stream)
}

#[tokio::test]
async fn a_session_holds_only_a_few_live_streams_and_everyone_only_so_many() {
    let server = Server::start_with(|c| {
        c.limits.live.per_session = 2;
        c.limits.live.total = 3;
    })
    .await;
    server.add_user("sam", &[Role::Staff], PASSWORD).await;
    server.add_user("pat", &[Role::Staff], PASSWORD).await;
    let sam = server.signed_in("sam", PASSWORD).await;
    let pat = server.signed_in("pat", PASSWORD).await;
    let (sam_cookie, pat_cookie) = (sam.cookie.expect("cookie"), pat.cookie.expect("cookie"));

    let (status, one) = live(&server, &sam_cookie).await;
    assert_eq!(status, 200);
    let (status, _two) = live(&server, &sam_cookie).await;
    assert_eq!(status, 200);
    let (status, _) = live(&server, &sam_cookie).await;
    assert_eq!(status, 429, "a third stream for one session");

    // Another session has its own share, up to the total.
    let (status, _three) = live(&server, &pat_cookie).await;
    assert_eq!(status, 200);
    let (status, _) = live(&server, &pat_cookie).await;
    assert_eq!(status, 429, "beyond the total");

    // A closed stream gives its place back.
    drop(one);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, stream) = live(&server, &sam_cookie).await;
        if status == 200 {
            drop(stream);
            break;
        }
        assert!(Instant::now() < deadline, "the place never came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.stop().await;
}
