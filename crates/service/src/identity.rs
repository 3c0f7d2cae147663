//! Who is calling: API tokens and the users they belong to.
//!
//! A token is `fthm_` followed by 32 random bytes in base64url. Only its SHA-256 is stored: the
//! secret has 256 bits of entropy, so a slow password hash would add nothing against guessing and
//! would cost every request milliseconds (see `docs/decisions/0003-token-hashing.md`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use fathom_model::{
    Authentication, Membership, Nation, Policy, Principal, Role, Scope, ValidationErrors,
};
use fathom_store::{ApiToken, RecordKey, Store, StoreError, TokenSummary, User};
use lru::LruCache;
use serde_json::json;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::access;
use crate::audit::SecurityEvent;
use crate::codes::Code;
use crate::error::ServiceError;
use crate::oidc::{self, Oidc, OidcConfig};
use fathom_store::now;

/// Every token starts with this, so that secret scanners and people can recognise one.
pub const TOKEN_PREFIX: &str = "fthm_";

/// The longest a token may last, in days.
pub const LONGEST_TOKEN_DAYS: u32 = 3650;

/// When a token asked to last `days` (at most [`LONGEST_TOKEN_DAYS`]) expires; never, without.
pub fn token_expiry(days: Option<u32>) -> Result<Option<OffsetDateTime>, ServiceError> {
    match days {
        None => Ok(None),
        Some(days @ 1..=LONGEST_TOKEN_DAYS) => {
            Ok(Some(now() + time::Duration::days(i64::from(days))))
        }
        Some(_) => Err(ValidationErrors::single(
            "/expires_in_days",
            format!("must be from 1 to {LONGEST_TOKEN_DAYS} days"),
        )
        .into()),
    }
}

