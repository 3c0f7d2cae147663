//! The data sharing workflows: `/api/v1/access-requests` and their `actions`, `/api/v1/inbox`,
//! `/api/v1/grants` and their `actions`, `/api/v1/agreements` and theirs, and `/api/v1/audit`. Every workflow has the same shape: a
//! `POST` creates, `POST …/{id}/actions` acts (`{action, comment, …}`), a `GET` shows the state, its
//! history and who must act next.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use fathom_model::{AccessRequestInput, Agreement, AgreementInput};
use fathom_service::{
    AccessRequestView, ActionInput, AuditEvent, AuditFilter, GrantScope, GrantView, InboxItem,
    RecordKey,
};
use serde::Deserialize;
use uuid::Uuid;

use super::{act_once, create_once, created, record};
use crate::AppState;
use crate::extract::{Caller, IdempotencyKey, IfMatch, JsonBody};
use crate::pagination::{Cursor, Page, PageQuery, with_cursor};
use crate::problem::Problem;

const REQUESTS: &str = "/api/v1/access-requests";
const AGREEMENTS: &str = "/api/v1/agreements";

/// Which requests to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RequestsQuery {
    /// `true`: everyone's requests (admins only); otherwise the caller's own.
    #[param(value_type = Option<bool>)]
    all: Option<String>,
    /// Page size, 1 to 1000 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// Opaque; from the previous page's `next`.
    cursor: Option<String>,
}

/// The caller's access requests (an admin's `all=true`: everyone's), in order of submission.
#[utoipa::path(get, operation_id = "access_requests_list", path = "/api/v1/access-requests", tag = "sharing",
    params(RequestsQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Page<AccessRequestView>),
        (status = 403, description = "`all` without being an admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn requests(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Query(query): Query<RequestsQuery>,
) -> Result<Page<AccessRequestView>, Problem> {
    let all = flag("all", query.all.as_deref())?;
    let (limit, after) = page(query.limit.clone(), query.cursor.clone()).after_id()?;
    let items = state
        .sharing
        .access_requests(&caller, all, after, limit + 1)
        .await?;
    let all_text = all.then_some("true");
    let limit_text = limit.to_string();
    Ok(Page::from_fetched(
        items,
        limit,
        |r| Cursor::Id(r.request.id),
        |cursor| {
            with_cursor(
                REQUESTS,
                &[("all", all_text), ("limit", Some(&limit_text))],
                cursor,
            )
        },
    ))
}

/// Asks for access to a dataset for a purpose and a period. The requester must be cleared for the
/// dataset's classification; its releasability and need-to-know are what approval lifts. A dataset
/// they may not see is named by its id (one shared with them); by slug, or above their
/// classification, it is not found, exactly like an unknown one. The approval chain comes from the
/// configured rules. Honours `Idempotency-Key`.
#[utoipa::path(post, operation_id = "access_requests_create", path = "/api/v1/access-requests", tag = "sharing",
    request_body = AccessRequestInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request safe")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Submitted", body = AccessRequestView, headers(("ETag" = String), ("Location" = String))),
        (status = 404, description = "No such dataset (or none the caller may ask for)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The caller may already read it, or nobody else could approve", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A missing purpose, a period that ends before it starts or lasts too long", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn request_access(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    key: IdempotencyKey,
    body: JsonBody<AccessRequestInput>,
) -> Result<Response, Problem> {
    let fingerprint: [&[u8]; 3] = [
        Method::POST.as_str().as_bytes(),
        REQUESTS.as_bytes(),
        &body.raw,
    ];
    create_once(&state, &caller, key, &fingerprint, async {
        let view = state
            .sharing
            .request_access(&caller, body.value.clone())
            .await?;
        let location = format!("{REQUESTS}/{}", view.request.id);
        created(location, view.request.revision, &view)
    })
    .await
}

