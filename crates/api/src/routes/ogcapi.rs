//! OGC API - Records, Part 1 (core): the catalogue as one collection of records, searched through the
//! same index as `/api/v1/search`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fathom_model::{Dataset, values::parse_instant};
use fathom_service::parameters::{parse_bbox, parse_datetime};
use fathom_service::{Direction, RecordKey, SearchRequest, Sort};
use serde_json::{Value, json};

use crate::AppState;
use crate::extract::Reader;
use crate::problem::Problem;

const BASE: &str = "/ogcapi";
const COLLECTION: &str = "datasets";
/// The type of every record in the collection.
const RECORD_TYPE: &str = "dataset";
const MAX_LIMIT: usize = 1000;
/// How deep pages go: no deeper than the matches a search counts exactly, so that a next page
/// promised by an estimated count always exists.
const MAX_DEPTH: usize = fathom_service::EXACT_UP_TO;

/// The conformance classes this implementation passes.
const CONFORMANCE: [&str; 6] = [
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/record-core",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting",
];

fn link(href: &str, rel: &str, kind: &str, title: &str) -> Value {
    json!({"href": href, "rel": rel, "type": kind, "title": title})
}

/// The landing page.
#[utoipa::path(get, operation_id = "ogcapi_landing", path = "/ogcapi", tag = "ogcapi",
    responses((status = 200, description = "Landing page", body = Object)))]
pub async fn landing() -> Json<Value> {
    Json(json!({
        "title": "Fathom catalogue",
        "description": "Datasets of maritime research as OGC API - Records.",
        "links": [
            link(BASE, "self", "application/json", "This document"),
            link(&format!("{BASE}/api"), "service-desc", "application/vnd.oai.openapi+json;version=3.1", "The API definition"),
            link(&format!("{BASE}/conformance"), "conformance", "application/json", "Conformance classes"),
            link(&format!("{BASE}/collections"), "data", "application/json", "Collections"),
        ]
    }))
}

/// The conformance classes implemented.
#[utoipa::path(get, operation_id = "ogcapi_conformance", path = "/ogcapi/conformance", tag = "ogcapi",
    responses((status = 200, description = "Conformance classes", body = Object)))]
pub async fn conformance() -> Json<Value> {
    Json(json!({ "conformsTo": CONFORMANCE }))
}

/// The API definition (the same OpenAPI document as `/api/v1/openapi.json`).
#[utoipa::path(get, operation_id = "ogcapi_api", path = "/ogcapi/api", tag = "ogcapi",
    responses((status = 200, description = "OpenAPI document", body = Object,
        content_type = "application/vnd.oai.openapi+json;version=3.1")))]
pub async fn api() -> Response {
    let mut response = Json(crate::openapi()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.oai.openapi+json;version=3.1"),
    );
    response
}

fn collection() -> Value {
    let items = format!("{BASE}/collections/{COLLECTION}/items");
    json!({
        "id": COLLECTION,
        "title": "Datasets",
        "description": "Every dataset of the catalogue.",
        "itemType": "record",
        "type": "Catalog",
        "extent": {"spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}},
        "links": [
            link(&format!("{BASE}/collections/{COLLECTION}"), "self", "application/json", "This collection"),
            link(&items, "items", "application/geo+json", "The records"),
            link(
                &format!("{BASE}/collections/{COLLECTION}/sortables"),
                "http://www.opengis.net/def/rel/ogc/1.0/sortables",
                "application/schema+json",
                "The properties records can be sorted by",
            ),
        ]
    })
}

/// The collections: one, the datasets.
#[utoipa::path(get, operation_id = "ogcapi_collections", path = "/ogcapi/collections", tag = "ogcapi",
    responses((status = 200, description = "Collections", body = Object)))]
pub async fn collections() -> Json<Value> {
    Json(json!({
        "collections": [collection()],
        "links": [link(&format!("{BASE}/collections"), "self", "application/json", "This document")]
    }))
}

