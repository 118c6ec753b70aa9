//! Tasks of any kind: the list (`/tasks`, with views and the kinds one may
//! start) and one task (`/tasks/{id}`: what it asks, its context, its
//! approvals, who holds it, and a form per action). Every form is a plain
//! form, so all of it works without JavaScript.

use countersign_model::forms::{Field, FieldType};
use countersign_model::tasks::{ActionOutcome, Contract, ReasonRule, Status as TaskStatus};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::error::{AppError, FieldProblem};
use crate::pages::common::{Failure, Left, Outcome, Status, When, live, one_outcome, value_of};
use crate::server_fns::tasks::{
    AnswerTask, AssignTask, ClaimTask, DeleteView, KindCard, SaveView, StartKind, TaskCard,
};

/// The views of the list: (query value, label).
const VIEWS: [(&str, &str); 4] = [
    ("open", "All open"),
    ("unassigned", "Unassigned"),
    ("mine", "Assigned to me"),
    ("my-groups", "My groups"),
];

/// The task list with its views, and a start form per kind.
#[component]
pub fn TasksPage() -> impl IntoView {
    let query = use_query_map();
    let start = ServerAction::<StartKind>::new();
    let claim = ServerAction::<ClaimTask>::new();
    let save = ServerAction::<SaveView>::new();
    let delete = ServerAction::<DeleteView>::new();
    let live = live();
    let list = Resource::new(
        move || {
            let q = query.read();
            (
                q.get("view"),
                q.get("sort"),
                q.get("kind"),
                q.get("cursor"),
                start.version().get(),
                claim.version().get(),
                save.version().get() + delete.version().get(),
                live.get(),
            )
        },
        |(view, sort, kind, cursor, ..)| {
            crate::server_fns::tasks::list_tasks(view, sort, kind, cursor)
        },
    );
    let outcome = one_outcome(vec![
        value_of(start, |_: &String| "started: it is listed here".to_owned()),
        value_of(claim, String::clone),
        value_of(save, String::clone),
        value_of(delete, String::clone),
    ]);
    let current = move || query.read().get("view").unwrap_or_else(|| "open".into());
    view! {
        <section class="panel">
            <h1>"Tasks"</h1>
            <div class="toasts"><Outcome message=outcome /></div>
            <nav class="tabs" aria-label="Views">
                {VIEWS
                    .into_iter()
                    .map(|(value, label)| {
                        let href = format!("/tasks?view={value}");
                        let here = move || (current() == value).then_some("page");
                        view! { <a href=href aria-current=here>{label}</a> }
                    })
                    .collect_view()}
                <a href=move || format!("/tasks?view={}&sort=deadline", current())>"By deadline"</a>
            </nav>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    list.get()
                        .map(|result| match result {
                            Err(error) => view! { <Failure error /> }.into_any(),
                            Ok(page) => {
                                let next = page.next.clone().map(|cursor| {
                                    let q = query.read();
                                    let view = q.get("view").unwrap_or_default();
                                    let sort = q.get("sort").unwrap_or_default();
                                    format!("/tasks?view={view}&sort={sort}&cursor={cursor}")
                                });
                                let start_error = start.value().get().and_then(Result::err);
                                let q = query.read();
                                let (view, sort, kind) = (
                                    q.get("view").unwrap_or_default(),
                                    q.get("sort").unwrap_or_default(),
                                    q.get("kind").unwrap_or_default(),
                                );
                                drop(q);
                                view! {
                                    <Views views=page.views.clone() groups=page.groups.clone() me=page.me.clone() save delete view sort kind />
                                    {if page.cards.is_empty() {
                                        view! { <p class="muted" id="tasks-empty">"No open tasks here."</p> }.into_any()
                                    } else {
                                        view! {
                                            <ul class="requests" id="tasks">
                                                {page.cards.into_iter().map(|card| view! { <TaskRow card claim /> }).collect_view()}
                                            </ul>
                                        }
                                            .into_any()
                                    }}
                                    {next.map(|href| view! { <p><a href=href id="next-page">"More"</a></p> })}
                                    {(!page.kinds.is_empty()).then(|| view! {
                                        <h2>"Start"</h2>
                                        {page.kinds.into_iter().map(|kind| {
                                            let errors = problems(start_error.as_ref());
                                            view! { <StartForm kind start errors /> }
                                        }).collect_view()}
                                    })}
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
        </section>
    }
}

/// The reader's saved views (and those shared with their groups) as links,
/// and a form that saves the current filter under a name.
#[component]
fn Views(
    views: Vec<countersign_model::tasks::SavedView>,
    groups: Vec<String>,
    me: String,
    save: ServerAction<SaveView>,
    delete: ServerAction<DeleteView>,
    view: String,
    sort: String,
    kind: String,
) -> impl IntoView {
    view! {
        <div class="views" id="views">
            {(!views.is_empty()).then(|| view! {
                <ul class="saved-views">
                    {views.into_iter().map(|v| {
                        let whose = match &v.group {
                            Some(g) if v.owner == me => format!(" (shared with {g})"),
                            Some(g) => format!(" (shared with {g} by {})", v.owner),
                            None => String::new(),
                        };
                        let name = v.name.clone();
                        let own = v.owner == me;
                        view! {
                            <li data-view=v.name.clone()>
                                <a href=v.href()>{v.name.clone()}</a>
                                <span class="muted">{whose}</span>
                                {own.then(|| view! {
                                    <ActionForm action=delete attr:class="inline">
                                        <input type="hidden" name="name" value=name />
                                        <button type="submit" class="quiet">"Delete"</button>
                                    </ActionForm>
                                })}
                            </li>
                        }
                    }).collect_view()}
                </ul>
            })}
            <ActionForm action=save attr:class="inline" attr:id="save-view">
                <input type="hidden" name="view" value=view />
                <input type="hidden" name="sort" value=sort />
                <input type="hidden" name="kind" value=kind />
                <label for="view-name">"Save this view as"</label>
                <input id="view-name" name="name" required maxlength="60" />
                {(!groups.is_empty()).then(|| view! {
                    <label for="view-group">"shared with"</label>
                    <select id="view-group" name="group">
                        <option value="">"nobody"</option>
                        {groups.into_iter().map(|g| view! { <option value=g.clone()>{g.clone()}</option> }).collect_view()}
                    </select>
                })}
                <button type="submit" class="quiet">"Save"</button>
            </ActionForm>
        </div>
    }
}

/// The field problems of a refused form, for the fields to show.
fn problems(error: Option<&AppError>) -> Vec<FieldProblem> {
    match error {
        Some(AppError::Form { fields }) => fields.clone(),
        _ => Vec::new(),
    }
}

/// One row of the list: what, who asked, the kind's list fields, age,
/// deadline, holder and approvals; Claim for those who may decide it.
#[component]
fn TaskRow(card: TaskCard, claim: ServerAction<ClaimTask>) -> impl IntoView {
    let task = card.task.clone();
    let href = format!("/tasks/{}", task.id);
    let (title, requester, facts, quorum) = match &task.contract {
        Contract::Valid(spec) => (
            spec.subject.title.clone(),
            spec.requester.clone(),
            spec.context
                .iter()
                .filter(|c| card.list.contains(&c.name))
                .map(|c| format!("{}: {}", c.label, plain(&c.value)))
                .collect::<Vec<_>>(),
            spec.quorum,
        ),
        Contract::Malformed { .. } => ("(malformed task)".to_owned(), None, Vec::new(), 1),
    };
    let malformed = matches!(task.contract, Contract::Malformed { .. });
    let can_claim = card.may_decide && task.assignee.is_none();
    let id = task.id.clone();
    view! {
        <li class="card" data-task=task.id.clone()>
            <h2><a href=href>{title}</a></h2>
            <p class="meta">
                {card.kind_title.clone().unwrap_or_else(|| task.kind().unwrap_or("unknown kind").to_owned())}
                {requester.map(|r| format!(" · asked by {r}"))}
                " · " <When at=task.created_at.clone() /> " · " <Left deadline=task.deadline.clone() />
            </p>
            {malformed.then(|| view! { <p class="error">"This task's row breaks the task contract; open it to see why."</p> })}
            {(!facts.is_empty()).then(|| view! { <p class="facts">{facts.join(" · ")}</p> })}
            <p class="meta">
                {match &task.assignee {
                    Some(a) => format!("held by {a}"),
                    None => "unassigned".to_owned(),
                }}
                {(quorum > 1).then(|| format!(" · {} of {quorum} approvals", task.approvals.len()))}
            </p>
            {can_claim.then(|| view! {
                <ActionForm action=claim attr:class="decide">
                    <input type="hidden" name="task_id" value=id />
                    <input type="hidden" name="what" value="claim" />
                    <button type="submit" class="quiet">"Claim"</button>
                </ActionForm>
            })}
        </li>
    }
}

/// A context value as text.
fn plain(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "—".to_owned(),
        other => other.to_string(),
    }
}

/// A kind's start form.
#[component]
fn StartForm(
    kind: KindCard,
    start: ServerAction<StartKind>,
    errors: Vec<FieldProblem>,
) -> impl IntoView {
    let form_id = format!("start-{}", kind.kind);
    // Open again when the server refused what was sent, to show why.
    let open = !errors.is_empty();
    view! {
        <details class="card" id=form_id open=open>
            <summary>{kind.title.clone()}</summary>
            {(!kind.description.is_empty()).then(|| view! { <p class="muted">{kind.description.clone()}</p> })}
            <ActionForm action=start attr:class="task-form">
                <input type="hidden" name="kind" value=kind.kind.clone() />
                <FormFields fields=kind.form.clone() errors prefix=kind.kind.clone() />
                <button type="submit" class="advance">"Start"</button>
            </ActionForm>
        </details>
    }
}

/// The inputs of a form described by data, each with its problem (if the
/// server refused it) right under it.
#[component]
fn FormFields(fields: Vec<Field>, errors: Vec<FieldProblem>, prefix: String) -> impl IntoView {
    fields
        .into_iter()
        .map(|field| {
            let id = format!("{prefix}-{}", field.name);
            let name = format!("values[{}]", field.name);
            let problem = errors
                .iter()
                .find(|e| e.field == field.name)
                .map(|e| e.message.clone());
            let error_id = format!("{id}-error");
            let invalid = problem.is_some().then_some("true");
            let described = problem.is_some().then(|| error_id.clone());
            let required = field.required;
            let input = match field.kind {
                FieldType::Choice => view! {
                    <select id=id.clone() name=name required=required aria-invalid=invalid aria-describedby=described.clone()>
                        {(!required).then(|| view! { <option value="">"—"</option> })}
                        {field.options.iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
                    </select>
                }
                .into_any(),
                FieldType::Boolean => view! {
                    <input type="checkbox" id=id.clone() name=name value="true" aria-invalid=invalid aria-describedby=described.clone() />
                }
                .into_any(),
                kind => {
                    let (kind_attr, mode) = match kind {
                        FieldType::Number => ("number", None),
                        FieldType::Money => ("text", Some("decimal")),
                        FieldType::Date => ("date", None),
                        _ => ("text", None),
                    };
                    let step = (kind == FieldType::Number).then_some("any");
                    view! {
                        <input
                            type=kind_attr
                            inputmode=mode
                            step=step
                            id=id.clone()
                            name=name
                            required=required
                            maxlength=field.max_length.map(|m| m.to_string())
                            aria-invalid=invalid
                            aria-describedby=described.clone()
                        />
                    }
                    .into_any()
                }
            };
            view! {
                <p class="field">
                    <label for=id.clone()>{field.label.clone()} {required.then_some(" (required)")}</label>
                    {input}
                    {field.help.clone().map(|h| view! { <span class="muted">{h}</span> })}
                    {problem.map(|p| view! { <span class="field-error" id=error_id role="alert">{p}</span> })}
                </p>
            }
        })
        .collect_view()
}

/// One task: what it asks, its facts, approvals and hands, and its forms.
#[component]
pub fn TaskPage() -> impl IntoView {
    let params = use_params_map();
    let answer = ServerAction::<AnswerTask>::new();
    let claim = ServerAction::<ClaimTask>::new();
    let assign = ServerAction::<AssignTask>::new();
    let live = live();
    let id = move || params.read().get("id").unwrap_or_default();
    let card = Resource::new(
        move || {
            (
                id(),
                answer.version().get(),
                claim.version().get(),
                assign.version().get(),
                live.get(),
            )
        },
        |(id, ..)| crate::server_fns::tasks::get_task(id),
    );
    let outcome = one_outcome(vec![
        value_of(answer, String::clone),
        value_of(claim, String::clone),
        value_of(assign, String::clone),
    ]);
    view! {
        <section class="panel desk">
            <div class="toasts"><Outcome message=outcome /></div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    card.get()
                        .map(|result| match result {
                            Err(error) => view! { <Failure error /> }.into_any(),
                            Ok(card) => {
                                let errors = problems(answer.value().get().and_then(Result::err).as_ref());
                                view! { <TaskView card answer claim assign errors /> }.into_any()
                            }
                        })
                }}
            </Transition>
        </section>
    }
}

#[component]
fn TaskView(
    card: TaskCard,
    answer: ServerAction<AnswerTask>,
    claim: ServerAction<ClaimTask>,
    assign: ServerAction<AssignTask>,
    errors: Vec<FieldProblem>,
) -> impl IntoView {
    let task = card.task.clone();
    let open = task.status == TaskStatus::Open;
    let id = task.id.clone();
    let status = task.status.as_str().to_owned();
    let body = match &task.contract {
        Contract::Malformed { problem } => view! {
            <h1>"A malformed task"</h1>
            <p class="summary"><Status status=status.clone() /></p>
            <p class="error" id="malformed">{format!("Its row breaks the task contract: {problem}")}</p>
            {open.then(|| {
                let id = id.clone();
                view! {
                    <ActionForm action=answer attr:class="decide">
                        <input type="hidden" name="task_id" value=id />
                        <input type="hidden" name="action" value="fail-malformed" />
                        <input name="reason" class="reason" aria-label="Reason to end it" placeholder="Reason to end it" required />
                        <button type="submit" class="reject">"End it (fail the task)"</button>
                    </ActionForm>
                }
            })}
        }
        .into_any(),
        Contract::Valid(spec) => {
            let spec = (**spec).clone();
            view! {
                <h1>{spec.subject.title.clone()}</h1>
                <p class="summary">
                    <Status status=status.clone() /> " · "
                    {card.kind_title.clone().unwrap_or_else(|| spec.kind.clone())}
                    {spec.requester.clone().map(|r| format!(" · asked by {r}"))}
                    " · " <When at=task.created_at.clone() />
                    {open.then(|| view! { " · " <Left deadline=task.deadline.clone() /> })}
                </p>
                {(!spec.context.is_empty()).then(|| view! {
                    <dl class="context" id="context">
                        {spec.context.iter().map(|c| view! { <dt>{c.label.clone()}</dt><dd data-name=c.name.clone()>{plain(&c.value)}</dd> }).collect_view()}
                    </dl>
                })}
                <p class="meta" id="holder">
                    {match (&task.assignee, open) {
                        (Some(a), _) => format!("Held by {a}."),
                        (None, true) => "Nobody holds it.".to_owned(),
                        (None, false) => match (&task.decided_by, &task.action) {
                            (Some(by), Some(action)) => format!("Decided by {by} ({action})."),
                            (Some(by), None) => format!("Decided by {by}."),
                            _ => String::new(),
                        },
                    }}
                    {(open && spec.quorum > 1).then(|| format!(" Needs {} approvals; {} so far.", spec.quorum, task.approvals.len()))}
                </p>
                {(!task.approvals.is_empty()).then(|| view! {
                    <h2>"Approvals"</h2>
                    <ul class="timeline" id="approvals">
                        {task.approvals.iter().map(|a| view! {
                            <li><strong>{a.by.clone()}</strong> " " <When at=a.at.clone() />
                                {a.comment.clone().map(|c| format!(": {c}"))}</li>
                        }).collect_view()}
                    </ul>
                })}
                {card.may_answer.then(|| {
                    let id = id.clone();
                    let actions = spec.actions.clone();
                    let form = spec.form.clone();
                    let errors = errors.clone();
                    view! {
                        <h2>"Decide"</h2>
                        {actions.into_iter().map(|action| {
                            let id = id.clone();
                            let success = action.outcome == ActionOutcome::Success;
                            let fields = if success { form.clone() } else { Vec::new() };
                            let reason_label = match (success, action.reason) {
                                (_, ReasonRule::None) => None,
                                (true, _) => Some("Comment"),
                                (false, _) => Some("Reason"),
                            };
                            let required = action.reason == ReasonRule::Required;
                            let reason_id = format!("{}-reason", action.name);
                            let class = if success { "advance" } else { "reject" };
                            let (name, value, prefix) = (action.name.clone(), action.name.clone(), action.name.clone());
                            let label = action.label.clone();
                            let errors = errors.clone();
                            view! {
                                <ActionForm action=answer attr:class="task-form" attr:data-action=name>
                                    <input type="hidden" name="task_id" value=id />
                                    <input type="hidden" name="action" value=value />
                                    <FormFields fields errors prefix />
                                    {reason_label.map(|label| view! {
                                        <p class="field">
                                            <label for=reason_id.clone()>{label} {required.then_some(" (required)")}</label>
                                            <input id=reason_id.clone() name="reason" class="reason" required=required />
                                        </p>
                                    })}
                                    <button type="submit" class=class>{label}</button>
                                </ActionForm>
                            }
                        }).collect_view()}
                    }
                })}
            }
            .into_any()
        }
    };
    let can_claim = open && card.may_decide && task.assignee.is_none();
    let can_unclaim = open && task.assignee.is_some() && card.may_assign;
    let history = task.assignments.clone();
    view! {
        {body}
        <div class="actions">
            {can_claim.then(|| {
                let id = id.clone();
                view! {
                    <ActionForm action=claim attr:class="decide">
                        <input type="hidden" name="task_id" value=id />
                        <input type="hidden" name="what" value="claim" />
                        <button type="submit" class="quiet" id="claim">"Claim"</button>
                    </ActionForm>
                }
            })}
            {can_unclaim.then(|| {
                let id = id.clone();
                view! {
                    <ActionForm action=claim attr:class="decide">
                        <input type="hidden" name="task_id" value=id />
                        <input type="hidden" name="what" value="unclaim" />
                        <button type="submit" class="quiet" id="unclaim">"Give back"</button>
                    </ActionForm>
                }
            })}
            {(open && card.may_assign).then(|| {
                let id = id.clone();
                view! {
                    <ActionForm action=assign attr:class="decide">
                        <input type="hidden" name="task_id" value=id />
                        <label for="assign-to">"Assign to"</label>
                        <input id="assign-to" name="to" required />
                        <input name="reason" aria-label="Reason for assigning" placeholder="Reason (optional)" />
                        <button type="submit" class="quiet">"Assign"</button>
                    </ActionForm>
                }
            })}
        </div>
        {(!history.is_empty()).then(|| view! {
            <h2>"Hands"</h2>
            <ul class="timeline" id="assignments">
                {history.into_iter().map(|a| view! {
                    <li>
                        <When at=a.at.clone() /> " "
                        {format!(
                            "{} {}{}",
                            a.by,
                            match (&a.from, &a.to) {
                                (_, Some(to)) if to == &a.by => "claimed it".to_owned(),
                                (_, Some(to)) => format!("gave it to {to}"),
                                (_, None) => "gave it back".to_owned(),
                            },
                            a.reason.map(|r| format!(": {r}")).unwrap_or_default()
                        )}
                    </li>
                }).collect_view()}
            </ul>
        })}
    }
}
