//! Tasks of any kind: the list, one task, answering, claiming and
//! assigning, and starting a kind. The rules (who may see, decide, claim,
//! assign, start) are the domain's; these functions only carry the call.

use std::collections::BTreeMap;

use countersign_model::forms::Field;
use countersign_model::tasks::{SavedView, Task};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A task as a page shows it, with what the reader may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskCard {
    pub task: Task,
    pub may_decide: bool,
    /// The kind's title, when the kind is known here.
    pub kind_title: Option<String>,
    /// The context fields the kind's list shows.
    pub list: Vec<String>,
    /// Whether the reader may hand it to someone else (staff, or its holder).
    pub may_assign: bool,
    /// Whether the reader may answer it now: they may decide it, and it is
    /// not held by someone else (a single decision is its holder's).
    pub may_answer: bool,
}

/// A kind someone may start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindCard {
    pub kind: String,
    pub title: String,
    pub description: String,
    pub form: Vec<Field>,
}

/// A page of the task list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskList {
    pub cards: Vec<TaskCard>,
    pub next: Option<String>,
    /// The kinds the reader may start.
    pub kinds: Vec<KindCard>,
    /// The reader's saved views and those shared with their groups.
    pub views: Vec<SavedView>,
    /// The reader's groups, to share a view with.
    pub groups: Vec<String>,
    /// The reader's name (their own views can be deleted).
    pub me: String,
}

#[cfg(feature = "ssr")]
fn card(
    services: &crate::services::Services,
    user: &countersign_model::people::User,
    task: Task,
) -> TaskCard {
    use countersign_model::people::Role;
    let task = services.kinds.with_deadline(task);
    let kind = task.kind().and_then(|k| services.kinds.get(k));
    let single = task.spec().is_none_or(|s| s.quorum <= 1);
    let held_by_other = task.assignee.as_deref().is_some_and(|a| a != user.name);
    TaskCard {
        may_answer: task.status == countersign_model::tasks::Status::Open
            && task.may_decide(user)
            && !(single && held_by_other),
        may_decide: task.may_decide(user),
        may_assign: task.status == countersign_model::tasks::Status::Open
            && (user.has(Role::Staff) || task.assignee.as_deref() == Some(&user.name)),
        kind_title: kind.map(|k| k.descriptor.title.clone()),
        list: kind.map(|k| k.descriptor.list.clone()).unwrap_or_default(),
        task,
    }
}

/// Open tasks the caller may see: `view` is open, unassigned, mine or
/// my-groups; `sort` oldest or deadline; `kind` one kind only.
///
/// Who may call it: anyone signed in (each sees only their own share).
#[server(endpoint = "tasks/list")]
pub async fn list_tasks(
    view: Option<String>,
    sort: Option<String>,
    kind: Option<String>,
    cursor: Option<String>,
) -> Result<TaskList, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        use countersign_domain::tasks::views::{Filter, Sort, View};
        let parse = |text: Option<String>| -> Result<Option<String>, AppError> {
            Ok(text.filter(|t| !t.is_empty()))
        };
        let view: View = match parse(view)? {
            Some(v) => serde_json::from_value(serde_json::Value::String(v.clone()))
                .map_err(|_| AppError::Invalid(format!("there is no view {v:?}")))?,
            None => View::default(),
        };
        let sort: Sort = match parse(sort)? {
            Some(v) => serde_json::from_value(serde_json::Value::String(v.clone()))
                .map_err(|_| AppError::Invalid(format!("there is no order {v:?}")))?,
            None => Sort::default(),
        };
        let filter = Filter {
            view,
            sort,
            kind: parse(kind)?,
        };
        let page = services
            .domain
            .tasks()
            .list(
                &user,
                &filter,
                cursor.as_deref().filter(|c| !c.is_empty()),
                50,
            )
            .await?;
        let kinds = services
            .kinds
            .all()
            .filter(|k| k.may_start(&user) && k.state_machine_arn.is_some())
            .map(|k| KindCard {
                kind: k.name().to_owned(),
                title: k.descriptor.title.clone(),
                description: k.descriptor.description.clone(),
                form: k.descriptor.start.form.clone(),
            })
            .collect();
        let views = services.domain.saved_views().list(&user).await?;
        Ok(TaskList {
            views,
            groups: user.groups.clone(),
            me: user.name.clone(),
            cards: page
                .tasks
                .into_iter()
                .map(|t| card(&services, &user, t))
                .collect(),
            next: page.next,
            kinds,
        })
    })
    .await
}

/// One task.
///
/// Who may call it: staff; whoever may decide it, asked for it or holds
/// it. Anyone else is told "not found".
#[server(endpoint = "tasks/get")]
pub async fn get_task(task_id: String) -> Result<TaskCard, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        let task = services.domain.tasks().get(&user, &task_id).await?;
        Ok(card(&services, &user, task))
    })
    .await
}

