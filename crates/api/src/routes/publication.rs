//! The publication workflow of a dataset: `/api/v1/datasets/{key}/actions` (its state, history and
//! who must act next; `POST` acts) and `/api/v1/datasets/{key}/working-copy` (the next version of a
//! published dataset, reviewed before it replaces it).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use fathom_model::DatasetInput;
use fathom_service::{ActionInput, PublicationView, RELEASE_ACTIONS, RecordKey, WorkingCopyView};

use super::{act_once, record};
use crate::AppState;
use crate::extract::{Caller, IdempotencyKey, IfMatch, JsonBody};
use crate::problem::Problem;

/// The dataset's publication workflow: its state, its working copy's, who must review, the history
/// of every step (who, when, why). `review` says whether its data domain reviews publication.
#[utoipa::path(get, operation_id = "datasets_publication", path = "/api/v1/datasets/{key}/actions", tag = "datasets",
    params(("key" = String, Path, description = "Id or slug")), security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = PublicationView, headers(("ETag" = String, description = "The workflow's revision"))),
        (status = 404, description = "No such dataset", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn publication(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let view = state
        .catalogue
        .publication(&caller, &RecordKey::parse(&key))
        .await?;
    Ok(record(&headers, view.revision, &view))
}

/// Acts on the dataset's publication, where its data domain reviews publication: `submit` (an
/// editor: the draft, or the working copy of a published dataset), `withdraw` (an editor), `approve`
/// (a steward of its organisation or data domain, never of what they submitted: publishes the
/// draft, or puts the working copy in place of the published record), `return` (for changes),
/// `deprecate`, `retire`. And the release of its label (one that lets more people read it):
/// `request_release` with `security_label` (a steward cleared for both labels), `approve_release` or
/// `reject_release` (a release officer cleared for both, not the requester), `withdraw_release`.
/// Honours `If-Match` (the workflow's ETag) and `Idempotency-Key`.
#[utoipa::path(post, operation_id = "datasets_act", path = "/api/v1/datasets/{key}/actions", tag = "datasets",
    request_body = ActionInput,
    params(("key" = String, Path, description = "Id or slug"),
        ("If-Match" = Option<String>, Header, description = "The workflow's ETag the action is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request safe")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Done: the workflow as it is now", body = PublicationView, headers(("ETag" = String))),
        (status = 403, description = "Not an editor or reviewer of the dataset, or approving one's own submission", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such dataset", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not from the dataset's state, the domain does not review publication, or another action came first", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names an older revision", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown action", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn act(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(key): Path<String>,
    if_match: IfMatch,
    idempotency_key: IdempotencyKey,
    body: JsonBody<ActionInput>,
) -> Result<Response, Problem> {
    let expected = if_match.optional()?;
    let path = format!("/api/v1/datasets/{key}/actions");
    let key = RecordKey::parse(&key);
    let release = body
        .value
        .action
        .as_deref()
        .is_some_and(|action| RELEASE_ACTIONS.contains(&action));
    act_once(
        &state,
        &caller,
        idempotency_key,
        (&path, &body.raw),
        path.clone(),
        async {
            let view = if release {
                state
                    .sharing
                    .act_on_release(&caller, &key, expected, body.value.clone())
                    .await?;
                state.catalogue.publication(&caller, &key).await?
            } else {
                state
                    .catalogue
                    .act_on_publication(&caller, &key, expected, body.value.clone())
                    .await?
            };
            Ok((view.revision, view))
        },
    )
    .await
}

/// The working copy of a published dataset (its editors and reviewers).
#[utoipa::path(get, operation_id = "datasets_working_copy", path = "/api/v1/datasets/{key}/working-copy", tag = "datasets",
    params(("key" = String, Path, description = "Id or slug")), security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = WorkingCopyView, headers(("ETag" = String, description = "The workflow's revision"))),
        (status = 403, description = "Not an editor or reviewer of the dataset", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such dataset, or no working copy", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn working_copy(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let (revision, view) = state
        .catalogue
        .working_copy(&caller, &RecordKey::parse(&key))
        .await?;
    Ok(record(&headers, revision, &view))
}

/// Writes the working copy of a published dataset whose data domain reviews publication: the next
/// version, checked as a dataset write is, kept apart until a reviewer approves it (`submit` it with
/// `POST …/actions`). With `If-Match`, only over that revision of the workflow.
#[utoipa::path(put, operation_id = "datasets_put_working_copy", path = "/api/v1/datasets/{key}/working-copy", tag = "datasets",
    request_body = DatasetInput,
    params(("key" = String, Path, description = "Id or slug"),
        ("If-Match" = Option<String>, Header, description = "The workflow's ETag")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Written", body = WorkingCopyView, headers(("ETag" = String))),
        (status = 409, description = "Not a published dataset of a reviewing domain, or the copy is in review", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names an older revision", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn put_working_copy(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(key): Path<String>,
    if_match: IfMatch,
    headers: HeaderMap,
    body: JsonBody<DatasetInput>,
) -> Result<Response, Problem> {
    let expected = if_match.optional()?;
    let (revision, view) = state
        .catalogue
        .put_working_copy(&caller, &RecordKey::parse(&key), expected, body.value)
        .await?;
    Ok(record(&headers, revision, &view))
}

/// Discards a working copy that is not in review (an editor).
#[utoipa::path(delete, operation_id = "datasets_discard_working_copy", path = "/api/v1/datasets/{key}/working-copy", tag = "datasets",
    params(("key" = String, Path, description = "Id or slug"),
        ("If-Match" = Option<String>, Header, description = "The workflow's ETag")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Discarded"),
        (status = 404, description = "No such dataset, or no working copy", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The copy is in review", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn discard_working_copy(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(key): Path<String>,
    if_match: IfMatch,
) -> Result<Response, Problem> {
    let expected = if_match.optional()?;
    state
        .catalogue
        .discard_working_copy(&caller, &RecordKey::parse(&key), expected)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
