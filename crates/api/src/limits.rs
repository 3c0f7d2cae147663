//! Rate limits: per API token, per client address for anonymous requests, and a stricter one on
//! failed authentications per client address. A token bucket per key; a request over the limit gets
//! 429 with `Retry-After` and the `RateLimit` fields, and costs nothing further.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::problem::Problem;

/// Requests per minute; 0 turns a limit off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    /// Per bearer token.
    pub per_token: u32,
    /// Per client address, for requests without a token.
    pub per_address: u32,
    /// Failed authentications (401) per client address.
    pub failures_per_address: u32,
    /// Proxies whose `X-Forwarded-For` names the client (the last address not among them).
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            per_token: 12_000,
            per_address: 6_000,
            failures_per_address: 30,
            trusted_proxies: Vec::new(),
        }
    }
}

/// The buckets of every key seen recently.
#[derive(Debug, Clone)]
pub struct Limiter {
    limits: Arc<RateLimits>,
    buckets: Arc<Mutex<HashMap<Key, Bucket>>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Token(String),
    Address(IpAddr),
    Failures(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// How a key stands after taking (or failing to take) one request from its bucket.
#[derive(Debug, Clone, Copy)]
struct Standing {
    allowed: bool,
    limit: u32,
    remaining: u32,
    /// Seconds until a request is allowed again (when refused) or the bucket is full.
    reset: u64,
}

/// Beyond this many keys, full buckets are forgotten.
const MAX_KEYS: usize = 100_000;
const WINDOW: Duration = Duration::from_secs(60);

impl Limiter {
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits: Arc::new(limits),
            buckets: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Takes one request from `key`'s bucket of `per_minute` (or, with `consume` false, only looks),
    /// and says how the key stands.
    fn take(&self, key: Key, per_minute: u32, consume: bool) -> Option<Standing> {
        if per_minute == 0 {
            return None;
        }
        let capacity = f64::from(per_minute);
        let rate = capacity / WINDOW.as_secs_f64();
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if buckets.len() >= MAX_KEYS {
            buckets
                .retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < capacity);
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        bucket.tokens =
            (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate).min(capacity);
        bucket.at = now;
        let allowed = bucket.tokens >= 1.0;
        if allowed && consume {
            bucket.tokens -= 1.0;
        }
        let wait = if allowed {
            capacity - bucket.tokens
        } else {
            1.0 - bucket.tokens
        };
        Some(Standing {
            allowed,
            limit: per_minute,
            remaining: bucket.tokens.floor() as u32,
            reset: (wait / rate).ceil() as u64,
        })
    }

    /// The standing of `address`'s failed authentications when it has none left.
    fn failures_exhausted(&self, address: IpAddr) -> Option<Standing> {
        self.take(
            Key::Failures(address),
            self.limits.failures_per_address,
            false,
        )
        .filter(|standing| !standing.allowed)
    }

    /// The client's address: the peer, or for a trusted proxy the last address in
    /// `X-Forwarded-For` that is not a trusted proxy.
    fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?;
        if !self.limits.trusted_proxies.contains(&peer) {
            return Some(peer);
        }
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .collect::<Vec<_>>();
        Some(
            forwarded
                .into_iter()
                .rev()
                .find(|a| !self.limits.trusted_proxies.contains(a))
                .unwrap_or(peer),
        )
    }
}

/// The middleware. Health checks are not limited: orchestrators call them.
pub async fn limit(State(limiter): State<Limiter>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path == "/healthz" || path == "/readyz" {
        return next.run(request).await;
    }
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip());
    let client = limiter.client(peer, request.headers());
    if let Some(address) = client
        && let Some(refused) = limiter.failures_exhausted(address)
    {
        return too_many(refused, "too many failed authentications from this address");
    }
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let standing = match (&token, client) {
        (Some(token), _) => limiter.take(Key::Token(token.clone()), limiter.limits.per_token, true),
        (None, Some(address)) => {
            limiter.take(Key::Address(address), limiter.limits.per_address, true)
        }
        (None, None) => None,
    };
    if let Some(standing) = standing
        && !standing.allowed
    {
        return too_many(standing, "too many requests; slow down");
    }
    let mut response = next.run(request).await;
    let credentials_refused = token.is_some()
        || response
            .extensions()
            .get::<fathom_service::FailedAuthentication>()
            .is_some();
    if response.status() == StatusCode::UNAUTHORIZED
        && credentials_refused
        && let Some(address) = client
    {
        limiter.take(
            Key::Failures(address),
            limiter.limits.failures_per_address,
            true,
        );
    }
    if let Some(standing) = standing {
        set_fields(response.headers_mut(), standing);
    }
    response
}

fn too_many(standing: Standing, detail: &'static str) -> Response {
    metrics::counter!("fathom_rate_limited_total").increment(1);
    let mut response = Problem::new(StatusCode::TOO_MANY_REQUESTS, detail).into_response();
    let headers = response.headers_mut();
    headers.insert(header::RETRY_AFTER, HeaderValue::from(standing.reset));
    set_fields(headers, standing);
    response
}

/// `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds).
fn set_fields(headers: &mut HeaderMap, standing: Standing) {
    headers.insert("ratelimit-limit", HeaderValue::from(standing.limit));
    headers.insert("ratelimit-remaining", HeaderValue::from(standing.remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(standing.reset));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_refill_at_their_rate() {
        let limiter = Limiter::new(RateLimits::default());
        let address: IpAddr = [192, 0, 2, 1].into();
        let key = || Key::Address(address);
        for _ in 0..3 {
            assert!(limiter.take(key(), 3, true).unwrap().allowed);
        }
        let refused = limiter.take(key(), 3, true).unwrap();
        assert!(!refused.allowed);
        assert_eq!(refused.remaining, 0);
        assert!(refused.reset >= 1 && refused.reset <= 20, "{refused:?}");
        assert!(limiter.take(key(), 0, true).is_none(), "0 is no limit");
    }

    #[test]
    fn the_client_behind_trusted_proxies_is_the_last_untrusted_address() {
        let proxy: IpAddr = [10, 0, 0, 1].into();
        let limiter = Limiter::new(RateLimits {
            trusted_proxies: vec![proxy],
            ..RateLimits::default()
        });
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 198.51.100.7, 10.0.0.1"),
        );
        assert_eq!(
            limiter.client(Some(proxy), &headers),
            Some([198, 51, 100, 7].into())
        );
        let stranger: IpAddr = [192, 0, 2, 3].into();
        assert_eq!(limiter.client(Some(stranger), &headers), Some(stranger));
    }
}
