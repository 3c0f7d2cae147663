//! `POST /api/v1/imports`: records of other catalogues (ISO 19139, Dublin Core, DCAT) into an
//! organisation, idempotently by their identifiers, with a report line per record.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use fathom_formats::import::{ImportFormat, read};
use fathom_service::{ImportStatus, ImportedRecord};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::extract::{Caller, content_type};
use crate::problem::Problem;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The organisation the records are imported into.
    organisation: String,
    /// `iso19139`, `dc`, `dcat-ttl`, `dcat-jsonld`, `dcat-rdfxml` or `dcat-nt`; else taken from the
    /// `Content-Type` (`application/vnd.iso.19139+xml`, `text/turtle`, `application/ld+json`,
    /// `application/rdf+xml`, `application/n-triples`).
    format: Option<String>,
}

/// What an import did: counts, and a line per record in the document's order.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    created: usize,
    updated: usize,
    unchanged: usize,
    failed: usize,
    records: Vec<ImportedRecord>,
}

/// Imports the records of a document (admin). A record that cannot be imported is reported with
/// its reason and costs nothing else; a record imported before is updated, or left unchanged.
#[utoipa::path(post,
    operation_id = "imports_create", path = "/api/v1/imports", tag = "standards", params(ImportQuery),
    request_body(content = String, description = "An ISO 19139, Dublin Core or DCAT document", content_type = "application/xml"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The report", body = ImportReport),
        (status = 400, description = "No format, or an unknown one", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large (import larger documents with `fathom import`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Query(query): Query<ImportQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ImportReport>, Problem> {
    let format = match query.format.as_deref() {
        Some(name) => ImportFormat::parse(name).ok_or_else(|| {
            Problem::bad_parameter(
                "format",
                format!(
                    "`{name}` is not one of {}",
                    ImportFormat::NAMED.map(|(known, _)| known).join(", ")
                ),
            )
        })?,
        None => ImportFormat::from_media_type(content_type(&headers)).ok_or_else(|| {
            Problem::bad_parameter(
                "format",
                "is needed: the Content-Type does not tell which format the document is in",
            )
        })?,
    };
    let records = tokio::task::spawn_blocking(move || read(format, &body))
        .await
        .map_err(|error| {
            tracing::error!(%error, "reading an imported document failed");
            Problem::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "an internal error occurred; it has been logged",
            )
        })?;
    let records = state
        .catalogue
        .import_foreign(&caller, &query.organisation, records)
        .await?;
    let count = |status| records.iter().filter(|r| r.status == status).count();
    Ok(Json(ImportReport {
        created: count(ImportStatus::Created),
        updated: count(ImportStatus::Updated),
        unchanged: count(ImportStatus::Unchanged),
        failed: count(ImportStatus::Failed),
        records,
    }))
}
