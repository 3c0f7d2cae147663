//! Search: a tantivy index of the datasets, derived from the store through the change feed.
//!
//! The index lives in the data directory and records, with each commit, the change-feed position it
//! reflects, so an indexer resumes where it stopped and a lost or corrupt index is rebuilt from the
//! database. Request handlers never write to it.

mod cache;
mod document;
mod facets;
mod filter;
mod flat;
mod highlight;
mod index;
mod indexer;
mod query;
mod run;

pub use index::{
    DEFAULT_CACHE_ENTRIES, FacetCount, Hit, Planned, Prepared, SearchIndex, SearchResults,
};
pub use indexer::{catch_up, catch_up_to, rebuild, run};
pub use query::{
    CategoryVisibility, Direction, Facet, SearchRequest, Sort, TimeRange, Visibility,
    without_last_word,
};
pub use run::EXACT_UP_TO;

/// What can go wrong in the index.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("store: {0}")]
    Store(#[from] fathom_store::StoreError),
    #[error("the search task stopped: {0}")]
    Task(String),
}

pub type SearchResult<T> = Result<T, SearchError>;
