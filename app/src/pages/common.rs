//! Pieces every page uses: errors and outcomes (as toasts), times (relative,
//! exact on hover), the clock that keeps them current, and the live
//! signal that tells pages to refetch.

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

/// The outcome of the last action on a page, as a toast: what happened, or
/// why not. Rendered on the server too, so a browser without JavaScript
/// sees the same message after its form post.
#[component]
pub fn Outcome(message: Signal<Option<Result<String, AppError>>>) -> impl IntoView {
    move || {
        message.get().map(|result| match result {
            Ok(text) => view! { <p class="toast ok" role="status">{text}</p> }.into_any(),
            Err(error) => {
                view! { <p class="toast err" role="alert">{error.to_string()}</p> }.into_any()
            }
        })
    }
}

/// What an action came to, for [`Outcome`]: its value with JavaScript;
/// without, the `done` message the server put in the address after the
/// form post (errors come back through Leptos's own error parameter).
pub fn outcome_of<S, T>(
    action: ServerAction<S>,
    text: impl Fn(&T) -> String + Send + Sync + 'static,
) -> Signal<Option<Result<String, AppError>>>
where
    S: leptos::server_fn::ServerFn<Output = T, Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + Clone + 'static,
    T: Send + Sync + Clone + 'static,
{
    let query = leptos_router::hooks::use_query_map();
    Signal::derive(move || match action.value().get() {
        Some(result) => Some(result.map(|v| text(&v))),
        None => query.read().get("done").map(Ok),
    })
}

/// The outcome of whichever of a page's actions ran last, for one
/// [`Outcome`]: several toasts reading the same `done` message after a
/// plain form post would say it several times.
pub fn one_outcome(
    outcomes: Vec<Signal<Option<Result<String, AppError>>>>,
) -> Signal<Option<Result<String, AppError>>> {
    let query = leptos_router::hooks::use_query_map();
    Signal::derive(move || {
        outcomes
            .iter()
            .find_map(|o| o.get())
            .or_else(|| query.read().get("done").map(Ok))
    })
}

/// What an action came to, without the address's `done` message (see
/// [`one_outcome`]).
pub fn value_of<S, T>(
    action: ServerAction<S>,
    text: impl Fn(&T) -> String + Send + Sync + 'static,
) -> Signal<Option<Result<String, AppError>>>
where
    S: leptos::server_fn::ServerFn<Output = T, Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + Clone + 'static,
    T: Send + Sync + Clone + 'static,
{
    Signal::derive(move || action.value().get().map(|result| result.map(|v| text(&v))))
}

/// Whether `action` is running for an input `matches` picks out: the one
/// button of many (one per row) that should say "Advancing…".
pub fn in_flight<S>(
    action: ServerAction<S>,
    matches: impl Fn(&S) -> bool + Send + Sync + 'static,
) -> Signal<bool>
where
    S: leptos::server_fn::ServerFn + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
{
    Signal::derive(move || {
        action.pending().get() && action.input().read().as_ref().is_some_and(&matches)
    })
}

/// Seconds since 1970 of an RFC 3339 UTC timestamp, as every record stores
/// them (`2026-11-21T10:42:07.123Z`); the fraction is dropped.
pub fn epoch_secs(text: &str) -> Option<i64> {
    let num = |from: usize, to: usize| text.get(from..to)?.parse::<i64>().ok();
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // Days from the civil date (proleptic Gregorian), after H. Hinnant.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(days * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// A timestamp as something that sorts in time order, whatever its
/// fraction's length (`…:07Z`, `…:07.1Z`, `…:07.123456789Z`).
pub fn time_key(at: &str) -> (i64, u32) {
    let secs = epoch_secs(at).unwrap_or(i64::MAX);
    let fraction: String = at
        .get(19..)
        .and_then(|rest| rest.strip_prefix('.'))
        .map(|rest| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .take(9)
                .collect()
        })
        .unwrap_or_default();
    let nanos = format!("{fraction:0<9}").parse().unwrap_or(0);
    (secs, nanos)
}

/// Now, in seconds since 1970 (the browser's clock in the browser).
pub fn now_secs() -> i64 {
    // By target, not feature: workspace builds unify features, so the
    // server binary may have `hydrate` on too.
    #[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
    {
        (js_sys::Date::now() / 1000.0) as i64
    }
    #[cfg(not(all(feature = "hydrate", target_arch = "wasm32")))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

/// How long ago, for reading: "just now", "5 min ago", "3 h ago",
/// "2 days ago".
pub fn ago(secs: i64) -> String {
    match secs {
        ..45 => "just now".into(),
        45..5_400 => format!("{} min ago", (secs + 30) / 60),
        5_400..129_600 => format!("{} h ago", (secs + 1_800) / 3_600),
        _ => format!("{} days ago", (secs + 43_200) / 86_400),
    }
}

/// How long until a deadline: "40 s left", "12 min left", "5 h left",
/// "3 days left", or "expired".
pub fn left(secs: i64) -> String {
    match secs {
        ..=0 => "expired".into(),
        1..60 => format!("{secs} s left"),
        60..5_400 => format!("{} min left", secs / 60),
        5_400..172_800 => format!("{} h left", secs / 3_600),
        _ => format!("{} days left", secs / 86_400),
    }
}

/// The page's clock: the time relative times are measured from. The
/// browser moves it on every few seconds.
#[derive(Debug, Clone, Copy)]
pub struct Clock(pub RwSignal<i64>);

pub fn provide_clock() {
    let clock = RwSignal::new(now_secs());
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let _ = set_interval_with_handle(
            move || clock.set(now_secs()),
            std::time::Duration::from_secs(5),
        );
    });
    provide_context(Clock(clock));
}

