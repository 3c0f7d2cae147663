//! `/api/v1/me`, `/api/v1/users` and `/api/v1/tokens`: who is calling, and (for admins) users and
//! their API tokens.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fathom_model::{Authentication, Membership, Principal, Role, Scope};
use fathom_service::{IssuedToken, NewUser, User};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AppState;
use crate::extract::{Caller, JsonBody};
use crate::problem::Problem;

/// A user as Fathom knows them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserBody {
    pub username: String,
    /// `admin` (manages everything), `editor` (edits in every organisation) or `viewer`.
    pub role: Role,
    /// A classification of the security policy; absent: the policy's public one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clearance: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nationality: Option<String>,
    pub communities: Vec<String>,
    pub memberships: Vec<Membership>,
}

impl From<User> for UserBody {
    fn from(user: User) -> Self {
        Self {
            username: user.name,
            role: user.role,
            clearance: user.clearance,
            nationality: user.nationality,
            communities: user.communities,
            memberships: user.memberships,
        }
    }
}

/// The caller, as the access decisions see them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    #[serde(flatten)]
    pub user: UserBody,
    /// How the request was authenticated.
    pub authenticated_by: Authentication,
    /// What the token used may do.
    pub scopes: Vec<Scope>,
}

/// A user to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    pub username: String,
    /// Defaults to `viewer`.
    pub role: Option<Role>,
    pub clearance: Option<String>,
    pub nationality: Option<String>,
    #[serde(default)]
    pub communities: Vec<String>,
    #[serde(default)]
    pub memberships: Vec<Membership>,
}

/// A token to issue.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    #[serde(default)]
    pub description: String,
    /// Days until it expires; without it, it does not.
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<u32>,
    /// What it may do (`read`, `write`, `admin`); all the user's role allows when absent.
    pub scopes: Option<Vec<Scope>>,
}

/// A token just issued: `token` is shown this once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenBody {
    pub id: Uuid,
    pub username: String,
    pub token: String,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>)]
    pub expires_at: Option<OffsetDateTime>,
}

impl From<IssuedToken> for TokenBody {
    fn from(issued: IssuedToken) -> Self {
        Self {
            id: issued.id,
            username: issued.user,
            token: issued.secret,
            expires_at: issued.expires_at,
        }
    }
}

/// The caller: identity, role, clearance, nationality, communities and memberships.
#[utoipa::path(get, operation_id = "me", path = "/api/v1/me", tag = "security",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Me),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn me(Caller(caller): Caller) -> Json<Me> {
    let (scopes, authenticated_by) = (caller.scopes.clone(), caller.authentication);
    Json(Me {
        user: principal_body(caller),
        authenticated_by,
        scopes,
    })
}

fn principal_body(principal: Principal) -> UserBody {
    UserBody {
        username: principal.name,
        role: principal.role,
        clearance: principal.clearance,
        nationality: principal.nationality.map(|n| n.as_str().to_owned()),
        communities: principal.communities,
        memberships: principal.memberships,
    }
}

/// Lists the users (admin).
#[utoipa::path(get, operation_id = "users_list", path = "/api/v1/users", tag = "security",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "OK", body = Vec<UserBody>),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
) -> Result<Json<Vec<UserBody>>, Problem> {
    let users = state.identity.users_as(&caller).await?;
    Ok(Json(users.into_iter().map(UserBody::from).collect()))
}

/// Creates a user (admin), their clearance, nationality and communities checked against the policy.
#[utoipa::path(post, operation_id = "users_create", path = "/api/v1/users", tag = "security",
    request_body = UserInput, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = UserBody),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The username is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    body: JsonBody<UserInput>,
) -> Result<Response, Problem> {
    let input = body.value;
    let user = state
        .identity
        .create_user_as(
            &caller,
            NewUser {
                name: input.username,
                role: input.role.unwrap_or(Role::Viewer),
                clearance: input.clearance,
                nationality: input.nationality,
                communities: input.communities,
                memberships: input.memberships,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(UserBody::from(user))).into_response())
}

/// Issues an API token to a user (admin); the token is in this answer only.
#[utoipa::path(post, operation_id = "tokens_create", path = "/api/v1/users/{username}/tokens", tag = "security",
    params(("username" = String, Path)), request_body = TokenInput, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = TokenBody),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn issue_token(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(username): Path<String>,
    body: JsonBody<TokenInput>,
) -> Result<Response, Problem> {
    let input = body.value;
    let expires_at = fathom_service::token_expiry(input.expires_in_days)?;
    let issued = state
        .identity
        .issue_token_as(
            &caller,
            &username,
            &input.description,
            expires_at,
            input.scopes,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(TokenBody::from(issued))).into_response())
}

/// Revokes a token (admin): at once on this server, within 5 s on the others.
#[utoipa::path(delete, operation_id = "tokens_revoke", path = "/api/v1/tokens/{id}", tag = "security",
    params(("id" = Uuid, Path)), security(("bearer" = [])),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such token", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn revoke_token(
    State(state): State<Arc<AppState>>,
    Caller(caller): Caller,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, Problem> {
    state.identity.revoke_token_as(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
