//! `/api/v1/organisations`: the publishers of datasets.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use fathom_model::{Organisation, OrganisationInput};
use fathom_service::{PageRequest, Position, RecordKey};

use super::{create_once, created, record};
use crate::AppState;
use crate::extract::{Caller, IdempotencyKey, IfMatch, JsonBody};
use crate::pagination::{Cursor, Page, PageQuery, with_cursor};
use crate::problem::Problem;

pub(super) const PATH: &str = "/api/v1/organisations";

/// Lists organisations in creation order.
#[utoipa::path(get,
    operation_id = "organisations_list", path = "/api/v1/organisations", tag = "organisations", params(PageQuery), responses(
    (status = 200, description = "OK", body = Page<Organisation>),
    (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Query(query): Query<PageQuery>,
) -> Result<Page<Organisation>, Problem> {
    let (limit, after) = query.after_id()?;
    let after = after.map(Position::Id);
    let items = state
        .catalogue
        .organisations(PageRequest {
            after,
            limit: limit + 1,
        })
        .await?;
    let limit_text = limit.to_string();
    Ok(Page::from_fetched(
        items,
        limit,
        |o| Cursor::Id(o.id),
        |cursor| with_cursor(PATH, &[("limit", Some(&limit_text))], cursor),
    ))
}

/// Creates an organisation (admin). Honours `Idempotency-Key`.
#[utoipa::path(post,
    operation_id = "organisations_create", path = "/api/v1/organisations", tag = "organisations", request_body = OrganisationInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request safe")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Organisation, headers(("ETag" = String), ("Location" = String))),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role does not allow this", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Conflict with the current state", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    key: IdempotencyKey,
    body: JsonBody<OrganisationInput>,
) -> Result<Response, Problem> {
    let fingerprint: [&[u8]; 3] = [Method::POST.as_str().as_bytes(), PATH.as_bytes(), &body.raw];
    create_once(&state, &caller, key, &fingerprint, async {
        let organisation = state
            .catalogue
            .create_organisation(&caller, body.value)
            .await?;
        created(
            format!("{PATH}/{}", organisation.id),
            organisation.revision,
            &organisation,
        )
    })
    .await
}

/// Reads an organisation by id or slug.
#[utoipa::path(get,
    operation_id = "organisations_read", path = "/api/v1/organisations/{key}", tag = "organisations",
    params(("key" = String, Path, description = "Id or slug")),
    responses(
        (status = 200, description = "OK", body = Organisation, headers(("ETag" = String))),
        (status = 304, description = "`If-None-Match` names the current revision"),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn read(
    State(state): State<Arc<AppState>>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let organisation = state
        .catalogue
        .organisation(&RecordKey::parse(&key))
        .await?;
    Ok(record(&headers, organisation.revision, &organisation))
}

/// Replaces an organisation (admin). Requires `If-Match`; the slug cannot change.
#[utoipa::path(put,
    operation_id = "organisations_replace", path = "/api/v1/organisations/{key}", tag = "organisations", request_body = OrganisationInput,
    params(("key" = String, Path, description = "Id or slug"), ("If-Match" = String, Header, description = "The ETag read")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Organisation, headers(("ETag" = String))),
        (status = 412, description = "`If-Match` names a stale revision", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is required", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn replace(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(key): Path<String>,
    if_match: IfMatch,
    headers: HeaderMap,
    body: JsonBody<OrganisationInput>,
) -> Result<Response, Problem> {
    let key = RecordKey::parse(&key);
    let expected = if_match.required()?;
    let organisation = state
        .catalogue
        .replace_organisation(&caller, &key, expected, body.value)
        .await?;
    Ok(record(&headers, organisation.revision, &organisation))
}

/// Changes an organisation with a JSON Merge Patch (admin). Requires `If-Match`.
#[utoipa::path(patch,
    operation_id = "organisations_patch", path = "/api/v1/organisations/{key}", tag = "organisations",
    request_body(content = Object, content_type = "application/merge-patch+json"),
    params(("key" = String, Path, description = "Id or slug"), ("If-Match" = String, Header, description = "The ETag read")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Organisation, headers(("ETag" = String))),
        (status = 412, description = "`If-Match` names a stale revision", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is required", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn patch(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(key): Path<String>,
    if_match: IfMatch,
    headers: HeaderMap,
    body: JsonBody<serde_json::Value>,
) -> Result<Response, Problem> {
    let key = RecordKey::parse(&key);
    let expected = if_match.required()?;
    let organisation = state
        .catalogue
        .patch_organisation(&caller, &key, expected, &body.value)
        .await?;
    Ok(record(&headers, organisation.revision, &organisation))
}

/// Deletes an organisation that publishes no dataset (admin). `If-Match` is checked when given.
#[utoipa::path(delete,
    operation_id = "organisations_delete", path = "/api/v1/organisations/{key}", tag = "organisations",
    params(("key" = String, Path, description = "Id or slug"), ("If-Match" = Option<String>, Header, description = "The ETag read")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "Conflict with the current state", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names a stale revision", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(key): Path<String>,
    if_match: IfMatch,
) -> Result<StatusCode, Problem> {
    let key = RecordKey::parse(&key);
    state
        .catalogue
        .delete_organisation(&caller, &key, if_match.optional()?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
