//! Facet counts: the values of a search's matches counted by ordinal per segment, in the flat
//! copies of the facet columns (`flat.rs`), one pass per facet; only the non-zero ordinals become
//! strings.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use tantivy::{DocId, Searcher};

use crate::flat::{ColumnCache, SegmentColumns};
use crate::index::FacetCount;
use crate::query::Facet;
use crate::run::Matches;

/// The most values a facet returns.
const FACET_SIZE: usize = 20;

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
