//! Webhooks: a subscription's events POSTed one at a time as CloudEvents, signed as Standard
//! Webhooks are (`webhook-id`, `webhook-timestamp`, and `webhook-signature: v1,<base64 HMAC-SHA256
//! of "{id}.{timestamp}.{body}">` keyed by the subscription's secret). Only the events of the
//! subscribed types that the subscription's owner may see are sent.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use fathom_store::Webhook;
use hmac::{Hmac, Mac};
use serde_json::value::RawValue;
use sha2::Sha256;

use crate::{CONTENT_TYPE, Envelope, Partial, PublishError, TRACEPARENT};

pub const WEBHOOK_ID_HEADER: &str = "webhook-id";
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
pub const SIGNATURE_HEADER: &str = "webhook-signature";

/// The prefix of a subscription's secret; the rest is the key, in base64.
const SECRET_PREFIX: &str = "whsec_";

/// Whether the subscription's owner may see the record an event is about, from the event's type
/// and data (its summary carries the record's security label).
pub type Visibility = Arc<dyn Fn(&str, &RawValue) -> bool + Send + Sync>;

/// One webhook subscription as a delivery target.
pub struct WebhookTarget {
    name: String,
    url: String,
    key: Vec<u8>,
    event_types: Vec<String>,
    start: i64,
    max_attempts: u32,
    visible: Visibility,
    client: reqwest::Client,
}

impl fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("name", &self.name)
            .field("event_types", &self.event_types)
            .finish_non_exhaustive()
    }
}

impl WebhookTarget {
    /// `timeout`: how long a receiver may take to answer; `max_attempts`: how often an event is
    /// tried before it becomes a dead letter.
    pub fn new(
        webhook: &Webhook,
        visible: Visibility,
        timeout: Duration,
        max_attempts: u32,
    ) -> Result<Self, PublishError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // A redirect could lead anywhere, the server's own network among it: not followed.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| PublishError::Webhook(e.to_string()))?;
        Ok(Self {
            name: webhook.target(),
            url: webhook.url.clone(),
            key: secret_key(&webhook.secret)?,
            event_types: webhook.event_types.clone(),
            start: webhook.start_seq,
            max_attempts,
            visible,
            client,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn start(&self) -> i64 {
        self.start
    }

    pub(crate) fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Whether the subscription is sent this event: one of its types, and its owner may see it.
    pub fn wants(&self, event: &Envelope) -> bool {
        type_matches(&self.event_types, &event.event_type)
            && (self.visible)(&event.event_type, &event.data)
    }

    /// POSTs one event; a 2xx answer is success, anything else (or no answer in time) a failure.
    /// The answer's body is never read, however large.
    pub async fn deliver(&self, event: &Envelope) -> Result<(), PublishError> {
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let signature = sign(&self.key, &event.id, timestamp, &event.body);
        let mut request = self.client.post(&self.url);
        if let Some(traceparent) = &event.traceparent {
            request = request.header(TRACEPARENT, traceparent);
        }
        let response = request
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .header(WEBHOOK_ID_HEADER, &event.id)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, format!("v1,{signature}"))
            .body(event.body.clone())
            .send()
            .await
            // The URL may carry a credential of the receiver's: never in a message.
            .map_err(|error| PublishError::Webhook(error.without_url().to_string()))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(PublishError::Webhook(format!(
                "the receiver answered {status}"
            )))
        }
    }

    /// Delivers the events one at a time, stopping early (with what it delivered) once `budget` is
    /// spent: a slow receiver holds its subscription's lease no longer than that per batch.
    pub(crate) async fn publish(
        &mut self,
        events: &[Envelope],
        budget: Duration,
    ) -> Result<usize, Partial> {
        let started = tokio::time::Instant::now();
        for (delivered, event) in events.iter().enumerate() {
            if delivered > 0 && started.elapsed() >= budget {
                return Ok(delivered);
            }
            if self.wants(event) {
                self.deliver(event)
                    .await
                    .map_err(|error| Partial { delivered, error })?;
            }
        }
        Ok(events.len())
    }
}

/// Whether `event_type` is one of `patterns` (`org.fathom.dataset.created`, or a prefix ending in
/// `*`: `org.fathom.dataset.*`); no pattern at all takes every type.
pub fn type_matches(patterns: &[String], event_type: &str) -> bool {
    patterns.is_empty()
        || patterns
            .iter()
            .any(|pattern| match pattern.strip_suffix('*') {
                Some(prefix) => event_type.starts_with(prefix),
                None => pattern == event_type,
            })
}

/// The base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` under `key`.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// A new random secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut key = [0_u8; 32];
    getrandom::fill(&mut key)?;
    Ok(format!("{SECRET_PREFIX}{}", STANDARD.encode(key)))
}

/// The key of a `whsec_…` secret.
pub fn secret_key(secret: &str) -> Result<Vec<u8>, PublishError> {
    secret
        .strip_prefix(SECRET_PREFIX)
        .and_then(|key| STANDARD.decode(key).ok())
        .filter(|key| key.len() >= 24)
        .ok_or_else(|| PublishError::Webhook("a secret is `whsec_` and a base64 key".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_types_and_prefixes() {
        let patterns = vec![
            "org.fathom.dataset.*".to_owned(),
            "org.fathom.organisation.deleted".to_owned(),
        ];
        assert!(type_matches(&patterns, "org.fathom.dataset.created"));
        assert!(type_matches(&patterns, "org.fathom.organisation.deleted"));
        assert!(!type_matches(&patterns, "org.fathom.organisation.created"));
        assert!(type_matches(&[], "org.fathom.organisation.created"));
    }

    #[test]
    fn signatures_follow_standard_webhooks() {
        // The example of the Standard Webhooks specification.
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body),
            "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
        let fresh = new_secret().unwrap();
        assert!(secret_key(&fresh).is_ok());
        assert!(secret_key("not-a-secret").is_err());
    }
}
