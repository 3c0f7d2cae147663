//! Flat copies of a segment's string fast fields that every search reads per match: the facets and
//! the classification (the latter as a bit set of the documents each clearance may read).
//!
//! Reading tantivy's columns per matching document (optional and multi-valued indexes, bit-unpacking,
//! dictionary lookups) took 40 % of a faceted search's CPU. So each segment's values are copied once
//! into plain arrays of ordinals (8 or 16 bits while a field has fewer than 255 or 65,535 distinct
//! values; a bit set per document for a field of few values) with the terms beside them, kept while
//! the segment lives and shared by every search of it. The extents (time and box) are copied likewise,
//! coarse and exact, for the filter.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use tantivy::columnar::StrColumn;
use tantivy::index::SegmentId;
use tantivy::{BitSet, DocId, Searcher, SegmentReader};
use tantivy_common::ReadOnlyBitSet;

use crate::query::Facet;

/// The flat columns of one segment (deleted documents included: a search never accepts them).
pub(crate) struct SegmentColumns {
    /// Per facet, in the order of [`Facet::ALL`]; `None` when no document of the segment has a value.
    facets: Vec<Option<FlatColumn>>,
    classification: Option<FlatColumn>,
    /// Each keyword as written, by document (the keyword facet shows the form its matches write).
    keyword_shown: Option<FlatColumn>,
    /// The documents each clearance may read, by the classifications it is cleared for: made by the
    /// first search of a clearance, as a bit per document is cheaper to test than a classification.
    readable: Mutex<Vec<(Vec<bool>, Arc<ReadOnlyBitSet>)>>,
    pub extents: Extents,
}

/// The most clearances whose readable documents a segment keeps (a policy has a few).
const CLEARANCES_KEPT: usize = 16;

/// Each document's place and time twice: coarsely, in small integers rounded outwards, which a
/// search with a box or a period reads for every match (a few bytes each, so they stay in the
/// processor's caches), and exactly, read only when the coarse extent meets the search's.
pub(crate) struct Extents {
    /// Days since 1970, the start rounded down and the end up.
    pub days: Vec<(i32, i32)>,
    pub boxes: Vec<Area<i16>>,
    /// The first and the last year of the temporal extent (an empty extent's first after its
    /// last), which the year facet counts for every match: 4 bytes a document, where reading the
    /// exact extent of each match was a miss of the processor's caches.
    pub years: Vec<(i16, i16)>,
    pub exact: Vec<Extent>,
}

/// A document's temporal extent and bounding box, made so that a document without one intersects
/// nothing: an empty interval.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Extent {
    /// Microseconds since 1970.
    pub start: i64,
    pub end: i64,
    pub area: Area<f64>,
}

/// A bounding box as latitudes and two longitude intervals that do not cross the antimeridian: in
/// degrees, or (`Area<i16>`, the coarse box) in hundredths of a degree, one more outwards than
/// rounding needs (so that no floating-point error can make it smaller than the box it stands for).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Area<T> {
    pub latitudes: (T, T),
    pub longitudes: [(T, T); 2],
}

impl<T: PartialOrd + Copy> Area<T> {
    /// Whether the boxes intersect (for coarse boxes: may intersect; always when the exact ones do).
    pub(crate) fn meets(&self, other: &Self) -> bool {
        overlap(self.latitudes, other.latitudes)
            && self
                .longitudes
                .iter()
                .any(|&mine| other.longitudes.iter().any(|&theirs| overlap(mine, theirs)))
    }
}

impl Area<f64> {
    pub(crate) fn coarse(&self) -> Area<i16> {
        Area {
            latitudes: hundredths(self.latitudes),
            longitudes: self.longitudes.map(hundredths),
        }
    }
}

/// An interval of degrees in hundredths, rounded outwards.
fn hundredths((low, high): (f64, f64)) -> (i16, i16) {
    // Saturating casts: degrees are within ±180, and an infinite bound (an empty extent's) saturates.
    (
        ((low * 100.0).floor() - 1.0) as i16,
        ((high * 100.0).ceil() + 1.0) as i16,
    )
}

/// An interval of microseconds since 1970 in days, rounded outwards.
pub(crate) fn days(start: i64, end: i64) -> (i32, i32) {
    const DAY: i64 = 86_400_000_000;
    let clamp = |day: i64| day.clamp(i64::from(i32::MIN) + 1, i64::from(i32::MAX) - 1) as i32;
    (
        clamp(start.div_euclid(DAY)),
        clamp(end.div_euclid(DAY) + i64::from(end.rem_euclid(DAY) > 0)),
    )
}

