//! Attachments and receipts for API keys, with the same permission checks
//! as the pages ([`countersign_domain::access`]):
//! `GET /v1/files/{of}/{id}` lists what is attached to an order, document
//! or task, `GET /v1/files/{of}/{id}/{name}` downloads one file,
//! `POST /v1/files/{of}/{id}` attaches files (staff; multipart, parts named
//! `file`), and `GET /v1/receipts/{id}` is a decision's signed receipt.
//!
//! Uploads skip the Idempotency-Key layer: a file is stored by its SHA-256
//! under its name, so sending the same upload again changes nothing.

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use countersign_domain::access;
use serde_json::json;

use super::error::{ApiError, Result};
use super::request::{caller, services};
use crate::files::{file_response, next_upload, owner};
use crate::readiness::Readiness;

fn owner_of<'a>(of: &str, id: &'a str) -> Result<access::FilesOf<'a>> {
    owner(of, id).map_err(|_| ApiError::not_found("order, document or task"))
}

pub(crate) async fn list_files(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
    Path((of, id)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>> {
    let s = services(&readiness)?;
    let user = caller(&s, &headers).await?;
    let files = access::attachments(&s.domain, &user, owner_of(&of, &id)?).await?;
    Ok(Json(json!({ "files": files })))
}

pub(crate) async fn get_file(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
    Path((of, id, name)): Path<(String, String, String)>,
) -> Result<Response> {
    let s = services(&readiness)?;
    let user = caller(&s, &headers).await?;
    let opened = access::open_attachment(&s.domain, &user, owner_of(&of, &id)?, &name).await?;
    if !opened.intact {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "changed",
            "this file's stored bytes no longer match their SHA-256; it is not served",
        ));
    }
    Ok(file_response(opened, true))
}

pub(crate) async fn attach_files(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
    Path((of, id)): Path<(String, String)>,
    multipart: std::result::Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response> {
    let s = services(&readiness)?;
    let user = caller(&s, &headers).await?;
    let of = owner_of(&of, &id)?;
    let mut multipart = multipart.map_err(|e| {
        ApiError::invalid(format!(
            "send the files as multipart/form-data, each in a part named `file` ({})",
            e.body_text()
        ))
    })?;
    let limit = s.domain.files.limit;
    let mut added = Vec::new();
    while let Some((name, bytes)) = next_upload(&mut multipart, limit).await? {
        added.push(access::attach(&s.domain, &user, of, &name, bytes).await?);
    }
    if added.is_empty() {
        return Err(ApiError::invalid(
            "no file: send each in a multipart part named `file`, with a file name",
        ));
    }
    Ok((StatusCode::CREATED, Json(json!({ "files": added }))).into_response())
}

pub(crate) async fn get_receipt(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response> {
    let s = services(&readiness)?;
    let user = caller(&s, &headers).await?;
    let signed = access::receipt(&s.domain, &user, &id).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        countersign_domain::receipts::to_file(&signed),
    )
        .into_response())
}
