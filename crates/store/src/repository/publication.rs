//! Each dataset's publication workflow: working copy, reviews and releases.

use super::*;

impl Repository {
    pub async fn publication(&self, dataset: Uuid) -> StoreResult<Option<Publication>> {
        let body: Option<String> =
            sqlx::query_scalar("SELECT body FROM publications WHERE dataset_id = $1")
                .bind(dataset)
                .fetch_optional(&self.read)
                .await?;
        body.map(|body| from_json(&body)).transpose()
    }

    /// The dataset workflows in which something waits for a reviewer (`releases`: for a release
    /// officer), at most `limit`.
    pub async fn open_publications(
        &self,
        releases: bool,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<Publication>> {
        let mut query = QueryBuilder::<Db>::new("SELECT body FROM publications WHERE ");
        query.push(if releases {
            "release_open"
        } else {
            "review_open"
        });
        if let Some(after) = after {
            query.push(" AND dataset_id > ").push_bind(after);
        }
        query
            .push(" ORDER BY dataset_id LIMIT ")
            .push_bind(i64::from(limit));
        let bodies: Vec<String> = query.build_query_scalar().fetch_all(&self.read).await?;
        bodies.iter().map(|body| from_json(body)).collect()
    }

    /// Writes a dataset's publication workflow if it is still at `expected_revision` (0: it has none
    /// yet), with the dataset as a step changed it (at its own expected revision) and, for a step,
    /// what it tells.
    pub async fn write_publication(
        &self,
        publication: &Publication,
        expected_revision: i64,
        dataset: Option<crate::DatasetUpdate<'_>>,
        notice: Option<&crate::Notice>,
    ) -> StoreResult<()> {
        let body = to_json(publication)?;
        let mut tx = self.write.begin().await?;
        if let Some(update) = dataset {
            let actor = notice
                .and_then(|n| n.audit.actor.as_deref())
                .unwrap_or("fathom");
            update_dataset(&mut tx, update, actor).await?;
        }
        let written = if expected_revision == 0 {
            sqlx::query(
                "INSERT INTO publications (dataset_id, revision, body, review_open, release_open) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (dataset_id) DO NOTHING",
            )
            .bind(publication.dataset)
            .bind(publication.revision)
            .bind(body.get())
            .bind(publication.submitted_by.is_some())
            .bind(publication.release_open())
            .execute(&mut *tx)
            .await?
        } else {
            sqlx::query("UPDATE publications SET revision = $2, body = $3, review_open = $4, release_open = $5 WHERE dataset_id = $1 AND revision = $6")
                .bind(publication.dataset)
                .bind(publication.revision)
                .bind(body.get())
                .bind(publication.submitted_by.is_some())
                .bind(publication.release_open())
                .bind(expected_revision)
                .execute(&mut *tx)
                .await?
        };
        if written.rows_affected() == 0 {
            return Err(StoreError::StaleRevision);
        }
        if let Some(notice) = notice {
            record_notice(
                &mut tx,
                EntityType::Publication,
                publication.dataset,
                publication.revision,
                &body,
                notice,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
