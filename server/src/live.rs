//! Live updates: `GET /live` is a server-sent event stream that says
//! "something changed" whenever the shared change counter moves (see
//! `countersign_domain::live`). Open pages refetch what they show when they
//! hear it; the stream itself carries no data, only the counter.
//!
//! One watcher per process reads the counter from DynamoDB every
//! [`POLL`]; all open streams of this process share it. Because the counter
//! is in DynamoDB, a decision taken on another replica reaches these pages
//! too. A change is announced once more [`SETTLE`] later: on AWS the
//! workflow records its next step a moment after a decision returns, and
//! the second refresh picks that up.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::broadcast;
use tower_sessions::Session;

/// How often the counter is read.
pub const POLL: Duration = Duration::from_millis(400);
/// When a change is announced a second time.
pub const SETTLE: Duration = Duration::from_millis(1500);

/// How many streams may be open: each holds a connection and a task for
/// as long as its page is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveLimits {
    /// Per session (a person with a few tabs open).
    pub per_session: usize,
    /// In this process, for everyone.
    pub total: usize,
}

impl Default for LiveLimits {
    fn default() -> Self {
        Self {
            per_session: 4,
            total: 512,
        }
    }
}

/// The process's watcher: streams subscribe to it.
#[derive(Debug, Clone)]
pub struct Live {
    /// `None` once stopped: with the watcher's copy gone too, every
    /// stream hears the channel close and ends, so shutdown does not wait
    /// for open pages.
    changes: Arc<Mutex<Option<broadcast::Sender<u64>>>>,
    watcher: Arc<Mutex<Option<tokio::task::AbortHandle>>>,
    limits: LiveLimits,
    /// Open streams per session id, and their sum under [`TOTAL`].
    open: Arc<Mutex<HashMap<String, usize>>>,
}

/// The key of [`Live::open`] that counts every stream.
const TOTAL: &str = "";

impl Default for Live {
    fn default() -> Self {
        Self::new(LiveLimits::default())
    }
}

/// One open stream's place in the counts, given back when it closes.
struct Slot {
    open: Arc<Mutex<HashMap<String, usize>>>,
    session: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.open.lock() {
            for key in [self.session.as_str(), TOTAL] {
                if let Some(n) = open.get_mut(key) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        open.remove(key);
                    }
                }
            }
        }
    }
}

impl Live {
    pub fn new(limits: LiveLimits) -> Self {
        let (changes, _) = broadcast::channel(16);
        Live {
            changes: Arc::new(Mutex::new(Some(changes))),
            watcher: Arc::default(),
            limits,
            open: Arc::default(),
        }
    }

    /// A place for one more stream of `session`, if both limits allow it.
    fn take_slot(&self, session: String) -> Option<Slot> {
        let mut open = self.open.lock().ok()?;
        let mine = open.get(&session).copied().unwrap_or(0);
        let all = open.get(TOTAL).copied().unwrap_or(0);
        if mine >= self.limits.per_session || all >= self.limits.total {
            return None;
        }
        *open.entry(session.clone()).or_default() += 1;
        *open.entry(TOTAL.to_owned()).or_default() += 1;
        drop(open);
        Some(Slot {
            open: self.open.clone(),
            session,
        })
    }

    /// Stops watching (the services it reads are going away) and ends
    /// every open stream.
    pub fn stop(&self) {
        if let Ok(mut changes) = self.changes.lock() {
            changes.take();
        }
        if let Some(watcher) = self.watcher.lock().ok().and_then(|mut w| w.take()) {
            watcher.abort();
        }
    }

    /// Starts watching the counter; runs as long as the process.
    pub fn watch(&self, domain: countersign_domain::services::Services) {
        let Some(changes) = self.changes.lock().ok().and_then(|c| c.clone()) else {
            return;
        };
        let watcher = tokio::spawn(async move {
            let mut last = domain.live().changes().await.unwrap_or(0);
            let mut settle: Option<tokio::time::Instant> = None;
            loop {
                tokio::time::sleep(POLL).await;
                let now = match domain.live().changes().await {
                    Ok(n) => n,
                    // Logged by the domain; try again on the next tick.
                    Err(_) => continue,
                };
                if now != last {
                    last = now;
                    settle = Some(tokio::time::Instant::now() + SETTLE);
                    // No receivers is fine: nobody has a page open.
                    let _ = changes.send(now);
                } else if settle.is_some_and(|at| tokio::time::Instant::now() >= at) {
                    settle = None;
                    let _ = changes.send(now);
                }
            }
        });
        if let Ok(mut slot) = self.watcher.lock()
            && let Some(old) = slot.replace(watcher.abort_handle())
        {
            old.abort();
        }
    }

    fn subscribe(&self) -> Option<broadcast::Receiver<u64>> {
        let changes = self.changes.lock().ok()?;
        Some(changes.as_ref()?.subscribe())
    }
}

/// `GET /live`: the event stream, for signed-in people only (it says when
/// things happen, which is not for anyone on the internet).
pub async fn stream(State(live): State<Arc<Live>>, session: Session) -> Response {
    let signed_in = matches!(
        session.get::<String>(countersign_app::auth::USER).await,
        Ok(Some(_))
    );
    if !signed_in {
        return (StatusCode::UNAUTHORIZED, "sign in first").into_response();
    }
    let session_id = session.id().map(|id| id.to_string()).unwrap_or_default();
    let Some(slot) = live.take_slot(session_id) else {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "too many live streams open; close a tab or try again later",
        )
            .into_response();
    };
    let Some(receiver) = live.subscribe() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    };
    // The slot lives in the stream's state: it is given back when the
    // stream is dropped (the page closed, the connection cut).
    let events =
        futures_util::stream::unfold((receiver, slot), |(mut receiver, slot)| async move {
            let data = match receiver.recv().await {
                Ok(n) => n.to_string(),
                // Fell behind: one refresh covers every missed change.
                Err(broadcast::error::RecvError::Lagged(_)) => "lagged".to_owned(),
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            let event = Event::default().event("changed").data(data);
            Some((Ok::<_, Infallible>(event), (receiver, slot)))
        });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
