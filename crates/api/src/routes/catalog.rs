//! `/api/v1/catalog`: the whole catalogue as DCAT-AP, page by page (Hydra partial collection views),
//! streamed as the records are read so a page of any size takes the memory of one batch.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fathom_formats::{DcatWriter, Format, PageView, Record, Site, Writer};
use fathom_model::{Dataset, Organisation, Principal};
use fathom_service::{Catalogue, DatasetFilter, PageRequest, Position, RecordKey};
use serde::Deserialize;
use uuid::Uuid;

use crate::AppState;
use crate::extract::Reader;
use crate::negotiate;
use crate::pagination::{Cursor, parse_limit_in};
use crate::problem::Problem;

const PATH: &str = "/api/v1/catalog";
const DEFAULT_LIMIT: u32 = 1000;
const MAX_LIMIT: u32 = 10_000;
/// Records read from the store at a time, and written to the client as one chunk.
const BATCH: u32 = 500;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CatalogQuery {
    /// Datasets per page, 1 to 10000 (default 1000).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 10000)]
    limit: Option<String>,
    /// Opaque; from the previous page's `hydra:next`.
    cursor: Option<String>,
    /// `ttl`, `jsonld`, `rdf` or `nt`; overrides `Accept`.
    format: Option<String>,
}

/// The catalogue as DCAT-AP 3.0 (`dcat:Catalog` with its datasets), one page at a time. Turtle unless
/// `Accept` or `format` asks for JSON-LD, RDF/XML or N-Triples. The page links the next with
/// `hydra:next` in a `hydra:PartialCollectionView`. Only datasets the caller may see are in it.
#[utoipa::path(get,
    operation_id = "catalog_read", path = "/api/v1/catalog", tag = "standards", params(CatalogQuery),
    responses(
        (status = 200, description = "DCAT-AP (the media types are those of the `format` values)"),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
        (status = 406, description = "No offered syntax is acceptable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn catalog(
    State(state): State<Arc<AppState>>,
    reader: Reader,
    Query(query): Query<CatalogQuery>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let format = negotiate::choose(negotiate::catalogue(), query.format.as_deref(), &headers)?;
    let Writer::Rdf(syntax) = format.writer else {
        return Err(Problem::bad_request("the catalogue is served as RDF only"));
    };
    let limit = parse_limit_in(query.limit.as_deref(), DEFAULT_LIMIT, MAX_LIMIT)?;
    let after = match query.cursor.as_deref().map(Cursor::decode).transpose()? {
        None => None,
        Some(Cursor::Id(id)) => Some(id),
        Some(_) => return Err(Problem::bad_parameter("cursor", "belongs to another list")),
    };
    let publishers = state.catalogue.organisations_by_slug().await?;
    // Cursors are URL-safe, so page addresses need no escaping.
    let first = format!(
        "{}{PATH}?limit={limit}&format={}",
        state.site.base,
        syntax.name()
    );
    let this = match &query.cursor {
        Some(cursor) => format!("{first}&cursor={cursor}"),
        None => first.clone(),
    };
    let export = Export {
        catalogue: state.catalogue.clone(),
        reader: reader.principal().cloned(),
        site: Arc::clone(&state.site),
        publishers,
        writer: DcatWriter::new(syntax),
        after,
        remaining: limit,
        this,
        first,
    };
    // The first batch is read before the response starts, so a failing store is a proper problem.
    let (first_chunk, export) = export.next_chunk().await?;
    let rest = futures::stream::unfold(export, |export| async move {
        let export = export?;
        match export.next_chunk().await {
            Ok((chunk, export)) => Some((Ok::<_, std::io::Error>(chunk), export)),
            Err(problem) => {
                tracing::error!(detail = %problem.detail, "catalogue export stopped");
                Some((Err(std::io::Error::other(problem.detail)), None))
            }
        }
    });
    let body = futures::StreamExt::chain(futures::stream::iter([Ok(first_chunk)]), rest);
    let headers = [
        (header::CONTENT_TYPE, syntax.media_type()),
        (header::VARY, "accept"),
    ];
    Ok((headers, Body::from_stream(body)).into_response())
}

/// An export under way: where it is, and what it writes with.
struct Export {
    catalogue: Catalogue,
    reader: Option<Principal>,
    site: Arc<Site>,
    publishers: HashMap<String, Organisation>,
    writer: DcatWriter,
    after: Option<Uuid>,
    /// Datasets still to write on this page.
    remaining: u32,
    /// This page's address, and the first page's (which the next page's extends with a cursor).
    this: String,
    first: String,
}

impl Export {
    /// Writes the next batch; `None` in place of the export once the page is complete.
    async fn next_chunk(mut self) -> Result<(Bytes, Option<Self>), Problem> {
        let batch = self.remaining.min(BATCH);
        // One more than written tells whether a next page exists.
        let records = self
            .catalogue
            .datasets_json(
                self.reader.as_ref(),
                &DatasetFilter::default(),
                PageRequest {
                    after: self.after.map(Position::Id),
                    limit: batch + 1,
                },
            )
            .await?;
        let more = records.len() > batch as usize;
        let policy = self.catalogue.policy();
        for stored in records.iter().take(batch as usize) {
            let dataset: Dataset = serde_json::from_str(stored.json.get())
                .map_err(|e| internal("a stored dataset does not decode", e))?;
            let publisher = self.publishers.get(dataset.metadata.organisation.as_str());
            let record = Record::new(&self.site, &dataset, publisher, policy);
            self.writer.dataset(&record, true).map_err(write_error)?;
            self.after = Some(stored.id);
            self.remaining -= 1;
        }
        if more && self.remaining > 0 {
            return Ok((Bytes::from(self.writer.take()), Some(self)));
        }
        let next = (more && self.remaining == 0)
            .then(|| {
                self.after
                    .map(|id| format!("{}&cursor={}", self.first, Cursor::Id(id).encode()))
            })
            .flatten();
        let view = PageView {
            this: self.this.clone(),
            first: self.first.clone(),
            next,
        };
        self.writer
            .catalogue(&self.site, Some(&view))
            .map_err(write_error)?;
        Ok((
            Bytes::from(self.writer.finish().map_err(write_error)?),
            None,
        ))
    }
}

fn write_error(error: std::io::Error) -> Problem {
    internal("cannot write a record", error)
}

fn internal(what: &'static str, error: impl std::fmt::Display) -> Problem {
    tracing::error!(%error, "{what}");
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "an internal error occurred; it has been logged",
    )
}

/// Reads one dataset in a format of the standards (DCAT-AP in an RDF syntax, ISO 19139, schema.org,
/// DCMI terms, …), as the policy lets `reader` see it.
pub async fn dataset(
    state: &AppState,
    reader: Option<&Principal>,
    key: &RecordKey,
    format: &Format,
) -> Result<Response, Problem> {
    let body = state.dataset_written(reader, key, format).await?;
    let headers = [
        (header::CONTENT_TYPE, format.media_type),
        (header::VARY, "accept"),
    ];
    Ok((headers, body).into_response())
}
