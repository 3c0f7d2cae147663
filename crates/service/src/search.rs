//! Search over the catalogue: the index of this replica and the task that keeps it in step.

use std::path::Path;
use std::sync::Arc;

use fathom_model::{Policy, Principal};
use fathom_search::{Prepared, SearchIndex, SearchRequest, SearchResults, without_last_word};
use fathom_store::Store;
use tokio::sync::Semaphore;

use crate::access;
use crate::error::ServiceError;

/// The words of a search a respelling changes, at most.
const RESPELT_WORDS: usize = 8;
/// Shorter words are left as typed: too many words are one edit from them.
const RESPELT_FROM: usize = 4;

#[derive(Debug, Clone)]
pub struct Search {
    index: Arc<SearchIndex>,
    store: Store,
    policy: Arc<Policy>,
    /// One long search per core at a time in the blocking pool: a search is pure CPU work, and more
    /// at once would only share the cores, each taking longer, with more memory in use. (Short ones
    /// run on the worker threads, one per core, besides.)
    running: Arc<Semaphore>,
}

impl Search {
    /// Opens (or creates, or rebuilds when unreadable) the index in `data_dir/search`, keeping up to
    /// `cache_entries` recent results. Searches show what `policy` lets each reader see.
    pub(crate) fn open(
        data_dir: &Path,
        store: Store,
        policy: Arc<Policy>,
        cache_entries: usize,
    ) -> Result<Self, ServiceError> {
        let index = SearchIndex::open(&data_dir.join("search"), cache_entries)
            .map_err(ServiceError::Search)?;
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Ok(Self {
            index: Arc::new(index),
            store,
            policy,
            running: Arc::new(Semaphore::new(cores)),
        })
    }

    /// A theme or keyword that names a concept of a vocabulary also finds what is tagged with its
    /// narrower concepts: themes by their IRIs, keywords by their labels (one recursive query).
    async fn widen_to_narrower_concepts(
        &self,
        request: &mut SearchRequest,
    ) -> Result<(), ServiceError> {
        for (values, by_iri) in [(&mut request.theme, true), (&mut request.keyword, false)] {
            if values.is_empty() {
                continue;
            }
            let named: Vec<&str> = values.iter().map(String::as_str).collect();
            let narrower = self
                .store
                .narrower_concepts(&named)
                .await
                .map_err(ServiceError::Internal)?;
            let mut wider: Vec<String> = narrower
                .iter()
                .flat_map(|concept| {
                    if by_iri {
                        vec![concept.iri.clone()]
                    } else {
                        concept.names()
                    }
                })
                .collect();
            wider.retain(|value| !values.contains(value));
            wider.sort();
            wider.dedup();
            values.extend(wider);
        }
        Ok(())
    }

