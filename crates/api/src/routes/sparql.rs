//! `/api/v1/sparql`: SPARQL 1.1 queries over the catalogue's DCAT-AP graph, as the caller may see it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fathom_service::{Code, ResultsFormat, SparqlError};
use serde::Deserialize;

use crate::AppState;
use crate::extract::{Reader, content_type};
use crate::problem::Problem;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SparqlQuery {
    /// The query (SELECT, ASK, CONSTRUCT or DESCRIBE).
    query: Option<String>,
}

/// Answers a SPARQL 1.1 query by GET. SELECT and ASK results as SPARQL JSON (default), XML or CSV
/// by `Accept`; CONSTRUCT and DESCRIBE as Turtle. Only the datasets the caller may see are in the
/// graph the query sees. 10 s and 10,000 results at the most.
#[utoipa::path(get, operation_id = "sparql_get", path = "/api/v1/sparql", tag = "standards", params(SparqlQuery),
    responses(
        (status = 200, description = "The results", content(
            (String = "application/sparql-results+json"), (String = "application/sparql-results+xml"),
            (String = "text/csv"), (String = "text/turtle"))),
        (status = 400, description = "No query, or one that does not parse", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The query ran too long or has too many results", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get(
    State(state): State<Arc<AppState>>,
    reader: Reader,
    Query(query): Query<SparqlQuery>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let query = query
        .query
        .ok_or_else(|| Problem::bad_parameter("query", "is needed"))?;
    answer(&state, &reader, query, &headers).await
}

/// Answers a SPARQL 1.1 query by POST: the query as `application/sparql-query`, or as the `query`
/// field of a form.
#[utoipa::path(post, operation_id = "sparql_post", path = "/api/v1/sparql", tag = "standards",
    request_body(content = String, content_type = "application/sparql-query"),
    responses(
        (status = 200, description = "The results", content(
            (String = "application/sparql-results+json"), (String = "application/sparql-results+xml"),
            (String = "text/csv"), (String = "text/turtle"))),
        (status = 400, description = "A query that does not parse", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither a SPARQL query nor a form", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The query ran too long or has too many results", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn post(
    State(state): State<Arc<AppState>>,
    reader: Reader,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let content_type = content_type(&headers);
    let query = if content_type.starts_with("application/sparql-query") {
        String::from_utf8(body.to_vec())
            .map_err(|_| Problem::bad_request("the query is not UTF-8"))?
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
            .ok()
            .and_then(|fields| {
                fields
                    .into_iter()
                    .find(|(k, _)| k == "query")
                    .map(|(_, v)| v)
            })
            .ok_or_else(|| Problem::bad_request("the form has no `query` field"))?
    } else {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the query as application/sparql-query, or as the `query` field of a form",
        ));
    };
    answer(&state, &reader, query, &headers).await
}

async fn answer(
    state: &AppState,
    reader: &Reader,
    query: String,
    headers: &HeaderMap,
) -> Result<Response, Problem> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let format = if accept.contains("application/sparql-results+xml") {
        ResultsFormat::Xml
    } else if accept.contains("text/csv") {
        ResultsFormat::Csv
    } else {
        ResultsFormat::Json
    };
    let Some(sparql) = &state.sparql else {
        return Err(Problem::coded(
            Code::SparqlOff,
            "SPARQL is off on this server: the graph of the whole catalogue lives in memory (about 25 KB a dataset), so an operator turns it on with `sparql = true`",
        ));
    };
    let answered = sparql
        .query(reader.principal(), query, format)
        .await
        .map_err(|error| match error {
            SparqlError::Syntax(_) => Problem::coded(Code::SparqlSyntax, error.to_string()),
            SparqlError::Timeout(_) => Problem::coded(Code::QueryTimeout, error.to_string()),
            SparqlError::TooLarge => Problem::coded(Code::QueryTooLarge, error.to_string()),
            SparqlError::Evaluation(_) => Problem::coded(Code::SparqlEvaluation, error.to_string()),
            SparqlError::Loading => Problem::coded(Code::SparqlLoading, error.to_string()),
            SparqlError::Service(service) => service.into(),
        })?;
    Ok(([(header::CONTENT_TYPE, answered.media_type)], answered.body).into_response())
}
