//! Running a search in two passes over the matches, so that neither does the other's work:
//!
//! - the **tally** lists the accepted matches without scoring them, and stops after
//!   [`EXACT_UP_TO`] of them: past that, the total and the facet counts (`facets.rs`) are
//!   extrapolated from the share of the index read (`total_exact: false`), so a word found in half
//!   of a million datasets costs no more to count than one found in ten thousand;
//! - the **ranking** finds the best page. By relevance: a document's score is the sum of the scores
//!   of the words' alternatives it matches (`query.rs`), added from the one that may add the most,
//!   and given up as soon as what is left to add cannot take it into the page. It scores the
//!   tally's matches when the tally saw few; else, where any word may match, those that block-max
//!   WAND keeps (it skips the blocks of documents whose best possible score cannot enter the page,
//!   so most matches of a common word are never scored); else, where every word must match, every
//!   match (the tally's when it saw them all). By a fast field: over the tally's matches when it
//!   saw them all, else over every match.
//!
//! Both see only what the [`Filter`] accepts.

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::{EnableScoring, Query, Weight};
use tantivy::{COLLECT_BLOCK_BUFFER_LEN, DocAddress, DocId, Score, Searcher, SegmentReader};

use crate::filter::{Filter, SegmentFilter};
use crate::query::Plan;

/// Up to this many matches, all of them seen by the tally, are ranked by scoring each one (a
/// selective filter leaves block-max WAND little to skip: most of the words' matches fail it).
const SCORED_ONE_BY_ONE: usize = 2_000;

/// How many matches are counted exactly. At least the deepest page a search may ask for
/// (`offset + limit`, 10,000 in the API), so that an estimated total never promises a page that
/// does not exist.
pub const EXACT_UP_TO: usize = 10_000;

/// The accepted matches of a search, in document order, per segment.
pub(crate) struct Matches {
    /// Per segment of the searcher, in its order.
    pub docs: Vec<Vec<DocId>>,
    pub coverage: Coverage,
}

/// How much of the index a pass read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Coverage {
    /// Matches the filter accepted.
    pub accepted: usize,
    /// Documents (of every segment) up to where the pass stopped.
    pub scanned: u64,
    /// Documents of the index, deleted ones included (the unit of `scanned`).
    pub documents: u64,
}

impl Coverage {
    pub(crate) fn exact(&self) -> bool {
        self.scanned >= self.documents
    }

    /// The matches of the whole index, extrapolated from the part scanned when the pass stopped
    /// early, to two significant figures (never fewer than were seen).
    ///
    /// The scanned part holds documents the reader may not see; the rounding keeps a repeated
    /// estimate from telling when some are added or removed.
    pub(crate) fn total(&self) -> usize {
        if self.exact() || self.scanned == 0 {
            return self.accepted;
        }
        let estimate = self.accepted as f64 * self.documents as f64 / self.scanned as f64;
        two_figures(estimate).max(self.accepted as u64) as usize
    }

    /// `count` of the scanned part, scaled like the total (to two significant figures).
    pub(crate) fn scale(&self, count: u64) -> u64 {
        if self.exact() || self.accepted == 0 {
            return count;
        }
        let estimate = count as f64 * self.total() as f64 / self.accepted as f64;
        two_figures(estimate)
    }
}

/// `value` to two significant figures: 12,345 → 12,000, 12,501 → 13,000.
fn two_figures(value: f64) -> u64 {
    if value < 100.0 {
        return value.round() as u64;
    }
    let unit = 10f64.powi(value.log10().floor() as i32 - 1);
    ((value / unit).round() * unit) as u64
}

/// The accepted documents of `weight` (built without scoring), segment by segment in document
/// order, stopping after `bound` of them.
pub(crate) fn tally(
    searcher: &Searcher,
    weight: &dyn Weight,
    filter: &Filter<'_>,
    bound: usize,
) -> tantivy::Result<Matches> {
    let readers = searcher.segment_readers();
    let mut matches = Matches {
        docs: Vec::with_capacity(readers.len()),
        coverage: Coverage {
            accepted: 0,
            scanned: 0,
            documents: readers.iter().map(|r| u64::from(r.max_doc())).sum(),
        },
    };
    let mut buffer = [0; COLLECT_BLOCK_BUFFER_LEN];
    for (ordinal, reader) in readers.iter().enumerate() {
        if matches.coverage.accepted >= bound {
            matches.docs.push(Vec::new());
            continue;
        }
        let accepts = filter.for_segment(ordinal, reader)?;
        let mut scorer = weight.scorer(reader, 1.0)?;
        let mut room = bound - matches.coverage.accepted;
        let mut docs =
            Vec::with_capacity(room.min(EXACT_UP_TO + 1).min(scorer.size_hint() as usize));
        let mut stopped_at: Option<DocId> = None;
        'segment: loop {
            let filled = scorer.fill_buffer(&mut buffer);
            for &doc in &buffer[..filled] {
                if accepts.accepts(doc) {
                    docs.push(doc);
                    room -= 1;
                    if room == 0 {
                        stopped_at = Some(doc);
                        break 'segment;
                    }
                }
            }
            if filled < buffer.len() {
                break;
            }
        }
        matches.coverage.accepted += docs.len();
        matches.coverage.scanned += match stopped_at {
            Some(doc) => u64::from(doc) + 1,
            None => u64::from(reader.max_doc()),
        };
        matches.docs.push(docs);
    }
    Ok(matches)
}

