//! Place, time and classification as a filter on the matches' fast-field values, checked per
//! matching document.
//!
//! Expressed as range queries, a box across the antimeridian needs a union of intersections of
//! ranges, and tantivy evaluates such unions over every document of the index; checked here, the
//! cost is a few column reads per document the rest of the query already matched.

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::{DateTime, DocId, Score, SegmentOrdinal, SegmentReader};

use crate::document::longitude_intervals;
use crate::query::SearchRequest;

/// Wraps a collector so that it only sees documents inside the request's box and time range, of a
/// classification the reader is cleared for.
pub(crate) struct Within<C> {
    inner: C,
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

impl<C> Within<C> {
    pub(crate) fn new(inner: C, request: &SearchRequest) -> Self {
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
        Self {
            inner,
            area,
            period,
            classifications,
        }
    }
}

impl<C: Collector> Collector for Within<C> {
    type Fruit = C::Fruit;
    type Child = WithinSegment<C::Child>;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Self::Child> {
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
                start: fast.date("temporal_start")?,
                end: fast.date("temporal_end")?,
            }),
            None => None,
        };
        let cleared = match &self.classifications {
            Some(names) => Some(cleared_ordinals(reader, names)?),
            None => None,
        };
        Ok(WithinSegment {
            inner: self.inner.for_segment(segment, reader)?,
            area,
            period,
            cleared,
        })
    }

    fn requires_scoring(&self) -> bool {
        self.inner.requires_scoring()
    }

    fn merge_fruits(
        &self,
        fruits: Vec<<Self::Child as SegmentCollector>::Fruit>,
    ) -> tantivy::Result<Self::Fruit> {
        self.inner.merge_fruits(fruits)
    }
}

pub(crate) struct WithinSegment<S> {
    inner: S,
    area: Option<(Area, [Column<f64>; 6])>,
    period: Option<PeriodColumns>,
    cleared: Option<Cleared>,
}

/// The classification column of a segment and the ordinals, in its dictionary, of the
/// classifications the reader is cleared for (one the segment does not know is simply absent).
struct Cleared {
    column: Column<u64>,
    ordinals: Vec<u64>,
}

fn cleared_ordinals(reader: &SegmentReader, names: &[String]) -> tantivy::Result<Cleared> {
    let Some(column) = reader.fast_fields().str("label_classification")? else {
        // No document of the segment has a label: none is to be seen.
        return Ok(Cleared {
            column: Column::build_empty_column(reader.max_doc()),
            ordinals: Vec::new(),
        });
    };
    let mut ordinals = Vec::new();
    for name in names {
        if let Some(ordinal) = column.dictionary().term_ord(name.as_bytes())? {
            ordinals.push(ordinal);
        }
    }
    Ok(Cleared {
        column: column.ords().clone(),
        ordinals,
    })
}

struct PeriodColumns {
    from: DateTime,
    to: DateTime,
    start: Column<DateTime>,
    end: Column<DateTime>,
}

impl<S> WithinSegment<S> {
    fn accepts(&self, doc: DocId) -> bool {
        if let Some(cleared) = &self.cleared
            && !cleared
                .column
                .first(doc)
                .is_some_and(|ordinal| cleared.ordinals.contains(&ordinal))
        {
            return false;
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
        if let Some(period) = &self.period {
            let (Some(start), Some(end)) = (period.start.first(doc), period.end.first(doc)) else {
                return false;
            };
            if start > period.to || end < period.from {
                return false;
            }
        }
        true
    }
}

impl<S: SegmentCollector> SegmentCollector for WithinSegment<S> {
    type Fruit = S::Fruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        if self.accepts(doc) {
            self.inner.collect(doc, score);
        }
    }

    fn harvest(self) -> Self::Fruit {
        self.inner.harvest()
    }
}
