//! Signing in on a page: local accounts' passwords (argon2id) and browsers' sessions, kept in the
//! database so that they work across replicas. A session's secret (in its cookie) has 256 bits of
//! entropy and only its SHA-256 is stored, as for API tokens; it ends after an idle time or at the
//! end of an absolute lifetime, and at sign-out. People may also sign in at the OpenID Connect
//! issuer (`oidc/sign_in.rs`); their sessions keep the attributes it vouched for.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use fathom_model::{Authentication, Principal, Scope, ValidationErrors};
use fathom_store::{Session, SessionUser, Store, StoreError, User, now};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit::SecurityEvent;
use crate::error::ServiceError;
use crate::identity::{principal, random_secret};
use crate::oidc::{OidcSignIn, OidcStart};

/// The shortest password accepted, in characters.
pub const MIN_PASSWORD: usize = 12;
/// The longest, in bytes: argon2 takes longer ones, but nobody types them.
const MAX_PASSWORD: usize = 1024;
/// How often a session's last use is written: more often would be a write per page.
const TOUCH_EVERY: time::Duration = time::Duration::minutes(1);

/// Marks a response that refused credentials (a failed sign-in), for the rate limit on failed
/// authentications to count it as it counts a rejected token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailedAuthentication;

/// How long sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionSettings {
    /// Unused this long, a session ends (default 30 minutes).
    pub idle: Duration,
    /// A session ends this long after signing in, used or not (default 12 hours).
    pub lifetime: Duration,
}

impl Default for SessionSettings {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(30 * 60),
            lifetime: Duration::from_secs(12 * 60 * 60),
        }
    }
}

/// A session just made: its secret, for the cookie, shown once.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub secret: String,
    pub principal: Principal,
    pub csrf_token: String,
}

/// A session in use: who, and the token its forms carry.
#[derive(Debug, Clone)]
pub struct SessionView {
    pub principal: Principal,
    pub csrf_token: String,
}

#[derive(Debug, Clone)]
pub struct Sessions {
    store: Store,
    settings: SessionSettings,
    oidc: Option<Arc<OidcSignIn>>,
}

impl Sessions {
    pub(crate) fn new(store: Store, settings: SessionSettings, oidc: Option<OidcSignIn>) -> Self {
        Self {
            store,
            settings,
            oidc: oidc.map(Arc::new),
        }
    }

    pub fn settings(&self) -> SessionSettings {
        self.settings
    }

    /// Sets the password of the user `name` (for `fathom user set-password` and the demo).
    pub async fn set_password(&self, name: &str, password: &str) -> Result<(), ServiceError> {
        let length = password.chars().count();
        if length < MIN_PASSWORD || password.len() > MAX_PASSWORD {
            return Err(ValidationErrors::single(
                "/password",
                format!("must be {MIN_PASSWORD} to {MAX_PASSWORD} characters"),
            )
            .into());
        }
        let hash = Argon2::default()
            .hash_password(password.as_bytes())
            .map_err(|e| ServiceError::Fault(format!("cannot hash the password: {e}")))?
            .to_string();
        let event = SecurityEvent {
            event: "password_set",
            actor: None,
            subject: Some(name.to_owned()),
            details: json!({}),
        };
        self.store
            .set_password(name, &hash, &event.entry())
            .await
            .map_err(|e| ServiceError::from_store("user", e))?;
        event.log();
        Ok(())
    }

    /// Sets a new random password for the user `name`, and returns it (for the demo's users).
    pub async fn set_generated_password(&self, name: &str) -> Result<String, ServiceError> {
        let password: String = random_secret()?.chars().take(20).collect();
        self.set_password(name, &password).await?;
        Ok(password)
    }

    /// Signs `name` in with `password`: a new session. A wrong name or password is the same
    /// refusal, takes the same time, and is a security event.
    pub async fn sign_in(&self, name: &str, password: &str) -> Result<SignedIn, ServiceError> {
        let found = match self.store.user_with_password(name).await {
            Ok(found) => Some(found),
            Err(StoreError::NotFound) => None,
            Err(other) => return Err(ServiceError::Internal(other)),
        };
        let stored = found.as_ref().and_then(|(_, hash)| hash.as_deref());
        if !password_matches(stored, password) || password.len() > MAX_PASSWORD {
            SecurityEvent {
                event: "sign_in_failed",
                actor: None,
                subject: Some(name.chars().take(64).collect()),
                details: json!({"method": "password"}),
            }
            .record(&self.store)
            .await;
            return Err(ServiceError::Unauthenticated);
        }
        let Some((user, _)) = found else {
            return Err(ServiceError::Unauthenticated);
        };
        let scopes = Scope::allowed_to(user.role);
        let mut principal = principal(user, scopes);
        principal.authentication = Authentication::Session;
        let session_user = SessionUser::Local(principal.user_id);
        self.open(session_user, principal, "password").await
    }

    /// Whether people may sign in at the OpenID Connect issuer.
    pub fn offers_oidc(&self) -> bool {
        self.oidc.is_some()
    }

