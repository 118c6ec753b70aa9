use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use countersign_domain::DomainError;
use countersign_domain::users::User;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::SETTLE;
use super::error::{ApiError, Result};
use super::request::*;
use super::shapes::*;
use crate::readiness::{Backend, Readiness};
use axum::response::{IntoResponse, Response};
use countersign_domain::access;
use countersign_domain::signatures::{Document, DocumentStatus, RequestStatus, SignerSpec};
use std::time::Duration;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateDocument {
    title: String,
    signers: Vec<SignerIn>,
    timeout_seconds: u64,
}

#[derive(Deserialize)]
struct SignerIn {
    name: String,
    #[serde(default)]
    automatic: bool,
}

pub(super) async fn create_document(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let (s, user, request): (_, _, CreateDocument) = authorized(&readiness, &headers, body).await?;
    let signers: Vec<SignerSpec> = request
        .signers
        .into_iter()
        .map(|s| SignerSpec {
            name: s.name,
            automatic: s.automatic,
        })
        .collect();
    let id = access::request_signatures(
        &s.domain,
        &user,
        &request.title,
        &signers,
        request.timeout_seconds,
    )
    .await?;
    let created = Created {
        execution_id: s.domain.document_execution_arn(&id),
        order_id: None,
        document_id: Some(id.clone()),
    };
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/documents/{id}"))],
        Json(created),
    )
        .into_response())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct DocumentOut {
    document_id: String,
    title: String,
    status: DocumentStatus,
    signers: Vec<SignerOut>,
    signatures: Vec<SignatureOut>,
    requests: Vec<RequestOut>,
    history: Vec<countersign_domain::orders::HistoryEntry>,
}

#[derive(Serialize)]
struct SignerOut {
    name: String,
    automatic: bool,
}

#[derive(Serialize)]
struct SignatureOut {
    signer: String,
    at: String,
    how: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestOut {
    signer: String,
    status: RequestStatus,
    created_at: String,
    task_id: Option<String>,
    hook_path: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<String>,
}

fn document_out(document: Document) -> DocumentOut {
    let id = document.document_id.clone();
    DocumentOut {
        document_id: document.document_id,
        title: document.title,
        status: document.status,
        signers: document
            .signers
            .into_iter()
            .map(|s| SignerOut {
                name: s.name,
                automatic: s.automatic,
            })
            .collect(),
        signatures: document
            .signatures
            .into_iter()
            .map(|s| SignatureOut {
                signer: s.signer,
                at: s.at,
                how: s.how,
            })
            .collect(),
        requests: document
            .requests
            .into_iter()
            .map(|r| RequestOut {
                hook_path: r
                    .task_id
                    .as_ref()
                    .map(|t| format!("/hooks/tasks/d.{id}.{t}")),
                signer: r.signer,
                status: r.status,
                created_at: r.created_at,
                task_id: r.task_id,
                decided_by: r.decided_by,
                decided_at: r.decided_at,
            })
            .collect(),
        history: document.history,
    }
}

pub(super) async fn get_document(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<DocumentOut>> {
    let s = services(&readiness)?;
    let user = caller(&s, &headers).await?;
    let id = document_id_from(&s, &id)?;
    let document = access::document(&s.domain, &user, &id).await?;
    Ok(Json(document_out(document)))
}

pub(super) async fn update_document(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>> {
    let (s, user, request): (_, _, UpdateRequest) = authorized(&readiness, &headers, body).await?;
    // Only signers sign: anyone else is refused before the document is
    // looked at (and told nothing about where it stands).
    if !user.has(countersign_domain::users::Role::Signer) {
        return Err(DomainError::Forbidden.into());
    }
    let given = request
        .document_id
        .as_deref()
        .or(request.execution_id.as_deref())
        .ok_or_else(|| ApiError::invalid("documentId (or executionId) is required"))?;
    let document_id = document_id_from(&s, given)?;
    let outcome = outcome(request.success, request.error, request.cause)?;
    let task_id = match request.task_id {
        Some(task_id) => task_id,
        None => own_request(&s, &user, &document_id).await?,
    };
    let decided =
        access::decide_signature(&s.domain, &user, &document_id, &task_id, outcome).await?;
    let status = settled_document(&s, &user, &document_id).await?;
    Ok(Json(decided_json(decided, status, "documentId")))
}

/// The task id of the caller's own waiting request on a document; if it
/// has been decided, who decided it.
async fn own_request(s: &Backend, user: &User, document_id: &str) -> Result<String> {
    let document = access::document(&s.domain, user, document_id).await?;
    let mine = document
        .requests
        .into_iter()
        .find(|r| r.signer == user.name);
    match mine {
        Some(r) if r.task_id.is_some() => r
            .task_id
            .ok_or_else(|| not_waiting_document(document_id, document.status)),
        Some(r) if r.status == RequestStatus::Expired => Err(DomainError::Expired.into()),
        Some(r) => match (r.decided_by, r.decided_at) {
            (Some(by), Some(at)) => Err(DomainError::AlreadyDecided { by, at }.into()),
            _ => Err(not_waiting_document(document_id, document.status)),
        },
        None => Err(not_waiting_document(document_id, document.status)),
    }
}

fn not_waiting_document(document_id: &str, status: DocumentStatus) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "not_waiting",
        format!("document {document_id} is {status} and waits for no signature of yours"),
    )
}

/// The document's status once its workflow has taken the decision in.
pub(super) async fn settled_document(
    s: &Backend,
    user: &User,
    document_id: &str,
) -> Result<String> {
    let deadline = tokio::time::Instant::now() + SETTLE;
    loop {
        let document = access::document(&s.domain, user, document_id).await?;
        if document.status != DocumentStatus::Waiting || tokio::time::Instant::now() >= deadline {
            return Ok(document.status.to_string());
        }
        // Other signers may still be waiting: then WAITING is the answer.
        if document.requests.iter().any(|r| r.task_id.is_some()) {
            return Ok(document.status.to_string());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
