//! Facet counts: the values of a search's matches counted by ordinal per segment, in the flat
//! copies of the facet columns (`flat.rs`), one pass per facet; only the non-zero ordinals become
//! strings.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, LazyLock};

use tantivy::{DocId, Searcher};

use crate::flat::{ColumnCache, SegmentColumns};
use crate::index::FacetCount;
use crate::query::Facet;
use crate::run::Matches;

/// The most values a facet returns.
const FACET_SIZE: usize = 20;
/// The years the year facet counts (a temporal extent is counted in the years of it within these).
const FIRST_YEAR: i32 = 1900;
const LAST_YEAR: i32 = 2100;

/// The names of the years counted, made once, so that counts can borrow them as they borrow a
/// column's terms.
static YEARS: LazyLock<Vec<String>> = LazyLock::new(|| {
    (FIRST_YEAR..=LAST_YEAR)
        .map(|year| year.to_string())
        .collect()
});

pub(crate) struct FacetCounter<'a> {
    facets: &'a [Facet],
    columns: &'a ColumnCache,
}

impl<'a> FacetCounter<'a> {
    pub(crate) fn new(facets: &'a [Facet], columns: &'a ColumnCache) -> Self {
        Self { facets, columns }
    }

    /// The most frequent values of each facet among `matches`, scaled to the whole index's when the
    /// matches are a part of it (see [`crate::run::Coverage::scale`]).
    pub(crate) fn count(
        &self,
        searcher: &Searcher,
        matches: &Matches,
    ) -> tantivy::Result<BTreeMap<&'static str, Vec<FacetCount>>> {
        if self.facets.is_empty() {
            return Ok(BTreeMap::new());
        }
        let segments = searcher
            .segment_readers()
            .iter()
            .zip(&matches.docs)
            .filter(|(_, docs)| !docs.is_empty())
            .map(|(reader, docs)| Ok((self.columns.of(reader)?, docs)))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let mut merged: Vec<HashMap<&str, u64>> = vec![HashMap::new(); self.facets.len()];
        for (columns, docs) in &segments {
            for (facet, total) in self.facets.iter().zip(&mut merged) {
                if *facet == Facet::Year {
                    count_years(columns, docs, total);
                    continue;
                }
                let Some(column) = columns.facet(*facet) else {
                    continue;
                };
                let mut counts = vec![0; column.terms.len()];
                column.count(docs, &mut counts);
                for (term, count) in column.terms.iter().zip(counts).filter(|(_, c)| *c > 0) {
                    *total.entry(term.as_str()).or_default() += u64::from(count);
                }
            }
        }
        Ok(self
            .facets
            .iter()
            .zip(merged)
            .map(|(facet, counts)| {
                let mut counts: Vec<(&str, u64)> = counts.into_iter().collect();
                if *facet == Facet::Year {
                    // A histogram: every year, in order.
                    counts.sort_unstable();
                    let counts = counts
                        .into_iter()
                        .map(|(year, count)| FacetCount {
                            value: year.to_owned(),
                            count: matches.coverage.scale(count),
                        })
                        .collect();
                    return (facet.name(), counts);
                }
                let first = |a: &(&str, u64), b: &(&str, u64)| b.1.cmp(&a.1).then(a.0.cmp(b.0));
                if counts.len() > FACET_SIZE {
                    counts.select_nth_unstable_by(FACET_SIZE, first);
                    counts.truncate(FACET_SIZE);
                }
                counts.sort_unstable_by(first);
                let shown = match facet {
                    Facet::Keyword => shown_keywords(&segments, &counts),
                    _ => HashMap::new(),
                };
                let counts = counts
                    .into_iter()
                    .map(|(value, count)| FacetCount {
                        value: shown.get(value).map_or(value, |form| form).to_owned(),
                        count: matches.coverage.scale(count),
                    })
                    .collect();
                (facet.name(), counts)
            })
            .collect())
    }
}

/// Counts each of `docs` in every year its temporal extent covers (within the years counted); a
/// document without a temporal extent (an empty interval) counts in none.
fn count_years(columns: &SegmentColumns, docs: &[DocId], total: &mut HashMap<&str, u64>) {
    // An extent that runs on past the years counted is open-ended (an ongoing series): counted up
    // to this year, not to the end of the range.
    let this_year = time::OffsetDateTime::now_utc().year().min(LAST_YEAR);
    let mut counts = [0_u64; (LAST_YEAR - FIRST_YEAR + 1) as usize];
    for doc in docs {
        let Some(&(first, last)) = columns.extents.years.get(*doc as usize) else {
            continue;
        };
        let first = i32::from(first).max(FIRST_YEAR);
        let last = match i32::from(last) {
            last if last > LAST_YEAR => this_year,
            last => last,
        };
        for year in first..=last {
            counts[(year - FIRST_YEAR) as usize] += 1;
        }
    }
    for (year, count) in YEARS.iter().zip(counts).filter(|(_, count)| *count > 0) {
        *total.entry(year.as_str()).or_default() += count;
    }
}

/// The form of each of the keywords `shown` (lower-cased) that most of the matches write ("AIS"
/// rather than "ais"), the first in byte order on a tie: counted over the matches only, so a form
/// written only by documents the reader may not see is never shown.
fn shown_keywords<'a>(
    segments: &'a [(Arc<SegmentColumns>, &Vec<DocId>)],
    shown: &[(&str, u64)],
) -> HashMap<String, &'a str> {
    let mut forms: HashMap<String, HashMap<&'a str, u64>> = HashMap::new();
    for (columns, docs) in segments {
        for (form, count) in columns.keyword_forms(docs) {
            let lower: std::borrow::Cow<'_, str> = if form.chars().any(char::is_uppercase) {
                form.to_lowercase().into()
            } else {
                form.into()
            };
            if shown.iter().any(|(keyword, _)| *keyword == lower) {
                *forms
                    .entry(lower.into_owned())
                    .or_default()
                    .entry(form)
                    .or_default() += u64::from(count);
            }
        }
    }
    forms
        .into_iter()
        .filter_map(|(keyword, written)| {
            let form = written
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))?
                .0;
            Some((keyword, form))
        })
        .collect()
}
