//! The domain model's entities, and which records refer to them.

use super::*;

impl Repository {
    pub async fn insert_entity(&self, entity: &Entity, actor: &str) -> StoreResult<()> {
        let body = to_json(entity)?;
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO entities (id, kind, slug, revision, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(entity.id)
        .bind(entity.kind().as_str())
        .bind(entity.details.slug.as_str())
        .bind(entity.revision)
        .bind(body.get())
        .bind(db_time(entity.created_at))
        .bind(db_time(entity.updated_at))
        .execute(&mut *tx)
        .await?;
        insert_references(&mut tx, &entity_references(entity)).await?;
        let change = ChangeRow {
            id: entity.id,
            revision: entity.revision,
            snapshot: Some(&body),
            previous: None,
            at: entity.updated_at,
        };
        record_changes(
            &mut tx,
            EntityType::Entity(entity.kind()),
            Operation::Created,
            actor,
            &[change],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn update_entity(
        &self,
        entity: &Entity,
        expected_revision: i64,
        actor: &str,
    ) -> StoreResult<()> {
        let body = to_json(entity)?;
        let mut tx = self.write.begin().await?;
        let updated: Option<Option<String>> = sqlx::query_scalar(
            "UPDATE entities SET revision = $2, body = $3, updated_at = $4 WHERE id = $1 AND revision = $5 \
             RETURNING (SELECT body FROM revisions WHERE entity_type = $6 AND entity_id = $1 AND revision = $5)",
        )
        .bind(entity.id)
        .bind(entity.revision)
        .bind(body.get())
        .bind(db_time(entity.updated_at))
        .bind(expected_revision)
        .bind(entity.kind().as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let previous = previous_body(&mut tx, "entities", entity.id, updated).await?;
        sqlx::query("DELETE FROM entity_references WHERE source_id = $1")
            .bind(entity.id)
            .execute(&mut *tx)
            .await?;
        insert_references(&mut tx, &entity_references(entity)).await?;
        let change = ChangeRow {
            id: entity.id,
            revision: entity.revision,
            snapshot: Some(&body),
            previous: Some(&previous),
            at: entity.updated_at,
        };
        record_changes(
            &mut tx,
            EntityType::Entity(entity.kind()),
            Operation::Updated,
            actor,
            &[change],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_entity(
        &self,
        kind: EntityKind,
        id: Uuid,
        expected_revision: i64,
        actor: &str,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM entity_references WHERE source_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let deleted: Option<String> = sqlx::query_scalar(
            "DELETE FROM entities WHERE id = $1 AND revision = $2 AND kind = $3 RETURNING body",
        )
        .bind(id)
        .bind(expected_revision)
        .bind(kind.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(previous) = deleted else {
            return Err(missing_or_stale(&mut tx, "entities", id).await);
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
            EntityType::Entity(kind),
            Operation::Deleted,
            actor,
            &[change],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn entity(&self, kind: EntityKind, key: &RecordKey) -> StoreResult<Entity> {
        let query = match key {
            RecordKey::Id(id) => {
                sqlx::query_scalar("SELECT body FROM entities WHERE kind = $1 AND id = $2")
                    .bind(kind.as_str())
                    .bind(*id)
            }
            RecordKey::Slug(slug) => {
                sqlx::query_scalar("SELECT body FROM entities WHERE kind = $1 AND slug = $2")
                    .bind(kind.as_str())
                    .bind(slug.clone())
            }
        };
        let body: String = query.fetch_one(&self.read).await?;
        from_json(&body)
    }

    pub async fn entities(&self, kind: EntityKind, page: PageRequest) -> StoreResult<Vec<Entity>> {
        let mut query = QueryBuilder::<Db>::new("SELECT body FROM entities WHERE kind = ");
        query.push_bind(kind.as_str());
        if let Some(Position::Id(after) | Position::Modified(_, after)) = page.after {
            query.push(" AND id > ").push_bind(after);
        }
        query
            .push(" ORDER BY id LIMIT ")
            .push_bind(i64::from(page.limit));
        let rows: Vec<String> = query.build_query_scalar().fetch_all(&self.read).await?;
        rows.iter().map(|body| from_json(body)).collect()
    }

    pub async fn entities_by_slugs(
        &self,
        slugs: &[(EntityKind, &str)],
    ) -> StoreResult<Vec<Entity>> {
        let mut found = Vec::new();
        for chunk in slugs.chunks(ROWS_PER_INSERT) {
            let mut query = QueryBuilder::<Db>::new("SELECT body FROM entities WHERE ");
            let mut alternatives = query.separated(" OR ");
            for (kind, slug) in chunk {
                alternatives
                    .push("(kind = ")
                    .push_bind_unseparated(kind.as_str())
                    .push_unseparated(" AND slug = ")
                    .push_bind_unseparated(*slug)
                    .push_unseparated(")");
            }
            let rows: Vec<String> = query.build_query_scalar().fetch_all(&self.read).await?;
            for body in &rows {
                found.push(from_json(body)?);
            }
        }
        Ok(found)
    }

    pub async fn entity_slugs_taken(
        &self,
        kind: EntityKind,
        slugs: &[&str],
    ) -> StoreResult<HashSet<String>> {
        let mut taken = HashSet::new();
        for chunk in slugs.chunks(ROWS_PER_INSERT) {
            let mut query = QueryBuilder::<Db>::new("SELECT slug FROM entities WHERE kind = ");
            query.push_bind(kind.as_str()).push(" AND slug IN (");
            let mut list = query.separated(", ");
            for slug in chunk {
                list.push_bind(*slug);
            }
            query.push(")");
            let found: Vec<String> = query.build_query_scalar().fetch_all(&self.read).await?;
            taken.extend(found);
        }
        Ok(taken)
    }
}

pub(super) fn entity_references(entity: &Entity) -> Vec<(Uuid, EntityKind, &str)> {
    entity
        .details
        .facts
        .references()
        .into_iter()
        .map(|(kind, slug, _)| (entity.id, kind, slug.as_str()))
        .collect()
}

/// Records references (each once); the foreign key refuses one to an entity that does not exist.
pub(super) async fn insert_references(
    tx: &mut Tx,
    references: &[(Uuid, EntityKind, &str)],
) -> StoreResult<()> {
    let rows: BTreeSet<(Uuid, &str, &str)> = references
        .iter()
        .map(|(id, kind, slug)| (*id, kind.as_str(), *slug))
        .collect();
    let rows: Vec<_> = rows.into_iter().collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut query =
            QueryBuilder::<Db>::new("INSERT INTO entity_references (source_id, kind, slug) ");
        query.push_values(chunk, |mut row, (id, kind, slug)| {
            row.push_bind(*id).push_bind(*kind).push_bind(*slug);
        });
        query.build().execute(&mut **tx).await?;
    }
    Ok(())
}
