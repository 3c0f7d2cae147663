//! Signing people in at the OpenID Connect issuer: the authorization code flow with PKCE (S256),
//! Fathom a confidential client (`client_secret_basic`), through the `openidconnect` crate.
//!
//! The issuer's metadata and keys come by discovery and are kept for [`METADATA_TTL`]. What the
//! browser must bring back (the state, the nonce, the PKCE verifier and where to go next) travels in
//! a short-lived cookie the caller keeps, so that any replica can finish what another began. The ID
//! token's signature, issuer, audience (the client id), expiry and nonce, and the access token's
//! hash when it has one, are checked; its claims become the principal as a bearer JWT's do.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fathom_model::{Authentication, Principal};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use super::{OidcClient, OidcConfig, http_client, principal_of};
use crate::codes::Code;
use crate::error::ServiceError;
use crate::identity::secrets_match;

/// How long the issuer's metadata and keys are used before they are discovered again.
const METADATA_TTL: Duration = Duration::from_secs(300);
/// The largest response of the issuer read (metadata, keys, tokens).
const MAX_RESPONSE: usize = 1 << 20;
/// Where the issuer sends the browser back, under the site's address.
pub const CALLBACK_PATH: &str = "/sign-in/oidc/callback";

/// A sign-in begun: where to send the browser, and what it must keep until it comes back.
#[derive(Debug, Clone)]
pub struct OidcStart {
    /// The issuer's authorization address, with this sign-in's parameters.
    pub url: String,
    /// For a cookie: opaque, and good for one sign-in.
    pub pending: String,
}

/// What a sign-in under way must remember.
#[derive(Serialize, Deserialize)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    next: String,
}

impl Pending {
    fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    fn decode(text: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// The client `CoreClient::from_provider_metadata` makes: an authorization endpoint, maybe a token
/// and a user-info endpoint.
type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The issuer's metadata and keys, as last discovered.
type Discovered = Option<(Instant, CoreProviderMetadata)>;

#[derive(Debug)]
pub(crate) struct OidcSignIn {
    config: OidcConfig,
    client: OidcClient,
    redirect: RedirectUrl,
    http: Http,
    discovered: Mutex<Discovered>,
}

impl OidcSignIn {
    /// The client of `config` (which has one), for a site at `site` (`https://host`).
    pub(crate) fn new(config: &OidcConfig, client: OidcClient, site: &str) -> Result<Self, String> {
        let redirect = RedirectUrl::new(format!("{}{CALLBACK_PATH}", site.trim_end_matches('/')))
            .map_err(|e| format!("the sign-in's return address: {e}"))?;
        Ok(Self {
            config: config.clone(),
            client,
            redirect,
            http: Http(http_client()),
            discovered: Mutex::new(None),
        })
    }

    /// Begins a sign-in that goes on to `next` (a path of the site).
    pub(crate) async fn start(&self, next: &str) -> Result<OidcStart, ServiceError> {
        let client = self.client().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let request = self.client.scopes.iter().fold(
            client
                .authorize_url(
                    CoreAuthenticationFlow::AuthorizationCode,
                    CsrfToken::new_random,
                    Nonce::new_random,
                )
                .set_pkce_challenge(challenge),
            |request, scope| request.add_scope(Scope::new(scope.clone())),
        );
        let (url, state, nonce) = request.url();
        let pending = Pending {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            next: next.to_owned(),
        };
        Ok(OidcStart {
            url: url.to_string(),
            pending: pending.encode(),
        })
    }

    /// Finishes a sign-in: the `code` and `state` the issuer sent the browser back with, and what
    /// the browser kept. The principal, and the path to go on to. `Err(why)` when it fails, for the
    /// security event.
    pub(crate) async fn finish(
        &self,
        pending: &str,
        code: &str,
        state: &str,
    ) -> Result<Result<(Principal, String), &'static str>, ServiceError> {
        let Some(pending) = Pending::decode(pending) else {
            return Ok(Err("no sign-in under way"));
        };
        if !secrets_match(state, &pending.state) {
            return Ok(Err("the state differs from the one sent"));
        }
        let client = self.client().await?;
        let Ok(exchange) = client.exchange_code(AuthorizationCode::new(code.to_owned())) else {
            return Ok(Err("the issuer has no token endpoint"));
        };
        let tokens = match exchange
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
            .request_async(&self.http)
            .await
        {
            Ok(tokens) => tokens,
            Err(error) => {
                tracing::warn!(%error, "the OIDC issuer refused the authorization code");
                return Ok(Err("the issuer refused the code"));
            }
        };
        let Some(id_token) = tokens.id_token() else {
            return Ok(Err("no ID token"));
        };
        let verifier = client.id_token_verifier();
        let claims = match id_token.claims(&verifier, &Nonce::new(pending.nonce)) {
            Ok(claims) => claims,
            Err(error) => {
                tracing::warn!(%error, "an ID token was refused");
                return Ok(Err("the ID token is not valid"));
            }
        };
        if let Some(expected) = claims.access_token_hash() {
            let matches = id_token
                .signing_alg()
                .ok()
                .zip(id_token.signing_key(&verifier).ok())
                .and_then(|(alg, key)| {
                    AccessTokenHash::from_token(tokens.access_token(), alg, key).ok()
                })
                .is_some_and(|actual| actual == *expected);
            if !matches {
                return Ok(Err("the access token's hash differs"));
            }
        }
        // The token is verified: its claims are read whole, for the configured claim names (the
        // crate's typed claims keep the standard ones only).
        let Some(claims) = payload(&id_token.to_string()) else {
            return Ok(Err("the ID token's claims are not an object"));
        };
        Ok(
            match principal_of(&self.config, &claims, Authentication::OidcSession) {
                Some(principal) => Ok((principal, pending.next)),
                None => Err("no username claim"),
            },
        )
    }

    /// The client, with the issuer's metadata discovered at most [`METADATA_TTL`] ago (or, when
    /// the issuer cannot be reached, as last discovered).
    async fn client(&self) -> Result<Client, ServiceError> {
        let mut discovered = self.discovered.lock().await;
        let fresh = discovered
            .as_ref()
            .is_some_and(|(at, _)| at.elapsed() < METADATA_TTL);
        if !fresh {
            match self.discover().await {
                Ok(metadata) => *discovered = Some((Instant::now(), metadata)),
                Err(error) => {
                    tracing::error!(%error, issuer = %self.config.issuer, "cannot discover the OIDC issuer");
                    if discovered.is_none() {
                        return Err(ServiceError::refused(
                            Code::Unavailable,
                            "the identity provider cannot be reached; try again later",
                        ));
                    }
                }
            }
        }
        let metadata = discovered.as_ref().map(|(_, metadata)| metadata.clone());
        let metadata = metadata.ok_or_else(|| ServiceError::Fault("no OIDC metadata".into()))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.client.id.clone()),
            Some(ClientSecret::new(self.client.secret.clone())),
        )
        .set_redirect_uri(self.redirect.clone()))
    }

    async fn discover(&self) -> Result<CoreProviderMetadata, String> {
        let issuer = IssuerUrl::new(self.config.issuer.clone()).map_err(|e| e.to_string())?;
        CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| {
                format!(
                    "{e}: {}",
                    std::error::Error::source(&e).map_or_else(String::new, ToString::to_string)
                )
            })
    }
}