/// A request, with its history and who must act next: for its requester, its approvers and admins.
#[utoipa::path(get, operation_id = "access_requests_read", path = "/api/v1/access-requests/{id}", tag = "sharing",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = AccessRequestView, headers(("ETag" = String))),
        (status = 404, description = "No such request, or not one the caller is part of", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn request(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let view = state.sharing.access_request(&caller, id).await?;
    Ok(record(&headers, view.request.revision, &view))
}

/// Acts on a request: `approve`, `reject`, `return` (for changes), `delegate` (`to` a user) by an
/// approver of the current step; `amend` (a returned request) or `withdraw` by its requester.
/// Nobody approves their own request, or releases a label they are not cleared for. With
/// `If-Match`, the action applies only to that revision; of two actions on the same revision, one
/// wins and the other is a 409. Honours `Idempotency-Key`.
#[utoipa::path(post, operation_id = "access_requests_act", path = "/api/v1/access-requests/{id}/actions", tag = "sharing",
    request_body = ActionInput,
    params(("id" = Uuid, Path),
        ("If-Match" = Option<String>, Header, description = "The ETag the action is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request safe")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Done: the request as it is now", body = AccessRequestView, headers(("ETag" = String))),
        (status = 403, description = "Not an approver of the current step, the caller's own request, or a label the caller may not release", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such request, or not one the caller is part of", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not allowed from the request's state, or another action came first", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names an older revision", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown action", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn act(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(id): Path<Uuid>,
    if_match: IfMatch,
    key: IdempotencyKey,
    body: JsonBody<ActionInput>,
) -> Result<Response, Problem> {
    let expected = if_match.optional()?;
    let path = format!("{REQUESTS}/{id}/actions");
    act_once(
        &state,
        &caller,
        key,
        (&path, &body.raw),
        format!("{REQUESTS}/{id}"),
        async {
            let view = state
                .sharing
                .act(&caller, id, expected, body.value.clone())
                .await?;
            Ok((view.request.revision, view))
        },
    )
    .await
}

/// What waits for the caller, in order of id: access requests to decide (or, returned, to amend),
/// agreements their organisation must sign, datasets to review, releases to decide; each with where
/// to act on it, its deadline and whether that has passed. (At most 500 items of each kind are
/// looked at.)
#[utoipa::path(get, operation_id = "inbox", path = "/api/v1/inbox", tag = "sharing",
    params(PageQuery), security(("bearer" = [])),
    responses((status = 200, description = "OK", body = Page<InboxItem>)))]
pub async fn inbox(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Query(query): Query<PageQuery>,
) -> Result<Page<InboxItem>, Problem> {
    let (limit, after) = query.after_text()?;
    let items: Vec<InboxItem> = state
        .sharing
        .inbox(&caller)
        .await?
        .into_iter()
        .filter(|item| {
            after
                .as_deref()
                .is_none_or(|after| inbox_key(item).as_str() > after)
        })
        .take(limit as usize + 1)
        .collect();
    let limit_text = limit.to_string();
    Ok(Page::from_fetched(
        items,
        limit,
        |item| Cursor::Text(inbox_key(item)),
        |cursor| with_cursor("/api/v1/inbox", &[("limit", Some(&limit_text))], cursor),
    ))
}

/// An item's place in the inbox: its id, then its kind (a dataset may wait for a review and a
/// release at once).
fn inbox_key(item: &InboxItem) -> String {
    format!("{}/{}", item.id, item.kind)
}

/// Which grants to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GrantsQuery {
    /// Who may read this dataset (id or slug) through grants: for its stewards, security officers
    /// and admins.
    dataset: Option<String>,
    /// `true`: every grant (security officers, auditors and admins); with `dataset`, every grant of
    /// that dataset, as `dataset` alone.
    #[param(value_type = Option<bool>)]
    all: Option<String>,
    /// Page size, 1 to 1000 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// Opaque; from the previous page's `next`.
    cursor: Option<String>,
}

/// Grants: the caller's and their organisations' (by default), a dataset's, or all, each with its
/// state now (`pending`, `active`, `expired`, `revoked`).
#[utoipa::path(get, operation_id = "grants_list", path = "/api/v1/grants", tag = "sharing",
    params(GrantsQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Page<GrantView>),
        (status = 403, description = "Not one who oversees these grants", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such dataset the caller may see", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn grants(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Query(query): Query<GrantsQuery>,
) -> Result<Page<GrantView>, Problem> {
    let all = flag("all", query.all.as_deref())?;
    let scope = match (&query.dataset, all) {
        (Some(dataset), _) => GrantScope::Dataset(RecordKey::parse(dataset)),
        (None, true) => GrantScope::All,
        (None, false) => GrantScope::Mine,
    };
    let (limit, after) = page(query.limit.clone(), query.cursor.clone()).after_id()?;
    let items = state
        .sharing
        .grants(&caller, scope, after, limit + 1)
        .await?;
    let limit_text = limit.to_string();
    let all_text = all.then_some("true");
    Ok(Page::from_fetched(
        items,
        limit,
        |g| Cursor::Id(g.grant.id),
        |cursor| {
            with_cursor(
                "/api/v1/grants",
                &[
                    ("dataset", query.dataset.as_deref()),
                    ("all", all_text),
                    ("limit", Some(&limit_text)),
                ],
                cursor,
            )
        },
    ))
}

