//! The access log: one line per request, in the request's span (so with its request id), saying
//! its method, route template, status and duration. Health checks log at `debug`, the rest at
//! `info`.

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// The route template a request matched, left on its response (by `prometheus::track`) for the
/// access log, which runs outside the router so that it also sees the answers of the layers around
/// it.
#[derive(Debug, Clone)]
pub struct RouteTemplate(pub String);

/// Writes the request's line once it is answered.
pub async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    let route = response
        .extensions()
        .get::<RouteTemplate>()
        .map_or("unmatched", |route| route.0.as_str());
    let status = response.status().as_u16();
    let duration_ms = started.elapsed().as_secs_f64() * 1000.0;
    if matches!(route, "/healthz" | "/readyz") {
        tracing::debug!(target: "fathom::access", %method, route, status, duration_ms, "request");
    } else {
        tracing::info!(target: "fathom::access", %method, route, status, duration_ms, "request");
    }
    response
}
