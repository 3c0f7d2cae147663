//! Harvest sources, their jobs, and what each job harvested. `Store`'s methods on them; the SQL is
//! in `repository/harvesting.rs`.

use super::*;

impl Store {
    pub async fn insert_harvest_source(
        &self,
        source: &fathom_model::HarvestSource,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.insert_harvest_source(source).await)
    }

    pub async fn harvest_sources(&self) -> StoreResult<Vec<fathom_model::HarvestSource>> {
        dispatch!(self, r => r.harvest_sources().await)
    }

    pub async fn harvest_source(&self, id: Uuid) -> StoreResult<fathom_model::HarvestSource> {
        dispatch!(self, r => r.harvest_source(id).await)
    }

    pub async fn delete_harvest_source(&self, id: Uuid) -> StoreResult<()> {
        dispatch!(self, r => r.delete_harvest_source(id).await)
    }

    /// Starts a job, leased until `lease_until`, unless one of its source is running; running jobs
    /// whose lease expired are failed first.
    pub async fn begin_harvest_job(
        &self,
        job: &fathom_model::HarvestJob,
        lease_until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        dispatch!(self, r => r.begin_harvest_job(job, lease_until, now).await)
    }

    /// Fails the running jobs whose lease expired (their harvester crashed or was killed).
    pub async fn expire_harvest_jobs(&self, now: OffsetDateTime) -> StoreResult<u64> {
        dispatch!(self, r => r.expire_harvest_jobs(now).await)
    }

    /// Saves a running job's state and extends its lease; false if it is no longer running.
    pub async fn save_harvest_job(
        &self,
        job: &fathom_model::HarvestJob,
        lease_until: OffsetDateTime,
    ) -> StoreResult<bool> {
        dispatch!(self, r => r.save_harvest_job(job, lease_until).await)
    }

    /// A source's jobs, newest first.
    pub async fn harvest_jobs(
        &self,
        source: Uuid,
        limit: u32,
    ) -> StoreResult<Vec<fathom_model::HarvestJob>> {
        dispatch!(self, r => r.harvest_jobs(source, limit).await)
    }

    pub async fn record_harvested(
        &self,
        source: Uuid,
        records: &[(String, Uuid)],
    ) -> StoreResult<()> {
        dispatch!(self, r => r.record_harvested(source, records).await)
    }

    pub async fn harvested_records(&self, source: Uuid) -> StoreResult<Vec<(String, Uuid)>> {
        dispatch!(self, r => r.harvested_records(source).await)
    }

    pub async fn forget_harvested(&self, source: Uuid, keys: &[String]) -> StoreResult<()> {
        dispatch!(self, r => r.forget_harvested(source, keys).await)
    }
}
