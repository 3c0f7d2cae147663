//! What handlers take from a request, each refusing bad input with a problem document.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use fathom_model::{Principal, decode_json};
use fathom_service::ServiceError;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::problem::Problem;

/// A JSON request body, decoded with a pointer to any field of the wrong type. Its raw bytes are
/// kept for the idempotency fingerprint.
#[derive(Debug)]
pub struct JsonBody<T> {
    pub value: T,
    pub raw: Bytes,
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Problem> {
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if essence != "application/json" && essence != "application/merge-patch+json" {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("the body must be `application/json`, not `{content_type}`"),
            ));
        }
        let raw = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                let status = rejection.status();
                if status == StatusCode::PAYLOAD_TOO_LARGE {
                    Problem::new(status, "the body is larger than this server accepts")
                } else {
                    Problem::new(status, rejection.body_text())
                }
            })?;
        let value = decode_json(&raw).map_err(ServiceError::from)?;
        Ok(Self { value, raw })
    }
}

/// The authenticated caller; requests without a valid bearer token are refused with 401.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl FromRequestParts<Arc<AppState>> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Problem> {
        let token = bearer_token(parts).ok_or(ServiceError::Unauthenticated)?;
        Ok(Self(authenticated(state, token).await?))
    }
}

/// Who reads: the authenticated caller, or nobody for a request without credentials (an
/// anonymous reader). Credentials that are sent must be valid (401 otherwise), so a mistyped token
/// is an error rather than a silently smaller view.
#[derive(Debug, Clone)]
pub struct Reader(pub Option<Principal>);

impl Reader {
    pub fn principal(&self) -> Option<&Principal> {
        self.0.as_ref()
    }
}

impl FromRequestParts<Arc<AppState>> for Reader {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Problem> {
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            return Ok(Self(None));
        }
        let token = bearer_token(parts).ok_or(ServiceError::Unauthenticated)?;
        Ok(Self(Some(authenticated(state, token).await?)))
    }
}

/// The principal of a bearer token, named (by user id) in the request's span.
async fn authenticated(state: &AppState, token: &str) -> Result<Principal, Problem> {
    let principal = state.identity.authenticate(token).await?;
    let principal = state.sharing.with_grants(principal).await?;
    tracing::Span::current().record("principal", tracing::field::display(principal.user_id));
    Ok(principal)
}

fn bearer_token(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
}

/// The `If-Match` precondition: the revision the client read, as its `ETag`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMatch {
    Absent,
    /// `*`: any current revision.
    Any,
    Revision(i64),
    /// A tag this server never issued; it matches nothing.
    Unknown,
}

impl IfMatch {
    /// For a replacement (`PUT`, `PATCH`): the precondition is required (428 without it), and a tag
    /// that can match nothing fails (412). `None` means any revision.
    pub fn required(self) -> Result<Option<i64>, Problem> {
        match self {
            Self::Absent => Err(Problem::new(
                StatusCode::PRECONDITION_REQUIRED,
                "send `If-Match` with the `ETag` of the revision you changed, so that concurrent edits are not lost",
            )),
            other => other.optional(),
        }
    }

    /// For other writes: the precondition is checked when given.
    pub fn optional(self) -> Result<Option<i64>, Problem> {
        match self {
            Self::Absent | Self::Any => Ok(None),
            Self::Revision(revision) => Ok(Some(revision)),
            Self::Unknown => Err(Problem::new(
                StatusCode::PRECONDITION_FAILED,
                "`If-Match` names no revision of this record",
            )),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(Self::Absent);
        };
        let value = value.to_str().unwrap_or("").trim();
        if value == "*" {
            return Ok(Self::Any);
        }
        Ok(value
            .split(',')
            .map(str::trim)
            .find_map(parse_etag)
            .map_or(Self::Unknown, Self::Revision))
    }
}

/// The entity tag of a revision: `"7"`.
pub fn etag(revision: i64) -> String {
    format!("\"{revision}\"")
}

fn parse_etag(tag: &str) -> Option<i64> {
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    tag.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

/// Whether `If-None-Match` already names this revision (the client may use its cached copy).
pub fn not_modified(headers: &HeaderMap, revision: i64) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(str::trim)
                .any(|t| t == "*" || parse_etag(t) == Some(revision))
        })
}

/// The `Idempotency-Key` of a POST, if any.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(Self(None));
        };
        match value.to_str() {
            Ok(key)
                if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) =>
            {
                Ok(Self(Some(key.to_owned())))
            }
            _ => Err(Problem::bad_request(
                "`Idempotency-Key` must be 1 to 255 visible ASCII characters",
            )),
        }
    }
}

/// The media type a request says its body is in (empty when it says none).
pub fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_round_trip() {
        assert_eq!(parse_etag(&etag(7)), Some(7));
        assert_eq!(parse_etag("W/\"3\""), Some(3));
        assert_eq!(parse_etag("3"), None);
        assert_eq!(parse_etag("\"abc\""), None);
    }
}
