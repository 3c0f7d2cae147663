//! Cookies and forms: the session cookie, the CSRF token every form that changes state carries, and
//! the check that a form was posted from this site.
//!
//! The session cookie is `HttpOnly`, `SameSite=Lax` and `Path=/`; under HTTPS (a site address that
//! starts with `https://`) it is also `Secure` and named with the `__Host-` prefix, so that no other
//! host or path can set it. Before signing in, the sign-in form's CSRF token is a cookie of its own
//! (double submit); after, it is the session's. A sign-in at the OpenID Connect issuer is kept in a
//! cookie of its own for ten minutes, until the browser comes back.

use axum::http::{HeaderMap, HeaderValue, header};

/// The names and attributes of the cookies, for plain HTTP or HTTPS.
#[derive(Debug, Clone)]
pub struct Cookies {
    secure: bool,
}

impl Cookies {
    pub fn new(secure: bool) -> Self {
        Self { secure }
    }

    pub fn session_name(&self) -> &'static str {
        if self.secure {
            "__Host-fathom_session"
        } else {
            "fathom_session"
        }
    }

    pub fn csrf_name(&self) -> &'static str {
        if self.secure {
            "__Host-fathom_csrf"
        } else {
            "fathom_csrf"
        }
    }

    /// The cookie that keeps a sign-in at the OpenID Connect issuer until the browser comes back.
    pub fn oidc_name(&self) -> &'static str {
        if self.secure {
            "__Host-fathom_oidc"
        } else {
            "fathom_oidc"
        }
    }

    /// `Set-Cookie` for `name`, lasting `max_age` seconds (0: removed at once).
    pub fn set(&self, name: &str, value: &str, max_age: u64, same_site: &str) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let cookie = format!(
            "{name}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}"
        );
        HeaderValue::try_from(cookie).unwrap_or(HeaderValue::from_static(""))
    }

    /// The value of the cookie `name` the request sent.
    pub fn read<'a>(&self, headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
            .filter(|value| !value.is_empty())
    }
}

/// Whether a form was posted by a page of this site: the browser's `Origin` (or, without it, its
/// `Sec-Fetch-Site`) names this host. A client that sends neither is not a browser; the CSRF token
/// still guards it.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let origin_host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        return origin_host.is_some() && origin_host == host;
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => site == "same-origin" || site == "none",
        None => true,
    }
}

/// A pre-session CSRF token (the sign-in form's).
pub fn random_token() -> String {
    // Without randomness the token is empty, which matches nothing (`tokens_match`).
    fathom_service::random_secret().unwrap_or_default()
}

/// Where to go after signing in: a path of this site, never another site (`//evil.example`).
pub fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path
        }
        _ => "/",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_come_from_this_site_and_redirects_stay_on_it() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, HeaderValue::from_static(value));
            }
            map
        };
        assert!(same_origin(&headers(&[
            ("host", "a.org"),
            ("origin", "https://a.org")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "a.org"),
            ("origin", "https://evil.org")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "a.org"),
            ("origin", "null")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "a.org"),
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(same_origin(&headers(&[("host", "a.org")])));
        assert_eq!(local_path(Some("/account")), "/account");
        for bad in ["//evil.org", "https://evil.org", "/\\evil.org", ""] {
            assert_eq!(local_path(Some(bad)), "/", "{bad}");
        }
        let cookies = Cookies::new(true);
        let mut sent = HeaderMap::new();
        sent.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; __Host-fathom_session=s3cret"),
        );
        assert_eq!(cookies.read(&sent, cookies.session_name()), Some("s3cret"));
        let set = cookies.set(cookies.session_name(), "x", 60, "Lax");
        assert_eq!(
            set.to_str().unwrap(),
            "__Host-fathom_session=x; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure"
        );
    }
}
