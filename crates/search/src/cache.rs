//! Recent results, reused while the index has not changed.
//!
//! Catalogue searches repeat: the landing page's facets, popular words, the next person asking what
//! the last one asked. A result depends only on the request and on the index's contents, so an entry
//! is valid for exactly one searcher generation and the whole cache empties when a commit becomes
//! visible (as Solr's query result cache does on a new searcher). Whatever decides what a caller
//! may see must be part of the request, and so of the key.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use lru::LruCache;

use crate::index::SearchResults;
use crate::query::SearchRequest;

pub(crate) struct ResultCache {
    entries: Option<Mutex<Entries>>,
}

struct Entries {
    generation: u64,
    recent: LruCache<String, Arc<SearchResults>>,
}

impl ResultCache {
    /// Keeps up to `capacity` results; 0 turns the cache off.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: NonZeroUsize::new(capacity).map(|capacity| {
                Mutex::new(Entries {
                    generation: 0,
                    recent: LruCache::new(capacity),
                })
            }),
        }
    }

    /// The key of a request: every field of it, so two requests share an entry only when equal.
    /// `None` when the cache is off, which then costs nothing (the key is a few microseconds of
    /// formatting: the reader's visibility is part of it).
    pub(crate) fn key(&self, request: &SearchRequest) -> Option<String> {
        self.entries.as_ref().map(|_| format!("{request:?}"))
    }

    /// The results kept for `key` on the index's `generation`; none without a key (the cache off).
    pub(crate) fn get(&self, generation: u64, key: Option<&str>) -> Option<Arc<SearchResults>> {
        let (key, entries) = (key?, self.entries.as_ref()?);
        let mut entries = entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.generation != generation {
            return None;
        }
        entries.recent.get(key).cloned()
    }

    pub(crate) fn put(&self, generation: u64, key: Option<String>, results: Arc<SearchResults>) {
        let (Some(key), Some(entries)) = (key, &self.entries) else {
            return;
        };
        let mut entries = entries.lock().unwrap_or_else(PoisonError::into_inner);
        // Generations only grow: a result of an older searcher than the cache's is dropped.
        if generation < entries.generation {
            return;
        }
        if generation > entries.generation {
            entries.recent.clear();
            entries.generation = generation;
        }
        entries.recent.put(key, results);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results(total: usize) -> Arc<SearchResults> {
        Arc::new(SearchResults {
            total,
            total_exact: true,
            hits: Vec::new(),
            facets: Default::default(),
            ignored: Vec::new(),
        })
    }

    #[test]
    fn entries_live_for_one_generation() {
        let cache = ResultCache::new(2);
        let key = |words: &str| {
            let request = SearchRequest {
                text: Some(words.into()),
                ..Default::default()
            };
            cache.key(&request)
        };
        let (words, other) = (key("glider"), key("gliders"));
        assert!(words.is_some());
        assert_ne!(words, other);
        cache.put(1, words.clone(), results(7));
        assert_eq!(cache.get(1, words.as_deref()).map(|r| r.total), Some(7));
        assert!(cache.get(1, other.as_deref()).is_none());
        assert!(
            cache.get(2, words.as_deref()).is_none(),
            "a newer index misses"
        );
        cache.put(2, other.clone(), results(3));
        assert!(
            cache.get(1, words.as_deref()).is_none(),
            "older entries are gone"
        );
        cache.put(1, words.clone(), results(7));
        assert!(
            cache.get(2, words.as_deref()).is_none(),
            "results of an older searcher are not kept"
        );
    }

    #[test]
    fn a_cache_of_no_entries_keeps_nothing() {
        let cache = ResultCache::new(0);
        assert!(cache.key(&SearchRequest::default()).is_none());
        cache.put(1, Some("k".into()), results(1));
        assert!(cache.get(1, Some("k")).is_none());
    }
}
