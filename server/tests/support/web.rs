#![allow(
    dead_code,
    reason = "each test binary uses its own part of this support module"
)]

//! A whole `serve` on a loopback port with its own data directory, and a
//! small cookie-keeping HTTP client that talks to it as a browser would
//! (same-origin `Origin`, form posts to server functions).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use countersign_domain::users::{Accounts, Role};
use countersign_server::{ServeConfig, serve};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub struct Server {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), countersign_server::ServeError>>>,
}

pub fn config(data_dir: PathBuf) -> ServeConfig {
    ServeConfig {
        workflows_dirs: Vec::new(),
        site_dir: data_dir.join("site"),
        data_dir,
        aws: None,
        tables: Default::default(),
        demo: false,
        services_socket: None,
        decisions: Default::default(),
        web: countersign_server::web::WebSettings {
            idle_secs: 3600,
            ..Default::default()
        },
        policy: Default::default(),
        limits: Default::default(),
        files: Default::default(),
    }
}

impl Server {
    /// A server with the default settings in a fresh directory.
    pub async fn start() -> Server {
        Self::start_with(|_| {}).await
    }

    /// A server with settings changed by `adjust`.
    pub async fn start_with(adjust: impl FnOnce(&mut ServeConfig)) -> Server {
        let dir = std::env::temp_dir().join(super::backends::unique("countersign-web"));
        let mut config = config(dir.clone());
        adjust(&mut config);
        Self::start_config(config).await
    }

    pub async fn start_config(config: ServeConfig) -> Server {
        let data_dir = config.data_dir.clone();
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(config, listener, async move {
            let _ = stopped.await;
        }));
        let server = Server {
            addr,
            data_dir,
            stop: Some(stop),
            task: Some(task),
        };
        let probe = server.anonymous();
        for _ in 0..400 {
            if let Ok(r) = probe.try_get("/readyz").await
                && r.status == 200
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("server at {addr} never became ready");
    }

