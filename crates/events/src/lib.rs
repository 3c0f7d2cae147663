//! Events: the outbox relayed to RabbitMQ, NATS JetStream and webhooks as CloudEvents.
//!
//! Every committed change has written its event to the outbox in its own transaction (`store`), in
//! commit order. The [`Relay`] reads the outbox in that order and publishes to each configured
//! [`Target`]; a target's position moves on only after the broker has confirmed every event up to
//! it, so delivery is at least once and in order. One relay at a time holds a target (a lease in
//! the database), so several replicas may run relays without publishing the same events at once
//! and without reordering them.

mod amqp;
mod asyncapi;
mod cloudevent;
mod nats;
mod relay;

pub use amqp::{AmqpTarget, DEFAULT_EXCHANGE};
pub use asyncapi::{Channels, document as asyncapi_document};
pub use cloudevent::{CONTENT_TYPE, Envelope};
pub use nats::{DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX, NatsTarget};
pub use relay::{Relay, RelayConfig, RelayHandle, RelayHealth, TargetHealth, TargetState};

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
}

/// Where events go.
#[derive(Debug)]
pub enum Target {
    Amqp(AmqpTarget),
    Nats(NatsTarget),
}

impl Target {
    /// The name the outbox keeps the target's position under.
    pub fn name(&self) -> &str {
        match self {
            Self::Amqp(_) => "amqp",
            Self::Nats(_) => "nats",
        }
    }

    /// Publishes the events in order and returns once the broker has confirmed all of them.
    async fn publish(&mut self, events: &[Envelope]) -> Result<(), PublishError> {
        match self {
            Self::Amqp(target) => target.publish(events).await,
            Self::Nats(target) => target.publish(events).await,
        }
    }
}