/// The years of an interval of microseconds since 1970, saturated to `i16`; an empty interval's
/// first year after its last.
fn years(start: i64, end: i64) -> (i16, i16) {
    if start > end {
        return (i16::MAX, i16::MIN);
    }
    let year_of = |micros: i64| {
        let year = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
            .map_or(if micros < 0 { i32::MIN } else { i32::MAX }, |at| at.year());
        year.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
    };
    (year_of(start), year_of(end))
}

/// Whether each interval starts before the other ends: the exact test's comparisons, so that rounding
/// both outwards never turns away what the exact test accepts, whatever the intervals.
pub(crate) fn overlap<T: PartialOrd>(a: (T, T), b: (T, T)) -> bool {
    a.0 <= b.1 && b.0 <= a.1
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
        let exact = extents(reader)?;
        Ok(Self {
            facets: Facet::ALL
                .iter()
                .map(|facet| read(facet.field()))
                .collect::<tantivy::Result<_>>()?,
            classification: read("label_classification")?,
            keyword_shown: read("keyword_shown")?,
            readable: Mutex::default(),
            extents: Extents {
                days: exact.iter().map(|e| days(e.start, e.end)).collect(),
                boxes: exact.iter().map(|e| e.area.coarse()).collect(),
                years: exact.iter().map(|e| years(e.start, e.end)).collect(),
                exact,
            },
        })
    }

    /// How many of `docs` write each form of each keyword, by the form.
    pub(crate) fn keyword_forms(&self, docs: &[DocId]) -> Vec<(&str, u32)> {
        let Some(column) = &self.keyword_shown else {
            return Vec::new();
        };
        let mut counts = vec![0; column.terms.len()];
        column.count(docs, &mut counts);
        column
            .terms
            .iter()
            .map(String::as_str)
            .zip(counts)
            .filter(|(_, count)| *count > 0)
            .collect()
    }

    pub(crate) fn facet(&self, facet: Facet) -> Option<&FlatColumn> {
        let position = Facet::ALL.iter().position(|f| *f == facet)?;
        self.facets.get(position)?.as_ref()
    }

    /// The documents whose classification is one of `cleared` (a document without one is read by
    /// nobody).
    pub(crate) fn readable(&self, cleared: &[String]) -> Arc<ReadOnlyBitSet> {
        let terms = self.classification.as_ref().map_or(&[][..], |c| &c.terms);
        let key: Vec<bool> = terms.iter().map(|term| cleared.contains(term)).collect();
        let kept = |readable: &[(Vec<bool>, Arc<ReadOnlyBitSet>)]| {
            let found = readable.iter().find(|(k, _)| *k == key);
            found.map(|(_, bits)| Arc::clone(bits))
        };
        if let Some(bits) = kept(&self.lock_readable()) {
            return bits;
        }
        // Made outside the lock: two searches may both make it, neither waits.
        let max_doc = self.extents.exact.len() as DocId;
        let mut bits = BitSet::with_max_value(max_doc);
        if let Some(column) = &self.classification {
            for doc in 0..max_doc {
                if column.first(doc).is_some_and(|o| key.get(o) == Some(&true)) {
                    bits.insert(doc);
                }
            }
        }
        let bits = Arc::new(ReadOnlyBitSet::from(&bits));
        let mut readable = self.lock_readable();
        if kept(&readable).is_none() {
            if readable.len() == CLEARANCES_KEPT {
                readable.remove(0);
            }
            readable.push((key, Arc::clone(&bits)));
        }
        bits
    }

    fn lock_readable(&self) -> std::sync::MutexGuard<'_, Vec<(Vec<bool>, Arc<ReadOnlyBitSet>)>> {
        self.readable.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// See [`Extents::exact`].
