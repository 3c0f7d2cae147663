//! What every response carries for browsers: security headers, and CORS for the configured origins.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The API serves data, never pages: nothing may load from it or frame it.
const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";
/// The docs UI loads its own scripts, styles and images, nothing else.
const DOCS_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

/// Sets the security headers on every response (those a handler set itself are kept).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let docs = request.uri().path().starts_with("/docs");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let policy = if docs { DOCS_POLICY } else { API_POLICY };
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CONTENT_SECURITY_POLICY, policy),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ] {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

/// Browsers that reached the server over HTTPS keep to HTTPS for a year.
pub async fn strict_transport_security(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    response
}

/// CORS for these origins (`https://portal.example.org`), or none when the list is empty. Requests
/// carry a bearer token, never cookies, so credentials are not allowed, and no wildcard is.
pub fn cors(origins: &[HeaderValue]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().cloned()))
            .allow_methods([
                Method::GET,
                Method::HEAD,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_MATCH,
                header::IF_NONE_MATCH,
                HeaderName::from_static("idempotency-key"),
                HeaderName::from_static("x-request-id"),
            ])
            .expose_headers([
                header::ETAG,
                header::LOCATION,
                header::LINK,
                header::RETRY_AFTER,
                HeaderName::from_static("x-request-id"),
            ])
            .max_age(std::time::Duration::from_secs(3600)),
    )
}

/// Parses an allowed origin: `scheme://host[:port]`, nothing after it, no wildcard.
pub fn parse_origin(raw: &str) -> Result<HeaderValue, String> {
    let valid = raw.split_once("://").is_some_and(|(scheme, rest)| {
        matches!(scheme, "http" | "https") && !rest.is_empty() && !rest.contains(['/', '*', ' '])
    });
    if !valid {
        return Err(format!(
            "`{raw}` is not an origin such as `https://portal.example.org` (no path, no wildcard)"
        ));
    }
    HeaderValue::from_str(raw).map_err(|e| format!("`{raw}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_exact() {
        assert!(parse_origin("https://portal.example.org").is_ok());
        assert!(parse_origin("http://localhost:3000").is_ok());
        for bad in [
            "*",
            "https://*.example.org",
            "https://x.org/path",
            "portal.example.org",
            "ftp://x.org",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }
}
