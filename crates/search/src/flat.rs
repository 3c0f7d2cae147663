//! Flat copies of a segment's string fast fields that every search reads per match: the facets and
//! the classification.
//!
//! Reading tantivy's columns per matching document (optional and multi-valued indexes, bit-unpacking,
//! dictionary lookups) took 40 % of a faceted search's CPU. So each segment's values are copied once
//! into plain arrays of ordinals (16 bits while a field has fewer than 65,535 distinct values) with
//! the terms beside them, kept while the segment lives and shared by every search of it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use tantivy::columnar::StrColumn;
use tantivy::index::SegmentId;
use tantivy::{DocId, Searcher, SegmentReader};

use crate::query::Facet;

/// The flat columns of one segment (deleted documents included: a search never accepts them).
pub(crate) struct SegmentColumns {
    /// Per facet, in the order of [`Facet::ALL`]; `None` when no document of the segment has a value.
    facets: Vec<Option<FlatColumn>>,
    pub classification: Option<FlatColumn>,
    /// Each document's temporal extent in whole days since 1970, widened to whole days (`i32::MAX`
    /// to `i32::MIN` for none): a coarse test of a period, which the exact one then confirms.
    pub days: Vec<(i32, i32)>,
}

impl SegmentColumns {
    fn read(reader: &SegmentReader) -> tantivy::Result<Self> {
        let fast = reader.fast_fields();
        let read = |name: &str| -> tantivy::Result<Option<FlatColumn>> {
            Ok(fast
                .str(name)?
                .map(|column| FlatColumn::read(&column, reader.max_doc()))
                .transpose()?)
        };
        Ok(Self {
            facets: Facet::ALL
                .iter()
                .map(|facet| read(facet.name()))
                .collect::<tantivy::Result<_>>()?,
            classification: read("label_classification")?,
            days: days(reader)?,
        })
    }

    pub(crate) fn facet(&self, facet: Facet) -> Option<&FlatColumn> {
        let position = Facet::ALL.iter().position(|f| *f == facet)?;
        self.facets.get(position)?.as_ref()
    }
}

/// See [`SegmentColumns::days`].
fn days(reader: &SegmentReader) -> tantivy::Result<Vec<(i32, i32)>> {
    const DAY: i64 = 86_400;
    let fast = reader.fast_fields();
    let (start, end) = (fast.date("temporal_start")?, fast.date("temporal_end")?);
    Ok((0..reader.max_doc())
        .map(|doc| match (start.first(doc), end.first(doc)) {
            (Some(start), Some(end)) => (
                day(start.into_timestamp_secs().div_euclid(DAY)),
                day((end.into_timestamp_secs() + DAY - 1).div_euclid(DAY)),
            ),
            _ => (i32::MAX, i32::MIN),
        })
        .collect())
}

/// A day number, clamped into `i32` (beyond it lie ±5.8 million years).
pub(crate) fn day(days: i64) -> i32 {
    days.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
}

/// One string field of a segment: its distinct values, and each document's, by ordinal.
pub(crate) struct FlatColumn {
    /// In the order of their ordinals.
    pub terms: Vec<String>,
    ordinals: Ordinals,
}

impl FlatColumn {
    fn read(column: &StrColumn, max_doc: DocId) -> std::io::Result<Self> {
        let mut terms = Vec::with_capacity(column.num_terms());
        let mut text = String::new();
        for ord in 0..column.num_terms() as u64 {
            text.clear();
            column.ord_to_str(ord, &mut text)?;
            terms.push(text.clone());
        }
        let ordinals = if terms.len() < usize::from(u16::MAX) {
            Ordinals::Narrow(Layout::read(column, max_doc))
        } else {
            Ordinals::Wide(Layout::read(column, max_doc))
        };
        Ok(Self { terms, ordinals })
    }

    /// Adds the values of `docs` to `counts`, indexed by ordinal (as long as [`FlatColumn::terms`]).
    pub(crate) fn count(&self, docs: &[DocId], counts: &mut [u32]) {
        match &self.ordinals {
            Ordinals::Narrow(layout) => layout.count(docs, counts),
            Ordinals::Wide(layout) => layout.count(docs, counts),
        }
    }

    /// The ordinal of the first value of `doc`.
    pub(crate) fn first(&self, doc: DocId) -> Option<usize> {
        match &self.ordinals {
            Ordinals::Narrow(layout) => layout.first(doc),
            Ordinals::Wide(layout) => layout.first(doc),
        }
    }
}

