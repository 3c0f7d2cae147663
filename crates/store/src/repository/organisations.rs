//! Organisations: the publishers of datasets.

use super::*;

impl Repository {
    pub async fn insert_organisation(
        &self,
        organisation: &Organisation,
        actor: &str,
    ) -> StoreResult<()> {
        let body = to_json(organisation)?;
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO organisations (id, slug, revision, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(organisation.id)
        .bind(organisation.details.slug.as_str())
        .bind(organisation.revision)
        .bind(body.get())
        .bind(db_time(organisation.created_at))
        .bind(db_time(organisation.updated_at))
        .execute(&mut *tx)
        .await?;
        let change = ChangeRow {
            id: organisation.id,
            revision: organisation.revision,
            snapshot: Some(&body),
            previous: None,
            at: organisation.updated_at,
        };
        record_changes(
            &mut tx,
            EntityType::Organisation,
            Operation::Created,
            actor,
            &[change],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn update_organisation(
        &self,
        organisation: &Organisation,
        expected_revision: i64,
        actor: &str,
    ) -> StoreResult<()> {
        let body = to_json(organisation)?;
        let mut tx = self.write.begin().await?;
        let updated: Option<Option<String>> = sqlx::query_scalar(
            "UPDATE organisations SET revision = $2, body = $3, updated_at = $4 WHERE id = $1 AND revision = $5 \
             RETURNING (SELECT body FROM revisions WHERE entity_type = 'organisation' AND entity_id = $1 AND revision = $5)",
        )
        .bind(organisation.id)
        .bind(organisation.revision)
        .bind(body.get())
        .bind(db_time(organisation.updated_at))
        .bind(expected_revision)
        .fetch_optional(&mut *tx)
        .await?;
        let previous = previous_body(&mut tx, "organisations", organisation.id, updated).await?;
        let change = ChangeRow {
            id: organisation.id,
            revision: organisation.revision,
            snapshot: Some(&body),
            previous: Some(&previous),
            at: organisation.updated_at,
        };
        record_changes(
            &mut tx,
            EntityType::Organisation,
            Operation::Updated,
            actor,
            &[change],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_organisation(
        &self,
        id: Uuid,
        expected_revision: i64,
        actor: &str,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        let deleted: Option<String> = sqlx::query_scalar(
            "DELETE FROM organisations WHERE id = $1 AND revision = $2 RETURNING body",
        )
        .bind(id)
        .bind(expected_revision)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(previous) = deleted else {
            return Err(missing_or_stale(&mut tx, "organisations", id).await);
        };
        let change = ChangeRow {
            id,
            revision: expected_revision + 1,
            snapshot: None,
            previous: Some(&previous),
            at: crate::now(),
        };
        record_changes(
            &mut tx,
            EntityType::Organisation,
            Operation::Deleted,
            actor,
            &[change],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn organisation(&self, key: &RecordKey) -> StoreResult<Organisation> {
        from_json(&self.body_by_key("organisations", key).await?)
    }

    /// The stored JSON of the record of `table` with this id or slug.
    pub(super) async fn body_by_key(
        &self,
        table: &'static str,
        key: &RecordKey,
    ) -> StoreResult<String> {
        if let Some(found) = self.points.body(table, key) {
            return found;
        }
        let mut query = QueryBuilder::<Db>::new(format!("SELECT body FROM {table} WHERE "));
        match key {
            RecordKey::Id(id) => query.push("id = ").push_bind(*id),
            RecordKey::Slug(slug) => query.push("slug = ").push_bind(slug.clone()),
        };
        Ok(query.build_query_scalar().fetch_one(&self.read).await?)
    }

    pub async fn organisations(&self, page: PageRequest) -> StoreResult<Vec<Organisation>> {
        let mut query = QueryBuilder::<Db>::new("SELECT body FROM organisations");
        if let Some(Position::Id(after) | Position::Modified(_, after)) = page.after {
            query.push(" WHERE id > ").push_bind(after);
        }
        query
            .push(" ORDER BY id LIMIT ")
            .push_bind(i64::from(page.limit));
        let rows: Vec<String> = query.build_query_scalar().fetch_all(&self.read).await?;
        rows.iter().map(|body| from_json(body)).collect()
    }
}
