//! Facet counts: a collector that counts term ordinals per segment in plain arrays, and turns only the
//! non-zero ordinals into strings.
//!
//! Reading tantivy's columns per matching document (optional and multi-valued indexes, bit-unpacking)
//! took 40 % of a faceted search's CPU, and its terms aggregation more. So each segment's facet
//! values are copied once into flat arrays of ordinals ([`SegmentFacets`]), kept while the segment
//! lives; counting a match is then a few array reads.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::index::SegmentId;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use crate::index::FacetCount;
use crate::query::Facet;

/// The most values a facet returns.
const FACET_SIZE: usize = 20;

/// The facet values of every document of one segment (deleted ones included: the query never
/// matches them).
pub(crate) struct SegmentFacets {
    /// Per facet, in the order of [`Facet::ALL`]; `None` when no document of the segment has a value.
    columns: Vec<Option<FacetColumn>>,
}

struct FacetColumn {
    dictionary: StrColumn,
    /// The ordinals of document `d` are `ords[starts[d]..starts[d + 1]]`.
    starts: Vec<u32>,
    ords: Vec<u32>,
}

impl SegmentFacets {
    fn read(reader: &SegmentReader) -> tantivy::Result<Self> {
        let fast = reader.fast_fields();
        let columns = Facet::ALL
            .iter()
            .map(|facet| {
                Ok(fast.str(facet.name())?.map(|dictionary| {
                    let mut starts = Vec::with_capacity(reader.max_doc() as usize + 1);
                    let mut ords = Vec::new();
                    for doc in 0..reader.max_doc() {
                        starts.push(ords.len() as u32);
                        ords.extend(dictionary.term_ords(doc).map(|ord| ord as u32));
                    }
                    starts.push(ords.len() as u32);
                    FacetColumn {
                        dictionary,
                        starts,
                        ords,
                    }
                }))
            })
            .collect::<tantivy::Result<_>>()?;
        Ok(Self { columns })
    }

    /// The column of `facet`, by its position in [`Facet::ALL`].
    fn position(facet: Facet) -> Option<usize> {
        Facet::ALL.iter().position(|f| *f == facet)
    }

    fn column(&self, position: Option<usize>) -> Option<&FacetColumn> {
        self.columns.get(position?)?.as_ref()
    }
}

/// The [`SegmentFacets`] of the segments in use, read when a search first needs them.
#[derive(Default)]
pub(crate) struct FacetValues {
    by_segment: Mutex<HashMap<SegmentId, Arc<SegmentFacets>>>,
}

impl FacetValues {
    fn of(&self, reader: &SegmentReader) -> tantivy::Result<Arc<SegmentFacets>> {
        let id = reader.segment_id();
        let known = self
            .by_segment
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
            .cloned();
        if let Some(values) = known {
            return Ok(values);
        }
        // Read outside the lock: two searches may both read a new segment, neither waits.
        let values = Arc::new(SegmentFacets::read(reader)?);
        self.by_segment
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, Arc::clone(&values));
        Ok(values)
    }

    /// Forgets the segments that `searcher` no longer has (merged away or deleted).
    pub(crate) fn keep_only(&self, searcher: &tantivy::Searcher) {
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

pub(crate) struct FacetCounter<'a> {
    facets: Vec<Facet>,
    values: &'a FacetValues,
}

impl<'a> FacetCounter<'a> {
    pub(crate) fn new(facets: &[Facet], values: &'a FacetValues) -> Option<Self> {
        (!facets.is_empty()).then(|| Self {
            facets: facets.to_vec(),
            values,
        })
    }
}

pub(crate) struct FacetSegment {
    values: Arc<SegmentFacets>,
    /// Per requested facet: its column's position and its counts by ordinal.
    counts: Vec<(Option<usize>, Vec<u32>)>,
}

type Counts = Vec<HashMap<String, u64>>;

impl Collector for FacetCounter<'_> {
    type Fruit = BTreeMap<&'static str, Vec<FacetCount>>;
    type Child = FacetSegment;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<FacetSegment> {
        let values = self.values.of(reader)?;
        let counts = self
            .facets
            .iter()
            .map(|&facet| {
                let position = SegmentFacets::position(facet);
                let terms = values
                    .column(position)
                    .map_or(0, |column| column.dictionary.num_terms());
                (position, vec![0; terms])
            })
            .collect();
        Ok(FacetSegment { values, counts })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<Counts>) -> tantivy::Result<Self::Fruit> {
        let mut merged: Vec<HashMap<String, u64>> = vec![HashMap::new(); self.facets.len()];
        for segment in segments {
            for (total, counts) in merged.iter_mut().zip(segment) {
                for (value, count) in counts {
                    *total.entry(value).or_default() += count;
                }
            }
        }
        Ok(self
            .facets
            .iter()
            .zip(merged)
            .map(|(facet, counts)| {
                let mut counts: Vec<FacetCount> = counts
                    .into_iter()
                    .map(|(value, count)| FacetCount { value, count })
                    .collect();
                counts.sort_unstable_by(|a, b| {
                    b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value))
                });
                counts.truncate(FACET_SIZE);
                (facet.name(), counts)
            })
            .collect())
    }
}

impl SegmentCollector for FacetSegment {
    type Fruit = Counts;

    fn collect(&mut self, doc: DocId, _: Score) {
        let doc = doc as usize;
        for (position, counts) in &mut self.counts {
            let Some(column) = self.values.column(*position) else {
                continue;
            };
            let (Some(&start), Some(&end)) = (column.starts.get(doc), column.starts.get(doc + 1))
            else {
                continue;
            };
            for &ord in column
                .ords
                .get(start as usize..end as usize)
                .unwrap_or_default()
            {
                if let Some(count) = counts.get_mut(ord as usize) {
                    *count += 1;
                }
            }
        }
    }

    fn harvest(self) -> Counts {
        self.counts
            .into_iter()
            .map(|(position, counts)| {
                let mut values = HashMap::new();
                let Some(column) = self.values.column(position) else {
                    return values;
                };
                let mut text = String::new();
                for (ord, count) in counts
                    .into_iter()
                    .enumerate()
                    .filter(|(_, count)| *count > 0)
                {
                    text.clear();
                    if column
                        .dictionary
                        .ord_to_str(ord as u64, &mut text)
                        .unwrap_or(false)
                    {
                        values.insert(text.clone(), u64::from(count));
                    }
                }
                values
            })
            .collect()
    }
}
