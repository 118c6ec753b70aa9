//! What the domain needs to reach AWS: the SDK clients, the tables, the
//! built-in workflows' state machines, the clock and the decision lease.
//! This is the composition root and holds no behaviour: each
//! responsibility is a handle borrowed from it, defined in its own module
//! ([`crate::orders::Orders`] from `services.orders()`, and so on for
//! documents, decisions, the ledger, tasks, saved views, approvals, the
//! staff inbox, live changes, idempotency, the reconciler, the migration
//! and accounts), so a caller names the part it uses.

use crate::tables::Tables;

/// Everything the domain needs to reach AWS. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Services {
    pub ddb: aws_sdk_dynamodb::Client,
    pub sfn: aws_sdk_sfn::Client,
    pub tables: Tables,
    /// The process-order state machine.
    pub process_order_arn: String,
    /// The sign-document state machine.
    pub sign_document_arn: String,
    /// The time decisions and the reconciler go by.
    pub clock: crate::clock::Clock,
    /// How long whoever holds an unfinished decision may work on it before
    /// the reconciler may take it over.
    pub lease: std::time::Duration,
    /// Where attachments' bytes are kept.
    pub files: crate::file_store::FileStore,
    /// The receipt signing key, once read from (or made in) the meta table.
    pub receipt_key: KeyCell,
}

/// Where a process keeps the receipt signing key once it has read it
/// (see [`crate::receipts`]): shared by clones of [`Services`], opaque to
/// everyone else.
#[derive(Clone, Default)]
pub struct KeyCell(pub(crate) std::sync::Arc<tokio::sync::OnceCell<ed25519_dalek::SigningKey>>);

impl std::fmt::Debug for KeyCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key itself.
        f.write_str(if self.0.initialized() {
            "KeyCell(read)"
        } else {
            "KeyCell(unread)"
        })
    }
}

/// The lease on an unfinished decision, unless configured otherwise: long
/// enough for one SendTask* call with its retries.
pub const DEFAULT_LEASE: std::time::Duration = std::time::Duration::from_secs(15);

impl Services {
    /// Services on these clients and tables, with the system clock and the
    /// default lease.
    pub fn new(
        ddb: aws_sdk_dynamodb::Client,
        sfn: aws_sdk_sfn::Client,
        tables: Tables,
        process_order_arn: String,
        sign_document_arn: String,
    ) -> Self {
        Self {
            ddb,
            sfn,
            tables,
            process_order_arn,
            sign_document_arn,
            clock: crate::clock::Clock::system(),
            lease: DEFAULT_LEASE,
            files: crate::file_store::FileStore::in_memory(),
            receipt_key: Default::default(),
        }
    }

    /// These services, keeping attachments in `files`.
    pub fn with_files(mut self, files: crate::file_store::FileStore) -> Self {
        self.files = files;
        self
    }

    /// The execution ARN of an order's workflow (its name is the order id).
    pub fn execution_arn(&self, order_id: &str) -> String {
        execution_of(&self.process_order_arn, order_id)
    }

    /// The execution ARN of a document's workflow (its name is the
    /// document id).
    pub fn document_execution_arn(&self, document_id: &str) -> String {
        execution_of(&self.sign_document_arn, document_id)
    }
}

/// An execution's ARN: its machine's ARN with `execution` for
/// `stateMachine`, then its name.
fn execution_of(machine_arn: &str, name: &str) -> String {
    format!(
        "{}:{name}",
        machine_arn.replacen(":stateMachine:", ":execution:", 1)
    )
}

/// How long whoever holds an unfinished row (a decision, an approval)
/// may work on it before the reconciler may take it over.
fn lease_ms(s: &Services) -> i64 {
    i64::try_from(s.lease.as_millis()).unwrap_or(i64::MAX)
}

/// The stamp a lease taken now runs until.
pub(crate) fn lease_end(s: &Services) -> String {
    crate::clock::stamp(s.clock.now_ms() + lease_ms(s))
}
