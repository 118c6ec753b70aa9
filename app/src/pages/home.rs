use leptos::prelude::*;

use crate::server_fns::service_check::{RecordServiceCheck, service_checks};

/// The start page: proves the whole path from a button in the browser,
/// through a server function, to DynamoDB and back.
#[component]
pub fn Home() -> impl IntoView {
    let record = ServerAction::<RecordServiceCheck>::new();
    // Refetch whenever the action completes, so the count follows the click
    // without a page reload.
    let checks = Resource::new(move || record.version().get(), |_| service_checks());

    view! {
        <section class="panel">
            <h1>"Countersign"</h1>
            <p>
                "Approvals for the human steps of your AWS Step Functions workflows."
            </p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    checks
                        .get()
                        .map(|result| match result {
                            Ok(summary) => {
                                view! {
                                    <p id="service-checks" data-count=summary.count>
                                        {format!("Service checks recorded: {}", summary.count)}
                                    </p>
                                }
                                    .into_any()
                            }
                            Err(error) => {
                                view! {
                                    <p id="service-checks" class="error" role="alert">
                                        {error.to_string()}
                                    </p>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Suspense>
            <ActionForm action=record>
                <button type="submit" id="record-check" disabled=move || record.pending().get()>
                    {move || {
                        if record.pending().get() { "Checking…" } else { "Run a service check" }
                    }}
                </button>
            </ActionForm>
        </section>
    }
}
