//! A signer's desk and a document's page. Both are laid out for one hand
//! on a phone: one column, large buttons at the bottom of each card.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::model::{Document, SignatureRequest, SignerSpec};
use crate::model::{DocumentStatus, RequestStatus};
use crate::pages::common::{Failure, Left, Outcome, Status, When, in_flight, live, short};
use crate::pages::files::FilesPanel;
use crate::pages::orders::{EventsPanel, Timeline, events_resource};
use crate::server_fns::signatures::DecideSignature;
use crate::words::decided_text;

/// A signer's desk: the requests waiting for them, to sign or decline.
#[component]
pub fn Desk() -> impl IntoView {
    let decide = ServerAction::<DecideSignature>::new();
    let live = live();
    let cards = Resource::new(
        move || (decide.version().get(), live.get()),
        |_| crate::server_fns::signatures::signer_desk(),
    );
    let outcome = crate::pages::common::outcome_of(decide, decided_text);
    view! {
        <section class="panel desk">
            <h1>"Waiting for your signature"</h1>
            <div class="toasts"><Outcome message=outcome /></div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    cards
                        .get()
                        .map(|result| match result {
                            Err(error) => view! { <Failure error /> }.into_any(),
                            Ok(list) if list.is_empty() => {
                                view! { <p class="muted" id="desk-empty">"Nothing waits for your signature."</p> }
                                    .into_any()
                            }
                            Ok(list) => {
                                view! {
                                    <ul class="requests" id="desk">
                                        {list
                                            .into_iter()
                                            .map(|card| {
                                                let doc = card.document.document_id.clone();
                                                let href = format!("/signing/{doc}");
                                                let title = card.document.title.clone();
                                                let request = card.request.clone();
                                                view! {
                                                    <li class="card" data-document=doc>
                                                        <h2><a href=href>{title}</a></h2>
                                                        <p class="meta">
                                                            "Asked " <When at=request.created_at.clone() /> " · "
                                                            <Left deadline=request.deadline.clone() />
                                                        </p>
                                                        <CoSigners document=card.document.clone() />
                                                        <SignForms action=decide request />
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
        </section>
    }
}

/// Sign, or decline with a reason, for one waiting request.
#[component]
fn SignForms(action: ServerAction<DecideSignature>, request: SignatureRequest) -> impl IntoView {
    let task = request.task_id.clone().unwrap_or_default();
    let doc = request.document_id.clone();
    let (doc2, task2, busy_task) = (doc.clone(), task.clone(), task.clone());
    let busy = move |what: &'static str| {
        let task = busy_task.clone();
        in_flight(action, move |i: &DecideSignature| {
            i.task_id == task && i.action == what
        })
    };
    let (busy, busy2) = (busy("sign"), busy("decline"));
    // While either call runs, neither button takes another click.
    let row_task = task.clone();
    let row_busy = in_flight(action, move |i: &DecideSignature| i.task_id == row_task);
    view! {
        <div class="actions sign">
            <ActionForm action attr:class="decide">
                <input type="hidden" name="document_id" value=doc />
                <input type="hidden" name="task_id" value=task />
                <input type="hidden" name="action" value="sign" />
                <button type="submit" class="advance" aria-busy=move || busy.get().to_string() disabled=move || row_busy.get()>
                    {move || if busy.get() { "Signing…" } else { "Sign" }}
                </button>
            </ActionForm>
            <ActionForm action attr:class="decide">
                <input type="hidden" name="document_id" value=doc2 />
                <input type="hidden" name="task_id" value=task2 />
                <input type="hidden" name="action" value="decline" />
                <input name="reason" class="reason" aria-label="Reason to decline" placeholder="Reason to decline" required />
                <button type="submit" class="reject" aria-busy=move || busy2.get().to_string() disabled=move || row_busy.get()>
                    {move || if busy2.get() { "Declining…" } else { "Decline" }}
                </button>
            </ActionForm>
        </div>
    }
}

/// Each signer's state: "alice: signed 2 min ago (automatically)",
/// "bob: waiting, 3 h left".
#[component]
fn CoSigners(document: Document) -> impl IntoView {
    view! {
        <ul class="signers" id="signers">
            {document
                .signers
                .iter()
                .map(|SignerSpec { name, automatic }| {
                    let signed = document.signatures.iter().find(|s| &s.signer == name).cloned();
                    let request = document.requests.iter().find(|r| &r.signer == name).cloned();
                    let state = match (signed, request) {
                        (Some(s), _) => {
                            let how = if s.how == "automatic" { " (automatically)" } else { "" };
                            view! { <span class="state signed">"signed " <When at=s.at.clone() /> {how}</span> }.into_any()
                        }
                        (None, Some(r)) if r.status == RequestStatus::Waiting && document.status == DocumentStatus::Waiting => view! {
                            <span class="state waiting">"waiting, " <Left deadline=r.deadline.clone() /></span>
                        }
                        .into_any(),
                        (None, Some(r)) => {
                            // A request still marked waiting on an ended
                            // document did expire.
                            let status = if r.status == RequestStatus::Waiting { RequestStatus::Expired } else { r.status }.to_string();
                            view! { <Status status /> }.into_any()
                        }
                        (None, None) if *automatic => view! { <span class="state">"signs automatically"</span> }.into_any(),
                        (None, None) => view! { <span class="state">"not asked yet"</span> }.into_any(),
                    };
                    view! { <li data-signer=name.clone()><strong>{name.clone()}</strong> ": " {state}</li> }
                })
                .collect_view()}
        </ul>
    }
}

/// A document: every signer's state, Sign / Decline for the caller if it
/// waits for them, the history, and (staff) the workflow's events.
#[component]
pub fn DocumentPage() -> impl IntoView {
    let params = use_params_map();
    let decide = ServerAction::<DecideSignature>::new();
    let live = live();
    let id = move || params.read().get("id").unwrap_or_default();
    let document = Resource::new(
        move || (id(), decide.version().get(), live.get()),
        |(id, _, _)| crate::server_fns::signatures::get_document(id),
    );
    let me = Resource::new(|| (), |_| crate::server_fns::auth::current_user());
    let events = events_resource(
        id,
        move || decide.version().get(),
        me,
        crate::server_fns::signatures::document_events,
    );
    let flow = crate::pages::flow::staff_flow(
        id,
        move || decide.version().get(),
        me,
        crate::server_fns::flow::document_flow,
    );
    let files = crate::pages::files::files_resource("document", id, move || decide.version().get());
    let outcome = crate::pages::common::outcome_of(decide, decided_text);
    view! {
        <section class="panel desk">
            <div class="toasts"><Outcome message=outcome /></div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let me = me.get().and_then(Result::ok).flatten();
                    document
                        .get()
                        .map(|result| match result {
                            Err(error) => view! { <Failure error /> }.into_any(),
                            Ok(d) => {
                                let mine = me.as_ref().and_then(|m| {
                                    d.requests
                                        .iter()
                                        .find(|r| r.signer == m.name && r.task_id.is_some() && d.status == DocumentStatus::Waiting)
                                        .cloned()
                                });
                                view! {
                                    <h1>{d.title.clone()}</h1>
                                    <p class="summary">
                                        <Status status=d.status.to_string() /> " · document " {short(&d.document_id)}
                                    </p>
                                    // What is signed comes first: read, then sign.
                                    <FilesPanel files />
                                    <h2>"Signers"</h2>
                                    <CoSigners document=d.clone() />
                                    {mine.map(|request| view! {
                                        <div class="card">
                                            <p>"This waits for your signature."</p>
                                            <SignForms action=decide request />
                                        </div>
                                    })}
                                    <h2>"History"</h2>
                                    <Timeline entries=d.history.clone() />
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
            <crate::pages::flow::WorkflowPanel flow />
            <EventsPanel events />
        </section>
    }
}