/// `openidconnect`'s requests, sent with Fathom's HTTP client.
#[derive(Debug)]
struct Http(reqwest::Client);

impl<'c> openidconnect::AsyncHttpClient<'c> for Http {
    type Error = std::io::Error;
    type Future =
        Pin<Box<dyn Future<Output = Result<openidconnect::HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(send(&self.0, request))
    }
}

/// One request, the response read up to [`MAX_RESPONSE`] bytes.
async fn send(
    http: &reqwest::Client,
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, std::io::Error> {
    let failed = |e: &dyn std::fmt::Display| std::io::Error::other(e.to_string());
    let (parts, body) = request.into_parts();
    let mut response = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await
        .map_err(|e| failed(&e))?;
    let mut read = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| failed(&e))? {
        if read.len() + chunk.len() > MAX_RESPONSE {
            return Err(failed(&"the identity provider's response is too large"));
        }
        read.extend_from_slice(&chunk);
    }
    let mut answer = openidconnect::HttpResponse::new(read);
    *answer.status_mut() = response.status();
    *answer.headers_mut() = std::mem::take(response.headers_mut());
    Ok(answer)
}

/// The claims of a compact JWS (its payload, not verified here).
fn payload(jws: &str) -> Option<Map<String, Value>> {
    let encoded = jws.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(encoded).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_sign_in_survives_its_cookie_and_nothing_else_passes_for_one() {
        let pending = Pending {
            state: "s".into(),
            nonce: "n".into(),
            verifier: "v".into(),
            next: "/search?q=a; b=c".into(),
        };
        let text = pending.encode();
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let back = Pending::decode(&text).unwrap();
        assert_eq!(
            (back.state, back.next),
            ("s".into(), "/search?q=a; b=c".into())
        );
        assert!(Pending::decode("not base64!").is_none());
        assert!(Pending::decode(&URL_SAFE_NO_PAD.encode(b"{}")).is_none());
        assert!(secrets_match("abc", "abc"));
        assert!(!secrets_match("abd", "abc"));
        assert!(!secrets_match("ab", "abc"));
        assert!(!secrets_match("", ""));
    }
}
