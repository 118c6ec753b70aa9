//! The tables and how they are keyed. Names are configurable; the defaults
//! match the order article (`orders` by `orderId`, `orderProcessingActions`
//! by `executionId`).
//!
//! The staff inbox must not Scan: pending actions carry `inbox` (the queue
//! name) and `createdAt`, and the `inbox-by-age` index on those two makes the
//! first page one Query however many orders exist.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};

use crate::DomainError;

/// The index of waiting task rows by staff inbox (`orders`, `signatures`)
/// and age. Sparse: only an order's or a signature's open wait carries
/// `inbox`.
pub const INBOX_INDEX: &str = "inbox-by-age";
/// The index of orders by customer and age: a customer's own orders.
pub const CUSTOMER_INDEX: &str = "orders-by-customer";
/// Unfinished decisions by when their lease runs out, for the reconciler.
/// Sparse: only an unfinished ledger row carries `open`.
pub const DECISIONS_OPEN: &str = "decisions-open";
/// Decisions on one order or document by claim time.
pub const DECISIONS_BY_SUBJECT: &str = "decisions-by-subject";
/// Decisions that took effect, by the month they were claimed in and
/// claim time: the audit export's history. Sparse: only a decision that
/// took effect carries `auditMonth`.
pub const DECISIONS_BY_MONTH: &str = "decisions-by-month";
/// Open tasks (of every kind) oldest first. Sparse: only a task that still
/// waits carries `open`.
pub const TASKS_OPEN: &str = "tasks-open";
/// Open tasks by deadline, soonest first (those that have one).
pub const TASKS_BY_DEADLINE: &str = "tasks-by-deadline";
/// Open tasks by the person they are assigned to, oldest first.
pub const TASKS_BY_ASSIGNEE: &str = "tasks-by-assignee";
/// Open signature requests by signer (a signer's desk). Sparse twice
/// over: only a signature request carries `signer`, and only an open task
/// carries `open`, the sort key.
pub const TASKS_BY_SIGNER: &str = "tasks-by-signer";
/// Saved views shared with a group, by group and name. Sparse: only a
/// shared view carries `group`.
pub const VIEWS_BY_GROUP: &str = "views-by-group";
/// The attribute DynamoDB's time-to-live deletes expired rows by (epoch
/// seconds), on the tables that hold short-lived rows.
pub const EXPIRES_AT: &str = "expiresAt";

#[derive(Debug, Clone)]
pub struct Tables {
    /// Orders by `orderId`, with status, history and notifications.
    pub orders: String,
    /// Waits that process-order wrote by `executionId` before its waits
    /// were task rows: read only to carry them over ([`crate::migrate`]).
    pub actions: String,
    /// Decisions by `taskId`: the claim that makes a decision happen once.
    pub decisions: String,
    /// Documents to sign by `documentId`, with each signature.
    pub documents: String,
    /// Signature requests by `documentId` and `signer`, as an earlier
    /// version kept them before they were tasks: read only to carry them
    /// over ([`crate::migrate`]).
    pub signature_requests: String,
    /// People who sign in, by `name`, with roles and a password hash.
    pub users: String,
    /// Signed-in sessions by `id`; expired rows go by time-to-live.
    pub sessions: String,
    /// API keys and webhook secrets by `keyId`, each belonging to a user.
    pub api_keys: String,
    /// Human tasks of any kind by `taskId`, written by their workflows
    /// (the contract in `docs/tasks.md`).
    pub tasks: String,
    /// Saved views of the task list by `owner` and `name`.
    pub views: String,
    /// Small bookkeeping rows by `key` (counters, failed sign-in counts);
    /// short-lived ones go by time-to-live.
    pub meta: String,
    /// Which files a document or task has, by `owner` (kind and subject)
    /// and `name`; the bytes are in the file store, by SHA-256.
    pub attachments: String,
}

impl Default for Tables {
    fn default() -> Self {
        Self {
            orders: "orders".into(),
            actions: "orderProcessingActions".into(),
            decisions: "countersignDecisions".into(),
            documents: "documents".into(),
            signature_requests: "signatureRequests".into(),
            users: "countersignUsers".into(),
            sessions: "countersignSessions".into(),
            meta: "countersign-meta".into(),
            api_keys: "countersignApiKeys".into(),
            tasks: "countersignTasks".into(),
            views: "countersignViews".into(),
            attachments: "countersignAttachments".into(),
        }
    }
}

fn attr(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .expect("name and type are set")
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .expect("name and type are set")
}

/// An index of rows by `partition`, smallest `sort` first.
fn index(name: &str, partition: &str, sort: &str) -> GlobalSecondaryIndex {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(partition, KeyType::Hash))
        .key_schema(key(sort, KeyType::Range))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .expect("index is complete")
}

/// An index to create: its name, partition key and sort key.
type IndexPlan<'a> = (&'a str, &'a str, &'a str);
/// A table to create: name, hash key, range key, indexes, time-to-live.
type TablePlan<'a> = (
    &'a String,
    &'a str,
    Option<&'a str>,
    Vec<IndexPlan<'a>>,
    bool,
);

