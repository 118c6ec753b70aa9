//! Documents and their signatures.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{Decision, Document, SignatureRequest};

/// Requests waiting for the caller's signature, oldest first.
///
/// Who may call it: signers (their own requests only).
#[server(endpoint = "signatures/desk")]
pub async fn signer_desk() -> Result<Vec<SignatureRequest>, AppError> {
    crate::error::reply(
        async move {
            let user = crate::auth::signed_in().await?;
            let services = crate::services::Services::from_context()?;
            let requests = crate::access::signer_desk(&services, &user).await?;
            Ok(requests.into_iter().map(Into::into).collect())
        }
        .await,
    )
}

/// A document with every signer's state.
///
/// Who may call it: staff (any document); a signer named on it. Anyone
/// else is told "not found".
#[server(endpoint = "signatures/document")]
pub async fn get_document(document_id: String) -> Result<Document, AppError> {
    crate::error::reply(
        async move {
            let user = crate::auth::signed_in().await?;
            let services = crate::services::Services::from_context()?;
            let document = crate::access::document(&services, &user, &document_id).await?;
            Ok(document.into())
        }
        .await,
    )
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
    crate::error::reply(
        async move {
            use countersign_domain::decisions::Outcome;
            let user = crate::auth::signed_in().await?;
            let services = crate::services::Services::from_context()?;
            let outcome = match action.as_str() {
                "sign" => Outcome::Advance,
                "decline" => Outcome::reject(reason.unwrap_or_default().trim().to_owned()),
                other => {
                    return Err(AppError::Invalid(format!(
                        "the action is sign or decline, not {other:?}"
                    )));
                }
            };
            let decided =
                crate::access::decide_signature(&services, &user, &document_id, &task_id, outcome)
                    .await?;
            Ok(decided.into())
        }
        .await,
    )
}

/// Starts collecting signatures on a document. `signers` holds one name a
/// line; a name ending in ` (auto)` signs by itself.
///
/// Who may call it: staff.
#[server(endpoint = "signatures/request")]
pub async fn request_signatures(
    title: String,
    signers: String,
    timeout_hours: u64,
) -> Result<String, AppError> {
    crate::error::reply(
        async move {
            use countersign_domain::signatures::SignerSpec;
            let user = crate::auth::signed_in().await?;
            let services = crate::services::Services::from_context()?;
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
            let id = crate::access::request_signatures(
                &services,
                &user,
                &title,
                &signers,
                timeout_hours.saturating_mul(3600),
            )
            .await?;
            leptos_axum::redirect(&format!("/signing/{id}"));
            Ok(id)
        }
        .await,
    )
}
