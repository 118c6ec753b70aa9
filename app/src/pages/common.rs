//! Pieces every page uses: how an error is shown, how a time is shown.

use leptos::prelude::*;

use crate::error::AppError;

/// An error in words, with a way on where there is one (sign in).
#[component]
pub fn Failure(error: AppError) -> impl IntoView {
    match error {
        AppError::SignInRequired => view! {
            <p class="error" role="alert">
                "Please " <a href="/sign-in">"sign in"</a> " to see this page."
            </p>
        }
        .into_any(),
        other => view! {
            <p class="error" role="alert">{other.to_string()}</p>
        }
        .into_any(),
    }
}

/// The outcome of the last action on a page: what happened, or why not.
#[component]
pub fn Outcome(message: Signal<Option<Result<String, AppError>>>) -> impl IntoView {
    move || {
        message.get().map(|result| match result {
            Ok(text) => view! { <p class="notice" role="status">{text}</p> }.into_any(),
            Err(error) => {
                view! { <p class="error" role="alert">{error.to_string()}</p> }.into_any()
            }
        })
    }
}

/// A stored RFC 3339 time, shortened for reading (`2026-11-21 10:42:07`),
/// the full value on hover.
#[component]
pub fn When(at: String) -> impl IntoView {
    let short = at
        .get(..19)
        .map(|s| s.replace('T', " "))
        .unwrap_or_else(|| at.clone());
    view! { <time datetime=at.clone() title=at>{short}</time> }
}

/// A status as a badge.
#[component]
pub fn Status(status: String) -> impl IntoView {
    let class = format!("badge status-{}", status.to_lowercase());
    view! { <span class=class>{status}</span> }
}
