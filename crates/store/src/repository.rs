// The SQL shared by both backends. This file is `include!`d by `sqlite.rs` and `postgres.rs`, each of
// which defines `Db` (the sqlx database), `db_time` (how an instant is bound for comparisons) and
// `lock_change_feed` (how change-feed appends are put in commit order) before including it.
// Placeholders are `$n`, which SQLite also binds by number.

use std::collections::{BTreeSet, HashSet};

use fathom_model::{AccessRequest, Agreement, CategoryType, Grant, Publication, Concept, Dataset, Entity, EntityKind, EventDraft, HarvestJob, HarvestSource, Organisation, ProfileVersion, Role, Version, Vocabulary};
use serde_json::value::RawValue;
use sqlx::{Pool, QueryBuilder, Row, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    ApiToken, Change, ConceptFilter, DatasetFilter, DatasetLink, DeadLetter, EntityType, LinkFound, Walk, EventTarget, Harvested, HarvestFilter, IdempotencyClaim, OutboxEvent, Operation, PageRequest,
    Position, RecordJson, RecordKey, Revision, StoreError, StoreResult, Tombstone, User, Webhook,
};

/// Rows per multi-row `INSERT`, well inside both databases' limits on bound parameters.
const ROWS_PER_INSERT: usize = 500;

/// The repositories of one backend: a pool for reads and one for writes (the same pool on
/// PostgreSQL; on SQLite a single writer connection, so writers queue instead of failing as busy).
#[derive(Debug, Clone)]
pub struct Repository {
    read: Pool<Db>,
    write: Pool<Db>,
    /// The backend's fast path for single-record reads, if it has one.
    points: PointReads,
}

type Tx = Transaction<'static, Db>;

