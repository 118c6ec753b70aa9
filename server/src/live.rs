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

use std::convert::Infallible;
use std::sync::Arc;
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

/// The process's watcher: streams subscribe to it.
#[derive(Debug, Clone)]
pub struct Live {
    changes: broadcast::Sender<u64>,
    watcher: Arc<std::sync::Mutex<Option<tokio::task::AbortHandle>>>,
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}

impl Live {
    pub fn new() -> Self {
        let (changes, _) = broadcast::channel(16);
        Live {
            changes,
            watcher: Arc::default(),
        }
    }

    /// Stops watching (the services it reads are going away).
    pub fn stop(&self) {
        if let Some(watcher) = self.watcher.lock().ok().and_then(|mut w| w.take()) {
            watcher.abort();
        }
    }

    /// Starts watching the counter; runs as long as the process.
    pub fn watch(&self, domain: countersign_domain::orders::Services) {
        let changes = self.changes.clone();
        let watcher = tokio::spawn(async move {
            let mut last = domain.changes().await.unwrap_or(0);
            let mut settle: Option<tokio::time::Instant> = None;
            loop {
                tokio::time::sleep(POLL).await;
                let now = match domain.changes().await {
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

    fn subscribe(&self) -> broadcast::Receiver<u64> {
        self.changes.subscribe()
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
    let receiver = live.subscribe();
    let events = futures_util::stream::unfold(receiver, |mut receiver| async move {
        let data = match receiver.recv().await {
            Ok(n) => n.to_string(),
            // Fell behind: one refresh covers every missed change.
            Err(broadcast::error::RecvError::Lagged(_)) => "lagged".to_owned(),
            Err(broadcast::error::RecvError::Closed) => return None,
        };
        let event = Event::default().event("changed").data(data);
        Some((Ok::<_, Infallible>(event), receiver))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}
