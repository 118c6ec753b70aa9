//! Tasks of any kind, the list (`/tasks`): views, saved views shared with
//! a group, and the kinds one may start, each with its start form. One
//! task has its own page ([`super::task`]). Every form is a plain form, so
//! all of it works without JavaScript.

use countersign_model::tasks::Contract;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::error::FieldProblem;
use crate::pages::common::{Failure, HandButton, Left, Outcome, When, live, one_outcome, value_of};
use crate::pages::forms::{FormFields, plain, problems};
use crate::server_fns::tasks::{ClaimTask, DeleteView, KindCard, SaveView, StartKind, TaskCard};

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
            {can_claim.then(|| view! { <HandButton action=claim task_id=id give_back=false /> })}
        </li>
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
