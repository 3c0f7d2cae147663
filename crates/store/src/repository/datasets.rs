//! Datasets: their rows, keywords, label values, references and links, revisions, tombstones, and the lists that page through them.

use super::*;

impl Repository {
    pub async fn insert_dataset(&self, dataset: &Dataset, actor: &str) -> StoreResult<()> {
        self.insert_datasets(std::slice::from_ref(dataset), actor)
            .await
    }

    /// Multi-row statements: a few round trips per few hundred records, not four per record.
    pub async fn insert_datasets(&self, datasets: &[Dataset], actor: &str) -> StoreResult<()> {
        let bodies = datasets
            .iter()
            .map(to_json)
            .collect::<StoreResult<Vec<_>>>()?;
        let mut tx = self.write.begin().await?;
        for (chunk, bodies) in datasets
            .chunks(ROWS_PER_INSERT)
            .zip(bodies.chunks(ROWS_PER_INSERT))
        {
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
            insert_references(
                &mut tx,
                &chunk
                    .iter()
                    .flat_map(dataset_references)
                    .collect::<Vec<_>>(),
            )
            .await?;
            insert_links(&mut tx, chunk).await?;
            let changes: Vec<ChangeRow> = chunk
                .iter()
                .zip(bodies)
                .map(|(dataset, body)| ChangeRow {
                    id: dataset.id,
                    revision: dataset.revision,
                    snapshot: Some(body),
                    previous: None,
                    at: dataset.updated_at,
                })
                .collect();
            record_changes(
                &mut tx,
                EntityType::Dataset,
                Operation::Created,
                actor,
                &changes,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn update_dataset(
        &self,
        update: crate::DatasetUpdate<'_>,
        actor: &str,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        update_dataset(&mut tx, update, actor).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_dataset(
        &self,
        id: Uuid,
        expected_revision: i64,
        actor: &str,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        sqlx::query("DELETE FROM entity_references WHERE source_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM publications WHERE dataset_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let deleted: Option<String> = sqlx::query_scalar(
            "DELETE FROM datasets WHERE id = $1 AND revision = $2 RETURNING body",
        )
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
        let change = ChangeRow {
            id,
            revision: expected_revision + 1,
            snapshot: None,
            previous: Some(&previous),
            at,
        };
        record_changes(
            &mut tx,
            EntityType::Dataset,
            Operation::Deleted,
            actor,
            &[change],
        )
        .await?;
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
            RecordKey::Id(id) => {
                sqlx::query("SELECT id, revision, updated_at, body FROM datasets WHERE id = $1")
                    .bind(*id)
            }
            RecordKey::Slug(slug) => {
                sqlx::query("SELECT id, revision, updated_at, body FROM datasets WHERE slug = $1")
                    .bind(slug.clone())
            }
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

    pub async fn datasets(
        &self,
        filter: &DatasetFilter,
        page: PageRequest,
    ) -> StoreResult<Vec<Dataset>> {
        let rows = self.datasets_json(filter, page).await?;
        rows.iter().map(|row| from_json(row.json.get())).collect()
    }

    /// Keyset pages that cost the same at any depth: each filter and each order has its index. With a
    /// keyword, the order is taken from the keyword index (`k.dataset_id`, equal to `d.id`) so that no
    /// sort is needed.
    pub async fn datasets_json(
        &self,
        filter: &DatasetFilter,
        page: PageRequest,
    ) -> StoreResult<Vec<RecordJson>> {
        let mut query = QueryBuilder::<Db>::new(
            "SELECT d.id, d.revision, d.updated_at, d.body FROM datasets d",
        );
        let id = if filter.keyword.is_some() {
            "k.dataset_id"
        } else {
            "d.id"
        };
        if let Some(keyword) = &filter.keyword {
            query
                .push(" JOIN dataset_keywords k ON k.dataset_id = d.id AND k.keyword = ")
                .push_bind(keyword.to_lowercase());
        }
        query.push(" WHERE 1 = 1");
        if let Some(organisation) = &filter.organisation {
            query
                .push(" AND d.organisation = ")
                .push_bind(organisation.clone());
        }
        if let Some(readable) = &filter.readable {
            push_readable(&mut query, readable);
        }
        match (filter.modified_since, page.after) {
            (Some(since), after) => {
                query
                    .push(" AND d.updated_at >= ")
                    .push_bind(db_time(since));
                match after {
                    Some(Position::Modified(at, after)) => {
                        query
                            .push(" AND (d.updated_at, d.id) > (")
                            .push_bind(db_time(at))
                            .push(", ")
                            .push_bind(after)
                            .push(")");
                    }
                    Some(Position::Id(_)) => {
                        return Err(StoreError::Database(sqlx::Error::Protocol(
                            "a creation-order position in a list of changes".into(),
                        )));
                    }
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
    pub async fn harvest(
        &self,
        filter: &HarvestFilter,
        after: Option<(OffsetDateTime, Uuid)>,
        limit: u32,
    ) -> StoreResult<Vec<Harvested>> {
        let mut live = QueryBuilder::<Db>::new(
            "SELECT d.id, d.revision, d.updated_at, d.body FROM datasets d WHERE 1 = 1",
        );
        push_harvest_filter(&mut live, filter, "d.updated_at", "d.organisation");
        if let Some(readable) = &filter.readable {
            push_readable(&mut live, readable);
        }
        if let Some((at, id)) = after {
            live.push(" AND (d.updated_at, d.id) > (")
                .push_bind(db_time(at))
                .push(", ")
                .push_bind(id)
                .push(")");
        }
        live.push(" ORDER BY d.updated_at, d.id LIMIT ")
            .push_bind(i64::from(limit));
        let live = live.build().fetch_all(&self.read).await?;

        let mut deleted = QueryBuilder::<Db>::new(
            "SELECT id, organisation, label, deleted_at FROM dataset_tombstones WHERE 1 = 1",
        );
        push_harvest_filter(&mut deleted, filter, "deleted_at", "organisation");
        if let Some((at, id)) = after {
            deleted
                .push(" AND (deleted_at, id) > (")
                .push_bind(db_time(at))
                .push(", ")
                .push_bind(id)
                .push(")");
        }
        deleted
            .push(" ORDER BY deleted_at, id LIMIT ")
            .push_bind(i64::from(limit));
        let deleted = deleted.build().fetch_all(&self.read).await?;

        let mut merged = live
            .iter()
            .map(|row| record_json(row).map(Harvested::Live))
            .collect::<StoreResult<Vec<_>>>()?;
        for row in &deleted {
            merged.push(Harvested::Deleted(tombstone(row)?));
        }
        merged.sort_by_key(Harvested::position);
        merged.truncate(limit as usize);
        Ok(merged)
    }

    pub async fn harvest_extent(
        &self,
        filter: &HarvestFilter,
    ) -> StoreResult<(u64, Vec<Tombstone>)> {
        let mut live = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM datasets d WHERE 1 = 1");
        push_harvest_filter(&mut live, filter, "d.updated_at", "d.organisation");
        if let Some(readable) = &filter.readable {
            push_readable(&mut live, readable);
        }
        let count: i64 = live.build_query_scalar().fetch_one(&self.read).await?;
        let mut deleted = QueryBuilder::<Db>::new(
            "SELECT id, organisation, label, deleted_at FROM dataset_tombstones WHERE 1 = 1",
        );
        push_harvest_filter(&mut deleted, filter, "deleted_at", "organisation");
        let tombstones = deleted
            .build()
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(tombstone)
            .collect::<StoreResult<_>>()?;
        Ok((u64::try_from(count).unwrap_or_default(), tombstones))
    }

    pub async fn tombstone(&self, id: Uuid) -> StoreResult<Option<Tombstone>> {
        let row = sqlx::query(
            "SELECT id, organisation, label, deleted_at FROM dataset_tombstones WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(tombstone).transpose()
    }

    pub async fn revisions(
        &self,
        entity_type: EntityType,
        id: Uuid,
        after_revision: i64,
        limit: u32,
    ) -> StoreResult<Vec<Revision>> {
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
        rows.iter()
            .map(|row| revision_from_row(row, None))
            .collect()
    }

    pub async fn latest_revisions(
        &self,
        entity_type: EntityType,
        id: Uuid,
        limit: u32,
    ) -> StoreResult<Vec<Revision>> {
        if let Some(found) = self
            .points
            .latest_revisions(entity_type.as_str(), id, limit)
        {
            return found;
        }
        let rows = sqlx::query(
            "SELECT revision, operation, actor, recorded_at, body FROM revisions \
             WHERE entity_type = $1 AND entity_id = $2 ORDER BY revision DESC LIMIT $3",
        )
        .bind(entity_type.as_str())
        .bind(id)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                let snapshot: Option<String> = row.try_get("body")?;
                revision_from_row(row, snapshot.as_deref().map(from_json).transpose()?)
            })
            .collect()
    }

    pub async fn revision(
        &self,
        entity_type: EntityType,
        id: Uuid,
        revision: i64,
    ) -> StoreResult<Revision> {
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

    pub async fn link_ways(&self, link: DatasetLink, id: Uuid) -> StoreResult<Vec<Walk>> {
        if let Some(found) = self.points.link_ways(link, id) {
            return found;
        }
        let row = sqlx::query(crate::datasets::LINK_WAYS)
            .bind(id)
            .bind(link.as_str())
            .fetch_one(&self.read)
            .await?;
        Ok(Walk::ways(row.try_get(0)?, row.try_get(1)?))
    }

    pub async fn walk_links(
        &self,
        link: DatasetLink,
        starts: &[Uuid],
        walk: Walk,
        depth: u32,
    ) -> StoreResult<Vec<LinkFound>> {
        if starts.is_empty() || depth == 0 {
            return Ok(Vec::new());
        }
        if let [start] = starts
            && let Some(found) = self.points.walk_links(link, *start, walk, depth)
        {
            return found;
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
        query
            .push_bind(link.as_str())
            .push(format_args!(" AND {from} IN ("));
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
            .map(|row| {
                Ok(LinkFound {
                    dataset: row.try_get("dataset_id")?,
                    target: row.try_get("target_id")?,
                    depth: row.try_get("depth")?,
                })
            })
            .collect()
    }

    pub async fn revision_at(
        &self,
        entity_type: EntityType,
        id: Uuid,
        at: OffsetDateTime,
    ) -> StoreResult<Option<i64>> {
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
        if let Some(bodies) = self.points.dataset_bodies(ids) {
            return bodies?.iter().map(|body| from_json(body)).collect();
        }
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
}

/// The organisation and the interval of change of a harvest, on the given columns.
pub(super) fn push_harvest_filter(
    query: &mut QueryBuilder<Db>,
    filter: &HarvestFilter,
    changed_at: &str,
    organisation: &str,
) {
    if let Some(slug) = &filter.organisation {
        query
            .push(format_args!(" AND {organisation} = "))
            .push_bind(slug.clone());
    }
    if let Some(from) = filter.from {
        query
            .push(format_args!(" AND {changed_at} >= "))
            .push_bind(db_time(from));
    }
    if let Some(until) = filter.until {
        query
            .push(format_args!(" AND {changed_at} < "))
            .push_bind(db_time(until));
    }
}

/// Replaces a dataset at its expected revision inside `tx`: its row, keywords, label values,
/// references, links, revision, change and the update's audit entry.
pub(super) async fn update_dataset(
    tx: &mut Tx,
    update: crate::DatasetUpdate<'_>,
    actor: &str,
) -> StoreResult<()> {
    let crate::DatasetUpdate {
        dataset,
        expected_revision,
        audit,
    } = update;
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
    sqlx::query("DELETE FROM dataset_keywords WHERE dataset_id = $1")
        .bind(dataset.id)
        .execute(&mut **tx)
        .await?;
    insert_keywords(tx, std::slice::from_ref(dataset)).await?;
    sqlx::query("DELETE FROM dataset_label_values WHERE dataset_id = $1")
        .bind(dataset.id)
        .execute(&mut **tx)
        .await?;
    insert_label_values(tx, std::slice::from_ref(dataset)).await?;
    sqlx::query("DELETE FROM entity_references WHERE source_id = $1")
        .bind(dataset.id)
        .execute(&mut **tx)
        .await?;
    insert_references(tx, &dataset_references(dataset)).await?;
    sqlx::query("DELETE FROM dataset_links WHERE dataset_id = $1")
        .bind(dataset.id)
        .execute(&mut **tx)
        .await?;
    insert_links(tx, std::slice::from_ref(dataset)).await?;
    let change = ChangeRow {
        id: dataset.id,
        revision: dataset.revision,
        snapshot: Some(&body),
        previous: Some(&previous),
        at: dataset.updated_at,
    };
    record_changes(
        tx,
        EntityType::Dataset,
        Operation::Updated,
        actor,
        &[change],
    )
    .await?;
    if let Some(audit) = audit {
        append_audit(tx, audit).await?;
    }
    Ok(())
}

pub(super) fn tombstone(row: &<Db as sqlx::Database>::Row) -> StoreResult<Tombstone> {
    let label: String = row.try_get("label")?;
    Ok(Tombstone {
        id: row.try_get("id")?,
        organisation: row.try_get("organisation")?,
        label: from_json(&label)?,
        deleted_at: row.try_get("deleted_at")?,
    })
}

/// Only the datasets a reader may see: of a classification they are cleared for, and either granted
/// to them or without a restrictive value they do not hold and without a permissive category none
/// of whose values they hold.
pub(super) fn push_readable(query: &mut QueryBuilder<Db>, readable: &crate::Readable) {
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
pub(super) async fn insert_keywords(tx: &mut Tx, datasets: &[Dataset]) -> StoreResult<()> {
    let rows: Vec<(String, Uuid)> = datasets
        .iter()
        .flat_map(|dataset| {
            let keywords: BTreeSet<String> = dataset
                .metadata
                .keywords
                .iter()
                .map(|k| k.to_lowercase())
                .collect();
            keywords
                .into_iter()
                .map(move |keyword| (keyword, dataset.id))
        })
        .collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut query =
            QueryBuilder::<Db>::new("INSERT INTO dataset_keywords (keyword, dataset_id) ");
        query.push_values(chunk, |mut row, (keyword, id)| {
            row.push_bind(keyword.as_str()).push_bind(*id);
        });
        query.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// What a dataset refers to in the domain model: (its id, the entity's kind, its slug).
pub(super) fn dataset_references(dataset: &Dataset) -> Vec<(Uuid, EntityKind, &str)> {
    dataset
        .metadata
        .references()
        .into_iter()
        .map(|(kind, slug, _)| (dataset.id, kind, slug.as_str()))
        .collect()
}

/// Records the links of `datasets` to other datasets.
pub(super) async fn insert_links(tx: &mut Tx, datasets: &[Dataset]) -> StoreResult<()> {
    let rows: Vec<(Uuid, &str, Uuid)> = datasets
        .iter()
        .flat_map(|dataset| {
            [DatasetLink::DerivedFrom, DatasetLink::PreviousVersion]
                .into_iter()
                .flat_map(move |link| {
                    link.targets(&dataset.metadata)
                        .into_iter()
                        .map(move |target| (dataset.id, link.as_str(), target))
                })
        })
        .collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut query =
            QueryBuilder::<Db>::new("INSERT INTO dataset_links (dataset_id, relation, target_id) ");
        query.push_values(chunk, |mut row, (id, relation, target)| {
            row.push_bind(*id).push_bind(*relation).push_bind(*target);
        });
        query.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// The category values of the labels of `datasets`, for the list's label filter.
pub(super) async fn insert_label_values(tx: &mut Tx, datasets: &[Dataset]) -> StoreResult<()> {
    let rows: Vec<(Uuid, &str, bool, &str)> = datasets
        .iter()
        .flat_map(|dataset| {
            dataset
                .metadata
                .security_label
                .categories
                .iter()
                .flat_map(move |category| {
                    let restrictive = category.kind == CategoryType::Restrictive;
                    category.values.iter().map(move |value| {
                        (
                            dataset.id,
                            category.tag.as_str(),
                            restrictive,
                            value.as_str(),
                        )
                    })
                })
        })
        .collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut query = QueryBuilder::<Db>::new(
            "INSERT INTO dataset_label_values (dataset_id, tag, restrictive, value) ",
        );
        query.push_values(chunk, |mut row, (id, tag, restrictive, value)| {
            row.push_bind(*id)
                .push_bind(*tag)
                .push_bind(*restrictive)
                .push_bind(*value);
        });
        query.build().execute(&mut **tx).await?;
    }
    Ok(())
}

pub(super) fn revision_from_row(
    row: &<Db as sqlx::Database>::Row,
    snapshot: Option<serde_json::Value>,
) -> StoreResult<Revision> {
    let operation: String = row.try_get("operation")?;
    Ok(Revision {
        revision: row.try_get("revision")?,
        operation: Operation::parse(&operation)
            .ok_or_else(|| unknown_value("operation", &operation))?,
        actor: row.try_get("actor")?,
        recorded_at: row.try_get("recorded_at")?,
        snapshot,
    })
}
