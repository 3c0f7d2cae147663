//! The relay against the machine's real RabbitMQ and NATS JetStream (never skipped: a broker that
//! is not there fails the test). Brokers: `FATHOM_TEST_AMQP_URL`, `FATHOM_TEST_NATS_URL`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use fathom_events::testing::{TestQueue, amqp_url, nats_url};
use fathom_events::{AmqpTarget, NatsTarget, Relay, RelayConfig, RelayHandle, Target, TargetState};
use fathom_store::testing::{TestStore, dataset, organisation};
use fathom_store::{DatasetUpdate, Store};
use futures::StreamExt;
use serde_json::Value;
use tokio::net::TcpListener;
use uuid::Uuid;

fathom_store::on_both_backends!(
    events_reach_rabbitmq_in_order,
    a_broker_outage_loses_nothing,
    two_relays_never_publish_at_once,
    events_reach_nats_jetstream_once,
);

fn quick() -> RelayConfig {
    RelayConfig {
        poll: Duration::from_millis(20),
        backoff_max: Duration::from_millis(500),
        publish_timeout: Duration::from_secs(5),
        lease: Duration::from_secs(5),
        ..RelayConfig::default()
    }
}

/// A queue of the test's own on a fresh exchange, and its deliveries.
struct Consumer {
    queue: TestQueue,
    deliveries: lapin::Consumer,
}

impl Consumer {
    async fn bind() -> Self {
        let queue = TestQueue::bind(false)
            .await
            .expect("RabbitMQ must run on this machine");
        let deliveries = queue.deliveries().await.unwrap();
        Self { queue, deliveries }
    }

    fn exchange(&self) -> &str {
        &self.queue.exchange
    }

    /// Reads until `count` distinct events have arrived (and a little longer, to catch extras).
    async fn receive(&mut self, count: usize) -> Vec<Value> {
        let mut received = Vec::new();
        let mut distinct = HashSet::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while distinct.len() < count {
            let next = tokio::time::timeout_at(deadline, self.deliveries.next())
                .await
                .unwrap_or_else(|_| panic!("{} of {count} events arrived", distinct.len()));
            let delivery = next.unwrap().unwrap();
            assert_eq!(
                delivery
                    .properties
                    .content_type()
                    .as_ref()
                    .map(|t| t.as_str()),
                Some("application/cloudevents+json")
            );
            assert!(
                delivery.properties.delivery_mode() == &Some(2),
                "persistent"
            );
            let event: Value = serde_json::from_slice(&delivery.data).unwrap();
            assert_eq!(
                delivery.routing_key.as_str(),
                event["type"].as_str().unwrap()
            );
            distinct.insert(event["id"].as_str().unwrap().to_owned());
            received.push(event);
        }
        while let Some(delivery) =
            TestQueue::next(&mut self.deliveries, Duration::from_millis(300)).await
        {
            received.push(serde_json::from_slice(&delivery.data).unwrap());
        }
        received
    }

    async fn close(self) {
        self.queue.close().await;
    }
}

/// Per subject, the sequences in the order they arrived, duplicates dropped by id.
fn sequences_by_subject(events: &[Value]) -> HashMap<String, Vec<u64>> {
    let mut seen = HashSet::new();
    let mut by_subject: HashMap<String, Vec<u64>> = HashMap::new();
    for event in events {
        if seen.insert(event["id"].as_str().unwrap().to_owned()) {
            by_subject
                .entry(event["subject"].as_str().unwrap().to_owned())
                .or_default()
                .push(event["sequence"].as_str().unwrap().parse().unwrap());
        }
    }
    by_subject
}

/// Creates `datasets` datasets, then updates each `updates` times: one event per change.
async fn write_changes(store: &Store, datasets: usize, updates: usize) -> usize {
    store
        .insert_organisation(&organisation("cmre"), "t")
        .await
        .unwrap();
    let records: Vec<_> = (0..datasets)
        .map(|n| dataset("cmre", &format!("Record {n}")))
        .collect();
    for chunk in records.chunks(500) {
        store.insert_datasets(chunk, "t").await.unwrap();
    }
    for round in 1..=updates {
        for record in &records {
            let mut next = record.clone();
            next.metadata.title = format!("{} v{round}", record.metadata.title);
            next.revision = 1 + round as i64;
            store
                .update_dataset(DatasetUpdate::new(&next, round as i64), "t")
                .await
                .unwrap();
        }
    }
    1 + datasets * (1 + updates)
}

