//! RabbitMQ and NATS for tests and benchmarks (feature `testing`): the machine's brokers, and a queue
//! of one's own bound to a fresh exchange, so that runs never see each other's events.

use futures::StreamExt;
use lapin::options::{
    BasicConsumeOptions, ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{Channel, Connection, ConnectionProperties, ExchangeKind};
use uuid::Uuid;

/// The RabbitMQ of the tests: `FATHOM_TEST_AMQP_URL`, or the machine's own.
pub fn amqp_url() -> String {
    std::env::var("FATHOM_TEST_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// The NATS server of the tests: `FATHOM_TEST_NATS_URL`, or the machine's own.
pub fn nats_url() -> String {
    std::env::var("FATHOM_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

/// A fresh durable topic exchange, declared as the relay declares its own, and a queue bound to
/// every event published to it.
#[derive(Debug)]
pub struct TestQueue {
    connection: Connection,
    channel: Channel,
    /// The exchange to point the relay at.
    pub exchange: String,
    queue: String,
}

impl TestQueue {
    /// `durable`: a durable queue, as a real consumer's (messages are written to disk), removed by
    /// [`TestQueue::close`]; otherwise an exclusive one, gone with the connection.
    pub async fn bind(durable: bool) -> Result<Self, lapin::Error> {
        let connection = Connection::connect(&amqp_url(), ConnectionProperties::default()).await?;
        let channel = connection.create_channel().await?;
        let exchange = format!("fathom.test.{}", Uuid::now_v7().simple());
        let exchange_options = ExchangeDeclareOptions {
            durable: true,
            ..ExchangeDeclareOptions::default()
        };
        channel
            .exchange_declare(
                exchange.as_str().into(),
                ExchangeKind::Topic,
                exchange_options,
                FieldTable::default(),
            )
            .await?;
        let queue_options = QueueDeclareOptions {
            durable,
            exclusive: !durable,
            auto_delete: !durable,
            ..QueueDeclareOptions::default()
        };
        let queue = format!("{exchange}.queue");
        channel
            .queue_declare(queue.as_str().into(), queue_options, FieldTable::default())
            .await?;
        channel
            .queue_bind(
                queue.as_str().into(),
                exchange.as_str().into(),
                "#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        Ok(Self {
            connection,
            channel,
            exchange,
            queue,
        })
    }

    /// The deliveries, acknowledged as they are sent.
    pub async fn deliveries(&self) -> Result<lapin::Consumer, lapin::Error> {
        let options = BasicConsumeOptions {
            no_ack: true,
            ..BasicConsumeOptions::default()
        };
        self.channel
            .basic_consume(
                self.queue.as_str().into(),
                "test".into(),
                options,
                FieldTable::default(),
            )
            .await
    }

    /// Reads the next delivery, if one comes within `wait`.
    pub async fn next(
        deliveries: &mut lapin::Consumer,
        wait: std::time::Duration,
    ) -> Option<lapin::message::Delivery> {
        match tokio::time::timeout(wait, deliveries.next()).await {
            Ok(Some(Ok(delivery))) => Some(delivery),
            _ => None,
        }
    }

    /// A text header of a delivery.
    pub fn header(delivery: &lapin::message::Delivery, name: &str) -> Option<String> {
        let headers = delivery.properties.headers().as_ref()?;
        match headers.inner().get(name)? {
            lapin::types::AMQPValue::LongString(text) => {
                Some(String::from_utf8_lossy(text.as_bytes()).into_owned())
            }
            _ => None,
        }
    }

    /// Removes the queue and the exchange.
    pub async fn close(self) {
        let _ = self
            .channel
            .queue_delete(self.queue.as_str().into(), QueueDeleteOptions::default())
            .await;
        let _ = self
            .channel
            .exchange_delete(
                self.exchange.as_str().into(),
                ExchangeDeleteOptions::default(),
            )
            .await;
        let _ = self.connection.close(0, "done".into()).await;
    }
}