/// Acts on a grant: `revoke` (with a `comment` saying why) ends it at once, on every read path. For
/// the dataset's stewards, security officers and admins.
#[utoipa::path(post, operation_id = "grants_act", path = "/api/v1/grants/{id}/actions", tag = "sharing",
    request_body = ActionInput,
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 200, description = "Revoked", body = GrantView),
        (status = 403, description = "The grant's holder, who cannot revoke it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such grant the caller may see", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already revoked or expired", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown action", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn act_on_grant(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(id): Path<Uuid>,
    body: JsonBody<ActionInput>,
) -> Result<axum::Json<GrantView>, Problem> {
    Ok(axum::Json(
        state.sharing.revoke_grant(&caller, id, body.value).await?,
    ))
}

/// The agreements the caller's organisations are party to (an admin's: all), in order of creation.
#[utoipa::path(get, operation_id = "agreements_list", path = "/api/v1/agreements", tag = "sharing",
    params(PageQuery), security(("bearer" = [])),
    responses((status = 200, description = "OK", body = Page<Agreement>)))]
pub async fn agreements(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Query(query): Query<PageQuery>,
) -> Result<Page<Agreement>, Problem> {
    let (limit, after) = query.after_id()?;
    let items = state.sharing.agreements(&caller, after, limit + 1).await?;
    let limit_text = limit.to_string();
    Ok(Page::from_fetched(
        items,
        limit,
        |a| Cursor::Id(a.id),
        |cursor| with_cursor(AGREEMENTS, &[("limit", Some(&limit_text))], cursor),
    ))
}

/// Writes a draft agreement by which a provider shares some of its datasets with recipient
/// organisations for a period and a purpose, with ODRL terms: extra permissions (`reproduce`,
/// `derive`, `aggregate`), prohibitions (`distribute`, `commercialize`) and duties (`attribution`,
/// `delete_by`, `notify`). By an admin of the provider who may read each dataset. Honours
/// `Idempotency-Key`.
#[utoipa::path(post, operation_id = "agreements_create", path = "/api/v1/agreements", tag = "sharing",
    request_body = AgreementInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request safe")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "A draft", body = Agreement, headers(("ETag" = String), ("Location" = String))),
        (status = 403, description = "Not an admin of the provider", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown organisations, datasets that are not the provider's, a period that ends before it starts", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create_agreement(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    key: IdempotencyKey,
    body: JsonBody<AgreementInput>,
) -> Result<Response, Problem> {
    let fingerprint: [&[u8]; 3] = [
        Method::POST.as_str().as_bytes(),
        AGREEMENTS.as_bytes(),
        &body.raw,
    ];
    create_once(&state, &caller, key, &fingerprint, async {
        let agreement = state
            .sharing
            .create_agreement(&caller, body.value.clone())
            .await?;
        created(
            format!("{AGREEMENTS}/{}", agreement.id),
            agreement.revision,
            &agreement,
        )
    })
    .await
}

/// An agreement, with its signatures and history: for members of its parties and admins.
#[utoipa::path(get, operation_id = "agreements_read", path = "/api/v1/agreements/{id}", tag = "sharing",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Agreement, headers(("ETag" = String))),
        (status = 404, description = "No such agreement, or not one of the caller's organisations'", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn agreement(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let agreement = state.sharing.agreement(&caller, id).await?;
    Ok(record(&headers, agreement.revision, &agreement))
}

/// The agreement as an ODRL 2.2 `Agreement` in JSON-LD (its context inline): the provider as
/// assigner, the recipients as assignees, per dataset a permission to use it within the purpose and
/// the period with the duties, the further permissions, and the prohibitions.
#[utoipa::path(get, operation_id = "agreements_odrl", path = "/api/v1/agreements/{id}/odrl", tag = "sharing",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", content_type = "application/ld+json", body = Object),
        (status = 404, description = "No such agreement, or not one of the caller's organisations'", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn agreement_odrl(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(id): Path<Uuid>,
) -> Result<Response, Problem> {
    let document = state
        .sharing
        .agreement_odrl(&caller, id, &state.site)
        .await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            fathom_formats::odrl::MEDIA_TYPE,
        )],
        document.to_string(),
    )
        .into_response())
}

