//! Write latency: sequential dataset updates, each one transaction (record, keywords, label values,
//! revision, change feed, outbox). `cargo bench -p fathom-store --bench writes`; PostgreSQL too when
//! `FATHOM_TEST_POSTGRES_URL` is set. Prints mean, p50 and p99 per update.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use fathom_store::DatasetUpdate;
use fathom_store::testing::{TestStore, dataset, organisation};

const RECORDS: usize = 2_000;

async fn measure(name: &str, db: TestStore) {
    let store = &db.store;
    store
        .insert_organisation(&organisation("cmre"), "bench")
        .await
        .unwrap();
    let records: Vec<_> = (0..RECORDS)
        .map(|n| dataset("cmre", &format!("Record {n}")))
        .collect();
    for chunk in records.chunks(500) {
        store.insert_datasets(chunk, "bench").await.unwrap();
    }
    let mut latencies = Vec::with_capacity(RECORDS);
    for round in 1..=2_i64 {
        for record in &records {
            let mut next = record.clone();
            next.metadata.title = format!("{} v{round}", record.metadata.title);
            next.revision = round + 1;
            let started = Instant::now();
            store
                .update_dataset(DatasetUpdate::new(&next, round), "bench")
                .await
                .unwrap();
            latencies.push(started.elapsed());
        }
    }
    latencies.sort();
    let mean = latencies.iter().sum::<Duration>() / latencies.len() as u32;
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "{name}: {} updates, mean {:.3} ms, p50 {:.3} ms, p99 {:.3} ms",
        latencies.len(),
        mean.as_secs_f64() * 1e3,
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    measure("sqlite", TestStore::sqlite().await).await;
    if let Some(db) = TestStore::postgres().await {
        measure("postgres", db).await;
    }
}