fn clock() -> RwSignal<i64> {
    use_context::<Clock>()
        .map(|c| c.0)
        .unwrap_or_else(|| RwSignal::new(now_secs()))
}

/// A stored time as "5 min ago", the exact time on hover.
#[component]
pub fn When(at: String) -> impl IntoView {
    let now = clock();
    let then = epoch_secs(&at);
    let exact = exact(&at);
    let text = move || match then {
        Some(t) => ago(now.get() - t),
        None => at.clone(),
    };
    view! { <time datetime=exact.clone() title=exact>{text}</time> }
}

/// A deadline as "12 min left" (or "no time limit"), the exact time on
/// hover; marked urgent in its last hour.
#[component]
pub fn Left(deadline: Option<String>) -> impl IntoView {
    let now = clock();
    match deadline.and_then(|d| Some((epoch_secs(&d)?, d))) {
        None => view! { <span class="muted">"no time limit"</span> }.into_any(),
        Some((at, text)) => {
            let exact = exact(&text);
            let class = move || {
                let remaining = at - now.get();
                if remaining <= 0 {
                    "left expired"
                } else if remaining < 3_600 {
                    "left urgent"
                } else {
                    "left"
                }
            };
            view! {
                <time class=class datetime=exact.clone() title=exact>
                    {move || left(at - now.get())}
                </time>
            }
            .into_any()
        }
    }
}

/// `2026-11-21T10:42:07.123Z` as `2026-11-21 10:42:07 UTC`.
fn exact(at: &str) -> String {
    match at.get(..19) {
        Some(s) => format!("{} UTC", s.replace('T', " ")),
        None => at.to_owned(),
    }
}

/// A status as a badge.
#[component]
pub fn Status(status: String) -> impl IntoView {
    let class = format!("badge status-{}", status.to_lowercase());
    view! { <span class=class>{status}</span> }
}

/// Bumped whenever the server says something changed; resources that list
/// live data read it, so they refetch.
#[derive(Debug, Clone, Copy)]
pub struct Live(pub RwSignal<u64>);

pub fn provide_live() {
    provide_context(Live(RwSignal::new(0)));
}

/// The live counter to put in a resource's source.
pub fn live() -> RwSignal<u64> {
    use_context::<Live>()
        .map(|l| l.0)
        .unwrap_or_else(|| RwSignal::new(0))
}

/// Opens the event stream once someone is signed in (the server refuses it
/// to anyone else). The browser reconnects by itself after a network
/// error. `data-live` on `<html>` says whether it is open.
#[cfg(feature = "hydrate")]
pub fn connect_live() {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    thread_local! {
        static OPEN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    if OPEN.with(|o| o.replace(true)) {
        return;
    }
    let version = live();
    let Ok(source) = web_sys::EventSource::new("/live") else {
        OPEN.with(|o| o.set(false));
        return;
    };
    let mark = |state: &str| {
        if let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = root.set_attribute("data-live", state);
        }
    };
    let changed = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| {
        version.update(|v| *v += 1);
    });
    let _ = source.add_event_listener_with_callback("changed", changed.as_ref().unchecked_ref());
    // The stream lives as long as the page: these closures are never freed.
    changed.forget();
    let opened = Closure::<dyn FnMut()>::new(move || mark("on"));
    source.set_onopen(Some(opened.as_ref().unchecked_ref()));
    opened.forget();
    let failed = Closure::<dyn FnMut()>::new(move || mark("off"));
    source.set_onerror(Some(failed.as_ref().unchecked_ref()));
    failed.forget();
    std::mem::forget(source);
}

pub use crate::words::short;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_count_seconds_from_1970() {
        assert_eq!(epoch_secs("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(epoch_secs("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(
            epoch_secs("2026-11-21T16:21:19.004153073Z"),
            Some(1_795_278_079)
        );
        assert_eq!(epoch_secs("2026-13-01T00:00:00Z"), None);
        assert_eq!(epoch_secs("soon"), None);
    }

    #[test]
    fn time_keys_order_fractions_of_any_length() {
        let a = time_key("2026-11-21T10:00:07Z");
        let b = time_key("2026-11-21T10:00:07.1Z");
        let c = time_key("2026-11-21T10:00:07.123456789Z");
        let d = time_key("2026-11-21T10:00:07.2+00:00");
        assert!(a < b && b < c && c < d, "{a:?} {b:?} {c:?} {d:?}");
        assert!(time_key("2026-11-21T10:00:08Z") > d);
    }

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(ago(3), "just now");
        assert_eq!(ago(300), "5 min ago");
        assert_eq!(ago(3 * 3_600), "3 h ago");
        assert_eq!(ago(2 * 86_400), "2 days ago");
        assert_eq!(left(-5), "expired");
        assert_eq!(left(40), "40 s left");
        assert_eq!(left(12 * 60 + 5), "12 min left");
        assert_eq!(left(5 * 3_600), "5 h left");
        assert_eq!(left(3 * 86_400), "3 days left");
    }
}

/// Claiming a task or giving it back: one button posting to the claim
/// action, the same on the list and on the task's page. `button_id` names
/// the button where there is one per page.
#[component]
pub fn HandButton(
    action: ServerAction<crate::server_fns::tasks::ClaimTask>,
    task_id: String,
    give_back: bool,
    #[prop(optional)] button_id: Option<&'static str>,
) -> impl IntoView {
    let (what, label) = if give_back {
        ("unclaim", "Give back")
    } else {
        ("claim", "Claim")
    };
    view! {
        <ActionForm action=action attr:class="decide">
            <input type="hidden" name="task_id" value=task_id />
            <input type="hidden" name="what" value=what />
            <button type="submit" class="quiet" id=button_id>{label}</button>
        </ActionForm>
    }
}
