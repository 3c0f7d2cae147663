//! The domain model's collections: `/api/v1/domains`, `/api/v1/projects`, `/api/v1/campaigns`,
//! `/api/v1/platforms`, `/api/v1/instruments` and `/api/v1/observed-properties`. One set of handlers
//! serves them all, each learning its kind of entity from the route it was reached by; the
//! OpenAPI document describes each collection's paths, made from the one template.

use std::sync::Arc;

use axum::extract::{FromRequestParts, MatchedPath, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::routing::get;
use fathom_model::{Entity, EntityKind};
use fathom_service::{PageRequest, Position, RecordKey, Revision, RevisionDiff};
use utoipa::openapi::{OpenApi, RefOr};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{create_once, created, record};
use crate::AppState;
use crate::extract::{Caller, IdempotencyKey, IfMatch, JsonBody};
use crate::pagination::{Cursor, Page, PageQuery, with_cursor};
use crate::problem::Problem;

/// What the template's paths begin with; each collection's paths replace `{collection}`.
const TEMPLATE: &str = "/api/v1/{collection}";

/// Adds every collection's routes to `router`, and their paths to its OpenAPI document.
pub fn add(mut router: OpenApiRouter<Arc<AppState>>) -> OpenApiRouter<Arc<AppState>> {
    let (_, template) = OpenApiRouter::<Arc<AppState>>::new()
        .routes(routes!(list, create))
        .routes(routes!(read, replace, patch, delete))
        .routes(routes!(revisions))
        .routes(routes!(revision))
        .routes(routes!(revision_diff))
        .split_for_parts();
    for kind in EntityKind::ALL {
        let base = format!("/api/v1/{}", kind.collection());
        router = router
            .route(&base, get(list).post(create))
            .route(
                &format!("{base}/{{key}}"),
                get(read).put(replace).patch(patch).delete(delete),
            )
            .route(&format!("{base}/{{key}}/revisions"), get(revisions))
            .route(
                &format!("{base}/{{key}}/revisions/{{revision}}"),
                get(revision),
            )
            .route(
                &format!("{base}/{{key}}/revisions/{{revision}}/diff/{{other}}"),
                get(revision_diff),
            );
        router
            .get_openapi_mut()
            .merge(collection_paths(&template, kind));
    }
    router
}

/// The template's paths and operations for one collection: its path, its operation ids, no
/// `collection` parameter.
fn collection_paths(template: &OpenApi, kind: EntityKind) -> OpenApi {
    let mut document = template.clone();
    let prefix = kind.collection().replace('-', "_");
    document.paths.paths = template
        .paths
        .paths
        .iter()
        .map(|(path, item)| {
            let mut item = item.clone();
            for operation in crate::openapi::operations_mut(&mut item) {
                operation.operation_id = operation
                    .operation_id
                    .as_deref()
                    .map(|id| id.replacen("entities", &prefix, 1));
                if let Some(parameters) = operation.parameters.as_mut() {
                    parameters.retain(
                        |parameter| !matches!(parameter, RefOr::T(p) if p.name == "collection"),
                    );
                }
            }
            (
                path.replacen(TEMPLATE, &format!("/api/v1/{}", kind.collection()), 1),
                item,
            )
        })
        .collect();
    document
}

/// The kind of entity a request is about, from the route it matched (`/api/v1/platforms/…`).
#[derive(Debug, Clone, Copy)]
pub struct Kind(EntityKind);

impl<S: Send + Sync> FromRequestParts<S> for Kind {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        parts
            .extensions
            .get::<MatchedPath>()
            .and_then(|matched| matched.as_str().strip_prefix("/api/v1/"))
            .and_then(|rest| rest.split('/').next())
            .and_then(EntityKind::from_collection)
            .map(Kind)
            .ok_or_else(|| {
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "a route of the domain model without its collection",
                )
            })
    }
}

