//! What a search lets through besides its words: the request's exact filters, its place and time,
//! and what the reader may see. Checked per document the words match, by both passes of a search
//! (`run.rs`).
//!
//! Place and time are read per matching document from the segment's flat copies (`flat.rs`):
//! expressed as range queries, a box across the antimeridian needs a union of intersections of
//! ranges, and tantivy evaluates such unions over every document of the index; checked here, the
//! cost is a few array reads per document the words already matched. The classifications a reader
//! is cleared for are a bitset per segment and clearance, kept with the flat copies. When the exact
//! filters of a search with words, categories the reader fails or deleted documents narrow what a
//! search allows, a bitset per segment and search is made with all of them applied (from their short
//! term lists and tantivy's set of live documents): a match costs one bit test however many rules
//! there are.

use std::cell::OnceCell;
use std::sync::Arc;

use tantivy::fastfield::AliveBitSet;
use tantivy::query::{EnableScoring, Weight};
use tantivy::{BitSet, DocId, Searcher, SegmentReader};
use tantivy_common::ReadOnlyBitSet;
use time::OffsetDateTime;

use crate::document::longitude_intervals;
use crate::flat::{Area, ColumnCache, SegmentColumns, days, overlap};
use crate::query::{Plan, SearchRequest};

/// The part of a search that selects without scoring.
pub(crate) struct Filter<'a> {
    columns: &'a ColumnCache,
    required: Option<Box<dyn Weight>>,
    excluded: Option<Box<dyn Weight>>,
    place: Option<Place>,
    period: Option<Period>,
    classifications: Option<Vec<String>>,
    /// Per segment of the searcher, in its order: made by the first pass that reads the segment, for
    /// the tally and the ranking both.
    segments: Vec<OnceCell<SegmentFilter>>,
}

/// The request's box, exact and coarse.
#[derive(Clone, Copy)]
struct Place {
    exact: Area<f64>,
    coarse: Area<i16>,
}

#[derive(Clone, Copy)]
struct Period {
    /// Microseconds since 1970.
    micros: (i64, i64),
    days: (i32, i32),
}

impl<'a> Filter<'a> {
    pub(crate) fn new(
        request: &SearchRequest,
        plan: &Plan,
        searcher: &Searcher,
        columns: &'a ColumnCache,
    ) -> tantivy::Result<Self> {
        let weight = |query: Option<&dyn tantivy::query::Query>| {
            query
                .map(|query| query.weight(EnableScoring::disabled_from_searcher(searcher)))
                .transpose()
        };
        let place = request.bbox.map(|bbox| {
            let (first, second) = longitude_intervals(bbox.west(), bbox.east());
            let exact = Area {
                latitudes: (bbox.south(), bbox.north()),
                longitudes: [first, second],
            };
            Place {
                exact,
                coarse: exact.coarse(),
            }
        });
        let micros = |at: OffsetDateTime| (at.unix_timestamp_nanos() / 1_000) as i64;
        let period = request.datetime.map(|range| {
            let (start, end) = (
                range.start.map_or(i64::MIN, micros),
                range.end.map_or(i64::MAX, micros),
            );
            Period {
                micros: (start, end),
                days: days(start, end),
            }
        });
        let classifications = request
            .visibility
            .as_ref()
            .map(|visibility| visibility.classifications.clone());
        Ok(Self {
            columns,
            required: weight(plan.checked_required())?,
            excluded: weight(plan.excluded.as_deref())?,
            place,
            period,
            classifications,
            segments: searcher
                .segment_readers()
                .iter()
                .map(|_| OnceCell::new())
                .collect(),
        })
    }

    /// The filter's state for the segment `reader`, the searcher's `ordinal`th.
    pub(crate) fn for_segment(
        &self,
        ordinal: usize,
        reader: &SegmentReader,
    ) -> tantivy::Result<&SegmentFilter> {
        let cell = self.segments.get(ordinal).ok_or_else(|| {
            tantivy::TantivyError::InternalError(format!("no segment {ordinal} in the searcher"))
        })?;
        if let Some(made) = cell.get() {
            return Ok(made);
        }
        let made = self.make(reader)?;
        Ok(cell.get_or_init(|| made))
    }

