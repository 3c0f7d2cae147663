//! The index on disk: opening (and rebuilding when unreadable), applying changes, searching.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use fathom_model::Dataset;
use serde::Serialize;
use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::indexer::{LogMergePolicy, NoMergePolicy};
use tantivy::query::{AllQuery, EnableScoring, FuzzyTermQuery, Query};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Searcher, TantivyDocument,
    Term,
};
use uuid::Uuid;

use crate::cache::ResultCache;
use crate::document::{Fields, TEXT_ANALYSER, first_text};
use crate::facets::FacetCounter;
use crate::filter::Filter;
use crate::flat::ColumnCache;
use crate::highlight::Highlighter;
use crate::query::{self, Direction, Plan, SearchRequest, Sort};
use crate::run;
use crate::{SearchError, SearchResult};

/// Memory for the indexing buffer (tantivy's minimum is 15 MB): the writer lives as long as the
/// server, so its buffer counts in the server's resident memory.
const WRITER_MEMORY: usize = 16 * 1024 * 1024;

/// The size of the stored documents' compressed blocks, in bytes.
const DOCSTORE_BLOCK: usize = 4 * 1024;

/// How many recent results a search index keeps by default (see `cache.rs`).
pub const DEFAULT_CACHE_ENTRIES: usize = 1000;

/// The search index of one replica.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    cache: ResultCache,
    /// Flat copies of the columns searches read per match.
    columns: ColumnCache,
    path: PathBuf,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// A search before it runs ([`SearchIndex::prepare`]).
#[derive(Debug)]
pub enum Prepared {
    /// From the result cache: the same request on the same index contents.
    Cached(Arc<SearchResults>),
    Planned(Box<Planned>),
}

/// A search planned on one state of the index, to run on any thread.
pub struct Planned {
    searcher: Searcher,
    request: SearchRequest,
    /// The request's key in the result cache; `None` when the cache is off.
    key: Option<String>,
    plan: Plan,
    /// About how many postings the search reads ([`Plan::reads`]).
    reads: u64,
}

/// Up to this many postings to read, a search takes a millisecond or two, of which handing it to
/// another thread and back would be a large share (see `docs/performance.md`).
const SHORT_SEARCH_READS: u64 = 200_000;

impl std::fmt::Debug for Planned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Planned")
            .field("request", &self.request)
            .field("reads", &self.reads)
            .finish_non_exhaustive()
    }
}

impl Planned {
    /// Whether the search is short enough to run on the thread at hand rather than be handed to
    /// threads made for long work.
    pub fn is_short(&self) -> bool {
        self.reads <= SHORT_SEARCH_READS
    }
}

/// One result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub organisation: String,
    pub score: f32,
    /// Title and description fragments with the matched words in `<b>…</b>` (HTML-escaped).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub highlights: BTreeMap<&'static str, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResults {
    /// Exact up to [`crate::EXACT_UP_TO`] matches, else an estimate.
    pub total: usize,
    pub total_exact: bool,
    pub hits: Vec<Hit>,
    pub facets: BTreeMap<&'static str, Vec<FacetCount>>,
    /// The words left out, last first, because no dataset the reader may see had them all.
    pub ignored: Vec<String>,
}

/// The most near spellings [`SearchIndex::near_words`] gives.
const NEAR_WORDS: usize = 5;
/// Words of this many letters or more are looked for two edits away too.
const TWO_EDITS_FROM: usize = 8;

impl SearchIndex {
    /// Opens the index in `dir`, creating it if missing. An index that cannot be opened (corrupt, or
    /// of an older schema) is moved aside and created empty, to be filled again from the database.
    /// Up to `cache_entries` recent results are kept for repeated searches.
    pub fn open(dir: &Path, cache_entries: usize) -> SearchResult<Self> {
        std::fs::create_dir_all(dir)?;
        let (schema, fields) = Fields::schema();
        let index = match Index::open_or_create(
            MmapDirectory::open(dir).map_err(tantivy::TantivyError::from)?,
            schema.clone(),
        ) {
            Ok(index) => index,
            Err(error) => {
                let aside = dir.with_extension(format!("unreadable-{}", Uuid::now_v7().simple()));
                tracing::warn!(%error, aside = %aside.display(), "the search index cannot be opened; rebuilding it");
                std::fs::rename(dir, &aside)?;
                std::fs::create_dir_all(dir)?;
                Index::create_in_dir(dir, schema)?
            }
        };
        Self::with_index(index, fields, dir.to_owned(), cache_entries)
    }

