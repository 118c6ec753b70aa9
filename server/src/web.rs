//! The axum router: Leptos pages and server functions, the built client's
//! static files, and the health endpoints.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use countersign_app::services::Services;
use countersign_app::{App, shell};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

/// Set once the backing services answer; until then `/readyz` says 503 and
/// server functions say the server is starting.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<OnceLock<Services>>);

impl Readiness {
    pub fn set(&self, services: Services) {
        // A second call would mean two backends; the first one stays.
        let _ = self.0.set(services);
    }

    pub fn services(&self) -> Option<&Services> {
        self.0.get()
    }
}

/// The output name the wasm bundle is built under (`pkg/countersign.js`,
/// `pkg/countersign_bg.wasm`); `scripts/build` uses the same.
pub const CLIENT_OUTPUT_NAME: &str = "countersign";

/// Builds the whole router.
pub fn router(site_dir: &Path, readiness: Readiness) -> Router {
    let options = LeptosOptions::builder()
        .output_name(CLIENT_OUTPUT_NAME)
        .site_root(site_dir.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .build();
    let routes = generate_route_list(App);

    let context = {
        let readiness = readiness.clone();
        move || {
            if let Some(services) = readiness.services() {
                provide_context(services.clone());
            }
        }
    };

    let pages = Router::new()
        .leptos_routes_with_context(&options, routes, context, {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options);

    let health = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let ready = readiness.services().is_some();
                async move {
                    if ready {
                        (StatusCode::OK, "ready")
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "starting")
                    }
                }
            }),
        );

    pages
        .merge(health)
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
}