/// 32 random bytes (256 bits) in base64url: the secret of a token, a session or a form's CSRF token.
pub fn random_secret() -> Result<String, ServiceError> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ServiceError::Fault(format!("no randomness available: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Whether a secret sent (a form's token, a sign-in's state) is the one expected, in a time that does
/// not depend on where they differ. An empty expectation matches nothing.
pub fn secrets_match(sent: &str, expected: &str) -> bool {
    sent.len() == expected.len()
        && !expected.is_empty()
        && sent
            .bytes()
            .zip(expected.bytes())
            .fold(0_u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

/// The shortest bootstrap token accepted, in characters.
const MIN_BOOTSTRAP_TOKEN: usize = 32;

/// A token just created. The secret is shown once and never stored.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub id: Uuid,
    pub user: String,
    pub role: Role,
    pub secret: String,
    pub expires_at: Option<OffsetDateTime>,
}

/// A user to create: their name, global role, and what they may read under the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub name: String,
    pub role: Role,
    /// A classification of the policy; `None`: its public one.
    pub clearance: Option<String>,
    /// ISO 3166 alpha-3.
    pub nationality: Option<String>,
    /// Values of the policy's categories (`NATO`, a project, …).
    pub communities: Vec<String>,
    /// Roles in organisations, which must exist.
    pub memberships: Vec<Membership>,
}

/// How long an authenticated token is trusted without asking the database again: a token revoked
/// (or a user changed) on any replica stops working here within this time.
pub const AUTHENTICATION_TTL: Duration = Duration::from_secs(5);

/// How many recently used tokens are remembered.
const AUTHENTICATION_CACHE: usize = 10_000;

#[derive(Debug, Clone)]
pub struct Identity {
    store: Store,
    policy: Arc<Policy>,
    recent: Arc<RecentTokens>,
    oidc: Option<Arc<Oidc>>,
}

/// Principals of recently authenticated tokens, by the token's digest, with when they were read.
struct RecentTokens {
    ttl: Duration,
    entries: Mutex<LruCache<Vec<u8>, (Principal, Instant)>>,
}

impl std::fmt::Debug for RecentTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecentTokens")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl RecentTokens {
    fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::new(LruCache::new(
                NonZeroUsize::new(AUTHENTICATION_CACHE).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }

    fn get(&self, digest: &[u8]) -> Option<Principal> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(digest) {
            Some((principal, read)) if read.elapsed() < self.ttl => Some(principal.clone()),
            Some(_) => {
                entries.pop(digest);
                None
            }
            None => None,
        }
    }

    fn put(&self, digest: Vec<u8>, principal: Principal) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .put(digest, (principal, Instant::now()));
    }

    fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

impl Identity {
    /// Users and tokens of `store`, trusting an authenticated token for `ttl`
    /// ([`AUTHENTICATION_TTL`] in a server; tests shorten it).
    pub(crate) fn with_authentication_ttl(
        store: Store,
        policy: Arc<Policy>,
        ttl: Duration,
    ) -> Self {
        Self {
            store,
            policy,
            recent: Arc::new(RecentTokens::new(ttl)),
            oidc: None,
        }
    }

    /// Also accepts JWTs from an OpenID Connect issuer, when it names their audience.
    pub(crate) fn with_oidc(mut self, config: OidcConfig) -> Self {
        if let Some(audience) = config.audience.clone() {
            self.oidc = Some(Arc::new(Oidc::new(config, audience)));
        }
        self
    }

    /// Creates a user, checking their clearance, nationality and communities against the policy
    /// (for the command line, whose operator the audit log does not name).
    pub async fn create_user(&self, new: NewUser) -> Result<User, ServiceError> {
        self.create_user_by(None, new).await
    }

    /// [`Identity::create_user`], done by `actor` as the audit log says.
    async fn create_user_by(
        &self,
        actor: Option<&str>,
        new: NewUser,
    ) -> Result<User, ServiceError> {
        check_name(&new.name)?;
        let mut errors = ValidationErrors::default();
        if let Some(clearance) = &new.clearance
            && self.policy.rank(clearance).is_none()
        {
            errors.push(
                "/clearance",
                format!(
                    "`{clearance}` is not one of {}",
                    self.policy.document().classifications.join(", ")
                ),
            );
        }
        if let Some(nationality) = &new.nationality {
            errors.check("/nationality", Nation::parse(nationality));
        }
        let values: Vec<&String> = self
            .policy
            .document()
            .categories
            .iter()
            .flat_map(|c| &c.values)
            .collect();
        for (n, community) in new.communities.iter().enumerate() {
            if !values.contains(&community) {
                errors.push(
                    format!("/communities/{n}"),
                    format!("`{community}` is not a value of any category of the policy"),
                );
            }
        }
        for (n, membership) in new.memberships.iter().enumerate() {
            let organisation = RecordKey::Slug(membership.organisation.as_str().to_owned());
            match self.store.organisation(&organisation).await {
                Ok(_) => {}
                Err(StoreError::NotFound) => errors.push(
                    format!("/memberships/{n}/organisation"),
                    format!("no organisation `{}`", membership.organisation.as_str()),
                ),
                Err(other) => return Err(ServiceError::Internal(other)),
            }
        }
        if !errors.is_empty() {
            return Err(errors.into());
        }
        let user = User {
            id: Uuid::now_v7(),
            name: new.name,
            role: new.role,
            clearance: new.clearance,
            nationality: new.nationality,
            communities: new.communities,
            memberships: new.memberships,
            created_at: now(),
        };
        let event = SecurityEvent {
            event: "user_created",
            actor,
            subject: Some(user.name.clone()),
            details: json!({"role": user.role.as_str(), "clearance": user.clearance,
                            "nationality": user.nationality, "communities": user.communities,
                            "memberships": user.memberships}),
        };
        self.store
            .insert_user(&user, &event.entry())
            .await
            .map_err(|e| ServiceError::from_store("user", e))?;
        event.log();
        Ok(user)
    }

    /// The tokens, of one user or all, newest first (never their secrets).
    pub async fn tokens(&self, user: Option<&str>) -> Result<Vec<TokenSummary>, ServiceError> {
        self.store
            .tokens(user)
            .await
            .map_err(ServiceError::Internal)
    }

    /// Disables a user: their tokens stop working (within [`AUTHENTICATION_TTL`] elsewhere).
    pub async fn disable_user(&self, name: &str) -> Result<(), ServiceError> {
        let event = SecurityEvent {
            event: "user_disabled",
            actor: None,
            subject: Some(name.to_owned()),
            details: json!({}),
        };
        self.store
            .disable_user(name, now(), &event.entry())
            .await
            .map_err(|e| ServiceError::from_store("user", e))?;
        self.recent.clear();
        event.log();
        Ok(())
    }

    /// Records a refused credential (`how`: `api_token` or `oidc`).
    async fn refused(&self, how: &'static str) {
        SecurityEvent {
            event: "authentication_failed",
            actor: None,
            subject: None,
            details: json!({"credential": how}),
        }
        .record(&self.store)
        .await;
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<User>, ServiceError> {
        self.store.users().await.map_err(ServiceError::Internal)
    }

    /// [`Identity::create_user`] on behalf of `admin`.
    pub async fn create_user_as(
        &self,
        admin: &Principal,
        new: NewUser,
    ) -> Result<User, ServiceError> {
        access::require_administrator(admin, "only an admin may manage users and tokens")?;
        self.create_user_by(Some(&admin.name), new).await
    }

    /// [`Identity::users`] for `admin`.
    pub async fn users_as(&self, admin: &Principal) -> Result<Vec<User>, ServiceError> {
        access::require_administrator(admin, "only an admin may manage users and tokens")?;
        self.users().await
    }

    /// Issues a token to the existing user `name`, on behalf of `admin`.
    pub async fn issue_token_as(
        &self,
        admin: &Principal,
        name: &str,
        description: &str,
        expires_at: Option<OffsetDateTime>,
        scopes: Option<Vec<Scope>>,
    ) -> Result<IssuedToken, ServiceError> {
        access::require_administrator(admin, "only an admin may manage users and tokens")?;
        let user = self
            .store
            .user_by_name(name)
            .await
            .map_err(|e| ServiceError::from_store("user", e))?;
        self.issue_token(Some(&admin.name), user, description, expires_at, scopes)
            .await
    }

    /// A new token for the signed-in user themselves, with all their role allows (the account
    /// page).
    pub async fn issue_own_token(
        &self,
        principal: &Principal,
        description: &str,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<IssuedToken, ServiceError> {
        let user = self.own_account(principal).await?;
        self.issue_token(Some(&principal.name), user, description, expires_at, None)
            .await
    }

    /// The signed-in user's own tokens; `None` for someone with no local account (signed in at
    /// the OpenID Connect issuer).
    pub async fn own_tokens(
        &self,
        principal: &Principal,
    ) -> Result<Option<Vec<TokenSummary>>, ServiceError> {
        match self.own_account(principal).await {
            Ok(_) => self.tokens(Some(&principal.name)).await.map(Some),
            Err(ServiceError::Refused { .. } | ServiceError::NotFound(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }

    /// The local account `principal` is: someone the OpenID Connect issuer vouched for has none,
    /// even when a local user has the same name.
    async fn own_account(&self, principal: &Principal) -> Result<User, ServiceError> {
        let user = self
            .store
            .user_by_name(&principal.name)
            .await
            .map_err(|e| ServiceError::from_store("user", e))?;
        if user.id != principal.user_id {
            return Err(ServiceError::refused(
                Code::Forbidden,
                "API tokens are for local accounts; ask your identity provider for one",
            ));
        }
        Ok(user)
    }

    /// Revokes one of the signed-in user's own tokens (`NotFound` for anyone else's).
    pub async fn revoke_own_token(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<(), ServiceError> {
        self.own_account(principal).await?;
        let own = self.tokens(Some(&principal.name)).await?;
        if !own.iter().any(|token| token.id == id) {
            return Err(ServiceError::NotFound("token"));
        }
        self.revoke_token_by(Some(&principal.name), id).await
    }

    /// [`Identity::revoke_token`] on behalf of `admin`.
    pub async fn revoke_token_as(&self, admin: &Principal, id: Uuid) -> Result<(), ServiceError> {
        access::require_administrator(admin, "only an admin may manage users and tokens")?;
        self.revoke_token_by(Some(&admin.name), id).await
    }

    /// The principal holding this bearer token, if it is valid, unrevoked and unexpired.
    /// Asks the database at most once per [`AUTHENTICATION_TTL`] per token.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, ServiceError> {
        if !token.starts_with(TOKEN_PREFIX) && token.len() < MIN_BOOTSTRAP_TOKEN {
            return Err(ServiceError::Unauthenticated);
        }
        let digest = digest(token);
        if let Some(principal) = self.recent.get(&digest) {
            return Ok(principal);
        }
        if let Some(oidc) = &self.oidc
            && oidc::is_jwt(token)
        {
            let principal = match oidc.verify(token).await {
                Ok(principal) => principal,
                Err(error) => {
                    self.refused("oidc").await;
                    return Err(error);
                }
            };
            self.recent.put(digest, principal.clone());
            return Ok(principal);
        }
        match self.store.user_by_token(&digest, now()).await {
            Ok((user, scopes)) => {
                let scopes = scopes.iter().filter_map(|s| Scope::parse(s).ok()).collect();
                let principal = principal(user, scopes);
                self.recent.put(digest.clone(), principal.clone());
                // When it was last used, to within the cache's time: off the request's path.
                let store = self.store.clone();
                tokio::spawn(async move {
                    if let Err(error) = store.touch_token(&digest, now()).await {
                        tracing::warn!(?error, "cannot record when a token was used");
                    }
                });
                Ok(principal)
            }
            Err(StoreError::NotFound) => {
                self.refused("api_token").await;
                Err(ServiceError::Unauthenticated)
            }
            Err(other) => Err(ServiceError::Internal(other)),
        }
    }

    /// Creates a token for the user `name`, creating the user with `role` if it does not exist.
    /// An existing user keeps its role, which must then be `role`.
    pub async fn create_token(
        &self,
        name: &str,
        role: Role,
        description: &str,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<IssuedToken, ServiceError> {
        self.create_scoped_token(name, role, description, expires_at, None)
            .await
    }

    /// As [`Identity::create_token`], the token limited to `scopes` (which the role must allow;
    /// `None`: all it allows).
    pub async fn create_scoped_token(
        &self,
        name: &str,
        role: Role,
        description: &str,
        expires_at: Option<OffsetDateTime>,
        scopes: Option<Vec<Scope>>,
    ) -> Result<IssuedToken, ServiceError> {
        let user = self.user(name, role).await?;
        self.issue_token(None, user, description, expires_at, scopes)
            .await
    }

    /// A new token of `user`, limited to `scopes` (`None`: all the user's role allows), issued
    /// by `actor` as the audit log says.
    async fn issue_token(
        &self,
        actor: Option<&str>,
        user: User,
        description: &str,
        expires_at: Option<OffsetDateTime>,
        scopes: Option<Vec<Scope>>,
    ) -> Result<IssuedToken, ServiceError> {
        let role = user.role;
        let allowed = Scope::allowed_to(role);
        let mut scopes = scopes.unwrap_or_else(|| allowed.clone());
        let mut errors = ValidationErrors::default();
        for (n, beyond) in scopes.iter().enumerate() {
            if !allowed.contains(beyond) {
                errors.push(
                    format!("/scopes/{n}"),
                    format!(
                        "a token of a {} cannot have the scope {}",
                        role.as_str(),
                        beyond.as_str()
                    ),
                );
            }
        }
        errors.into_result(|| ())?;
        if !scopes.contains(&Scope::Read) {
            scopes.push(Scope::Read);
        }
        scopes.sort();
        scopes.dedup();
        let secret = format!("{TOKEN_PREFIX}{}", random_secret()?);
        let id = self
            .store_token(actor, &user, &secret, description, expires_at, &scopes)
            .await?;
        Ok(IssuedToken {
            id,
            user: user.name,
            role,
            secret,
            expires_at,
        })
    }

    /// When no admin exists yet, creates the user `admin` holding `secret` as its token (for
    /// automation: `FATHOM_BOOTSTRAP_TOKEN`). Returns whether it did.
    pub async fn bootstrap_admin(&self, secret: &str) -> Result<bool, ServiceError> {
        if secret.len() < MIN_BOOTSTRAP_TOKEN || secret.chars().any(|c| c.is_whitespace()) {
            return Err(ValidationErrors::single(
                "",
                format!("the bootstrap token must be at least {MIN_BOOTSTRAP_TOKEN} characters without spaces"),
            )
            .into());
        }
        if self
            .store
            .admin_exists()
            .await
            .map_err(ServiceError::Internal)?
        {
            return Ok(false);
        }
        let user = self.user("admin", Role::Admin).await?;
        self.store_token(None, &user, secret, "bootstrap", None, &Scope::ALL)
            .await?;
        Ok(true)
    }

    /// Revokes a token: at once on this replica, within [`AUTHENTICATION_TTL`] on the others.
    pub async fn revoke_token(&self, id: Uuid) -> Result<(), ServiceError> {
        self.revoke_token_by(None, id).await
    }

    /// [`Identity::revoke_token`], done by `actor` as the audit log says.
    async fn revoke_token_by(&self, actor: Option<&str>, id: Uuid) -> Result<(), ServiceError> {
        let event = SecurityEvent {
            event: "token_revoked",
            actor,
            subject: Some(id.to_string()),
            details: json!({}),
        };
        self.store
            .revoke_token(id, now(), &event.entry())
            .await
            .map_err(|e| ServiceError::from_store("token", e))?;
        self.recent.clear();
        event.log();
        Ok(())
    }

    async fn user(&self, name: &str, role: Role) -> Result<User, ServiceError> {
        check_name(name)?;
        match self.store.user_by_name(name).await {
            Ok(user) if user.role == role => Ok(user),
            Ok(user) => Err(ServiceError::refused(
                Code::UserRoleMismatch,
                format!("user `{name}` exists with the role {}", user.role.as_str()),
            )),
            Err(StoreError::NotFound) => {
                self.create_user(NewUser {
                    name: name.to_owned(),
                    role,
                    clearance: None,
                    nationality: None,
                    communities: Vec::new(),
                    memberships: Vec::new(),
                })
                .await
            }
            Err(other) => Err(ServiceError::Internal(other)),
        }
    }

    /// Stores a token of `user` holding `secret`, created by `actor`, with its audit entry.
    async fn store_token(
        &self,
        actor: Option<&str>,
        user: &User,
        secret: &str,
        description: &str,
        expires_at: Option<OffsetDateTime>,
        scopes: &[Scope],
    ) -> Result<Uuid, ServiceError> {
        let token = ApiToken {
            id: Uuid::now_v7(),
            user_id: user.id,
            secret_hash: digest(secret),
            description: description.to_owned(),
            scopes: scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            created_at: now(),
            expires_at,
        };
        let event = SecurityEvent {
            event: "token_created",
            actor,
            subject: Some(user.name.clone()),
            details: json!({"token": token.id, "description": description, "scopes": scopes,
                            "expires_at": expires_at.map(|at| at.unix_timestamp())}),
        };
        self.store
            .insert_token(&token, &event.entry())
            .await
            .map_err(|e| ServiceError::from_store("token", e))?;
        event.log();
        Ok(token.id)
    }
}

fn check_name(name: &str) -> Result<(), ServiceError> {
    let valid = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.@".contains(c));
    if valid {
        Ok(())
    } else {
        Err(ValidationErrors::single(
            "/username",
            format!(
                "`{name}` is not a user name: use 1 to 100 letters, digits, `-`, `_`, `.` or `@`"
            ),
        )
        .into())
    }
}

fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

pub(crate) fn principal(user: User, scopes: Vec<Scope>) -> Principal {
    Principal {
        user_id: user.id,
        name: user.name,
        role: user.role,
        clearance: user.clearance,
        // Checked when the user was made; a value that no longer parses holds nothing.
        nationality: user.nationality.and_then(|n| Nation::parse(&n).ok()),
        communities: user.communities,
        memberships: user.memberships,
        scopes,
        authentication: Authentication::ApiToken,
        grants: Vec::new(),
    }
}