    /// Stops the server, keeping its data directory.
    pub async fn stop(mut self) -> PathBuf {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("join").expect("clean shutdown");
        }
        std::mem::take(&mut self.data_dir)
    }

    /// The users of this server's data, reached as `countersign users`
    /// does: through the DynamoDB file, beside the running server.
    pub async fn add_user(&self, name: &str, roles: &[Role], password: &str) {
        let (accounts, embedded) = self.accounts().await;
        accounts
            .add_user(name, roles, password)
            .await
            .expect("add user");
        if let Some(e) = embedded {
            e.stop().await;
        }
    }

    pub async fn accounts(
        &self,
    ) -> (
        Accounts,
        Option<countersign_server::embedded::EmbeddedServices>,
    ) {
        let embedded =
            countersign_server::embedded::EmbeddedServices::start_dynamodb(&self.data_dir)
                .expect("dynamodb");
        let sdk = countersign_server::aws::in_process_config(embedded.in_process_client()).await;
        let accounts = Accounts {
            ddb: aws_sdk_dynamodb::Client::new(&sdk),
            tables: Default::default(),
        };
        (accounts, Some(embedded))
    }

    pub fn anonymous(&self) -> Browser {
        Browser {
            addr: self.addr,
            cookie: None,
            origin: Some(format!("http://{}", self.addr)),
            http: HyperClient::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// A browser signed in as `name`.
    pub async fn signed_in(&self, name: &str, password: &str) -> Browser {
        let mut browser = self.anonymous();
        let r = browser.sign_in(name, password).await;
        assert_eq!(r.status, 200, "sign-in of {name}: {}", r.body);
        browser
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if !self.data_dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Keeps the session cookie as a browser would.
#[derive(Clone)]
pub struct Browser {
    pub addr: SocketAddr,
    /// `countersign_session=…`
    pub cookie: Option<String>,
    /// Sent as `Origin` on posts; `None` sends none.
    pub origin: Option<String>,
    http: HyperClient<HttpConnector, Full<Bytes>>,
}

impl Browser {
    /// A browser without a session, for a server at `addr` (a child
    /// process, say).
    pub fn at(addr: SocketAddr) -> Browser {
        Browser {
            addr,
            cookie: None,
            origin: Some(format!("http://{addr}")),
            http: HyperClient::builder(TokioExecutor::new()).build_http(),
        }
    }

    pub async fn try_get(&self, path: &str) -> Result<Response, String> {
        self.send("GET", path, Vec::new(), &[]).await
    }

    pub async fn get(&mut self, path: &str) -> Response {
        let r = self.send("GET", path, Vec::new(), &[]).await.expect("GET");
        self.keep_cookie(&r);
        r
    }

    /// Posts a form to `path` as a server-function call from a page.
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Response {
        self.post_with(path, form, &[]).await
    }

    pub async fn post_with(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> Response {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let r = self
            .send("POST", path, body.into_bytes(), headers)
            .await
            .expect("POST");
        self.keep_cookie(&r);
        r
    }

    /// Posts files as a page's plain upload form does (multipart, each
    /// part named `file`).
    pub async fn upload(&mut self, path: &str, files: &[(&str, &[u8])]) -> Response {
        let (body, content_type) = multipart(files);
        let r = self
            .send(
                "POST",
                path,
                body,
                &[("content-type", &content_type), ("accept", "text/html")],
            )
            .await
            .expect("POST");
        self.keep_cookie(&r);
        r
    }

    /// A GET with headers of the caller's own (`Accept`, say).
    pub async fn get_with(&mut self, path: &str, headers: &[(&str, &str)]) -> Response {
        let r = self
            .send("GET", path, Vec::new(), headers)
            .await
            .expect("GET");
        self.keep_cookie(&r);
        r
    }

    pub async fn sign_in(&mut self, name: &str, password: &str) -> Response {
        self.post(
            "/api/auth/sign_in",
            &[("name", name), ("password", password)],
        )
        .await
    }

    fn keep_cookie(&mut self, r: &Response) {
        for (k, v) in &r.headers {
            if k.eq_ignore_ascii_case("set-cookie")
                && let Some(pair) = v.split(';').next()
                && pair.starts_with("countersign_session=")
            {
                let removed = v.contains("Max-Age=0") || pair == "countersign_session=";
                self.cookie = (!removed).then(|| pair.to_owned());
            }
        }
    }

    async fn send(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
        extra: &[(&str, &str)],
    ) -> Result<Response, String> {
        let mut headers = Vec::new();
        // A page's own Accept (a plain form post's `text/html`) wins.
        if !extra.iter().any(|(k, _)| k.eq_ignore_ascii_case("accept")) {
            headers.push(("accept", "application/json"));
        }
        if method == "POST" {
            if !extra
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                headers.push(("content-type", "application/x-www-form-urlencoded"));
            }
            if let Some(origin) = &self.origin {
                headers.push(("origin", origin));
            }
        }
        if let Some(cookie) = &self.cookie {
            headers.push(("cookie", cookie));
        }
        headers.extend_from_slice(extra);
        request(&self.http, self.addr, method, path, body, &headers).await
    }
}

/// A machine caller of the REST API: JSON in and out, an API key, no
/// cookies and no `Origin`.
#[derive(Clone)]
pub struct Api {
    pub addr: SocketAddr,
    pub key: Option<String>,
    http: HyperClient<HttpConnector, Full<Bytes>>,
}

/// A multipart body of `files`, each in a part named `file`, and its
/// content type.
pub fn multipart(files: &[(&str, &[u8])]) -> (Vec<u8>, String) {
    let boundary = "----countersign-test-boundary-7f3a";
    let mut body = Vec::new();
    for (name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (body, format!("multipart/form-data; boundary={boundary}"))
}

impl Api {
    pub fn new(addr: SocketAddr, key: Option<&str>) -> Api {
        Api {
            addr,
            key: key.map(str::to_owned),
            http: HyperClient::builder(TokioExecutor::new()).build_http(),
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.raw("GET", path, Vec::new(), &[]).await
    }

    pub async fn post(&self, path: &str, body: &serde_json::Value) -> Response {
        self.raw(
            "POST",
            path,
            body.to_string().into_bytes(),
            &[("content-type", "application/json")],
        )
        .await
    }

    /// Files as a multipart upload (each part named `file`).
    pub async fn upload(&self, path: &str, files: &[(&str, &[u8])]) -> Response {
        let (body, content_type) = multipart(files);
        self.raw("POST", path, body, &[("content-type", &content_type)])
            .await
    }

    /// Any request; the key (if any) is added.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Response {
        self.try_raw(method, path, body, headers)
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    pub async fn try_raw(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Result<Response, String> {
        let auth = self.key.as_ref().map(|k| format!("Bearer {k}"));
        let mut all = headers.to_vec();
        if let Some(auth) = &auth {
            all.push(("authorization", auth));
        }
        request(&self.http, self.addr, method, path, body, &all).await
    }
}

impl Api {
    /// One JSON POST per body, each on its own connection, all of which
    /// the server has begun to handle before any body is sent. Each asks
    /// `Expect: 100-continue`, and the server answers `100 Continue` only
    /// when the handler first reads the body, so once every connection
    /// has its `100` every call has arrived in the server's sense, however
    /// loaded the machine: what "at once" means for a race, with no sleep.
    pub async fn posts_arrived_together(
        &self,
        path: &str,
        bodies: &[serde_json::Value],
    ) -> Vec<Response> {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
        let opened = bodies.iter().map(|body| async move {
            let body = body.to_string().into_bytes();
            let mut head = format!(
                "POST {path} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\nexpect: 100-continue\r\nconnection: close\r\n",
                self.addr,
                body.len()
            );
            if let Some(key) = &self.key {
                head.push_str(&format!("authorization: Bearer {key}\r\n"));
            }
            head.push_str("\r\n");
            let mut stream = tokio::net::TcpStream::connect(self.addr)
                .await
                .expect("connect");
            stream.write_all(head.as_bytes()).await.expect("send head");
            let mut stream = BufReader::new(stream);
            let mut line = String::new();
            stream.read_line(&mut line).await.expect("interim answer");
            assert!(
                line.starts_with("HTTP/1.1 100 "),
                "{path} answered before reading the body: {line}"
            );
            line.clear();
            stream.read_line(&mut line).await.expect("end of interim");
            assert_eq!(line, "\r\n");
            (stream, body)
        });
        let held = futures_util::future::join_all(opened).await;
        let sent = held.into_iter().map(|(mut stream, body)| async move {
            stream.get_mut().write_all(&body).await.expect("send body");
            let mut raw = Vec::new();
            stream.read_to_end(&mut raw).await.expect("answer");
            parse_response(&raw)
        });
        futures_util::future::join_all(sent).await
    }
}

/// An HTTP/1.1 answer read to the end of a closed connection.
fn parse_response(raw: &[u8]) -> Response {
    let text = String::from_utf8_lossy(raw);
    let (head, rest) = text.split_once("\r\n\r\n").expect("a whole head");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        let mut body = String::new();
        let mut rest = rest;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
            if size == 0 {
                break;
            }
            body.push_str(&after[..size]);
            rest = &after[size + 2..];
        }
        body
    } else {
        rest.to_owned()
    };
    Response {
        status,
        headers,
        body,
    }
}

/// Every response body this test binary has received, for the scans that
/// make sure no task token ever reaches a caller.
pub fn seen_bodies() -> Vec<String> {
    SEEN.lock().map(|s| s.clone()).unwrap_or_default()
}

static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

async fn request(
    http: &HyperClient<HttpConnector, Full<Bytes>>,
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> Result<Response, String> {
    let mut builder = hyper::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let request = builder
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let response = http.request(request).await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok(Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
