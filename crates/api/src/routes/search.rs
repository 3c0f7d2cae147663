//! `GET /api/v1/search`: words, place, time and filters, with facets.

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use fathom_model::values::parse_instant;
use fathom_model::{BoundingBox, DatasetState, EntityKind};
use fathom_service::{Facet, FacetCount, Hit, SearchRequest, Sort, TimeRange};
use serde::Serialize;
use std::collections::BTreeMap;

use crate::AppState;
use crate::extract::Reader;
use crate::pagination::{Cursor, parse_limit, with_cursor};
use crate::problem::Problem;

const PATH: &str = "/api/v1/search";
/// The longest query text accepted, in characters.
const MAX_TEXT: usize = 500;
/// How deep pages go (`offset + limit`): no deeper than the matches a search counts exactly, so that
/// a next page promised by an estimated total always exists.
const MAX_DEPTH: usize = fathom_service::EXACT_UP_TO;
const MAX_SEARCH_LIMIT: u32 = 100;

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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Searches datasets. Filters may repeat (`keyword=a&keyword=b` means either); different filters
/// must all hold.
#[utoipa::path(get, operation_id = "search", path = "/api/v1/search", tag = "search",
    params(
        ("q" = Option<String>, Query, description = "Words and \"phrases\"; typos tolerated in words of 5+ letters; the last word also matches as a prefix"),
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
        ("facets" = Option<String>, Query, description = "Comma-separated: keyword, organisation, format, licence, theme, domain, project, campaign, platform, instrument, observed_property"),
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
    let request = parse(&pairs)?;
    let (offset, limit) = (request.offset, request.limit);
    let results = state.search.search(reader.principal(), request).await?;
    let next = (offset + limit < results.total.min(MAX_DEPTH)).then(|| {
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
        next,
    })
    .into_response())
}

fn parse(pairs: &[(String, String)]) -> Result<SearchRequest, Problem> {
    let mut request = SearchRequest {
        limit: 50,
        ..Default::default()
    };
    let mut limit = None;
    for (name, value) in pairs {
        if let Some(kind) = EntityKind::parse(name) {
            request.entities.push((kind, value.clone()));
            continue;
        }
        match name.as_str() {
            "q" => {
                if value.chars().count() > MAX_TEXT {
                    return Err(Problem::bad_parameter(
                        "q",
                        format!("must be at most {MAX_TEXT} characters"),
                    ));
                }
                request.text = Some(value.clone());
            }
            "bbox" => request.bbox = Some(parse_bbox(value)?),
            "datetime" => request.datetime = Some(parse_datetime(value)?),
            "organisation" => request.organisation.push(value.clone()),
            "keyword" => request.keyword.push(value.clone()),
            "theme" => request.theme.push(value.clone()),
            "format" => request.format.push(value.clone()),
            "licence" => request.licence.push(value.clone()),
            "language" => request.language.push(value.clone()),
            "state" => {
                let state = DatasetState::parse(value)
                    .map_err(|message| Problem::bad_parameter("state", message))?;
                request.state.push(state.as_str().to_owned());
            }
            "facets" => {
                for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    let facet = Facet::parse(name).ok_or_else(|| {
                        let names: Vec<&str> = Facet::ALL.iter().map(|f| f.name()).collect();
                        Problem::bad_parameter(
                            "facets",
                            format!("`{name}` is not one of {}", names.join(", ")),
                        )
                    })?;
                    if !request.facets.contains(&facet) {
                        request.facets.push(facet);
                    }
                }
            }
            "sort" => {
                request.sort = Sort::parse(value).ok_or_else(|| {
                    Problem::bad_parameter(
                        "sort",
                        format!("`{value}` is not one of relevance, modified, title"),
                    )
                })?;
            }
            "limit" => limit = Some(value.as_str()),
            "cursor" => {
                request.offset = match Cursor::decode(value)? {
                    Cursor::Number(n) if (0..MAX_DEPTH as i64).contains(&n) => n as usize,
                    _ => {
                        return Err(Problem::bad_parameter(
                            "cursor",
                            "is not a cursor of this search",
                        ));
                    }
                }
            }
            other => {
                return Err(Problem::bad_parameter(
                    other,
                    "is not a parameter of the search",
                ));
            }
        }
    }
    let limit = parse_limit(limit)?;
    if limit > MAX_SEARCH_LIMIT {
        return Err(Problem::bad_parameter(
            "limit",
            format!("must be at most {MAX_SEARCH_LIMIT} for a search"),
        ));
    }
    request.limit = limit as usize;
    Ok(request)
}

pub(super) fn parse_bbox(raw: &str) -> Result<BoundingBox, Problem> {
    let numbers: Result<Vec<f64>, _> = raw.split(',').map(|n| n.trim().parse::<f64>()).collect();
    let numbers = numbers.map_err(|_| {
        Problem::bad_parameter("bbox", "must be four numbers: west,south,east,north")
    })?;
    BoundingBox::parse(&numbers).map_err(|message| Problem::bad_parameter("bbox", message))
}

pub(super) fn parse_datetime(raw: &str) -> Result<TimeRange, Problem> {
    let bound = |part: &str| -> Result<Option<time::OffsetDateTime>, Problem> {
        match part.trim() {
            "" | ".." => Ok(None),
            value => parse_instant(value)
                .map(Some)
                .map_err(|message| Problem::bad_parameter("datetime", message)),
        }
    };
    let range = match raw.split_once('/') {
        Some((start, end)) => TimeRange {
            start: bound(start)?,
            end: bound(end)?,
        },
        None => {
            let instant = bound(raw)?;
            TimeRange {
                start: instant,
                end: instant,
            }
        }
    };
    if let (Some(start), Some(end)) = (range.start, range.end)
        && end < start
    {
        return Err(Problem::bad_parameter(
            "datetime",
            "the end is before the start",
        ));
    }
    Ok(range)
}