fn extents(reader: &SegmentReader) -> tantivy::Result<Vec<Extent>> {
    let fast = reader.fast_fields();
    let (start, end) = (fast.date("temporal_start")?, fast.date("temporal_end")?);
    let bounds = ["south", "north", "west_1", "east_1", "west_2", "east_2"]
        .map(|name| fast.f64(name))
        .into_iter()
        .collect::<tantivy::Result<Vec<_>>>()?;
    let [south, north, west_1, east_1, west_2, east_2] = bounds.as_slice() else {
        unreachable!("six columns were read");
    };
    let interval = |low: Option<f64>, high: Option<f64>| match (low, high) {
        (Some(low), Some(high)) => (low, high),
        _ => (f64::INFINITY, f64::NEG_INFINITY),
    };
    Ok((0..reader.max_doc())
        .map(|doc| {
            let (start, end) = match (start.first(doc), end.first(doc)) {
                (Some(start), Some(end)) => {
                    (start.into_timestamp_micros(), end.into_timestamp_micros())
                }
                _ => (i64::MAX, i64::MIN),
            };
            Extent {
                start,
                end,
                area: Area {
                    latitudes: interval(south.first(doc), north.first(doc)),
                    longitudes: [
                        interval(west_1.first(doc), east_1.first(doc)),
                        interval(west_2.first(doc), east_2.first(doc)),
                    ],
                },
            }
        })
        .collect())
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
        let ordinals = if terms.len() < usize::from(u8::MAX) {
            let layout = Layout::read(column, max_doc);
            let multiple = matches!(layout, Layout::Multiple { .. });
            if terms.len() <= 8 || (multiple && terms.len() <= BitRows::MOST_VALUES) {
                Ordinals::Bits(BitRows::new(&layout, terms.len(), max_doc))
            } else {
                Ordinals::Byte(layout)
            }
        } else if terms.len() < usize::from(u16::MAX) {
            Ordinals::Narrow(Layout::read(column, max_doc))
        } else {
            Ordinals::Wide(Layout::read(column, max_doc))
        };
        Ok(Self { terms, ordinals })
    }

    /// Adds the values of `docs` to `counts`, indexed by ordinal (as long as [`FlatColumn::terms`]).
    pub(crate) fn count(&self, docs: &[DocId], counts: &mut [u32]) {
        match &self.ordinals {
            Ordinals::Bits(rows) => rows.count(docs, counts),
            Ordinals::Byte(layout) => layout.count(docs, counts),
            Ordinals::Narrow(layout) => layout.count(docs, counts),
            Ordinals::Wide(layout) => layout.count(docs, counts),
        }
    }

    /// The lowest ordinal of `doc`'s values.
    pub(crate) fn first(&self, doc: DocId) -> Option<usize> {
        match &self.ordinals {
            Ordinals::Bits(rows) => rows.first(doc),
            Ordinals::Byte(layout) => layout.first(doc),
            Ordinals::Narrow(layout) => layout.first(doc),
            Ordinals::Wide(layout) => layout.first(doc),
        }
    }
}

/// As narrow as the field's number of values allows.
enum Ordinals {
    /// A few values (at most 8, or at most 64 of which a document may have several).
    Bits(BitRows),
    Byte(Layout<u8>),
    Narrow(Layout<u16>),
    Wide(Layout<u32>),
}

/// Each document's values as a set of bits, `width` bytes a document. Counted eight values at a time
/// in the eight byte-wide counters of one integer: no branch per value, and a few bytes a document
/// to read (a keyword list of 4 values among 38: 5 bytes, against 8 as ordinals and their starts).
struct BitRows {
    width: usize,
    rows: Vec<u8>,
}

/// `SPREAD[b]` has, in its byte `k`, bit `k` of `b`.
static SPREAD: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut byte = 0;
    while byte < 256 {
        let mut bit = 0;
        while bit < 8 {
            table[byte] |= ((byte as u64 >> bit) & 1) << (8 * bit);
            bit += 1;
        }
        byte += 1;
    }
    table
};

const _: () = assert!(
    BitRows::MOST_VALUES <= 64,
    "BitRows::count reads at most 8 bytes a row"
);

impl BitRows {
    const MOST_VALUES: usize = 64;

    fn new(layout: &Layout<u8>, values: usize, max_doc: DocId) -> Self {
        let width = values.div_ceil(8).max(1);
        let mut rows = vec![0u8; max_doc as usize * width];
        for doc in 0..max_doc {
            for &ord in layout.values(doc) {
                if let Some(byte) = rows.get_mut(doc as usize * width + usize::from(ord / 8)) {
                    *byte |= 1 << (ord % 8);
                }
            }
        }
        Self { width, rows }
    }

    fn count(&self, docs: &[DocId], counts: &mut [u32]) {
        match self.width {
            1 => self.count_rows::<1>(docs, counts),
            2 => self.count_rows::<2>(docs, counts),
            3 => self.count_rows::<3>(docs, counts),
            4 => self.count_rows::<4>(docs, counts),
            5 => self.count_rows::<5>(docs, counts),
            6 => self.count_rows::<6>(docs, counts),
            7 => self.count_rows::<7>(docs, counts),
            _ => self.count_rows::<8>(docs, counts),
        }
    }

