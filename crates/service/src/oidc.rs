//! OpenID Connect: Fathom as an OAuth 2.0 resource server, and as the client people sign in with on
//! the pages (`sign_in.rs`). Bearer JWTs from one issuer are verified against the keys it publishes (found by discovery, cached, fetched again for an unknown key id at
//! most once per `refresh_interval`), and their claims become the principal.
//!
//! The algorithm comes from the issuer's key, never from the token: only RS256, ES256 and EdDSA, so
//! `alg: none` and HMAC tokens (signed, say, with the public key's bytes) are refused. `exp`, `nbf`
//! and `iat` are checked, with `leeway`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fathom_model::{Authentication, Membership, Nation, Principal, Role, Scope};
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::error::ServiceError;

mod sign_in;

pub(crate) use sign_in::OidcSignIn;
pub use sign_in::{CALLBACK_PATH, OidcStart};

/// Where the tokens come from and how their claims map onto a principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcConfig {
    /// The issuer, exactly as in its tokens' `iss` (discovery at `{issuer}/.well-known/openid-configuration`).
    pub issuer: String,
    /// The audience bearer tokens must be for (`aud`); without one, no bearer JWT is accepted.
    pub audience: Option<String>,
    /// Fathom's registration at the issuer, for people to sign in with on the pages.
    pub client: Option<OidcClient>,
    pub claims: ClaimNames,
    /// The least time between two fetches of the issuer's keys.
    pub refresh_interval: Duration,
    /// Clock skew allowed on `exp` and `nbf`.
    pub leeway: Duration,
}

/// The claims that carry each attribute of the principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimNames {
    pub username: String,
    /// `admin`, `editor` or `viewer` (the default).
    pub role: String,
    pub clearance: String,
    pub nationality: String,
    /// An array of strings.
    pub communities: String,
    /// An array of `{organisation, role}`.
    pub memberships: String,
}

impl Default for ClaimNames {
    fn default() -> Self {
        Self {
            username: "sub".into(),
            role: "fathom_role".into(),
            clearance: "fathom_clearance".into(),
            nationality: "fathom_nationality".into(),
            communities: "fathom_communities".into(),
            memberships: "fathom_memberships".into(),
        }
    }
}

/// Fathom as a confidential client of the issuer (authorization code flow with PKCE).
#[derive(Clone, PartialEq, Eq)]
pub struct OidcClient {
    pub id: String,
    pub secret: String,
    /// The scopes asked for besides `openid`.
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcClient")
            .field("id", &self.id)
            .field("secret", &"[redacted]")
            .field("scopes", &self.scopes)
            .finish()
    }
}

impl OidcConfig {
    /// The issuer, trusted for nothing until given an audience or a client.
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: None,
            client: None,
            claims: ClaimNames::default(),
            refresh_interval: Duration::from_secs(10),
            leeway: Duration::from_secs(30),
        }
    }

    /// Accepts the issuer's bearer JWTs for `audience`.
    #[must_use]
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Lets people sign in at the issuer, Fathom being `client`.
    #[must_use]
    pub fn with_client(mut self, client: OidcClient) -> Self {
        self.client = Some(client);
        self
    }
}

/// The verifier, with the issuer's keys as last fetched.
#[derive(Debug)]
pub(crate) struct Oidc {
    config: OidcConfig,
    audience: String,
    http: reqwest::Client,
    keys: Mutex<Keys>,
}

#[derive(Debug, Default)]
struct Keys {
    set: Option<Arc<JwkSet>>,
    fetched: Option<Instant>,
}

/// Whether a bearer token is a JWT (three dot-separated parts) rather than an API token.
pub(crate) fn is_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

impl Oidc {
    /// The verifier of the issuer's tokens for `audience`.
    pub(crate) fn new(config: OidcConfig, audience: String) -> Self {
        Self {
            config,
            audience,
            http: http_client(),
            keys: Mutex::new(Keys::default()),
        }
    }

