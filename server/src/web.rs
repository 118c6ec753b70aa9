//! The axum router: Leptos pages and server functions, the built client's
//! static files, and the health endpoints; around them, the session layer
//! and the checks every request passes (same origin for anything that
//! changes state, the client's address for counting failed sign-ins).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use countersign_app::auth::ClientAddress;
use countersign_app::services::Services;
use countersign_app::{App, shell};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::origin::SiteOrigins;
use crate::readiness::Readiness;
use crate::sessions::DynamoDbStore;

/// How the web front behaves towards browsers.
#[derive(Debug, Clone, Default)]
pub struct WebSettings {
    /// The address people reach the dashboard at (`https://approvals.example`).
    /// When set, state-changing requests must come from exactly this origin,
    /// and an `https` address makes the session cookie `Secure`.
    pub public_url: Option<String>,
    /// Force the `Secure` cookie attribute on (`Some(true)`) or off.
    pub secure_cookie: Option<bool>,
    /// Take the client's address from `X-Forwarded-For` (only behind a
    /// proxy that sets it; otherwise anyone could claim any address).
    pub trust_forwarded_for: bool,
    /// Sessions end after this long unused.
    pub idle_secs: u64,
    /// The address the dashboard listens on (set by [`crate::serve`]):
    /// without a public URL, the origins this site answers as.
    pub listen: Option<SocketAddr>,
    /// A request (other than `/live`) not answered in this time gets 408
    /// (set by [`crate::serve`]; zero: no limit).
    pub request_timeout: std::time::Duration,
    /// The largest attachment, in bytes: an upload's body may be this
    /// large (set by [`crate::serve`]).
    pub attachment_limit: u64,
}

impl WebSettings {
    fn secure(&self) -> bool {
        self.secure_cookie.unwrap_or_else(|| {
            self.public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://"))
        })
    }

    fn site_origins(&self) -> SiteOrigins {
        SiteOrigins::new(self.public_url.as_deref(), self.listen)
    }
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "countersign_session";

/// The output name the wasm bundle is built under (`pkg/countersign.js`,
/// `pkg/countersign_bg.wasm`); `scripts/build` uses the same.
pub const CLIENT_OUTPUT_NAME: &str = "countersign";

/// Builds the whole router.
pub fn router(
    site_dir: &Path,
    readiness: Readiness,
    sessions: DynamoDbStore,
    live: crate::live::Live,
    settings: &WebSettings,
) -> Router {
    let options = LeptosOptions::builder()
        .output_name(CLIENT_OUTPUT_NAME)
        .site_root(site_dir.to_string_lossy().as_ref())
        .site_pkg_dir("pkg")
        .build();
    let routes = generate_route_list(App);

    let context = {
        let readiness = readiness.clone();
        move || {
            // Server functions get the backend as the UI crate's context.
            if let Some(backend) = readiness.backend() {
                provide_context(Services {
                    domain: backend.domain.clone(),
                    policy: backend.policy,
                    kinds: backend.kinds.clone(),
                });
            }
            // The page's scripts carry the nonce the response's CSP names
            // (set by `security_headers`), not one of Leptos's own.
            if let Some(nonce) = use_context::<axum::http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<CspNonce>().cloned())
            {
                provide_context(leptos::nonce::Nonce::from_value(nonce.0));
            }
        }
    };

    let api = crate::api::router(readiness.clone(), settings.attachment_limit)
        .layer(timeout(settings.request_timeout));

    let pages = Router::new()
        .leptos_routes_with_context(&options, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(
            context, shell,
        ))
        .with_state(options)
        // Server-function bodies are small forms; a bigger one is refused
        // for its size (413) before anything reads it.
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            crate::api::MAX_BODY,
        ))
        .layer(timeout(settings.request_timeout))
        .layer(from_fn(server_fn_status))
        // A receipt asked for as JSON is answered before the page is.
        .layer(from_fn_with_state(
            readiness.clone(),
            crate::receipts::json_or_page,
        ));

    // Behind the session layer: the export is for signed-in staff.
    let audit = crate::audit::router(readiness.clone()).layer(timeout(settings.request_timeout));

    // Behind the session layer: files go to people who may see them.
    let files = crate::files::router(readiness.clone(), settings.attachment_limit)
        .layer(timeout(settings.request_timeout));

    // Behind the session layer: the stream is for signed-in people.
    let live = Router::new()
        .route("/live", get(crate::live::stream))
        .with_state(Arc::new(live));

    let health = Router::new()
        .route(
            crate::receipts::KEY_PATH,
            get(crate::receipts::public_key).with_state(readiness.clone()),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let ready = readiness.backend().is_some();
                async move {
                    if ready {
                        (StatusCode::OK, "ready")
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "starting")
                    }
                }
            }),
        );

    let session_layer = SessionManagerLayer::new(sessions)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(settings.secure())
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            i64::try_from(settings.idle_secs).unwrap_or(i64::MAX),
        )));

    pages
        .merge(health)
        .merge(live)
        .merge(files)
        .merge(audit)
        .layer(session_layer)
        .layer(from_fn_with_state(
            settings.trust_forwarded_for,
            client_address,
        ))
        .layer(from_fn_with_state(
            Arc::new(settings.site_origins()),
            same_origin,
        ))
        // The REST API joins after the browser's layers: it takes keys and
        // signatures, never cookies, so sessions and the same-origin rule
        // are not its business.
        .merge(api)
        .layer(from_fn(no_store))
        .layer(from_fn_with_state(
            settings
                .public_url
                .as_deref()
                .is_some_and(|u| u.starts_with("https://")),
            security_headers,
        ))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
}

