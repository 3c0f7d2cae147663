//! `/api/v1/datasets`: datasets, their distributions and their revisions.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use fathom_model::values::parse_instant;
use fathom_model::{Dataset, DatasetInput, Distribution, DistributionInput};
use fathom_service::{
    DatasetFilter, Lineage, PageRequest, Position, RecordJson, RecordKey, Revision, RevisionDiff,
    VersionEntry, Walk,
};
use serde::Deserialize;
use serde_json::value::RawValue;
use uuid::Uuid;

use super::{create_once, created, record};
use crate::AppState;
use crate::extract::{Caller, IdempotencyKey, IfMatch, JsonBody, Reader};
use crate::negotiate;
use crate::pagination::{Cursor, Page, PageQuery, parse_limit, with_cursor};
use crate::problem::Problem;
use fathom_formats::Writer;

pub(super) const PATH: &str = "/api/v1/datasets";

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size, 1 to 1000 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// Opaque; from the previous page's `next`.
    cursor: Option<String>,
    /// The slug of the publishing organisation.
    organisation: Option<String>,
    /// A keyword, matched case-insensitively.
    keyword: Option<String>,
    /// Only datasets changed at or after this instant (RFC 3339 or `YYYY-MM-DD`).
    modified_since: Option<String>,
}

/// Lists datasets in creation order, optionally filtered.
#[utoipa::path(get,
    operation_id = "datasets_list", path = "/api/v1/datasets", tag = "datasets", params(ListQuery), responses(
    (status = 200, description = "OK", body = Page<Dataset>, headers(("Link" = String, description = "`rel=\"next\"`"))),
    (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    reader: Reader,
    Query(query): Query<ListQuery>,
) -> Result<Page<Box<RawValue>>, Problem> {
    let limit = parse_limit(query.limit.as_deref())?;
    let modified_since = query
        .modified_since
        .as_deref()
        .map(|raw| {
            parse_instant(raw).map_err(|message| Problem::bad_parameter("modified_since", message))
        })
        .transpose()?;
    // A list of changes (`modified_since`) is in order of change; any other in order of creation.
    let after = match (
        query.cursor.as_deref().map(Cursor::decode).transpose()?,
        modified_since,
    ) {
        (None, _) => None,
        (Some(Cursor::Id(id)), None) => Some(Position::Id(id)),
        (Some(Cursor::Modified(at, id)), Some(_)) => Some(Position::Modified(at, id)),
        _ => return Err(Problem::bad_parameter("cursor", "belongs to another list")),
    };
    let filter = DatasetFilter {
        organisation: query.organisation.clone(),
        keyword: query.keyword.clone(),
        modified_since,
        // The catalogue adds what the reader may see.
        readable: None,
    };
    let page = PageRequest {
        after,
        limit: limit + 1,
    };
    let items = state
        .catalogue
        .datasets_json(reader.principal(), &filter, page)
        .await?;
    let limit_text = limit.to_string();
    let params = [
        ("limit", Some(limit_text.as_str())),
        ("organisation", query.organisation.as_deref()),
        ("keyword", query.keyword.as_deref()),
        ("modified_since", query.modified_since.as_deref()),
    ];
    let cursor_of = |record: &RecordJson| match modified_since {
        Some(_) => Cursor::Modified(record.updated_at, record.id),
        None => Cursor::Id(record.id),
    };
    // The stored JSON is served as it is: no decoding and re-encoding per record.
    let page = Page::from_fetched(items, limit, cursor_of, |cursor| {
        with_cursor(PATH, &params, cursor)
    });
    Ok(page.map(|record| record.json))
}

/// Creates a dataset (editor). The slug is derived from the title when not given. Honours
/// `Idempotency-Key`.
#[utoipa::path(post,
    operation_id = "datasets_create", path = "/api/v1/datasets", tag = "datasets", request_body = DatasetInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request safe")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Dataset, headers(("ETag" = String), ("Location" = String))),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Conflict with the current state", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    key: IdempotencyKey,
    body: JsonBody<DatasetInput>,
) -> Result<Response, Problem> {
    let fingerprint: [&[u8]; 3] = [Method::POST.as_str().as_bytes(), PATH.as_bytes(), &body.raw];
    create_once(&state, &caller, key, &fingerprint, async {
        let dataset = state.catalogue.create_dataset(&caller, body.value).await?;
        created(format!("{PATH}/{}", dataset.id), dataset.revision, &dataset)
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReadQuery {
    /// The format's name: `json`, DCAT-AP as `ttl`, `jsonld`, `rdf` or `nt`, `iso19139`,
    /// `schemaorg` (schema.org JSON-LD), `dcterms` (DCMI terms XML), `dcterms-json`, `oai_dc`
    /// (unqualified Dublin Core); overrides `Accept`.
    format: Option<String>,
    /// An RFC 3339 instant or a date: the dataset's JSON as it was then (with `Content-Location`
    /// naming the revision); `format`, if given, must then be `json`.
    as_of: Option<String>,
}

/// Reads a dataset by id or slug: its JSON, or another format when `Accept` or `format` asks for it:
/// DCAT-AP 3.0 RDF (`text/turtle`, `application/ld+json`, `application/rdf+xml`,
/// `application/n-triples`), ISO 19139 (`application/vnd.iso.19139+xml`), DCMI terms
/// (`application/xml`), and by `format` alone schema.org, DCMI terms in JSON and `oai_dc`.
#[utoipa::path(get,
    operation_id = "datasets_read", path = "/api/v1/datasets/{key}", tag = "datasets",
    params(("key" = String, Path, description = "Id or slug"), ReadQuery),
    responses(
        (status = 200, description = "OK", headers(("ETag" = String, description = "JSON only")), content(
            (Dataset = "application/json"))),
        (status = 304, description = "`If-None-Match` names the current revision"),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "No offered representation is acceptable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn read(
    State(state): State<Arc<AppState>>,
    reader: Reader,
    Path(key): Path<String>,
    Query(query): Query<ReadQuery>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let key = RecordKey::parse(&key);
    if let Some(at) = query.as_of.as_deref() {
        if query.format.as_deref().is_some_and(|name| name != "json") {
            return Err(Problem::bad_parameter(
                "format",
                "a dataset as it was (`as_of`) is read as its JSON only",
            ));
        }
        let revision = state
            .catalogue
            .dataset_as_of(reader.principal(), &key, super::parse_as_of(at)?)
            .await?;
        return Ok(super::as_of(PATH, &revision));
    }
    let format = negotiate::choose(negotiate::record(), query.format.as_deref(), &headers)?;
    match format.writer {
        Writer::Native => {
            let dataset = state
                .catalogue
                .dataset_json(reader.principal(), &key)
                .await?;
            let mut response = record(&headers, dataset.revision, &dataset.json);
            response
                .headers_mut()
                .insert(header::VARY, HeaderValue::from_static("accept"));
            Ok(response)
        }
        _ => super::catalog::dataset(&state, reader.principal(), &key, format).await,
    }
}

/// Replaces a dataset (editor). Requires `If-Match`. Without a `slug` the current one is kept.
#[utoipa::path(put,
    operation_id = "datasets_replace", path = "/api/v1/datasets/{key}", tag = "datasets", request_body = DatasetInput,
    params(("key" = String, Path, description = "Id or slug"), ("If-Match" = String, Header, description = "The ETag read")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Dataset, headers(("ETag" = String))),
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
    body: JsonBody<DatasetInput>,
) -> Result<Response, Problem> {
    let key = RecordKey::parse(&key);
    let expected = if_match.required()?;
    let dataset = state
        .catalogue
        .replace_dataset(&caller, &key, expected, body.value)
        .await?;
    Ok(record(&headers, dataset.revision, &dataset))
}

/// Changes a dataset with a JSON Merge Patch (RFC 7396; editor). Requires `If-Match`.
#[utoipa::path(patch,
    operation_id = "datasets_patch", path = "/api/v1/datasets/{key}", tag = "datasets",
    request_body(content = Object, content_type = "application/merge-patch+json"),
    params(("key" = String, Path, description = "Id or slug"), ("If-Match" = String, Header, description = "The ETag read")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Dataset, headers(("ETag" = String))),
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
    let dataset = state
        .catalogue
        .patch_dataset(&caller, &key, expected, &body.value)
        .await?;
    Ok(record(&headers, dataset.revision, &dataset))
}

/// Deletes a dataset (editor); its revisions stay readable by id. `If-Match` is checked when given.
#[utoipa::path(delete,
    operation_id = "datasets_delete", path = "/api/v1/datasets/{key}", tag = "datasets",
    params(("key" = String, Path, description = "Id or slug"), ("If-Match" = Option<String>, Header, description = "The ETag read")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names a stale revision", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(key): Path<String>,
    if_match: IfMatch,
) -> Result<StatusCode, Problem> {
    state
        .catalogue
        .delete_dataset(&caller, &RecordKey::parse(&key), if_match.optional()?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lists the revisions of a dataset, oldest first, without snapshots. A deleted dataset's history
/// is listed by its id.
#[utoipa::path(get,
    operation_id = "datasets_revisions", path = "/api/v1/datasets/{key}/revisions", tag = "datasets",
    params(("key" = String, Path, description = "Id or slug"), PageQuery),
    responses(
        (status = 200, description = "OK", body = Page<Revision>),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revisions(
    State(state): State<Arc<AppState>>,
    reader: Reader,
    Path(key): Path<String>,
    Query(query): Query<PageQuery>,
) -> Result<Page<Revision>, Problem> {
    let (limit, after) = query.after_number()?;
    let items = state
        .catalogue
        .dataset_revisions(
            reader.principal(),
            &RecordKey::parse(&key),
            after,
            limit + 1,
        )
        .await?;
    let path = format!("{PATH}/{key}/revisions");
    let limit_text = limit.to_string();
    Ok(Page::from_fetched(
        items,
        limit,
        |r| Cursor::Number(r.revision),
        |cursor| with_cursor(&path, &[("limit", Some(&limit_text))], cursor),
    ))
}

/// Reads one revision of a dataset with the full record as it was (`snapshot`).
#[utoipa::path(get,
    operation_id = "datasets_revision", path = "/api/v1/datasets/{key}/revisions/{revision}", tag = "datasets",
    params(("key" = String, Path, description = "Id or slug"), ("revision" = i64, Path)),
    responses(
        (status = 200, description = "OK", body = Revision),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revision(
    State(state): State<Arc<AppState>>,
    reader: Reader,
    Path((key, revision)): Path<(String, i64)>,
) -> Result<axum::Json<Revision>, Problem> {
    Ok(axum::Json(
        state
            .catalogue
            .dataset_revision(reader.principal(), &RecordKey::parse(&key), revision)
            .await?,
    ))
}

/// What changed from one revision of a dataset to another: the top-level fields added, updated and
/// deleted, and a JSON Patch (RFC 6902).
#[utoipa::path(get,
    operation_id = "datasets_revision_diff", path = "/api/v1/datasets/{key}/revisions/{revision}/diff/{other}", tag = "datasets",
    params(("key" = String, Path, description = "Id or slug"), ("revision" = i64, Path), ("other" = i64, Path)),
    responses(
        (status = 200, description = "OK", body = RevisionDiff),
        (status = 404, description = "No such record or revision", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revision_diff(
    State(state): State<Arc<AppState>>,
    reader: Reader,
    Path((key, from, to)): Path<(String, i64, i64)>,
) -> Result<axum::Json<RevisionDiff>, Problem> {
    Ok(axum::Json(
        state
            .catalogue
            .dataset_revision_diff(reader.principal(), &RecordKey::parse(&key), from, to)
            .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LineageQuery {
    /// `upstream` (what it was derived from), `downstream` (what was derived from it) or `both`
    /// (the default).
    #[param(pattern = "^(upstream|downstream|both)$")]
    direction: Option<String>,
    /// How many derivations to follow, 1 to 20 (default 5).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 20)]
    depth: Option<String>,
}

/// The lineage of a dataset (PROV `wasDerivedFrom`): the datasets it was derived from and those
/// derived from it, with the activities that generated them. A dataset the reader may not see is a
/// placeholder (`redacted-N`) that shows nothing of it.
#[utoipa::path(get,
    operation_id = "datasets_lineage", path = "/api/v1/datasets/{key}/lineage", tag = "datasets",
    params(("key" = String, Path, description = "Id or slug"), LineageQuery),
    responses(
        (status = 200, description = "OK", body = Lineage),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn lineage(
    State(state): State<Arc<AppState>>,
    reader: Reader,
    Path(key): Path<String>,
    Query(query): Query<LineageQuery>,
) -> Result<axum::Json<Lineage>, Problem> {
    let walks: &[Walk] = match query.direction.as_deref().unwrap_or("both") {
        "upstream" => &[Walk::Upstream],
        "downstream" => &[Walk::Downstream],
        "both" => &[Walk::Upstream, Walk::Downstream],
        other => {
            return Err(Problem::bad_parameter(
                "direction",
                format!("`{other}` is not one of upstream, downstream, both"),
            ));
        }
    };
    let depth = match query.depth.as_deref() {
        None => 5,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=20).contains(d))
            .ok_or_else(|| {
                Problem::bad_parameter("depth", "must be a whole number from 1 to 20")
            })?,
    };
    Ok(axum::Json(
        state
            .catalogue
            .lineage(reader.principal(), &RecordKey::parse(&key), walks, depth)
            .await?,
    ))
}

/// The version series of a dataset (DCAT `previousVersion`), oldest first, as far as the reader
/// may see.
#[utoipa::path(get,
    operation_id = "datasets_versions", path = "/api/v1/datasets/{key}/versions", tag = "datasets",
    params(("key" = String, Path, description = "Id or slug")),
    responses(
        (status = 200, description = "OK", body = Page<VersionEntry>),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn versions(
    State(state): State<Arc<AppState>>,
    reader: Reader,
    Path(key): Path<String>,
) -> Result<axum::Json<Page<VersionEntry>>, Problem> {
    let items = state
        .catalogue
        .versions(reader.principal(), &RecordKey::parse(&key))
        .await?;
    Ok(axum::Json(Page { items, next: None }))
}

/// Lists the distributions of a dataset.
#[utoipa::path(get,
    operation_id = "datasets_distributions", path = "/api/v1/datasets/{key}/distributions", tag = "datasets",
    params(("key" = String, Path, description = "Id or slug")),
    responses(
        (status = 200, description = "OK", body = Page<Distribution>, headers(("ETag" = String, description = "The dataset's"))),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn distributions(
    State(state): State<Arc<AppState>>,
    reader: Reader,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let dataset = state
        .catalogue
        .dataset(reader.principal(), &RecordKey::parse(&key))
        .await?;
    let page = Page {
        items: dataset.metadata.distributions,
        next: None,
    };
    Ok(record(&headers, dataset.revision, &page))
}

/// Adds a distribution to a dataset (editor): a new revision of the dataset. `If-Match` (the
/// dataset's ETag) is checked when given. Honours `Idempotency-Key`.
#[utoipa::path(post,
    operation_id = "datasets_add_distribution", path = "/api/v1/datasets/{key}/distributions", tag = "datasets", request_body = DistributionInput,
    params(
        ("key" = String, Path, description = "Id or slug"),
        ("If-Match" = Option<String>, Header, description = "The dataset's ETag"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request safe"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Distribution, headers(("ETag" = String, description = "The dataset's"), ("Location" = String))),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Conflict with the current state", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names a stale revision", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn add_distribution(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(key): Path<String>,
    if_match: IfMatch,
    idempotency_key: IdempotencyKey,
    body: JsonBody<DistributionInput>,
) -> Result<Response, Problem> {
    let expected = if_match.optional()?;
    let path = format!("{PATH}/{key}/distributions");
    let fingerprint: [&[u8]; 3] = [Method::POST.as_str().as_bytes(), path.as_bytes(), &body.raw];
    create_once(&state, &caller, idempotency_key, &fingerprint, async {
        let (dataset, distribution) = state
            .catalogue
            .add_distribution(&caller, &RecordKey::parse(&key), expected, body.value)
            .await?;
        created(
            format!("{PATH}/{}/distributions/{}", dataset.id, distribution.id),
            dataset.revision,
            &distribution,
        )
    })
    .await
}

/// Reads one distribution of a dataset.
#[utoipa::path(get,
    operation_id = "datasets_distribution", path = "/api/v1/datasets/{key}/distributions/{distribution}", tag = "datasets",
    params(("key" = String, Path, description = "Id or slug"), ("distribution" = Uuid, Path)),
    responses(
        (status = 200, description = "OK", body = Distribution, headers(("ETag" = String, description = "The dataset's"))),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn distribution(
    State(state): State<Arc<AppState>>,
    reader: Reader,
    Path((key, distribution)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let (dataset, distribution) = state
        .catalogue
        .distribution(
            reader.principal(),
            &RecordKey::parse(&key),
            distribution_id(&distribution)?,
        )
        .await?;
    Ok(record(&headers, dataset.revision, &distribution))
}

/// Replaces one distribution (editor). Requires `If-Match` with the dataset's ETag.
#[utoipa::path(put,
    operation_id = "datasets_replace_distribution", path = "/api/v1/datasets/{key}/distributions/{distribution}", tag = "datasets",
    request_body = DistributionInput,
    params(
        ("key" = String, Path, description = "Id or slug"),
        ("distribution" = Uuid, Path),
        ("If-Match" = String, Header, description = "The dataset's ETag"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Distribution, headers(("ETag" = String, description = "The dataset's"))),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names a stale revision", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is required", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn replace_distribution(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path((key, distribution)): Path<(String, String)>,
    if_match: IfMatch,
    headers: HeaderMap,
    body: JsonBody<DistributionInput>,
) -> Result<Response, Problem> {
    let id = distribution_id(&distribution)?;
    let expected = if_match.required()?;
    let (dataset, distribution) = state
        .catalogue
        .replace_distribution(&caller, &RecordKey::parse(&key), id, expected, body.value)
        .await?;
    Ok(record(&headers, dataset.revision, &distribution))
}

/// Removes one distribution (editor). `If-Match` (the dataset's ETag) is checked when given.
#[utoipa::path(delete,
    operation_id = "datasets_delete_distribution", path = "/api/v1/datasets/{key}/distributions/{distribution}", tag = "datasets",
    params(
        ("key" = String, Path, description = "Id or slug"),
        ("distribution" = Uuid, Path),
        ("If-Match" = Option<String>, Header, description = "The dataset's ETag"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names a stale revision", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete_distribution(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path((key, distribution)): Path<(String, String)>,
    if_match: IfMatch,
) -> Result<StatusCode, Problem> {
    let id = distribution_id(&distribution)?;
    state
        .catalogue
        .delete_distribution(&caller, &RecordKey::parse(&key), id, if_match.optional()?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Distributions are addressed by id only; anything else names none.
fn distribution_id(raw: &str) -> Result<Uuid, Problem> {
    Uuid::try_parse(raw)
        .map_err(|_| Problem::new(StatusCode::NOT_FOUND, "no distribution with this id"))
}
