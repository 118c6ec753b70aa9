//! Countersign's user interface, rendered on the server and hydrated in the
//! browser.
//!
//! # Layout
//! - [`shell`]: the HTML document around the app (head, scripts, styles).
//! - [`App`]: the router; one route per page in `pages/`.
//! - `pages/`: one module a page.
//! - `server_fns/`: the `#[server]` functions the pages call. Each one is a
//!   public HTTP endpoint under `/api/`; its doc comment says who may call it.
//! - `services` (server build only): what the server hands the server
//!   functions through Leptos context.
//!
//! The crate is compiled twice: with feature `ssr` into the server binary, and
//! with feature `hydrate` into the wasm bundle. Anything that touches AWS
//! sits behind `ssr` so that it never reaches the browser.

pub mod pages;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod services;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode, StaticSegment,
    components::{Route, Router, Routes},
};

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
    view! {
        <Stylesheet id="countersign" href="/countersign.css" />
        <Title text="Countersign" />
        <Router>
            <header class="topbar">
                <a class="brand" href="/">"Countersign"</a>
            </header>
            <main>
                // Async: the page is sent once its data is loaded, so a browser
                // without JavaScript gets the full answer in the HTML.
                <Routes fallback=pages::not_found::NotFound>
                    <Route path=StaticSegment("") view=pages::home::Home ssr=SsrMode::Async />
                </Routes>
            </main>
        </Router>
    }
}
