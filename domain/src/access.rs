//! Who may do what: every operation a caller can ask for, with its
//! permission check first. Server functions (the dashboard) and the REST
//! API both come through here, so the two cannot disagree about who sees or
//! decides what. (Tasks of any kind check their own rules, in `tasks`.)
//!
//! Someone who may not know a thing exists (another customer's order, a
//! document not addressed to you) is told "not found", so ids cannot be
//! probed.

use crate::DomainError;
use crate::attachments::{Attachment, Opened, Owner, ShownFile};
use crate::inbox::{InboxPage, InboxQuery};
use crate::live::EventsPage;
use crate::orders::{Order, OrderSummary, PendingTask};
use crate::outcome::{Decided, Outcome, Scope};
use crate::receipts::Signed;
use crate::services::Services;
use crate::signatures::{Document, SignatureRequest, SignerSpec};
use crate::users::{Role, User};

fn require(user: &User, role: Role) -> Result<(), DomainError> {
    if user.has(role) {
        Ok(())
    } else {
        Err(DomainError::Forbidden)
    }
}

/// Customers place orders for themselves; staff for anyone (`for_customer`,
/// default themselves), e.g. an order taken by phone.
pub async fn place_order(
    s: &Services,
    user: &User,
    items: &[String],
    for_customer: Option<&str>,
) -> Result<String, DomainError> {
    let customer = match for_customer {
        None if user.has(Role::Customer) || user.has(Role::Staff) => user.name.as_str(),
        Some(name) if user.has(Role::Staff) => {
            crate::users::check_name(name)?;
            name
        }
        Some(name) if user.has(Role::Customer) && name == user.name => name,
        _ => return Err(DomainError::Forbidden),
    };
    s.orders().place(customer, items).await
}

/// A customer's own orders, newest first.
pub async fn my_orders(
    s: &Services,
    user: &User,
    limit: i32,
    cursor: Option<&str>,
) -> Result<(Vec<OrderSummary>, Option<String>), DomainError> {
    require(user, Role::Customer)?;
    s.orders().placed_by(&user.name, limit, cursor).await
}

/// An order and its waiting step: staff see any, a customer their own.
pub async fn order(
    s: &Services,
    user: &User,
    order_id: &str,
) -> Result<(Order, Option<PendingTask>), DomainError> {
    if !user.has(Role::Staff) && !user.has(Role::Customer) {
        return Err(DomainError::Forbidden);
    }
    let order = s.orders().get(order_id).await?;
    if !user.has(Role::Staff) && order.customer != user.name {
        return Err(DomainError::NotFound);
    }
    let pending = s.orders().pending_task(order_id).await?;
    Ok((order, pending))
}

/// Orders waiting for staff, oldest first.
pub async fn inbox(
    s: &Services,
    user: &User,
    limit: i32,
    cursor: Option<&str>,
) -> Result<(Vec<PendingTask>, Option<String>), DomainError> {
    require(user, Role::Staff)?;
    s.orders().inbox(limit, cursor).await
}

/// The staff inbox: orders and signature requests, filtered and paged.
pub async fn staff_inbox(
    s: &Services,
    user: &User,
    query: &InboxQuery,
) -> Result<InboxPage, DomainError> {
    require(user, Role::Staff)?;
    s.staff_inbox().page(query).await
}

/// An order's or a document's Step Functions events: staff only (the
/// workflow's inner steps are not for customers or signers).
pub async fn execution_events(
    s: &Services,
    user: &User,
    subject: Subject<'_>,
    page: Option<&str>,
) -> Result<EventsPage, DomainError> {
    require(user, Role::Staff)?;
    let arn = match subject {
        Subject::Order(id) => {
            s.orders().get(id).await?;
            s.execution_arn(id)
        }
        Subject::Document(id) => {
            s.documents().get(id).await?;
            s.document_execution_arn(id)
        }
    };
    s.live().execution_events(&arn, 25, page).await
}

/// Where an order's workflow stands: staff only, as its events.
pub async fn order_progress(
    s: &Services,
    user: &User,
    order_id: &str,
) -> Result<crate::progress::Standing, DomainError> {
    require(user, Role::Staff)?;
    s.orders().get(order_id).await?;
    s.progress().of(&s.execution_arn(order_id)).await
}

/// Where a document's signing workflow stands: staff only, as its events.
pub async fn document_progress(
    s: &Services,
    user: &User,
    document_id: &str,
) -> Result<crate::progress::Standing, DomainError> {
    require(user, Role::Staff)?;
    s.documents().get(document_id).await?;
    s.progress()
        .of(&s.document_execution_arn(document_id))
        .await
}

/// Where a task's workflow stands: anyone who may see the task (its
/// deciders among them, who are about to move it on).
pub async fn task_progress(
    s: &Services,
    user: &User,
    task_id: &str,
) -> Result<(countersign_model::tasks::Task, crate::progress::Standing), DomainError> {
    let task = s.tasks().get(user, task_id).await?;
    let standing = s.progress().of(&task.execution).await?;
    Ok((task, standing))
}

/// The decision history of `filter`, for auditors: staff only (a
/// customer or signer sees their own decisions on their own pages).
pub async fn audit_export(
    s: &Services,
    user: &User,
    filter: crate::audit::Filter,
) -> Result<crate::audit::Export, DomainError> {
    may_audit(user)?;
    s.audit().export(filter).await
}

/// Whether `user` may read the decision history (the audit page).
pub fn may_audit(user: &User) -> Result<(), DomainError> {
    require(user, Role::Staff)
}

/// What an execution belongs to.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    Order(&'a str),
    Document(&'a str),
}

