//! The HTTP API, `/api/v1`: routing, request parsing and response shaping. Every decision about data
//! and permission is the service layer's; this crate only translates HTTP to use cases and back.

mod access_log;
mod extract;
mod headers;
mod limits;
mod negotiate;
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
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

pub use fathom_formats::Site;
pub use problem::{PROBLEM_JSON, Problem};

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

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Fathom API",
        description = "The catalogue of datasets of maritime research. Errors are RFC 9457 problem documents; lists are keyset-paginated; writes need a bearer token.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    modifiers(&BearerAuth),
    components(schemas(Problem)),
    tags(
        (name = "organisations", description = "Publishers of datasets"),
        (name = "datasets", description = "Datasets, their distributions and their history"),
        (name = "domain model", description = "Data domains, projects, campaigns, platforms, instruments and observed properties: `/api/v1/domains`, `/api/v1/projects`, `/api/v1/campaigns`, `/api/v1/platforms`, `/api/v1/instruments`, `/api/v1/observed-properties`"),
        (name = "profiles", description = "Metadata profiles: versioned JSON Schema documents datasets conform to"),
        (name = "vocabularies", description = "Controlled vocabularies: SKOS concept schemes, their concepts, autocomplete"),
        (name = "search", description = "Full-text, faceted, spatial and temporal search"),
        (name = "security", description = "The security policy of labels"),
        (name = "sharing", description = "Data sharing workflows: access requests and their approval chains, grants, the inbox, the audit log"),
        (name = "ogcapi", description = "OGC API - Records, Part 1"),
        (name = "standards", description = "The catalogue in the standards of other catalogues: DCAT-AP, ISO 19139, OAI-PMH; imports"),
        (name = "events", description = "The contract of the events sent to brokers (AsyncAPI)"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
struct ApiDoc;

struct BearerAuth;

/// Every operation lists the statuses the layers around it and its kind of input can answer
/// with, besides its own: any request may be refused as a bad request (400), for a bad token
/// (401), a rate limit (429) or a fault (500); one with a body for its size (413), media type
/// (415) or fields (422); one behind a token for the caller's permission (403); one with a path
/// parameter for a record not found (404); one with `If-Match` for a stale (412) or missing (428)
/// revision. Each is a problem document.
struct LayerResponses;

impl utoipa::Modify for LayerResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let problem = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        PROBLEM_JSON,
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build(),
            )
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
            ];
            for operation in operations.into_iter().flatten() {
                let parameters: Vec<_> = operation
                    .parameters
                    .iter()
                    .flatten()
                    .filter_map(|p| match p {
                        RefOr::T(p) => Some((p.parameter_in.clone(), p.name.to_ascii_lowercase())),
                        RefOr::Ref(_) => None,
                    })
                    .collect();
                let has = |place: ParameterIn| parameters.iter().any(|(p, _)| *p == place);
                let mut statuses = vec![
                    ("400", "The request cannot be read"),
                    ("401", "The bearer token is unknown, expired or revoked"),
                    ("429", "Over a rate limit"),
                    ("500", "A fault of the server"),
                ];
                if operation.request_body.is_some() {
                    statuses.extend([
                        ("413", "The body is too large"),
                        ("415", "The body's media type is not read here"),
                        ("422", "Invalid fields"),
                    ]);
                }
                if operation.security.is_some() {
                    statuses.push(("403", "The caller may not do this"));
                }
                if has(ParameterIn::Path) {
                    statuses.push(("404", "Not found, or not visible to the caller"));
                }
                if parameters.iter().any(|(_, name)| name == "if-match") {
                    statuses.extend([
                        ("412", "`If-Match` names a stale revision"),
                        ("428", "`If-Match` is required"),
                    ]);
                }
                for (status, description) in statuses {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| problem(description));
                }
            }
        }
    }
}

/// The `Problem` schema's `type` names its values: every code of the one table, with the table in
/// its description.
struct ProblemTypes;

impl utoipa::Modify for ProblemTypes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::schema::{Object, Schema, Type};
        use utoipa::openapi::{RefOr, schema::ObjectBuilder};
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let Some(RefOr::T(Schema::Object(problem))) = components.schemas.get_mut("Problem") else {
            return;
        };
        let types: Vec<String> = fathom_service::Code::ALL.iter().map(|c| c.uri()).collect();
        let kind: Object = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(types))
            .description(Some(format!(
                "The kind of problem: one `type` per kind of failure, stable for clients to branch on.\n\n{}",
                fathom_service::Code::markdown_table()
            )))
            .build();
        problem
            .properties
            .insert("type".to_owned(), RefOr::T(Schema::Object(kind)));
    }
}

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
        }
    }
}

/// The OpenAPI document of the API, as served at [`OPENAPI_PATH`].
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes_and_document().1
}

/// The routes and their OpenAPI document, completed with the statuses of the layers around them
/// (which know no route, so they are added once the routes are in).
fn routes_and_document() -> (Router<Arc<AppState>>, utoipa::openapi::OpenApi) {
    let (routes, mut document) = routes::router(ApiDoc::openapi()).split_for_parts();
    utoipa::Modify::modify(&LayerResponses, &mut document);
    utoipa::Modify::modify(&negotiate::OfferedFormats, &mut document);
    // After the routes too, which bring their own copy of the `Problem` schema.
    utoipa::Modify::modify(&ProblemTypes, &mut document);
    (routes, document)
}

/// The whole application: API, OpenAPI document, docs UI, health checks and the layers around them.
pub fn app(state: AppState, config: &ApiConfig) -> Router {
    prometheus::install();
    let (api, openapi) = routes_and_document();
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(api)
        .merge(SwaggerUi::new("/docs").url(OPENAPI_PATH, openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
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