impl Tables {
    /// Creates every table that does not exist yet (embedded mode and tests;
    /// in AWS the deploy template creates them).
    pub async fn ensure(&self, ddb: &Client) -> Result<(), DomainError> {
        // (table, hash key, range key, indexes as (name, partition, sort), TTL)
        let plans: [TablePlan; 12] = [
            (
                &self.orders,
                "orderId",
                None,
                vec![(CUSTOMER_INDEX, "customer", "createdAt")],
                false,
            ),
            (
                &self.actions,
                "executionId",
                None,
                vec![(INBOX_INDEX, "inbox", "createdAt")],
                false,
            ),
            (
                &self.decisions,
                "taskId",
                None,
                vec![
                    (DECISIONS_OPEN, "open", "due"),
                    (DECISIONS_BY_SUBJECT, "subject", "at"),
                    (DECISIONS_BY_MONTH, "auditMonth", "at"),
                ],
                false,
            ),
            (&self.documents, "documentId", None, vec![], false),
            // Read only to carry an earlier version's requests over.
            (
                &self.signature_requests,
                "documentId",
                Some("signer"),
                vec![],
                false,
            ),
            (&self.users, "name", None, vec![], false),
            (&self.sessions, "id", None, vec![], true),
            (&self.meta, "key", None, vec![], true),
            (&self.api_keys, "keyId", None, vec![], false),
            (&self.attachments, "owner", Some("name"), vec![], false),
            (
                &self.tasks,
                "taskId",
                None,
                vec![
                    (TASKS_OPEN, "open", "createdAt"),
                    (TASKS_BY_DEADLINE, "open", "deadline"),
                    (TASKS_BY_ASSIGNEE, "assignee", "createdAt"),
                    (INBOX_INDEX, "inbox", "createdAt"),
                    (TASKS_BY_SIGNER, "signer", "open"),
                ],
                false,
            ),
            (
                &self.views,
                "owner",
                Some("name"),
                vec![(VIEWS_BY_GROUP, "group", "name")],
                false,
            ),
        ];
        for (table, hash, range, index_plans, ttl) in plans {
            let mut create = ddb
                .create_table()
                .table_name(table)
                .billing_mode(BillingMode::PayPerRequest)
                .attribute_definitions(attr(hash))
                .key_schema(key(hash, KeyType::Hash));
            if let Some(range) = range {
                create = create
                    .attribute_definitions(attr(range))
                    .key_schema(key(range, KeyType::Range));
            }
            // Each attribute is defined once, however many keys use it.
            let mut defined: Vec<&str> = std::iter::once(hash).chain(range).collect();
            for &(name, partition, sort) in &index_plans {
                for attribute in [partition, sort] {
                    if !defined.contains(&attribute) {
                        defined.push(attribute);
                        create = create.attribute_definitions(attr(attribute));
                    }
                }
                create = create.global_secondary_indexes(index(name, partition, sort));
            }
            match create.send().await {
                Ok(_) => {
                    tracing::info!(table, "created table");
                    if ttl {
                        enable_ttl(ddb, table).await?;
                    }
                }
                Err(SdkError::ServiceError(e))
                    if matches!(e.err(), CreateTableError::ResourceInUseException(_)) =>
                {
                    add_missing_indexes(ddb, table, &index_plans).await?;
                }
                Err(e) => {
                    tracing::error!(table, error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "creating a table failed");
                    return Err(DomainError::Unavailable);
                }
            }
        }
        Ok(())
    }
}

/// A table made by an older version lacks the indexes added since (the
/// staff inbox's signature indexes, say): add them, so an existing data
/// directory keeps working. DynamoDB fills a new index from the table.
async fn add_missing_indexes(
    ddb: &Client,
    table: &str,
    plans: &[IndexPlan<'_>],
) -> Result<(), DomainError> {
    if plans.is_empty() {
        return Ok(());
    }
    let described = ddb
        .describe_table()
        .table_name(table)
        .send()
        .await
        .map_err(|e| {
            tracing::error!(table, error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "describing a table failed");
            DomainError::Unavailable
        })?;
    let existing: Vec<&str> = described
        .table()
        .map(|t| t.global_secondary_indexes())
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i.index_name())
        .collect();
    for &(name, partition, sort) in plans {
        if existing.contains(&name) {
            continue;
        }
        // The same index CreateTable would make, as an UpdateTable action.
        let planned = index(name, partition, sort);
        let create = aws_sdk_dynamodb::types::CreateGlobalSecondaryIndexAction::builder()
            .index_name(name)
            .set_key_schema(Some(planned.key_schema().to_vec()))
            .set_projection(planned.projection().cloned())
            .build()
            .expect("index is complete");
        let added = ddb
            .update_table()
            .table_name(table)
            .attribute_definitions(attr(partition))
            .attribute_definitions(attr(sort))
            .global_secondary_index_updates(
                aws_sdk_dynamodb::types::GlobalSecondaryIndexUpdate::builder()
                    .create(create)
                    .build(),
            )
            .send()
            .await;
        match added {
            Ok(_) => tracing::info!(table, index = name, "added a missing index"),
            // AWS adds one index at a time; the deploy template is the way
            // there. Say so and go on: the page that needs it will fail
            // with "unavailable" until it exists.
            Err(e) => {
                tracing::warn!(table, index = name, error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "adding a missing index failed")
            }
        }
    }
    Ok(())
}

/// Lets DynamoDB delete a table's rows once their `expiresAt` has passed.
/// Deletion may lag (up to days on AWS), so readers still check the time.
async fn enable_ttl(ddb: &Client, table: &str) -> Result<(), DomainError> {
    ddb.update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            aws_sdk_dynamodb::types::TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(EXPIRES_AT)
                .build()
                .expect("enabled and attribute are set"),
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|e| {
            tracing::error!(table, error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "enabling time-to-live failed");
            DomainError::Unavailable
        })
}
