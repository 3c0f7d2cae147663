//! The search's relevance, measured on a judged set (`relevance/`): the demo catalogue and 500
//! records shaped after real ones, and 74 queries as people type them, each record graded 0 to 3 by
//! what it is about (`relevance/shape.py` says how, and writes both files). A change to the search
//! may not lower nDCG@10 or recall@50 below the floors here, which are today's figures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;

use fathom_model::Policy;
use fathom_service::{IndexSettings, OnError, Search, SearchRequest, ServiceSettings, Services};
use fathom_store::testing::TestStore;
use serde::Deserialize;

use crate::{demo, operator};

const RECORDS: &str = include_str!("../relevance/records.ndjson");
const JUDGEMENTS: &str = include_str!("../relevance/judgements.json");

/// The figures the search may not fall below (every word must match, the default): today's, to
/// three places (`docs/api.md` has them, and those of `match=any`).
const NDCG_AT_10: f64 = 0.789;
const RECALL_AT_50: f64 = 0.824;

/// Graded at least this, a record is one the search should find (recall's denominator).
const RELEVANT: u8 = 2;

#[derive(Deserialize)]
struct Judged {
    query: String,
    /// By title; a record not named is graded 0.
    grades: BTreeMap<String, u8>,
}

/// Means over the judged queries.
#[derive(Debug, Default)]
struct Figures {
    ndcg_at_10: f64,
    recall_at_50: f64,
}

/// Discounted cumulative gain of grades in rank order.
fn dcg(grades: impl Iterator<Item = u8>) -> f64 {
    grades
        .enumerate()
        .map(|(rank, grade)| (2f64.powi(i32::from(grade)) - 1.0) / (rank as f64 + 2.0).log2())
        .sum()
}

/// nDCG@10 and recall@50 of one ranking (`None` for recall where no record is relevant).
fn measure(judged: &Judged, titles: &[String]) -> (f64, Option<f64>) {
    let grade = |title: &String| judged.grades.get(title).copied().unwrap_or(0);
    let mut ideal: Vec<u8> = judged.grades.values().copied().collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let ideal = dcg(ideal.into_iter().take(10));
    let ndcg = if ideal > 0.0 {
        dcg(titles.iter().take(10).map(grade)) / ideal
    } else {
        0.0
    };
    let relevant = judged.grades.values().filter(|g| **g >= RELEVANT).count();
    let found = titles
        .iter()
        .take(50)
        .filter(|title| grade(title) >= RELEVANT)
        .count();
    let recall = (relevant > 0).then(|| found as f64 / relevant as f64);
    (ndcg, recall)
}

async fn figures(search: &Search, judgements: &[Judged], match_any: bool) -> Figures {
    let admin = operator();
    let (mut ndcg, mut recall, mut recalled) = (0.0, 0.0, 0);
    for judged in judgements {
        let request = SearchRequest {
            text: Some(judged.query.clone()),
            limit: 50,
            match_any,
            ..Default::default()
        };
        let results = search.search(Some(&admin), request).await.unwrap();
        let titles: Vec<String> = results.hits.iter().map(|hit| hit.title.clone()).collect();
        let (one_ndcg, one_recall) = measure(judged, &titles);
        eprintln!(
            "{:<40} nDCG@10 {one_ndcg:.3}  recall@50 {}",
            judged.query,
            one_recall.map_or("-".into(), |r| format!("{r:.3}"))
        );
        ndcg += one_ndcg;
        if let Some(one_recall) = one_recall {
            recall += one_recall;
            recalled += 1;
        }
    }
    Figures {
        ndcg_at_10: ndcg / judgements.len() as f64,
        recall_at_50: recall / f64::from(recalled),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_ranks_as_the_judgements_say() {
    let db = TestStore::sqlite().await;
    let index_dir = tempfile::tempdir().unwrap();
    let policy = Arc::new(Policy::default_policy());
    let settings = ServiceSettings {
        index: Some(IndexSettings {
            data_dir: index_dir.path().to_owned(),
            cache_entries: 0,
        }),
        // As `serve --demo` runs it.
        sharing: Some(demo::sharing_settings(&policy)),
        ..Default::default()
    };
    let services = Services::new(db.store.clone(), policy, settings).unwrap();
    demo::load(&services).await.unwrap();
    let lines: Vec<(u64, String)> = (1..).zip(RECORDS.lines().map(str::to_owned)).collect();
    let outcome = services
        .catalogue
        .import_datasets(&operator(), &lines, OnError::Stop)
        .await
        .unwrap();
    assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
    let search = services.search.clone().unwrap();
    search.catch_up().await.unwrap();
    let judgements: Vec<Judged> = serde_json::from_str(JUDGEMENTS).unwrap();
    assert!(judgements.len() >= 60);

    let every_word = figures(&search, &judgements, false).await;
    let any_word = figures(&search, &judgements, true).await;
    eprintln!("every word (the default): {every_word:?}\nany word (match=any): {any_word:?}");
    assert!(
        every_word.ndcg_at_10 >= NDCG_AT_10 && every_word.recall_at_50 >= RECALL_AT_50,
        "{every_word:?} fell below nDCG@10 {NDCG_AT_10}, recall@50 {RECALL_AT_50}"
    );
}

#[test]
fn a_ranking_is_measured_against_its_grades() {
    let judged = Judged {
        query: "ctd".into(),
        grades: BTreeMap::from([("a".into(), 3), ("b".into(), 1)]),
    };
    let titles = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();
    assert_eq!(measure(&judged, &titles(&["a", "b"])), (1.0, Some(1.0)));
    let (swapped, recall) = measure(&judged, &titles(&["b", "a"]));
    assert!(swapped < 1.0 && swapped > 0.5, "{swapped}");
    assert_eq!(recall, Some(1.0));
    assert_eq!(measure(&judged, &titles(&["x", "b"])).1, Some(0.0));
}
