//! Relay throughput to the machine's RabbitMQ with publisher confirms, into a bound durable queue:
//! 50,000 events written, then the time until the relay has had every one confirmed.
//! `cargo bench -p fathom-events --bench relay`; PostgreSQL too when `FATHOM_TEST_POSTGRES_URL` is
//! set; the broker from `FATHOM_TEST_AMQP_URL` (default guest@127.0.0.1:5672).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use fathom_events::testing::{TestQueue, amqp_url};
use fathom_events::{AmqpTarget, Relay, RelayConfig, Target};
use fathom_store::testing::{TestStore, dataset, organisation};

const EVENTS: usize = 50_000;

async fn measure(name: &str, db: TestStore) {
    let store = &db.store;
    store
        .insert_organisation(&organisation("cmre"), "bench")
        .await
        .unwrap();
    let records: Vec<_> = (1..EVENTS)
        .map(|n| dataset("cmre", &format!("Record {n}")))
        .collect();
    for chunk in records.chunks(1_000) {
        store.insert_datasets(chunk, "bench").await.unwrap();
    }

    let queue = TestQueue::bind(true)
        .await
        .expect("RabbitMQ must run on this machine");

    let started = Instant::now();
    let relay = Relay::new(
        store.clone(),
        RelayConfig {
            poll: Duration::from_millis(10),
            ..RelayConfig::default()
        },
    )
    .spawn(vec![Target::Amqp(AmqpTarget::new(
        &amqp_url(),
        &queue.exchange,
    ))]);
    loop {
        let targets = store.event_targets().await.unwrap();
        if targets.first().is_some_and(|t| t.pending == 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    relay.stop(Duration::from_secs(5)).await;
    println!(
        "{name}: {EVENTS} events relayed to RabbitMQ (confirms, persistent, durable queue) in {:.2} s: {:.0} events/s",
        elapsed.as_secs_f64(),
        EVENTS as f64 / elapsed.as_secs_f64()
    );
    queue.close().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    measure("sqlite", TestStore::sqlite().await).await;
    if let Some(db) = TestStore::postgres().await {
        measure("postgres", db).await;
    }
}
