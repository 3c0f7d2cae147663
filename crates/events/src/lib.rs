//! Events: the outbox relayed to RabbitMQ, NATS JetStream and webhooks as CloudEvents.
//!
//! Every committed change has written its event to the outbox in its own transaction (`store`), in
//! commit order. The [`Relay`] reads the outbox in that order and publishes to each configured
//! [`Target`]; a target's position moves on only after the broker has confirmed every event up to
//! it, so delivery is at least once and in order. One relay at a time holds a target (a lease in
//! the database), so several replicas may run relays without publishing the same events at once
//! and without reordering them.

use std::time::Duration;

mod amqp;
mod asyncapi;
mod cloudevent;
mod nats;
mod relay;
#[cfg(feature = "testing")]
pub mod testing;
mod webhook;

pub use amqp::{AmqpTarget, DEFAULT_EXCHANGE};
pub use asyncapi::{Channels, document as asyncapi_document};
pub use cloudevent::{CONTENT_TYPE, Envelope};
pub use nats::{DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX, NatsTarget};
pub use relay::{Relay, RelayConfig, RelayHandle, RelayHealth, TargetHealth, TargetState};
pub use webhook::{
    SIGNATURE_HEADER, TIMESTAMP_HEADER, Visibility, WEBHOOK_ID_HEADER, WebhookTarget, new_secret,
    secret_key, sign, type_matches,
};

/// The header (AMQP, NATS, HTTP) carrying an event's W3C trace context.
pub const TRACEPARENT: &str = "traceparent";

/// Why a batch did not reach a target. The relay retries it with backoff; nothing is lost.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("RabbitMQ: {0}")]
    Amqp(#[from] lapin::Error),
    #[error("RabbitMQ refused an event (nack)")]
    Nacked,
    #[error("NATS: {0}")]
    Nats(String),
    #[error("no confirmation within {0:?}")]
    Timeout(std::time::Duration),
    #[error("webhook: {0}")]
    Webhook(String),
}

/// How far a batch got before it failed: the events before `delivered` reached the target.
#[derive(Debug)]
pub struct Partial {
    pub delivered: usize,
    pub error: PublishError,
}

impl From<PublishError> for Partial {
    fn from(error: PublishError) -> Self {
        Self {
            delivered: 0,
            error,
        }
    }
}

/// Where events go.
#[derive(Debug)]
pub enum Target {
    Amqp(AmqpTarget),
    Nats(NatsTarget),
    Webhook(WebhookTarget),
}

impl Target {
    /// The name the outbox keeps the target's position under.
    pub fn name(&self) -> &str {
        match self {
            Self::Amqp(_) => "amqp",
            Self::Nats(_) => "nats",
            Self::Webhook(target) => target.name(),
        }
    }

    /// Where a new target starts in the change feed: a broker with the oldest event kept, a
    /// webhook subscription where it was made.
    fn start(&self) -> i64 {
        match self {
            Self::Amqp(_) | Self::Nats(_) => 0,
            Self::Webhook(target) => target.start(),
        }
    }

    /// After how many failed attempts an event is given up on (a dead letter); brokers never give
    /// up: their events wait in the outbox for them.
    fn max_attempts(&self) -> Option<u32> {
        match self {
            Self::Amqp(_) | Self::Nats(_) => None,
            Self::Webhook(target) => Some(target.max_attempts()),
        }
    }

    /// Publishes the events in order within `budget` and returns how many the target has
    /// confirmed (all of them, for a broker; a webhook subscription may stop early once the budget
    /// is spent), or how far it got before it failed.
    async fn publish(&mut self, events: &[Envelope], budget: Duration) -> Result<usize, Partial> {
        let confirmed = match self {
            Self::Amqp(target) => target.publish(events, budget).await,
            Self::Nats(target) => target.publish(events, budget).await,
            Self::Webhook(target) => return target.publish(events, budget).await,
        };
        confirmed.map(|()| events.len()).map_err(Partial::from)
    }
}
