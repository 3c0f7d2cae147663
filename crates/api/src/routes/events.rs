//! The events' contract for consumers.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::Value;

use crate::AppState;

/// The AsyncAPI 3.0 document of the events published to RabbitMQ and NATS JetStream.
#[utoipa::path(get, operation_id = "asyncapi", path = "/api/v1/asyncapi.json", tag = "events",
    responses((status = 200, description = "AsyncAPI 3.0 document", body = Object)))]
pub async fn asyncapi(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(state.events.asyncapi().clone())
}
