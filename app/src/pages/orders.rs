use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::model::HistoryEntry;
use crate::pages::common::{Failure, Outcome, Status, When};
use crate::pages::inbox::{DecideForms, decided_text};
use crate::server_fns::orders::{DecideOrder, PlaceOrder};

/// A customer's orders, and the form to place one.
#[component]
pub fn MyOrders() -> impl IntoView {
    let place = ServerAction::<PlaceOrder>::new();
    let orders = Resource::new(
        move || place.version().get(),
        |_| crate::server_fns::orders::my_orders(None),
    );
    view! {
        <section class="panel">
            <h1>"Your orders"</h1>
            <ActionForm action=place>
                <label for="items">"Items, one a line"</label>
                <textarea id="items" name="items" rows="3" required></textarea>
                <button type="submit" id="place-order" disabled=move || place.pending().get()>
                    {move || if place.pending().get() { "Placing…" } else { "Place order" }}
                </button>
            </ActionForm>
            {move || {
                place
                    .value()
                    .get()
                    .and_then(Result::err)
                    .map(|error| view! { <Failure error /> })
            }}
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
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
                                                    <li data-order=o.order_id.clone()>
                                                        <a href=href>{o.items.join(", ")}</a>
                                                        " "
                                                        <Status status=o.status.clone() />
                                                        " "
                                                        <When at=o.created_at.clone() />
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

/// One order: items, status, history; staff decide its waiting step here.
#[component]
pub fn OrderPage() -> impl IntoView {
    let params = use_params_map();
    let decide = ServerAction::<DecideOrder>::new();
    let order = Resource::new(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                decide.version().get(),
            )
        },
        |(id, _)| crate::server_fns::orders::get_order(id),
    );
    let me = Resource::new(|| (), |_| crate::server_fns::auth::current_user());
    let outcome = Signal::derive(move || decide.value().get().map(|r| r.map(|d| decided_text(&d))));
    view! {
        <section class="panel">
            <Outcome message=outcome />
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
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
                            Ok(o) => {
                                let pending = o.pending.clone().filter(|_| staff);
                                view! {
                                    <h1>"Order " {o.order_id.get(..8).unwrap_or_default().to_owned()}</h1>
                                    <p>
                                        <Status status=o.status.clone() />
                                        " for " <strong>{o.customer.clone()}</strong> ", placed "
                                        <When at=o.created_at.clone() />
                                    </p>
                                    {o.error.clone().map(|e| view! {
                                        <p class="error" id="order-error">{e} ": " {o.cause.clone().unwrap_or_default()}</p>
                                    })}
                                    <h2>"Items"</h2>
                                    <ul>{o.items.iter().map(|i| view! { <li>{i.clone()}</li> }).collect_view()}</ul>
                                    {pending.map(|task| view! {
                                        <div class="actions" id="order-actions">
                                            <DecideForms action=decide order_id=task.order_id task_id=task.task_id step=task.step />
                                        </div>
                                    })}
                                    <h2>"History"</h2>
                                    <History entries=o.history.clone() />
                                }
                                    .into_any()
                            }
                        })
                }}
            </Suspense>
        </section>
    }
}

/// A status history, oldest first.
#[component]
pub fn History(entries: Vec<HistoryEntry>) -> impl IntoView {
    view! {
        <ol class="timeline" id="history">
            {entries
                .into_iter()
                .map(|h| {
                    let what = match (&h.status, &h.decision) {
                        (Some(s), _) => s.clone(),
                        (None, Some(d)) => d.clone(),
                        _ => String::new(),
                    };
                    view! {
                        <li>
                            <When at=h.at.clone() />
                            " " <strong>{what}</strong> " by " {h.by.clone()}
                            {h.comment.clone().map(|c| view! { <span class="muted">" “" {c} "”"</span> })}
                            {h.cause.clone().map(|c| view! { <span class="error">" " {c}</span> })}
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}
