//! A customer's orders, and one order's page (customers and staff).

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::model::{EventsPage, HistoryEntry, Notification, OrderPage};
use crate::pages::common::{Failure, Outcome, Status, When, live, short};
use crate::pages::inbox::DecideForms;
use crate::server_fns::orders::{DecideOrder, PlaceOrder};
use crate::words::{decided_text, urlencode};

/// A customer's orders, and the form to place one.
#[component]
pub fn MyOrders() -> impl IntoView {
    let place = ServerAction::<PlaceOrder>::new();
    let live = live();
    let orders = Resource::new(
        move || (place.version().get(), live.get()),
        |_| crate::server_fns::orders::my_orders(None),
    );
    let place_error = Signal::derive(move || place.value().get().and_then(|r| r.err()).map(Err));
    view! {
        <section class="panel">
            <h1>"Your orders"</h1>
            <div class="toasts"><Outcome message=place_error /></div>
            <ActionForm action=place attr:class="place">
                <label for="items">"Items, one a line"</label>
                <textarea id="items" name="items" rows="3" required></textarea>
                <button type="submit" id="place-order" disabled=move || place.pending().get()>
                    {move || if place.pending().get() { "Placing…" } else { "Place order" }}
                </button>
            </ActionForm>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    orders
                        .get()
                        .map(|result| match result {
                            Err(error) => view! { <Failure error /> }.into_any(),
                            Ok(page) if page.items.is_empty() => {
                                view! { <p class="muted">"No orders yet."</p> }.into_any()
                            }
                            Ok(page) => {
                                view! {
                                    <ul class="orders" id="my-orders">
                                        {page
                                            .items
                                            .into_iter()
                                            .map(|o| {
                                                let href = format!("/orders/{}", o.order_id);
                                                view! {
                                                    <li class="card" data-order=o.order_id.clone()>
                                                        <a href=href>{o.items.join(", ")}</a>
                                                        <span class="meta">
                                                            <Status status=o.status.to_string() />
                                                            " placed " <When at=o.created_at.clone() />
                                                        </span>
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

/// One order: items, customer, status, the drawn timeline, notifications;
/// staff decide its waiting step here and see the workflow's events.
#[component]
pub fn OrderPage() -> impl IntoView {
    let params = use_params_map();
    let decide = ServerAction::<DecideOrder>::new();
    let live = live();
    let id = move || params.read().get("id").unwrap_or_default();
    let order = Resource::new(
        move || (id(), decide.version().get(), live.get()),
        |(id, _, _)| crate::server_fns::orders::get_order(id),
    );
    let me = Resource::new(|| (), |_| crate::server_fns::auth::current_user());
    let events = events_resource(
        id,
        move || decide.version().get(),
        me,
        crate::server_fns::orders::order_events,
    );
    let flow = crate::pages::flow::staff_flow(
        id,
        move || decide.version().get(),
        me,
        crate::server_fns::flow::order_flow,
    );
    let files = crate::pages::files::files_resource("order", id, move || decide.version().get());
    let outcome = crate::pages::common::outcome_of(decide, decided_text);
    view! {
        <section class="panel">
            <div class="toasts"><Outcome message=outcome /></div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let staff = me
                        .get()
                        .and_then(Result::ok)
                        .flatten()
                        .is_some_and(|m| m.is("staff"));
                    order
                        .get()
                        .map(|result| match result {
                            Err(error) => view! { <Failure error /> }.into_any(),
                            Ok(OrderPage { order: o, pending }) => {
                                let pending = pending.filter(|_| staff);
                                view! {
                                    <h1>"Order " {short(&o.order_id)}</h1>
                                    <p class="summary">
                                        <Status status=o.status.to_string() />
                                        " for " <strong id="order-customer">{o.customer.clone()}</strong> ", placed "
                                        <When at=o.created_at.clone() />
                                    </p>
                                    {o.error.clone().map(|e| view! {
                                        <p class="error" id="order-error">
                                            <strong>{e}</strong> ": " {o.cause.clone().unwrap_or_default()}
                                        </p>
                                    })}
                                    <h2>"Items"</h2>
                                    <ul id="items-list">{o.items.iter().map(|i| view! { <li>{i.clone()}</li> }).collect_view()}</ul>
                                    <crate::pages::files::FilesPanel files />
                                    {pending.map(|task| view! {
                                        <div class="actions" id="order-actions">
                                            <DecideForms action=decide order_id=task.order_id task_id=task.task_id step=task.step />
                                        </div>
                                    })}
                                    <h2>"Timeline"</h2>
                                    <Timeline entries=o.history.clone() />
                                    <Notifications notes=o.notifications.clone() />
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
            <crate::pages::flow::WorkflowPanel flow leads=true />
            <EventsPanel events />
        </section>
    }
}

/// The Step Functions events of a page's execution: `None` for anyone but
/// staff.
pub type EventsResource = Resource<Result<Option<EventsPage>, crate::error::AppError>>;

/// The signed-in person, as a page loads them.
pub type MeResource = Resource<Result<Option<crate::model::Me>, crate::error::AppError>>;

/// The events of the page's execution (`fetch` names it by `id`), for
/// staff; `None` for anyone else. Pages make it with themselves, not inside
/// the view that shows it, so the server and the browser create the same
/// resources in the same order. The page token rides in the address
/// (`events`), so paging works without JavaScript; it refetches when
/// `version` moves (a decision on the page) and on live changes.
pub fn events_resource<F, Fut>(
    id: impl Fn() -> String + Send + Sync + 'static,
    version: impl Fn() -> usize + Send + Sync + 'static,
    me: MeResource,
    fetch: F,
) -> EventsResource
where
    F: Fn(String, Option<String>) -> Fut + Copy + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<EventsPage, crate::error::AppError>> + Send + 'static,
{
    let query = use_query_map();
    let live = live();
    Resource::new(
        move || (id(), query.read().get("events"), (live.get(), version())),
        move |(id, page, _)| async move {
            let staff = me.await.ok().flatten().is_some_and(|m| m.is("staff"));
            if staff {
                fetch(id, page).await.map(Some)
            } else {
                Ok(None)
            }
        },
    )
}

/// A status history drawn as a timeline, oldest first: each step with who
/// and when, decisions with their comment or reason.
#[component]
pub fn Timeline(entries: Vec<HistoryEntry>) -> impl IntoView {
    // In time order: a decision is recorded after the workflow has already
    // logged the step it caused, but it happened first.
    let mut entries = entries;
    entries.sort_by_cached_key(|h| crate::pages::common::time_key(&h.at));
    view! {
        <ol class="timeline" id="history">
            {entries
                .into_iter()
                .map(|h| {
                    let (what, class) = match (&h.status, &h.decision) {
                        (Some(s), _) => (s.clone(), format!("step status-{}", s.to_lowercase())),
                        (None, Some(d)) => (d.clone(), format!("step decision decision-{d}")),
                        _ => (String::new(), "step".to_owned()),
                    };
                    view! {
                        <li class=class>
                            <span class="dot" aria-hidden="true"></span>
                            <strong>{what}</strong> " by " {h.by.clone()} " · " <When at=h.at.clone() />
                            {h.comment.clone().map(|c| view! { <span class="comment">" “" {c} "”"</span> })}
                            {h.error.clone().map(|e| view! { <span class="error">" " {e} ":"</span> })}
                            {h.cause.clone().map(|c| view! { <span class="error cause">" " {c}</span> })}
                            {h.receipt.clone().map(|r| view! {
                                " · " <a class="receipt-link" href=format!("/receipts/{}", crate::words::urlencode(&r))>"receipt"</a>
                            })}
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}

/// What the customer was told, newest first.
#[component]
fn Notifications(notes: Vec<Notification>) -> impl IntoView {
    (!notes.is_empty()).then(|| {
        view! {
            <h2>"Notifications"</h2>
            <ul class="notifications" id="notifications">
                {notes
                    .into_iter()
                    .rev()
                    .map(|n| view! { <li><When at=n.at.clone() /> " " {n.message}</li> })
                    .collect_view()}
            </ul>
        }
    })
}

/// The events table shared by orders and documents.
#[component]
pub fn EventsPanel(events: EventsResource) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            {move || {
                events
                    .get()
                    .map(|result| match result {
                        Err(error) => view! { <Failure error /> }.into_any(),
                        Ok(None) => ().into_any(),
                        Ok(Some(page)) => view! {
                            <details class="events" id="events" open>
                            <summary>"Execution events"</summary>
                                <div class="table-wrap">
                                <table class="tasks events-table">
                                    <caption class="visually-hidden">"Step Functions events, oldest first"</caption>
                                    <thead>
                                        <tr>
                                            <th scope="col">"ID"</th>
                                            <th scope="col">"Type"</th>
                                            <th scope="col">"Step"</th>
                                            <th scope="col">"Resource"</th>
                                            <th scope="col">"When"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {page.events.into_iter().map(|e| {
                                            let failed = e.error.is_some() || e.cause.is_some();
                                            let class = if failed { "failed" } else { "" };
                                            view! {
                                                <tr class=class data-event=e.kind.clone()>
                                                    <td>{e.id}</td>
                                                    <td>
                                                        {e.kind.clone()}
                                                        {e.error.map(|x| view! { <div class="error">{x} ": " {e.cause.clone().unwrap_or_default()}</div> })}
                                                    </td>
                                                    <td>{e.state.unwrap_or_default()}</td>
                                                    <td class="muted">{e.resource.unwrap_or_default()}</td>
                                                    <td><When at=e.at.clone() /></td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                </div>
                                <p class="pager">
                                    <a href="?" id="events-first">"First events"</a>
                                    {page.next.map(|n| view! {
                                        " · " <a href=format!("?events={}", urlencode(&n)) id="events-next">"Later events"</a>
                                    })}
                                </p>
                            </details>
                        }
                        .into_any(),
                    })
            }}
        </Transition>
    }
}
