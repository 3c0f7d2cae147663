//! Keeps the index in step with the database by following the change feed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use fathom_model::Dataset;
use fathom_store::{
    DatasetFilter, EntityType, Operation, PageRequest, Position, RecordKey, Store, StoreError,
};
use tantivy::TantivyDocument;
use uuid::Uuid;

use crate::{SearchError, SearchIndex, SearchResult};

/// Changes read (and committed to the index) at a time.
const BATCH: u32 = 1000;
/// How long the indexer sleeps when it has caught up.
const IDLE: Duration = Duration::from_millis(200);

/// Follows the change feed for ever: a write is searchable within about [`IDLE`] plus one commit.
pub async fn run(index: Arc<SearchIndex>, store: Store) {
    loop {
        match catch_up(&index, &store).await {
            Ok(0) => tokio::time::sleep(IDLE).await,
            Ok(_) => {}
            Err(error) => {
                tracing::error!(%error, "search indexing failed; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

/// Applies every change after the index's position; returns how many changes it read. A changed
/// organisation reindexes its datasets, whose documents carry its name.
pub async fn catch_up(index: &Arc<SearchIndex>, store: &Store) -> SearchResult<usize> {
    catch_up_to(index, store, i64::MAX).await
}

/// Applies the changes after the index's position up to `up_to` at least (the batch that reaches
/// it may go past), so that catching up with a feed that keeps growing ends.
pub async fn catch_up_to(
    index: &Arc<SearchIndex>,
    store: &Store,
    up_to: i64,
) -> SearchResult<usize> {
    let mut read = 0;
    let mut names = OrganisationNames::default();
    loop {
        let position = index.position()?;
        if position >= up_to {
            return Ok(read);
        }
        let changes = store.changes_since(position, BATCH).await?;
        let Some(last) = changes.last().map(|c| c.seq) else {
            return Ok(read);
        };
        read += changes.len();
        // The last operation on each dataset decides; the record is read as it is now.
        let mut latest: BTreeMap<Uuid, Operation> = BTreeMap::new();
        let mut renamed = Vec::new();
        for change in &changes {
            match (change.entity_type, change.operation) {
                (EntityType::Dataset, operation) => {
                    latest.insert(change.entity_id, operation);
                }
                (EntityType::Organisation, Operation::Updated) => renamed.push(change.entity_id),
                _ => {}
            }
        }
        let wanted: Vec<Uuid> = latest
            .iter()
            .filter(|(_, op)| **op != Operation::Deleted)
            .map(|(id, _)| *id)
            .collect();
        let mut found = store.datasets_by_ids(&wanted).await?;
        let present: HashSet<Uuid> = found.iter().map(|d| d.id).collect();
        let deletes: Vec<Uuid> = latest
            .keys()
            .filter(|id| !present.contains(id))
            .copied()
            .collect();
        names.clear();
        for id in renamed {
            if let Ok(organisation) = store.organisation(&RecordKey::Id(id)).await {
                let filter = DatasetFilter {
                    organisation: Some(organisation.details.slug.to_string()),
                    ..Default::default()
                };
                found.extend(all_datasets(store, &filter).await?);
            }
        }
        let documents = names.documents(index, store, found).await?;
        blocking(index, move |index| {
            index.apply(documents, &deletes, last, false)
        })
        .await?;
    }
}

/// Every dataset that passes `filter`, a page at a time.
async fn all_datasets(store: &Store, filter: &DatasetFilter) -> SearchResult<Vec<Dataset>> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .datasets(
                filter,
                PageRequest {
                    after,
                    limit: BATCH,
                },
            )
            .await?;
        let full = page.len() == BATCH as usize;
        after = page.last().map(|d| Position::Id(d.id));
        all.extend(page);
        if !full {
            return Ok(all);
        }
    }
}

/// Organisation names by slug, looked up once per batch.
#[derive(Default)]
struct OrganisationNames(HashMap<String, String>);

impl OrganisationNames {
    fn clear(&mut self) {
        self.0.clear();
    }

    /// The documents of `datasets`, each with its organisation's name.
    async fn documents(
        &mut self,
        index: &SearchIndex,
        store: &Store,
        datasets: Vec<Dataset>,
    ) -> SearchResult<Vec<(Uuid, TantivyDocument)>> {
        let mut documents = Vec::with_capacity(datasets.len());
        for dataset in datasets {
            let slug = dataset.metadata.organisation.as_str();
            if !self.0.contains_key(slug) {
                let name = match store.organisation(&RecordKey::Slug(slug.to_owned())).await {
                    Ok(organisation) => organisation.details.name,
                    Err(StoreError::NotFound) => String::new(),
                    Err(error) => return Err(error.into()),
                };
                self.0.insert(slug.to_owned(), name);
            }
            documents.push(index.document(&dataset, self.0.get(slug).map(String::as_str)));
        }
        Ok(documents)
    }
}

/// Rebuilds the index from the records themselves (faster than replaying the feed), then records
/// the feed position read before the first page, so that the indexer replays anything newer.
pub async fn rebuild(index: &Arc<SearchIndex>, store: &Store) -> SearchResult<u64> {
    let rebuilt = rebuild_unmerged(index, store).await;
    // A rebuild pauses merges (`SearchIndex::apply`) and its last step resumes them; so must a failure.
    if rebuilt.is_err() {
        index.resume_merges();
    }
    rebuilt
}

async fn rebuild_unmerged(index: &Arc<SearchIndex>, store: &Store) -> SearchResult<u64> {
    let position = store.latest_change().await?;
    blocking(index, |index| index.apply(Vec::new(), &[], 0, true)).await?;
    let mut after = None;
    let mut added = 0;
    let mut names = OrganisationNames::default();
    loop {
        let page: Vec<Dataset> = store
            .datasets(
                &DatasetFilter::default(),
                PageRequest {
                    after,
                    limit: BATCH,
                },
            )
            .await?;
        added += page.len() as u64;
        after = page.last().map(|d| Position::Id(d.id));
        let full = page.len() == BATCH as usize;
        let documents = names.documents(index, store, page).await?;
        blocking(index, move |index| index.add_uncommitted(documents)).await?;
        if !full {
            break;
        }
    }
    blocking(index, move |index| {
        index.apply(Vec::new(), &[], position, false)?;
        // Only faster searches depend on it: the rebuilt index is whole without it.
        if let Err(error) = index.merge_all() {
            tracing::warn!(%error, "the rebuilt search index could not be merged into one segment");
        }
        Ok(())
    })
    .await?;
    Ok(added)
}

/// Runs index work off the async workers.
async fn blocking<T: Send + 'static>(
    index: &Arc<SearchIndex>,
    work: impl FnOnce(&SearchIndex) -> SearchResult<T> + Send + 'static,
) -> SearchResult<T> {
    let index = Arc::clone(index);
    tokio::task::spawn_blocking(move || work(&index))
        .await
        .map_err(|e| SearchError::Task(e.to_string()))?
}
