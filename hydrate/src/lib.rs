//! The browser entry point. The generated JavaScript calls [`hydrate`] once
//! the wasm module has loaded; it attaches the app to the HTML the server
//! already rendered instead of rendering it again.
//!
//! Browser-only: on any other target the crate is empty (see Cargo.toml).
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(countersign_app::App);
    // Says "the buttons work now": styles can react to it, and browser tests
    // wait for it instead of guessing with sleeps.
    if let Some(root) = leptos::prelude::document().document_element() {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}
