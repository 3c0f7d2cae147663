//! `/api/v1/vocabularies`: controlled vocabularies (SKOS concept schemes) and their concepts, with
//! browsing (top concepts, narrower ones) and autocomplete.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use fathom_formats::RdfSyntax;
use fathom_model::{BoundField, Concept, Vocabulary};
use fathom_service::{ConceptFilter, RecordKey};
use serde::Deserialize;

use super::{created, record};
use crate::AppState;
use crate::extract::{Caller, content_type};
use crate::pagination::{Cursor, Page, parse_limit, with_cursor};
use crate::problem::Problem;

const PATH: &str = "/api/v1/vocabularies";

/// Lists the vocabularies, by slug.
#[utoipa::path(get, operation_id = "vocabularies_list", path = "/api/v1/vocabularies", tag = "vocabularies",
    responses((status = 200, description = "OK", body = Page<Vocabulary>)))]
pub async fn list(
    State(state): State<Arc<AppState>>,
) -> Result<axum::Json<Page<Vocabulary>>, Problem> {
    let items = state.catalogue.vocabularies().await?;
    Ok(axum::Json(Page { items, next: None }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The vocabulary's slug; derived from the scheme's title when absent. Importing again with a
    /// vocabulary's slug replaces its concepts (a new revision).
    slug: Option<String>,
    /// Comma-separated fields whose values must be the scheme's concepts: `keywords`, `themes`,
    /// `platform_type`.
    binds: Option<String>,
}

/// Imports a SKOS concept scheme (admin) from Turtle, RDF/XML, N-Triples or JSON-LD (by
/// `Content-Type`).
#[utoipa::path(post, operation_id = "vocabularies_import", path = "/api/v1/vocabularies", tag = "vocabularies",
    params(ImportQuery),
    request_body(content = String, description = "One skos:ConceptScheme with its concepts", content_type = "text/turtle"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Imported", body = Vocabulary, headers(("ETag" = String), ("Location" = String))),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not an RDF syntax", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not valid RDF, not one concept scheme, or a cycle of broader concepts", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn import(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Query(query): Query<ImportQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let media_type = content_type(&headers);
    let syntax = RdfSyntax::from_media_type(media_type).ok_or_else(|| {
        Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("the body must be RDF (text/turtle, application/rdf+xml, application/n-triples or application/ld+json), not `{media_type}`"),
        )
    })?;
    let binds = query
        .binds
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            BoundField::parse(name).map_err(|message| Problem::bad_parameter("binds", message))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let vocabulary = state
        .catalogue
        .import_vocabulary(&caller, query.slug.as_deref(), binds, syntax, body.to_vec())
        .await?;
    let location = format!("{PATH}/{}", vocabulary.slug);
    Ok(axum::response::IntoResponse::into_response(created(
        location,
        vocabulary.revision,
        &vocabulary,
    )?))
}

/// Reads a vocabulary by id or slug.
#[utoipa::path(get, operation_id = "vocabularies_read", path = "/api/v1/vocabularies/{key}", tag = "vocabularies",
    params(("key" = String, Path, description = "Id or slug")),
    responses(
        (status = 200, description = "OK", body = Vocabulary, headers(("ETag" = String))),
        (status = 404, description = "No such vocabulary", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn read(
    State(state): State<Arc<AppState>>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let vocabulary = state.catalogue.vocabulary(&RecordKey::parse(&key)).await?;
    Ok(record(&headers, vocabulary.revision, &vocabulary))
}

/// Deletes a vocabulary and its concepts (admin); values already written stay.
#[utoipa::path(delete, operation_id = "vocabularies_delete", path = "/api/v1/vocabularies/{key}", tag = "vocabularies",
    params(("key" = String, Path, description = "Id or slug")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such vocabulary", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(key): Path<String>,
) -> Result<StatusCode, Problem> {
    state
        .catalogue
        .delete_vocabulary(&caller, &RecordKey::parse(&key))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConceptsQuery {
    /// Concepts with a label (in any language) or notation that starts with this: autocomplete.
    #[param(min_length = 1, max_length = 200, pattern = "^[^\\x00]+$")]
    q: Option<String>,
    /// The IRI of a concept: its narrower concepts.
    broader: Option<String>,
    /// `true`: the scheme's top concepts.
    top: Option<bool>,
    /// Page size, 1 to 1000 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// Opaque; from the previous page's `next`.
    cursor: Option<String>,
}

/// Lists a vocabulary's concepts by label: all, the top ones, the narrower ones of a concept, or
/// those a typed prefix names.
#[utoipa::path(get, operation_id = "vocabularies_concepts", path = "/api/v1/vocabularies/{key}/concepts", tag = "vocabularies",
    params(("key" = String, Path, description = "Id or slug"), ConceptsQuery),
    responses(
        (status = 200, description = "OK", body = Page<Concept>),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such vocabulary", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn concepts(
    State(state): State<Arc<AppState>>,
    Path(key): Path<String>,
    Query(query): Query<ConceptsQuery>,
) -> Result<axum::Json<Page<Concept>>, Problem> {
    let limit = parse_limit(query.limit.as_deref())?;
    let after = match query.cursor.as_deref().map(Cursor::decode).transpose()? {
        None => None,
        Some(Cursor::Text(key)) => Some(
            key.split_once('\u{1f}')
                .map(|(label, iri)| (label.to_owned(), iri.to_owned()))
                .ok_or_else(|| Problem::bad_parameter("cursor", "is not a cursor of this list"))?,
        ),
        Some(_) => return Err(Problem::bad_parameter("cursor", "belongs to another list")),
    };
    let prefix = query.q.as_deref().map(|q| q.trim().to_lowercase());
    if prefix
        .as_ref()
        .is_some_and(|p| p.is_empty() || p.chars().count() > 200 || p.contains('\0'))
    {
        return Err(Problem::bad_parameter(
            "q",
            "must be 1 to 200 characters, without NUL",
        ));
    }
    if query.broader.as_deref().is_some_and(|b| b.contains('\0')) {
        return Err(Problem::bad_parameter("broader", "must be a concept's IRI"));
    }
    let filter = ConceptFilter {
        prefix,
        broader: query.broader.clone(),
        top: query.top.unwrap_or(false),
        after,
        limit: limit + 1,
    };
    let items = state
        .catalogue
        .concepts(&RecordKey::parse(&key), &filter)
        .await?;
    let path = format!("{PATH}/{key}/concepts");
    let kept = [
        ("q", query.q.as_deref()),
        ("broader", query.broader.as_deref()),
        ("top", query.top.map(|t| if t { "true" } else { "false" })),
        ("limit", query.limit.as_deref()),
    ];
    Ok(axum::Json(Page::from_fetched(
        items,
        limit,
        |c| {
            Cursor::Text(format!(
                "{}\u{1f}{}",
                c.display_label().to_lowercase(),
                c.iri
            ))
        },
        |cursor| with_cursor(&path, &kept, cursor),
    )))
}

/// Reads a concept by its IRI (percent-encoded) or its notation.
#[utoipa::path(get, operation_id = "vocabularies_concept", path = "/api/v1/vocabularies/{key}/concepts/{concept}", tag = "vocabularies",
    params(("key" = String, Path, description = "Id or slug"), ("concept" = String, Path, description = "The concept's IRI or notation")),
    responses(
        (status = 200, description = "OK", body = Concept),
        (status = 404, description = "No such vocabulary or concept", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn concept(
    State(state): State<Arc<AppState>>,
    Path((key, concept)): Path<(String, String)>,
) -> Result<axum::Json<Concept>, Problem> {
    Ok(axum::Json(
        state
            .catalogue
            .concept(&RecordKey::parse(&key), &concept)
            .await?,
    ))
}
