//! `/api/v1/harvest-sources`: other catalogues to harvest (admins), and their jobs.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fathom_model::{HarvestJob, HarvestSource, HarvestSourceInput};

use crate::AppState;
use crate::extract::{Caller, JsonBody};
use crate::problem::Problem;

const PATH: &str = "/api/v1/harvest-sources";

/// Lists the harvest sources (admin).
#[utoipa::path(get, operation_id = "harvest_sources_list", path = "/api/v1/harvest-sources", tag = "standards",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Vec<HarvestSource>),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
) -> Result<Json<Vec<HarvestSource>>, Problem> {
    Ok(Json(state.harvesting.sources(&caller).await?))
}

/// Adds a harvest source (admin): an OAI-PMH repository or a DCAT catalogue, the organisation its
/// datasets go to, and optionally a schedule.
#[utoipa::path(post, operation_id = "harvest_sources_create", path = "/api/v1/harvest-sources", tag = "standards",
    request_body = HarvestSourceInput, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = HarvestSource, headers(("Location" = String))),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another source has this name", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    body: JsonBody<HarvestSourceInput>,
) -> Result<Response, Problem> {
    let source = state.harvesting.create_source(&caller, body.value).await?;
    let mut response = (StatusCode::CREATED, Json(&source)).into_response();
    if let Ok(location) = HeaderValue::try_from(format!("{PATH}/{}", source.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// One harvest source by id or name (admin).
#[utoipa::path(get, operation_id = "harvest_sources_read", path = "/api/v1/harvest-sources/{key}", tag = "standards",
    params(("key" = String, Path, description = "Id or name")), security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = HarvestSource),
        (status = 404, description = "No such source", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn read(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(key): Path<String>,
) -> Result<Json<HarvestSource>, Problem> {
    Ok(Json(state.harvesting.source(&caller, &key).await?))
}

/// Removes a harvest source and its jobs (admin); its datasets stay.
#[utoipa::path(delete, operation_id = "harvest_sources_delete", path = "/api/v1/harvest-sources/{key}", tag = "standards",
    params(("key" = String, Path, description = "Id or name")), security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such source", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(key): Path<String>,
) -> Result<StatusCode, Problem> {
    state.harvesting.delete_source(&caller, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A source's jobs, newest first (admin): counts, and the records that failed with why.
#[utoipa::path(get, operation_id = "harvest_jobs_list", path = "/api/v1/harvest-sources/{key}/jobs", tag = "standards",
    params(("key" = String, Path, description = "Id or name")), security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Vec<HarvestJob>),
        (status = 404, description = "No such source", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn jobs(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(key): Path<String>,
) -> Result<Json<Vec<HarvestJob>>, Problem> {
    Ok(Json(state.harvesting.jobs(&caller, &key).await?))
}

/// Starts a job now (admin); it runs in the background, and its progress is in the jobs list.
#[utoipa::path(post, operation_id = "harvest_jobs_start", path = "/api/v1/harvest-sources/{key}/jobs", tag = "standards",
    params(("key" = String, Path, description = "Id or name")), security(("bearer" = [])),
    responses(
        (status = 202, description = "Started", body = HarvestJob),
        (status = 404, description = "No such source", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A job of this source is running", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn start(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(key): Path<String>,
) -> Result<Response, Problem> {
    let job = state.harvesting.start(&caller, &key).await?;
    Ok((StatusCode::ACCEPTED, Json(job)).into_response())
}
