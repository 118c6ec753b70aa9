use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::model::Decision;
use crate::pages::common::{Failure, Outcome, Status, When};
use crate::server_fns::orders::DecideOrder;

/// What a decision did, in words.
pub fn decided_text(d: &Decision) -> String {
    let what = match d.outcome.as_str() {
        "advance" => "advanced",
        "reject" => "rejected",
        "sign" => "signed",
        "decline" => "declined",
        other => other,
    };
    format!("{} {what} by {}", d.subject, d.by)
}

/// The staff inbox: orders waiting for a decision, oldest first, with the
/// decision in the row.
#[component]
pub fn Inbox() -> impl IntoView {
    let decide = ServerAction::<DecideOrder>::new();
    let query = use_query_map();
    let tasks = Resource::new(
        move || (query.read().get("after"), decide.version().get()),
        |(after, _)| crate::server_fns::orders::inbox(after),
    );
    let outcome = Signal::derive(move || decide.value().get().map(|r| r.map(|d| decided_text(&d))));
    view! {
        <section class="panel">
            <h1>"Inbox"</h1>
            <Outcome message=outcome />
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    tasks
                        .get()
                        .map(|result| match result {
                            Err(error) => view! { <Failure error /> }.into_any(),
                            Ok(page) if page.items.is_empty() => {
                                view! { <p class="muted" id="inbox-empty">"Nothing waits for a decision."</p> }
                                    .into_any()
                            }
                            Ok(page) => {
                                let next = page.next.clone();
                                view! {
                                    <table class="tasks" id="inbox">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Order"</th>
                                                <th scope="col">"Customer"</th>
                                                <th scope="col">"Status"</th>
                                                <th scope="col">"Waiting since"</th>
                                                <th scope="col">"Decide"</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {page
                                                .items
                                                .into_iter()
                                                .map(|task| {
                                                    let href = format!("/orders/{}", task.order_id);
                                                    let short = task.order_id.get(..8).unwrap_or_default().to_owned();
                                                    let row_id = task.order_id.clone();
                                                    view! {
                                                        <tr data-order=row_id>
                                                            <td><a href=href>{short}</a></td>
                                                            <td>{task.customer.clone()}</td>
                                                            <td><Status status=task.step.clone() /></td>
                                                            <td><When at=task.created_at.clone() /></td>
                                                            <td class="actions">
                                                                <DecideForms action=decide order_id=task.order_id task_id=task.task_id step=task.step />
                                                            </td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                    {next.map(|n| {
                                        let href = format!("/inbox?after={}", urlencode(&n));
                                        view! { <a href=href class="more">"Older…"</a> }
                                    })}
                                }
                                    .into_any()
                            }
                        })
                }}
            </Suspense>
        </section>
    }
}

/// Percent-encodes a query value (cursors hold JSON).
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Advance and Reject for one waiting step: two plain forms, so they work
/// without JavaScript too.
#[component]
pub fn DecideForms(
    action: ServerAction<DecideOrder>,
    order_id: String,
    task_id: String,
    step: String,
) -> impl IntoView {
    let label = if step == "PENDING" {
        "Advance to PROCESSING"
    } else {
        "Mark SENT"
    };
    let (order2, task2) = (order_id.clone(), task_id.clone());
    view! {
        <ActionForm action>
            <input type="hidden" name="order_id" value=order_id />
            <input type="hidden" name="task_id" value=task_id />
            <input type="hidden" name="action" value="advance" />
            <button type="submit" class="advance">{label}</button>
        </ActionForm>
        <ActionForm action>
            <input type="hidden" name="order_id" value=order2 />
            <input type="hidden" name="task_id" value=task2 />
            <input type="hidden" name="action" value="reject" />
            <input name="reason" aria-label="Reason to reject" placeholder="Reason" required />
            <button type="submit" class="reject">"Reject"</button>
        </ActionForm>
    }
}