    /// The principal a valid token speaks for; `Unauthenticated` for any token that is not.
    pub(crate) async fn verify(&self, token: &str) -> Result<Principal, ServiceError> {
        let refused = |why: &str| {
            tracing::warn!(
                security_event = "authentication_failed",
                why,
                "an OIDC token was refused"
            );
            ServiceError::Unauthenticated
        };
        let header = jsonwebtoken::decode_header(token).map_err(|_| refused("malformed"))?;
        let kid = header.kid.ok_or_else(|| refused("no key id"))?;
        let jwk = self
            .key(&kid)
            .await?
            .ok_or_else(|| refused("unknown key"))?;
        let algorithm = algorithm_of(&jwk).ok_or_else(|| refused("key of a refused kind"))?;
        if header.alg != algorithm {
            return Err(refused("algorithm differs from the key's"));
        }
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| refused("unusable key"))?;
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = self.config.leeway.as_secs();
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| refused(&e.to_string()))?;
        // `iat`, when given, is not in the future (jsonwebtoken checks `exp` and `nbf` only).
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let leeway = i64::try_from(self.config.leeway.as_secs()).unwrap_or(i64::MAX);
        if data
            .claims
            .get("iat")
            .and_then(Value::as_i64)
            .is_some_and(|iat| iat > now + leeway)
        {
            return Err(refused("issued in the future"));
        }
        principal_of(&self.config, &data.claims, Authentication::Oidc)
            .ok_or_else(|| refused("no username claim"))
    }

    /// The key `kid` of the issuer, fetching the keys when they were never fetched, or again when
    /// the key is unknown and the last fetch is older than the refresh interval.
    async fn key(&self, kid: &str) -> Result<Option<Jwk>, ServiceError> {
        let mut keys = self.keys.lock().await;
        if let Some(found) = keys.set.as_ref().and_then(|set| set.find(kid)) {
            return Ok(Some(found.clone()));
        }
        let may_fetch = keys
            .fetched
            .is_none_or(|at| at.elapsed() >= self.config.refresh_interval);
        if !may_fetch {
            return Ok(None);
        }
        keys.fetched = Some(Instant::now());
        match self.fetch_keys().await {
            Ok(set) => {
                tracing::info!(keys = set.keys.len(), "fetched the OIDC issuer's keys");
                keys.set = Some(Arc::new(set));
            }
            Err(error) => {
                tracing::error!(%error, issuer = %self.config.issuer, "cannot fetch the OIDC issuer's keys");
            }
        }
        Ok(keys.set.as_ref().and_then(|set| set.find(kid)).cloned())
    }

    async fn fetch_keys(&self) -> Result<JwkSet, String> {
        let discovery = format!(
            "{}/.well-known/openid-configuration",
            self.config.issuer.trim_end_matches('/')
        );
        let document: Value = self.get_json(&discovery).await?;
        if document["issuer"].as_str() != Some(self.config.issuer.as_str()) {
            return Err(format!(
                "the discovery document names the issuer {}, not {}",
                document["issuer"], self.config.issuer
            ));
        }
        let jwks_uri = document["jwks_uri"]
            .as_str()
            .ok_or("the discovery document has no jwks_uri")?;
        self.get_json(jwks_uri).await
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        self.http
            .get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("{url}: {e}"))?
            .json()
            .await
            .map_err(|e| format!("{url}: {e}"))
    }
}

/// The principal whose claims these are, by the configured claim names (`None` without a username).
fn principal_of(
    config: &OidcConfig,
    claims: &Map<String, Value>,
    authentication: Authentication,
) -> Option<Principal> {
    let names = &config.claims;
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    let username = text(&names.username)?;
    // A string, or an array (Entra ID's app roles) of which the most powerful role counts.
    let roles: Vec<Role> = match claims.get(&names.role) {
        Some(Value::String(role)) => Role::parse(role).into_iter().collect(),
        Some(Value::Array(roles)) => roles
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|role| Role::parse(role).ok())
            .collect(),
        _ => Vec::new(),
    };
    let role = [Role::Admin, Role::Editor]
        .into_iter()
        .find(|role| roles.contains(role))
        .unwrap_or(Role::Viewer);
    let communities = claims
        .get(&names.communities)
        .and_then(Value::as_array)
        .map(|values| {
            values
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let memberships = claims
        .get(&names.memberships)
        .and_then(Value::as_array)
        .map(|values| {
            values
                .iter()
                .filter_map(|m| serde_json::from_value::<Membership>(m.clone()).ok())
                .collect()
        })
        .unwrap_or_default();
    // A stable id per issuer and subject.
    let digest = Sha256::digest(format!("{}\0{username}", config.issuer));
    let mut id = [0_u8; 16];
    id.copy_from_slice(&digest[..16]);
    Some(Principal {
        user_id: Uuid::from_bytes(id),
        name: username,
        role,
        clearance: text(&names.clearance),
        nationality: text(&names.nationality).and_then(|n| Nation::parse(&n).ok()),
        communities,
        memberships,
        scopes: Scope::allowed_to(role),
        authentication,
        grants: Vec::new(),
    })
}

/// The HTTP client of requests to the issuer: bounded in time, and never following a redirect
/// (which would let a response send Fathom's requests elsewhere).
fn http_client() -> reqwest::Client {
    // The process's TLS provider, ring (as the server's), unless one is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// The algorithm a key is for: the one it names, if allowed, else the one its kind implies. RSA,
/// P-256 and Ed25519 keys only.
fn algorithm_of(jwk: &Jwk) -> Option<Algorithm> {
    let implied = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => Algorithm::RS256,
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {
            Algorithm::ES256
        }
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            Algorithm::EdDSA
        }
        _ => return None,
    };
    match jwk.common.key_algorithm {
        None => Some(implied),
        Some(KeyAlgorithm::RS256) if implied == Algorithm::RS256 => Some(implied),
        Some(KeyAlgorithm::ES256) if implied == Algorithm::ES256 => Some(implied),
        Some(KeyAlgorithm::EdDSA) if implied == Algorithm::EdDSA => Some(implied),
        Some(_) => None,
    }
}
