//! One task (`/tasks/{id}`): what it asks, its context, its approvals,
//! who holds it, and a form per action (claim, give back and assign too).
//! Every form is a plain form, so all of it works without JavaScript.

use countersign_model::tasks::{ActionOutcome, Contract, ReasonRule, Status as TaskStatus};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::error::FieldProblem;
use crate::pages::common::{
    Failure, HandButton, Left, Outcome, Status, When, live, one_outcome, value_of,
};
use crate::pages::flow::{FlowResource, LeadText, WorkflowPanel};
use crate::pages::forms::{FormFields, plain, problems};
use crate::server_fns::tasks::{AnswerTask, AssignTask, ClaimTask, TaskCard};

/// The views of the list: (query value, label).
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
    let flow: FlowResource = Resource::new(
        move || (id(), answer.version().get(), live.get()),
        |(id, ..)| async move { crate::server_fns::flow::task_flow(id).await.map(Some) },
    );
    let files = crate::pages::files::files_resource("task", id, move || answer.version().get());
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
                                view! { <TaskView card answer claim assign errors flow /> }.into_any()
                            }
                        })
                }}
            </Transition>
            <crate::pages::files::FilesPanel files />
            <WorkflowPanel flow />
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
    flow: FlowResource,
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
                            let lead_action = action.name.clone();
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
                                    <LeadText flow action=lead_action />
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
            {can_claim.then(|| view! {
                <HandButton action=claim task_id=id.clone() give_back=false button_id="claim" />
            })}
            {can_unclaim.then(|| view! {
                <HandButton action=claim task_id=id.clone() give_back=true button_id="unclaim" />
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
