use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::server_fns::auth::SignIn;

/// The sign-in form. Works without JavaScript: the form posts, and the
/// server answers with a redirect (or back here with the error).
#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    view! {
        <section class="panel narrow">
            <h1>"Sign in"</h1>
            <ActionForm action>
                <input type="hidden" name="next" value=next />
                <label for="name">"Name"</label>
                <input id="name" name="name" autocomplete="username" required autofocus />
                <label for="password">"Password"</label>
                <input
                    id="password"
                    name="password"
                    type="password"
                    autocomplete="current-password"
                    required
                />
                <button type="submit" id="sign-in" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
            {move || {
                action
                    .value()
                    .get()
                    .and_then(Result::err)
                    .map(|e| view! { <p class="error" role="alert" id="sign-in-error">{e.to_string()}</p> })
            }}
        </section>
    }
}
