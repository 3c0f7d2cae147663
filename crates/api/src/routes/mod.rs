//! The routes of `/api/v1` and the health checks, each documented for the OpenAPI document.

mod catalog;
mod datasets;
mod entities;
mod events;
mod harvest;
mod health;
mod imports;
pub(crate) use health::{live, ready};
mod oai;
mod ogcapi;
mod organisations;
mod policy;
mod profiles;
mod publication;
mod search;
mod sharing;
mod sparql;
mod users;
mod vocabularies;
mod webhooks;

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fathom_model::Principal;
use fathom_service::{Attempt, EntityType};
use serde::Serialize;
use tracing::Instrument;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::extract::{IdempotencyKey, etag, not_modified};
use crate::problem::{PROBLEM_JSON, Problem};

pub fn router(openapi: utoipa::openapi::OpenApi) -> OpenApiRouter<Arc<AppState>> {
    let router = OpenApiRouter::with_openapi(openapi)
        .routes(routes!(health::live))
        .routes(routes!(health::ready))
        .routes(routes!(crate::prometheus::metrics))
        .routes(routes!(organisations::list, organisations::create))
        .routes(routes!(
            organisations::read,
            organisations::replace,
            organisations::patch,
            organisations::delete
        ))
        .routes(routes!(policy::policy))
        .routes(routes!(events::asyncapi))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::read, webhooks::delete))
        .routes(routes!(webhooks::dead_letters))
        .routes(routes!(webhooks::redeliver))
        .routes(routes!(users::me))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::issue_token))
        .routes(routes!(users::revoke_token))
        .routes(routes!(search::search))
        .routes(routes!(ogcapi::landing))
        // OGC API clients (OWSLib among them) address the landing page with a trailing slash.
        .route("/ogcapi/", axum::routing::get(ogcapi::landing))
        .routes(routes!(ogcapi::conformance))
        .routes(routes!(ogcapi::api))
        .routes(routes!(ogcapi::collections))
        .routes(routes!(ogcapi::collection_page))
        .routes(routes!(ogcapi::items))
        .routes(routes!(ogcapi::sortables))
        .routes(routes!(ogcapi::item))
        .routes(routes!(datasets::list, datasets::create))
        .routes(routes!(
            datasets::read,
            datasets::replace,
            datasets::patch,
            datasets::delete
        ))
        .routes(routes!(catalog::catalog))
        .routes(routes!(oai::get, oai::post))
        .routes(routes!(imports::create))
        .routes(routes!(sparql::get, sparql::post))
        .routes(routes!(harvest::list, harvest::create))
        .routes(routes!(harvest::read, harvest::delete))
        .routes(routes!(harvest::jobs, harvest::start))
        .routes(routes!(datasets::revisions))
        .routes(routes!(datasets::revision))
        .routes(routes!(datasets::revision_diff))
        .routes(routes!(datasets::lineage))
        .routes(routes!(datasets::versions))
        .routes(routes!(vocabularies::list, vocabularies::import))
        .routes(routes!(vocabularies::read, vocabularies::delete))
        .routes(routes!(vocabularies::concepts))
        .routes(routes!(vocabularies::concept))
        .routes(routes!(profiles::list))
        .routes(routes!(profiles::read))
        .routes(routes!(profiles::register))
        .routes(routes!(profiles::version))
        .routes(routes!(sharing::requests, sharing::request_access))
        .routes(routes!(sharing::request))
        .routes(routes!(sharing::act))
        .routes(routes!(sharing::inbox))
        .routes(routes!(sharing::grants))
        .routes(routes!(sharing::act_on_grant))
        .routes(routes!(publication::publication, publication::act))
        .routes(routes!(
            publication::working_copy,
            publication::put_working_copy,
            publication::discard_working_copy
        ))
        .routes(routes!(sharing::agreements, sharing::create_agreement))
        .routes(routes!(sharing::agreement))
        .routes(routes!(sharing::agreement_odrl))
        .routes(routes!(sharing::act_on_agreement))
        .routes(routes!(sharing::audit))
        .routes(routes!(datasets::distributions, datasets::add_distribution))
        .routes(routes!(
            datasets::distribution,
            datasets::replace_distribution,
            datasets::delete_distribution
        ));
    entities::add(router)
}