/// Answers a task with one of its actions, the form's values and a
/// reason or comment. Exactly one resume per task takes effect.
///
/// Who may call it: people the task names as eligible and does not
/// exclude (for a malformed task, staff with `fail-malformed`).
#[server(endpoint = "tasks/answer")]
pub async fn answer_task(
    task_id: String,
    action: String,
    reason: Option<String>,
    values: Option<BTreeMap<String, String>>,
) -> Result<String, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        use countersign_domain::tasks::decide::Answer;
        let answered = services
            .domain
            .tasks()
            .answer(
                &user,
                &task_id,
                Answer {
                    action,
                    values: values
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(k, v)| (k, serde_json::Value::String(v)))
                        .collect(),
                    reason,
                },
            )
            .await?;
        let text = if answered.resumed {
            format!("{}: done, the workflow goes on", answered.action)
        } else {
            format!(
                "{}: counted ({} of {} approvals)",
                answered.action, answered.approvals, answered.quorum
            )
        };
        crate::error::back_with("done", &text);
        Ok(text)
    })
    .await
}

/// Claims (`claim`) or gives back (`unclaim`) a task.
///
/// Who may call it: claim, people who may decide it; give back, its
/// holder or staff.
#[server(endpoint = "tasks/claim")]
pub async fn claim_task(task_id: String, what: String) -> Result<String, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        let text = match what.as_str() {
            "claim" => {
                services.domain.tasks().claim(&user, &task_id).await?;
                "claimed: it is yours".to_owned()
            }
            "unclaim" => {
                services.domain.tasks().unclaim(&user, &task_id).await?;
                "given back".to_owned()
            }
            other => {
                return Err(AppError::Invalid(format!(
                    "claim or unclaim, not {other:?}"
                )));
            }
        };
        crate::error::back_with("done", &text);
        Ok(text)
    })
    .await
}

/// Assigns a task to `to`, with an optional reason.
///
/// Who may call it: staff, or the task's holder (delegating).
#[server(endpoint = "tasks/assign")]
pub async fn assign_task(
    task_id: String,
    to: String,
    reason: Option<String>,
) -> Result<String, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        let to = to.trim().to_owned();
        services
            .domain
            .tasks()
            .assign(&user, &task_id, &to, reason.as_deref())
            .await?;
        let text = format!("assigned to {to}");
        crate::error::back_with("done", &text);
        Ok(text)
    })
    .await
}

/// Starts a kind with its start form's values; then shows the task list.
///
/// Who may call it: the roles and groups the kind's descriptor names.
#[server(endpoint = "tasks/start")]
pub async fn start_kind(
    kind: String,
    values: Option<BTreeMap<String, String>>,
) -> Result<String, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        let found = services.kinds.get(&kind).ok_or(AppError::NotFound)?;
        let values = values
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect();
        let started = services.domain.tasks().start(&user, found, &values).await?;
        let text = format!("started: {}", found.descriptor.title);
        crate::error::back_with("done", &text);
        Ok(started.subject_id)
    })
    .await
}

/// Saves the list's current filter as the caller's view `name`, shared
/// with `group` (one of theirs) if given.
///
/// Who may call it: anyone signed in (for their own views).
#[server(endpoint = "tasks/save_view")]
pub async fn save_view(
    name: String,
    view: Option<String>,
    sort: Option<String>,
    kind: Option<String>,
    group: Option<String>,
) -> Result<String, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        use countersign_model::tasks::Filter;
        let parse = |text: Option<String>, what: &str| -> Result<serde_json::Value, AppError> {
            match text.filter(|t| !t.is_empty()) {
                Some(t) => Ok(serde_json::Value::String(t)),
                None => Err(AppError::Invalid(format!("no {what}"))),
            }
        };
        let filter = Filter {
            view: parse(view, "view")
                .and_then(|v| {
                    serde_json::from_value(v)
                        .map_err(|_| AppError::Invalid("there is no such view".into()))
                })
                .unwrap_or_default(),
            sort: parse(sort, "sort")
                .and_then(|v| {
                    serde_json::from_value(v)
                        .map_err(|_| AppError::Invalid("there is no such order".into()))
                })
                .unwrap_or_default(),
            kind: kind.filter(|k| !k.is_empty()),
        };
        let saved = services
            .domain
            .saved_views()
            .save(&user, &name, &filter, group.as_deref())
            .await?;
        let text = match &saved.group {
            Some(g) => format!("saved the view {}, shared with {g}", saved.name),
            None => format!("saved the view {}", saved.name),
        };
        crate::error::back_with("done", &text);
        Ok(text)
    })
    .await
}

/// Deletes the caller's own view `name`.
///
/// Who may call it: anyone signed in (for their own views).
#[server(endpoint = "tasks/delete_view")]
pub async fn delete_view(name: String) -> Result<String, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        services.domain.saved_views().delete(&user, &name).await?;
        let text = format!("deleted the view {name}");
        crate::error::back_with("done", &text);
        Ok(text)
    })
    .await
}