    /// [`BitRows::count`] for rows of `WIDTH` bytes: a loop the compiler unrolls.
    fn count_rows<const WIDTH: usize>(&self, docs: &[DocId], counts: &mut [u32]) {
        let rows = self.rows.as_chunks::<WIDTH>().0;
        let mut lanes = [0u64; WIDTH];
        // A byte-wide counter holds 255: the lanes are emptied into `counts` every 255 documents.
        for chunk in docs.chunks(255) {
            for &doc in chunk {
                if let Some(row) = rows.get(doc as usize) {
                    for (lane, &bits) in lanes.iter_mut().zip(row) {
                        *lane += SPREAD[usize::from(bits)];
                    }
                }
            }
            for (first, lane) in lanes.iter_mut().enumerate() {
                for (bit, count) in counts.iter_mut().skip(8 * first).take(8).enumerate() {
                    *count += ((*lane >> (8 * bit)) & 0xff) as u32;
                }
                *lane = 0;
            }
        }
    }

    fn row(&self, doc: DocId) -> &[u8] {
        let start = doc as usize * self.width;
        self.rows.get(start..start + self.width).unwrap_or_default()
    }

    fn first(&self, doc: DocId) -> Option<usize> {
        let row = self.row(doc);
        let (byte, bits) = row.iter().enumerate().find(|(_, bits)| **bits != 0)?;
        Some(8 * byte + bits.trailing_zeros() as usize)
    }
}

/// The ordinals of every document of a segment for one field.
enum Layout<T> {
    /// At most one value per document: `ords[d]`, [`Ordinal::NONE`] for none.
    Single(Vec<T>),
    /// Document `d` has `ords[starts[d]..starts[d + 1]]`.
    Multiple { starts: Vec<u32>, ords: Vec<T> },
}

trait Ordinal: Copy + Ord {
    const NONE: Self;
    fn from_ord(ord: u64) -> Self;
    fn index(self) -> usize;
}

/// An ordinal type: its largest value stands for "no value", the term ordinals fit below it.
macro_rules! ordinal {
    ($($int:ty),*) => {$(
        impl Ordinal for $int {
            const NONE: Self = <$int>::MAX;
            fn from_ord(ord: u64) -> Self {
                ord as $int
            }
            fn index(self) -> usize {
                self as usize
            }
        }
    )*};
}

ordinal!(u8, u16, u32);

impl<T: Ordinal> Layout<T> {
    fn read(column: &StrColumn, max_doc: DocId) -> Self {
        Self::build(max_doc, |doc| column.term_ords(doc).map(T::from_ord))
    }

