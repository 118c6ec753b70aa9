//! The REST API for tasks of any kind (`docs/tasks.md`): list and read
//! tasks, claim, give back and assign them, answer them, and start a
//! kind's workflow. Permission checks are the domain's (the same for every
//! caller); this module only reads requests and shapes answers.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use countersign_domain::DomainError;
use countersign_domain::forms::Field;
use countersign_domain::kinds::Kind;
use countersign_domain::tasks::contract::{Action, Approval, Assignment, ContextField, Subject};
use countersign_domain::tasks::decide::Answer;
use countersign_domain::tasks::views::{Filter, Sort, View};
use countersign_domain::tasks::{Contract, Task};
use countersign_domain::users::User;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::ApiError;
use super::request::{authorized, caller, services};
use crate::readiness::{Backend, Readiness};

use super::error::Result;

/// A domain refusal as the caller sees it; a form's refusal keeps each
/// field's problem, machine-readable.
fn refused(error: DomainError) -> ApiError {
    match error {
        DomainError::Form(fields) => {
            let message = fields
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join("; ");
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_form", message)
                .with_fields(json!(fields))
        }
        other => other.into(),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskOut {
    task_id: String,
    kind: Option<String>,
    status: &'static str,
    subject: Option<Subject>,
    requester: Option<String>,
    execution_id: String,
    state: Option<String>,
    created_at: String,
    deadline: Option<String>,
    assignee: Option<String>,
    quorum: u32,
    approvals: Vec<Approval>,
    assignments: Vec<Assignment>,
    actions: Vec<Action>,
    form: Vec<Field>,
    context: Vec<ContextField>,
    /// Whether the caller may answer it.
    may_decide: bool,
    /// Why the row breaks the contract (staff see such tasks, to end them).
    malformed: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<String>,
    action: Option<String>,
}

pub(crate) fn task_out(task: Task, user: &User) -> TaskOut {
    let may_decide = task.may_decide(user);
    let (spec, malformed) = match task.contract {
        Contract::Valid(spec) => (Some(*spec), None),
        Contract::Malformed { problem } => (None, Some(problem)),
    };
    TaskOut {
        task_id: task.id,
        kind: spec.as_ref().map(|s| s.kind.clone()),
        status: task.status.as_str(),
        subject: spec.as_ref().map(|s| s.subject.clone()),
        requester: spec.as_ref().and_then(|s| s.requester.clone()),
        execution_id: task.execution,
        state: task.state,
        created_at: task.created_at,
        deadline: task.deadline,
        assignee: task.assignee,
        quorum: spec.as_ref().map_or(1, |s| s.quorum),
        approvals: task.approvals,
        assignments: task.assignments,
        actions: spec.as_ref().map(|s| s.actions.clone()).unwrap_or_default(),
        form: spec.as_ref().map(|s| s.form.clone()).unwrap_or_default(),
        context: spec.map(|s| s.context).unwrap_or_default(),
        may_decide,
        malformed,
        decided_by: task.decided_by,
        decided_at: task.decided_at,
        action: task.action,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct ListQuery {
    view: Option<View>,
    sort: Option<Sort>,
    kind: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
}

pub(crate) async fn list_tasks(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
    query: std::result::Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>> {
    let s = services(&readiness)?;
    let user = caller(&s, &headers).await?;
    let Query(query) =
        query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid", e.body_text()))?;
    let filter = Filter {
        view: query.view.unwrap_or_default(),
        sort: query.sort.unwrap_or_default(),
        kind: query.kind.filter(|k| !k.is_empty()),
    };
    let page = s
        .domain
        .tasks()
        .list(
            &user,
            &filter,
            query.cursor.as_deref(),
            query.limit.unwrap_or(50),
        )
        .await
        .map_err(refused)?;
    let tasks: Vec<TaskOut> = page
        .tasks
        .into_iter()
        .map(|t| task_out(s.kinds.with_deadline(t), &user))
        .collect();
    Ok(Json(json!({"tasks": tasks, "next": page.next})))
}

pub(crate) async fn get_task(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<TaskOut>> {
    let s = services(&readiness)?;
    let user = caller(&s, &headers).await?;
    let task = s.domain.tasks().get(&user, &id).await.map_err(refused)?;
    Ok(Json(task_out(s.kinds.with_deadline(task), &user)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AnswerIn {
    action: String,
    #[serde(default)]
    values: BTreeMap<String, Value>,
    /// A failure's reason, or an approval's comment.
    #[serde(default, alias = "comment")]
    reason: Option<String>,
}

pub(crate) async fn answer_task(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<Value>> {
    let (s, user, request): (_, _, AnswerIn) = authorized(&readiness, &headers, body).await?;
    let answered = s
        .domain
        .tasks()
        .answer(
            &user,
            &id,
            Answer {
                action: request.action,
                values: request.values,
                reason: request.reason,
            },
        )
        .await
        .map_err(refused)?;
    Ok(Json(json!(answered)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssignIn {
    to: String,
    #[serde(default)]
    reason: Option<String>,
}

/// Taking a task, or giving it back.
#[derive(Clone, Copy)]
enum Hands {
    Claim,
    Unclaim,
}

async fn change_hands(
    readiness: &Readiness,
    headers: &HeaderMap,
    id: &str,
    hands: Hands,
) -> Result<Json<TaskOut>> {
    let s = services(readiness)?;
    let user = caller(&s, headers).await?;
    let task = match hands {
        Hands::Claim => s.domain.tasks().claim(&user, id).await,
        Hands::Unclaim => s.domain.tasks().unclaim(&user, id).await,
    }
    .map_err(refused)?;
    Ok(Json(task_out(task, &user)))
}

pub(crate) async fn claim_task(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<TaskOut>> {
    change_hands(&readiness, &headers, &id, Hands::Claim).await
}

pub(crate) async fn unclaim_task(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<TaskOut>> {
    change_hands(&readiness, &headers, &id, Hands::Unclaim).await
}

pub(crate) async fn assign_task(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<TaskOut>> {
    let (s, user, request): (_, _, AssignIn) = authorized(&readiness, &headers, body).await?;
    let task = s
        .domain
        .tasks()
        .assign(&user, &id, &request.to, request.reason.as_deref())
        .await
        .map_err(refused)?;
    Ok(Json(task_out(task, &user)))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KindOut<'a> {
    kind: &'a str,
    title: &'a str,
    description: &'a str,
    may_start: bool,
    form: &'a [Field],
    list: &'a [String],
    deployed: bool,
}

fn kind_out<'a>(kind: &'a Kind, user: &User) -> KindOut<'a> {
    KindOut {
        kind: kind.name(),
        title: &kind.descriptor.title,
        description: &kind.descriptor.description,
        may_start: kind.may_start(user),
        form: &kind.descriptor.start.form,
        list: &kind.descriptor.list,
        deployed: kind.state_machine_arn.is_some(),
    }
}

pub(crate) async fn list_kinds(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
) -> Result<Json<Value>> {
    let s = services(&readiness)?;
    let user = caller(&s, &headers).await?;
    let kinds: Vec<KindOut> = s.kinds.all().map(|k| kind_out(k, &user)).collect();
    Ok(Json(json!({"kinds": kinds})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartIn {
    #[serde(default)]
    values: BTreeMap<String, Value>,
}

pub(crate) async fn start_kind(
    State(readiness): State<Readiness>,
    Path(kind): Path<String>,
    request: axum::extract::Request,
) -> Result<Response> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("multipart/form-data"));
    let (s, user, values, files) = if multipart {
        start_parts(&readiness, request).await?
    } else {
        let (parts, body) = request.into_parts();
        let (s, user, request): (_, _, StartIn) =
            authorized(&readiness, &parts.headers, body).await?;
        (s, user, request.values, Vec::new())
    };
    let kind = s
        .kinds
        .get(&kind)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such kind"))?;
    let started = s
        .domain
        .tasks()
        .start_with_files(&user, kind, &values, files)
        .await
        .map_err(refused)?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/v1/tasks?kind={}", started.kind))],
        Json(json!(started)),
    )
        .into_response())
}

/// A start sent as multipart/form-data: its `values` part (the JSON object
/// a JSON start sends as `values`) and its files, each in a part named
/// `file`.
async fn start_parts(
    readiness: &Readiness,
    request: axum::extract::Request,
) -> Result<(
    Backend,
    User,
    BTreeMap<String, Value>,
    Vec<(String, Vec<u8>)>,
)> {
    use crate::files::{Part, next_part};
    use axum::extract::FromRequest;
    let s = services(readiness)?;
    let user = caller(&s, request.headers()).await?;
    let mut multipart = axum::extract::Multipart::from_request(request, &())
        .await
        .map_err(|e| ApiError::invalid(e.body_text()))?;
    let limit = s.domain.files.limit;
    let (mut values, mut files) = (BTreeMap::new(), Vec::new());
    while let Some(part) = next_part(&mut multipart, limit).await? {
        match part {
            Part::File { name, bytes } => files.push((name, bytes)),
            Part::Field { name, bytes } if name == "values" => {
                values = serde_json::from_slice(&bytes).map_err(|e| {
                    ApiError::invalid(format!("the `values` part is not a JSON object: {e}"))
                })?;
            }
            Part::Field { name, .. } => {
                return Err(ApiError::invalid(format!(
                    "unknown part {name:?}: send `values` (JSON) and files named `file`"
                )));
            }
        }
    }
    Ok((s, user, values, files))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SaveViewIn {
    name: String,
    #[serde(default)]
    view: View,
    #[serde(default)]
    sort: Sort,
    #[serde(default)]
    kind: Option<String>,
    /// One of the caller's groups to share it with.
    #[serde(default)]
    group: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ViewOut {
    owner: String,
    name: String,
    view: View,
    sort: Sort,
    kind: Option<String>,
    group: Option<String>,
    created_at: String,
    /// The task list's address for it.
    href: String,
}

fn view_out(view: countersign_domain::tasks::saved::SavedView) -> ViewOut {
    ViewOut {
        href: view.href(),
        owner: view.owner,
        name: view.name,
        view: view.filter.view,
        sort: view.filter.sort,
        kind: view.filter.kind,
        group: view.group,
        created_at: view.created_at,
    }
}

pub(crate) async fn list_views(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
) -> Result<Json<Value>> {
    let s = services(&readiness)?;
    let user = caller(&s, &headers).await?;
    let views: Vec<ViewOut> = s
        .domain
        .saved_views()
        .list(&user)
        .await
        .map_err(refused)?
        .into_iter()
        .map(view_out)
        .collect();
    Ok(Json(json!({"views": views})))
}

pub(crate) async fn save_view(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let (s, user, request): (_, _, SaveViewIn) = authorized(&readiness, &headers, body).await?;
    let filter = Filter {
        view: request.view,
        sort: request.sort,
        kind: request.kind.filter(|k| !k.is_empty()),
    };
    let saved = s
        .domain
        .saved_views()
        .save(&user, &request.name, &filter, request.group.as_deref())
        .await
        .map_err(refused)?;
    Ok((StatusCode::CREATED, Json(view_out(saved))).into_response())
}

pub(crate) async fn delete_view(
    State(readiness): State<Readiness>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Json<Value>> {
    let s = services(&readiness)?;
    let user = caller(&s, &headers).await?;
    s.domain
        .saved_views()
        .delete(&user, &name)
        .await
        .map_err(refused)?;
    Ok(Json(json!({"deleted": name})))
}