    /// Begins a sign-in at the OpenID Connect issuer, to go on to `next` (a path of the site).
    pub async fn start_oidc(&self, next: &str) -> Result<OidcStart, ServiceError> {
        let oidc = self
            .oidc
            .as_ref()
            .ok_or(ServiceError::NotFound("identity provider"))?;
        oidc.start(next).await
    }

    /// Finishes a sign-in at the issuer, from the `code` and `state` it sent the browser back with
    /// and what the browser kept (`OidcStart::pending`): a new session, and the path to go on to.
    /// A refusal is a security event.
    pub async fn finish_oidc(
        &self,
        pending: &str,
        code: &str,
        state: &str,
    ) -> Result<(SignedIn, String), ServiceError> {
        let oidc = self
            .oidc
            .as_ref()
            .ok_or(ServiceError::NotFound("identity provider"))?;
        let (principal, next) = match oidc.finish(pending, code, state).await? {
            Ok(found) => found,
            Err(why) => return Err(self.refused_oidc(why).await),
        };
        let user = User {
            id: principal.user_id,
            name: principal.name.clone(),
            role: principal.role,
            clearance: principal.clearance.clone(),
            nationality: principal
                .nationality
                .as_ref()
                .map(|n| n.as_str().to_owned()),
            communities: principal.communities.clone(),
            memberships: principal.memberships.clone(),
            created_at: now(),
        };
        let signed_in = self
            .open(SessionUser::External(user), principal, "oidc")
            .await?;
        Ok((signed_in, next))
    }

    /// Records a sign-in at the issuer that failed (`why`), and the refusal to answer with.
    pub async fn refused_oidc(&self, why: &str) -> ServiceError {
        SecurityEvent {
            event: "sign_in_failed",
            actor: None,
            subject: None,
            details: json!({"method": "oidc", "why": why}),
        }
        .record(&self.store)
        .await;
        ServiceError::Unauthenticated
    }

    /// A new session of `user`, who is `principal`, signed in by `method`.
    async fn open(
        &self,
        user: SessionUser,
        principal: Principal,
        method: &str,
    ) -> Result<SignedIn, ServiceError> {
        let secret = random_secret()?;
        let at = now();
        let session = Session {
            id_hash: Sha256::digest(secret.as_bytes()).to_vec(),
            user,
            csrf_token: random_secret()?,
            created_at: at,
            last_seen_at: at,
            expires_at: at + self.settings.lifetime,
        };
        let event = SecurityEvent {
            event: "signed_in",
            actor: Some(&principal.name),
            subject: Some(principal.name.clone()),
            details: json!({"method": method}),
        };
        self.store
            .insert_session(&session, &event.entry())
            .await
            .map_err(ServiceError::Internal)?;
        event.log();
        Ok(SignedIn {
            secret,
            csrf_token: session.csrf_token,
            principal,
        })
    }

    /// The session of this cookie's secret, if it is still alive.
    pub async fn session(&self, secret: &str) -> Result<SessionView, ServiceError> {
        let id_hash = Sha256::digest(secret.as_bytes()).to_vec();
        let at = now();
        let (user, session) = self
            .store
            .session(&id_hash, at, at - self.settings.idle)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => ServiceError::Unauthenticated,
                other => ServiceError::Internal(other),
            })?;
        if at - session.last_seen_at > TOUCH_EVERY {
            self.store
                .touch_session(&id_hash, at)
                .await
                .map_err(ServiceError::Internal)?;
        }
        let scopes = Scope::allowed_to(user.role);
        let mut principal = principal(user, scopes);
        principal.authentication = match session.user {
            SessionUser::Local(_) => Authentication::Session,
            SessionUser::External(_) => Authentication::OidcSession,
        };
        Ok(SessionView {
            principal,
            csrf_token: session.csrf_token,
        })
    }

    /// Ends the session of this secret.
    pub async fn sign_out(&self, secret: &str) -> Result<(), ServiceError> {
        let id_hash = Sha256::digest(secret.as_bytes()).to_vec();
        self.store
            .delete_session(&id_hash)
            .await
            .map_err(ServiceError::Internal)
    }

    /// Deletes the sessions that have ended; returns how many.
    pub async fn prune(&self) -> Result<u64, ServiceError> {
        let at = now();
        self.store
            .prune_sessions(at, at - self.settings.idle)
            .await
            .map_err(ServiceError::Internal)
    }
}

/// Whether `password` matches the stored hash. Without one (no such user, or no password set), a
/// hash of the same cost is checked anyway, so that the answer takes as long.
fn password_matches(stored: Option<&str>, password: &str) -> bool {
    /// A hash of a password nobody has, with the parameters every stored one has.
    static DECOY: LazyLock<String> = LazyLock::new(|| {
        let unknowable = random_secret().unwrap_or_default();
        Argon2::default()
            .hash_password(unknowable.as_bytes())
            .map(|hash| hash.to_string())
            .unwrap_or_default()
    });
    let hash = PasswordHash::new(stored.unwrap_or(&DECOY)).or_else(|_| PasswordHash::new(&DECOY));
    let matched = hash.is_ok_and(|hash| {
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok()
    });
    matched && stored.is_some()
}
