//! Liveness and readiness, for orchestrators and load balancers.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use fathom_service::TargetReport;

use crate::AppState;
use crate::problem::Problem;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
    /// On `/readyz`: committed changes the search index has not applied yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_lag: Option<i64>,
    /// On `/readyz`: each event delivery target. A degraded target does not make the replica
    /// unready: it serves on, and events wait in the outbox.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<TargetReport>>,
}

/// The process is up and serving.
#[utoipa::path(get,
    operation_id = "health_live", path = "/healthz", tag = "health", responses((status = 200, description = "OK", body = Health)))]
pub async fn live() -> Json<Health> {
    Json(Health {
        status: "ok",
        search_lag: None,
        events: None,
    })
}

/// The process can serve requests: its database answers.
#[utoipa::path(get,
    operation_id = "health_ready", path = "/readyz", tag = "health", responses(
    (status = 200, description = "OK", body = Health),
    (status = 503, description = "The database does not answer", body = Problem, content_type = "application/problem+json"),
))]
pub async fn ready(State(state): State<Arc<AppState>>) -> Result<Json<Health>, Problem> {
    match state.catalogue.ping().await {
        Ok(()) => Ok(Json(Health {
            status: "ready",
            search_lag: state.search.lag().await.ok(),
            events: state.events.targets().await.ok(),
        })),
        Err(error) => {
            tracing::warn!(error = ?error, "not ready");
            Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database does not answer",
            ))
        }
    }
}