async fn wait_for(relay: &RelayHandle, what: &str, check: impl Fn(&TargetState) -> bool) {
    for _ in 0..500 {
        if relay.health().targets().iter().all(|t| check(&t.state)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "the relay never became {what}: {:?}",
        relay.health().targets()
    );
}

async fn events_reach_rabbitmq_in_order(db: TestStore) {
    let mut consumer = Consumer::bind().await;
    let total = write_changes(&db.store, 20, 2).await;
    let relay = Relay::new(db.store.clone(), quick()).spawn(vec![Target::Amqp(AmqpTarget::new(
        &amqp_url(),
        consumer.exchange(),
    ))]);
    let received = consumer.receive(total).await;
    assert_eq!(received.len(), total, "no duplicates in a healthy run");
    let first = &received[0];
    assert_eq!(first["specversion"], "1.0");
    assert_eq!(first["type"], "org.fathom.organisation.created");
    assert_eq!(first["data"]["slug"], "cmre");
    let updated = received
        .iter()
        .find(|e| e["type"] == "org.fathom.dataset.updated")
        .unwrap();
    assert_eq!(updated["data"]["changed"], serde_json::json!(["title"]));
    for (subject, sequences) in sequences_by_subject(&received) {
        let expected: Vec<u64> = (1..=sequences.len() as u64).collect();
        assert_eq!(sequences, expected, "in order and complete for {subject}");
    }
    let targets = db.store.event_targets().await.unwrap();
    assert_eq!(targets[0].pending, 0);
    assert_eq!(targets[0].position, db.store.latest_change().await.unwrap());
    relay.stop(Duration::from_secs(5)).await;
    consumer.close().await;
}

/// A TCP proxy in front of RabbitMQ that can be cut and restored.
struct Proxy {
    address: String,
    up: Arc<AtomicBool>,
    cut: Arc<tokio::sync::Notify>,
}

impl Proxy {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let up = Arc::new(AtomicBool::new(true));
        let cut = Arc::new(tokio::sync::Notify::new());
        let (up_, cut_) = (Arc::clone(&up), Arc::clone(&cut));
        let broker = url_authority(&amqp_url());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !up_.load(Ordering::SeqCst) {
                    continue;
                }
                let broker = broker.clone();
                let cut = Arc::clone(&cut_);
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(broker).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        () = cut.notified() => {}
                    }
                });
            }
        });
        Self { address, up, cut }
    }

    fn url(&self) -> String {
        amqp_url().replace(&url_authority(&amqp_url()), &self.address)
    }

    fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.notify_waiters();
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// `host:port` of an `amqp://user:password@host:port/vhost` URL.
fn url_authority(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, rest)| rest);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

async fn a_broker_outage_loses_nothing(db: TestStore) {
    let mut consumer = Consumer::bind().await;
    let proxy = Proxy::start().await;
    let relay = Relay::new(db.store.clone(), quick()).spawn(vec![Target::Amqp(AmqpTarget::new(
        &proxy.url(),
        consumer.exchange(),
    ))]);
    db.store
        .insert_organisation(&organisation("warmup"), "t")
        .await
        .unwrap();
    consumer.receive(1).await;
    proxy.down();
    // 5,000 changes while the broker cannot be reached: 2,500 datasets created, each updated once.
    let total = write_changes(&db.store, 2_500, 1).await;
    assert_eq!(total, 5_001);
    wait_for(&relay, "degraded", |state| {
        matches!(state, TargetState::Degraded { .. })
    })
    .await;
    let waiting = db.store.event_targets().await.unwrap();
    assert_eq!(waiting[0].pending, 5_001, "the outbox holds what waits");
    proxy.restore();
    let received = consumer.receive(total).await;
    let by_subject = sequences_by_subject(&received);
    let distinct: usize = by_subject.values().map(Vec::len).sum();
    assert_eq!(
        distinct, total,
        "every event exactly once after de-duplication"
    );
    for (subject, sequences) in by_subject {
        let expected: Vec<u64> = (1..=sequences.len() as u64).collect();
        assert_eq!(sequences, expected, "in order for {subject}");
    }
    wait_for(&relay, "delivering", |state| {
        state == &TargetState::Delivering
    })
    .await;
    relay.stop(Duration::from_secs(5)).await;
    consumer.close().await;
}

