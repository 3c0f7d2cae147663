//! Vocabularies (SKOS concept schemes, their concepts and labels) and metadata profile versions.

use super::*;

impl Repository {
    pub async fn save_vocabulary(
        &self,
        vocabulary: &Vocabulary,
        concepts: &[Concept],
        expected_revision: Option<i64>,
    ) -> StoreResult<()> {
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
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DELETE FROM {table} WHERE vocabulary_id = $1"
                    )))
                    .bind(vocabulary.id)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        let bodies = concepts
            .iter()
            .map(to_json)
            .collect::<StoreResult<Vec<_>>>()?;
        let id = vocabulary.id;
        for (chunk, bodies) in concepts
            .chunks(ROWS_PER_INSERT)
            .zip(bodies.chunks(ROWS_PER_INSERT))
        {
            let mut query = QueryBuilder::<Db>::new(
                "INSERT INTO concepts (vocabulary_id, iri, notation, sort_label, top, body) ",
            );
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
        let labels: Vec<(String, &str)> = concepts
            .iter()
            .flat_map(|c| {
                c.names()
                    .into_iter()
                    .map(move |name| (name, c.iri.as_str()))
            })
            .collect();
        for chunk in labels.chunks(ROWS_PER_INSERT) {
            let mut query =
                QueryBuilder::<Db>::new("INSERT INTO concept_labels (vocabulary_id, label, iri) ");
            query.push_values(chunk, |mut row, (label, iri)| {
                row.push_bind(id).push_bind(label.as_str()).push_bind(*iri);
            });
            query.build().execute(&mut *tx).await?;
        }
        let broader: Vec<(&str, &str)> = concepts
            .iter()
            .flat_map(|c| c.broader.iter().map(move |b| (c.iri.as_str(), b.as_str())))
            .collect();
        for chunk in broader.chunks(ROWS_PER_INSERT) {
            let mut query = QueryBuilder::<Db>::new(
                "INSERT INTO concept_broader (vocabulary_id, iri, broader) ",
            );
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
        let rows: Vec<String> = sqlx::query_scalar("SELECT body FROM vocabularies ORDER BY slug")
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(|body| from_json(body)).collect()
    }

    pub async fn delete_vocabulary(&self, id: Uuid) -> StoreResult<()> {
        let deleted = sqlx::query("DELETE FROM vocabularies WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    pub async fn concepts(
        &self,
        vocabulary: Uuid,
        filter: &ConceptFilter,
    ) -> StoreResult<Vec<Concept>> {
        let mut query =
            QueryBuilder::<Db>::new("SELECT c.body FROM concepts c WHERE c.vocabulary_id = ");
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
            query
                .push(" AND (c.sort_label, c.iri) > (")
                .push_bind(label.clone())
                .push(", ")
                .push_bind(iri.clone())
                .push(")");
        }
        query
            .push(" ORDER BY c.sort_label, c.iri LIMIT ")
            .push_bind(i64::from(filter.limit));
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

    pub async fn concept_values_found(
        &self,
        vocabularies: &[Uuid],
        values: &[&str],
    ) -> StoreResult<HashSet<String>> {
        let mut found = HashSet::new();
        if vocabularies.is_empty() {
            return Ok(found);
        }
        for chunk in values.chunks(ROWS_PER_INSERT) {
            let mut query =
                QueryBuilder::<Db>::new("SELECT iri FROM concepts WHERE vocabulary_id IN (");
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
        let values: Vec<&str> = values
            .iter()
            .copied()
            .filter(|v| !v.contains('\0'))
            .collect();
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

    pub async fn profile_versions(
        &self,
        profile: Option<&str>,
    ) -> StoreResult<Vec<ProfileVersion>> {
        let mut query = QueryBuilder::<Db>::new("SELECT body FROM profile_versions");
        if let Some(profile) = profile {
            query
                .push(" WHERE profile = ")
                .push_bind(profile.to_owned());
        }
        query.push(" ORDER BY profile, major, minor, patch");
        let rows: Vec<String> = query.build_query_scalar().fetch_all(&self.read).await?;
        rows.iter().map(|body| from_json(body)).collect()
    }

    pub async fn profile_version(
        &self,
        profile: &str,
        version: Version,
    ) -> StoreResult<ProfileVersion> {
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
}