impl Repository {
    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.write).await?;
        self.chain_audit_log().await
    }

    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }

    pub async fn insert_organisation(&self, organisation: &Organisation, actor: &str) -> StoreResult<()> {
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
        let change = ChangeRow { id: organisation.id, revision: organisation.revision, snapshot: Some(&body), previous: None, at: organisation.updated_at };
        record_changes(&mut tx, EntityType::Organisation, Operation::Created, actor, &[change]).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn update_organisation(&self, organisation: &Organisation, expected_revision: i64, actor: &str) -> StoreResult<()> {
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
        let change = ChangeRow { id: organisation.id, revision: organisation.revision, snapshot: Some(&body), previous: Some(&previous), at: organisation.updated_at };
        record_changes(&mut tx, EntityType::Organisation, Operation::Updated, actor, &[change]).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_organisation(&self, id: Uuid, expected_revision: i64, actor: &str) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        let deleted: Option<String> = sqlx::query_scalar("DELETE FROM organisations WHERE id = $1 AND revision = $2 RETURNING body")
            .bind(id)
            .bind(expected_revision)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(previous) = deleted else {
            return Err(missing_or_stale(&mut tx, "organisations", id).await);
        };
        let change = ChangeRow { id, revision: expected_revision + 1, snapshot: None, previous: Some(&previous), at: crate::now() };
        record_changes(&mut tx, EntityType::Organisation, Operation::Deleted, actor, &[change]).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn organisation(&self, key: &RecordKey) -> StoreResult<Organisation> {
        from_json(&self.body_by_key("organisations", key).await?)
    }

    /// The stored JSON of the record of `table` with this id or slug.
    async fn body_by_key(&self, table: &'static str, key: &RecordKey) -> StoreResult<String> {
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
        query.push(" ORDER BY id LIMIT ").push_bind(i64::from(page.limit));
        let rows: Vec<String> = query.build_query_scalar().fetch_all(&self.read).await?;
        rows.iter().map(|body| from_json(body)).collect()
    }

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
        let change = ChangeRow { id: entity.id, revision: entity.revision, snapshot: Some(&body), previous: None, at: entity.updated_at };
        record_changes(&mut tx, EntityType::Entity(entity.kind()), Operation::Created, actor, &[change]).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn update_entity(&self, entity: &Entity, expected_revision: i64, actor: &str) -> StoreResult<()> {
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
        sqlx::query("DELETE FROM entity_references WHERE source_id = $1").bind(entity.id).execute(&mut *tx).await?;
        insert_references(&mut tx, &entity_references(entity)).await?;
        let change = ChangeRow { id: entity.id, revision: entity.revision, snapshot: Some(&body), previous: Some(&previous), at: entity.updated_at };
        record_changes(&mut tx, EntityType::Entity(entity.kind()), Operation::Updated, actor, &[change]).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_entity(&self, kind: EntityKind, id: Uuid, expected_revision: i64, actor: &str) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM entity_references WHERE source_id = $1").bind(id).execute(&mut *tx).await?;
        let deleted: Option<String> = sqlx::query_scalar("DELETE FROM entities WHERE id = $1 AND revision = $2 AND kind = $3 RETURNING body")
            .bind(id)
            .bind(expected_revision)
            .bind(kind.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(previous) = deleted else {
            return Err(missing_or_stale(&mut tx, "entities", id).await);
        };
        let change = ChangeRow { id, revision: expected_revision + 1, snapshot: None, previous: Some(&previous), at: crate::now() };
        record_changes(&mut tx, EntityType::Entity(kind), Operation::Deleted, actor, &[change]).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn entity(&self, kind: EntityKind, key: &RecordKey) -> StoreResult<Entity> {
        let query = match key {
            RecordKey::Id(id) => sqlx::query_scalar("SELECT body FROM entities WHERE kind = $1 AND id = $2").bind(kind.as_str()).bind(*id),
            RecordKey::Slug(slug) => sqlx::query_scalar("SELECT body FROM entities WHERE kind = $1 AND slug = $2").bind(kind.as_str()).bind(slug.clone()),
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
        query.push(" ORDER BY id LIMIT ").push_bind(i64::from(page.limit));
        let rows: Vec<String> = query.build_query_scalar().fetch_all(&self.read).await?;
        rows.iter().map(|body| from_json(body)).collect()
    }

    pub async fn entity_slugs_taken(&self, kind: EntityKind, slugs: &[&str]) -> StoreResult<HashSet<String>> {
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

    pub async fn insert_dataset(&self, dataset: &Dataset, actor: &str) -> StoreResult<()> {
        self.insert_datasets(std::slice::from_ref(dataset), actor).await
    }

    /// Multi-row statements: a few round trips per few hundred records, not four per record.
    pub async fn insert_datasets(&self, datasets: &[Dataset], actor: &str) -> StoreResult<()> {
        let bodies = datasets.iter().map(to_json).collect::<StoreResult<Vec<_>>>()?;
        let mut tx = self.write.begin().await?;
        for (chunk, bodies) in datasets.chunks(ROWS_PER_INSERT).zip(bodies.chunks(ROWS_PER_INSERT)) {
            let mut query = QueryBuilder::<Db>::new(
                "INSERT INTO datasets (id, slug, organisation, state, classification, revision, body, created_at, updated_at) ",
            );
            query.push_values(chunk.iter().zip(bodies), |mut row, (dataset, body)| {
                row.push_bind(dataset.id)
                    .push_bind(dataset.metadata.slug.as_str())
                    .push_bind(dataset.metadata.organisation.as_str())
                    .push_bind(dataset.state.as_str())
                    .push_bind(dataset.metadata.security_label.classification.as_str())
                    .push_bind(dataset.revision)
                    .push_bind(body.get())
                    .push_bind(db_time(dataset.created_at))
                    .push_bind(db_time(dataset.updated_at));
            });
            query.build().execute(&mut *tx).await?;
            insert_keywords(&mut tx, chunk).await?;
            insert_label_values(&mut tx, chunk).await?;
            insert_references(&mut tx, &chunk.iter().flat_map(dataset_references).collect::<Vec<_>>()).await?;
            insert_links(&mut tx, chunk).await?;
            let changes: Vec<ChangeRow> = chunk
                .iter()
                .zip(bodies)
                .map(|(dataset, body)| ChangeRow { id: dataset.id, revision: dataset.revision, snapshot: Some(body), previous: None, at: dataset.updated_at })
                .collect();
            record_changes(&mut tx, EntityType::Dataset, Operation::Created, actor, &changes).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn update_dataset(&self, update: crate::DatasetUpdate<'_>, actor: &str) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        update_dataset(&mut tx, update, actor).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn publication(&self, dataset: Uuid) -> StoreResult<Option<Publication>> {
        let body: Option<String> = sqlx::query_scalar("SELECT body FROM publications WHERE dataset_id = $1").bind(dataset).fetch_optional(&self.read).await?;
        body.map(|body| from_json(&body)).transpose()
    }

    /// The dataset workflows in which something waits for a reviewer (`releases`: for a release
    /// officer), at most `limit`.
    pub async fn open_publications(&self, releases: bool, after: Option<Uuid>, limit: u32) -> StoreResult<Vec<Publication>> {
        let mut query = QueryBuilder::<Db>::new("SELECT body FROM publications WHERE ");
        query.push(if releases { "release_open" } else { "review_open" });
        if let Some(after) = after {
            query.push(" AND dataset_id > ").push_bind(after);
        }
        query.push(" ORDER BY dataset_id LIMIT ").push_bind(i64::from(limit));
        let bodies: Vec<String> = query.build_query_scalar().fetch_all(&self.read).await?;
        bodies.iter().map(|body| from_json(body)).collect()
    }

    /// Proposed agreements one of `organisations` is a party to, at most `limit`.
    pub async fn proposed_agreements(&self, organisations: &[&str], limit: u32) -> StoreResult<Vec<Agreement>> {
        let mut query = QueryBuilder::<Db>::new(
            "SELECT body FROM agreements WHERE state = 'proposed' AND id IN (SELECT agreement_id FROM agreement_parties WHERE organisation IN ",
        );
        push_texts(&mut query, organisations);
        query.push(") ORDER BY id LIMIT ").push_bind(i64::from(limit));
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
            let actor = notice.and_then(|n| n.audit.actor.as_deref()).unwrap_or("fathom");
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
            record_notice(&mut tx, EntityType::Publication, publication.dataset, publication.revision, &body, notice).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_dataset(&self, id: Uuid, expected_revision: i64, actor: &str) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM entity_references WHERE source_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM publications WHERE dataset_id = $1").bind(id).execute(&mut *tx).await?;
        let deleted: Option<String> = sqlx::query_scalar("DELETE FROM datasets WHERE id = $1 AND revision = $2 RETURNING body")
            .bind(id)
            .bind(expected_revision)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(previous) = deleted else {
            return Err(missing_or_stale(&mut tx, "datasets", id).await);
        };
        let at = crate::now();
        #[derive(serde::Deserialize)]
        struct Owner {
            organisation: String,
            security_label: Box<RawValue>,
        }
        let owner: Owner = from_json(&previous)?;
        sqlx::query("INSERT INTO dataset_tombstones (id, organisation, label, deleted_at) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(owner.organisation)
            .bind(owner.security_label.get())
            .bind(db_time(at))
            .execute(&mut *tx)
            .await?;
        let change = ChangeRow { id, revision: expected_revision + 1, snapshot: None, previous: Some(&previous), at };
        record_changes(&mut tx, EntityType::Dataset, Operation::Deleted, actor, &[change]).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn dataset(&self, key: &RecordKey) -> StoreResult<Dataset> {
        from_json(self.dataset_json(key).await?.json.get())
    }

    pub async fn dataset_json(&self, key: &RecordKey) -> StoreResult<RecordJson> {
        if let Some(found) = self.points.dataset_json(key) {
            return found;
        }
        let query = match key {
            RecordKey::Id(id) => sqlx::query("SELECT id, revision, updated_at, body FROM datasets WHERE id = $1").bind(*id),
            RecordKey::Slug(slug) => sqlx::query("SELECT id, revision, updated_at, body FROM datasets WHERE slug = $1").bind(slug.clone()),
        };
        record_json(&query.fetch_one(&self.read).await?)
    }

    pub async fn dataset_slug_taken(&self, slug: &str) -> StoreResult<bool> {
        let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM datasets WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.read)
            .await?;
        Ok(found.is_some())
    }

    pub async fn dataset_slugs_taken(&self, slugs: &[&str]) -> StoreResult<HashSet<String>> {
        let mut taken = HashSet::new();
        for chunk in slugs.chunks(ROWS_PER_INSERT) {
            let mut query = QueryBuilder::<Db>::new("SELECT slug FROM datasets WHERE slug IN (");
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

    pub async fn datasets(&self, filter: &DatasetFilter, page: PageRequest) -> StoreResult<Vec<Dataset>> {
        let rows = self.datasets_json(filter, page).await?;
        rows.iter().map(|row| from_json(row.json.get())).collect()
    }

    /// Keyset pages that cost the same at any depth: each filter and each order has its index. With a
    /// keyword, the order is taken from the keyword index (`k.dataset_id`, equal to `d.id`) so that no
    /// sort is needed.
    pub async fn datasets_json(&self, filter: &DatasetFilter, page: PageRequest) -> StoreResult<Vec<RecordJson>> {
        let mut query = QueryBuilder::<Db>::new("SELECT d.id, d.revision, d.updated_at, d.body FROM datasets d");
        let id = if filter.keyword.is_some() { "k.dataset_id" } else { "d.id" };
        if let Some(keyword) = &filter.keyword {
            query.push(" JOIN dataset_keywords k ON k.dataset_id = d.id AND k.keyword = ").push_bind(keyword.to_lowercase());
        }
        query.push(" WHERE 1 = 1");
        if let Some(organisation) = &filter.organisation {
            query.push(" AND d.organisation = ").push_bind(organisation.clone());
        }
        if let Some(readable) = &filter.readable {
            push_readable(&mut query, readable);
        }
        match (filter.modified_since, page.after) {
            (Some(since), after) => {
                query.push(" AND d.updated_at >= ").push_bind(db_time(since));
                match after {
                    Some(Position::Modified(at, after)) => {
                        query.push(" AND (d.updated_at, d.id) > (").push_bind(db_time(at)).push(", ").push_bind(after).push(")");
                    }
                    Some(Position::Id(_)) => return Err(StoreError::Database(sqlx::Error::Protocol("a creation-order position in a list of changes".into()))),
                    None => {}
                }
                query.push(" ORDER BY d.updated_at, d.id");
            }
            (None, after) => {
                if let Some(Position::Id(after) | Position::Modified(_, after)) = after {
                    query.push(format_args!(" AND {id} > ")).push_bind(after);
                }
                query.push(format_args!(" ORDER BY {id}"));
            }
        }
        query.push(" LIMIT ").push_bind(i64::from(page.limit));
        let rows = query.build().fetch_all(&self.read).await?;
        rows.iter().map(record_json).collect()
    }

    /// Two keyset scans in order of change, live datasets and tombstones, merged.
    pub async fn harvest(&self, filter: &HarvestFilter, after: Option<(OffsetDateTime, Uuid)>, limit: u32) -> StoreResult<Vec<Harvested>> {
        let mut live = QueryBuilder::<Db>::new("SELECT d.id, d.revision, d.updated_at, d.body FROM datasets d WHERE 1 = 1");
        push_harvest_filter(&mut live, filter, "d.updated_at", "d.organisation");
        if let Some(readable) = &filter.readable {
            push_readable(&mut live, readable);
        }
        if let Some((at, id)) = after {
            live.push(" AND (d.updated_at, d.id) > (").push_bind(db_time(at)).push(", ").push_bind(id).push(")");
        }
        live.push(" ORDER BY d.updated_at, d.id LIMIT ").push_bind(i64::from(limit));
        let live = live.build().fetch_all(&self.read).await?;

        let mut deleted = QueryBuilder::<Db>::new("SELECT id, organisation, label, deleted_at FROM dataset_tombstones WHERE 1 = 1");
        push_harvest_filter(&mut deleted, filter, "deleted_at", "organisation");
        if let Some((at, id)) = after {
            deleted.push(" AND (deleted_at, id) > (").push_bind(db_time(at)).push(", ").push_bind(id).push(")");
        }
        deleted.push(" ORDER BY deleted_at, id LIMIT ").push_bind(i64::from(limit));
        let deleted = deleted.build().fetch_all(&self.read).await?;

        let mut merged = live.iter().map(|row| record_json(row).map(Harvested::Live)).collect::<StoreResult<Vec<_>>>()?;
        for row in &deleted {
            merged.push(Harvested::Deleted(tombstone(row)?));
        }
        merged.sort_by_key(Harvested::position);
        merged.truncate(limit as usize);
        Ok(merged)
    }

    pub async fn harvest_extent(&self, filter: &HarvestFilter) -> StoreResult<(u64, Vec<Tombstone>)> {
        let mut live = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM datasets d WHERE 1 = 1");
        push_harvest_filter(&mut live, filter, "d.updated_at", "d.organisation");
        if let Some(readable) = &filter.readable {
            push_readable(&mut live, readable);
        }
        let count: i64 = live.build_query_scalar().fetch_one(&self.read).await?;
        let mut deleted = QueryBuilder::<Db>::new("SELECT id, organisation, label, deleted_at FROM dataset_tombstones WHERE 1 = 1");
        push_harvest_filter(&mut deleted, filter, "deleted_at", "organisation");
        let tombstones = deleted.build().fetch_all(&self.read).await?.iter().map(tombstone).collect::<StoreResult<_>>()?;
        Ok((u64::try_from(count).unwrap_or_default(), tombstones))
    }

    pub async fn tombstone(&self, id: Uuid) -> StoreResult<Option<Tombstone>> {
        let row = sqlx::query("SELECT id, organisation, label, deleted_at FROM dataset_tombstones WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(tombstone).transpose()
    }

    pub async fn server_secret(&self, name: &str, fresh: &[u8]) -> StoreResult<Vec<u8>> {
        sqlx::query("INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(fresh)
            .execute(&self.write)
            .await?;
        Ok(sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1").bind(name).fetch_one(&self.read).await?)
    }

    pub async fn revisions(&self, entity_type: EntityType, id: Uuid, after_revision: i64, limit: u32) -> StoreResult<Vec<Revision>> {
        let rows = sqlx::query(
            "SELECT revision, operation, actor, recorded_at FROM revisions \
             WHERE entity_type = $1 AND entity_id = $2 AND revision > $3 ORDER BY revision LIMIT $4",
        )
        .bind(entity_type.as_str())
        .bind(id)
        .bind(after_revision)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(|row| revision_from_row(row, None)).collect()
    }

    pub async fn revision(&self, entity_type: EntityType, id: Uuid, revision: i64) -> StoreResult<Revision> {
        let row = sqlx::query(
            "SELECT revision, operation, actor, recorded_at, body FROM revisions \
             WHERE entity_type = $1 AND entity_id = $2 AND revision = $3",
        )
        .bind(entity_type.as_str())
        .bind(id)
        .bind(revision)
        .fetch_one(&self.read)
        .await?;
        let snapshot: Option<String> = row.try_get("body")?;
        revision_from_row(&row, snapshot.as_deref().map(from_json).transpose()?)
    }

    pub async fn walk_links(&self, link: DatasetLink, starts: &[Uuid], walk: Walk, depth: u32) -> StoreResult<Vec<LinkFound>> {
        if starts.is_empty() || depth == 0 {
            return Ok(Vec::new());
        }
        // Upstream follows dataset → target; downstream target → dataset. UNION (not ALL) and the
        // depth bound end the walk even on a cycle, which writes refuse anyway.
        let (from, to) = match walk {
            Walk::Upstream => ("dataset_id", "target_id"),
            Walk::Downstream => ("target_id", "dataset_id"),
        };
        let mut query = QueryBuilder::<Db>::new(
            "WITH RECURSIVE walk (dataset_id, target_id, depth) AS (\
             SELECT dataset_id, target_id, 1 FROM dataset_links WHERE relation = ",
        );
        query.push_bind(link.as_str()).push(format_args!(" AND {from} IN ("));
        let mut list = query.separated(", ");
        for start in starts {
            list.push_bind(*start);
        }
        query
            .push(format_args!(
                ") UNION SELECT l.dataset_id, l.target_id, w.depth + 1 FROM dataset_links l JOIN walk w ON l.{from} = w.{to} \
                 WHERE l.relation = "
            ))
            .push_bind(link.as_str())
            .push(" AND w.depth < ")
            .push_bind(i32::try_from(depth).unwrap_or(i32::MAX))
            .push(") SELECT dataset_id, target_id, MIN(depth) AS depth FROM walk GROUP BY dataset_id, target_id ORDER BY 3, 1, 2");
        let rows = query.build().fetch_all(&self.read).await?;
        rows.iter()
            .map(|row| Ok(LinkFound { dataset: row.try_get("dataset_id")?, target: row.try_get("target_id")?, depth: row.try_get("depth")? }))
            .collect()
    }

    pub async fn revision_at(&self, entity_type: EntityType, id: Uuid, at: OffsetDateTime) -> StoreResult<Option<i64>> {
        let revision: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(revision) FROM revisions WHERE entity_type = $1 AND entity_id = $2 AND recorded_at <= $3",
        )
        .bind(entity_type.as_str())
        .bind(id)
        .bind(db_time(at))
        .fetch_one(&self.read)
        .await?;
        Ok(revision)
    }

    pub async fn save_vocabulary(&self, vocabulary: &Vocabulary, concepts: &[Concept], expected_revision: Option<i64>) -> StoreResult<()> {
        let body = to_json(vocabulary)?;
        let mut tx = self.write.begin().await?;
        match expected_revision {
            None => {
                sqlx::query(
                    "INSERT INTO vocabularies (id, slug, iri, revision, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(vocabulary.id)
                .bind(vocabulary.slug.as_str())
                .bind(&vocabulary.iri)
                .bind(vocabulary.revision)
                .bind(body.get())
                .bind(db_time(vocabulary.created_at))
                .bind(db_time(vocabulary.updated_at))
                .execute(&mut *tx)
                .await?;
            }
            Some(expected) => {
                let updated = sqlx::query(
                    "UPDATE vocabularies SET iri = $2, revision = $3, body = $4, updated_at = $5 WHERE id = $1 AND revision = $6",
                )
                .bind(vocabulary.id)
                .bind(&vocabulary.iri)
                .bind(vocabulary.revision)
                .bind(body.get())
                .bind(db_time(vocabulary.updated_at))
                .bind(expected)
                .execute(&mut *tx)
                .await?;
                if updated.rows_affected() == 0 {
                    return Err(missing_or_stale(&mut tx, "vocabularies", vocabulary.id).await);
                }
                for table in ["concepts", "concept_labels", "concept_broader"] {
                    sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE vocabulary_id = $1")))
                        .bind(vocabulary.id)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        let bodies = concepts.iter().map(to_json).collect::<StoreResult<Vec<_>>>()?;
        let id = vocabulary.id;
        for (chunk, bodies) in concepts.chunks(ROWS_PER_INSERT).zip(bodies.chunks(ROWS_PER_INSERT)) {
            let mut query = QueryBuilder::<Db>::new("INSERT INTO concepts (vocabulary_id, iri, notation, sort_label, top, body) ");
            query.push_values(chunk.iter().zip(bodies), |mut row, (concept, body)| {
                row.push_bind(id)
                    .push_bind(concept.iri.as_str())
                    .push_bind(concept.notation.as_deref())
                    .push_bind(concept.display_label().to_lowercase())
                    .push_bind(concept.top)
                    .push_bind(body.get());
            });
            query.build().execute(&mut *tx).await?;
        }
        let labels: Vec<(String, &str)> = concepts.iter().flat_map(|c| c.names().into_iter().map(move |name| (name, c.iri.as_str()))).collect();
        for chunk in labels.chunks(ROWS_PER_INSERT) {
            let mut query = QueryBuilder::<Db>::new("INSERT INTO concept_labels (vocabulary_id, label, iri) ");
            query.push_values(chunk, |mut row, (label, iri)| {
                row.push_bind(id).push_bind(label.as_str()).push_bind(*iri);
            });
            query.build().execute(&mut *tx).await?;
        }
        let broader: Vec<(&str, &str)> = concepts.iter().flat_map(|c| c.broader.iter().map(move |b| (c.iri.as_str(), b.as_str()))).collect();
        for chunk in broader.chunks(ROWS_PER_INSERT) {
            let mut query = QueryBuilder::<Db>::new("INSERT INTO concept_broader (vocabulary_id, iri, broader) ");
            query.push_values(chunk, |mut row, (iri, broader)| {
                row.push_bind(id).push_bind(*iri).push_bind(*broader);
            });
            query.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn vocabulary(&self, key: &RecordKey) -> StoreResult<Vocabulary> {
        from_json(&self.body_by_key("vocabularies", key).await?)
    }

    pub async fn vocabularies(&self) -> StoreResult<Vec<Vocabulary>> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT body FROM vocabularies ORDER BY slug").fetch_all(&self.read).await?;
        rows.iter().map(|body| from_json(body)).collect()
    }

    pub async fn delete_vocabulary(&self, id: Uuid) -> StoreResult<()> {
        let deleted = sqlx::query("DELETE FROM vocabularies WHERE id = $1").bind(id).execute(&self.write).await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn concepts(&self, vocabulary: Uuid, filter: &ConceptFilter) -> StoreResult<Vec<Concept>> {
        let mut query = QueryBuilder::<Db>::new("SELECT c.body FROM concepts c WHERE c.vocabulary_id = ");
        query.push_bind(vocabulary);
        if let Some(prefix) = &filter.prefix {
            // A prefix is the range [prefix, prefix + the greatest character) of the label index.
            query
                .push(" AND c.iri IN (SELECT iri FROM concept_labels WHERE vocabulary_id = ")
                .push_bind(vocabulary)
                .push(" AND label >= ")
                .push_bind(prefix.clone())
                .push(" AND label < ")
                .push_bind(format!("{prefix}{}", char::MAX))
                .push(")");
        }
        if let Some(broader) = &filter.broader {
            query
                .push(" AND c.iri IN (SELECT iri FROM concept_broader WHERE vocabulary_id = ")
                .push_bind(vocabulary)
                .push(" AND broader = ")
                .push_bind(broader.clone())
                .push(")");
        }
        if filter.top {
            query.push(" AND c.top = ").push_bind(true);
        }
        if let Some((label, iri)) = &filter.after {
            query.push(" AND (c.sort_label, c.iri) > (").push_bind(label.clone()).push(", ").push_bind(iri.clone()).push(")");
        }
        query.push(" ORDER BY c.sort_label, c.iri LIMIT ").push_bind(i64::from(filter.limit));
        let rows: Vec<String> = query.build_query_scalar().fetch_all(&self.read).await?;
        rows.iter().map(|body| from_json(body)).collect()
    }

    pub async fn concept(&self, vocabulary: Uuid, key: &str) -> StoreResult<Concept> {
        let body: String = sqlx::query_scalar(
            "SELECT body FROM concepts WHERE vocabulary_id = $1 AND (iri = $2 OR notation = $2) ORDER BY iri = $2 DESC LIMIT 1",
        )
        .bind(vocabulary)
        .bind(key)
        .fetch_one(&self.read)
        .await?;
        from_json(&body)
    }

    pub async fn concept_values_found(&self, vocabularies: &[Uuid], values: &[&str]) -> StoreResult<HashSet<String>> {
        let mut found = HashSet::new();
        if vocabularies.is_empty() {
            return Ok(found);
        }
        for chunk in values.chunks(ROWS_PER_INSERT) {
            let mut query = QueryBuilder::<Db>::new("SELECT iri FROM concepts WHERE vocabulary_id IN (");
            push_list(&mut query, vocabularies.iter().copied());
            query.push(") AND iri IN (");
            push_list(&mut query, chunk.iter().map(|v| (*v).to_owned()));
            query.push(") UNION SELECT label FROM concept_labels WHERE vocabulary_id IN (");
            push_list(&mut query, vocabularies.iter().copied());
            query.push(") AND label IN (");
            push_list(&mut query, chunk.iter().map(|v| v.to_lowercase()));
            query.push(")");
            let rows: Vec<String> = query.build_query_scalar().fetch_all(&self.read).await?;
            found.extend(rows);
        }
        Ok(found)
    }

    pub async fn narrower_concepts(&self, values: &[&str]) -> StoreResult<Vec<Concept>> {
        // No concept has a NUL in its name (PostgreSQL refuses one in text).
        let values: Vec<&str> = values.iter().copied().filter(|v| !v.contains('\0')).collect();
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::<Db>::new(
            "WITH RECURSIVE named (iri) AS (SELECT iri FROM concepts WHERE iri IN (",
        );
        push_list(&mut query, values.iter().map(|v| (*v).to_owned()));
        query.push(") UNION SELECT iri FROM concept_labels WHERE label IN (");
        push_list(&mut query, values.iter().map(|v| v.to_lowercase()));
        query.push(
            ")), narrower (vocabulary_id, iri) AS (\
             SELECT b.vocabulary_id, b.iri FROM concept_broader b JOIN named n ON b.broader = n.iri \
             UNION SELECT b.vocabulary_id, b.iri FROM concept_broader b JOIN narrower w ON b.broader = w.iri AND b.vocabulary_id = w.vocabulary_id) \
             SELECT c.body FROM concepts c JOIN narrower w ON c.vocabulary_id = w.vocabulary_id AND c.iri = w.iri",
        );
        let rows: Vec<String> = query.build_query_scalar().fetch_all(&self.read).await?;
        rows.iter().map(|body| from_json(body)).collect()
    }

    pub async fn insert_profile_version(&self, version: &ProfileVersion) -> StoreResult<()> {
        let body = to_json(version)?;
        let number = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        sqlx::query("INSERT INTO profile_versions (profile, major, minor, patch, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(version.profile.as_str())
            .bind(number(version.version.major))
            .bind(number(version.version.minor))
            .bind(number(version.version.patch))
            .bind(body.get())
            .bind(db_time(version.created_at))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn profile_versions(&self, profile: Option<&str>) -> StoreResult<Vec<ProfileVersion>> {
        let mut query = QueryBuilder::<Db>::new("SELECT body FROM profile_versions");
        if let Some(profile) = profile {
            query.push(" WHERE profile = ").push_bind(profile.to_owned());
        }
        query.push(" ORDER BY profile, major, minor, patch");
        let rows: Vec<String> = query.build_query_scalar().fetch_all(&self.read).await?;
        rows.iter().map(|body| from_json(body)).collect()
    }

    pub async fn profile_version(&self, profile: &str, version: Version) -> StoreResult<ProfileVersion> {
        let number = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let body: String = sqlx::query_scalar("SELECT body FROM profile_versions WHERE profile = $1 AND major = $2 AND minor = $3 AND patch = $4")
            .bind(profile)
            .bind(number(version.major))
            .bind(number(version.minor))
            .bind(number(version.patch))
            .fetch_one(&self.read)
            .await?;
        from_json(&body)
    }

    pub async fn datasets_by_slugs(&self, slugs: &[&str]) -> StoreResult<Vec<Dataset>> {
        let mut found = Vec::with_capacity(slugs.len());
        for chunk in slugs.chunks(ROWS_PER_INSERT) {
            let mut query = QueryBuilder::<Db>::new("SELECT body FROM datasets WHERE slug IN (");
            let mut list = query.separated(", ");
            for slug in chunk {
                list.push_bind(*slug);
            }
            query.push(")");
            let rows: Vec<String> = query.build_query_scalar().fetch_all(&self.read).await?;
            for body in &rows {
                found.push(from_json(body)?);
            }
        }
        Ok(found)
    }

    pub async fn datasets_by_ids(&self, ids: &[Uuid]) -> StoreResult<Vec<Dataset>> {
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(ROWS_PER_INSERT) {
            let mut query = QueryBuilder::<Db>::new("SELECT body FROM datasets WHERE id IN (");
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            query.push(")");
            let rows: Vec<String> = query.build_query_scalar().fetch_all(&self.read).await?;
            for body in &rows {
                found.push(from_json(body)?);
            }
        }
        Ok(found)
    }

    pub async fn latest_change(&self) -> StoreResult<i64> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM change_feed").fetch_one(&self.read).await?;
        Ok(seq.unwrap_or(0))
    }

    pub async fn changes_since(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<Change>> {
        let rows = sqlx::query(
            "SELECT seq, entity_type, entity_id, revision, operation, recorded_at FROM change_feed \
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                let entity_type: String = row.try_get("entity_type")?;
                let operation: String = row.try_get("operation")?;
                Ok(Change {
                    seq: row.try_get("seq")?,
                    entity_type: EntityType::parse(&entity_type).ok_or_else(|| unknown_value("entity_type", &entity_type))?,
                    entity_id: row.try_get("entity_id")?,
                    revision: row.try_get("revision")?,
                    operation: Operation::parse(&operation).ok_or_else(|| unknown_value("operation", &operation))?,
                    recorded_at: row.try_get("recorded_at")?,
                })
            })
            .collect()
    }

    pub async fn events_after(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<OutboxEvent>> {
        let rows = sqlx::query(
            "SELECT seq, event_id, event_type, entity_id, revision, recorded_at, event_data, event_traceparent FROM change_feed \
             WHERE seq > $1 AND event_data IS NOT NULL ORDER BY seq LIMIT $2",
        )
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                let data: String = row.try_get("event_data")?;
                Ok(OutboxEvent {
                    seq: row.try_get("seq")?,
                    id: row.try_get("event_id")?,
                    event_type: row.try_get("event_type")?,
                    subject: row.try_get("entity_id")?,
                    sequence: row.try_get("revision")?,
                    time: row.try_get("recorded_at")?,
                    data: RawValue::from_string(data).map_err(|e| StoreError::Corrupt(format!("an event's data: {e}")))?,
                    traceparent: row.try_get("event_traceparent")?,
                })
            })
            .collect()
    }

    /// Takes or renews the lease on a target (creating it at `start`) unless another owner holds an
    /// unexpired one; the target's position when the lease is `owner`'s.
    pub async fn lease_event_target(&self, name: &str, owner: &str, start: i64, now: OffsetDateTime, until: OffsetDateTime) -> StoreResult<Option<i64>> {
        let position: Option<i64> = sqlx::query_scalar(
            "INSERT INTO event_targets (name, position, lease_owner, lease_until, heartbeat_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (name) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until, \
             heartbeat_at = excluded.heartbeat_at \
             WHERE event_targets.lease_owner = excluded.lease_owner OR event_targets.lease_owner IS NULL \
             OR event_targets.lease_until < excluded.heartbeat_at \
             RETURNING position",
        )
        .bind(name)
        .bind(start)
        .bind(owner)
        .bind(db_time(until))
        .bind(db_time(now))
        .fetch_optional(&self.write)
        .await?;
        Ok(position)
    }

    pub async fn move_event_target(&self, name: &str, owner: &str, position: i64, now: OffsetDateTime) -> StoreResult<bool> {
        let advanced = sqlx::query("UPDATE event_targets SET position = $3, heartbeat_at = $4 WHERE name = $1 AND lease_owner = $2")
            .bind(name)
            .bind(owner)
            .bind(position)
            .bind(db_time(now))
            .execute(&self.write)
            .await?;
        Ok(advanced.rows_affected() == 1)
    }

    pub async fn release_event_target(&self, name: &str, owner: &str) -> StoreResult<()> {
        sqlx::query("UPDATE event_targets SET lease_owner = NULL, lease_until = NULL WHERE name = $1 AND lease_owner = $2")
            .bind(name)
            .bind(owner)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn event_targets(&self) -> StoreResult<Vec<EventTarget>> {
        let rows = sqlx::query(
            "SELECT t.name, t.position, t.lease_owner, t.heartbeat_at, \
             (SELECT COUNT(*) FROM change_feed c WHERE c.seq > t.position AND c.event_data IS NOT NULL) AS pending, \
             (SELECT MIN(c.recorded_at) FROM change_feed c WHERE c.seq > t.position AND c.event_data IS NOT NULL) AS oldest_pending \
             FROM event_targets t ORDER BY t.name",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(EventTarget {
                    name: row.try_get("name")?,
                    position: row.try_get("position")?,
                    lease_owner: row.try_get("lease_owner")?,
                    heartbeat_at: row.try_get("heartbeat_at")?,
                    pending: row.try_get("pending")?,
                    oldest_pending: row.try_get("oldest_pending")?,
                })
            })
            .collect()
    }

    /// Deletes the events older than `before` that every target heard from since then has passed.
    pub async fn prune_events(&self, before: OffsetDateTime) -> StoreResult<u64> {
        let pruned = sqlx::query(
            "UPDATE change_feed SET event_data = NULL WHERE event_data IS NOT NULL AND recorded_at < $1 AND seq <= \
             COALESCE((SELECT MIN(position) FROM event_targets WHERE heartbeat_at >= $1), seq)",
        )
        .bind(db_time(before))
        .execute(&self.write)
        .await?;
        Ok(pruned.rows_affected())
    }

    pub async fn insert_harvest_source(&self, source: &HarvestSource) -> StoreResult<()> {
        sqlx::query("INSERT INTO harvest_sources (id, name, body, created_at) VALUES ($1, $2, $3, $4)")
            .bind(source.id)
            .bind(source.name.as_str())
            .bind(to_json(source)?.get().to_owned())
            .bind(db_time(source.created_at))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn harvest_sources(&self) -> StoreResult<Vec<HarvestSource>> {
        let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM harvest_sources ORDER BY name").fetch_all(&self.read).await?;
        bodies.iter().map(|body| from_json(body)).collect()
    }

    pub async fn harvest_source(&self, id: Uuid) -> StoreResult<HarvestSource> {
        let body: String = sqlx::query_scalar("SELECT body FROM harvest_sources WHERE id = $1").bind(id).fetch_one(&self.read).await?;
        from_json(&body)
    }

    pub async fn delete_harvest_source(&self, id: Uuid) -> StoreResult<()> {
        let deleted = sqlx::query("DELETE FROM harvest_sources WHERE id = $1").bind(id).execute(&self.write).await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Fails the running jobs whose lease expired before `now` (their harvester stopped), then
    /// starts `job` unless another job of its source is running.
    pub async fn begin_harvest_job(&self, job: &HarvestJob, lease_until: OffsetDateTime, now: OffsetDateTime) -> StoreResult<bool> {
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
        let rows = sqlx::query("SELECT body FROM harvest_jobs WHERE status = 'running' AND lease_until < $1")
            .bind(db_time(now))
            .fetch_all(&self.read)
            .await?;
        let mut expired = 0;
        for row in &rows {
            let body: String = row.try_get("body")?;
            let mut job: HarvestJob = from_json(&body)?;
            job.status = fathom_model::JobStatus::Failed;
            job.finished_at = Some(now);
            job.message = Some("interrupted: the harvester stopped before the job ended (its lease expired)".to_owned());
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
    pub async fn save_harvest_job(&self, job: &HarvestJob, lease_until: OffsetDateTime) -> StoreResult<bool> {
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
        let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM harvest_jobs WHERE source_id = $1 ORDER BY started_at DESC LIMIT $2")
            .bind(source)
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await?;
        bodies.iter().map(|body| from_json(body)).collect()
    }

    /// Remembers which dataset each record of a source became.
    pub async fn record_harvested(&self, source: Uuid, records: &[(String, Uuid)]) -> StoreResult<()> {
        for chunk in records.chunks(ROWS_PER_INSERT) {
            let mut query = QueryBuilder::<Db>::new("INSERT INTO harvested_records (source_id, record_key, dataset_id) ");
            query.push_values(chunk, |mut row, (key, dataset)| {
                row.push_bind(source).push_bind(key.as_str()).push_bind(*dataset);
            });
            query.push(" ON CONFLICT (source_id, record_key) DO UPDATE SET dataset_id = excluded.dataset_id");
            query.build().execute(&self.write).await?;
        }
        Ok(())
    }

    /// The records a source gave, and their datasets.
    pub async fn harvested_records(&self, source: Uuid) -> StoreResult<Vec<(String, Uuid)>> {
        let rows = sqlx::query("SELECT record_key, dataset_id FROM harvested_records WHERE source_id = $1")
            .bind(source)
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(|row| Ok((row.try_get("record_key")?, row.try_get("dataset_id")?))).collect()
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

    pub async fn insert_webhook(&self, webhook: &Webhook) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO webhooks (id, url, event_types, secret, owner, created_by, start_seq, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(webhook.id)
        .bind(webhook.url.as_str())
        .bind(serde_json::to_string(&webhook.event_types).unwrap_or_else(|_| "[]".into()))
        .bind(webhook.secret.as_str())
        .bind(webhook.owner.as_str())
        .bind(webhook.created_by.as_str())
        .bind(webhook.start_seq)
        .bind(db_time(webhook.created_at))
        .execute(&self.write)
        .await?;
        Ok(())
    }

    pub async fn webhooks(&self) -> StoreResult<Vec<Webhook>> {
        let rows = sqlx::query("SELECT id, url, event_types, secret, owner, created_by, start_seq, created_at FROM webhooks ORDER BY id")
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|row| {
                let event_types: String = row.try_get("event_types")?;
                Ok(Webhook {
                    id: row.try_get("id")?,
                    url: row.try_get("url")?,
                    event_types: serde_json::from_str(&event_types).map_err(|e| StoreError::Corrupt(format!("a webhook's event types: {e}")))?,
                    secret: row.try_get("secret")?,
                    owner: row.try_get("owner")?,
                    created_by: row.try_get("created_by")?,
                    start_seq: row.try_get("start_seq")?,
                    created_at: row.try_get("created_at")?,
                })
            })
            .collect()
    }

    pub async fn delete_webhook(&self, webhook: &Webhook) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        let deleted = sqlx::query("DELETE FROM webhooks WHERE id = $1").bind(webhook.id).execute(&mut *tx).await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        for table in ["DELETE FROM event_targets WHERE name = $1", "DELETE FROM dead_letters WHERE target = $1"] {
            sqlx::query(table).bind(webhook.target()).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn dead_letter(&self, letter: &DeadLetter, owner: &str) -> StoreResult<bool> {
        let mut tx = self.write.begin().await?;
        let moved = sqlx::query("UPDATE event_targets SET position = $3 WHERE name = $1 AND lease_owner = $2")
            .bind(letter.target.as_str())
            .bind(owner)
            .bind(letter.seq)
            .execute(&mut *tx)
            .await?;
        if moved.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO dead_letters (target, seq, event_id, attempts, error, failed_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (target, seq) DO UPDATE SET attempts = excluded.attempts, error = excluded.error, failed_at = excluded.failed_at",
        )
        .bind(letter.target.as_str())
        .bind(letter.seq)
        .bind(letter.event_id)
        .bind(letter.attempts)
        .bind(letter.error.as_str())
        .bind(db_time(letter.failed_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn dead_letters(&self, target: &str) -> StoreResult<Vec<DeadLetter>> {
        let rows = sqlx::query("SELECT target, seq, event_id, attempts, error, failed_at FROM dead_letters WHERE target = $1 ORDER BY seq")
            .bind(target)
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(DeadLetter {
                    target: row.try_get("target")?,
                    seq: row.try_get("seq")?,
                    event_id: row.try_get("event_id")?,
                    attempts: row.try_get("attempts")?,
                    error: row.try_get("error")?,
                    failed_at: row.try_get("failed_at")?,
                })
            })
            .collect()
    }

    pub async fn delete_dead_letter(&self, target: &str, seq: i64) -> StoreResult<()> {
        let deleted = sqlx::query("DELETE FROM dead_letters WHERE target = $1 AND seq = $2")
            .bind(target)
            .bind(seq)
            .execute(&self.write)
            .await?;
        if deleted.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    pub async fn insert_user(&self, user: &User, audit: &crate::AuditEvent) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO users (id, name, role, clearance, nationality, communities, memberships, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(user.id)
        .bind(user.name.as_str())
        .bind(user.role.as_str())
        .bind(user.clearance.as_deref())
        .bind(user.nationality.as_deref())
        .bind(serde_json::to_string(&user.communities).unwrap_or_else(|_| "[]".into()))
        .bind(serde_json::to_string(&user.memberships).unwrap_or_else(|_| "[]".into()))
        .bind(db_time(user.created_at))
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn user_by_name(&self, name: &str) -> StoreResult<User> {
        let row = sqlx::query("SELECT id, name, role, clearance, nationality, communities, memberships, created_at FROM users WHERE name = $1")
            .bind(name)
            .fetch_one(&self.read)
            .await?;
        user_from_row(&row)
    }

    pub async fn disabled_users(&self) -> StoreResult<HashSet<String>> {
        let names: Vec<String> = sqlx::query_scalar("SELECT name FROM users WHERE disabled_at IS NOT NULL")
            .fetch_all(&self.read)
            .await?;
        Ok(names.into_iter().collect())
    }

    pub async fn users(&self) -> StoreResult<Vec<User>> {
        let rows = sqlx::query("SELECT id, name, role, clearance, nationality, communities, memberships, created_at FROM users ORDER BY name")
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn admin_exists(&self) -> StoreResult<bool> {
        let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM users WHERE role = 'admin' LIMIT 1")
            .fetch_optional(&self.read)
            .await?;
        Ok(found.is_some())
    }

    pub async fn insert_token(&self, token: &ApiToken, audit: &crate::AuditEvent) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, secret_hash, description, scopes, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token.id)
        .bind(token.user_id)
        .bind(token.secret_hash.as_slice())
        .bind(token.description.as_str())
        .bind(token.scopes.join(" "))
        .bind(db_time(token.created_at))
        .bind(token.expires_at.map(db_time))
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn user_by_token(&self, secret_hash: &[u8], now: OffsetDateTime) -> StoreResult<(User, Vec<String>)> {
        let row = sqlx::query(
            "SELECT u.id, u.name, u.role, u.clearance, u.nationality, u.communities, u.memberships, u.created_at, t.scopes \
             FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.secret_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2) \
             AND u.disabled_at IS NULL",
        )
        .bind(secret_hash)
        .bind(db_time(now))
        .fetch_one(&self.read)
        .await?;
        let scopes: String = row.try_get("scopes")?;
        Ok((user_from_row(&row)?, scopes.split_whitespace().map(str::to_owned).collect()))
    }

    /// Appends an entry chained to the last one: inserted first (so that SQLite's transaction
    /// writes before it reads, and never fails on a snapshot another writer moved), then hashed with
    /// the sequence number it was given, while no other append runs.
    pub async fn append_audit_event(&self, event: &crate::AuditEvent) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        append_audit(&mut tx, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Chains a log written before the log was a chain, once: only when no entry has a hash yet
    /// (an entry whose hash was removed later is a broken link, not something to chain again).
    async fn chain_audit_log(&self) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        lock_audit_log(&mut tx).await?;
        let chained: Option<i64> = sqlx::query_scalar("SELECT seq FROM audit_events WHERE hash IS NOT NULL LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
        if chained.is_some() {
            return Ok(());
        }
        let rows = sqlx::query("SELECT seq, recorded_at, event, actor, subject, details FROM audit_events ORDER BY seq")
            .fetch_all(&mut *tx)
            .await?;
        let mut previous = GENESIS.to_vec();
        for row in &rows {
            let entry = audit_event(row)?;
            let hash = crate::audit_hash(&previous, &entry);
            sqlx::query("UPDATE audit_events SET previous_hash = $2, hash = $3 WHERE seq = $1")
                .bind(entry.seq)
                .bind(&previous)
                .bind(&hash)
                .execute(&mut *tx)
                .await?;
            previous = hash;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn verify_audit_chain(&self) -> StoreResult<crate::ChainReport> {
        let mut expected = GENESIS.to_vec();
        let mut entries = 0_u64;
        let mut after = 0_i64;
        loop {
            let rows = sqlx::query(
                "SELECT seq, recorded_at, event, actor, subject, details, previous_hash, hash FROM audit_events \
                 WHERE seq > $1 ORDER BY seq LIMIT 1000",
            )
            .bind(after)
            .fetch_all(&self.read)
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("seq")?;
            for row in &rows {
                let entry = audit_event(row)?;
                let previous: Option<Vec<u8>> = row.try_get("previous_hash")?;
                let stored: Option<Vec<u8>> = row.try_get("hash")?;
                let broken = |reason: &str| crate::ChainReport {
                    entries,
                    last_hash: None,
                    broken: Some(crate::BrokenLink { seq: entry.seq, reason: reason.to_owned() }),
                };
                if previous.as_deref() != Some(expected.as_slice()) {
                    return Ok(broken("does not hold the hash of the entry before it: an entry before it was changed or removed"));
                }
                let hash = crate::audit_hash(&expected, &entry);
                if stored.as_deref() != Some(hash.as_slice()) {
                    return Ok(broken("its content does not match its hash: it was changed"));
                }
                expected = hash;
                entries += 1;
            }
        }
        Ok(crate::ChainReport {
            entries,
            last_hash: (entries > 0).then(|| expected.iter().map(|b| format!("{b:02x}")).collect()),
            broken: None,
        })
    }

    pub async fn insert_access_request(&self, request: &AccessRequest, notice: &crate::Notice) -> StoreResult<()> {
        let body = to_json(request)?;
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO access_requests (id, dataset_id, requester, state, deadline, revision, body, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(request.id)
        .bind(request.dataset)
        .bind(request.review.requester.as_str())
        .bind(request.review.state.as_str())
        .bind(db_time(request.review.deadline))
        .bind(request.revision)
        .bind(body.get())
        .bind(db_time(request.created_at))
        .bind(db_time(request.updated_at))
        .execute(&mut *tx)
        .await?;
        set_waiting(&mut tx, request).await?;
        record_notice(&mut tx, EntityType::AccessRequest, request.id, request.revision, &body, notice).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes an action on a request read at `expected_revision` (stale: another action came
    /// first, and nothing is written), with the grant its approval made.
    pub async fn update_access_request(
        &self,
        request: &AccessRequest,
        expected_revision: i64,
        notice: &crate::Notice,
        grant: Option<(&Grant, &crate::Notice)>,
    ) -> StoreResult<()> {
        let body = to_json(request)?;
        let mut tx = self.write.begin().await?;
        let updated = sqlx::query("UPDATE access_requests SET state = $2, revision = $3, body = $4, updated_at = $5 WHERE id = $1 AND revision = $6")
            .bind(request.id)
            .bind(request.review.state.as_str())
            .bind(request.revision)
            .bind(body.get())
            .bind(db_time(request.updated_at))
            .bind(expected_revision)
            .execute(&mut *tx)
            .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::StaleRevision);
        }
        set_waiting(&mut tx, request).await?;
        record_notice(&mut tx, EntityType::AccessRequest, request.id, request.revision, &body, notice).await?;
        if let Some((grant, notice)) = grant {
            insert_grant(&mut tx, grant, notice).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn insert_grant(&self, grant: &Grant, notice: &crate::Notice) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        insert_grant(&mut tx, grant, notice).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn access_request(&self, id: Uuid) -> StoreResult<AccessRequest> {
        let body: String = sqlx::query_scalar("SELECT body FROM access_requests WHERE id = $1").bind(id).fetch_one(&self.read).await?;
        from_json(&body)
    }

    /// A page of requests in order of creation: those of `requester`, those waiting for `waiting_for`,
    /// or (neither given) all of them.
    pub async fn access_requests(&self, requester: Option<&str>, waiting_for: Option<&str>, after: Option<Uuid>, limit: u32) -> StoreResult<Vec<AccessRequest>> {
        let mut query = QueryBuilder::<Db>::new("SELECT r.body FROM access_requests r WHERE 1 = 1");
        if let Some(requester) = requester {
            query.push(" AND r.requester = ").push_bind(requester.to_owned());
        }
        if let Some(actor) = waiting_for {
            query.push(" AND r.id IN (SELECT request_id FROM access_request_waiting WHERE actor = ").push_bind(actor.to_owned()).push(")");
        }
        if let Some(after) = after {
            query.push(" AND r.id > ").push_bind(after);
        }
        query.push(" ORDER BY r.id LIMIT ").push_bind(i64::from(limit));
        let bodies: Vec<String> = query.build_query_scalar().fetch_all(&self.read).await?;
        bodies.iter().map(|body| from_json(body)).collect()
    }

    /// Undecided requests whose deadline is at or before `now`.
    pub async fn overdue_access_requests(&self, now: OffsetDateTime, limit: u32) -> StoreResult<Vec<AccessRequest>> {
        let bodies: Vec<String> = sqlx::query_scalar(
            "SELECT body FROM access_requests WHERE state IN ('submitted', 'in_review', 'returned') AND deadline <= $1 ORDER BY deadline LIMIT $2",
        )
        .bind(db_time(now))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        bodies.iter().map(|body| from_json(body)).collect()
    }

    /// The datasets granted at `now` to the user `name` or to one of `organisations`.
    pub async fn granted_datasets(&self, name: &str, organisations: &[&str], now: OffsetDateTime) -> StoreResult<Vec<Uuid>> {
        let mut query = QueryBuilder::<Db>::new("SELECT DISTINCT dataset_id FROM grants WHERE revoked_at IS NULL AND starts_at <= ");
        query.push_bind(db_time(now)).push(" AND ends_at > ").push_bind(db_time(now));
        query.push(" AND ((grantee_type = 'user' AND grantee = ").push_bind(name.to_owned()).push(")");
        if !organisations.is_empty() {
            query.push(" OR (grantee_type = 'organisation' AND grantee IN (");
            let mut list = query.separated(", ");
            for organisation in organisations {
                list.push_bind((*organisation).to_owned());
            }
            query.push("))");
        }
        query.push(")");
        Ok(query.build_query_scalar().fetch_all(&self.read).await?)
    }

    /// A page of grants in order of creation, of one grantee or on one dataset (or all).
    pub async fn grants_by_ids(&self, ids: &[Uuid]) -> StoreResult<Vec<Grant>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::<Db>::new("SELECT body FROM grants WHERE id IN (");
        let mut list = query.separated(", ");
        for id in ids {
            list.push_bind(*id);
        }
        query.push(") ORDER BY id");
        let bodies: Vec<String> = query.build_query_scalar().fetch_all(&self.read).await?;
        bodies.iter().map(|body| from_json(body)).collect()
    }

    pub async fn grants(&self, filter: &crate::GrantFilter, after: Option<Uuid>, limit: u32) -> StoreResult<Vec<Grant>> {
        let mut query = QueryBuilder::<Db>::new("SELECT body FROM grants WHERE 1 = 1");
        if !filter.grantees.is_empty() {
            query.push(" AND (");
            for (n, grantee) in filter.grantees.iter().enumerate() {
                let (kind, name) = grantee.parts();
                if n > 0 {
                    query.push(" OR ");
                }
                query.push("(grantee_type = ").push_bind(kind).push(" AND grantee = ").push_bind(name.to_owned()).push(")");
            }
            query.push(")");
        }
        if let Some(dataset) = filter.dataset {
            query.push(" AND dataset_id = ").push_bind(dataset);
        }
        if let Some(after) = after {
            query.push(" AND id > ").push_bind(after);
        }
        query.push(" ORDER BY id LIMIT ").push_bind(i64::from(limit));
        let bodies: Vec<String> = query.build_query_scalar().fetch_all(&self.read).await?;
        bodies.iter().map(|body| from_json(body)).collect()
    }

    pub async fn grant(&self, id: Uuid) -> StoreResult<Grant> {
        let body: String = sqlx::query_scalar("SELECT body FROM grants WHERE id = $1").bind(id).fetch_one(&self.read).await?;
        from_json(&body)
    }

    /// Ends a grant: revoked (`grant.revoked` set) if it was not revoked yet, or its expiry told.
    /// `false` when another writer ended it first.
    pub async fn end_grant(&self, grant: &Grant, notice: &crate::Notice) -> StoreResult<bool> {
        let mut tx = self.write.begin().await?;
        let ended = end_grant(&mut tx, grant, notice).await?;
        tx.commit().await?;
        Ok(ended)
    }

    /// Grants whose period ended at or before `now` and whose end was not told yet.
    pub async fn grants_ended_untold(&self, now: OffsetDateTime, limit: u32) -> StoreResult<Vec<Grant>> {
        let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM grants WHERE ended_at IS NULL AND ends_at <= $1 ORDER BY ends_at LIMIT $2")
            .bind(db_time(now))
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await?;
        bodies.iter().map(|body| from_json(body)).collect()
    }

    pub async fn insert_agreement(&self, agreement: &Agreement, notice: &crate::Notice) -> StoreResult<()> {
        let body = to_json(agreement)?;
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO agreements (id, provider, state, ends_at, revision, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(agreement.id)
        .bind(agreement.provider.as_str())
        .bind(agreement.state.as_str())
        .bind(db_time(agreement.period.end))
        .bind(agreement.revision)
        .bind(body.get())
        .bind(db_time(agreement.created_at))
        .bind(db_time(agreement.updated_at))
        .execute(&mut *tx)
        .await?;
        let mut query = QueryBuilder::<Db>::new("INSERT INTO agreement_parties (organisation, agreement_id) ");
        query.push_values(agreement.parties(), |mut row, party| {
            row.push_bind(party.as_str()).push_bind(agreement.id);
        });
        query.build().execute(&mut *tx).await?;
        record_notice(&mut tx, EntityType::Agreement, agreement.id, agreement.revision, &body, notice).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Writes an action on an agreement read at `expected_revision` (stale: another action came
    /// first, and nothing is written), with the grants it makes and the grants it ends.
    pub async fn update_agreement(
        &self,
        agreement: &Agreement,
        expected_revision: i64,
        notice: &crate::Notice,
        made: &[(Grant, crate::Notice)],
        ended: &[(Grant, crate::Notice)],
    ) -> StoreResult<()> {
        let body = to_json(agreement)?;
        let mut tx = self.write.begin().await?;
        let updated = sqlx::query("UPDATE agreements SET state = $2, revision = $3, body = $4, updated_at = $5 WHERE id = $1 AND revision = $6")
            .bind(agreement.id)
            .bind(agreement.state.as_str())
            .bind(agreement.revision)
            .bind(body.get())
            .bind(db_time(agreement.updated_at))
            .bind(expected_revision)
            .execute(&mut *tx)
            .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::StaleRevision);
        }
        record_notice(&mut tx, EntityType::Agreement, agreement.id, agreement.revision, &body, notice).await?;
        for (grant, notice) in made {
            insert_grant(&mut tx, grant, notice).await?;
        }
        for (grant, notice) in ended {
            end_grant(&mut tx, grant, notice).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn agreement(&self, id: Uuid) -> StoreResult<Agreement> {
        let body: String = sqlx::query_scalar("SELECT body FROM agreements WHERE id = $1").bind(id).fetch_one(&self.read).await?;
        from_json(&body)
    }

    /// A page of agreements in order of creation: those one of `organisations` is a party to, or
    /// (`None`) all of them.
    pub async fn agreements(&self, organisations: Option<&[&str]>, after: Option<Uuid>, limit: u32) -> StoreResult<Vec<Agreement>> {
        let mut query = QueryBuilder::<Db>::new("SELECT a.body FROM agreements a WHERE 1 = 1");
        if let Some(organisations) = organisations {
            query.push(" AND a.id IN (SELECT agreement_id FROM agreement_parties WHERE organisation IN ");
            push_texts(&mut query, organisations);
            query.push(")");
        }
        if let Some(after) = after {
            query.push(" AND a.id > ").push_bind(after);
        }
        query.push(" ORDER BY a.id LIMIT ").push_bind(i64::from(limit));
        let bodies: Vec<String> = query.build_query_scalar().fetch_all(&self.read).await?;
        bodies.iter().map(|body| from_json(body)).collect()
    }

    /// Agreements not yet ended whose period ended at or before `now`.
    pub async fn agreements_past_end(&self, now: OffsetDateTime, limit: u32) -> StoreResult<Vec<Agreement>> {
        let bodies: Vec<String> = sqlx::query_scalar(
            "SELECT body FROM agreements WHERE state IN ('draft', 'proposed', 'active') AND ends_at <= $1 ORDER BY ends_at LIMIT $2",
        )
        .bind(db_time(now))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        bodies.iter().map(|body| from_json(body)).collect()
    }

    pub async fn audit_events(&self, filter: &crate::AuditFilter, after: i64, limit: u32) -> StoreResult<Vec<crate::AuditEvent>> {
        let mut query = QueryBuilder::<Db>::new("SELECT seq, recorded_at, event, actor, subject, details FROM audit_events WHERE seq > ");
        query.push_bind(after);
        for (column, value) in [("actor", &filter.actor), ("subject", &filter.subject), ("event", &filter.event)] {
            if let Some(value) = value {
                query.push(format_args!(" AND {column} = ")).push_bind(value.clone());
            }
        }
        query.push(" ORDER BY seq LIMIT ").push_bind(i64::from(limit));
        let rows = query.build().fetch_all(&self.read).await?;
        rows.iter().map(audit_event).collect()
    }

    pub async fn touch_token(&self, secret_hash: &[u8], now: OffsetDateTime) -> StoreResult<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE secret_hash = $1")
            .bind(secret_hash)
            .bind(db_time(now))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn disable_user(&self, name: &str, now: OffsetDateTime, audit: &crate::AuditEvent) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        let disabled = sqlx::query("UPDATE users SET disabled_at = $2 WHERE name = $1 AND disabled_at IS NULL")
            .bind(name)
            .bind(db_time(now))
            .execute(&mut *tx)
            .await?;
        commit_with_audit(tx, disabled.rows_affected(), audit).await
    }

    pub async fn tokens(&self, user: Option<&str>) -> StoreResult<Vec<crate::TokenSummary>> {
        let rows = sqlx::query(
            "SELECT t.id, u.name, t.description, t.scopes, t.created_at, t.expires_at, t.last_used_at, t.revoked_at \
             FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE ($1 IS NULL OR u.name = $1) ORDER BY t.id DESC",
        )
        .bind(user)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                let scopes: String = row.try_get("scopes")?;
                Ok(crate::TokenSummary {
                    id: row.try_get("id")?,
                    user: row.try_get("name")?,
                    description: row.try_get("description")?,
                    scopes: scopes.split_whitespace().map(str::to_owned).collect(),
                    created_at: row.try_get("created_at")?,
                    expires_at: row.try_get("expires_at")?,
                    last_used_at: row.try_get("last_used_at")?,
                    revoked_at: row.try_get("revoked_at")?,
                })
            })
            .collect()
    }

    pub async fn revoke_token(&self, id: Uuid, now: OffsetDateTime, audit: &crate::AuditEvent) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        let revoked = sqlx::query("UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(db_time(now))
            .execute(&mut *tx)
            .await?;
        commit_with_audit(tx, revoked.rows_affected(), audit).await
    }

    pub async fn claim_idempotency_key(&self, principal: Uuid, key: &str, request_hash: &[u8], now: OffsetDateTime) -> StoreResult<IdempotencyClaim> {
        let claimed = sqlx::query(
            "INSERT INTO idempotency_keys (principal, key, request_hash, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (principal, key) DO NOTHING",
        )
        .bind(principal)
        .bind(key)
        .bind(request_hash)
        .bind(db_time(now))
        .execute(&self.write)
        .await?;
        if claimed.rows_affected() == 1 {
            return Ok(IdempotencyClaim::Claimed);
        }
        let row = sqlx::query("SELECT request_hash, status, response FROM idempotency_keys WHERE principal = $1 AND key = $2")
            .bind(principal)
            .bind(key)
            .fetch_one(&self.write)
            .await?;
        let status: Option<i32> = row.try_get("status")?;
        let response: Option<String> = row.try_get("response")?;
        Ok(match (status, response) {
            (Some(status), Some(response)) => IdempotencyClaim::Completed {
                request_hash: row.try_get("request_hash")?,
                status: u16::try_from(status).unwrap_or(500),
                response,
            },
            _ => IdempotencyClaim::InProgress,
        })
    }

    pub async fn complete_idempotency_key(&self, principal: Uuid, key: &str, status: u16, response: &str) -> StoreResult<()> {
        sqlx::query("UPDATE idempotency_keys SET status = $3, response = $4 WHERE principal = $1 AND key = $2")
            .bind(principal)
            .bind(key)
            .bind(i32::from(status))
            .bind(response)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn release_idempotency_key(&self, principal: Uuid, key: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND status IS NULL")
            .bind(principal)
            .bind(key)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn prune_idempotency_keys(&self, before: OffsetDateTime) -> StoreResult<u64> {
        let pruned = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(db_time(before))
            .execute(&self.write)
            .await?;
        Ok(pruned.rows_affected())
    }
}

/// What an update that returns the record's previous revision found: its JSON, or why there is none
/// (the record is gone or at another revision).
async fn previous_body(tx: &mut Tx, table: &'static str, id: Uuid, updated: Option<Option<String>>) -> StoreResult<String> {
    match updated {
        Some(Some(body)) => Ok(body),
        Some(None) => Err(StoreError::Corrupt(format!("a record of {table} without its previous revision"))),
        None => Err(missing_or_stale(tx, table, id).await),
    }
}

/// After an update or delete matched no row: was the record gone, or at another revision?
async fn missing_or_stale(tx: &mut Tx, table: &'static str, id: Uuid) -> StoreError {
    let sql = match table {
        "datasets" => "SELECT 1 FROM datasets WHERE id = $1",
        "entities" => "SELECT 1 FROM entities WHERE id = $1",
        "vocabularies" => "SELECT 1 FROM vocabularies WHERE id = $1",
        _ => "SELECT 1 FROM organisations WHERE id = $1",
    };
    match sqlx::query_scalar::<_, i32>(sql).bind(id).fetch_optional(&mut **tx).await {
        Ok(Some(_)) => StoreError::StaleRevision,
        Ok(None) => StoreError::NotFound,
        Err(error) => error.into(),
    }
}

/// The organisation and the interval of change of a harvest, on the given columns.
fn push_harvest_filter(query: &mut QueryBuilder<Db>, filter: &HarvestFilter, changed_at: &str, organisation: &str) {
    if let Some(slug) = &filter.organisation {
        query.push(format_args!(" AND {organisation} = ")).push_bind(slug.clone());
    }
    if let Some(from) = filter.from {
        query.push(format_args!(" AND {changed_at} >= ")).push_bind(db_time(from));
    }
    if let Some(until) = filter.until {
        query.push(format_args!(" AND {changed_at} < ")).push_bind(db_time(until));
    }
}

/// Commits `tx` with `audit` when its one-row change found its row (`affected`); `NotFound`, with
/// nothing written, when it did not.
async fn commit_with_audit(mut tx: Tx, affected: u64, audit: &crate::AuditEvent) -> StoreResult<()> {
    if affected == 0 {
        return Err(StoreError::NotFound);
    }
    append_audit(&mut tx, audit).await?;
    tx.commit().await?;
    Ok(())
}

/// Appends an audit entry chained to the last one, inside `tx`: inserted first (so that SQLite's
/// transaction writes before it reads, and never fails on a snapshot another writer moved), then
/// hashed with the sequence number it was given, while no other append runs.
async fn append_audit(tx: &mut Tx, event: &crate::AuditEvent) -> StoreResult<()> {
    lock_audit_log(tx).await?;
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO audit_events (recorded_at, event, actor, subject, details) VALUES ($1, $2, $3, $4, $5) RETURNING seq",
    )
    .bind(db_time(event.recorded_at))
    .bind(event.event.as_str())
    .bind(event.actor.as_deref())
    .bind(event.subject.as_deref())
    .bind(event.details.to_string())
    .fetch_one(&mut **tx)
    .await?;
    let previous: Option<Option<Vec<u8>>> = sqlx::query_scalar("SELECT hash FROM audit_events WHERE seq < $1 ORDER BY seq DESC LIMIT 1")
        .bind(seq)
        .fetch_optional(&mut **tx)
        .await?;
    let previous = match previous {
        None => GENESIS.to_vec(),
        Some(Some(hash)) => hash,
        Some(None) => return Err(StoreError::Corrupt("the last audit entry is not chained: run `fathom audit verify`".into())),
    };
    let entry = crate::AuditEvent { seq, ..event.clone() };
    sqlx::query("UPDATE audit_events SET previous_hash = $2, hash = $3 WHERE seq = $1")
        .bind(seq)
        .bind(&previous)
        .bind(crate::audit_hash(&previous, &entry))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Writes what a workflow change tells, inside the change's transaction: a revision of the record
/// (`snapshot`), its event in the change feed (and so the outbox), and its audit entry.
async fn record_notice(tx: &mut Tx, entity_type: EntityType, id: Uuid, revision: i64, snapshot: &RawValue, notice: &crate::Notice) -> StoreResult<()> {
    let operation = if revision == 1 { Operation::Created } else { Operation::Updated };
    let actor = notice.audit.actor.as_deref().unwrap_or("fathom");
    let at = notice.audit.recorded_at;
    sqlx::query("INSERT INTO revisions (entity_type, entity_id, revision, operation, body, actor, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(entity_type.as_str())
        .bind(id)
        .bind(revision)
        .bind(operation.as_str())
        .bind(snapshot.get())
        .bind(actor)
        .bind(db_time(at))
        .execute(&mut **tx)
        .await?;
    lock_change_feed(tx).await?;
    sqlx::query(
        "INSERT INTO change_feed (entity_type, entity_id, revision, operation, recorded_at, event_id, event_type, event_data, event_traceparent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(entity_type.as_str())
    .bind(id)
    .bind(revision)
    .bind(operation.as_str())
    .bind(db_time(at))
    .bind(Uuid::now_v7())
    .bind(notice.event.event_type.as_str())
    .bind(notice.event.data.as_str())
    .bind(crate::trace::current_traceparent().as_deref())
    .execute(&mut **tx)
    .await?;
    append_audit(tx, &notice.audit).await
}

/// Who an access request waits for, as the inbox finds it.
async fn set_waiting(tx: &mut Tx, request: &AccessRequest) -> StoreResult<()> {
    sqlx::query("DELETE FROM access_request_waiting WHERE request_id = $1").bind(request.id).execute(&mut **tx).await?;
    let waiting = request.review.waiting_for();
    if waiting.is_empty() {
        return Ok(());
    }
    let mut query = QueryBuilder::<Db>::new("INSERT INTO access_request_waiting (actor, request_id) ");
    query.push_values(&waiting, |mut row, actor| {
        row.push_bind(actor.as_str()).push_bind(request.id);
    });
    query.build().execute(&mut **tx).await?;
    Ok(())
}

async fn insert_grant(tx: &mut Tx, grant: &Grant, notice: &crate::Notice) -> StoreResult<()> {
    let body = to_json(grant)?;
    let (kind, grantee) = grant.grantee.parts();
    sqlx::query(
        "INSERT INTO grants (id, dataset_id, grantee_type, grantee, starts_at, ends_at, revoked_at, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(grant.id)
    .bind(grant.dataset)
    .bind(kind)
    .bind(grantee)
    .bind(db_time(grant.period.start))
    .bind(db_time(grant.period.end))
    .bind(grant.revoked.as_ref().map(|r| db_time(r.at)))
    .bind(body.get())
    .bind(db_time(grant.created_at))
    .execute(&mut **tx)
    .await?;
    record_notice(tx, EntityType::Grant, grant.id, 1, &body, notice).await
}

/// Ends a grant inside `tx` (see [`Repository::end_grant`]); `false`, with nothing written, when it
/// had ended already.
async fn end_grant(tx: &mut Tx, grant: &Grant, notice: &crate::Notice) -> StoreResult<bool> {
    let body = to_json(grant)?;
    let updated = match &grant.revoked {
        Some(revocation) => sqlx::query("UPDATE grants SET revoked_at = $2, ended_at = $2, body = $3 WHERE id = $1 AND revoked_at IS NULL AND ended_at IS NULL")
            .bind(grant.id)
            .bind(db_time(revocation.at))
            .bind(body.get()),
        None => sqlx::query("UPDATE grants SET ended_at = $2, body = $3 WHERE id = $1 AND ended_at IS NULL")
            .bind(grant.id)
            .bind(db_time(grant.period.end))
            .bind(body.get()),
    }
    .execute(&mut **tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Ok(false);
    }
    record_notice(tx, EntityType::Grant, grant.id, 2, &body, notice).await?;
    Ok(true)
}

/// Replaces a dataset at its expected revision inside `tx`: its row, keywords, label values,
/// references, links, revision, change and the update's audit entry.
async fn update_dataset(tx: &mut Tx, update: crate::DatasetUpdate<'_>, actor: &str) -> StoreResult<()> {
    let crate::DatasetUpdate { dataset, expected_revision, audit } = update;
    let body = to_json(dataset)?;
    let updated: Option<Option<String>> = sqlx::query_scalar(
        "UPDATE datasets SET slug = $2, organisation = $3, state = $4, revision = $5, body = $6, updated_at = $7, \
         classification = $9 WHERE id = $1 AND revision = $8 \
         RETURNING (SELECT body FROM revisions WHERE entity_type = 'dataset' AND entity_id = $1 AND revision = $8)",
    )
    .bind(dataset.id)
    .bind(dataset.metadata.slug.as_str())
    .bind(dataset.metadata.organisation.as_str())
    .bind(dataset.state.as_str())
    .bind(dataset.revision)
    .bind(body.get())
    .bind(db_time(dataset.updated_at))
    .bind(expected_revision)
    .bind(dataset.metadata.security_label.classification.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    let previous = previous_body(tx, "datasets", dataset.id, updated).await?;
    sqlx::query("DELETE FROM dataset_keywords WHERE dataset_id = $1").bind(dataset.id).execute(&mut **tx).await?;
    insert_keywords(tx, std::slice::from_ref(dataset)).await?;
    sqlx::query("DELETE FROM dataset_label_values WHERE dataset_id = $1").bind(dataset.id).execute(&mut **tx).await?;
    insert_label_values(tx, std::slice::from_ref(dataset)).await?;
    sqlx::query("DELETE FROM entity_references WHERE source_id = $1").bind(dataset.id).execute(&mut **tx).await?;
    insert_references(tx, &dataset_references(dataset)).await?;
    sqlx::query("DELETE FROM dataset_links WHERE dataset_id = $1").bind(dataset.id).execute(&mut **tx).await?;
    insert_links(tx, std::slice::from_ref(dataset)).await?;
    let change = ChangeRow { id: dataset.id, revision: dataset.revision, snapshot: Some(&body), previous: Some(&previous), at: dataset.updated_at };
    record_changes(tx, EntityType::Dataset, Operation::Updated, actor, &[change]).await?;
    if let Some(audit) = audit {
        append_audit(tx, audit).await?;
    }
    Ok(())
}

fn tombstone(row: &<Db as sqlx::Database>::Row) -> StoreResult<Tombstone> {
    let label: String = row.try_get("label")?;
    Ok(Tombstone {
        id: row.try_get("id")?,
        organisation: row.try_get("organisation")?,
        label: from_json(&label)?,
        deleted_at: row.try_get("deleted_at")?,
    })
}

/// A parenthesised list of `values` for `IN`, never empty (`''` leads it).
fn push_texts(query: &mut QueryBuilder<Db>, values: &[impl AsRef<str>]) {
    query.push("(").push_bind(String::new());
    for value in values {
        query.push(", ").push_bind(value.as_ref().to_owned());
    }
    query.push(")");
}

/// Only the datasets a reader may see: of a classification they are cleared for, and either granted
/// to them or without a restrictive value they do not hold and without a permissive category none
/// of whose values they hold.
fn push_readable(query: &mut QueryBuilder<Db>, readable: &crate::Readable) {
    query.push(" AND d.classification IN ");
    push_texts(query, &readable.classifications);
    // A granted dataset skips the categories, never the classification.
    query.push(" AND (");
    if !readable.granted.is_empty() {
        query.push("d.id IN (");
        let mut ids = query.separated(", ");
        for id in &readable.granted {
            ids.push_bind(*id);
        }
        query.push(") OR ");
    }
    query.push("NOT EXISTS (SELECT 1 FROM dataset_label_values v WHERE v.dataset_id = d.id AND v.restrictive AND v.value NOT IN ");
    push_texts(query, &readable.held);
    query.push(") AND NOT EXISTS (SELECT 1 FROM dataset_label_values v WHERE v.dataset_id = d.id AND NOT v.restrictive \
                AND NOT EXISTS (SELECT 1 FROM dataset_label_values w WHERE w.dataset_id = d.id AND w.tag = v.tag \
                AND NOT w.restrictive AND w.value IN ");
    push_texts(query, &readable.held);
    query.push(")))");
}

/// Indexes the lowercased keywords of `datasets`, each once per dataset.
async fn insert_keywords(tx: &mut Tx, datasets: &[Dataset]) -> StoreResult<()> {
    let rows: Vec<(String, Uuid)> = datasets
        .iter()
        .flat_map(|dataset| {
            let keywords: BTreeSet<String> = dataset.metadata.keywords.iter().map(|k| k.to_lowercase()).collect();
            keywords.into_iter().map(move |keyword| (keyword, dataset.id))
        })
        .collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut query = QueryBuilder::<Db>::new("INSERT INTO dataset_keywords (keyword, dataset_id) ");
        query.push_values(chunk, |mut row, (keyword, id)| {
            row.push_bind(keyword.as_str()).push_bind(*id);
        });
        query.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// What a dataset refers to in the domain model: (its id, the entity's kind, its slug).
fn dataset_references(dataset: &Dataset) -> Vec<(Uuid, EntityKind, &str)> {
    dataset.metadata.references().into_iter().map(|(kind, slug, _)| (dataset.id, kind, slug.as_str())).collect()
}

fn entity_references(entity: &Entity) -> Vec<(Uuid, EntityKind, &str)> {
    entity.details.facts.references().into_iter().map(|(kind, slug, _)| (entity.id, kind, slug.as_str())).collect()
}

/// Binds each of `values` as a comma-separated list.
fn push_list<T>(query: &mut QueryBuilder<Db>, values: impl Iterator<Item = T>)
where
    T: for<'t> sqlx::Encode<'t, Db> + sqlx::Type<Db>,
{
    let mut list = query.separated(", ");
    for value in values {
        list.push_bind(value);
    }
}

/// Records the links of `datasets` to other datasets.
async fn insert_links(tx: &mut Tx, datasets: &[Dataset]) -> StoreResult<()> {
    let rows: Vec<(Uuid, &str, Uuid)> = datasets
        .iter()
        .flat_map(|dataset| {
            [DatasetLink::DerivedFrom, DatasetLink::PreviousVersion]
                .into_iter()
                .flat_map(move |link| link.targets(&dataset.metadata).into_iter().map(move |target| (dataset.id, link.as_str(), target)))
        })
        .collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut query = QueryBuilder::<Db>::new("INSERT INTO dataset_links (dataset_id, relation, target_id) ");
        query.push_values(chunk, |mut row, (id, relation, target)| {
            row.push_bind(*id).push_bind(*relation).push_bind(*target);
        });
        query.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Records references (each once); the foreign key refuses one to an entity that does not exist.
async fn insert_references(tx: &mut Tx, references: &[(Uuid, EntityKind, &str)]) -> StoreResult<()> {
    let rows: BTreeSet<(Uuid, &str, &str)> = references.iter().map(|(id, kind, slug)| (*id, kind.as_str(), *slug)).collect();
    let rows: Vec<_> = rows.into_iter().collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut query = QueryBuilder::<Db>::new("INSERT INTO entity_references (source_id, kind, slug) ");
        query.push_values(chunk, |mut row, (id, kind, slug)| {
            row.push_bind(*id).push_bind(*kind).push_bind(*slug);
        });
        query.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// The category values of the labels of `datasets`, for the list's label filter.
async fn insert_label_values(tx: &mut Tx, datasets: &[Dataset]) -> StoreResult<()> {
    let rows: Vec<(Uuid, &str, bool, &str)> = datasets
        .iter()
        .flat_map(|dataset| {
            dataset.metadata.security_label.categories.iter().flat_map(move |category| {
                let restrictive = category.kind == CategoryType::Restrictive;
                category.values.iter().map(move |value| (dataset.id, category.tag.as_str(), restrictive, value.as_str()))
            })
        })
        .collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut query = QueryBuilder::<Db>::new("INSERT INTO dataset_label_values (dataset_id, tag, restrictive, value) ");
        query.push_values(chunk, |mut row, (id, tag, restrictive, value)| {
            row.push_bind(*id).push_bind(*tag).push_bind(*restrictive).push_bind(*value);
        });
        query.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// One change to record: the record's id, its new revision, its JSON (none for a deletion), its JSON
/// before the change (none for a creation), when.
struct ChangeRow<'a> {
    id: Uuid,
    revision: i64,
    snapshot: Option<&'a RawValue>,
    previous: Option<&'a str>,
    at: OffsetDateTime,
}

/// Writes the immutable revision rows and appends each change, with the event that tells of it (the
/// outbox), to the change feed, in the caller's transaction. The append comes last, so that the
/// ordering lock is held for as short a time as possible.
async fn record_changes(tx: &mut Tx, entity_type: EntityType, operation: Operation, actor: &str, changes: &[ChangeRow<'_>]) -> StoreResult<()> {
    let events = changes.iter().map(|change| change_event(entity_type, change)).collect::<StoreResult<Vec<_>>>()?;
    let mut query = QueryBuilder::<Db>::new(
        "INSERT INTO revisions (entity_type, entity_id, revision, operation, body, actor, recorded_at) ",
    );
    query.push_values(changes, |mut row, change| {
        row.push_bind(entity_type.as_str())
            .push_bind(change.id)
            .push_bind(change.revision)
            .push_bind(operation.as_str())
            .push_bind(change.snapshot.map(RawValue::get))
            .push_bind(actor)
            .push_bind(db_time(change.at));
    });
    query.build().execute(&mut **tx).await?;
    lock_change_feed(tx).await?;
    let traceparent = crate::trace::current_traceparent();
    let mut query = QueryBuilder::<Db>::new(
        "INSERT INTO change_feed (entity_type, entity_id, revision, operation, recorded_at, event_id, event_type, event_data, \
         event_traceparent) ",
    );
    query.push_values(changes.iter().zip(&events), |mut row, (change, event)| {
        row.push_bind(entity_type.as_str())
            .push_bind(change.id)
            .push_bind(change.revision)
            .push_bind(operation.as_str())
            .push_bind(db_time(change.at))
            .push_bind(Uuid::now_v7())
            .push_bind(event.event_type.as_str())
            .push_bind(event.data.as_str())
            .push_bind(traceparent.as_deref());
    });
    query.build().execute(&mut **tx).await?;
    Ok(())
}

/// The event that tells of `change`, from the record's JSON before and after it.
fn change_event(entity_type: EntityType, change: &ChangeRow<'_>) -> StoreResult<EventDraft> {
    fathom_model::record_event(entity_type.as_str(), change.previous, change.snapshot.map(RawValue::get), change.revision)
        .map_err(|e| StoreError::Corrupt(format!("a record's event: {e}")))
}

fn to_json<T: serde::Serialize>(record: &T) -> StoreResult<Box<RawValue>> {
    serde_json::value::to_raw_value(record).map_err(|e| StoreError::Database(sqlx::Error::Encode(e.into())))
}

fn from_json<T: serde::de::DeserializeOwned>(body: &str) -> StoreResult<T> {
    serde_json::from_str(body).map_err(|e| StoreError::Database(sqlx::Error::Decode(e.into())))
}

fn record_json(row: &<Db as sqlx::Database>::Row) -> StoreResult<RecordJson> {
    let body: String = row.try_get("body")?;
    Ok(RecordJson {
        id: row.try_get("id")?,
        revision: row.try_get("revision")?,
        updated_at: row.try_get("updated_at")?,
        json: RawValue::from_string(body).map_err(|e| StoreError::Database(sqlx::Error::Decode(e.into())))?,
    })
}

/// The hash the first audit entry chains to.
const GENESIS: [u8; 32] = [0; 32];

fn audit_event(row: &<Db as sqlx::Database>::Row) -> StoreResult<crate::AuditEvent> {
    let details: String = row.try_get("details")?;
    Ok(crate::AuditEvent {
        seq: row.try_get("seq")?,
        recorded_at: row.try_get("recorded_at")?,
        event: row.try_get("event")?,
        actor: row.try_get("actor")?,
        subject: row.try_get("subject")?,
        details: serde_json::from_str(&details).map_err(|e| StoreError::Corrupt(format!("an audit event: {e}")))?,
    })
}

fn revision_from_row(row: &<Db as sqlx::Database>::Row, snapshot: Option<serde_json::Value>) -> StoreResult<Revision> {
    let operation: String = row.try_get("operation")?;
    Ok(Revision {
        revision: row.try_get("revision")?,
        operation: Operation::parse(&operation).ok_or_else(|| unknown_value("operation", &operation))?,
        actor: row.try_get("actor")?,
        recorded_at: row.try_get("recorded_at")?,
        snapshot,
    })
}

fn user_from_row(row: &<Db as sqlx::Database>::Row) -> StoreResult<User> {
    let role: String = row.try_get("role")?;
    let communities: String = row.try_get("communities")?;
    let memberships: String = row.try_get("memberships")?;
    Ok(User {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: Role::parse(&role).map_err(|message| StoreError::Database(sqlx::Error::Decode(message.into())))?,
        clearance: row.try_get("clearance")?,
        nationality: row.try_get("nationality")?,
        communities: serde_json::from_str(&communities).map_err(|e| StoreError::Corrupt(format!("a user's communities: {e}")))?,
        memberships: serde_json::from_str(&memberships).map_err(|e| StoreError::Corrupt(format!("a user's memberships: {e}")))?,
        created_at: row.try_get("created_at")?,
    })
}

fn unknown_value(column: &str, value: &str) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(format!("unknown {column} `{value}` in the database").into()))
}
