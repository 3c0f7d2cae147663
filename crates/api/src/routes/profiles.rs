//! `/api/v1/profiles`: metadata profiles, versioned JSON Schema documents that datasets declare in
//! `conforms_to` and whose fields they carry in `extensions`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;
use fathom_model::ProfileVersion;
use fathom_service::ProfileSummary;
use serde::Deserialize;

use super::{create_once, created};
use crate::AppState;
use crate::extract::{Caller, IdempotencyKey, JsonBody};
use crate::pagination::Page;
use crate::problem::Problem;

/// Lists the profiles with their versions.
#[utoipa::path(get, operation_id = "profiles_list", path = "/api/v1/profiles", tag = "profiles",
    responses((status = 200, description = "OK", body = Page<ProfileSummary>)))]
pub async fn list(
    State(state): State<Arc<AppState>>,
) -> Result<axum::Json<Page<ProfileSummary>>, Problem> {
    let items = state.catalogue.profiles().await?;
    Ok(axum::Json(Page { items, next: None }))
}

/// Reads a profile: its versions, oldest first, and the latest.
#[utoipa::path(get, operation_id = "profiles_read", path = "/api/v1/profiles/{profile}", tag = "profiles",
    params(("profile" = String, Path)),
    responses(
        (status = 200, description = "OK", body = ProfileSummary),
        (status = 404, description = "No such profile", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn read(
    State(state): State<Arc<AppState>>,
    Path(profile): Path<String>,
) -> Result<axum::Json<ProfileSummary>, Problem> {
    Ok(axum::Json(state.catalogue.profile(&profile).await?))
}

/// A version to register.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVersion {
    /// `MAJOR.MINOR.PATCH`, after the latest.
    #[schema(pattern = "^(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})$")]
    version: String,
    /// A JSON Schema (2020-12) with local references only.
    #[schema(value_type = Object)]
    schema: serde_json::Value,
}

/// Registers a version of a profile (admin). Within a major version, it must be compatible with the
/// latest: fields and allowed values may be added, types widened, limits relaxed; a field removed,
/// a field made required or a type narrowed is refused with each incompatibility explained.
#[utoipa::path(post, operation_id = "profiles_register", path = "/api/v1/profiles/{profile}/versions", tag = "profiles",
    params(("profile" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes a retried request safe")),
    request_body = NewVersion,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered", body = ProfileVersion, headers(("Location" = String))),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not after the latest version", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An invalid schema, a remote reference, or an incompatible change", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn register(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(profile): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<NewVersion>,
) -> Result<Response, Problem> {
    let path = format!("/api/v1/profiles/{profile}/versions");
    let fingerprint: [&[u8]; 3] = [Method::POST.as_str().as_bytes(), path.as_bytes(), &body.raw];
    create_once(&state, &caller, key, &fingerprint, async {
        let registered = state
            .catalogue
            .register_profile_version(
                &caller,
                &profile,
                &body.value.version,
                body.value.schema.clone(),
            )
            .await?;
        created(format!("{path}/{}", registered.version), 1, &registered)
    })
    .await
}

/// Reads one version of a profile, with its schema.
#[utoipa::path(get, operation_id = "profiles_version", path = "/api/v1/profiles/{profile}/versions/{version}", tag = "profiles",
    params(("profile" = String, Path), ("version" = String, Path)),
    responses(
        (status = 200, description = "OK", body = ProfileVersion),
        (status = 404, description = "No such profile version", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn version(
    State(state): State<Arc<AppState>>,
    Path((profile, version)): Path<(String, String)>,
) -> Result<axum::Json<ProfileVersion>, Problem> {
    Ok(axum::Json(
        state.catalogue.profile_version(&profile, &version).await?,
    ))
}