/// Acts on an agreement: `propose` (an admin of the provider, cleared for every dataset: the
/// provider's signature), `accept` (an admin of a recipient: its signature; the last one puts it in
/// force and grants each recipient the datasets), `decline` (a recipient sends it back as a draft),
/// `terminate` (an admin of any party; its grants are revoked at once). Honours `If-Match` and
/// `Idempotency-Key`.
#[utoipa::path(post, operation_id = "agreements_act", path = "/api/v1/agreements/{id}/actions", tag = "sharing",
    request_body = ActionInput,
    params(("id" = Uuid, Path),
        ("If-Match" = Option<String>, Header, description = "The ETag the action is based on"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request safe")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Done: the agreement as it is now", body = Agreement, headers(("ETag" = String))),
        (status = 403, description = "Not an admin of the party the action is for, or not cleared for its datasets", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such agreement, or not one of the caller's organisations'", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not allowed from the agreement's state, or another action came first", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "`If-Match` names an older revision", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An unknown action", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn act_on_agreement(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(id): Path<Uuid>,
    if_match: IfMatch,
    key: IdempotencyKey,
    body: JsonBody<ActionInput>,
) -> Result<Response, Problem> {
    let expected = if_match.optional()?;
    let path = format!("{AGREEMENTS}/{id}/actions");
    act_once(
        &state,
        &caller,
        key,
        (&path, &body.raw),
        format!("{AGREEMENTS}/{id}"),
        async {
            let agreement = state
                .sharing
                .act_on_agreement(&caller, id, expected, body.value.clone())
                .await?;
            Ok((agreement.revision, agreement))
        },
    )
    .await
}

/// Which audit entries to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this actor's entries (a user name, or `fathom` for the system).
    actor: Option<String>,
    /// Only the entries about this subject (a request, grant, agreement or dataset id, a user…).
    subject: Option<String>,
    /// Only entries of this event (`access_request_approved`, `grant_revoked`, `label_changed`…).
    event: Option<String>,
    /// Page size, 1 to 1000 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// Opaque; from the previous page's `next`.
    cursor: Option<String>,
}

/// The audit log, oldest first: every decision and security-relevant change, each entry chained
/// to the one before by its SHA-256 (`fathom audit verify` checks the chain), filtered by actor,
/// subject or event. For auditors and admins.
#[utoipa::path(get, operation_id = "audit", path = "/api/v1/audit", tag = "sharing",
    params(AuditQuery), security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Page<AuditEvent>),
        (status = 403, description = "Not an auditor", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn audit(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Query(query): Query<AuditQuery>,
) -> Result<Page<AuditEvent>, Problem> {
    let (limit, after) = page(query.limit.clone(), query.cursor.clone()).after_number()?;
    let filter = AuditFilter {
        actor: query.actor.clone(),
        subject: query.subject.clone(),
        event: query.event.clone(),
    };
    let items = state
        .sharing
        .audit(&caller, &filter, after, limit + 1)
        .await?;
    let limit_text = limit.to_string();
    Ok(Page::from_fetched(
        items,
        limit,
        |e| Cursor::Number(e.seq),
        |cursor| {
            with_cursor(
                "/api/v1/audit",
                &[
                    ("actor", query.actor.as_deref()),
                    ("subject", query.subject.as_deref()),
                    ("event", query.event.as_deref()),
                    ("limit", Some(&limit_text)),
                ],
                cursor,
            )
        },
    ))
}

fn flag(name: &str, raw: Option<&str>) -> Result<bool, Problem> {
    match raw {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(Problem::bad_parameter(name, "must be `true` or `false`")),
    }
}

fn page(limit: Option<String>, cursor: Option<String>) -> PageQuery {
    PageQuery { limit, cursor }
}
