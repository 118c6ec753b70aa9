//! The audit page's one call: what it can filter by. The export itself is
//! a plain download from the server's `/audit/export`.

use leptos::prelude::*;

use crate::error::AppError;

/// The kinds decisions can be filtered by, sorted: the two shipped
/// workflows and every kind this server knows. Staff only.
#[server(endpoint = "audit/kinds")]
pub async fn audit_kinds() -> Result<Vec<String>, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        countersign_domain::access::may_audit(&user)?;
        let mut kinds: Vec<String> = [
            countersign_domain::orders::KIND,
            countersign_domain::signatures::KIND,
        ]
        .into_iter()
        .map(str::to_owned)
        .chain(services.kinds.all().map(|k| k.name().to_owned()))
        .collect();
        kinds.sort();
        kinds.dedup();
        Ok(kinds)
    })
    .await
}
