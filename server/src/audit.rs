//! The audit export over HTTP: `GET /audit/export` for signed-in staff
//! (the audit page's plain form) and `GET /v1/decisions/export` for API
//! keys ([`crate::api`]). Both stream the rows as CSV or JSON Lines page by
//! page as the domain reads them ([`countersign_domain::audit`]), so a
//! download of any size holds one page in memory.
//!
//! The first page is read before the answer starts, so that a refusal or
//! an unavailable backend gets its own status; a failure later cuts the
//! download short (the client sees an incomplete body, never a file that
//! looks whole).

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use countersign_app::error::AppError;
use countersign_domain::DomainError;
use countersign_domain::audit::{Export, Filter, Row};
use serde::Deserialize;
use tower_sessions::Session;

use crate::browser::{refusal, signed_in};
use crate::readiness::Readiness;

/// The two shapes of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    /// One JSON object a line.
    JsonLines,
}

impl Format {
    /// `csv`, or `jsonl` (`ndjson` too); `default` when not said.
    pub fn parse(text: Option<&str>, default: Format) -> Result<Self, DomainError> {
        match text.map(str::trim).filter(|t| !t.is_empty()) {
            None => Ok(default),
            Some("csv") => Ok(Format::Csv),
            Some("jsonl" | "ndjson") => Ok(Format::JsonLines),
            Some(_) => Err(DomainError::Invalid("`format` is `csv` or `jsonl`".into())),
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::JsonLines => "application/jsonl; charset=utf-8",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::JsonLines => "jsonl",
        }
    }
}

/// An export's query: `format`, `kind`, `decider`, `from`, `to`.
#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    pub format: Option<String>,
    pub kind: Option<String>,
    pub decider: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl ExportQuery {
    pub fn filter(&self) -> Result<Filter, DomainError> {
        Filter::parse(
            self.kind.as_deref(),
            self.decider.as_deref(),
            self.from.as_deref(),
            self.to.as_deref(),
        )
    }
}

pub fn router(readiness: Readiness) -> Router {
    Router::new()
        .route("/audit/export", get(export_for_staff))
        .with_state(readiness)
}

async fn export_for_staff(
    State(readiness): State<Readiness>,
    session: Session,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let back = Some("/audit");
    let result = async {
        let (services, user) = signed_in(&readiness, &session).await?;
        let Query(query) = query.map_err(|e| AppError::Invalid(e.body_text()))?;
        let format = Format::parse(query.format.as_deref(), Format::Csv)?;
        let export =
            countersign_domain::access::audit_export(&services.domain, &user, query.filter()?)
                .await?;
        Ok::<_, AppError>(stream(export, format).await?)
    }
    .await;
    result.unwrap_or_else(|error| refusal(error, back))
}

/// The export as a streamed download.
pub async fn stream(mut export: Export, format: Format) -> Result<Response, DomainError> {
    let first = export.next_page().await?;
    let head = match format {
        Format::Csv => Some(csv_chunk(&[], true)),
        Format::JsonLines => None,
    };
    let first = first.map(|rows| encode(&rows, format));
    let rest = futures_util::stream::try_unfold(export, move |mut export| async move {
        match export.next_page().await {
            Ok(Some(rows)) => Ok(Some((encode(&rows, format), export))),
            Ok(None) => Ok(None),
            Err(error) => {
                tracing::warn!(%error, "an audit export was cut short");
                Err(std::io::Error::other(error.to_string()))
            }
        }
    });
    let opening = futures_util::stream::iter(head.into_iter().chain(first).map(Ok));
    let body = Body::from_stream(futures_util::StreamExt::chain(opening, rest));
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(value) = HeaderValue::from_str(&format!(
        "attachment; filename=\"countersign-decisions.{}\"",
        format.extension()
    )) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

fn encode(rows: &[Row], format: Format) -> Bytes {
    match format {
        Format::Csv => csv_chunk(rows, false),
        Format::JsonLines => {
            let mut out = Vec::with_capacity(rows.len() * 400);
            for row in rows {
                // A row is plain strings and lists: it always serializes.
                if serde_json::to_writer(&mut out, row).is_ok() {
                    out.push(b'\n');
                }
            }
            Bytes::from(out)
        }
    }
}

fn csv_chunk(rows: &[Row], header: bool) -> Bytes {
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 400));
    // Writing to memory fails only on a record of the wrong length, which
    // a fixed-width row cannot be.
    if header {
        let _ = writer.write_record(Row::COLUMNS);
    }
    for row in rows {
        let _ = writer.write_record(row.cells().map(defused));
    }
    Bytes::from(writer.into_inner().unwrap_or_default())
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a
/// tab or return before one) starts with `'` instead, as OWASP advises
/// for CSV exports: comments and reasons are typed by people. JSON Lines
/// keeps every value exactly.
fn defused(cell: String) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(comment: &str) -> Row {
        Row {
            at: "2026-12-01T10:00:00.000Z".into(),
            kind: "expense".into(),
            subject_kind: "task".into(),
            subject: "exp-1".into(),
            step: "Approve".into(),
            action: "approve".into(),
            outcome: "success".into(),
            by: "staff".into(),
            comment: Some(comment.into()),
            error: None,
            reason: None,
            files: vec![countersign_domain::attachments::FileRef {
                name: "a, b.pdf".into(),
                sha256: "ab".repeat(32),
            }],
            execution: "arn:x".into(),
            task: "t-1".into(),
            receipt: "t-1".into(),
        }
    }

    #[test]
    fn csv_quotes_what_needs_it_and_defuses_formulas() {
        let text = String::from_utf8(csv_chunk(&[row("=HYPERLINK(\"x\")")], true).to_vec())
            .expect("utf-8");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(Row::COLUMNS.join(",").as_str()));
        let line = lines.next().expect("a row");
        assert!(line.contains(r#""'=HYPERLINK(""x"")""#), "{line}");
        assert!(
            line.contains(&format!("\"a, b.pdf {}\"", "ab".repeat(32))),
            "{line}"
        );
        assert_eq!(lines.next(), None);
    }

    #[test]
    fn json_lines_keep_values_exactly() {
        let text = String::from_utf8(encode(&[row("=1+1"), row("ok")], Format::JsonLines).to_vec())
            .expect("utf-8");
        let rows: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0]["comment"], "=1+1");
        assert_eq!(rows[0]["subjectKind"], "task");
        assert_eq!(rows[1]["files"][0]["name"], "a, b.pdf");
    }

    #[test]
    fn formats_are_named() {
        assert_eq!(Format::parse(None, Format::Csv), Ok(Format::Csv));
        assert_eq!(
            Format::parse(Some("jsonl"), Format::Csv),
            Ok(Format::JsonLines)
        );
        assert!(Format::parse(Some("xml"), Format::Csv).is_err());
    }
}
