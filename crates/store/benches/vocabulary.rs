//! Importing a SKOS scheme of 10,000 concepts (100 top concepts of 99 narrower ones, each with labels
//! in two languages, an alternative label and a notation): reading the Turtle and writing the
//! vocabulary with its concepts, labels and hierarchy in one transaction, then an autocomplete.
//! `cargo bench -p fathom-store --bench vocabulary`; PostgreSQL too when `FATHOM_TEST_POSTGRES_URL`
//! is set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write;
use std::time::Instant;

use fathom_formats::RdfSyntax;
use fathom_formats::skos::read_scheme;
use fathom_model::{Slug, Vocabulary};
use fathom_store::ConceptFilter;
use fathom_store::testing::TestStore;

const TOPS: usize = 100;
const PER_TOP: usize = 99;

fn scheme() -> String {
    let mut turtle = String::from(
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n@prefix v: <https://vocab.example.org/bench/> .\n\
         v: a skos:ConceptScheme ; skos:prefLabel \"Bench\"@en .\n",
    );
    for top in 0..TOPS {
        let _ = writeln!(
            turtle,
            "v:t{top} a skos:Concept ; skos:inScheme v: ; skos:topConceptOf v: ; skos:notation \"t{top}\" ; \
             skos:prefLabel \"property {top}\"@en, \"propriété {top}\"@fr ."
        );
        for n in 0..PER_TOP {
            let _ = writeln!(
                turtle,
                "v:c{top}-{n} a skos:Concept ; skos:inScheme v: ; skos:broader v:t{top} ; skos:notation \"c{top}-{n}\" ; \
                 skos:prefLabel \"measured quantity {top} {n}\"@en, \"grandeur mesurée {top} {n}\"@fr ; \
                 skos:altLabel \"mq {top}.{n}\"@en ; skos:definition \"Concept {n} under property {top}.\"@en ."
            );
        }
    }
    turtle
}

async fn measure(name: &str, db: TestStore, turtle: &str) {
    let started = Instant::now();
    let read = read_scheme(RdfSyntax::Turtle, turtle.as_bytes()).unwrap();
    let parsed = started.elapsed();
    let at = fathom_store::now();
    let vocabulary = Vocabulary {
        id: uuid::Uuid::now_v7(),
        slug: Slug::parse("bench").unwrap(),
        iri: read.iri,
        title: read.title,
        description: None,
        binds: Vec::new(),
        concepts: read.concepts.len() as u64,
        revision: 1,
        created_at: at,
        updated_at: at,
    };
    db.store
        .save_vocabulary(&vocabulary, &read.concepts, None)
        .await
        .unwrap();
    let total = started.elapsed();
    assert_eq!(read.concepts.len(), TOPS * (PER_TOP + 1));
    let filter = ConceptFilter {
        prefix: Some("measured quantity 42 1".into()),
        limit: 10,
        ..Default::default()
    };
    let started = Instant::now();
    let found = db.store.concepts(vocabulary.id, &filter).await.unwrap();
    let autocomplete = started.elapsed();
    assert_eq!(found.len(), 10);
    println!(
        "{name}: {} concepts imported in {:.2} s (read {:.2} s, written {:.2} s); autocomplete {:.2} ms",
        vocabulary.concepts,
        total.as_secs_f64(),
        parsed.as_secs_f64(),
        (total - parsed).as_secs_f64(),
        autocomplete.as_secs_f64() * 1e3
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let turtle = scheme();
    measure("sqlite", TestStore::sqlite().await, &turtle).await;
    if let Some(db) = TestStore::postgres().await {
        measure("postgres", db, &turtle).await;
    }
}
