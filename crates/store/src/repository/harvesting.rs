//! Harvest sources, their jobs and what each foreign record became.

use super::*;

impl Repository {
    pub async fn insert_harvest_source(&self, source: &HarvestSource) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO harvest_sources (id, name, body, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(source.id)
        .bind(source.name.as_str())
        .bind(to_json(source)?.get().to_owned())
        .bind(db_time(source.created_at))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn harvest_sources(&self) -> StoreResult<Vec<HarvestSource>> {
        let bodies: Vec<String> =
            sqlx::query_scalar("SELECT body FROM harvest_sources ORDER BY name")
                .fetch_all(&self.read)
                .await?;
        bodies.iter().map(|body| from_json(body)).collect()
    }

    pub async fn harvest_source(&self, id: Uuid) -> StoreResult<HarvestSource> {
        let body: String = sqlx::query_scalar("SELECT body FROM harvest_sources WHERE id = $1")
            .bind(id)
            .fetch_one(&self.read)
            .await?;
        from_json(&body)
    }

    pub async fn delete_harvest_source(&self, id: Uuid) -> StoreResult<()> {
        let deleted = sqlx::query("DELETE FROM harvest_sources WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Fails the running jobs whose lease expired before `now` (their harvester stopped), then
    /// starts `job` unless another job of its source is running.
    pub async fn begin_harvest_job(
        &self,
        job: &HarvestJob,
        lease_until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        self.expire_harvest_jobs(now).await?;
        let inserted = sqlx::query(
            "INSERT INTO harvest_jobs (id, source_id, status, lease_until, started_at, body) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT DO NOTHING",
        )
        .bind(job.id)
        .bind(job.source)
        .bind(job.status.as_str())
        .bind(db_time(lease_until))
        .bind(db_time(job.started_at))
        .bind(to_json(job)?.get().to_owned())
        .execute(&self.write)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    /// Marks running jobs whose lease expired before `now` as failed; returns how many.
    pub async fn expire_harvest_jobs(&self, now: OffsetDateTime) -> StoreResult<u64> {
        let rows = sqlx::query(
            "SELECT body FROM harvest_jobs WHERE status = 'running' AND lease_until < $1",
        )
        .bind(db_time(now))
        .fetch_all(&self.read)
        .await?;
        let mut expired = 0;
        for row in &rows {
            let body: String = row.try_get("body")?;
            let mut job: HarvestJob = from_json(&body)?;
            job.status = fathom_model::JobStatus::Failed;
            job.finished_at = Some(now);
            job.message = Some(
                "interrupted: the harvester stopped before the job ended (its lease expired)"
                    .to_owned(),
            );
            let updated = sqlx::query("UPDATE harvest_jobs SET status = $1, body = $2 WHERE id = $3 AND status = 'running' AND lease_until < $4")
                .bind(job.status.as_str())
                .bind(to_json(&job)?.get().to_owned())
                .bind(job.id)
                .bind(db_time(now))
                .execute(&self.write)
                .await?;
            expired += updated.rows_affected();
        }
        Ok(expired)
    }

    /// Writes a job's progress (or end) and extends its lease; false when the job is no longer
    /// running (its lease expired and it was failed meanwhile).
    pub async fn save_harvest_job(
        &self,
        job: &HarvestJob,
        lease_until: OffsetDateTime,
    ) -> StoreResult<bool> {
        let updated = sqlx::query("UPDATE harvest_jobs SET status = $1, body = $2, lease_until = $3 WHERE id = $4 AND status = 'running'")
            .bind(job.status.as_str())
            .bind(to_json(job)?.get().to_owned())
            .bind(db_time(lease_until))
            .bind(job.id)
            .execute(&self.write)
            .await?;
        Ok(updated.rows_affected() == 1)
    }

    pub async fn harvest_jobs(&self, source: Uuid, limit: u32) -> StoreResult<Vec<HarvestJob>> {
        let bodies: Vec<String> = sqlx::query_scalar(
            "SELECT body FROM harvest_jobs WHERE source_id = $1 ORDER BY started_at DESC LIMIT $2",
        )
        .bind(source)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        bodies.iter().map(|body| from_json(body)).collect()
    }

    /// Remembers which dataset each record of a source became.
    pub async fn record_harvested(
        &self,
        source: Uuid,
        records: &[(String, Uuid)],
    ) -> StoreResult<()> {
        for chunk in records.chunks(ROWS_PER_INSERT) {
            let mut query = QueryBuilder::<Db>::new(
                "INSERT INTO harvested_records (source_id, record_key, dataset_id) ",
            );
            query.push_values(chunk, |mut row, (key, dataset)| {
                row.push_bind(source)
                    .push_bind(key.as_str())
                    .push_bind(*dataset);
            });
            query.push(" ON CONFLICT (source_id, record_key) DO UPDATE SET dataset_id = excluded.dataset_id");
            query.build().execute(&self.write).await?;
        }
        Ok(())
    }

    /// The records a source gave, and their datasets.
    pub async fn harvested_records(&self, source: Uuid) -> StoreResult<Vec<(String, Uuid)>> {
        let rows = sqlx::query(
            "SELECT record_key, dataset_id FROM harvested_records WHERE source_id = $1",
        )
        .bind(source)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("record_key")?, row.try_get("dataset_id")?)))
            .collect()
    }

    pub async fn forget_harvested(&self, source: Uuid, keys: &[String]) -> StoreResult<()> {
        for key in keys {
            sqlx::query("DELETE FROM harvested_records WHERE source_id = $1 AND record_key = $2")
                .bind(source)
                .bind(key.as_str())
                .execute(&self.write)
                .await?;
        }
        Ok(())
    }
}
