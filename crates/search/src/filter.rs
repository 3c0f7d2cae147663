//! What a search lets through besides its words: the request's exact filters, its place and time,
//! and what the reader may see. Checked per document the words match, by both passes of a search
//! (`run.rs`).
//!
//! Place, time and classification are read from fast fields per matching document: expressed as
//! range queries, a box across the antimeridian needs a union of intersections of ranges, and
//! tantivy evaluates such unions over every document of the index; checked here, the cost is a few
//! column reads per document the words already matched. The exact filters and the categories a
//! reader fails become a bitset per segment, from their (short) term lists.

use std::sync::Arc;

use tantivy::columnar::Column;
use tantivy::fastfield::AliveBitSet;
use tantivy::query::{EnableScoring, Weight};
use tantivy::{BitSet, DateTime, DocId, Searcher, SegmentReader};

use crate::document::longitude_intervals;
use crate::flat::{ColumnCache, SegmentColumns, day};
use crate::query::{Plan, SearchRequest};

const DAY: i64 = 86_400;

/// The part of a search that selects without scoring.
pub(crate) struct Filter<'a> {
    columns: &'a ColumnCache,
    required: Option<Box<dyn Weight>>,
    excluded: Option<Box<dyn Weight>>,
    area: Option<Area>,
    period: Option<(DateTime, DateTime)>,
    classifications: Option<Vec<String>>,
}

#[derive(Clone, Copy)]
struct Area {
    south: f64,
    north: f64,
    longitudes: [(f64, f64); 2],
}

impl<'a> Filter<'a> {
    pub(crate) fn new(
        request: &SearchRequest,
        plan: &Plan,
        searcher: &Searcher,
        columns: &'a ColumnCache,
    ) -> tantivy::Result<Self> {
        let weight = |query: &Option<Box<dyn tantivy::query::Query>>| {
            query
                .as_ref()
                .map(|query| query.weight(EnableScoring::disabled_from_searcher(searcher)))
                .transpose()
        };
        let area = request.bbox.map(|bbox| {
            let (first, second) = longitude_intervals(bbox.west(), bbox.east());
            Area {
                south: bbox.south(),
                north: bbox.north(),
                longitudes: [first, second],
            }
        });
        let period = request.datetime.map(|range| {
            (
                range.start.map_or(DateTime::MIN, DateTime::from_utc),
                range.end.map_or(DateTime::MAX, DateTime::from_utc),
            )
        });
        let classifications = request
            .visibility
            .as_ref()
            .map(|visibility| visibility.classifications.clone());
        Ok(Self {
            columns,
            required: weight(&plan.required)?,
            excluded: weight(&plan.excluded)?,
            area,
            period,
            classifications,
        })
    }

    /// The filter's state for one segment: its columns and the bitsets of its term filters.
    pub(crate) fn for_segment<'r>(
        &self,
        reader: &'r SegmentReader,
    ) -> tantivy::Result<SegmentFilter<'r>> {
        let fast = reader.fast_fields();
        let area = match self.area {
            Some(area) => Some((
                area,
                [
                    fast.f64("south")?,
                    fast.f64("north")?,
                    fast.f64("west_1")?,
                    fast.f64("east_1")?,
                    fast.f64("west_2")?,
                    fast.f64("east_2")?,
                ],
            )),
            None => None,
        };
        let period = match self.period {
            Some((from, to)) => Some(PeriodColumns {
                from,
                to,
                days: (
                    day(from.into_timestamp_secs().div_euclid(DAY)),
                    day((to.into_timestamp_secs() + DAY - 1).div_euclid(DAY)),
                ),
                start: fast.date("temporal_start")?,
                end: fast.date("temporal_end")?,
            }),
            None => None,
        };
        let columns = self.columns.of(reader)?;
        let cleared = self
            .classifications
            .as_ref()
            .map(|names| Cleared::new(&columns, names));
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
            area,
            period,
            cleared,
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
    area: Option<(Area, [Column<f64>; 6])>,
    period: Option<PeriodColumns>,
    cleared: Option<Cleared>,
}

/// Which classifications of a segment (by ordinal) the reader is cleared for.
struct Cleared {
    ordinals: Vec<bool>,
}

impl Cleared {
    fn new(columns: &SegmentColumns, names: &[String]) -> Self {
        let ordinals = columns
            .classification
            .as_ref()
            .map_or_else(Vec::new, |column| {
                column
                    .terms
                    .iter()
                    .map(|term| names.contains(term))
                    .collect()
            });
        Self { ordinals }
    }
}

struct PeriodColumns {
    from: DateTime,
    to: DateTime,
    /// `from` and `to` widened to whole days, for the coarse test on [`SegmentColumns::days`].
    days: (i32, i32),
    start: Column<DateTime>,
    end: Column<DateTime>,
}

impl SegmentFilter<'_> {
    /// Whether a document the words matched (or any document, for a search without words) is a
    /// result: alive, of every exact filter, inside the box and period, and readable.
    pub(crate) fn accepts(&self, doc: DocId) -> bool {
        if self.alive.is_some_and(|alive| alive.is_deleted(doc))
            || self
                .required
                .as_ref()
                .is_some_and(|bits| !bits.contains(doc))
            || self
                .excluded
                .as_ref()
                .is_some_and(|bits| bits.contains(doc))
        {
            return false;
        }
        if let Some(cleared) = &self.cleared {
            // A document without a label is seen by nobody.
            let ordinal = self
                .columns
                .classification
                .as_ref()
                .and_then(|column| column.first(doc));
            if !ordinal.is_some_and(|o| cleared.ordinals.get(o).copied().unwrap_or(false)) {
                return false;
            }
        }
        if let Some(period) = &self.period {
            let (start, end) = self
                .columns
                .days
                .get(doc as usize)
                .copied()
                .unwrap_or_default();
            if start > period.days.1 || end < period.days.0 {
                return false;
            }
            let (Some(start), Some(end)) = (period.start.first(doc), period.end.first(doc)) else {
                return false;
            };
            if start > period.to || end < period.from {
                return false;
            }
        }
        if let Some((area, [south, north, west_1, east_1, west_2, east_2])) = &self.area {
            let (Some(south), Some(north)) = (south.first(doc), north.first(doc)) else {
                return false;
            };
            if south > area.north || north < area.south {
                return false;
            }
            let record = [
                (west_1.first(doc), east_1.first(doc)),
                (west_2.first(doc), east_2.first(doc)),
            ];
            let overlaps = record.iter().any(|&(west, east)| match (west, east) {
                (Some(west), Some(east)) => area
                    .longitudes
                    .iter()
                    .any(|&(q_west, q_east)| west <= q_east && east >= q_west),
                _ => false,
            });
            if !overlaps {
                return false;
            }
        }
        true
    }
}