/// A record with its `ETag`; 304 when the client's `If-None-Match` already has this revision.
fn record<T: Serialize>(request: &HeaderMap, revision: i64, body: &T) -> Response {
    if not_modified(request, revision) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        set_etag(&mut response, revision);
        return response;
    }
    let mut response = axum::Json(body).into_response();
    set_etag(&mut response, revision);
    response
}

fn set_etag(response: &mut Response, revision: i64) {
    if let Ok(value) = HeaderValue::try_from(etag(revision)) {
        response.headers_mut().insert(header::ETAG, value);
    }
}

/// The `as_of` of a read: an RFC 3339 instant or a date.
fn parse_as_of(raw: &str) -> Result<time::OffsetDateTime, Problem> {
    fathom_model::values::parse_instant(raw)
        .map_err(|message| Problem::bad_parameter("as_of", message))
}

/// A record as it was at a past instant: the snapshot of the revision then current, its address in
/// `Content-Location` (`{collection}/{id}/revisions/{n}`), and no `ETag` (it cannot be written to).
fn as_of(collection: &str, revision: &fathom_service::Revision) -> Response {
    let mut response = axum::Json(&revision.snapshot).into_response();
    let id = revision
        .snapshot
        .as_ref()
        .and_then(|s| s["id"].as_str())
        .unwrap_or_default();
    let location = format!("{collection}/{id}/revisions/{}", revision.revision);
    if let Ok(value) = HeaderValue::try_from(location) {
        response
            .headers_mut()
            .insert(header::CONTENT_LOCATION, value);
    }
    response
}

/// A record just written: its status (201 when created, 200 when an action changed it), its
/// address, the revision for its `ETag`, and its JSON. Kept as is for an `Idempotency-Key` replay.
#[derive(Debug, Serialize, serde::Deserialize)]
struct Written {
    #[serde(default = "created_status")]
    status: u16,
    location: String,
    revision: i64,
    body: serde_json::Value,
}

fn created_status() -> u16 {
    StatusCode::CREATED.as_u16()
}

impl IntoResponse for Written {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let mut response = (status, axum::Json(&self.body)).into_response();
        set_etag(&mut response, self.revision);
        if let Ok(location) = HeaderValue::try_from(&self.location) {
            let name = if status == StatusCode::CREATED {
                header::LOCATION
            } else {
                header::CONTENT_LOCATION
            };
            response.headers_mut().insert(name, location);
        }
        response
    }
}

fn created<T: Serialize>(location: String, revision: i64, body: &T) -> Result<Written, Problem> {
    written(StatusCode::CREATED, location, revision, body)
}

fn written<T: Serialize>(
    status: StatusCode,
    location: String,
    revision: i64,
    body: &T,
) -> Result<Written, Problem> {
    let body = serde_json::to_value(body).map_err(|e| {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode the record: {e}"),
        )
    })?;
    Ok(Written {
        status: status.as_u16(),
        location,
        revision,
        body,
    })
}

