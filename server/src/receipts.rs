//! Receipts for browsers and scripts: `/.well-known/countersign-receipt-key`
//! (the public key, a JWK, for anyone) and a decision's receipt as JSON at
//! `GET /receipts/{decision}` when JSON is asked for (`Accept:
//! application/json`, or `?format=json`; `&download` saves it as a file).
//! A browser asking for HTML gets the receipt page instead (the app's).

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use countersign_app::error::AppError;
use tower_sessions::Session;

use crate::readiness::Readiness;

/// Where the public key is served.
pub const KEY_PATH: &str = "/.well-known/countersign-receipt-key";

pub async fn public_key(State(readiness): State<Readiness>) -> Response {
    let Some(backend) = readiness.backend() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "starting").into_response();
    };
    match backend.domain.receipts().public_key().await {
        Ok(key) => Json(key).into_response(),
        Err(error) => {
            let error = AppError::from(error);
            (error.status(), error.to_string()).into_response()
        }
    }
}

/// Whether a request for a receipt wants JSON rather than the page.
fn wants_json(request: &Request) -> bool {
    let query = request.uri().query().unwrap_or_default();
    if query.split('&').any(|pair| pair == "format=json") {
        return true;
    }
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    accept.contains("application/json") && !accept.contains("text/html")
}

/// Answers `GET /receipts/{id}` with the receipt file when JSON is asked
/// for; everything else goes on to the pages.
pub async fn json_or_page(
    State(readiness): State<Readiness>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let Some(id) = path.strip_prefix("/receipts/") else {
        return next.run(request).await;
    };
    if id.is_empty() || id.contains('/') || !wants_json(&request) {
        return next.run(request).await;
    }
    let download = request
        .uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .any(|pair| pair == "download");
    let Some(session) = request.extensions().get::<Session>().cloned() else {
        return next.run(request).await;
    };
    let id = percent_decode(id);
    let result = async {
        let backend = readiness.backend().ok_or(AppError::Unavailable)?;
        let services = countersign_app::services::Services {
            domain: backend.domain.clone(),
            policy: backend.policy,
            kinds: backend.kinds.clone(),
        };
        let user = countersign_app::auth::session_user(&services, &session)
            .await?
            .ok_or(AppError::SignInRequired)?;
        let signed = countersign_domain::access::receipt(&services.domain, &user, &id).await?;
        Ok::<_, AppError>(countersign_domain::receipts::to_file(&signed))
    }
    .await;
    match result {
        Ok(file) => {
            let mut response = file.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            if download
                && let Ok(value) = HeaderValue::from_str(&format!(
                    "attachment; filename=\"receipt-{}.json\"",
                    countersign_app::words::urlencode(&id)
                ))
            {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Err(error) => (
            error.status(),
            Json(serde_json::json!({"error": error.to_string()})),
        )
            .into_response(),
    }
}

/// `%XX` escapes back to bytes (ids are ASCII; anything else is kept).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        // Read from bytes: a `%` before a multi-byte character must not
        // slice through it.
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(hex) = std::str::from_utf8(&bytes[i + 1..i + 3])
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Why `countersign receipts verify` could not say yes.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{0} is not a receipt key (the JSON from /.well-known/countersign-receipt-key)")]
    Key(std::path::PathBuf),
    #[error("{0} has no file name")]
    Name(std::path::PathBuf),
    #[error(transparent)]
    Invalid(#[from] countersign_domain::receipts::Invalid),
}

/// Checks a receipt file against a key file and the given files (each
/// matched to the receipt by its file name); says what it proved.
pub fn verify_files(
    receipt: &std::path::Path,
    key: &std::path::Path,
    files: &[std::path::PathBuf],
) -> Result<String, VerifyError> {
    let read = |path: &std::path::Path| {
        std::fs::read(path).map_err(|source| VerifyError::Read {
            path: path.to_owned(),
            source,
        })
    };
    let receipt_bytes = read(receipt)?;
    let key: countersign_domain::receipts::PublicKey =
        serde_json::from_slice(&read(key)?).map_err(|_| VerifyError::Key(key.to_owned()))?;
    let mut given = Vec::with_capacity(files.len());
    for path in files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| VerifyError::Name(path.clone()))?;
        given.push((name.to_owned(), read(path)?));
    }
    let r = countersign_domain::receipts::verify(&receipt_bytes, &key, &given)?;
    let unchecked = r
        .files
        .iter()
        .filter(|f| !given.iter().any(|(name, _)| name == &f.name))
        .count();
    let mut summary = format!(
        "valid: {} chose {} ({}) at {} on {} {}, signed by key {}",
        r.decision.by,
        r.decision.action,
        r.decision.outcome,
        r.decision.at,
        r.subject.kind,
        r.subject.id,
        r.key
    );
    for (name, _) in &given {
        summary.push_str(&format!("\nfile {name}: the bytes the decision saw"));
    }
    if unchecked > 0 {
        summary.push_str(&format!(
            "\n{unchecked} file(s) named in the receipt were not given (--file) and not checked"
        ));
    }
    Ok(summary)
}