/// Staff decide an order's waiting step.
pub async fn decide_order(
    s: &Services,
    user: &User,
    order_id: &str,
    task_id: &str,
    outcome: Outcome,
    comment: Option<&str>,
) -> Result<Decided, DomainError> {
    require(user, Role::Staff)?;
    s.decisions()
        .decide(order_id, task_id, outcome, &user.name, comment)
        .await
}

/// Staff decide whatever step of the order was waiting when the request
/// `arrived` (machine callers that name no task).
pub async fn decide_waiting_order(
    s: &Services,
    user: &User,
    order_id: &str,
    outcome: Outcome,
    comment: Option<&str>,
    arrived: &str,
    settle: std::time::Duration,
) -> Result<Decided, DomainError> {
    // Who may not see the order is told "not found", as when reading it.
    order(s, user, order_id).await?;
    require(user, Role::Staff)?;
    s.decisions()
        .decide_waiting(order_id, outcome, &user.name, comment, arrived, settle)
        .await
}

/// Requests waiting for the caller's own signature.
pub async fn signer_desk(s: &Services, user: &User) -> Result<Vec<SignatureRequest>, DomainError> {
    require(user, Role::Signer)?;
    s.documents().signer_desk(&user.name).await
}

/// A document: staff see any, a signer those naming them.
pub async fn document(
    s: &Services,
    user: &User,
    document_id: &str,
) -> Result<Document, DomainError> {
    if !user.has(Role::Staff) && !user.has(Role::Signer) {
        return Err(DomainError::Forbidden);
    }
    let document = s.documents().get(document_id).await?;
    let named = document.signers.iter().any(|s| s.name == user.name);
    if !user.has(Role::Staff) && !named {
        return Err(DomainError::NotFound);
    }
    Ok(document)
}

/// A signer signs or declines their own request. Requests are keyed by
/// signer, so the caller can only ever reach their own.
pub async fn decide_signature(
    s: &Services,
    user: &User,
    document_id: &str,
    task_id: &str,
    outcome: Outcome,
) -> Result<Decided, DomainError> {
    require(user, Role::Signer)?;
    s.documents()
        .decide(document_id, &user.name, task_id, outcome, &user.name)
        .await
}

/// Longest signing timeout: a year, as long as a task token lives.
pub const MAX_SIGNING_TIMEOUT_SECS: u64 = 365 * 24 * 3600;

/// Staff start collecting signatures on a document.
pub async fn request_signatures(
    s: &Services,
    user: &User,
    title: &str,
    signers: &[SignerSpec],
    timeout_secs: u64,
) -> Result<String, DomainError> {
    require(user, Role::Staff)?;
    if timeout_secs == 0 || timeout_secs > MAX_SIGNING_TIMEOUT_SECS {
        return Err(DomainError::Invalid(
            "the timeout is 1 second to 365 days".into(),
        ));
    }
    s.documents()
        .request(title.trim(), signers, timeout_secs)
        .await
}

/// Whose files: an order's, a document's or a task's.
#[derive(Debug, Clone, Copy)]
pub enum FilesOf<'a> {
    Order(&'a str),
    Document(&'a str),
    Task(&'a str),
}

/// The owner of the files, once the caller is known to see them (anyone
/// who may see the order, document or task).
async fn files_owner(s: &Services, user: &User, of: FilesOf<'_>) -> Result<Owner, DomainError> {
    match of {
        FilesOf::Order(id) => {
            order(s, user, id).await?;
            Ok(Owner::order(id))
        }
        FilesOf::Document(id) => {
            document(s, user, id).await?;
            Ok(Owner::document(id))
        }
        FilesOf::Task(id) => {
            let task = s.tasks().get(user, id).await?;
            Owner::of_task(&task).ok_or(DomainError::NotFound)
        }
    }
}

/// The files attached to an order, document or task, each flagged if it
/// changed after a decision on it.
pub async fn attachments(
    s: &Services,
    user: &User,
    of: FilesOf<'_>,
) -> Result<Vec<ShownFile>, DomainError> {
    let owner = files_owner(s, user, of).await?;
    s.attachments().shown(&owner).await
}

/// One attached file's bytes, for whoever may see what it is attached to.
pub async fn open_attachment(
    s: &Services,
    user: &User,
    of: FilesOf<'_>,
    name: &str,
) -> Result<Opened, DomainError> {
    let owner = files_owner(s, user, of).await?;
    s.attachments().open(&owner, name).await
}

/// Staff attach a file (or give a name new bytes).
pub async fn attach(
    s: &Services,
    user: &User,
    of: FilesOf<'_>,
    name: &str,
    bytes: Vec<u8>,
) -> Result<Attachment, DomainError> {
    let owner = files_owner(s, user, of).await?;
    require(user, Role::Staff)?;
    s.attachments().add(&owner, name, bytes, &user.name).await
}

/// A decision's signed receipt: for staff, for whoever decided, and for
/// anyone who may see what was decided (the order's customer, the
/// document's signers, the task's viewers). Others are told "not found".
pub async fn receipt(s: &Services, user: &User, decision: &str) -> Result<Signed, DomainError> {
    let entry = s.receipts().entry(decision).await?;
    let may = user.has(Role::Staff)
        || entry.actor == user.name
        || match &entry.scope {
            Scope::Order { order_id, .. } => order(s, user, order_id).await.is_ok(),
            Scope::Signature { document_id, .. } => document(s, user, document_id).await.is_ok(),
            Scope::Task { .. } => s.tasks().get(user, &entry.task_id).await.is_ok(),
        };
    if !may {
        return Err(DomainError::NotFound);
    }
    s.receipts().of_entry(&entry).await
}