    /// Searches what `reader` may see: hits, totals and facet counts alike.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn search(
        &self,
        reader: Option<&Principal>,
        mut request: SearchRequest,
    ) -> Result<Arc<SearchResults>, ServiceError> {
        request.visibility = access::visibility(&self.policy, reader);
        self.widen_to_narrower_concepts(&mut request).await?;
        let mut results = self.run(&request).await?;
        // Every word must match: where that finds nothing, the last words are left out one by one.
        let mut ignored = Vec::new();
        while results.total == 0 && !request.match_any {
            let Some((shorter, dropped)) = request.text.as_deref().and_then(without_last_word)
            else {
                break;
            };
            request.text = Some(shorter);
            ignored.insert(0, dropped);
            results = self.run(&request).await?;
        }
        if ignored.is_empty() || results.total == 0 {
            return Ok(results);
        }
        let mut found = SearchResults::clone(&results);
        found.ignored = ignored;
        Ok(Arc::new(found))
    }

    /// One search of the index, as `request` says (its visibility set).
    async fn run(&self, request: &SearchRequest) -> Result<Arc<SearchResults>, ServiceError> {
        let planned = match self.index.prepare(request).map_err(ServiceError::Search)? {
            Prepared::Cached(results) => return Ok(results),
            // A short search runs here, on the request's worker thread: handing it to the blocking
            // pool and back would be a large share of its cost.
            Prepared::Planned(planned) if planned.is_short() => {
                return self.index.run(planned).map_err(ServiceError::Search);
            }
            Prepared::Planned(planned) => planned,
        };
        let permit = Arc::clone(&self.running)
            .acquire_owned()
            .await
            .map_err(task_stopped)?;
        if let Some(results) = self.index.cached(&planned) {
            return Ok(results);
        }
        let index = Arc::clone(&self.index);
        tokio::task::spawn_blocking(move || {
            let results = index.run(planned);
            drop(permit);
            results
        })
        .await
        .map_err(task_stopped)?
        .map_err(ServiceError::Search)
    }

    /// Another spelling of `text`, for a search that found nothing: each word unknown to the titles
    /// and keyword lists replaced by the commonest word spelt near it that is in the title or the
    /// keywords of a dataset `reader` may see. `None` when no word changes, or when the respelling
    /// would find nothing `reader` may see either. A word of a dataset the reader may not see is
    /// never suggested: each is checked with the reader's own search.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn respelling(
        &self,
        reader: Option<&Principal>,
        text: &str,
    ) -> Result<Option<String>, ServiceError> {
        let words: Vec<&str> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .take(RESPELT_WORDS)
            .collect();
        let mut spelt = Vec::with_capacity(words.len());
        let mut changed = false;
        for word in words {
            let mut chosen = None;
            let spellable =
                word.chars().count() >= RESPELT_FROM && !word.chars().all(char::is_numeric);
            let near = if spellable {
                self.index.near_words(word).map_err(ServiceError::Search)?
            } else {
                Vec::new()
            };
            for candidate in near {
                let check = SearchRequest {
                    words: vec![candidate.clone()],
                    limit: 1,
                    ..SearchRequest::default()
                };
                if self.search(reader, check).await?.total > 0 {
                    chosen = Some(candidate);
                    break;
                }
            }
            changed |= chosen.is_some();
            spelt.push(chosen.unwrap_or_else(|| word.to_lowercase()));
        }
        if !changed {
            return Ok(None);
        }
        let respelling = spelt.join(" ");
        let check = SearchRequest {
            text: Some(respelling.clone()),
            limit: 1,
            ..SearchRequest::default()
        };
        Ok((self.search(reader, check).await?.total > 0).then_some(respelling))
    }

    /// Brings the index up to date before serving: rebuilt from the records when it is empty or ahead
    /// of the database (a restored or replaced database), else replayed from the change feed as far
    /// as it reached when the replica started; then readies what the first searches would otherwise
    /// make ([`SearchIndex::warm`]).
    pub async fn prepare(&self) -> Result<(), ServiceError> {
        let (latest, position) = self.positions().await?;
        if (position == 0 && latest > 0) || position > latest {
            let count = fathom_search::rebuild(&self.index, &self.store)
                .await
                .map_err(ServiceError::Search)?;
            tracing::info!(datasets = count, "search index rebuilt");
        }
        // Up to where the feed is now: under a steady stream of writes, catching up with every
        // change would chase them, and the replica would not serve; the indexer follows the rest.
        fathom_search::catch_up_to(&self.index, &self.store, latest)
            .await
            .map_err(ServiceError::Search)?;
        let index = Arc::clone(&self.index);
        tokio::task::spawn_blocking(move || index.warm())
            .await
            .map_err(task_stopped)
    }

    /// How many datasets the index holds.
    pub fn documents(&self) -> u64 {
        self.index.len()
    }

    /// How many committed changes the index has not applied yet.
    pub async fn lag(&self) -> Result<i64, ServiceError> {
        let (latest, position) = self.positions().await?;
        Ok((latest - position).max(0))
    }

    /// The change feed's latest position and the index's.
    async fn positions(&self) -> Result<(i64, i64), ServiceError> {
        let latest = self
            .store
            .latest_change()
            .await
            .map_err(ServiceError::Internal)?;
        let position = self.index.position().map_err(ServiceError::Search)?;
        Ok((latest, position))
    }

    /// Applies every pending change; returns how many it read.
    pub async fn catch_up(&self) -> Result<usize, ServiceError> {
        fathom_search::catch_up(&self.index, &self.store)
            .await
            .map_err(ServiceError::Search)
    }

    /// Rebuilds the index from scratch; returns how many datasets it holds.
    pub async fn rebuild(&self) -> Result<u64, ServiceError> {
        fathom_search::rebuild(&self.index, &self.store)
            .await
            .map_err(ServiceError::Search)
    }

    /// Starts following the change feed in the background.
    pub fn spawn_indexer(&self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(fathom_search::run(
            Arc::clone(&self.index),
            self.store.clone(),
        ))
    }
}

/// A search task that could not run or finish (a closed semaphore, a panicked thread).
fn task_stopped(error: impl std::fmt::Display) -> ServiceError {
    ServiceError::Search(fathom_search::SearchError::Task(error.to_string()))
}
