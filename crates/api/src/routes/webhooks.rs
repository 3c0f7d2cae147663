//! `/api/v1/webhooks`: subscriptions that receive events by HTTPS POST (admins), and the events
//! each gave up on.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fathom_service::{DeadLetterView, ServiceError, WebhookInput, WebhookView};
use uuid::Uuid;

use crate::AppState;
use crate::extract::{Caller, JsonBody};
use crate::problem::Problem;

/// A subscription's id from the path: anything else names no subscription.
fn webhook_id(raw: &str) -> Result<Uuid, Problem> {
    Uuid::try_parse(raw).map_err(|_| ServiceError::NotFound("webhook").into())
}

/// Lists the subscriptions (admin); secrets are never shown.
#[utoipa::path(get, operation_id = "webhooks_list", path = "/api/v1/webhooks", tag = "events",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Vec<WebhookView>),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
) -> Result<Json<Vec<WebhookView>>, Problem> {
    Ok(Json(state.webhooks.list(&caller).await?))
}

/// Subscribes a URL to events (admin). The answer holds the signing secret, shown this once.
#[utoipa::path(post, operation_id = "webhooks_create", path = "/api/v1/webhooks", tag = "events",
    request_body = WebhookInput, security(("bearer" = [])),
    responses(
        (status = 201, description = "Subscribed; `secret` signs every delivery", body = WebhookView),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A URL that is not HTTP(S) or points at this server, an unknown event type or owner", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    body: JsonBody<WebhookInput>,
) -> Result<Response, Problem> {
    let made = state.webhooks.create(&caller, body.value).await?;
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

/// One subscription (admin).
#[utoipa::path(get, operation_id = "webhooks_read", path = "/api/v1/webhooks/{id}", tag = "events",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = WebhookView),
        (status = 404, description = "No such subscription", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn read(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<WebhookView>, Problem> {
    Ok(Json(state.webhooks.get(&caller, webhook_id(&id)?).await?))
}

/// Ends a subscription (admin), with its dead letters.
#[utoipa::path(delete, operation_id = "webhooks_delete", path = "/api/v1/webhooks/{id}", tag = "events",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such subscription", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    state.webhooks.delete(&caller, webhook_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The events a subscription gave up on after its attempts ran out (admin).
#[utoipa::path(get, operation_id = "webhooks_dead_letters", path = "/api/v1/webhooks/{id}/dead-letters", tag = "events",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Vec<DeadLetterView>),
        (status = 404, description = "No such subscription", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn dead_letters(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<DeadLetterView>>, Problem> {
    Ok(Json(
        state
            .webhooks
            .dead_letters(&caller, webhook_id(&id)?)
            .await?,
    ))
}

/// Sends a dead letter again, now (admin); on success it is no longer a dead letter.
#[utoipa::path(post, operation_id = "webhooks_redeliver", path = "/api/v1/webhooks/{id}/dead-letters/{seq}/redeliver", tag = "events",
    params(("id" = Uuid, Path), ("seq" = i64, Path)), security(("bearer" = [])),
    responses(
        (status = 204, description = "Delivered"),
        (status = 404, description = "No such subscription or dead letter", body = Problem, content_type = "application/problem+json"),
        (status = 410, description = "The event was pruned from the outbox", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The receiver failed again", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn redeliver(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path((id, seq)): Path<(String, String)>,
) -> Result<StatusCode, Problem> {
    let seq: i64 = seq
        .parse()
        .map_err(|_| Problem::from(ServiceError::NotFound("dead letter")))?;
    state
        .webhooks
        .redeliver(&caller, webhook_id(&id)?, seq)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
