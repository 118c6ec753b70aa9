//! A decision's receipt: who decided what, when, on which file hashes, for
//! which execution and task, with the server's Ed25519 signature; a file
//! to download and the command that checks it offline.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::pages::common::{Failure, When};
use countersign_model::receipts::ReceiptPage as Page;

#[component]
pub fn ReceiptPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let receipt = Resource::new(id, crate::server_fns::files::receipt);
    view! {
        <section class="panel receipt">
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    receipt.get().map(|result| match result {
                        Err(error) => view! { <Failure error /> }.into_any(),
                        Ok(page) => view! { <Receipt page /> }.into_any(),
                    })
                }}
            </Transition>
        </section>
    }
}

#[component]
fn Receipt(page: Page) -> impl IntoView {
    let Page {
        receipt: r,
        signature,
        file: _,
    } = page;
    let encoded = crate::words::urlencode(&r.id);
    let json = format!("/receipts/{encoded}?format=json&download");
    let subject = match r.subject.kind.as_str() {
        "order" => Some(format!(
            "/orders/{}",
            crate::words::urlencode(&r.subject.id)
        )),
        "signature" => Some(format!(
            "/signing/{}",
            crate::words::urlencode(&r.subject.id)
        )),
        _ => Some(format!("/tasks/{}", crate::words::urlencode(&r.task))),
    };
    let failed = r.decision.outcome == "failure";
    let file_args: String = r
        .files
        .iter()
        .map(|f| format!(" --file '{}'", f.name.replace('\'', "'\\''")))
        .collect();
    let command = format!(
        "countersign receipts verify receipt-{}.json --key countersign-receipt-key.json{file_args}",
        r.id
    );
    view! {
        <h1>"Receipt"</h1>
        <p class="summary" id="receipt-summary">
            <strong>{r.decision.by.clone()}</strong> " chose " <strong>{r.decision.action.clone()}</strong>
            " · " <When at=r.decision.at.clone() />
            {if failed { " · the workflow was told it failed" } else { " · the workflow was told it succeeded" }}
        </p>
        <dl class="receipt-facts" id="receipt-facts">
            <dt>"Decision"</dt><dd>{r.decision.action.clone()} " (" {r.decision.outcome.clone()} ")"</dd>
            <dt>"By"</dt><dd>{r.decision.by.clone()}</dd>
            <dt>"At"</dt><dd><code>{r.decision.at.clone()}</code></dd>
            {r.decision.comment.clone().map(|c| view! { <dt>"Comment"</dt><dd>{c}</dd> })}
            {r.decision.error.clone().map(|e| view! { <dt>"Error"</dt><dd><code>{e}</code></dd> })}
            {r.decision.reason.clone().map(|c| view! { <dt>"Reason"</dt><dd>{c}</dd> })}
            <dt>"On"</dt><dd>{subject.map(|href| view! { <a href=href>{r.subject.kind.clone()} " " {r.subject.id.clone()}</a> })}</dd>
            <dt>"Execution"</dt><dd><code class="wrap">{r.execution.clone()}</code></dd>
            <dt>"Task"</dt><dd><code>{r.task.clone()}</code></dd>
            <dt>"Signed with key"</dt><dd><code>{r.key.clone()}</code> " (Ed25519)"</dd>
            <dt>"Signature"</dt><dd><code class="wrap" id="receipt-signature">{signature}</code></dd>
        </dl>
        <h2>"Files as they were seen"</h2>
        {if r.files.is_empty() {
            view! { <p class="muted">"No files were attached when this was decided."</p> }.into_any()
        } else {
            view! {
                <table class="receipt-files" id="receipt-files">
                    <thead><tr><th scope="col">"File"</th><th scope="col">"SHA-256"</th></tr></thead>
                    <tbody>
                        {r.files.iter().map(|f| view! {
                            <tr><td>{f.name.clone()}</td><td><code class="wrap">{f.sha256.clone()}</code></td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        <h2>"Check it yourself"</h2>
        <p>
            <a href=json rel="external" download=format!("receipt-{}.json", r.id) id="receipt-download">"Download the receipt"</a>
            " and the server's "
            <a href="/.well-known/countersign-receipt-key" rel="external" download="countersign-receipt-key.json">"public key"</a>
            ", then, with the files beside them:"
        </p>
        <pre class="command">{command}</pre>
        <p class="muted">"Any change to the receipt, or one byte of a file, makes the check fail."</p>
    }
}
