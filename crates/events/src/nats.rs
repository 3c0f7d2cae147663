//! NATS JetStream: a stream over `{prefix}.>`, one subject per event type, acknowledged publishes,
//! and the event id as `Nats-Msg-Id` so that JetStream drops a redelivered duplicate.

use std::time::Duration;

use async_nats::jetstream::{self, stream};
use async_nats::{ConnectOptions, HeaderMap, header::NATS_MESSAGE_ID};
use bytes::Bytes;
use fathom_model::EVENT_TYPE_PREFIX;

use crate::{Envelope, PublishError, TRACEPARENT};

/// The stream and subject prefix used unless configured otherwise.
pub const DEFAULT_STREAM: &str = "FATHOM_EVENTS";
pub const DEFAULT_SUBJECT_PREFIX: &str = "fathom";

/// A NATS server with JetStream. Connected on first use, and again after any failure.
#[derive(Debug)]
pub struct NatsTarget {
    url: String,
    stream: String,
    prefix: String,
    context: Option<jetstream::Context>,
}

impl NatsTarget {
    /// `url`: `nats://host:4222`; `stream`: created if missing, over the subjects `{prefix}.>`.
    pub fn new(url: &str, stream: &str, prefix: &str) -> Self {
        Self {
            url: url.to_owned(),
            stream: stream.to_owned(),
            prefix: prefix.to_owned(),
            context: None,
        }
    }

    /// The subject of an event type: `org.fathom.dataset.created` → `{prefix}.dataset.created`.
    pub fn subject(prefix: &str, event_type: &str) -> String {
        let short = event_type
            .strip_prefix(EVENT_TYPE_PREFIX)
            .and_then(|rest| rest.strip_prefix('.'))
            .unwrap_or(event_type);
        format!("{prefix}.{short}")
    }

    /// Publishes and waits for the confirmations, for at most `budget`; after a failure the
    /// connection is made again.
    pub(crate) async fn publish(
        &mut self,
        events: &[Envelope],
        budget: Duration,
    ) -> Result<(), PublishError> {
        let published = tokio::time::timeout(budget, self.try_publish(events))
            .await
            .unwrap_or(Err(PublishError::Timeout(budget)));
        if published.is_err() {
            self.context = None;
        }
        published
    }

    async fn try_publish(&mut self, events: &[Envelope]) -> Result<(), PublishError> {
        let context = match &self.context {
            Some(context) => context.clone(),
            None => {
                let context = self.connect().await?;
                self.context = Some(context.clone());
                context
            }
        };
        let mut acks = Vec::with_capacity(events.len());
        for event in events {
            let mut headers = HeaderMap::new();
            headers.insert(NATS_MESSAGE_ID, event.id.as_str());
            if let Some(traceparent) = &event.traceparent {
                headers.insert(TRACEPARENT, traceparent.as_str());
            }
            let subject = Self::subject(&self.prefix, &event.event_type);
            let ack = context
                .publish_with_headers(subject, headers, Bytes::copy_from_slice(&event.body))
                .await
                .map_err(nats_error)?;
            acks.push(ack);
        }
        for ack in acks {
            ack.await.map_err(nats_error)?;
        }
        Ok(())
    }

    async fn connect(&self) -> Result<jetstream::Context, PublishError> {
        let client = ConnectOptions::new()
            .connection_timeout(std::time::Duration::from_secs(5))
            .connect(&self.url)
            .await
            .map_err(nats_error)?;
        let context = jetstream::new(client);
        context
            .get_or_create_stream(stream::Config {
                name: self.stream.clone(),
                subjects: vec![format!("{}.>", self.prefix)],
                ..stream::Config::default()
            })
            .await
            .map_err(nats_error)?;
        tracing::info!(stream = %self.stream, "connected to NATS JetStream");
        Ok(context)
    }
}

fn nats_error(error: impl std::fmt::Display) -> PublishError {
    PublishError::Nats(error.to_string())
}