/// Runs a create at most once per `Idempotency-Key`: a retry with the same key and request gets the
/// first response again (with `Idempotent-Replayed: true`), including a refusal; a server error
/// frees the key so that the retry runs.
async fn create_once<F>(
    state: &AppState,
    caller: &Principal,
    key: IdempotencyKey,
    fingerprint: &[&[u8]],
    create: F,
) -> Result<Response, Problem>
where
    F: Future<Output = Result<Written, Problem>>,
{
    let Some(key) = key.0 else {
        return create.await.map(IntoResponse::into_response);
    };
    match state.idempotency.begin(caller, &key, fingerprint).await? {
        Attempt::Replay { status, response } => Ok(replay(status, &response)),
        Attempt::Written { entity, id } => Ok(see_written(entity, id)),
        Attempt::Run => match state.idempotency.holding(caller, &key, create).await {
            Ok(written) => {
                let stored = serde_json::to_string(&written).unwrap_or_default();
                state
                    .idempotency
                    .complete(caller, &key, written.status, &stored)
                    .await?;
                Ok(written.into_response())
            }
            Err(problem) if problem.status < 500 => {
                let stored = serde_json::to_string(&problem).unwrap_or_default();
                state
                    .idempotency
                    .complete(caller, &key, problem.status, &stored)
                    .await?;
                Err(problem)
            }
            Err(problem) => {
                state.idempotency.release(caller, &key).await;
                Err(problem)
            }
        },
    }
}

/// Runs a POST that carries an `Idempotency-Key` to its end on a task of its own, so that neither a
/// client that goes away nor the server's timeout stops it between its write and the key's
/// completion: that would leave the key claimed, every retry refused as in progress, until the claim
/// counts as abandoned (`fathom_service::CLAIM_ABANDONED_AFTER`), and the retry would then write again.
pub(crate) async fn run_to_the_end(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if request.method() != axum::http::Method::POST
        || !request.headers().contains_key("idempotency-key")
    {
        return next.run(request).await;
    }
    let request_id = fathom_service::REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_default();
    let run = fathom_service::REQUEST_ID.scope(request_id, next.run(request));
    match tokio::spawn(run.instrument(tracing::Span::current())).await {
        Ok(response) => response,
        Err(error) => {
            tracing::error!(error = %error, "a request with an Idempotency-Key failed");
            Problem::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "an internal error occurred; it has been logged",
            )
            .into_response()
        }
    }
}

/// Runs an action on a workflow at most once per `Idempotency-Key` (as [`create_once`]): `act`
/// answers with the workflow's revision and its state, served with 200 and its `ETag`, and
/// `location` names the workflow.
async fn act_once<F, T>(
    state: &AppState,
    caller: &Principal,
    key: IdempotencyKey,
    (path, raw): (&str, &[u8]),
    location: String,
    act: F,
) -> Result<Response, Problem>
where
    F: Future<Output = Result<(i64, T), Problem>>,
    T: Serialize,
{
    let fingerprint: [&[u8]; 3] = [
        axum::http::Method::POST.as_str().as_bytes(),
        path.as_bytes(),
        raw,
    ];
    create_once(state, caller, key, &fingerprint, async {
        let (revision, body) = act.await?;
        written(StatusCode::OK, location, revision, &body)
    })
    .await
}

/// The answer to a retry whose first attempt wrote a record and died before its response was kept:
/// `303 See Other` to the record (the first record it wrote), as a careful client then reads it.
fn see_written(entity: EntityType, id: uuid::Uuid) -> Response {
    let address = match entity {
        EntityType::Dataset => format!("{}/{id}", datasets::PATH),
        EntityType::Organisation => format!("{}/{id}", organisations::PATH),
        EntityType::Entity(kind) => format!("/api/v1/{}/{id}", kind.collection()),
        EntityType::AccessRequest => format!("/api/v1/access-requests/{id}"),
        EntityType::Agreement => format!("/api/v1/agreements/{id}"),
        // A publication's id is its dataset's.
        EntityType::Publication => format!("{}/{id}/actions", datasets::PATH),
        // Grants are read as a list.
        EntityType::Grant => "/api/v1/grants".to_owned(),
    };
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(address) = HeaderValue::try_from(address) {
        response.headers_mut().insert(header::LOCATION, address);
    }
    response
}

fn replay(status: u16, stored: &str) -> Response {
    let mut response = match serde_json::from_str::<Written>(stored) {
        Ok(written) if status == written.status => written.into_response(),
        _ => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = (status, stored.to_owned()).into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
            response
        }
    };
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