    /// Each document's values in ascending order, each once: a dataset with two CSV distributions
    /// counts once for CSV (tantivy keeps a document's values as they were added).
    fn build<V: Iterator<Item = T>>(max_doc: DocId, values: impl Fn(DocId) -> V) -> Self {
        let mut starts = Vec::with_capacity(max_doc as usize + 1);
        let (mut ords, mut own) = (Vec::new(), Vec::new());
        for doc in 0..max_doc {
            starts.push(ords.len() as u32);
            own.clear();
            own.extend(values(doc));
            own.sort_unstable();
            own.dedup();
            ords.extend_from_slice(&own);
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

    /// The ordinals of `doc`'s values.
    fn values(&self, doc: DocId) -> &[T] {
        let doc = doc as usize;
        let values = match self {
            Self::Single(ords) => ords.get(doc..=doc).filter(|ord| ord[0] != T::NONE),
            Self::Multiple { starts, ords } => starts
                .get(doc..doc + 2)
                .and_then(|range| ords.get(range[0] as usize..range[1] as usize)),
        };
        values.unwrap_or_default()
    }

    fn first(&self, doc: DocId) -> Option<usize> {
        self.values(doc).first().map(|ord| ord.index())
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

    /// The segments whose copies are kept.
    #[cfg(test)]
    pub(crate) fn held(&self) -> HashSet<SegmentId> {
        let held = self
            .by_segment
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        held.keys().copied().collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic draw below `n`, from `seed`.
    fn random(mut seed: u64) -> impl FnMut(u64) -> u64 {
        move |n| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) % n
        }
    }

    /// The coarse test never turns away an extent that intersects, at any edge; and it turns away
    /// most of those that do not.
    #[test]
    fn coarse_extents_meet_whenever_exact_ones_intersect() {
        let mut next = random(11);
        // Degrees with two or three decimals, so that edges often touch exactly.
        let mut degree =
            |limit: u64| (next(2 * limit * 1000) as f64 - (limit * 1000) as f64) / 1000.0;
        let (mut intersecting, mut turned_away, mut apart) = (0, 0, 0);
        for _ in 0..200_000 {
            let (a, b, c, d) = (degree(180), degree(180), degree(180), degree(180));
            let (a, b) = (a.min(b), a.max(b));
            // Ordered, a point, or reversed (the exact test's comparisons hold for any).
            let (c, d) = match degree(1) {
                pick if pick > 0.3 => (c.min(d), c.max(d)),
                pick if pick > -0.3 => (c, c),
                _ => (c, d),
            };
            let exact = a <= d && c <= b;
            let coarse = overlap(hundredths((a, b)), hundredths((c, d)));
            assert!(!exact || coarse, "[{a}, {b}] and [{c}, {d}]");
            intersecting += usize::from(exact);
            apart += usize::from(!exact);
            turned_away += usize::from(!coarse);
        }
        assert!(intersecting > 10_000 && turned_away * 100 > apart * 95);
        assert!(!overlap(
            hundredths((f64::INFINITY, f64::NEG_INFINITY)),
            hundredths((-180.0, 180.0))
        ));

        const DAY: i64 = 86_400_000_000;
        let micros = [
            i64::MIN,
            -DAY - 1,
            -DAY,
            -1,
            0,
            1,
            DAY - 1,
            DAY,
            DAY + 1,
            5 * DAY,
            i64::MAX,
        ];
        for &(start, end) in &[(0, 0), (-1, 0), (DAY, DAY), (1, DAY - 1), (-DAY, 5 * DAY)] {
            for &from in &micros {
                for &to in micros.iter().filter(|&&to| to >= from) {
                    let exact = start <= to && from <= end;
                    let coarse = overlap(days(start, end), days(from, to));
                    assert!(!exact || coarse, "[{start}, {end}] and [{from}, {to}]");
                }
            }
        }
        assert!(!overlap(days(0, DAY - 1), days(2 * DAY, 3 * DAY)));
    }

    /// Facet counts count datasets, whatever the layout: a value a document has twice counts once;
    /// bit sets count past a byte-wide counter's 255.
    #[test]
    fn every_layout_counts_each_document_once_per_value() {
        let mut next = random(5);
        let max_doc: DocId = 20_000;
        // (distinct values, most values a document has): one at most gives the single layout.
        for (values, most) in [(3, 1), (8, 4), (9, 4), (38, 6), (64, 4), (200, 8)] {
            let lists: Vec<Vec<u8>> = (0..max_doc)
                .map(|_| {
                    let own: Vec<u8> = (0..next(most + 1)).map(|_| next(values) as u8).collect();
                    // Repeated values, as tantivy keeps them.
                    own.iter().chain(own.iter().take(1)).copied().collect()
                })
                .collect();
            let layout = Layout::build(max_doc, |doc| lists[doc as usize].iter().copied());
            assert_eq!(matches!(layout, Layout::Single(_)), most == 1);
            let rows = BitRows::new(&layout, values as usize, max_doc);
            let docs: Vec<DocId> = (0..max_doc).filter(|_| next(3) > 0).collect();
            let mut expected = vec![0u32; values as usize];
            for &doc in &docs {
                for (value, count) in expected.iter_mut().enumerate() {
                    *count += u32::from(lists[doc as usize].contains(&(value as u8)));
                }
            }
            assert!(expected.iter().any(|&c| c > 255), "{values} values");
            let mut counted = vec![0; values as usize];
            layout.count(&docs, &mut counted);
            assert_eq!(counted, expected, "ordinals, {values} values");
            if values <= BitRows::MOST_VALUES as u64 {
                let mut counted = vec![0; values as usize];
                rows.count(&docs, &mut counted);
                assert_eq!(counted, expected, "bits, {values} values");
            }
            for doc in 0..max_doc {
                let lowest = lists[doc as usize].iter().min().map(|&v| usize::from(v));
                assert_eq!(layout.first(doc), lowest, "{values} values, {doc}");
                if values <= BitRows::MOST_VALUES as u64 {
                    assert_eq!(rows.first(doc), lowest, "{values} values, {doc}");
                }
            }
        }
    }
}
