//! The index on disk: opening (and rebuilding when unreadable), applying changes, searching.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use fathom_model::Dataset;
use serde::Serialize;
use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::Query;
use tantivy::schema::Value;
use tantivy::snippet::SnippetGenerator;
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term,
};
use uuid::Uuid;

use crate::cache::ResultCache;
use crate::document::{Fields, TEXT_ANALYSER};
use crate::facets::{FacetCounter, FacetValues};
use crate::query::{self, Direction, SearchRequest, Sort};
use crate::within::Within;
use crate::{SearchError, SearchResult};

/// Memory for the indexing buffer (tantivy's minimum is 15 MB): the writer lives as long as the
/// server, so its buffer counts in the server's resident memory.
const WRITER_MEMORY: usize = 16 * 1024 * 1024;

/// How many recent results a search index keeps by default (see `cache.rs`).
pub const DEFAULT_CACHE_ENTRIES: usize = 1000;

/// The search index of one replica.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    cache: ResultCache,
    facet_values: FacetValues,
    path: PathBuf,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("path", &self.path)
            .finish_non_exhaustive()
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
    pub total: usize,
    pub hits: Vec<Hit>,
    pub facets: BTreeMap<&'static str, Vec<FacetCount>>,
}

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
        index: Index,
        fields: Fields,
        path: PathBuf,
        cache_entries: usize,
    ) -> SearchResult<Self> {
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
            facet_values: FacetValues::default(),
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

    /// Replaces or removes datasets and records `position`, in one commit, visible to the next search.
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

    /// The results of a request: from the cache when the same request met the same index contents,
    /// else searched (and kept).
    pub fn search(&self, request: &SearchRequest) -> SearchResult<Arc<SearchResults>> {
        let searcher = self.reader.searcher();
        let generation = searcher.generation().generation_id();
        let key = ResultCache::key(request);
        if let Some(results) = self.cache.get(generation, &key) {
            return Ok(results);
        }
        self.facet_values.keep_only(&searcher);
        let results = Arc::new(self.search_in(&searcher, request)?);
        self.cache.put(generation, key, Arc::clone(&results));
        Ok(results)
    }

    fn search_in(
        &self,
        searcher: &tantivy::Searcher,
        request: &SearchRequest,
    ) -> SearchResult<SearchResults> {
        let mut analyser = self
            .index
            .tokenizers()
            .get(TEXT_ANALYSER)
            .ok_or_else(|| SearchError::Task("no analyser".into()))?;
        let query = query::build(request, &self.fields, &mut analyser, searcher);
        let top = TopDocs::with_limit(request.limit.max(1)).and_offset(request.offset);
        let scored_by_text = request
            .text
            .as_deref()
            .is_some_and(|t| !t.trim().is_empty());
        // One pass over the matches counts them, ranks them and counts the facets.
        let facets = FacetCounter::new(&request.facets, &self.facet_values);
        // Without words, relevance means the most recently modified first.
        let sort = match request.sort {
            Sort::Relevance if !scored_by_text => Sort::Modified(Direction::Descending),
            sort => sort,
        };
        let (total, addresses, facets) = match sort {
            Sort::Relevance => searcher.search(
                &query,
                &Within::new((Count, top.order_by_score(), facets), request),
            )?,
            Sort::Title(direction) => {
                let by_title = top.order_by_string_fast_field("title_exact", order(direction));
                let (total, docs, facets) =
                    searcher.search(&query, &Within::new((Count, by_title, facets), request))?;
                (total, unscored(docs), facets)
            }
            Sort::Modified(direction) => {
                let by_modified =
                    top.order_by_fast_field::<tantivy::DateTime>("modified", order(direction));
                let (total, docs, facets) =
                    searcher.search(&query, &Within::new((Count, by_modified, facets), request))?;
                (total, unscored(docs), facets)
            }
        };
        let hits = self.hits(searcher, &*query, &addresses, scored_by_text)?;
        let facets = facets.unwrap_or_default();
        Ok(SearchResults {
            total,
            hits,
            facets,
        })
    }

    fn hits(
        &self,
        searcher: &tantivy::Searcher,
        query: &dyn Query,
        addresses: &[(f32, DocAddress)],
        highlight: bool,
    ) -> SearchResult<Vec<Hit>> {
        let snippets = if highlight {
            let mut title = SnippetGenerator::create(searcher, query, self.fields.title)?;
            title.set_max_num_chars(200);
            let mut description =
                SnippetGenerator::create(searcher, query, self.fields.description)?;
            description.set_max_num_chars(240);
            Some((title, description))
        } else {
            None
        };
        let text = |doc: &TantivyDocument, field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        addresses
            .iter()
            .map(|(score, address)| {
                let doc: TantivyDocument = searcher.doc(*address)?;
                let mut highlights = BTreeMap::new();
                if let Some((title, description)) = &snippets {
                    for (name, generator) in [("title", title), ("description", description)] {
                        let snippet = generator.snippet_from_doc(&doc);
                        if !snippet.highlighted().is_empty() {
                            highlights.insert(name, snippet.to_html());
                        }
                    }
                }
                Ok(Hit {
                    id: Uuid::try_parse(&text(&doc, self.fields.id)).unwrap_or_default(),
                    slug: text(&doc, self.fields.slug),
                    title: text(&doc, self.fields.title),
                    organisation: text(&doc, self.fields.organisation),
                    score: *score,
                    highlights,
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

fn unscored<T>(docs: Vec<(T, DocAddress)>) -> Vec<(f32, DocAddress)> {
    docs.into_iter()
        .map(|(_, address)| (0.0, address))
        .collect()
}
