//! Countersign's user interface, rendered on the server and hydrated in the
//! browser.
//!
//! # Layout
//! - [`shell`]: the HTML document around the app (head, scripts, styles).
//! - [`App`]: the router; one route per page in `pages/`.
//! - `pages/`: one module a page.
//! - `server_fns/`: the `#[server]` functions the pages call. Each one is a
//!   public HTTP endpoint under `/api/`; its doc comment says who may call it.
//! - `model`: what a browser may see (no field can carry a task token).
//! - `redirect`: where the server may send a browser (paths on this site).
//! - `words`: texts and address encodings pages and server functions share.
//! - `markdown` (server build only): attached Markdown rendered safely.
//! - `error`: the one error type of every server function, with its status.
//! - `auth` and `services` (server build only): who is calling, and what
//!   the server hands the server functions through Leptos context.
//!
//! The crate is compiled twice: with feature `ssr` into the server binary, and
//! with feature `hydrate` into the wasm bundle. Anything that touches AWS
//! sits behind `ssr` so that it never reaches the browser.

#[cfg(feature = "ssr")]
pub mod auth;
pub mod error;
#[cfg(feature = "ssr")]
pub mod markdown;
pub mod model;
pub mod pages;
pub mod redirect;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod services;
pub mod words;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    ParamSegment, SsrMode, StaticSegment,
    components::{Route, Router, Routes},
};

use crate::server_fns::auth::SignOut;

/// The HTML document that wraps every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The router: every page of the dashboard.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    pages::common::provide_clock();
    pages::common::provide_live();
    view! {
        <Stylesheet id="countersign" href="/countersign.css" />
        <Title text="Countersign" />
        <Router>
            <TopBar />
            <main>
                // Async: each page is sent once its data is loaded, so a
                // browser without JavaScript gets the full answer in the HTML.
                <Routes fallback=pages::not_found::NotFound>
                    <Route path=StaticSegment("") view=pages::home::Home ssr=SsrMode::Async />
                    <Route path=StaticSegment("sign-in") view=pages::sign_in::SignInPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("inbox") view=pages::inbox::Inbox ssr=SsrMode::Async />
                    <Route path=StaticSegment("orders") view=pages::orders::MyOrders ssr=SsrMode::Async />
                    <Route
                        path=(StaticSegment("orders"), ParamSegment("id"))
                        view=pages::orders::OrderPage
                        ssr=SsrMode::Async
                    />
                    <Route path=StaticSegment("desk") view=pages::documents::Desk ssr=SsrMode::Async />
                    <Route path=StaticSegment("tasks") view=pages::tasks::TasksPage ssr=SsrMode::Async />
                    <Route
                        path=(StaticSegment("tasks"), ParamSegment("id"))
                        view=pages::task::TaskPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("signing"), ParamSegment("id"))
                        view=pages::documents::DocumentPage
                        ssr=SsrMode::Async
                    />
                    <Route path=StaticSegment("audit") view=pages::audit::AuditPage ssr=SsrMode::Async />
                    <Route
                        path=(StaticSegment("receipts"), ParamSegment("id"))
                        view=pages::receipt::ReceiptPage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
        </Router>
    }
}

/// The bar on top: the brand, the caller's pages, and signing out.
#[component]
fn TopBar() -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let who = Resource::new(|| (), |_| server_fns::auth::current_user());
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Countersign"</a>
            <Suspense fallback=|| ()>
                {move || {
                    who.get()
                        .map(|result| match result.ok().flatten() {
                            Some(me) => {
                                // Signed in: pages may now listen for changes.
                                #[cfg(feature = "hydrate")]
                                Effect::new(|_| pages::common::connect_live());
                                view! {
                                    <nav aria-label="Your pages">
                                        {me.is("staff").then(|| view! { <a href="/inbox">"Inbox"</a> })}
                                        {me.is("signer").then(|| view! { <a href="/desk">"Desk"</a> })}
                                        {me.is("customer").then(|| view! { <a href="/orders">"Orders"</a> })}
                                        <a href="/tasks">"Tasks"</a>
                                        {me.is("staff").then(|| view! { <a href="/audit">"Audit"</a> })}
                                    </nav>
                                    <span class="who" id="who">{me.name.clone()}</span>
                                    <ActionForm action=sign_out>
                                        <button type="submit" id="sign-out" class="quiet">"Sign out"</button>
                                    </ActionForm>
                                }
                                    .into_any()
                            }
                            None => view! { <a href="/sign-in" class="who">"Sign in"</a> }.into_any(),
                        })
                }}
            </Suspense>
        </header>
    }
}
