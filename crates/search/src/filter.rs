//! What a search lets through besides its words: the request's exact filters, its place and time,
//! and what the reader may see. Checked per document the words match, by both passes of a search
//! (`run.rs`).
//!
//! Place and time are read per matching document from the segment's flat copies (`flat.rs`):
//! expressed as range queries, a box across the antimeridian needs a union of intersections of
//! ranges, and tantivy evaluates such unions over every document of the index; checked here, the
//! cost is a few array reads per document the words already matched. The classifications a reader
//! is cleared for are a bitset per segment and clearance, kept with the flat copies; the exact
//! filters and the categories a reader fails become a bitset per segment and search, from their
//! (short) term lists.

use std::sync::Arc;

use tantivy::fastfield::AliveBitSet;
use tantivy::query::{EnableScoring, Weight};
use tantivy::{BitSet, DocId, Searcher, SegmentReader};
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
        })
    }

    /// The filter's state for one segment: its columns and the bitsets of its term filters.
    pub(crate) fn for_segment<'r>(
        &self,
        reader: &'r SegmentReader,
    ) -> tantivy::Result<SegmentFilter<'r>> {
        let columns = self.columns.of(reader)?;
        let readable = self
            .classifications
            .as_ref()
            .map(|names| columns.readable(names));
        let bits = |weight: &Option<Box<dyn Weight>>| {
            weight
                .as_ref()
                .map(|weight| matching(weight.as_ref(), reader))
                .transpose()
        };
        Ok(SegmentFilter {
            columns,
            alive: reader.alive_bitset(),
            required: bits(&self.required)?,
            excluded: bits(&self.excluded)?,
            place: self.place,
            period: self.period,
            readable,
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

pub(crate) struct SegmentFilter<'r> {
    columns: Arc<SegmentColumns>,
    alive: Option<&'r AliveBitSet>,
    required: Option<BitSet>,
    excluded: Option<BitSet>,
    place: Option<Place>,
    period: Option<Period>,
    /// The documents the reader is cleared for; `None` for a reader cleared for all.
    readable: Option<Arc<BitSet>>,
}

impl SegmentFilter<'_> {
    /// Whether a document the words matched (or any document, for a search without words) is a
    /// result: alive, of every exact filter, inside the box and period, and readable.
    pub(crate) fn accepts(&self, doc: DocId) -> bool {
        !self.alive.is_some_and(|alive| alive.is_deleted(doc))
            && self.required.as_ref().is_none_or(|bits| bits.contains(doc))
            && !self
                .excluded
                .as_ref()
                .is_some_and(|bits| bits.contains(doc))
            && self.readable.as_ref().is_none_or(|bits| bits.contains(doc))
            && self.may_be_within(doc)
            && self.within(doc)
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
        if self.period.is_none() && self.place.is_none() {
            return true;
        }
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
