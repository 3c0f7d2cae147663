//! The HTTP API, `/api/v1`: routing, request parsing and response shaping. Every decision about data
//! and permission is the service layer's; this crate only translates HTTP to use cases and back.

mod access_log;
mod extract;
mod headers;
mod limits;
mod negotiate;
mod openapi;
mod pagination;
mod problem;
mod prometheus;
mod routes;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fathom_service::{Search, Services};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa_swagger_ui::SwaggerUi;

pub use fathom_formats::Site;
pub use openapi::openapi;
pub use problem::{PROBLEM_JSON, Problem};

/// The addresses under which everything is the API's, answered with problem documents.
const API_PREFIXES: &[&str] = &["/api", "/ogcapi", "/oai"];

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

/// What every handler can reach: the use cases, and this replica's search index, behind one `Arc`
/// (the router's state), so that a request takes a reference rather than a copy of each.
#[derive(Debug, Clone)]
pub struct AppState {
    services: Services,
    pub search: Search,
}

/// The API searches: its services must have opened the search index.
#[derive(Debug)]
pub struct NoSearchIndex;

impl std::fmt::Display for NoSearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the API needs the search index: give the services' settings an index")
    }
}

impl std::error::Error for NoSearchIndex {}

impl AppState {
    pub fn new(services: Services) -> Result<Self, NoSearchIndex> {
        let search = services.search.clone().ok_or(NoSearchIndex)?;
        Ok(Self { services, search })
    }
}

/// Handlers reach each use case as `state.catalogue`, `state.sharing`, ….
impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// The largest request body accepted, in bytes (larger gets 413).
    pub body_limit: usize,
    /// Browser origins allowed to call the API (CORS); none by default.
    pub cors_origins: Vec<HeaderValue>,
    /// Served over TLS: tell browsers to use HTTPS only (`Strict-Transport-Security`).
    pub strict_transport_security: bool,
    pub rate_limits: RateLimits,
    /// `/metrics` on this listener too; off when an admin listener ([`admin_app`]) serves it.
    pub metrics: bool,
    /// A log line per request (`access_log`).
    pub access_log: bool,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            body_limit: 1024 * 1024,
            cors_origins: Vec::new(),
            strict_transport_security: false,
            rate_limits: RateLimits::default(),
            metrics: true,
            access_log: true,
        }
    }
}

pub use headers::parse_origin;
pub use limits::RateLimits;

/// The whole application: API, OpenAPI document, docs UI, health checks and the layers around them.
/// `pages` (the pages for people) answer every address the API does not; an unknown address under
/// one of the API's own prefixes is still the API's 404 problem.
pub fn app(state: AppState, config: &ApiConfig, pages: Option<Router>) -> Router {
    prometheus::install();
    let (api, openapi) = openapi::routes_and_document();
    let request_id = HeaderName::from_static("x-request-id");
    let routes = Router::new()
        .merge(api)
        .merge(SwaggerUi::new("/docs").url(OPENAPI_PATH, openapi));
    let routes = match pages {
        Some(pages) => API_PREFIXES
            .iter()
            .fold(routes, |routes, prefix| {
                routes.route(
                    &format!("{prefix}/{{*rest}}"),
                    axum::routing::any(not_found),
                )
            })
            .fallback_service(pages),
        None => routes.fallback(not_found),
    };
    routes
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn(routes::run_to_the_end))
        .layer(axum::middleware::from_fn(prometheus::track))
        .layer(axum::middleware::from_fn(with_request_id))
        .layer(tower::util::option_layer(
            (!config.metrics).then(|| axum::middleware::from_fn(prometheus::hide)),
        ))
        .with_state(Arc::new(state))
        .layer(axum::middleware::map_response(problem::ensure_problem))
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(CatchPanicLayer::custom(|_| {
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "an internal error occurred; it has been logged",
            )
            .into_response()
        }))
        .layer(axum::middleware::from_fn_with_state(
            limits::Limiter::new(config.rate_limits.clone()),
            limits::limit,
        ))
        // Inside the security headers, so that a preflight it answers carries them too.
        .layer(tower::util::option_layer(headers::cors(
            &config.cors_origins,
        )))
        .layer(axum::middleware::from_fn(headers::security_headers))
        .layer(tower::util::option_layer(
            config
                .strict_transport_security
                .then(|| axum::middleware::map_response(headers::strict_transport_security)),
        ))
        .layer(tower::util::option_layer(
            config
                .access_log
                .then(|| axum::middleware::from_fn(access_log::log_request)),
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ))
}

/// Serves a request with its id (`X-Request-Id`, set by an outer layer) known to the use cases,
/// which write it into their audit entries.
async fn with_request_id(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    fathom_service::REQUEST_ID
        .scope(id, next.run(request))
        .await
}

/// The admin listener's application: `/metrics` and the health checks, for an address that is not
/// public (`admin_listen`).
pub fn admin_app(state: AppState) -> Router {
    prometheus::install();
    Router::new()
        .route("/metrics", axum::routing::get(prometheus::metrics))
        .route("/healthz", axum::routing::get(routes::live))
        .route("/readyz", axum::routing::get(routes::ready))
        .fallback(not_found)
        .with_state(Arc::new(state))
}

/// Whether spans are exported (set once at start): only then does a request join its caller's trace.
static TRACES_EXPORTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Says that spans are exported, so that requests continue their callers' traces.
pub fn continue_callers_traces() {
    TRACES_EXPORTED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// The span of a request: every log line within it (security events among them) names the request
/// id; with traces exported, it continues the trace of the request's W3C `traceparent`, and its log
/// lines name the trace id too.
fn request_span(request: &axum::extract::Request) -> tracing::Span {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id,
        // Known once routed and authenticated (`prometheus::track`, `extract`).
        route = tracing::field::Empty,
        principal = tracing::field::Empty,
        trace_id = tracing::field::Empty,
    );
    // Without an exporter there is no trace to join or to name: nothing to do.
    if !TRACES_EXPORTED.load(std::sync::atomic::Ordering::Relaxed) {
        return span;
    }
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&TraceHeaders(request.headers()))
    });
    if span.set_parent(parent).is_ok() {
        use opentelemetry::trace::TraceContextExt;
        let trace_id = span.context().span().span_context().trace_id();
        if trace_id != opentelemetry::trace::TraceId::INVALID {
            span.record("trace_id", tracing::field::display(trace_id));
        }
    }
    span
}

/// A request's headers, as OpenTelemetry's propagators read them.
struct TraceHeaders<'a>(&'a axum::http::HeaderMap);

impl opentelemetry::propagation::Extractor for TraceHeaders<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|name| name.as_str()).collect()
    }
}

async fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "no resource at this address")
}

async fn method_not_allowed() -> Response {
    let mut response = Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "this method is not allowed on this resource",
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    /// The contract is committed (`docs/openapi.json`), so that every change of it is seen in
    /// review: this fails when the code's differs; `FATHOM_UPDATE_DOCS=1` writes it.
    #[test]
    fn the_committed_document_matches_the_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
        let generated = super::openapi().to_pretty_json().unwrap() + "\n";
        if std::env::var_os("FATHOM_UPDATE_DOCS").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/openapi.json differs from the code's document: run this test with FATHOM_UPDATE_DOCS=1 and review the change"
        );
    }
}
