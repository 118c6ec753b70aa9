//! `GET /v1/decisions/export`: the audit export for an API key, as JSON
//! Lines unless `format=csv` says otherwise ([`crate::audit`] streams it).

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::request::{caller, services};
use crate::audit::{ExportQuery, Format, stream};
use crate::readiness::Readiness;

pub(crate) async fn export_decisions(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let result = async {
        let s = services(&readiness)?;
        let user = caller(&s, &headers).await?;
        let Query(query) = query.map_err(|e| ApiError::invalid(e.body_text()))?;
        let format = Format::parse(query.format.as_deref(), Format::JsonLines)?;
        let export =
            countersign_domain::access::audit_export(&s.domain, &user, query.filter()?).await?;
        Ok::<_, ApiError>(stream(export, format).await?)
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}
