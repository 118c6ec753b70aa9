//! Documents and their signatures.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{Decision, DeskCard, Document, EventsPage};

/// Requests waiting for the caller's signature, oldest first.
///
/// Who may call it: signers (their own requests only).
#[server(endpoint = "signatures/desk")]
pub async fn signer_desk() -> Result<Vec<DeskCard>, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        let requests = countersign_domain::access::signer_desk(&services.domain, &user).await?;
        let mut cards = Vec::with_capacity(requests.len());
        for request in requests {
            // Named on it, so the signer may read it.
            let document =
                countersign_domain::access::document(&services.domain, &user, &request.document_id)
                    .await?;
            cards.push(DeskCard { request, document });
        }
        Ok(cards)
    })
    .await
}

/// A document with every signer's state.
///
/// Who may call it: staff (any document); a signer named on it. Anyone
/// else is told "not found".
#[server(endpoint = "signatures/document")]
pub async fn get_document(document_id: String) -> Result<Document, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        let document =
            countersign_domain::access::document(&services.domain, &user, &document_id).await?;
        Ok(document)
    })
    .await
}

/// A document's Step Functions events, a page at a time.
///
/// Who may call it: staff.
#[server(endpoint = "signatures/events")]
pub async fn document_events(
    document_id: String,
    page: Option<String>,
) -> Result<EventsPage, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        let subject = countersign_domain::access::Subject::Document(&document_id);
        let events = countersign_domain::access::execution_events(
            &services.domain,
            &user,
            subject,
            page.as_deref(),
        )
        .await?;
        Ok(events)
    })
    .await
}

/// Signs (`sign`) or declines (`decline`, with a reason) the caller's own
/// request on a document. Exactly one decision per request takes effect.
///
/// Who may call it: the signer the request is addressed to.
#[server(endpoint = "signatures/decide")]
pub async fn decide_signature(
    document_id: String,
    task_id: String,
    action: String,
    reason: Option<String>,
) -> Result<Decision, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        use countersign_domain::outcome::Outcome;
        let outcome = match action.as_str() {
            "sign" => Outcome::Advance,
            "decline" => Outcome::reject(reason.unwrap_or_default().trim().to_owned()),
            other => {
                return Err(AppError::Invalid(format!(
                    "the action is sign or decline, not {other:?}"
                )));
            }
        };
        let decided = countersign_domain::access::decide_signature(
            &services.domain,
            &user,
            &document_id,
            &task_id,
            outcome,
        )
        .await?;
        let decided: Decision = decided.into();
        crate::error::back_with("done", &crate::words::decided_text(&decided));
        Ok(decided)
    })
    .await
}

/// Seconds in one `unit` of a signing timeout.
#[cfg(feature = "ssr")]
fn unit_secs(unit: &str) -> Result<u64, AppError> {
    match unit {
        "seconds" => Ok(1),
        "minutes" => Ok(60),
        "hours" => Ok(3600),
        "days" => Ok(86_400),
        other => Err(AppError::Invalid(format!(
            "the unit is seconds, minutes, hours or days, not {other:?}"
        ))),
    }
}

/// Starts collecting signatures on a document. `signers` holds one name a
/// line; a name ending in ` (auto)` signs by itself.
///
/// Who may call it: staff.
#[server(endpoint = "signatures/request")]
pub async fn request_signatures(
    title: String,
    signers: String,
    timeout: u64,
    unit: String,
) -> Result<String, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        use countersign_domain::signatures::SignerSpec;
        let signers: Vec<SignerSpec> = signers
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| match l.strip_suffix("(auto)") {
                Some(name) => SignerSpec {
                    name: name.trim().to_owned(),
                    automatic: true,
                },
                None => SignerSpec {
                    name: l.to_owned(),
                    automatic: false,
                },
            })
            .collect();
        let id = countersign_domain::access::request_signatures(
            &services.domain,
            &user,
            &title,
            &signers,
            timeout.saturating_mul(unit_secs(&unit)?),
        )
        .await?;
        crate::redirect::to(&format!("/signing/{id}"));
        Ok(id)
    })
    .await
}
