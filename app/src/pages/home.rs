use leptos::prelude::*;

use crate::pages::common::Failure;
use crate::server_fns::auth::current_user;

/// The start page: where each person goes from here.
#[component]
pub fn Home() -> impl IntoView {
    let who = Resource::new(|| (), |_| current_user());
    view! {
        <section class="panel">
            <h1>"Countersign"</h1>
            <p>"Approvals for the human steps of your AWS Step Functions workflows."</p>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    who.get()
                        .map(|result| match result {
                            Ok(Some(me)) => {
                                let home = me.home();
                                view! {
                                    <p>
                                        "Signed in as " <strong>{me.name.clone()}</strong> ". "
                                        <a href=home id="go-home">"Go to your page"</a>
                                    </p>
                                }
                                    .into_any()
                            }
                            Ok(None) => {
                                view! {
                                    <p>
                                        <a href="/sign-in" id="sign-in-link">"Sign in"</a>
                                        " to decide orders, sign documents or follow your orders."
                                    </p>
                                }
                                    .into_any()
                            }
                            Err(error) => view! { <Failure error /> }.into_any(),
                        })
                }}
            </Suspense>
        </section>
    }
}