/// One collection.
#[utoipa::path(get, operation_id = "ogcapi_collection", path = "/ogcapi/collections/{collection}", tag = "ogcapi",
    params(("collection" = String, Path)),
    responses(
        (status = 200, description = "The collection", body = Object),
        (status = 404, description = "No such collection", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn collection_page(Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    known_collection(&id)?;
    Ok(Json(collection()))
}

/// The properties `sortby` takes, as a JSON Schema (the Sorting conformance class).
#[utoipa::path(get, operation_id = "ogcapi_sortables", path = "/ogcapi/collections/{collection}/sortables", tag = "ogcapi",
    params(("collection" = String, Path)),
    responses(
        (status = 200, description = "The sortable properties", body = Object, content_type = "application/schema+json"),
        (status = 404, description = "No such collection", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn sortables(Path(id): Path<String>) -> Result<Response, Problem> {
    known_collection(&id)?;
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{BASE}/collections/{COLLECTION}/sortables"),
        "title": "Sortable properties of the datasets",
        "type": "object",
        "properties": {
            "title": {"title": "Title", "type": "string"},
            "updated": {"title": "Last change", "type": "string", "format": "date-time"},
        },
    });
    Ok((
        [(header::CONTENT_TYPE, "application/schema+json")],
        Json(schema),
    )
        .into_response())
}

/// Records of the collection: `q`, `bbox`, `datetime`, `ids`, `externalIds`, `type`, `sortby`,
/// `limit`, `offset`.
#[utoipa::path(get, operation_id = "ogcapi_items", path = "/ogcapi/collections/{collection}/items", tag = "ogcapi",
    params(
        ("collection" = String, Path),
        ("q" = Option<String>, Query, description = "Words, comma-separated terms are alternatives"),
        ("bbox" = Option<String>, Query, description = "west,south,east,north"),
        ("datetime" = Option<String>, Query, description = "An instant or start/end with `..` for open"),
        ("ids" = Option<String>, Query, description = "Comma-separated record ids"),
        ("externalIds" = Option<String>, Query, description = "Comma-separated persistent identifiers (DOIs, handles)"),
        ("type" = Option<String>, Query, description = "Comma-separated record types; every record here is a `dataset`"),
        ("sortby" = Option<String>, Query, description = "`title` or `updated`, `-` before it for descending (default: relevance, then most recently updated)"),
        ("limit" = Option<u32>, Query, description = "1 to 1000, default 10"),
        ("offset" = Option<u32>, Query, description = "Records to skip"),
    ),
    responses(
        (status = 200, description = "GeoJSON FeatureCollection of records", body = Object, content_type = "application/geo+json"),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn items(
    State(state): State<Arc<AppState>>,
    reader: Reader,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Problem> {
    known_collection(&id)?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|e| Problem::bad_request(format!("the query string cannot be read: {e}")))?;
    let mut request = SearchRequest {
        limit: 10,
        ..Default::default()
    };
    let mut ids = None;
    let mut of_record_type = true;
    for (name, value) in &pairs {
        match name.as_str() {
            "q" => request.text = Some(value.replace(',', " ")),
            "bbox" => request.bbox = Some(parse_bbox(value)?),
            "datetime" => request.datetime = Some(parse_datetime(value)?),
            "limit" => request.limit = parse_number(name, value, 1, MAX_LIMIT)?,
            "offset" => request.offset = parse_number(name, value, 0, MAX_DEPTH)?,
            "ids" => {
                ids = Some(
                    value
                        .split(',')
                        .map(|id| RecordKey::parse(id.trim()))
                        .collect::<Vec<_>>(),
                )
            }
            "externalIds" => request.external_id = comma_separated(value),
            "type" => of_record_type = comma_separated(value).iter().any(|t| t == RECORD_TYPE),
            "sortby" => request.sort = parse_sortby(value)?,
            "f" if value == "json" => {}
            other => {
                return Err(Problem::bad_parameter(
                    other,
                    "is not a parameter of this collection's items",
                ));
            }
        }
    }
    // How many match, and whether that is exact.
    let ((matched, exact), datasets) = match ids {
        // Every record of this collection is a dataset: any other type matches none.
        _ if !of_record_type => ((0, true), Vec::new()),
        Some(keys) => {
            let ids: Vec<_> = keys
                .iter()
                .filter_map(|key| match key {
                    RecordKey::Id(id) => Some(*id),
                    RecordKey::Slug(_) => None,
                })
                .collect();
            let datasets = state
                .catalogue
                .datasets_by_ids(reader.principal(), &ids)
                .await?;
            ((datasets.len(), true), datasets)
        }
        None => {
            let found = state
                .search
                .search(reader.principal(), request.clone())
                .await?;
            let ids: Vec<_> = found.hits.iter().map(|hit| hit.id).collect();
            let datasets = state
                .catalogue
                .datasets_by_ids(reader.principal(), &ids)
                .await?;
            ((found.total, found.total_exact), datasets)
        }
    };
    let self_href = match raw.as_deref() {
        Some(query) if !query.is_empty() => {
            format!("{BASE}/collections/{COLLECTION}/items?{query}")
        }
        _ => format!("{BASE}/collections/{COLLECTION}/items"),
    };
    let mut links = vec![link(
        &self_href,
        "self",
        "application/geo+json",
        "This page",
    )];
    let page_at = |offset: usize| {
        let mut query: Vec<(String, String)> = pairs
            .iter()
            .filter(|(k, _)| k != "offset")
            .cloned()
            .collect();
        query.push(("offset".into(), offset.to_string()));
        let query = serde_urlencoded::to_string(&query).unwrap_or_default();
        format!("{BASE}/collections/{COLLECTION}/items?{query}")
    };
    if request.offset > 0 {
        let previous = request.offset.saturating_sub(request.limit);
        links.push(link(
            &page_at(previous),
            "prev",
            "application/geo+json",
            "Previous page",
        ));
    }
    if request.offset + datasets.len() < matched.min(MAX_DEPTH) && !datasets.is_empty() {
        links.push(link(
            &page_at(request.offset + request.limit),
            "next",
            "application/geo+json",
            "Next page",
        ));
    }
    let mut body = json!({
        "type": "FeatureCollection",
        "features": datasets.iter().map(record).collect::<Vec<_>>(),
        "numberReturned": datasets.len(),
        "links": links,
    });
    // An estimate is not a number matched: the member is then left out, as the standard allows.
    if exact {
        body["numberMatched"] = json!(matched);
    }
    Ok(geojson(StatusCode::OK, &body))
}

/// One record.
#[utoipa::path(get, operation_id = "ogcapi_item", path = "/ogcapi/collections/{collection}/items/{record}", tag = "ogcapi",
    params(("collection" = String, Path), ("record" = String, Path, description = "Id or slug")),
    responses(
        (status = 200, description = "The record as a GeoJSON Feature", body = Object, content_type = "application/geo+json"),
        (status = 404, description = "No such record", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn item(
    State(state): State<Arc<AppState>>,
    reader: Reader,
    Path((id, record_id)): Path<(String, String)>,
) -> Result<Response, Problem> {
    known_collection(&id)?;
    let dataset = state
        .catalogue
        .dataset(reader.principal(), &RecordKey::parse(&record_id))
        .await?;
    Ok(geojson(StatusCode::OK, &record(&dataset)))
}

fn known_collection(id: &str) -> Result<(), Problem> {
    if id == COLLECTION {
        Ok(())
    } else {
        Err(Problem::new(
            StatusCode::NOT_FOUND,
            format!("no collection `{id}`; the catalogue has `{COLLECTION}`"),
        ))
    }
}

fn comma_separated(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `sortby` with one key: `title` or `updated`, `+` (default) or `-` before it.
fn parse_sortby(raw: &str) -> Result<Sort, Problem> {
    let keys = comma_separated(raw);
    let [key] = keys.as_slice() else {
        return Err(Problem::bad_parameter(
            "sortby",
            "must name one sort key: title or updated, with - before it for descending",
        ));
    };
    let (direction, property) = match key.as_bytes().first() {
        Some(b'-') => (Direction::Descending, &key[1..]),
        Some(b'+') => (Direction::Ascending, &key[1..]),
        _ => (Direction::Ascending, key.as_str()),
    };
    match property {
        "title" => Ok(Sort::Title(direction)),
        "updated" => Ok(Sort::Modified(direction)),
        other => Err(Problem::bad_parameter(
            "sortby",
            format!("`{other}` is not sortable; the sortable properties are title and updated"),
        )),
    }
}

fn parse_number(name: &str, raw: &str, min: usize, max: usize) -> Result<usize, Problem> {
    raw.parse::<usize>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            Problem::bad_parameter(name, format!("must be an integer from {min} to {max}"))
        })
}

fn geojson(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/geo+json"),
    );
    response
}

/// A dataset as an OGC API record (Record Core: id, type, time, geometry, properties with type,
/// title, description, keywords, themes, language, license, contacts, created, updated; links).
fn record(dataset: &Dataset) -> Value {
    let metadata = &dataset.metadata;
    let geometry = metadata.spatial.as_ref().and_then(|s| s.bbox).map(|b| {
        let (w, s, e, n) = (b.west(), b.south(), b.east(), b.north());
        json!({"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]})
    });
    let time = metadata.temporal.as_ref().map(|t| {
        let format = |at: Option<time::OffsetDateTime>| at.and_then(|at| at.format(&time::format_description::well_known::Rfc3339).ok());
        json!({"interval": [format(t.start).unwrap_or_else(|| "..".into()), format(t.end).unwrap_or_else(|| "..".into())]})
    });
    let updated = metadata
        .modified
        .as_deref()
        .and_then(|m| parse_instant(m).ok())
        .unwrap_or(dataset.updated_at);
    let rfc3339 = |at: time::OffsetDateTime| {
        at.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    json!({
        "id": dataset.id,
        "type": "Feature",
        "time": time,
        "geometry": geometry,
        "properties": {
            "type": RECORD_TYPE,
            "title": metadata.title,
            "description": metadata.description,
            "keywords": metadata.keywords,
            "themes": [{"concepts": metadata.themes.iter().map(|t| json!({"id": t.as_str()})).collect::<Vec<_>>(), "scheme": "http://publications.europa.eu/resource/authority/data-theme"}],
            "language": metadata.language.first().map(|l| json!({"code": l.as_str()})),
            "license": metadata.license,
            "contacts": metadata.contact_points.iter().map(|c| json!({"name": c.name, "emails": c.email.iter().map(|e| json!({"value": e})).collect::<Vec<_>>(), "roles": c.role.iter().collect::<Vec<_>>()})).collect::<Vec<_>>(),
            "created": rfc3339(dataset.created_at),
            "updated": rfc3339(updated),
        },
        "links": [
            link(&format!("/api/v1/datasets/{}", dataset.id), "alternate", "application/json", "The dataset in Fathom's API"),
            link(&format!("{BASE}/collections/{COLLECTION}"), "collection", "application/json", "The collection"),
        ],
    })
}
