//! The staff inbox: every step waiting for a person, with filters, search,
//! sorting, paging, decisions in the row, bulk decisions, keyboard keys and
//! live updates.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use crate::model::InboxItem;
use crate::pages::common::{Failure, Left, Outcome, Status, When, in_flight, live, short};
use crate::server_fns::orders::{DecideOrder, DecideOrders};
use crate::server_fns::signatures::RequestSignatures;
use crate::words::decode_bulk;
use crate::words::{decided_text, urlencode};

/// The staff inbox.
#[component]
pub fn Inbox() -> impl IntoView {
    let decide = ServerAction::<DecideOrder>::new();
    let bulk = ServerAction::<DecideOrders>::new();
    let ask = ServerAction::<RequestSignatures>::new();
    let live = live();
    let query = use_query_map();
    let param = move |name: &str| query.read().get(name).filter(|v| !v.is_empty());
    let tasks = Resource::new(
        move || {
            (
                [
                    param("kind"),
                    param("status"),
                    param("q"),
                    param("sort"),
                    param("after"),
                ],
                (decide.version().get(), bulk.version().get(), live.get()),
            )
        },
        |([kind, status, q, sort, after], _)| {
            crate::server_fns::orders::staff_inbox(kind, status, q, sort, after)
        },
    );
    let outcome = crate::pages::common::outcome_of(decide, decided_text);
    let bulk_outcome = Signal::derive(move || {
        bulk.value().get().map(|r| {
            r.map(|results| {
                let done = results.iter().filter(|r| r.ok).count();
                format!("{done} of {} decided; see each below", results.len())
            })
        })
    });
    let ask_error = Signal::derive(move || ask.value().get().and_then(|r| r.err()).map(Err));
    // With JavaScript the results come back from the call; without, in
    // the address the form post was sent back to.
    let bulk_results = Signal::derive(move || match bulk.value().get() {
        Some(Ok(results)) => results,
        Some(Err(_)) => Vec::new(),
        None => param("bulk").map(|b| decode_bulk(&b)).unwrap_or_default(),
    });

    // Ticks are kept by step (order and task), not by row: when a live
    // update replaces a ticked row (someone decided that step), the tick
    // must not move to the order's next step. A ticked step that left the
    // page still goes with the bulk action, as a hidden field, and comes
    // back "already decided by …".
    let ticked = RwSignal::new(Vec::<String>::new());
    let shown = Memo::new(move |_| {
        tasks
            .get()
            .and_then(Result::ok)
            .map(|page| {
                page.items
                    .iter()
                    .map(|i| format!("{}.{}", i.id, i.task_id))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    });
    Effect::new(move |_| {
        if bulk.version().get() > 0 {
            ticked.set(Vec::new());
        }
    });

    #[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
    keyboard();

    let selected =
        move |name: &str, value: &str| param(name).as_deref().unwrap_or_default() == value;
    view! {
        <section class="panel">
            <div class="heading">
                <h1>"Inbox"</h1>
                <p class="muted keys" id="keys">
                    "Keys: " <kbd>"j"</kbd> "/" <kbd>"k"</kbd> " move, " <kbd>"a"</kbd> " advance, "
                    <kbd>"r"</kbd> " reject"
                </p>
            </div>
            <div class="toasts">
                <Outcome message=outcome />
                <Outcome message=bulk_outcome />
                <Outcome message=ask_error />
            </div>
            {move || {
                let results = bulk_results.get();
                (!results.is_empty()).then(|| view! {
                    <ul class="bulk-results" id="bulk-results" aria-label="Results of the bulk action">
                        {results.into_iter().map(|r| {
                            let class = if r.ok { "ok" } else { "err" };
                            view! { <li class=class data-order=r.order_id.clone()>{short(&r.order_id)} ": " {r.message}</li> }
                        }).collect_view()}
                    </ul>
                })
            }}
            <Form method="GET" action="/inbox" attr:class="filters" attr:role="search" attr:id="filters">
                <label>
                    "Kind"
                    <select name="kind">
                        <option value="all">"All"</option>
                        <option value="orders" selected=move || selected("kind", "orders")>"Orders"</option>
                        <option value="signatures" selected=move || selected("kind", "signatures")>"Signatures"</option>
                    </select>
                </label>
                <label>
                    "Status"
                    <select name="status">
                        <option value="">"Any"</option>
                        <option value="PENDING" selected=move || selected("status", "PENDING")>"PENDING"</option>
                        <option value="PROCESSING" selected=move || selected("status", "PROCESSING")>"PROCESSING"</option>
                        <option value="WAITING" selected=move || selected("status", "WAITING")>"WAITING (signature)"</option>
                    </select>
                </label>
                <label>
                    "Search"
                    <input type="search" name="q" placeholder="Order, document, customer…" value=move || param("q").unwrap_or_default() />
                </label>
                <label>
                    "Sort"
                    <select name="sort">
                        <option value="age">"Waiting longest"</option>
                        <option value="deadline" selected=move || selected("sort", "deadline")>"Deadline soonest"</option>
                    </select>
                </label>
                <button type="submit" class="quiet" id="apply-filters">"Apply"</button>
            </Form>
            <ActionForm action=bulk attr:id="bulk" attr:class="bulk">
                <label>
                    "With the ticked orders"
                    <select name="action">
                        <option value="advance">"Advance (next step)"</option>
                        <option value="reject">"Reject"</option>
                    </select>
                </label>
                <input name="reason" aria-label="Reason, when rejecting" placeholder="Reason, when rejecting" />
                {move || {
                    let shown = shown.get();
                    ticked
                        .get()
                        .into_iter()
                        .filter(|p| !shown.contains(p))
                        .enumerate()
                        .map(|(n, pick)| view! {
                            <input type="hidden" name=format!("picked[{}]", crate::model::MAX_BULK + n) value=pick />
                        })
                        .collect_view()
                }}
                <button type="submit" id="bulk-apply" disabled=move || bulk.pending().get()>
                    {move || if bulk.pending().get() { "Deciding…" } else { "Decide ticked" }}
                </button>
            </ActionForm>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    tasks
                        .get()
                        .map(|result| match result {
                            Err(error) => view! { <Failure error /> }.into_any(),
                            Ok(page) if page.items.is_empty() => {
                                view! {
                                    <p class="muted" id="inbox-empty">
                                        {if page.cut_short { "No match among the rows searched so far." } else { "Nothing waits for a decision." }}
                                    </p>
                                    {page.next.map(|n| view! { <NextPage after=n /> })}
                                }
                                    .into_any()
                            }
                            Ok(page) => {
                                let next = page.next.clone();
                                view! {
                                    <div class="table-wrap">
                                    <table class="tasks" id="inbox">
                                        <caption class="visually-hidden">"Waiting steps"</caption>
                                        <thead>
                                            <tr>
                                                <th scope="col"><span class="visually-hidden">"Tick"</span></th>
                                                <th scope="col">"What"</th>
                                                <th scope="col">"Who"</th>
                                                <th scope="col">"Status"</th>
                                                <th scope="col">"Waiting"</th>
                                                <th scope="col">"Time left"</th>
                                                <th scope="col">"Decide"</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {page
                                                .items
                                                .into_iter()
                                                .enumerate()
                                                .map(|(at, item)| view! { <Row item at decide ticked /> })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                    </div>
                                    {page.cut_short.then(|| view! {
                                        <p class="muted">"The search stopped after many rows; the next page looks further."</p>
                                    })}
                                    {next.map(|n| view! { <NextPage after=n /> })}
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
            <details class="ask">
                <summary>"Ask for signatures"</summary>
                <ActionForm action=ask attr:id="ask-form">
                    <label for="ask-title">"Document title"</label>
                    <input id="ask-title" name="title" required maxlength="200" />
                    <label for="ask-signers">"Signers, one a line (add “(auto)” for one who signs by itself)"</label>
                    <textarea id="ask-signers" name="signers" rows="3" required></textarea>
                    <div class="inline">
                        <label>
                            "Time to sign"
                            <input id="ask-timeout" name="timeout" type="number" min="1" value="3" required />
                        </label>
                        <label>
                            "Unit"
                            <select id="ask-unit" name="unit">
                                <option value="seconds">"seconds"</option>
                                <option value="minutes">"minutes"</option>
                                <option value="hours">"hours"</option>
                                <option value="days" selected>"days"</option>
                            </select>
                        </label>
                    </div>
                    <button type="submit" id="ask-send" disabled=move || ask.pending().get()>
                        {move || if ask.pending().get() { "Sending…" } else { "Send for signing" }}
                    </button>
                </ActionForm>
            </details>
        </section>
    }
}

/// The link to the next page, keeping the filters.
#[component]
fn NextPage(after: String) -> impl IntoView {
    let query = use_query_map();
    let href = move || {
        let mut parts: Vec<String> = ["kind", "status", "q", "sort"]
            .iter()
            .filter_map(|k| {
                query
                    .read()
                    .get(k)
                    .filter(|v| !v.is_empty())
                    .map(|v| format!("{k}={}", urlencode(&v)))
            })
            .collect();
        parts.push(format!("after={}", urlencode(&after)));
        format!("/inbox?{}", parts.join("&"))
    };
    view! { <a href=href class="more" id="next-page">"Next page"</a> }
}

/// One row: an order step (tick box, Advance, Reject) or a signature
/// request (who it waits for).
#[component]
fn Row(
    item: InboxItem,
    at: usize,
    decide: ServerAction<DecideOrder>,
    ticked: RwSignal<Vec<String>>,
) -> impl IntoView {
    let is_order = item.kind == "order";
    let href = if is_order {
        format!("/orders/{}", item.id)
    } else {
        format!("/signing/{}", item.id)
    };
    let label = if item.what.is_empty() {
        short(&item.id)
    } else {
        item.what.clone()
    };
    let kind = if is_order { "Order" } else { "Signature" };
    let pick = format!("{}.{}", item.id, item.task_id);
    let tick_label = format!("Tick {} {}", kind.to_lowercase(), short(&item.id));
    let (order_attr, document_attr) = if is_order {
        (Some(item.id.clone()), None)
    } else {
        (None, Some(item.id.clone()))
    };
    let actions = if is_order {
        view! {
            <DecideForms action=decide order_id=item.id.clone() task_id=item.task_id.clone() step=item.status.clone() />
        }
        .into_any()
    } else {
        view! { <span class="muted">"waits for " {item.who.clone()}</span> }.into_any()
    };
    view! {
        <tr data-order=order_attr data-document=document_attr data-kind=item.kind.clone() tabindex="-1">
            <td>
                {is_order.then(|| view! {
                    <input
                        type="checkbox"
                        form="bulk"
                        name=format!("picked[{at}]")
                        value=pick.clone()
                        aria-label=tick_label
                        prop:checked={
                            let pick = pick.clone();
                            move || ticked.read().contains(&pick)
                        }
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            ticked.update(|t| {
                                t.retain(|p| p != &pick);
                                if on {
                                    t.push(pick.clone());
                                }
                            });
                        }
                    />
                })}
            </td>
            <td>
                <a href=href>{label}</a>
                <span class="kind">{kind} " " {short(&item.id)}</span>
            </td>
            <td>{item.who.clone()}</td>
            <td><Status status=item.status.clone() /></td>
            <td><When at=item.created_at.clone() /></td>
            <td><Left deadline=item.deadline.clone() /></td>
            <td class="actions">{actions}</td>
        </tr>
    }
}

/// Advance and Reject for one waiting step: two plain forms, so they work
/// without JavaScript too. The button of the step being decided says so.
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
    let busy_task = task_id.clone();
    // Which of this row's buttons is in flight, if any.
    let busy = move |what: &'static str| {
        let task = busy_task.clone();
        in_flight(action, move |i: &DecideOrder| {
            i.task_id == task && i.action == what
        })
    };
    let (busy, busy2) = (busy("advance"), busy("reject"));
    // While either call for this step runs, neither button takes another
    // click: a double click sends one request.
    let row_task = task_id.clone();
    let row_busy = in_flight(action, move |i: &DecideOrder| i.task_id == row_task);
    view! {
        <ActionForm action attr:class="decide">
            <input type="hidden" name="order_id" value=order_id />
            <input type="hidden" name="task_id" value=task_id />
            <input type="hidden" name="action" value="advance" />
            <button type="submit" class="advance" aria-busy=move || busy.get().to_string() disabled=move || row_busy.get()>
                {move || if busy.get() { "Advancing…" } else { label }}
            </button>
        </ActionForm>
        <ActionForm action attr:class="decide">
            <input type="hidden" name="order_id" value=order2 />
            <input type="hidden" name="task_id" value=task2 />
            <input type="hidden" name="action" value="reject" />
            <input name="reason" class="reason" aria-label="Reason to reject" placeholder="Reason" required />
            <button type="submit" class="reject" aria-busy=move || busy2.get().to_string() disabled=move || row_busy.get()>
                {move || if busy2.get() { "Rejecting…" } else { "Reject" }}
            </button>
        </ActionForm>
    }
}

/// j/k move between rows, a advances the current one, r goes to its reason
/// (Enter then rejects). Keys typed into a field are the field's.
#[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
fn keyboard() {
    use wasm_bindgen::JsCast;
    let current = StoredValue::new(None::<u32>);
    let handle = window_event_listener(leptos::ev::keydown, move |event| {
        if event.ctrl_key() || event.meta_key() || event.alt_key() {
            return;
        }
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let typing = document
            .active_element()
            .is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
        if typing {
            return;
        }
        let Ok(rows) = document.query_selector_all("#inbox tbody tr") else {
            return;
        };
        let count = rows.length();
        if count == 0 {
            return;
        }
        let row = |i: u32| {
            rows.item(i)
                .and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        };
        let now = current.get_value().filter(|i| *i < count);
        let key = event.key();
        let go = match key.as_str() {
            "j" => Some(now.map_or(0, |i| (i + 1).min(count - 1))),
            "k" => Some(now.map_or(0, |i| i.saturating_sub(1))),
            _ => None,
        };
        if let Some(next) = go {
            if let Some(old) = now.and_then(row) {
                let _ = old.class_list().remove_1("current");
            }
            if let Some(new) = row(next) {
                let _ = new.class_list().add_1("current");
                let _ = new.focus();
            }
            current.set_value(Some(next));
            event.prevent_default();
            return;
        }
        let Some(here) = now.and_then(row) else {
            return;
        };
        let target = match key.as_str() {
            "a" => "button.advance",
            "r" => "input.reason",
            _ => return,
        };
        if let Ok(Some(element)) = here.query_selector(target)
            && let Ok(element) = element.dyn_into::<web_sys::HtmlElement>()
        {
            event.prevent_default();
            if key == "a" {
                element.click();
            } else {
                let _ = element.focus();
            }
        }
    });
    on_cleanup(move || handle.remove());
}
