//! Totals and facet counts: exact up to `EXACT_UP_TO` matches, estimated past it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fathom_search::{EXACT_UP_TO, Facet, SearchIndex, SearchRequest};
use fathom_store::testing::dataset;

/// 24,000 datasets: two in three about gliders, the licences alternating.
fn catalogue() -> (tempfile::TempDir, SearchIndex) {
    let dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(&dir.path().join("search"), 0).unwrap();
    let documents = (0..24_000)
        .map(|i| {
            let mut record = dataset("cmre", "record");
            let metadata = &mut record.metadata;
            metadata.title = if i % 3 == 0 {
                format!("Mooring record {i}")
            } else {
                format!("Glider section {i}")
            };
            metadata.description = "Quality-controlled observations.".into();
            metadata.keywords = vec![format!("k{}", i % 5)];
            metadata.license = Some(if i % 2 == 0 { "CC-BY-4.0" } else { "CC0-1.0" }.into());
            index.document(&record, None)
        })
        .collect();
    index.apply(documents, &[], 1, false).unwrap();
    (dir, index)
}

fn licences(results: &fathom_search::SearchResults) -> Vec<(String, u64)> {
    results.facets["licence"]
        .iter()
        .map(|c| (c.value.clone(), c.count))
        .collect()
}

fn near(estimate: u64, truth: u64) -> bool {
    estimate.abs_diff(truth) * 20 <= truth
}

#[test]
fn counts_are_exact_up_to_the_bound_and_estimated_past_it() {
    let (_dir, index) = catalogue();
    let gliders = SearchRequest {
        text: Some("glider".into()),
        facets: vec![Facet::Licence],
        limit: 20,
        ..Default::default()
    };

    // 16,000 matches: more than are counted exactly.
    let many = index.search(&gliders).unwrap();
    const { assert!(16_000 > EXACT_UP_TO) };
    assert!(!many.total_exact);
    assert!(near(many.total as u64, 16_000), "{} for 16,000", many.total);
    let counts = licences(&many);
    assert_eq!(counts.len(), 2, "{counts:?}");
    for (licence, count) in &counts {
        assert!(near(*count, 8_000), "{licence}: {count} for 8,000");
    }
    assert_eq!(many.hits.len(), 20);
    assert!(many.hits.iter().all(|hit| hit.title.starts_with("Glider")));

    // Narrowed by a filter to 8,000: every count exact.
    let open = SearchRequest {
        licence: vec!["CC0-1.0".into()],
        ..gliders.clone()
    };
    let few = index.search(&open).unwrap();
    assert!(few.total_exact);
    assert_eq!(few.total, 8_000);
    assert_eq!(licences(&few), [("CC0-1.0".to_owned(), 8_000)]);

    // Without words, every dataset matches; with a keyword filter, a fifth, exactly.
    let all = index
        .search(&SearchRequest {
            limit: 1,
            ..Default::default()
        })
        .unwrap();
    assert!(!all.total_exact);
    assert!(near(all.total as u64, 24_000), "{}", all.total);
    let fifth = index
        .search(&SearchRequest {
            keyword: vec!["k3".into()],
            limit: 1,
            ..Default::default()
        })
        .unwrap();
    assert!(fifth.total_exact);
    assert_eq!(fifth.total, 4_800);
}

/// A keyword facet counts keywords whatever their case, and shows the form most records write.
#[test]
fn keyword_facets_show_the_form_most_records_write() {
    let dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(&dir.path().join("search"), 0).unwrap();
    let written = ["AIS", "AIS", "ais", "AIS", "Ais", "ctd", "ctd"];
    let documents = written
        .iter()
        .map(|keyword| {
            let mut record = dataset("cmre", "record");
            record.metadata.keywords = vec![(*keyword).into()];
            // Only the one `ais` is under CC0.
            let licence = if *keyword == "ais" {
                "CC0-1.0"
            } else {
                "CC-BY-4.0"
            };
            record.metadata.license = Some(licence.into());
            index.document(&record, None)
        })
        .collect();
    index.apply(documents, &[], 1, false).unwrap();
    let results = index
        .search(&SearchRequest {
            facets: vec![Facet::Keyword],
            limit: 1,
            ..Default::default()
        })
        .unwrap();
    let keywords: Vec<(String, u64)> = results.facets["keyword"]
        .iter()
        .map(|c| (c.value.clone(), c.count))
        .collect();
    assert_eq!(
        keywords,
        [("AIS".to_owned(), 5), ("ctd".to_owned(), 2)],
        "counted as one, shown as most write it"
    );
    let filtered = index
        .search(&SearchRequest {
            keyword: vec!["AIS".into()],
            limit: 10,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(filtered.total, 5, "the shown form filters as the others");
    // The form is the matches' own: documents outside them (here another licence; for a reader,
    // those they may not see) never lend theirs.
    let open = index
        .search(&SearchRequest {
            licence: vec!["CC0-1.0".into()],
            facets: vec![Facet::Keyword],
            limit: 1,
            ..Default::default()
        })
        .unwrap();
    let keywords: Vec<(String, u64)> = open.facets["keyword"]
        .iter()
        .map(|c| (c.value.clone(), c.count))
        .collect();
    assert_eq!(keywords, [("ais".to_owned(), 1)]);
}

/// The year facet is a histogram: each dataset counted in every year its temporal extent covers,
/// in the order of the years; a dataset without one in none.
#[test]
fn the_year_facet_counts_every_year_an_extent_covers() {
    let dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(&dir.path().join("search"), 0).unwrap();
    let extents = [
        Some(("2019-06-01T00:00:00Z", "2021-02-01T00:00:00Z")),
        Some(("2020-12-31T00:00:00Z", "2020-12-31T23:59:59Z")),
        Some(("2021-01-01T00:00:00Z", "2021-12-31T23:59:59Z")),
        None,
    ];
    let documents = extents
        .iter()
        .map(|extent| {
            let mut record = dataset("cmre", "record");
            record.metadata.temporal = extent.map(|(start, end)| {
                let at = |raw: &str| {
                    time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
                        .unwrap()
                };
                fathom_model::TemporalExtent::new(Some(at(start)), Some(at(end))).unwrap()
            });
            index.document(&record, None)
        })
        .collect();
    index.apply(documents, &[], 1, false).unwrap();
    let results = index
        .search(&SearchRequest {
            facets: vec![Facet::Year],
            limit: 1,
            ..Default::default()
        })
        .unwrap();
    let years: Vec<(String, u64)> = results.facets["year"]
        .iter()
        .map(|c| (c.value.clone(), c.count))
        .collect();
    let expected = [("2019", 1), ("2020", 2), ("2021", 2)].map(|(y, c)| (y.to_owned(), c));
    assert_eq!(years, expected);
}
