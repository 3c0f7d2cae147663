//! Users, their API tokens, passwords and browser sessions. Their rows and filters, and `Store`'s methods on them; the SQL is in
//! `repository/users.rs`.

use super::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    /// A classification of the security policy; `None`: the policy's public one.
    pub clearance: Option<String>,
    /// ISO 3166 alpha-3.
    pub nationality: Option<String>,
    /// Communities such as `NATO` or a project: category values the user holds.
    pub communities: Vec<String>,
    pub memberships: Vec<Membership>,
    pub created_at: OffsetDateTime,
}

/// An API token as stored: the secret itself is never kept, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub secret_hash: Vec<u8>,
    pub description: String,
    /// What the token may be used for: `read`, `write`, `admin`.
    pub scopes: Vec<String>,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
}

/// A token as listed: never its secret or hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSummary {
    pub id: Uuid,
    pub user: String,
    pub description: String,
    pub scopes: Vec<String>,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// A signed-in browser's session as stored: the secret in its cookie is never kept, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id_hash: Vec<u8>,
    pub user: SessionUser,
    /// The token every form that changes state carries.
    pub csrf_token: String,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    /// The end of its absolute lifetime.
    pub expires_at: OffsetDateTime,
}

/// Whose a session is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionUser {
    /// A user of `users` (a local account), by id: their attributes are read at every use.
    Local(Uuid),
    /// Someone the OpenID Connect issuer vouched for at sign-in, with the attributes it gave then.
    External(User),
}

impl Store {
    /// Sets a user's password hash, with the audit entry that says so (`NotFound`: no such user).
    pub async fn set_password(
        &self,
        name: &str,
        password_hash: &str,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.set_password(name, password_hash, audit).await)
    }

    /// A user who is not disabled, with their password hash if they have one.
    pub async fn user_with_password(&self, name: &str) -> StoreResult<(User, Option<String>)> {
        dispatch!(self, r => r.user_with_password(name).await)
    }

    /// Inserts a session, with the audit entry of the sign-in.
    pub async fn insert_session(&self, session: &Session, audit: &AuditEvent) -> StoreResult<()> {
        dispatch!(self, r => r.insert_session(session, audit).await)
    }

    /// The session with this hash and its user, if it was seen after `idle_since`, has not
    /// outlived its lifetime at `now`, and its user (a local one) is not disabled.
    pub async fn session(
        &self,
        id_hash: &[u8],
        now: OffsetDateTime,
        idle_since: OffsetDateTime,
    ) -> StoreResult<(User, Session)> {
        dispatch!(self, r => r.session(id_hash, now, idle_since).await)
    }

    /// Records that the session with this hash was used at `now`.
    pub async fn touch_session(&self, id_hash: &[u8], now: OffsetDateTime) -> StoreResult<()> {
        dispatch!(self, r => r.touch_session(id_hash, now).await)
    }

    /// Ends a session (signing out); no error when it is already gone.
    pub async fn delete_session(&self, id_hash: &[u8]) -> StoreResult<()> {
        dispatch!(self, r => r.delete_session(id_hash).await)
    }

    /// Deletes the sessions that outlived their lifetime at `now` or were idle since `idle_since`;
    /// returns how many.
    pub async fn prune_sessions(
        &self,
        now: OffsetDateTime,
        idle_since: OffsetDateTime,
    ) -> StoreResult<u64> {
        dispatch!(self, r => r.prune_sessions(now, idle_since).await)
    }

    /// Inserts a user, with the audit entry that says so.
    pub async fn insert_user(&self, user: &User, audit: &AuditEvent) -> StoreResult<()> {
        dispatch!(self, r => r.insert_user(user, audit).await)
    }

    /// Every user, by name.
    pub async fn users(&self) -> StoreResult<Vec<User>> {
        dispatch!(self, r => r.users().await)
    }

    /// The names of the users who were disabled.
    pub async fn disabled_users(&self) -> StoreResult<HashSet<String>> {
        dispatch!(self, r => r.disabled_users().await)
    }

    pub async fn user_by_name(&self, name: &str) -> StoreResult<User> {
        dispatch!(self, r => r.user_by_name(name).await)
    }

    pub async fn admin_exists(&self) -> StoreResult<bool> {
        dispatch!(self, r => r.admin_exists().await)
    }

    /// Inserts a token, with the audit entry that says so.
    pub async fn insert_token(&self, token: &ApiToken, audit: &AuditEvent) -> StoreResult<()> {
        dispatch!(self, r => r.insert_token(token, audit).await)
    }

    /// The tokens, of one user or of all, newest first.
    pub async fn tokens(&self, user: Option<&str>) -> StoreResult<Vec<TokenSummary>> {
        dispatch!(self, r => r.tokens(user).await)
    }

    /// Records that the token with this hash was used at `now`.
    pub async fn touch_token(&self, secret_hash: &[u8], now: OffsetDateTime) -> StoreResult<()> {
        dispatch!(self, r => r.touch_token(secret_hash, now).await)
    }

    /// Disables a user, with the audit entry that says so: their tokens stop authenticating.
    pub async fn disable_user(
        &self,
        name: &str,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.disable_user(name, now, audit).await)
    }

    /// The user holding the token with this secret hash, and the token's scopes, if the token is
    /// neither revoked nor expired at `now` and the user is not disabled.
    pub async fn user_by_token(
        &self,
        secret_hash: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<(User, Vec<String>)> {
        dispatch!(self, r => r.user_by_token(secret_hash, now).await)
    }

    /// Revokes a token, with the audit entry that says so.
    pub async fn revoke_token(
        &self,
        id: Uuid,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.revoke_token(id, now, audit).await)
    }
}
