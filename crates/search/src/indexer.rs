//! Keeps the index in step with the database by following the change feed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use fathom_model::Dataset;
use fathom_store::{DatasetFilter, EntityType, Operation, PageRequest, Position, Store};
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

/// Applies every change after the index's position; returns how many changes it read.
pub async fn catch_up(index: &Arc<SearchIndex>, store: &Store) -> SearchResult<usize> {
    let mut read = 0;
    loop {
        let position = index.position()?;
        let changes = store.changes_since(position, BATCH).await?;
        let Some(last) = changes.last().map(|c| c.seq) else {
            return Ok(read);
        };
        read += changes.len();
        // The last operation on each dataset decides; the record is read as it is now.
        let mut latest: BTreeMap<Uuid, Operation> = BTreeMap::new();
        for change in changes
            .iter()
            .filter(|c| c.entity_type == EntityType::Dataset)
        {
            latest.insert(change.entity_id, change.operation);
        }
        let wanted: Vec<Uuid> = latest
            .iter()
            .filter(|(_, op)| **op != Operation::Deleted)
            .map(|(id, _)| *id)
            .collect();
        let found = store.datasets_by_ids(&wanted).await?;
        let present: std::collections::HashSet<Uuid> = found.iter().map(|d| d.id).collect();
        let deletes: Vec<Uuid> = latest
            .keys()
            .filter(|id| !present.contains(id))
            .copied()
            .collect();
        blocking(index, move |index| {
            index.apply(&found, &deletes, last, false)
        })
        .await?;
    }
}

/// Rebuilds the index from the records themselves (faster than replaying the feed), then records
/// the feed position read before the first page, so that the indexer replays anything newer.
pub async fn rebuild(index: &Arc<SearchIndex>, store: &Store) -> SearchResult<u64> {
    let position = store.latest_change().await?;
    blocking(index, |index| index.apply(&[], &[], 0, true)).await?;
    let mut after = None;
    let mut added = 0;
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
        blocking(index, move |index| index.add_uncommitted(&page)).await?;
        if !full {
            break;
        }
    }
    blocking(index, move |index| index.apply(&[], &[], position, false)).await?;
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