/// How a search's words rank the matches.
pub(crate) struct Ranking<'a> {
    /// Each alternative's weight and the most it adds to a score, the most first.
    alternatives: Vec<(Box<dyn Weight>, Score)>,
    /// The words' query where they are one union, whose best matches block-max WAND finds; `None`
    /// for words (or phrases) that must all match: their matches are walked unscored and scored
    /// by their alternatives.
    pruned: Option<&'a dyn Query>,
    /// The matches, unscored (the tally's weight).
    walked: &'a dyn Weight,
}

impl<'a> Ranking<'a> {
    pub(crate) fn new(
        searcher: &Searcher,
        plan: &'a Plan,
        walked: &'a dyn Weight,
    ) -> tantivy::Result<Self> {
        let scoring = EnableScoring::enabled_from_searcher(searcher);
        let mut alternatives = plan
            .alternatives
            .iter()
            .map(|alternative| {
                Ok((
                    alternative.query.weight(scoring)?,
                    alternative.bound(searcher)?,
                ))
            })
            .collect::<tantivy::Result<Vec<_>>>()?;
        alternatives.sort_by(|(_, a), (_, b)| b.total_cmp(a));
        let pruned = plan.text.as_deref().filter(|_| plan.union);
        Ok(Self {
            alternatives,
            pruned,
            walked,
        })
    }

    /// A segment's scorers of the alternatives.
    pub(crate) fn scorers(&self, reader: &SegmentReader) -> tantivy::Result<Scorers> {
        let mut rest: Vec<Score> = self.alternatives.iter().map(|(_, bound)| *bound).collect();
        // rest[i]: the most the alternatives from the i-th on may add.
        for i in (0..rest.len().saturating_sub(1)).rev() {
            rest[i] += rest[i + 1];
        }
        Ok(Scorers {
            scorers: self
                .alternatives
                .iter()
                .map(|(weight, _)| weight.scorer(reader, 1.0))
                .collect::<tantivy::Result<_>>()?,
            rest,
        })
    }
}

/// The scorers of a search's alternatives in one segment, the most valuable first.
pub(crate) struct Scorers {
    scorers: Vec<Box<dyn tantivy::query::Scorer>>,
    rest: Vec<Score>,
}

impl Scorers {
    /// The score of `doc` (after those asked before it), the sum of the alternatives it matches;
    /// `None` as soon as it cannot beat `threshold`.
    pub(crate) fn score(&mut self, doc: DocId, threshold: Score) -> Option<Score> {
        let mut score = 0.0;
        for (scorer, rest) in self.scorers.iter_mut().zip(&self.rest) {
            if score + rest <= threshold {
                return None;
            }
            if scorer.doc() < doc {
                scorer.seek(doc);
            }
            if scorer.doc() == doc {
                score += scorer.score();
            }
        }
        Some(score)
    }

    /// Scores `docs` (ascending) into `page`, which keeps the best.
    fn rank(&mut self, docs: &[DocId], page: &mut Page) {
        for &doc in docs {
            if let Some(score) = self.score(doc, page.threshold()) {
                page.push(score, doc);
            }
        }
    }
}