/// Gives a server function's refusal its own status. A refusal the
/// framework makes before the function runs (arguments that do not
/// parse) leaves with 500 whatever it says; the body is our `AppError`,
/// whose `status()` is the one source of truth, so it is read back here.
async fn server_fn_status(request: Request, next: Next) -> Response {
    let is_server_fn = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    if !is_server_fn || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, crate::api::MAX_BODY).await else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "the answer could not be read",
        )
            .into_response();
    };
    if let Ok(error) = serde_json::from_slice::<countersign_app::error::AppError>(&bytes) {
        parts.status = error.status();
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Answers 408 to a request that takes longer than `limit` (slow bodies,
/// stuck backends); a zero limit is none.
fn timeout(limit: std::time::Duration) -> tower_http::timeout::TimeoutLayer {
    let limit = if limit.is_zero() {
        std::time::Duration::MAX
    } else {
        limit
    };
    tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, limit)
}

/// Refuses a state-changing request that does not come from this site
/// (see [`crate::origin`]). Nothing skips it here, an `Authorization`
/// header included: a browser behind a Basic-auth proxy sends one on every
/// request, forged ones too. Machine callers use the REST API, which is
/// outside this layer and takes no cookies.
async fn same_origin(
    State(site): State<Arc<SiteOrigins>>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe || site.admits_request(request.headers()) {
        return next.run(request).await;
    }
    (
        StatusCode::FORBIDDEN,
        "refused: this request did not come from a Countersign page (cross-site requests may not change anything)",
    )
        .into_response()
}

/// Puts the client's address in the request for the sign-in counters.
async fn client_address(
    State(trust_forwarded): State<bool>,
    mut request: Request,
    next: Next,
) -> Response {
    let forwarded = trust_forwarded
        .then(|| {
            request
                .headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                // The last entry is the one our own proxy added.
                .and_then(|v| v.rsplit(',').next())
                .map(|v| v.trim().to_owned())
        })
        .flatten();
    let address = forwarded.or_else(|| {
        request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string())
    });
    request
        .extensions_mut()
        .insert(ClientAddress(address.unwrap_or_else(|| "unknown".into())));
    next.run(request).await
}

/// Pages and server-function answers are per person: no shared cache may
/// keep them. Static files (`/pkg`, styles) stay cacheable.
/// Headers that keep every page from being turned against its user: no
/// page may be framed (the one-click decision forms could otherwise be
/// overlaid by another site), no response is read as another type than it
/// says, addresses are not told to other sites, and, when the dashboard is
/// served over https, browsers are told to use nothing else.
async fn security_headers(State(https): State<bool>, mut request: Request, next: Next) -> Response {
    let nonce = CspNonce(countersign_domain::users::generate_password().into());
    request.extensions_mut().insert(nonce.clone());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, header::HeaderValue::from_static(value));
    };
    // A response with its own policy (an attached file, framed by our
    // pages) keeps it; everything else gets the strict one.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY)
        && let Ok(policy) = header::HeaderValue::from_str(&content_security_policy(&nonce))
    {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    if !headers.contains_key(header::X_FRAME_OPTIONS) {
        set(headers, "x-frame-options", "DENY");
    }
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "referrer-policy", "same-origin");
    if https {
        set(
            headers,
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        );
    }
    response
}

/// This response's CSP nonce: the one script the page itself holds (the
/// hydration loader) carries it; any other inline script, injected into a
/// page somehow, does not and is not run.
#[derive(Debug, Clone)]
pub struct CspNonce(pub Arc<str>);

/// The policy: our own files only, inline scripts only with this
/// response's nonce, wasm compiled (the client is wasm), and no framing,
/// plugins, `<base>` or form posts elsewhere.
pub fn content_security_policy(nonce: &CspNonce) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{}' 'wasm-unsafe-eval'; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
        nonce.0
    )
}

async fn no_store(request: Request, next: Next) -> Response {
    let dynamic = !request.uri().path().starts_with("/pkg/")
        && !request.uri().path().ends_with(".css")
        && !request.uri().path().ends_with(".svg");
    let mut response = next.run(request).await;
    if dynamic {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    response
}
