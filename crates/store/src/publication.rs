//! Publication reviews of datasets. `Store`'s methods on them; the SQL is in
//! `repository/publication.rs`.

use super::*;

impl Store {
    /// The dataset workflows in which something waits for a reviewer (`releases`: for a release
    /// officer), in order of dataset id after `after`, at most `limit`.
    pub async fn open_publications(
        &self,
        releases: bool,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<Publication>> {
        dispatch!(self, r => r.open_publications(releases, after, limit).await)
    }

    pub async fn publication(&self, dataset: Uuid) -> StoreResult<Option<Publication>> {
        dispatch!(self, r => r.publication(dataset).await)
    }

    /// Writes a dataset's publication workflow if it is still at `expected_revision` (0: none yet),
    /// with the dataset as a step changed it (at its expected revision) and what a step tells;
    /// `StaleRevision` (nothing written) when either moved.
    pub async fn write_publication(
        &self,
        publication: &Publication,
        expected_revision: i64,
        dataset: Option<DatasetUpdate<'_>>,
        notice: Option<&Notice>,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.write_publication(publication, expected_revision, dataset, notice).await)
    }
}