    fn with_index(
        mut index: Index,
        fields: Fields,
        path: PathBuf,
        cache_entries: usize,
    ) -> SearchResult<Self> {
        // Blocks of about ten documents: a hit is read by decompressing its block, and a page's hits
        // are in as many blocks (tantivy's default, 16 KiB, holds forty).
        index.settings_mut().docstore_blocksize = DOCSTORE_BLOCK;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY)?;
        Ok(Self {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
            cache: ResultCache::new(cache_entries),
            columns: ColumnCache::default(),
            path,
        })
    }

    /// The change-feed position this index reflects (0 when empty).
    pub fn position(&self) -> SearchResult<i64> {
        let metas = self.index.load_metas()?;
        Ok(metas.payload.and_then(|p| p.parse().ok()).unwrap_or(0))
    }

    /// Number of datasets in the index.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Replaces or removes datasets and records `position`, in one commit, visible to the next search;
    /// with `clear_first`, instead of every dataset before.
    pub fn apply(
        &self,
        upserts: Vec<(Uuid, TantivyDocument)>,
        deletes: &[Uuid],
        position: i64,
        clear_first: bool,
    ) -> SearchResult<()> {
        let mut writer = self
            .writer
            .lock()
            .map_err(|e| SearchError::Task(e.to_string()))?;
        if clear_first {
            // A rebuild: its segments are merged once, at its end (`merge_all`).
            writer.set_merge_policy(Box::new(NoMergePolicy));
            writer.delete_all_documents()?;
        }
        for id in deletes {
            writer.delete_term(Term::from_field_text(self.fields.id, &id.to_string()));
        }
        for (id, document) in upserts {
            writer.delete_term(Term::from_field_text(self.fields.id, &id.to_string()));
            writer.add_document(document)?;
        }
        let mut commit = writer.prepare_commit()?;
        commit.set_payload(&position.to_string());
        commit.commit()?;
        drop(writer);
        self.reader.reload()?;
        self.warm();
        Ok(())
    }

    /// Merges every segment into one, keeping the recorded position. After a rebuild: a search pays
    /// per segment for its term lookups and scorers. No other merge starts meanwhile; one already
    /// running takes the segments it merges from under this one, which then tries again.
    pub fn merge_all(&self) -> SearchResult<()> {
        let mut writer = self
            .writer
            .lock()
            .map_err(|e| SearchError::Task(e.to_string()))?;
        writer.set_merge_policy(Box::new(NoMergePolicy));
        let merged = self.merge_segments(&mut writer);
        writer.set_merge_policy(Box::new(LogMergePolicy::default()));
        merged?;
        drop(writer);
        self.reader.reload()?;
        self.warm();
        Ok(())
    }

    /// Makes the flat copies of the current segments' columns (`flat.rs`) and forgets those of
    /// segments gone: after a commit or a merge, and before serving, so that no search pays for them
    /// (292 ms for a segment of 1,000,000 datasets). A segment that cannot be read is left to the
    /// search, which reports it.
    pub fn warm(&self) {
        let searcher = self.reader.searcher();
        self.columns.keep_only(&searcher);
        for reader in searcher.segment_readers() {
            if let Err(error) = self.columns.of(reader) {
                tracing::warn!(%error, segment = %reader.segment_id().uuid_string(), "the columns of a segment cannot be read");
            }
        }
    }

    /// Lets tantivy merge segments again, as it does but during a rebuild.
    pub fn resume_merges(&self) {
        if let Ok(writer) = self.writer.lock() {
            writer.set_merge_policy(Box::new(LogMergePolicy::default()));
        }
    }

    fn merge_segments(&self, writer: &mut IndexWriter) -> SearchResult<()> {
        for attempt in 1.. {
            let segments = self.index.searchable_segment_ids()?;
            if segments.len() <= 1 {
                break;
            }
            match writer.merge(&segments).wait() {
                Ok(_) => break,
                Err(tantivy::TantivyError::InvalidArgument(_)) if attempt < 100 => {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(error) => return Err(error.into()),
            }
        }
        writer.garbage_collect_files().wait()?;
        Ok(())
    }

    /// Adds datasets without committing (a rebuild commits once, with [`SearchIndex::apply`]).
    pub fn add_uncommitted(&self, documents: Vec<(Uuid, TantivyDocument)>) -> SearchResult<()> {
        let writer = self
            .writer
            .lock()
            .map_err(|e| SearchError::Task(e.to_string()))?;
        for (_, document) in documents {
            writer.add_document(document)?;
        }
        Ok(())
    }

    /// The document of a dataset, with its organisation's name for the full text.
    pub fn document(
        &self,
        dataset: &Dataset,
        organisation_name: Option<&str>,
    ) -> (Uuid, TantivyDocument) {
        (dataset.id, self.fields.document(dataset, organisation_name))
    }

    /// The words of titles and keyword lists spelt near `word`: one edit away (a letter added,
    /// dropped, changed, or two swapped), or two for a word of [`TWO_EDITS_FROM`] letters or more
    /// when none is one away; most common first, at most [`NEAR_WORDS`]. None when `word` itself
    /// is one of them. Whoever may see them: the caller checks each against its reader.
    pub fn near_words(&self, word: &str) -> SearchResult<Vec<String>> {
        let searcher = self.reader.searcher();
        let term = Term::from_field_text(self.fields.words, &word.to_lowercase());
        if searcher.doc_freq(&term)? > 0 {
            return Ok(Vec::new());
        }
        let edits: &[u8] = if word.chars().count() >= TWO_EDITS_FROM {
            &[1, 2]
        } else {
            &[1]
        };
        for distance in edits {
            let mut found: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
            for reader in searcher.segment_readers() {
                let automaton = FuzzyTermQuery::new(term.clone(), *distance, true).automaton()?;
                let index = reader.inverted_index(self.fields.words)?;
                let mut terms = index.terms().search(automaton).into_stream()?;
                while terms.advance() {
                    *found.entry(terms.key().to_vec()).or_default() +=
                        u64::from(terms.value().doc_freq);
                }
            }
            let mut found: Vec<(String, u64)> = found
                .into_iter()
                .filter_map(|(word, count)| Some((String::from_utf8(word).ok()?, count)))
                .collect();
            if !found.is_empty() {
                found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                return Ok(found
                    .into_iter()
                    .take(NEAR_WORDS)
                    .map(|(word, _)| word)
                    .collect());
            }
        }
        Ok(Vec::new())
    }

    /// The results of a request: from the cache when the same request met the same index contents,
    /// else searched (and kept).
    pub fn search(&self, request: &SearchRequest) -> SearchResult<Arc<SearchResults>> {
        match self.prepare(request)? {
            Prepared::Cached(results) => Ok(results),
            Prepared::Planned(planned) => self.run(planned),
        }
    }

    /// The cheap part of a search: the results when the cache has them, else the plan and an
    /// estimate of the work left, for the caller to choose where to run it ([`SearchIndex::run`]).
    pub fn prepare(&self, request: &SearchRequest) -> SearchResult<Prepared> {
        let searcher = self.reader.searcher();
        let generation = searcher.generation().generation_id();
        let key = self.cache.key(request);
        if let Some(results) = self.cache.get(generation, key.as_deref()) {
            return Ok(Prepared::Cached(results));
        }
        // Here, not when the search runs (maybe after waiting for a core): a searcher taken since
        // may hold segments that this one does not.
        self.columns.keep_only(&searcher);
        let mut analyser = self
            .index
            .tokenizers()
            .get(TEXT_ANALYSER)
            .ok_or_else(|| SearchError::Task("no analyser".into()))?;
        let plan = query::plan(request, &self.fields, &mut analyser, &searcher);
        let reads = plan.reads(&searcher, SHORT_SEARCH_READS);
        Ok(Prepared::Planned(Box::new(Planned {
            searcher,
            request: request.clone(),
            key,
            plan,
            reads,
        })))
    }

    /// The results the same request left in the cache since `planned` was prepared (while it
    /// waited for a core).
    pub fn cached(&self, planned: &Planned) -> Option<Arc<SearchResults>> {
        let generation = planned.searcher.generation().generation_id();
        self.cache.get(generation, planned.key.as_deref())
    }

    /// Runs a planned search, and keeps its results for the same request.
    pub fn run(&self, planned: Box<Planned>) -> SearchResult<Arc<SearchResults>> {
        let Planned {
            searcher,
            request,
            key,
            plan,
            ..
        } = *planned;
        let generation = searcher.generation().generation_id();
        let results = Arc::new(self.search_in(&searcher, &request, &plan)?);
        self.cache.put(generation, key, Arc::clone(&results));
        Ok(results)
    }

    fn search_in(
        &self,
        searcher: &tantivy::Searcher,
        request: &SearchRequest,
        plan: &Plan,
    ) -> SearchResult<SearchResults> {
        let filter = Filter::new(request, plan, searcher, &self.columns)?;
        let walked = plan.walked().unwrap_or(&AllQuery);
        let unscored = walked.weight(EnableScoring::disabled_from_searcher(searcher))?;
        let matches = run::tally(searcher, unscored.as_ref(), &filter, run::EXACT_UP_TO + 1)?;
        let facets = FacetCounter::new(&request.facets, &self.columns).count(searcher, &matches)?;
        // Without words, relevance means the most recently modified first.
        let sort = match request.sort {
            Sort::Relevance if plan.text.is_none() => Sort::Modified(Direction::Descending),
            sort => sort,
        };
        let (offset, limit) = (request.offset, request.limit.max(1));
        let top = TopDocs::with_limit(limit).and_offset(offset);
        let addresses = match sort {
            Sort::Relevance => {
                // The words, scored (relevance is the sort only of a search with words).
                let ranking = run::Ranking::new(searcher, plan, unscored.as_ref())?;
                run::best(searcher, &ranking, &filter, &matches, offset, limit)?
            }
            Sort::Title(direction) => {
                let by_title = top.order_by_string_fast_field("title_exact", order(direction));
                let docs =
                    run::first_by(searcher, unscored.as_ref(), &filter, &matches, &by_title)?;
                unscored_hits(docs)
            }
            Sort::Modified(direction) => {
                let by_modified =
                    top.order_by_fast_field::<tantivy::DateTime>("modified", order(direction));
                let docs =
                    run::first_by(searcher, unscored.as_ref(), &filter, &matches, &by_modified)?;
                unscored_hits(docs)
            }
        };
        let hits = self.hits(searcher, plan.text.as_deref(), &addresses)?;
        Ok(SearchResults {
            total: matches.coverage.total(),
            total_exact: matches.coverage.exact(),
            hits,
            facets,
            ignored: Vec::new(),
        })
    }

    /// The hits at `addresses`, with the words of `text` highlighted.
    fn hits(
        &self,
        searcher: &tantivy::Searcher,
        text: Option<&dyn Query>,
        addresses: &[(f32, DocAddress)],
    ) -> SearchResult<Vec<Hit>> {
        let mut highlighter = text
            .map(|query| {
                Highlighter::new(searcher, query, self.fields.title, self.fields.description)
            })
            .transpose()?;
        addresses
            .iter()
            .map(|(score, address)| {
                let doc: TantivyDocument = searcher.doc(*address)?;
                Ok(Hit {
                    id: Uuid::try_parse(first_text(&doc, self.fields.id)).unwrap_or_default(),
                    slug: first_text(&doc, self.fields.slug).to_owned(),
                    title: first_text(&doc, self.fields.title).to_owned(),
                    organisation: first_text(&doc, self.fields.organisation).to_owned(),
                    score: *score,
                    highlights: highlighter
                        .as_mut()
                        .map(|h| h.highlights(&doc))
                        .unwrap_or_default(),
                })
            })
            .collect()
    }
}