/// Lists the collection's entities in creation order.
#[utoipa::path(get,
    operation_id = "entities_list", path = "/api/v1/{collection}", tag = "domain model", params(PageQuery), responses(
    (status = 200, description = "OK", body = Page<Entity>),
    (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Kind(kind): Kind,
    Query(query): Query<PageQuery>,
) -> Result<Page<Entity>, Problem> {
    let (limit, after) = query.after_id()?;
    let page = PageRequest {
        after: after.map(Position::Id),
        limit: limit + 1,
    };
    let items = state.catalogue.entities(kind, page).await?;
    let path = format!("/api/v1/{}", kind.collection());
    let limit_text = limit.to_string();
    Ok(Page::from_fetched(
        items,
        limit,
        |e| Cursor::Id(e.id),
        |cursor| with_cursor(&path, &[("limit", Some(&limit_text))], cursor),
    ))
}

/// Creates an entity (an editor; data domains: an admin). `type`, if sent, must be the
/// collection's. Honours `Idempotency-Key`.
#[utoipa::path(post,
    operation_id = "entities_create", path = "/api/v1/{collection}", tag = "domain model", request_body = Entity,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request safe")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Entity, headers(("ETag" = String), ("Location" = String))),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role does not allow this", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another entity of the collection has the slug", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or references to entities that do not exist", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Kind(kind): Kind,
    Caller(caller): Caller,
    key: IdempotencyKey,
    body: JsonBody<serde_json::Value>,
) -> Result<Response, Problem> {
    let path = format!("/api/v1/{}", kind.collection());
    let fingerprint: [&[u8]; 3] = [Method::POST.as_str().as_bytes(), path.as_bytes(), &body.raw];
    create_once(&state, &caller, key, &fingerprint, async {
        let entity = state
            .catalogue
            .create_entity(&caller, kind, body.value)
            .await?;
        created(format!("{path}/{}", entity.id), entity.revision, &entity)
    })
    .await
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReadQuery {
    /// An RFC 3339 instant or a date: the entity as it was then (with `Content-Location` naming
    /// the revision).
    as_of: Option<String>,
}

/// Reads an entity by id or slug, as it is or as it was (`as_of`).
#[utoipa::path(get,
    operation_id = "entities_read", path = "/api/v1/{collection}/{key}", tag = "domain model",
    params(("key" = String, Path, description = "Id or slug"), ReadQuery),
    responses(
        (status = 200, description = "OK", body = Entity, headers(("ETag" = String))),
        (status = 304, description = "`If-None-Match` names the current revision"),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn read(
    State(state): State<Arc<AppState>>,
    Kind(kind): Kind,
    Path(key): Path<String>,
    Query(query): Query<ReadQuery>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let key = RecordKey::parse(&key);
    if let Some(at) = query.as_of.as_deref() {
        let revision = state
            .catalogue
            .entity_as_of(kind, &key, super::parse_as_of(at)?)
            .await?;
        return Ok(super::as_of(
            &format!("/api/v1/{}", kind.collection()),
            &revision,
        ));
    }
    let entity = state.catalogue.entity(kind, &key).await?;
    Ok(record(&headers, entity.revision, &entity))
}

/// Replaces an entity. Requires `If-Match`; the slug cannot change.
#[utoipa::path(put,
    operation_id = "entities_replace", path = "/api/v1/{collection}/{key}", tag = "domain model", request_body = Entity,
    params(("key" = String, Path, description = "Id or slug"), ("If-Match" = String, Header, description = "The ETag read")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Entity, headers(("ETag" = String))),
        (status = 412, description = "`If-Match` names a stale revision", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is required", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn replace(
    State(state): State<Arc<AppState>>,
    Kind(kind): Kind,
    Caller(caller): Caller,
    Path(key): Path<String>,
    if_match: IfMatch,
    headers: HeaderMap,
    body: JsonBody<serde_json::Value>,
) -> Result<Response, Problem> {
    let expected = if_match.required()?;
    let entity = state
        .catalogue
        .replace_entity(&caller, kind, &RecordKey::parse(&key), expected, body.value)
        .await?;
    Ok(record(&headers, entity.revision, &entity))
}

/// Changes an entity with a JSON Merge Patch. Requires `If-Match`.
#[utoipa::path(patch,
    operation_id = "entities_patch", path = "/api/v1/{collection}/{key}", tag = "domain model",
    request_body(content = Object, content_type = "application/merge-patch+json"),
    params(("key" = String, Path, description = "Id or slug"), ("If-Match" = String, Header, description = "The ETag read")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Entity, headers(("ETag" = String))),
        (status = 412, description = "`If-Match` names a stale revision", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is required", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn patch(
    State(state): State<Arc<AppState>>,
    Kind(kind): Kind,
    Caller(caller): Caller,
    Path(key): Path<String>,
    if_match: IfMatch,
    headers: HeaderMap,
    body: JsonBody<serde_json::Value>,
) -> Result<Response, Problem> {
    let expected = if_match.required()?;
    let entity = state
        .catalogue
        .patch_entity(
            &caller,
            kind,
            &RecordKey::parse(&key),
            expected,
            &body.value,
        )
        .await?;
    Ok(record(&headers, entity.revision, &entity))
}

/// Deletes an entity that nothing refers to. `If-Match` is checked when given.
#[utoipa::path(delete,
    operation_id = "entities_delete", path = "/api/v1/{collection}/{key}", tag = "domain model",
    params(("key" = String, Path, description = "Id or slug"), ("If-Match" = Option<String>, Header, description = "The ETag read")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "Datasets or other entities still refer to it", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names a stale revision", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Kind(kind): Kind,
    Caller(caller): Caller,
    Path(key): Path<String>,
    if_match: IfMatch,
) -> Result<StatusCode, Problem> {
    state
        .catalogue
        .delete_entity(&caller, kind, &RecordKey::parse(&key), if_match.optional()?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lists the revisions of an entity, oldest first, without snapshots. A deleted entity's history
/// is listed by its id.
#[utoipa::path(get,
    operation_id = "entities_revisions", path = "/api/v1/{collection}/{key}/revisions", tag = "domain model",
    params(("key" = String, Path, description = "Id or slug"), PageQuery),
    responses(
        (status = 200, description = "OK", body = Page<Revision>),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revisions(
    State(state): State<Arc<AppState>>,
    Kind(kind): Kind,
    Path(key): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Page<Revision>, Problem> {
    let (limit, after) = query.after_number()?;
    let items = state
        .catalogue
        .entity_revisions(kind, &RecordKey::parse(&key), after, limit + 1)
        .await?;
    let path = format!("/api/v1/{}/{key}/revisions", kind.collection());
    let limit_text = limit.to_string();
    Ok(Page::from_fetched(
        items,
        limit,
        |r| Cursor::Number(r.revision),
        |cursor| with_cursor(&path, &[("limit", Some(&limit_text))], cursor),
    ))
}

/// Reads one revision of an entity with the full record as it was (`snapshot`).
#[utoipa::path(get,
    operation_id = "entities_revision", path = "/api/v1/{collection}/{key}/revisions/{revision}", tag = "domain model",
    params(("key" = String, Path, description = "Id or slug"), ("revision" = i64, Path)),
    responses(
        (status = 200, description = "OK", body = Revision),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revision(
    State(state): State<Arc<AppState>>,
    Kind(kind): Kind,
    Path((key, revision)): Path<(String, i64)>,
) -> Result<axum::Json<Revision>, Problem> {
    Ok(axum::Json(
        state
            .catalogue
            .entity_revision(kind, &RecordKey::parse(&key), revision)
            .await?,
    ))
}

/// What changed from one revision of an entity to another (fields and a JSON Patch).
#[utoipa::path(get,
    operation_id = "entities_revision_diff", path = "/api/v1/{collection}/{key}/revisions/{revision}/diff/{other}", tag = "domain model",
    params(("key" = String, Path, description = "Id or slug"), ("revision" = i64, Path), ("other" = i64, Path)),
    responses(
        (status = 200, description = "OK", body = RevisionDiff),
        (status = 404, description = "No such record or revision", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revision_diff(
    State(state): State<Arc<AppState>>,
    Kind(kind): Kind,
    Path((key, from, to)): Path<(String, i64, i64)>,
) -> Result<axum::Json<RevisionDiff>, Problem> {
    Ok(axum::Json(
        state
            .catalogue
            .entity_revision_diff(kind, &RecordKey::parse(&key), from, to)
            .await?,
    ))
}