    /// The filter's state for one segment: its columns, and the documents it allows before place and
    /// time as one bitset.
    fn make(&self, reader: &SegmentReader) -> tantivy::Result<SegmentFilter> {
        let columns = self.columns.of(reader)?;
        let readable = self
            .classifications
            .as_ref()
            .map(|names| columns.readable(names));
        let alive = reader.alive_bitset().map(AliveBitSet::bitset);
        let allowed = if self.required.is_none() && self.excluded.is_none() && alive.is_none() {
            readable.map(Allowed::Readable)
        } else {
            let mut bits = match &self.required {
                Some(weight) => matching(weight.as_ref(), reader)?,
                None => BitSet::with_max_value_and_full(reader.max_doc()),
            };
            if let Some(weight) = &self.excluded {
                weight.for_each_no_score(reader, &mut |docs| {
                    docs.iter().for_each(|&doc| bits.remove(doc));
                })?;
            }
            for narrower in alive.into_iter().chain(readable.as_deref()) {
                // An intersection with a shorter set would leave the rest of this one as it is.
                if narrower.max_value() != reader.max_doc() {
                    return Err(tantivy::TantivyError::InternalError(format!(
                        "a bit set of {} documents for a segment of {}",
                        narrower.max_value(),
                        reader.max_doc()
                    )));
                }
                bits.intersect_update(narrower);
            }
            Some(Allowed::Made(bits))
        };
        Ok(SegmentFilter {
            columns,
            allowed,
            place: self.place,
            period: self.period,
        })
    }
}

/// The documents of a segment that `weight` matches.
fn matching(weight: &dyn Weight, reader: &SegmentReader) -> tantivy::Result<BitSet> {
    let mut bits = BitSet::with_max_value(reader.max_doc());
    weight.for_each_no_score(reader, &mut |docs| {
        for &doc in docs {
            bits.insert(doc);
        }
    })?;
    Ok(bits)
}

pub(crate) struct SegmentFilter {
    columns: Arc<SegmentColumns>,
    /// The documents alive, of every exact filter, of no excluded category and readable; `None`
    /// when that is all of them.
    allowed: Option<Allowed>,
    place: Option<Place>,
    period: Option<Period>,
}

/// The documents a search allows in a segment: the clearance's readable ones, shared by its
/// searches, when nothing else narrows them; else a set made for the search.
enum Allowed {
    Readable(Arc<ReadOnlyBitSet>),
    Made(BitSet),
}

impl SegmentFilter {
    /// Whether a document the words matched (or any document, for a search without words) is a
    /// result: allowed, and inside the box and period.
    #[inline(always)]
    pub(crate) fn accepts(&self, doc: DocId) -> bool {
        let allowed = match &self.allowed {
            None => true,
            Some(Allowed::Readable(bits)) => bits.contains(doc),
            Some(Allowed::Made(bits)) => bits.contains(doc),
        };
        allowed && (self.place.is_none() && self.period.is_none() || self.in_place_and_time(doc))
    }

    /// Kept out of line: [`SegmentFilter::accepts`] is inlined in the loops over the matches.
    #[inline(never)]
    fn in_place_and_time(&self, doc: DocId) -> bool {
        self.may_be_within(doc) && self.within(doc)
    }

    /// Whether the document's coarse extent meets the box and period (the cheap test, first).
    fn may_be_within(&self, doc: DocId) -> bool {
        let extents = &self.columns.extents;
        let doc = doc as usize;
        self.period.as_ref().is_none_or(|period| {
            extents
                .days
                .get(doc)
                .is_some_and(|&days| overlap(days, period.days))
        }) && self.place.as_ref().is_none_or(|place| {
            extents
                .boxes
                .get(doc)
                .is_some_and(|coarse| coarse.meets(&place.coarse))
        })
    }

    /// Whether the document's exact extent intersects the box and period.
    fn within(&self, doc: DocId) -> bool {
        let Some(extent) = self.columns.extents.exact.get(doc as usize) else {
            return false;
        };
        // A document without a temporal extent has an empty one: in no period, even `../..`.
        self.period.as_ref().is_none_or(|period| {
            extent.start <= extent.end && overlap((extent.start, extent.end), period.micros)
        }) && self
            .place
            .is_none_or(|place| place.exact.meets(&extent.area))
    }
}
