//! Prometheus metrics at `/metrics`: requests by route template, method and status class (count and
//! latency), requests in flight, the database's pools and operation latency, the search index's lag
//! and size, the outbox's backlog per event target, build information. Labels are
//! low-cardinality by construction: a route template, never a path or a user.

use std::sync::Arc;
use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::AppState;

/// Seconds: from half a millisecond to ten seconds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Seconds: from 50 µs (a point read on SQLite) to five seconds.
const DB_BUCKETS: [f64; 14] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 5.0,
];

/// How often the observed latencies are drained into the histograms' buckets.
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The process's recorder, installed once (several apps in one process share it, as tests do).
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("fathom_http_request_duration_seconds".into()),
                &LATENCY_BUCKETS,
            )
            .and_then(|builder| {
                builder.set_buckets_for_metric(
                    Matcher::Full(fathom_service::DB_OPERATION_SECONDS.into()),
                    &DB_BUCKETS,
                )
            })
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        // Another recorder already installed (by an embedding program) keeps its place.
        let _ = metrics::set_global_recorder(recorder);
        // The recorder keeps every latency observed until its histograms are drained, which a
        // scrape of `/metrics` does; unscraped, a server under load grew by megabytes a minute.
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                }
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "cannot start the metrics' upkeep: they grow until scraped");
        }
        metrics::gauge!("fathom_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        handle
    })
}

/// Installs the recorder, so that metrics recorded before the first scrape are kept.
pub fn install() {
    handle();
}

/// Counts and times every request by its route template, and names the template in the request's
/// span and on its response (for the access log).
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    tracing::Span::current().record("route", route.as_str());
    let method = request.method().as_str().to_owned();
    let in_flight = metrics::gauge!("fathom_http_requests_in_flight");
    in_flight.increment(1.0);
    let started = Instant::now();
    let mut response = next.run(request).await;
    in_flight.decrement(1.0);
    let status = match response.status().as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    metrics::histogram!("fathom_http_request_duration_seconds", "route" => route.clone(), "method" => method.clone())
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("fathom_http_requests_total", "route" => route.clone(), "method" => method, "status" => status)
        .increment(1);
    response
        .extensions_mut()
        .insert(crate::access_log::RouteTemplate(route));
    response
}

/// Answers `/metrics` as an address with nothing at it, on a listener that does not serve metrics.
pub async fn hide(request: Request, next: Next) -> Response {
    if request.uri().path() == "/metrics" {
        return crate::problem::Problem::new(
            axum::http::StatusCode::NOT_FOUND,
            "no resource at this address",
        )
        .into_response();
    }
    next.run(request).await
}

/// The metrics in the Prometheus text format.
#[utoipa::path(get, operation_id = "metrics", path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    if let Ok(lag) = state.search.lag().await {
        metrics::gauge!("fathom_search_lag_changes").set(lag as f64);
    }
    metrics::gauge!("fathom_search_documents").set(state.search.documents() as f64);
    for pool in state.catalogue.database_pools() {
        let busy = (pool.size as usize).saturating_sub(pool.idle);
        metrics::gauge!("fathom_db_pool_connections", "pool" => pool.pool, "state" => "busy")
            .set(busy as f64);
        metrics::gauge!("fathom_db_pool_connections", "pool" => pool.pool, "state" => "idle")
            .set(pool.idle as f64);
    }
    for target in state.events.targets().await.unwrap_or_default() {
        metrics::gauge!("fathom_outbox_pending_events", "target" => target.target.clone())
            .set(target.pending as f64);
        metrics::gauge!("fathom_outbox_oldest_pending_seconds", "target" => target.target)
            .set(target.oldest_pending_seconds.unwrap_or(0.0));
    }
    let mut response = handle().render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    response
}