async fn two_relays_never_publish_at_once(db: TestStore) {
    let mut consumer = Consumer::bind().await;
    let total = write_changes(&db.store, 300, 1).await;
    let target = || Target::Amqp(AmqpTarget::new(&amqp_url(), consumer.exchange()));
    let config = RelayConfig {
        batch: 50,
        ..quick()
    };
    let one = Relay::new(db.store.clone(), config.clone()).spawn(vec![target()]);
    let two = Relay::new(db.store.clone(), config).spawn(vec![target()]);
    let received = consumer.receive(total).await;
    assert_eq!(
        received.len(),
        total,
        "the lease keeps a second relay from publishing"
    );
    let delivered: u64 = [&one, &two]
        .iter()
        .map(|relay| relay.health().targets()[0].delivered)
        .sum();
    assert_eq!(delivered, total as u64);
    let states: Vec<TargetState> = [&one, &two]
        .iter()
        .map(|relay| relay.health().targets()[0].state.clone())
        .collect();
    assert!(states.contains(&TargetState::Standby), "{states:?}");
    one.stop(Duration::from_secs(5)).await;
    two.stop(Duration::from_secs(5)).await;
    consumer.close().await;
}

async fn events_reach_nats_jetstream_once(db: TestStore) {
    let client = async_nats::connect(nats_url())
        .await
        .expect("NATS must run on this machine");
    let jetstream = async_nats::jetstream::new(client);
    let unique = Uuid::now_v7().simple().to_string();
    let (stream, prefix) = (
        format!("FATHOM_TEST_{unique}"),
        format!("fathomtest{unique}"),
    );
    let total = write_changes(&db.store, 10, 1).await;
    let nats = || Target::Nats(NatsTarget::new(&nats_url(), &stream, &prefix));
    let relay = Relay::new(db.store.clone(), quick()).spawn(vec![nats()]);
    let delivered = || db.store.event_targets();
    for _ in 0..500 {
        if delivered()
            .await
            .unwrap()
            .first()
            .is_some_and(|t| t.pending == 0)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    relay.stop(Duration::from_secs(5)).await;

    // Sent again from the start, as after a crash before the position was saved: JetStream drops
    // every duplicate by its message id.
    let at = fathom_store::now();
    let store = &db.store;
    assert!(
        store
            .lease_event_target("nats", "rewinder", 0, at, at)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .move_event_target("nats", "rewinder", 0, at)
            .await
            .unwrap()
    );
    store
        .release_event_target("nats", "rewinder")
        .await
        .unwrap();
    assert_eq!(
        store.event_targets().await.unwrap()[0].pending,
        total as i64
    );
    let relay = Relay::new(db.store.clone(), quick()).spawn(vec![nats()]);
    for _ in 0..500 {
        if delivered().await.unwrap()[0].pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    relay.stop(Duration::from_secs(5)).await;

    let mut info = jetstream.get_stream(&stream).await.unwrap();
    let state = info.info().await.unwrap().state.clone();
    assert_eq!(
        state.messages, total as u64,
        "one message per event, duplicates dropped"
    );
    let consumer = info
        .create_consumer(async_nats::jetstream::consumer::pull::Config::default())
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap().take(total);
    let mut received = Vec::new();
    while let Some(message) = messages.next().await {
        let message = message.unwrap();
        let event: Value = serde_json::from_slice(&message.payload).unwrap();
        let short = event["type"]
            .as_str()
            .unwrap()
            .trim_start_matches("org.fathom.");
        assert_eq!(message.subject.as_str(), format!("{prefix}.{short}"));
        message.ack().await.unwrap();
        received.push(event);
    }
    let by_subject = sequences_by_subject(&received);
    assert_eq!(by_subject.len(), 11, "the organisation and ten datasets");
    for (subject, sequences) in by_subject {
        let expected: Vec<u64> = (1..=sequences.len() as u64).collect();
        assert_eq!(sequences, expected, "in order for {subject}");
    }
    jetstream.delete_stream(&stream).await.unwrap();
}
