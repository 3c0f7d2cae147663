//! `GET /api/v1/search`: words, place, time and filters, with facets.

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use fathom_service::parameters::{MAX_SEARCH_DEPTH, parse_search};
use fathom_service::{FacetCount, Hit};
use serde::Serialize;
use std::collections::BTreeMap;

use crate::AppState;
use crate::extract::Reader;
use crate::pagination::{Cursor, with_cursor};
use crate::problem::Problem;

const PATH: &str = "/api/v1/search";

/// One page of search results.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchPage<'a> {
    /// How many datasets match: exact up to 10,000, else estimated from the share of the index read
    /// to find the first 10,000.
    pub total: usize,
    /// Whether `total` and the facet counts are exact (else they are estimates).
    pub total_exact: bool,
    #[schema(value_type = Vec<Object>)]
    pub hits: &'a [Hit],
    /// Counts per value of each requested facet, over all matching datasets (estimated like `total`).
    #[schema(value_type = Object)]
    pub facets: &'a BTreeMap<&'static str, Vec<FacetCount>>,
    /// The words of `q` left out, because no dataset had them all (the last words first).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub ignored_words: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Searches datasets. Filters may repeat (`keyword=a&keyword=b` means either); different filters
/// must all hold.
#[utoipa::path(get, operation_id = "search", path = "/api/v1/search", tag = "search",
    params(
        ("q" = Option<String>, Query, description = "Words, \"phrases\" and -excluded words; every word must match (typos tolerated in words of 5+ letters; the last word also matches as a prefix); when no dataset has them all, the last words are left out one by one and named in `ignored_words`"),
        ("match" = Option<String>, Query, description = "all (default): every word of `q` must match; any: any word may"),
        ("bbox" = Option<String>, Query, description = "west,south,east,north (WGS 84); intersecting datasets; west > east crosses the antimeridian"),
        ("datetime" = Option<String>, Query, description = "start/end, either `..` for open (RFC 3339 or YYYY-MM-DD); intersecting temporal extents"),
        ("organisation" = Option<Vec<String>>, Query, description = "Organisation slug (repeatable)"),
        ("keyword" = Option<Vec<String>>, Query, description = "Keyword (repeatable)"),
        ("theme" = Option<Vec<String>>, Query, description = "Theme IRI (repeatable)"),
        ("format" = Option<Vec<String>>, Query, description = "Distribution format (repeatable)"),
        ("licence" = Option<Vec<String>>, Query, description = "Licence (repeatable)"),
        ("language" = Option<Vec<String>>, Query, description = "BCP 47 language tag (repeatable)"),
        ("state" = Option<Vec<String>>, Query, description = "Lifecycle state: draft, in_review, published, deprecated or retired (repeatable)"),
        ("domain" = Option<Vec<String>>, Query, description = "Data domain slug (repeatable); likewise `project`, `campaign`, `platform`, `instrument` and `observed_property`"),
        ("facets" = Option<String>, Query, description = "Comma-separated: keyword, organisation, format, licence, theme, domain, project, campaign, platform, instrument, observed_property, classification, year (a histogram: every year the temporal extents cover, in order)"),
        ("sort" = Option<String>, Query, description = "relevance (default), modified or title"),
        ("limit" = Option<u32>, Query, description = "1 to 100, default 50"),
        ("cursor" = Option<String>, Query, description = "Opaque; from the previous page's `next`"),
    ),
    responses(
        (status = 200, description = "OK", body = SearchPage),
        (status = 400, description = "Malformed request", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn search(
    State(state): State<Arc<AppState>>,
    reader: Reader,
    RawQuery(raw): RawQuery,
) -> Result<Response, Problem> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.as_deref().unwrap_or(""))
        .map_err(|e| Problem::bad_request(format!("the query string cannot be read: {e}")))?;
    let request = parse_search(&pairs)?;
    let (offset, limit) = (request.offset, request.limit);
    let results = state.search.search(reader.principal(), request).await?;
    let next = (offset + limit < results.total.min(MAX_SEARCH_DEPTH)).then(|| {
        let kept: Vec<(&str, Option<&str>)> = pairs
            .iter()
            .filter(|(k, _)| k != "cursor")
            .map(|(k, v)| (k.as_str(), Some(v.as_str())))
            .collect();
        with_cursor(
            PATH,
            &kept,
            &Cursor::Number((offset + limit) as i64).encode(),
        )
    });
    // Serialised here, borrowing the results (maybe shared with the result cache) instead of
    // copying them.
    Ok(Json(SearchPage {
        total: results.total,
        total_exact: results.total_exact,
        hits: &results.hits,
        facets: &results.facets,
        ignored_words: &results.ignored,
        next,
    })
    .into_response())
}