fn order(direction: Direction) -> Order {
    match direction {
        Direction::Ascending => Order::Asc,
        Direction::Descending => Order::Desc,
    }
}

fn unscored_hits<T>(docs: Vec<(T, DocAddress)>) -> Vec<(f32, DocAddress)> {
    docs.into_iter()
        .map(|(_, address)| (0.0, address))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::HashSet;

    use fathom_model::BoundingBox;
    use fathom_store::testing::dataset;
    use tantivy::Score;
    use tantivy::index::SegmentId;

    use super::*;

    #[test]
    fn near_words_are_the_titles_and_keywords_words_spelt_near() {
        let dir = tempfile::tempdir().unwrap();
        let index = SearchIndex::open(&dir.path().join("search"), 0).unwrap();
        let documents = [
            "Temperature profiles, Ligurian Sea",
            "Temperature and salinity moorings",
            "Temperament of gliders",
            "Bathymetry of the Palmaria canyon",
        ]
        .map(|title| index.document(&dataset("cmre", title), None));
        index.apply(documents.to_vec(), &[], 1, false).unwrap();
        let near = |word: &str| index.near_words(word).unwrap();
        // One edit; the commoner first.
        assert_eq!(near("temperatre"), ["temperature"]);
        assert_eq!(near("Salnity"), ["salinity"]);
        assert_eq!(
            near("ligurain"),
            ["ligurian"],
            "two letters swapped are one edit"
        );
        // Two edits for a long word, when none is one away.
        assert_eq!(near("bathymtery"), ["bathymetry"]);
        assert_eq!(near("palmria"), ["palmaria"]);
        // Stemmed forms are not words as written; a word found is not corrected; nothing near.
        assert!(near("temperature").is_empty());
        assert!(near("canyons").contains(&"canyon".to_owned()));
        assert!(near("zzzzzz").is_empty());
        assert!(near("CTD").is_empty(), "a keyword, as written");
    }

    /// The best page by scoring every accepted match, as the ranking would be without pruning;
    /// checking on the way that the sum of a match's alternatives is the score the words' boolean
    /// query gives it (to rounding).
    fn every_match_scored(
        searcher: &tantivy::Searcher,
        ranking: &run::Ranking<'_>,
        scored: &dyn tantivy::query::Weight,
        filter: &Filter<'_>,
        offset: usize,
        limit: usize,
    ) -> Vec<(Score, DocAddress)> {
        let mut all = Vec::new();
        for (ordinal, reader) in searcher.segment_readers().iter().enumerate() {
            let accepts = filter.for_segment(ordinal, reader).unwrap();
            let mut alternatives = ranking.scorers(reader).unwrap();
            scored
                .for_each(reader, &mut |doc, score| {
                    if accepts.accepts(doc) {
                        let sum = alternatives.score(doc, Score::MIN).unwrap();
                        assert!((sum - score).abs() <= score * 1e-5, "{sum} for {score}");
                        all.push((sum, DocAddress::new(ordinal as u32, doc)));
                    }
                })
                .unwrap();
        }
        all.sort_by(|(a, a_doc), (b, b_doc)| b.total_cmp(a).then_with(|| a_doc.cmp(b_doc)));
        all.into_iter().skip(offset).take(limit).collect()
    }

    /// Block-max WAND over a union of words past the exact count, and the scoring of every match
    /// given up where it cannot enter the page, find the page that scoring every match finds, to
    /// the last bit of each score, whatever the page's size.
    #[test]
    fn pruned_ranking_finds_the_best_page() {
        let dir = tempfile::tempdir().unwrap();
        let index = SearchIndex::open(&dir.path().join("search"), 0).unwrap();
        let words = [
            "glider", "sonar", "waves", "ctd", "salinity", "mooring", "acoustic",
        ];
        // A deterministic mix of words, repeated or not, in titles, descriptions and keywords.
        let mut seed: u64 = 7;
        let mut next = |n: usize| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) as usize % n
        };
        let documents: Vec<(Uuid, TantivyDocument)> = (0..14_000)
            .map(|i| {
                let mut record = dataset("cmre", "record");
                let metadata = &mut record.metadata;
                let title: Vec<&str> = (0..1 + next(3)).map(|_| words[next(words.len())]).collect();
                metadata.title = format!("{} {i}", title.join(" "));
                let description: Vec<&str> =
                    (0..next(12)).map(|_| words[next(words.len())]).collect();
                metadata.description = description.join(" and ");
                metadata.keywords = vec![words[next(words.len())].into()];
                metadata.license = Some(["CC-BY-4.0", "CC0-1.0", "ODbL-1.0"][next(3)].into());
                if next(4) > 0 {
                    // One in four keeps its box (across the antimeridian, 170.5 to -170).
                    metadata.spatial = None;
                }
                index.document(&record, None)
            })
            .collect();
        // Three commits, the later ones replacing some documents of the earlier: segments of several
        // sizes, with deletions, as writes leave them.
        let (first, rest) = documents.split_at(10_000);
        let (second, third) = rest.split_at(3_500);
        index.apply(first.to_vec(), &[], 1, false).unwrap();
        index
            .apply([second, &first[..500]].concat(), &[], 2, false)
            .unwrap();
        index
            .apply([third, &second[..100]].concat(), &[], 3, false)
            .unwrap();

        let searcher = index.reader.searcher();
        let segments = searcher.segment_readers();
        assert!(
            segments.len() >= 3 && segments.iter().any(|s| s.num_deleted_docs() > 0),
            "segments of several commits, with deletions"
        );
        let mut analyser = index.index.tokenizers().get(TEXT_ANALYSER).unwrap();
        let box_ = || Some(BoundingBox::parse(&[175.0, -5.0, 179.0, 5.0]).unwrap());
        let odbl = || vec!["ODbL-1.0".to_owned()];
        // (words, whether any may match, licences, box)
        let requests = [
            ("glider", false, vec![], None),
            ("sonar waves", false, vec![], None),
            ("sonar waves", true, vec![], None),
            ("ctd salinity mooring", false, odbl(), None),
            ("ctd salinity mooring", true, odbl(), None),
            ("acoustic", false, vec![], box_()),
            ("waves 17", false, vec![], None),
            ("glider -sonar", false, vec![], None),
            ("glider \"waves and\"", false, vec![], None),
            // Few matches.
            ("4321", false, vec![], None),
            ("mooring", false, odbl(), box_()),
        ];
        let mut paths = (0, 0);
        for (text, match_any, licence, bbox) in requests {
            for (offset, limit) in [(0, 20), (40, 10)] {
                let request = SearchRequest {
                    text: Some(text.into()),
                    match_any,
                    licence: licence.clone(),
                    bbox,
                    offset,
                    limit,
                    ..Default::default()
                };
                let plan = query::plan(&request, &index.fields, &mut analyser, &searcher);
                let filter = Filter::new(&request, &plan, &searcher, &index.columns).unwrap();
                let text = plan.text.as_ref().unwrap();
                let unscored = plan
                    .walked()
                    .unwrap()
                    .weight(EnableScoring::disabled_from_searcher(&searcher))
                    .unwrap();
                let scored = text
                    .weight(EnableScoring::enabled_from_searcher(&searcher))
                    .unwrap();
                let ranking = run::Ranking::new(&searcher, &plan, unscored.as_ref()).unwrap();
                let expected = every_match_scored(
                    &searcher,
                    &ranking,
                    scored.as_ref(),
                    &filter,
                    offset,
                    limit,
                );
                assert!(offset > 0 || !expected.is_empty(), "{text:?} matches");
                // Bounded as a search is (pruned past the bound), and unbounded (every match
                // scored, each given up where it cannot enter the page).
                for bound in [run::EXACT_UP_TO + 1, usize::MAX] {
                    let tallied = run::tally(&searcher, unscored.as_ref(), &filter, bound).unwrap();
                    if tallied.coverage.exact() {
                        paths.0 += 1;
                    } else {
                        paths.1 += 1;
                    }
                    let found =
                        run::best(&searcher, &ranking, &filter, &tallied, offset, limit).unwrap();
                    // The same scores, in the same order: ties to the earlier document.
                    assert_eq!(found, expected, "{text:?} {offset} {bound}");
                }
            }
        }
        assert!(
            paths.0 > 0 && paths.1 > 0,
            "both ways of ranking ran: {paths:?}"
        );
    }

    /// The documents of a weight's matches, segment after segment.
    fn matched(weight: &dyn tantivy::query::Weight, searcher: &tantivy::Searcher) -> Vec<u32> {
        let mut docs = Vec::new();
        for reader in searcher.segment_readers() {
            weight
                .for_each_no_score(reader, &mut |found| docs.extend_from_slice(found))
                .unwrap();
        }
        docs
    }

    /// The query walked to find a search's matches finds those of the scored words: words in
    /// every field, near spellings, completions, phrases and the exact title.
    #[test]
    fn the_walked_query_matches_what_the_words_match() {
        let dir = tempfile::tempdir().unwrap();
        let index = SearchIndex::open(&dir.path().join("search"), 0).unwrap();
        let documents = [
            (
                "Gliders of the Ligurian Sea",
                "Temperature profiles.",
                "ocean",
                "NetCDF",
            ),
            (
                "Sonar survey",
                "Multibeam bathymetry of the Adriatic.",
                "seabed",
                "GeoTIFF",
            ),
            (
                "Currents",
                "Moored current meters near the strait.",
                "adcp",
                "CSV",
            ),
            ("Waves", "Buoy records.", "hydrophones", "Shapefile archive"),
            (
                "Salinity",
                "Conductivity casts; temperatures.",
                "ctd",
                "NetCDF",
            ),
        ]
        .iter()
        .enumerate()
        .map(|(i, (title, description, keyword, format))| {
            let mut record = dataset(if i % 2 == 0 { "cmre" } else { "nurc" }, "record");
            let metadata = &mut record.metadata;
            metadata.title = (*title).into();
            metadata.description = (*description).into();
            metadata.keywords = vec![(*keyword).into()];
            metadata.distributions[0].title = format!("{format} file");
            metadata.distributions[0].format = Some((*format).into());
            index.document(&record, Some("Centre for Maritime Research"))
        })
        .collect();
        index.apply(documents, &[], 1, false).unwrap();
        let searcher = index.reader.searcher();
        let mut analyser = index.index.tokenizers().get(TEXT_ANALYSER).unwrap();
        for text in [
            "glider",
            "temperatures",
            "sonar strait",
            "hydrophone",
            "hydrophonx",
            "ligur",
            "bathymetry",
            "shapefile",
            "maritime",
            "netcdf ocean",
            "Sonar survey",
            "sonar survey ",
            "nothing here",
            "sonar -survey",
            "\"sonar survey\"",
            "glider \"conductivity casts\"",
            // A title's last word and the description's first are no phrase.
            "\"waves buoy\"",
            "-sonar",
        ] {
            for match_any in [false, true] {
                let request = SearchRequest {
                    text: Some(text.into()),
                    match_any,
                    ..Default::default()
                };
                let plan = query::plan(&request, &index.fields, &mut analyser, &searcher);
                let unscored = EnableScoring::disabled_from_searcher(&searcher);
                let words = plan.text.unwrap().weight(unscored).unwrap();
                let walked = plan.matching.unwrap().weight(unscored).unwrap();
                let expected = matched(words.as_ref(), &searcher);
                assert_eq!(matched(walked.as_ref(), &searcher), expected, "{text:?}");
                // No record is about sonar in the strait: found only when any word may match; the
                // one sonar record is a survey.
                let nothing = text == "nothing here"
                    || text == "sonar -survey"
                    || text == "\"waves buoy\""
                    || (text.starts_with("glider \"") && !match_any)
                    || (text == "sonar strait" && !match_any);
                assert_eq!(expected.is_empty(), nothing, "{text:?} {match_any}");
            }
        }
    }

    /// A planned search counts the postings it reads: the words' in `all_text` (and the exact
    /// title's) and the last word's completions, else the exact filters', else every document.
    #[test]
    fn a_plan_counts_the_postings_its_walk_reads() {
        let dir = tempfile::tempdir().unwrap();
        let index = SearchIndex::open(&dir.path().join("search"), 0).unwrap();
        let documents = (0..40)
            .map(|i| {
                let mut record = dataset("cmre", &format!("record-{i}"));
                record.metadata.title =
                    format!("{} {i}", if i % 4 == 0 { "Glider" } else { "Sonar" });
                record.metadata.description = "Casts.".into();
                record.metadata.keywords = vec![if i % 8 == 0 { "ocean" } else { "seabed" }.into()];
                index.document(&record, None)
            })
            .collect();
        index.apply(documents, &[], 1, false).unwrap();
        let reads = |request: SearchRequest| match index.prepare(&request).unwrap() {
            Prepared::Planned(planned) => planned.reads,
            Prepared::Cached(_) => panic!("the cache is off"),
        };
        let words = |text: &str| SearchRequest {
            text: Some(text.into()),
            ..Default::default()
        };
        assert_eq!(reads(words("glider ")), 10);
        assert_eq!(reads(words("glider sonar ")), 40);
        // The last word's completions: "glider" in 10 titles, no keyword.
        assert_eq!(reads(words("glid")), 10);
        // The words, and the filter's bitset.
        assert_eq!(
            reads(SearchRequest {
                keyword: vec!["ocean".into()],
                ..words("glider ")
            }),
            15
        );
        assert_eq!(
            reads(SearchRequest {
                keyword: vec!["ocean".into()],
                ..Default::default()
            }),
            5
        );
        assert_eq!(reads(SearchRequest::default()), 40);
    }

    /// Commits and merges ready the flat copies of the segments they make, and drop those of the
    /// segments they remove: no search pays for them.
    #[test]
    fn commits_and_merges_ready_the_columns_searches_read() {
        let dir = tempfile::tempdir().unwrap();
        let index = SearchIndex::open(&dir.path().join("search"), 0).unwrap();
        let segments = |index: &SearchIndex| -> HashSet<SegmentId> {
            let searcher = index.reader.searcher();
            searcher
                .segment_readers()
                .iter()
                .map(|r| r.segment_id())
                .collect()
        };
        for position in 1..=3 {
            let record = dataset("cmre", &format!("record-{position}"));
            index
                .apply(vec![index.document(&record, None)], &[], position, false)
                .unwrap();
            assert_eq!(
                index.columns.held(),
                segments(&index),
                "after commit {position}"
            );
        }
        assert!(segments(&index).len() > 1, "{:?}", segments(&index));
        index.merge_all().unwrap();
        assert_eq!(segments(&index).len(), 1);
        assert_eq!(index.columns.held(), segments(&index), "after the merge");
    }

    /// Each rule a segment's filter folds into one set (a deleted document, an exact filter, a
    /// category the reader fails, the classifications they are cleared for) removes the documents it
    /// should, whichever of the rules apply.
    #[test]
    fn a_search_returns_the_documents_every_rule_allows() {
        use fathom_model::{CategoryType, LabelCategory};

        use crate::query::{CategoryVisibility, Visibility};

        let dir = tempfile::tempdir().unwrap();
        let index = SearchIndex::open(&dir.path().join("search"), 0).unwrap();
        let licences = ["CC-BY-4.0", "CC0-1.0"];
        let classifications = ["PUBLIC", "RESTRICTED", "SECRET"];
        let records: Vec<Dataset> = (0..90)
            .map(|i| {
                let mut record = dataset("cmre", &format!("record {i}"));
                let metadata = &mut record.metadata;
                metadata.license = Some(licences[i % 2].into());
                metadata.security_label.classification = classifications[i % 3].into();
                if i % 5 == 0 {
                    metadata.security_label.categories = vec![LabelCategory {
                        tag: "need-to-know".into(),
                        kind: CategoryType::Restrictive,
                        values: vec!["TRIALS".into()],
                    }];
                }
                record
            })
            .collect();
        let documents = records.iter().map(|r| index.document(r, None)).collect();
        index.apply(documents, &[], 1, false).unwrap();
        // A second commit replaces some and removes others: the first segment keeps them, deleted.
        let replaced = records
            .iter()
            .step_by(7)
            .map(|r| index.document(r, None))
            .collect();
        let removed: Vec<Uuid> = (0..records.len())
            .filter(|i| i % 11 == 0 && i % 7 != 0)
            .map(|i| records[i].id)
            .collect();
        index.apply(replaced, &removed, 2, false).unwrap();

        let reader = Visibility {
            classifications: vec!["PUBLIC".into(), "RESTRICTED".into()],
            categories: vec![CategoryVisibility {
                tag: "need-to-know".into(),
                kind: CategoryType::Restrictive,
                held: vec![],
                not_held: vec!["TRIALS".into()],
            }],
            granted: vec![],
        };
        let cleared_only = Visibility {
            categories: vec![],
            ..reader.clone()
        };
        // Without words the exact filters are walked; with words (every title has "record") they are
        // folded into the segment's set.
        let found = |licence: &[&str], visibility: &Option<Visibility>| -> HashSet<Uuid> {
            let mut ids = Vec::new();
            for text in [None, Some("record".to_owned())] {
                let request = SearchRequest {
                    text,
                    licence: licence.iter().map(|l| (*l).to_owned()).collect(),
                    visibility: visibility.clone(),
                    limit: 1_000,
                    ..Default::default()
                };
                let results = index.search(&request).unwrap();
                assert_eq!(results.total, results.hits.len());
                ids.push(
                    results
                        .hits
                        .iter()
                        .map(|hit| hit.id)
                        .collect::<HashSet<_>>(),
                );
            }
            assert_eq!(ids[0], ids[1], "with and without words");
            ids.swap_remove(0)
        };
        let expected = |licence: bool, cleared: bool, categories: bool| -> HashSet<Uuid> {
            (0..records.len())
                .filter(|i| i % 11 != 0 || i % 7 == 0)
                .filter(|i| !licence || i % 2 == 0)
                .filter(|i| !cleared || i % 3 != 2)
                .filter(|i| !categories || i % 5 != 0)
                .map(|i| records[i].id)
                .collect()
        };
        for merged in [false, true] {
            let all = expected(false, false, false);
            assert_eq!(found(&[], &None), all, "merged: {merged}");
            assert_eq!(found(&["CC-BY-4.0"], &None), expected(true, false, false));
            assert_eq!(
                found(&[], &Some(reader.clone())),
                expected(false, true, true)
            );
            assert_eq!(
                found(&["CC-BY-4.0"], &Some(reader.clone())),
                expected(true, true, true)
            );
            // Nothing but the clearance: its own set, shared, once no document is deleted.
            assert_eq!(
                found(&[], &Some(cleared_only.clone())),
                expected(false, true, false)
            );
            index.merge_all().unwrap();
        }
    }
}
