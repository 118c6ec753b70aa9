//! The `countersign serve` child the figures are taken from, and the
//! HTTP calls made to it (signed in as a staff browser would be).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::Value;

use crate::bench::BenchError;

pub(super) type Http = Client<HttpConnector, Full<Bytes>>;

pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) headers: hyper::HeaderMap,
    pub(super) body: Bytes,
}

pub(super) fn fail(what: &str, e: impl std::fmt::Debug) -> BenchError {
    BenchError::Call {
        backend: "dashboard".into(),
        message: format!("{what}: {e:?}"),
    }
}

pub(super) async fn call(
    http: &Http,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Result<Answer, BenchError> {
    let mut request = hyper::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let request = request
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| fail(url, e))?;
    let response = http.request(request).await.map_err(|e| fail(url, e))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| fail(url, e))?
        .to_bytes();
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// Writes `items` (at most 25) to `table` with BatchWriteItem, again for
/// whatever comes back unprocessed; false if a call fails.
pub(super) async fn put_batch(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    items: Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>,
) -> bool {
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    let rows: Vec<WriteRequest> = items
        .into_iter()
        .filter_map(|item| {
            let put = PutRequest::builder().set_item(Some(item)).build().ok()?;
            Some(WriteRequest::builder().put_request(put).build())
        })
        .collect();
    let mut pending = Some(std::collections::HashMap::from([(table.to_owned(), rows)]));
    while let Some(items) = pending.take().filter(|m| !m.is_empty()) {
        match ddb
            .batch_write_item()
            .set_request_items(Some(items))
            .send()
            .await
        {
            Ok(out) => pending = out.unprocessed_items().cloned(),
            Err(_) => return false,
        }
    }
    true
}

pub(super) fn json_of(answer: &Answer) -> Value {
    serde_json::from_slice(&answer.body).unwrap_or(Value::Null)
}

/// A `countersign serve` child with its own data directory.
pub(super) struct Server {
    pub(super) process: std::process::Child,
    pub(super) base: String,
    pub(super) services: SocketAddr,
    pub(super) credential: crate::embedded::Credential,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

pub(super) fn free_addr() -> Result<SocketAddr, BenchError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| fail("a free port", e))
}

impl Server {
    /// Starts the server on `data` and returns it with the time from spawn
    /// to the first `200` from `/readyz`.
    pub(super) async fn start(
        http: &Http,
        data: &Path,
        site: &Path,
    ) -> Result<(Server, Duration), BenchError> {
        let listen = free_addr()?;
        let services = free_addr()?;
        let credential = crate::embedded::Credential {
            access_key_id: "bench".into(),
            secret_access_key: countersign_domain::users::generate_password(),
        };
        let exe = std::env::current_exe().map_err(|e| fail("own executable", e))?;
        let started = Instant::now();
        let process = std::process::Command::new(exe)
            .args(["serve", "--listen", &listen.to_string()])
            .args(["--services-listen", &services.to_string()])
            .args(["--access-key-id", &credential.access_key_id])
            .env(
                "COUNTERSIGN_SERVICES_SECRET_ACCESS_KEY",
                &credential.secret_access_key,
            )
            .arg("--data-dir")
            .arg(data)
            .arg("--site-dir")
            .arg(site)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| fail("starting serve", e))?;
        let server = Server {
            process,
            base: format!("http://{listen}"),
            services,
            credential,
        };
        let deadline = started + Duration::from_secs(60);
        loop {
            let ready = call(http, "GET", &format!("{}/readyz", server.base), &[], vec![])
                .await
                .is_ok_and(|a| a.status == 200);
            if ready {
                return Ok((server, started.elapsed()));
            }
            if Instant::now() > deadline {
                return Err(fail("serve", "never became ready"));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Resident memory, from the kernel's own count.
    pub(super) fn rss_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.process.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    }

    pub(super) async fn sdk(&self) -> aws_config::SdkConfig {
        crate::aws::embedded_config(self.services, &self.credential).await
    }
}

/// A signed-in staff browser's cookie.
pub(super) async fn sign_in(
    http: &Http,
    server: &Server,
    password: &str,
) -> Result<String, BenchError> {
    let body = format!("name=bench-staff&password={}", password.replace(' ', "+"));
    let a = call(
        http,
        "POST",
        &format!("{}/api/auth/sign_in", server.base),
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("accept", "application/json"),
            ("origin", &server.base),
        ],
        body.into_bytes(),
    )
    .await?;
    a.headers
        .get_all(hyper::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|c| c.starts_with("countersign_session="))
        .map(str::to_owned)
        .ok_or_else(|| fail("signing in", String::from_utf8_lossy(&a.body).into_owned()))
}