/// The documents a ranking scores.
#[derive(Clone, Copy)]
enum Candidates<'a> {
    /// Every accepted match.
    Matches(&'a Matches),
    /// The accepted matches block-max WAND keeps ([`Ranking::pruned`]).
    Pruned(&'a dyn Weight),
}

/// The `offset..offset + limit` best accepted matches, best first, ties to the earlier document.
///
/// Every candidate is scored by its alternatives, stopping where it can no longer enter the page.
/// The candidates: the tally's matches when it saw few, or all of those of words that must all
/// match; else those block-max WAND keeps of a union ([`Ranking::pruned`]); else every accepted
/// match, walked again.
pub(crate) fn best(
    searcher: &Searcher,
    ranking: &Ranking<'_>,
    filter: &Filter<'_>,
    tallied: &Matches,
    offset: usize,
    limit: usize,
) -> tantivy::Result<Vec<(Score, DocAddress)>> {
    let wanted = offset + limit;
    let every;
    let few = tallied.coverage.exact() && tallied.coverage.accepted <= SCORED_ONE_BY_ONE;
    let pruned;
    let candidates = match ranking.pruned {
        _ if few => Candidates::Matches(tallied),
        Some(query) => {
            pruned = query.weight(EnableScoring::enabled_from_searcher(searcher))?;
            Candidates::Pruned(pruned.as_ref())
        }
        None if tallied.coverage.exact() => Candidates::Matches(tallied),
        None => {
            every = tally(searcher, ranking.walked, filter, usize::MAX)?;
            Candidates::Matches(&every)
        }
    };
    let mut found: Vec<(Score, DocAddress)> = Vec::new();
    for (ordinal, reader) in searcher.segment_readers().iter().enumerate() {
        let pruned_docs;
        let docs: &[DocId] = match candidates {
            Candidates::Matches(matches) => &matches.docs[ordinal],
            Candidates::Pruned(pruned) => {
                let accepts = filter.for_segment(ordinal, reader)?;
                pruned_docs = wand_page(pruned, reader, accepts, wanted)?;
                &pruned_docs
            }
        };
        if docs.is_empty() {
            // Nothing to score, and scorers are not free: those of near spellings and completions
            // read every document of their terms.
            continue;
        }
        let mut page = Page::new(wanted);
        ranking.scorers(reader)?.rank(docs, &mut page);
        found.extend(
            page.into_vec()
                .into_iter()
                .map(|(score, doc)| (score, DocAddress::new(ordinal as u32, doc))),
        );
    }
    found.sort_by(|(a, a_doc), (b, b_doc)| b.total_cmp(a).then_with(|| a_doc.cmp(b_doc)));
    Ok(found.into_iter().skip(offset).take(limit).collect())
}

/// The accepted documents of a segment that block-max WAND finds among its `wanted` best, in
/// document order.
fn wand_page(
    scored: &dyn Weight,
    reader: &SegmentReader,
    accepts: &SegmentFilter,
    wanted: usize,
) -> tantivy::Result<Vec<DocId>> {
    let mut page = Page::new(wanted);
    // Called only for a document scoring above the threshold returned last: a document scoring the
    // same as the worst kept is not, so many equal scores cost nothing.
    scored.for_each_pruning(Score::MIN, reader, &mut |doc, score| {
        if accepts.accepts(doc) {
            page.push(score, doc);
        }
        page.threshold()
    })?;
    let mut docs: Vec<DocId> = page.into_vec().into_iter().map(|(_, doc)| doc).collect();
    docs.sort_unstable();
    Ok(docs)
}

/// Feeds `collector` (a page by a fast field) the accepted matches: the tally's when it saw them all,
/// else every one, walked again.
pub(crate) fn first_by<C: Collector>(
    searcher: &Searcher,
    unscored: &dyn Weight,
    filter: &Filter<'_>,
    tallied: &Matches,
    collector: &C,
) -> tantivy::Result<C::Fruit> {
    let every;
    let matches = if tallied.coverage.exact() {
        tallied
    } else {
        every = tally(searcher, unscored, filter, usize::MAX)?;
        &every
    };
    let mut fruits = Vec::new();
    for (ordinal, (reader, docs)) in searcher
        .segment_readers()
        .iter()
        .zip(&matches.docs)
        .enumerate()
    {
        let mut child = collector.for_segment(ordinal as u32, reader)?;
        for &doc in docs {
            child.collect(doc, 0.0);
        }
        fruits.push(child.harvest());
    }
    collector.merge_fruits(fruits)
}

/// The best `capacity` (score, document) pairs of a segment so far, as a min-heap on the score.
struct Page {
    capacity: usize,
    heap: std::collections::BinaryHeap<Entry>,
}

/// Ordered so that the heap's top is the worst kept: the lowest score, then the later document.
#[derive(PartialEq)]
struct Entry(Score, DocId);

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other
            .0
            .total_cmp(&self.0)
            .then_with(|| self.1.cmp(&other.1))
    }
}

impl Page {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            heap: std::collections::BinaryHeap::with_capacity(capacity + 1),
        }
    }

    /// Documents come in ascending order and only when they score above [`Page::threshold`], so a
    /// tie keeps the earlier one.
    fn push(&mut self, score: Score, doc: DocId) {
        self.heap.push(Entry(score, doc));
        if self.heap.len() > self.capacity {
            self.heap.pop();
        }
    }

    /// The score a document must beat to enter: the worst kept once the page is full.
    fn threshold(&self) -> Score {
        match self.heap.peek() {
            Some(Entry(score, _)) if self.heap.len() >= self.capacity => *score,
            _ => Score::MIN,
        }
    }

    fn into_vec(self) -> Vec<(Score, DocId)> {
        self.heap
            .into_iter()
            .map(|Entry(score, doc)| (score, doc))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_keep_two_significant_figures() {
        assert_eq!(two_figures(12_345.0), 12_000);
        assert_eq!(two_figures(12_501.0), 13_000);
        assert_eq!(two_figures(99.4), 99);
        assert_eq!(two_figures(1_234_567.0), 1_200_000);
        // 10,001 matches in the first 62 % of the index.
        let part = Coverage {
            accepted: 10_001,
            scanned: 62_000,
            documents: 100_000,
        };
        assert!(!part.exact());
        assert_eq!(part.total(), 16_000);
        assert_eq!(part.scale(5_000), 8_000);
        // Never fewer than were seen; exact when everything was read.
        let nearly = Coverage {
            scanned: 98_000,
            ..part
        };
        assert_eq!(nearly.total(), 10_001);
        let all = Coverage {
            scanned: 100_000,
            ..part
        };
        assert!(all.exact());
        assert_eq!((all.total(), all.scale(5_000)), (10_001, 5_000));
    }
}
