//! The workflow drawn, for the task, order and document pages: the SVG the
//! server made (no JavaScript needed), a legend, each Map or Parallel's
//! inside behind a disclosure its box links to, and where each answer
//! leads.

use leptos::prelude::*;

use crate::error::AppError;
use crate::pages::common::Failure;
use crate::pages::orders::MeResource;
use crate::server_fns::flow::FlowCard;

/// A page's workflow: `None` where the reader may not see it.
pub type FlowResource = Resource<Result<Option<FlowCard>, AppError>>;

/// The workflow of the page's execution (`fetch` names it by `id`) for
/// staff, `None` for anyone else; made by the page itself so the server
/// and the browser create the same resources in the same order. It
/// refetches when `version` moves and on live changes.
pub fn staff_flow<F, Fut>(
    id: impl Fn() -> String + Send + Sync + 'static,
    version: impl Fn() -> usize + Send + Sync + 'static,
    me: MeResource,
    fetch: F,
) -> FlowResource
where
    F: Fn(String) -> Fut + Copy + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<FlowCard, AppError>> + Send + 'static,
{
    let live = crate::pages::common::live();
    Resource::new(
        move || (id(), live.get(), version()),
        move |(id, ..)| async move {
            let staff = me.await.ok().flatten().is_some_and(|m| m.is("staff"));
            if staff {
                fetch(id).await.map(Some)
            } else {
                Ok(None)
            }
        },
    )
}

/// The drawing with its legend and insides; with `leads`, a list of where
/// each answer goes (pages whose buttons do not say it themselves).
#[component]
pub fn WorkflowPanel(flow: FlowResource, #[prop(optional)] leads: bool) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            {move || {
                flow.get().map(|result| match result {
                    Err(error) => view! { <Failure error /> }.into_any(),
                    Ok(None) => ().into_any(),
                    Ok(Some(card)) => view! { <Drawn card leads /> }.into_any(),
                })
            }}
        </Transition>
    }
}

#[component]
fn Drawn(card: FlowCard, leads: bool) -> impl IntoView {
    let FlowCard {
        svg,
        insides,
        leads: ways,
        complete,
    } = card;
    view! {
        <section class="workflow" id="workflow" aria-labelledby="workflow-heading">
            <h2 id="workflow-heading">"The workflow"</h2>
            {(leads && !ways.is_empty()).then(|| view! {
                <ul class="leads-list" id="leads">
                    {ways.into_iter().map(|l| view! {
                        <li data-leads=l.action><strong>{l.label}</strong> " → " {l.text}</li>
                    }).collect_view()}
                </ul>
            })}
            <ul class="flow-legend" aria-label="What the colours mean">
                <li><span class="swatch taken"></span>"done"</li>
                <li><span class="swatch here"></span>"here now"</li>
                <li><span class="swatch failed"></span>"failed"</li>
                <li><span class="swatch untouched"></span>"not reached"</li>
            </ul>
            <div class="flow-wrap" inner_html=svg></div>
            {(!complete).then(|| view! {
                <p class="muted">"Its history is long: the marks show its first 5,000 events."</p>
            })}
            {insides.into_iter().map(|inside| view! {
                <details class="inside" id=inside.id>
                    <summary>"Inside " {inside.state}</summary>
                    {inside.svgs.into_iter().map(|svg| view! { <div class="flow-wrap" inner_html=svg></div> }).collect_view()}
                </details>
            }).collect_view()}
        </section>
    }
}

/// "→ where it leads", beside an action's button.
#[component]
pub fn LeadText(flow: FlowResource, action: String) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            {
                let action = action.clone();
                move || {
                    flow.get()
                        .and_then(Result::ok)
                        .flatten()
                        .and_then(|card| card.lead(&action).map(|l| l.text.clone()))
                        .map(|text| view! { <p class="leads" data-leads=action.clone()>"→ " {text}</p> })
                }
            }
        </Transition>
    }
}
