//! Attachments in the browser: `GET /files/{of}/{id}/{name}` serves one
//! (inline, or as a download with `?download`), `POST /files/{of}/{id}`
//! takes a multipart upload from staff, where `of` is `order`, `document`
//! or `task`. Both go by the signed-in session and the same permission
//! checks as the pages ([`countersign_domain::access`]); uploads pass the
//! same-origin check every state-changing request does.
//!
//! A file is served with its checked type, `nosniff`, a
//! `Content-Disposition` naming it, and a policy that lets only our own
//! pages frame it (the document page shows a PDF in the browser's viewer).
//! Bytes that no longer match their SHA-256 are refused, not served.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use countersign_app::error::AppError;
use countersign_app::words::urlencode;
use countersign_domain::DomainError;
use countersign_domain::access::{self, FilesOf};
use countersign_domain::attachments::FileType;
use tower_sessions::Session;

use crate::browser::{refusal, signed_in};
use crate::readiness::Readiness;

/// Room for a multipart body's boundaries and headers around the file.
pub(crate) const FORM_OVERHEAD: u64 = 64 * 1024;

pub fn router(readiness: Readiness, limit: u64) -> Router {
    let body_limit = usize::try_from(limit.saturating_add(FORM_OVERHEAD)).unwrap_or(usize::MAX);
    Router::new()
        .route("/files/{of}/{id}/{name}", get(serve_file))
        .route(
            "/files/{of}/{id}",
            post(upload).layer(DefaultBodyLimit::max(body_limit)),
        )
        .with_state(readiness)
}

pub(crate) fn owner<'a>(of: &str, id: &'a str) -> Result<FilesOf<'a>, AppError> {
    match of {
        "order" => Ok(FilesOf::Order(id)),
        "document" => Ok(FilesOf::Document(id)),
        "task" => Ok(FilesOf::Task(id)),
        _ => Err(AppError::NotFound),
    }
}

/// The page a file belongs to.
fn page_of(of: &FilesOf<'_>) -> String {
    let (path, id) = match of {
        FilesOf::Order(id) => ("orders", id),
        FilesOf::Document(id) => ("signing", id),
        FilesOf::Task(id) => ("tasks", id),
    };
    format!("/{path}/{}", urlencode(id))
}

#[derive(Debug, serde::Deserialize)]
struct ServeQuery {
    download: Option<String>,
}

async fn serve_file(
    State(readiness): State<Readiness>,
    session: Session,
    Path((of, id, name)): Path<(String, String, String)>,
    Query(query): Query<ServeQuery>,
) -> Response {
    let result = async {
        let of = owner(&of, &id)?;
        let (services, user) = signed_in(&readiness, &session).await?;
        Ok::<_, AppError>(access::open_attachment(&services.domain, &user, of, &name).await?)
    }
    .await;
    let opened = match result {
        Ok(opened) => opened,
        Err(error) => return refusal(error, None),
    };
    if !opened.intact {
        return refusal(
            AppError::Invalid(
                "this file's stored bytes no longer match their SHA-256: it was changed outside Countersign, so it is not served"
                    .into(),
            ),
            None,
        );
    }
    file_response(opened, query.download.is_some())
}

async fn upload(
    State(readiness): State<Readiness>,
    session: Session,
    Path((of, id)): Path<(String, String)>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let Ok(of) = owner(&of, &id) else {
        return refusal(AppError::NotFound, None);
    };
    let back = page_of(&of);
    let result = async {
        let (services, user) = signed_in(&readiness, &session).await?;
        let mut multipart = multipart.map_err(|e| {
            AppError::Invalid(format!(
                "send the file as a multipart form ({})",
                e.body_text()
            ))
        })?;
        let limit = services.domain.files.limit;
        let mut added = 0;
        while let Some((name, bytes)) = next_upload(&mut multipart, limit).await? {
            access::attach(&services.domain, &user, of, &name, bytes).await?;
            added += 1;
        }
        if added == 0 {
            return Err(AppError::Invalid("choose a file to attach".into()));
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to(&format!("{back}#files")).into_response(),
        Err(error) => refusal(error, Some(&back)),
    }
}

/// A file's bytes as served: its checked type, `nosniff`, its name in
/// `Content-Disposition` (inline, or as a download), its SHA-256 as the
/// ETag, and a policy that lets only our own pages frame it.
pub(crate) fn file_response(
    opened: countersign_domain::attachments::Opened,
    download: bool,
) -> Response {
    let a = &opened.attachment;
    let disposition = if download { "attachment" } else { "inline" };
    // An ASCII fallback for old clients, the exact name in `filename*`.
    let fallback: String = a
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{}",
        urlencode(&a.name)
    );
    // Framed by our own pages only. Everything but a PDF is sandboxed too
    // (Chromium's PDF viewer does not run in a sandbox).
    let policy = match a.file_type {
        FileType::Pdf => "default-src 'none'; object-src 'self'; frame-ancestors 'self'",
        _ => {
            "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox"
        }
    };
    let mut response = opened.bytes.clone().into_response();
    let headers = response.headers_mut();
    let mut set = |name: header::HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(header::CONTENT_TYPE, a.file_type.mime());
    set(header::CONTENT_DISPOSITION, &disposition);
    set(header::CONTENT_SECURITY_POLICY, policy);
    set(header::X_FRAME_OPTIONS, "SAMEORIGIN");
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::ETAG, &format!("\"{}\"", a.sha256));
    response
}

/// The next file of a multipart upload (a part named `file` with a file
/// name), read whole but never past `limit`; `None` once there are no more.
pub(crate) async fn next_upload(
    multipart: &mut Multipart,
    limit: u64,
) -> Result<Option<(String, Vec<u8>)>, DomainError> {
    while let Some(part) = next_part(multipart, limit).await? {
        if let Part::File { name, bytes } = part {
            return Ok(Some((name, bytes)));
        }
    }
    Ok(None)
}

/// One part of a multipart body.
pub(crate) enum Part {
    /// A part named `file` with a file name.
    File { name: String, bytes: Vec<u8> },
    /// Any other part: its name and its bytes.
    Field { name: String, bytes: Vec<u8> },
}

/// The next part, read whole but never past `limit` bytes; a `file` part
/// sent with no file chosen (an empty file name) is skipped.
pub(crate) async fn next_part(
    multipart: &mut Multipart,
    limit: u64,
) -> Result<Option<Part>, DomainError> {
    while let Some(mut field) = multipart.next_field().await.map_err(form_error(limit))? {
        let part_name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        if part_name == "file" && file_name.as_deref().unwrap_or_default().is_empty() {
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(form_error(limit))? {
            if (bytes.len() + chunk.len()) as u64 > limit {
                return Err(DomainError::TooLarge { limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(Some(match file_name {
            Some(name) if part_name == "file" => Part::File { name, bytes },
            _ => Part::Field {
                name: part_name,
                bytes,
            },
        }));
    }
    Ok(None)
}

/// A multipart body that breaks off or runs past the limit.
fn form_error(limit: u64) -> impl Fn(axum::extract::multipart::MultipartError) -> DomainError {
    move |e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            DomainError::TooLarge { limit }
        } else {
            DomainError::Invalid(format!("the upload could not be read ({})", e.body_text()))
        }
    }
}
