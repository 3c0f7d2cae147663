//! RabbitMQ (AMQP 0-9-1): a durable topic exchange, the event type as routing key, persistent
//! messages and publisher confirms.

use std::time::Duration;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, ExchangeKind,
};

use crate::{CONTENT_TYPE, Envelope, PublishError, TRACEPARENT};

/// The exchange events are published to unless configured otherwise.
pub const DEFAULT_EXCHANGE: &str = "fathom.events";

/// AMQP's delivery mode of a message the broker writes to disk.
const PERSISTENT: u8 = 2;

/// A RabbitMQ broker. The connection is made on first use and made again after any failure.
#[derive(Debug)]
pub struct AmqpTarget {
    url: String,
    exchange: String,
    open: Option<(Connection, Channel)>,
}

impl AmqpTarget {
    /// `url`: `amqp://user:password@host:5672/%2f` (or `amqps://`); `exchange`: the topic exchange,
    /// declared durable if missing.
    pub fn new(url: &str, exchange: &str) -> Self {
        Self {
            url: url.to_owned(),
            exchange: exchange.to_owned(),
            open: None,
        }
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
        if published.is_err()
            && let Some((connection, _)) = self.open.take()
        {
            let _ = connection.close(0, "reconnecting".into()).await;
        }
        published
    }

    async fn try_publish(&mut self, events: &[Envelope]) -> Result<(), PublishError> {
        let channel = match &self.open {
            Some((_, channel)) if channel.status().connected() => channel.clone(),
            _ => {
                let (connection, channel) = self.connect().await?;
                self.open = Some((connection, channel.clone()));
                channel
            }
        };
        let mut confirms = Vec::with_capacity(events.len());
        for event in events {
            let mut headers = FieldTable::default();
            if let Some(traceparent) = &event.traceparent {
                headers.insert(
                    TRACEPARENT.into(),
                    AMQPValue::LongString(traceparent.as_str().into()),
                );
            }
            let properties = BasicProperties::default()
                .with_headers(headers)
                .with_delivery_mode(PERSISTENT)
                .with_content_type(CONTENT_TYPE.into())
                .with_message_id(event.id.as_str().into())
                .with_type(event.event_type.as_str().into());
            let confirm = channel
                .basic_publish(
                    self.exchange.as_str().into(),
                    event.event_type.as_str().into(),
                    BasicPublishOptions::default(),
                    &event.body,
                    properties,
                )
                .await?;
            confirms.push(confirm);
        }
        for confirm in confirms {
            if let Confirmation::Nack(_) = confirm.await? {
                return Err(PublishError::Nacked);
            }
        }
        Ok(())
    }

    async fn connect(&self) -> Result<(Connection, Channel), PublishError> {
        let connection = Connection::connect(&self.url, ConnectionProperties::default()).await?;
        let channel = connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        channel
            .exchange_declare(
                self.exchange.as_str().into(),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
        tracing::info!(exchange = %self.exchange, "connected to RabbitMQ");
        Ok((connection, channel))
    }
}
