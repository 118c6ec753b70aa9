//! Countersign's domain: what a click does.
//!
//! Orders move through the `process-order` workflow (ASL in `workflows/`);
//! at each human step the workflow writes a task row holding its task token
//! (the task contract every kind follows) and waits. A person's decision goes through
//! [`decisions::Decisions::decide`] (`services.decisions().decide(…)`), which makes it happen exactly once
//! however many people, clicks or retries race for it.
//!
//! Everything here speaks to DynamoDB and Step Functions through the AWS
//! SDK, so the same code runs against the embedded services, moto and AWS.
//!
//! # Layout
//! - `services`: the clients, tables, clock and lease every operation
//!   needs, and nothing else; each module below defines a handle on it
//!   for its own responsibility (`Orders`, `Documents`, `Decisions`,
//!   `Ledger`, `Tasks`, `SavedViews`, `Approvals`, `StaffInbox`, `Live`,
//!   `Idempotency`, `Reconciler`, `Migration`, `Accounts`, `Progress`,
//!   `Audit`).
//! - `items`: reading DynamoDB items, and which keys can name a row.
//! - `secrets`: base64url and SHA-256 hex for keys, passwords and ids.
//! - `access`: who may do what with orders and documents; the pages and
//!   the REST API both go through it.
//! - `tables`: table names and their creation (keys and the inbox index).
//! - `workflows`: the ASL definitions and their deployment.
//! - `orders`: placing an order, reading it, the staff inbox.
//! - `signatures`: documents, signature requests, a signer's desk.
//! - `users`: people, roles, passwords, failed sign-in counters.
//! - `api_keys`: keys for the REST API and webhook secrets, stored hashed.
//! - `outcome`: what waits for a person and what they can decide.
//! - `decisions`: claim → SendTask* → close → history, for every kind.
//! - `ledger`: the decisions table, the one record of every decision and
//!   how far it has got.
//! - `reconcile`: drives unfinished decisions to a state that agrees with
//!   the workflow.
//! - `migrate`: carries rows written by earlier versions over (order
//!   waits and signature requests from before they were tasks).
//! - `clock`: the time decisions go by (tests move it).
//! - `inbox`: the staff inbox: orders and signature requests together,
//!   filtered, searched, sorted and paged.
//! - `live`: the change counter every replica watches, and execution
//!   events for the dashboard.
//! - `progress`: an execution's definition and whole history, for the
//!   drawn workflow and where each answer leads.
//! - `attachments`: files attached to documents and tasks, stored by
//!   their SHA-256 through `object_store`.
//! - `file_store`: where attachments' bytes are kept (`object_store`).
//! - `receipts`: a decision as a signed statement (Ed25519) that can be
//!   checked offline.
//! - `audit`: the decision history as export rows, page by page, by kind,
//!   dates and decider.
//! - `idempotency`: what a retried REST call with an Idempotency-Key
//!   gets: the first answer again.
//! - `tasks`: human tasks of any kind (the task contract), their lists,
//!   assignment, forms, quorum and four eyes.
//! - `kinds`: the kinds of task, each an ASL file and a descriptor.
//! - `forms` (from `countersign-model`): forms described by data and the
//!   checks on their values.
//! - `error`: what can go wrong, in words a person can act on.

pub mod access;
pub mod api_keys;
pub mod attachments;
pub mod audit;
pub mod clock;
pub mod decisions;
pub mod error;
pub mod file_store;
pub mod idempotency;
pub mod inbox;
pub(crate) mod items;
pub mod kinds;
pub mod ledger;
pub mod live;
pub mod migrate;
pub mod orders;
pub mod outcome;
pub mod progress;
pub mod receipts;
pub mod reconcile;
pub mod secrets;
pub mod services;
pub mod signatures;
pub mod tables;
pub mod tasks;
pub mod users;
pub mod workflows;

pub use countersign_model::forms;
pub use error::DomainError;

/// Now as an RFC 3339 timestamp (what every record stores).
pub(crate) fn now() -> String {
    at_offset(0)
}

/// `seconds` from now as an RFC 3339 timestamp (UTC, like every record, so
/// that timestamps sort as strings).
pub(crate) fn at_offset(seconds: u64) -> String {
    let later = time::OffsetDateTime::now_utc()
        .saturating_add(time::Duration::seconds(seconds.min(i64::MAX as u64) as i64));
    later
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
