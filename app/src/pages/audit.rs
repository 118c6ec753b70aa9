//! The decision history for staff (`/audit`): a filter (kind, decider,
//! dates) and a download as CSV or JSON Lines. The form is a plain GET to
//! the server's streamed export, so it works without JavaScript and for
//! any number of decisions.

use leptos::prelude::*;

use crate::pages::common::Failure;

#[component]
pub fn AuditPage() -> impl IntoView {
    let kinds = Resource::new(|| (), |_| crate::server_fns::audit::audit_kinds());
    view! {
        <section class="panel audit">
            <h1>"Decision history"</h1>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    kinds.get().map(|result| match result {
                        Err(error) => view! { <Failure error /> }.into_any(),
                        Ok(kinds) => view! { <ExportForm kinds /> }.into_any(),
                    })
                }}
            </Transition>
        </section>
    }
}

#[component]
fn ExportForm(kinds: Vec<String>) -> impl IntoView {
    view! {
        <p class="muted">
            "Every decision that reached its workflow, oldest first: who decided what and when, "
            "on which files, and the receipt that proves it. Leave a field empty to include everything."
        </p>
        <form method="get" action="/audit/export" class="audit-filter" id="audit-export">
            <label>
                "Kind"
                <select name="kind">
                    <option value="">"All kinds"</option>
                    {kinds
                        .into_iter()
                        .map(|kind| view! { <option value=kind.clone()>{kind.clone()}</option> })
                        .collect_view()}
                </select>
            </label>
            <label>
                "Decided by"
                <input type="text" name="decider" autocomplete="off" placeholder="anyone" />
            </label>
            <label>"From" <input type="date" name="from" /></label>
            <label>"To" <input type="date" name="to" /></label>
            <fieldset>
                <legend>"Format"</legend>
                <label>
                    <input type="radio" name="format" value="csv" checked=true />
                    " CSV (spreadsheets)"
                </label>
                <label>
                    <input type="radio" name="format" value="jsonl" />
                    " JSON Lines (scripts)"
                </label>
            </fieldset>
            <button type="submit">"Download"</button>
        </form>
        <p class="muted">
            "Scripts can fetch the same with an API key: "
            <code>"GET /v1/decisions/export?format=jsonl&from=2026-01-01"</code>
            ". Dates are whole days in UTC."
        </p>
    }
}
