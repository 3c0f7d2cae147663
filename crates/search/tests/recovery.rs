//! The index follows the change feed, resumes where it stopped, and rebuilds itself when lost.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use fathom_search::{SearchIndex, SearchRequest, catch_up, catch_up_to, rebuild};
use fathom_store::testing::{TestStore, dataset, organisation};

fn everything() -> SearchRequest {
    SearchRequest {
        limit: 10,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_resumes_and_recovers() {
    let db = TestStore::sqlite().await;
    let store = &db.store;
    store
        .insert_organisation(&organisation("cmre"), "t")
        .await
        .unwrap();
    let first: Vec<_> = (0..30)
        .map(|i| dataset("cmre", &format!("Record {i}")))
        .collect();
    store.insert_datasets(&first, "t").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("search");

    let index = Arc::new(SearchIndex::open(&path, 0).unwrap());
    assert_eq!(
        catch_up(&index, store).await.unwrap(),
        31,
        "the organisation's change and 30 datasets'"
    );
    assert_eq!(index.search(&everything()).unwrap().total, 30);
    let position = index.position().unwrap();
    assert_eq!(position, store.latest_change().await.unwrap());
    drop(index);

    // Reopened, it resumes from its recorded position: only what is new is read.
    store
        .insert_datasets(&[dataset("cmre", "Record 30")], "t")
        .await
        .unwrap();
    store.delete_dataset(first[0].id, 1, "t").await.unwrap();
    let index = Arc::new(SearchIndex::open(&path, 0).unwrap());
    assert_eq!(index.position().unwrap(), position);
    // Caught up to where it is, it reads nothing, whatever came since.
    assert_eq!(catch_up_to(&index, store, position).await.unwrap(), 0);
    assert_eq!(catch_up(&index, store).await.unwrap(), 2);
    assert_eq!(index.search(&everything()).unwrap().total, 30);
    drop(index);

    // A corrupt index is moved aside and starts empty; rebuilding fills it from the database.
    std::fs::write(path.join("meta.json"), b"{ this is not an index").unwrap();
    let index = Arc::new(SearchIndex::open(&path, 0).unwrap());
    assert_eq!((index.position().unwrap(), index.len()), (0, 0));
    assert_eq!(rebuild(&index, store).await.unwrap(), 30);
    assert_eq!(index.search(&everything()).unwrap().total, 30);
    assert_eq!(
        index.position().unwrap(),
        store.latest_change().await.unwrap()
    );
    drop(index);

    // A missing index is created and replayed from the start of the feed.
    std::fs::remove_dir_all(&path).unwrap();
    let index = Arc::new(SearchIndex::open(&path, 0).unwrap());
    catch_up(&index, store).await.unwrap();
    assert_eq!(index.search(&everything()).unwrap().total, 30);
}
