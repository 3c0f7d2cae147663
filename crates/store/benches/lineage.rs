//! Lineage at scale: 100,000 datasets in 10,000 chains of derivation ten deep, and the walk of a
//! chain's whole lineage (one recursive query) plus the read of its datasets (one query), as
//! `GET /api/v1/datasets/{id}/lineage?depth=10` does. `cargo bench -p fathom-store --bench lineage`;
//! PostgreSQL too when `FATHOM_TEST_POSTGRES_URL` is set. Prints p50 and p99.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use fathom_store::testing::{TestStore, dataset, organisation};
use fathom_store::{DatasetLink, Walk};

const CHAINS: usize = 10_000;
/// Datasets per chain: the first and the ten derived one from another.
const CHAIN: usize = 11;
const WALKS: usize = 1_000;

async fn measure(name: &str, db: TestStore) {
    let store = &db.store;
    store
        .insert_organisation(&organisation("cmre"), "bench")
        .await
        .unwrap();
    let started = Instant::now();
    let mut tails = Vec::with_capacity(CHAINS);
    let mut heads = Vec::with_capacity(CHAINS);
    let mut batch = Vec::with_capacity(CHAIN * 100);
    for chain in 0..CHAINS {
        let mut previous = None;
        for step in 0..CHAIN {
            let mut record = dataset("cmre", &format!("Chain {chain} step {step}"));
            record.metadata.was_derived_from = previous.into_iter().collect();
            previous = Some(record.id);
            if step == 0 {
                heads.push(record.id);
            }
            batch.push(record);
        }
        tails.extend(previous);
        if batch.len() >= CHAIN * 100 {
            store.insert_datasets(&batch, "bench").await.unwrap();
            batch.clear();
        }
    }
    store.insert_datasets(&batch, "bench").await.unwrap();
    println!(
        "{name}: {} datasets in chains of {CHAIN} written in {:.1} s",
        CHAINS * CHAIN,
        started.elapsed().as_secs_f64()
    );
    for (walk, starts) in [(Walk::Upstream, &tails), (Walk::Downstream, &heads)] {
        let mut latencies = Vec::with_capacity(WALKS);
        for start in starts.iter().step_by(CHAINS / WALKS) {
            let started = Instant::now();
            let links = store
                .walk_links(DatasetLink::DerivedFrom, &[*start], walk, 10)
                .await
                .unwrap();
            let ids: Vec<_> = links.iter().flat_map(|l| [l.dataset, l.target]).collect();
            let found = store.datasets_by_ids(&ids).await.unwrap();
            latencies.push(started.elapsed());
            assert_eq!(links.len(), 10);
            assert_eq!(found.len(), CHAIN);
        }
        latencies.sort();
        let at =
            |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{name}: lineage {walk:?} depth 10, {} walks: p50 {:.2} ms, p99 {:.2} ms",
            latencies.len(),
            ms(at(0.5)),
            ms(at(0.99))
        );
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    measure("sqlite", TestStore::sqlite().await).await;
    if let Some(db) = TestStore::postgres().await {
        measure("postgres", db).await;
    }
}