enum Ordinals {
    Narrow(Layout<u16>),
    Wide(Layout<u32>),
}

/// The ordinals of every document of a segment for one field.
enum Layout<T> {
    /// At most one value per document: `ords[d]`, [`Ordinal::NONE`] for none.
    Single(Vec<T>),
    /// Document `d` has `ords[starts[d]..starts[d + 1]]`.
    Multiple { starts: Vec<u32>, ords: Vec<T> },
}

trait Ordinal: Copy + PartialEq {
    const NONE: Self;
    fn from_ord(ord: u64) -> Self;
    fn index(self) -> usize;
}

impl Ordinal for u16 {
    const NONE: Self = u16::MAX;
    fn from_ord(ord: u64) -> Self {
        ord as u16
    }
    fn index(self) -> usize {
        usize::from(self)
    }
}

impl Ordinal for u32 {
    const NONE: Self = u32::MAX;
    fn from_ord(ord: u64) -> Self {
        ord as u32
    }
    fn index(self) -> usize {
        self as usize
    }
}

impl<T: Ordinal> Layout<T> {
    fn read(column: &StrColumn, max_doc: DocId) -> Self {
        let mut starts = Vec::with_capacity(max_doc as usize + 1);
        let mut ords = Vec::new();
        for doc in 0..max_doc {
            starts.push(ords.len() as u32);
            ords.extend(column.term_ords(doc).map(T::from_ord));
        }
        starts.push(ords.len() as u32);
        if starts.windows(2).all(|w| w[1] - w[0] <= 1) {
            let single = starts
                .windows(2)
                .map(|w| {
                    if w[1] > w[0] {
                        ords[w[0] as usize]
                    } else {
                        T::NONE
                    }
                })
                .collect();
            return Self::Single(single);
        }
        Self::Multiple { starts, ords }
    }

    fn count(&self, docs: &[DocId], counts: &mut [u32]) {
        // One loop per layout, with no branch but the bounds checks inside.
        match self {
            Self::Single(ords) => {
                for &doc in docs {
                    let ord = ords.get(doc as usize).map_or(T::NONE, |&ord| ord);
                    if let Some(count) = counts.get_mut(ord.index()) {
                        *count += 1;
                    }
                }
            }
            Self::Multiple { starts, ords } => {
                for &doc in docs {
                    let doc = doc as usize;
                    let (Some(&start), Some(&end)) = (starts.get(doc), starts.get(doc + 1)) else {
                        continue;
                    };
                    for ord in ords.get(start as usize..end as usize).unwrap_or_default() {
                        if let Some(count) = counts.get_mut(ord.index()) {
                            *count += 1;
                        }
                    }
                }
            }
        }
    }

    fn first(&self, doc: DocId) -> Option<usize> {
        let doc = doc as usize;
        let ord = match self {
            Self::Single(ords) => *ords.get(doc)?,
            Self::Multiple { starts, ords } => {
                let (start, end) = (*starts.get(doc)?, *starts.get(doc + 1)?);
                *ords.get(start as usize..end as usize)?.first()?
            }
        };
        (ord != T::NONE).then(|| ord.index())
    }
}

/// The [`SegmentColumns`] of the segments in use, read when a search first needs them.
#[derive(Default)]
pub(crate) struct ColumnCache {
    by_segment: Mutex<HashMap<SegmentId, Arc<SegmentColumns>>>,
}

impl ColumnCache {
    pub(crate) fn of(&self, reader: &SegmentReader) -> tantivy::Result<Arc<SegmentColumns>> {
        let id = reader.segment_id();
        let known = self
            .by_segment
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned();
        if let Some(columns) = known {
            return Ok(columns);
        }
        // Read outside the lock: two searches may both read a new segment, neither waits.
        let columns = Arc::new(SegmentColumns::read(reader)?);
        self.by_segment
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, Arc::clone(&columns));
        Ok(columns)
    }

    /// Forgets the segments that `searcher` no longer has (merged away or deleted).
    pub(crate) fn keep_only(&self, searcher: &Searcher) {
        let live: HashSet<SegmentId> = searcher
            .segment_readers()
            .iter()
            .map(SegmentReader::segment_id)
            .collect();
        self.by_segment
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|id, _| live.contains(id));
    }
}
