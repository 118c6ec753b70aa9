use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::pages::common::{Failure, Outcome, Status, When};
use crate::pages::inbox::decided_text;
use crate::pages::orders::History;
use crate::server_fns::signatures::DecideSignature;

/// A signer's desk: the requests waiting for them, to sign or decline.
#[component]
pub fn Desk() -> impl IntoView {
    let decide = ServerAction::<DecideSignature>::new();
    let requests = Resource::new(
        move || decide.version().get(),
        |_| crate::server_fns::signatures::signer_desk(),
    );
    let outcome = Signal::derive(move || decide.value().get().map(|r| r.map(|d| decided_text(&d))));
    view! {
        <section class="panel">
            <h1>"Waiting for your signature"</h1>
            <Outcome message=outcome />
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    requests
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
                                            .filter_map(|r| Some((r.task_id.clone()?, r)))
                                            .map(|(task_id, r)| {
                                                let doc = r.document_id.clone();
                                                let href = format!("/signing/{doc}");
                                                let short = doc.get(..8).unwrap_or_default().to_owned();
                                                let (doc2, doc3, task2) = (doc.clone(), doc.clone(), task_id.clone());
                                                view! {
                                                    <li class="card" data-document=doc>
                                                        <a href=href>"Document " {short}</a>
                                                        " since " <When at=r.created_at />
                                                        <div class="actions">
                                                            <ActionForm action=decide>
                                                                <input type="hidden" name="document_id" value=doc2 />
                                                                <input type="hidden" name="task_id" value=task2 />
                                                                <input type="hidden" name="action" value="sign" />
                                                                <button type="submit" class="advance">"Sign"</button>
                                                            </ActionForm>
                                                            <ActionForm action=decide>
                                                                <input type="hidden" name="document_id" value=doc3 />
                                                                <input type="hidden" name="task_id" value=task_id />
                                                                <input type="hidden" name="action" value="decline" />
                                                                <input name="reason" aria-label="Reason to decline" placeholder="Reason" required />
                                                                <button type="submit" class="reject">"Decline"</button>
                                                            </ActionForm>
                                                        </div>
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
            </Suspense>
        </section>
    }
}

/// A document: every signer's state and the history.
#[component]
pub fn DocumentPage() -> impl IntoView {
    let params = use_params_map();
    let document = Resource::new(
        move || params.read().get("id").unwrap_or_default(),
        crate::server_fns::signatures::get_document,
    );
    view! {
        <section class="panel">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    document
                        .get()
                        .map(|result| match result {
                            Err(error) => view! { <Failure error /> }.into_any(),
                            Ok(d) => {
                                view! {
                                    <h1>{d.title.clone()}</h1>
                                    <p><Status status=d.status.clone() /></p>
                                    <h2>"Signers"</h2>
                                    <ul id="signers">
                                        {d
                                            .signers
                                            .iter()
                                            .map(|(name, _)| {
                                                let signed = d.signatures.iter().find(|s| &s.signer == name).cloned();
                                                let request = d.requests.iter().find(|r| &r.signer == name).cloned();
                                                let state = match (&signed, &request) {
                                                    (Some(s), _) => view! { "signed " <When at=s.at.clone() /> }.into_any(),
                                                    (None, Some(r)) => view! { <Status status=r.status.clone() /> }.into_any(),
                                                    _ => view! { "waiting" }.into_any(),
                                                };
                                                view! { <li>{name.clone()} ": " {state}</li> }
                                            })
                                            .collect_view()}
                                    </ul>
                                    <h2>"History"</h2>
                                    <History entries=d.history.clone() />
                                }
                                    .into_any()
                            }
                        })
                }}
            </Suspense>
        </section>
    }
}
