//! Access requests, grants and agreements.

use super::*;

impl Repository {
    /// Proposed agreements one of `organisations` is a party to, at most `limit`.
    pub async fn proposed_agreements(
        &self,
        organisations: &[&str],
        limit: u32,
    ) -> StoreResult<Vec<Agreement>> {
        let mut query = QueryBuilder::<Db>::new(
            "SELECT body FROM agreements WHERE state = 'proposed' AND id IN (SELECT agreement_id FROM agreement_parties WHERE organisation IN ",
        );
        push_texts(&mut query, organisations);
        query
            .push(") ORDER BY id LIMIT ")
            .push_bind(i64::from(limit));
        let bodies: Vec<String> = query.build_query_scalar().fetch_all(&self.read).await?;
        bodies.iter().map(|body| from_json(body)).collect()
    }

    pub async fn insert_access_request(
        &self,
        request: &AccessRequest,
        notice: &crate::Notice,
    ) -> StoreResult<()> {
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
        record_notice(
            &mut tx,
            EntityType::AccessRequest,
            request.id,
            request.revision,
            &body,
            notice,
        )
        .await?;
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
        record_notice(
            &mut tx,
            EntityType::AccessRequest,
            request.id,
            request.revision,
            &body,
            notice,
        )
        .await?;
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
        let body: String = sqlx::query_scalar("SELECT body FROM access_requests WHERE id = $1")
            .bind(id)
            .fetch_one(&self.read)
            .await?;
        from_json(&body)
    }

    /// A page of requests in order of creation: those of `requester`, those waiting for `waiting_for`,
    /// or (neither given) all of them.
    pub async fn access_requests(
        &self,
        requester: Option<&str>,
        waiting_for: Option<&str>,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<AccessRequest>> {
        let mut query = QueryBuilder::<Db>::new("SELECT r.body FROM access_requests r WHERE 1 = 1");
        if let Some(requester) = requester {
            query
                .push(" AND r.requester = ")
                .push_bind(requester.to_owned());
        }
        if let Some(actor) = waiting_for {
            query
                .push(" AND r.id IN (SELECT request_id FROM access_request_waiting WHERE actor = ")
                .push_bind(actor.to_owned())
                .push(")");
        }
        if let Some(after) = after {
            query.push(" AND r.id > ").push_bind(after);
        }
        query
            .push(" ORDER BY r.id LIMIT ")
            .push_bind(i64::from(limit));
        let bodies: Vec<String> = query.build_query_scalar().fetch_all(&self.read).await?;
        bodies.iter().map(|body| from_json(body)).collect()
    }

    /// Undecided requests whose deadline is at or before `now`.
    pub async fn overdue_access_requests(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<AccessRequest>> {
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
    pub async fn granted_datasets(
        &self,
        name: &str,
        organisations: &[&str],
        now: OffsetDateTime,
    ) -> StoreResult<Vec<Uuid>> {
        let mut query = QueryBuilder::<Db>::new(
            "SELECT DISTINCT dataset_id FROM grants WHERE revoked_at IS NULL AND starts_at <= ",
        );
        query
            .push_bind(db_time(now))
            .push(" AND ends_at > ")
            .push_bind(db_time(now));
        query
            .push(" AND ((grantee_type = 'user' AND grantee = ")
            .push_bind(name.to_owned())
            .push(")");
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

    pub async fn grants(
        &self,
        filter: &crate::GrantFilter,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<Grant>> {
        let mut query = QueryBuilder::<Db>::new("SELECT body FROM grants WHERE 1 = 1");
        if !filter.grantees.is_empty() {
            query.push(" AND (");
            for (n, grantee) in filter.grantees.iter().enumerate() {
                let (kind, name) = grantee.parts();
                if n > 0 {
                    query.push(" OR ");
                }
                query
                    .push("(grantee_type = ")
                    .push_bind(kind)
                    .push(" AND grantee = ")
                    .push_bind(name.to_owned())
                    .push(")");
            }
            query.push(")");
        }
        if let Some(dataset) = filter.dataset {
            query.push(" AND dataset_id = ").push_bind(dataset);
        }
        if let Some(after) = after {
            query.push(" AND id > ").push_bind(after);
        }
        query
            .push(" ORDER BY id LIMIT ")
            .push_bind(i64::from(limit));
        let bodies: Vec<String> = query.build_query_scalar().fetch_all(&self.read).await?;
        bodies.iter().map(|body| from_json(body)).collect()
    }

    pub async fn grant(&self, id: Uuid) -> StoreResult<Grant> {
        let body: String = sqlx::query_scalar("SELECT body FROM grants WHERE id = $1")
            .bind(id)
            .fetch_one(&self.read)
            .await?;
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
    pub async fn grants_ended_untold(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Grant>> {
        let bodies: Vec<String> = sqlx::query_scalar("SELECT body FROM grants WHERE ended_at IS NULL AND ends_at <= $1 ORDER BY ends_at LIMIT $2")
            .bind(db_time(now))
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await?;
        bodies.iter().map(|body| from_json(body)).collect()
    }

    pub async fn insert_agreement(
        &self,
        agreement: &Agreement,
        notice: &crate::Notice,
    ) -> StoreResult<()> {
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
        let mut query =
            QueryBuilder::<Db>::new("INSERT INTO agreement_parties (organisation, agreement_id) ");
        query.push_values(agreement.parties(), |mut row, party| {
            row.push_bind(party.as_str()).push_bind(agreement.id);
        });
        query.build().execute(&mut *tx).await?;
        record_notice(
            &mut tx,
            EntityType::Agreement,
            agreement.id,
            agreement.revision,
            &body,
            notice,
        )
        .await?;
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
        record_notice(
            &mut tx,
            EntityType::Agreement,
            agreement.id,
            agreement.revision,
            &body,
            notice,
        )
        .await?;
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
        let body: String = sqlx::query_scalar("SELECT body FROM agreements WHERE id = $1")
            .bind(id)
            .fetch_one(&self.read)
            .await?;
        from_json(&body)
    }

    /// A page of agreements in order of creation: those one of `organisations` is a party to, or
    /// (`None`) all of them.
    pub async fn agreements(
        &self,
        organisations: Option<&[&str]>,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<Agreement>> {
        let mut query = QueryBuilder::<Db>::new("SELECT a.body FROM agreements a WHERE 1 = 1");
        if let Some(organisations) = organisations {
            query.push(
                " AND a.id IN (SELECT agreement_id FROM agreement_parties WHERE organisation IN ",
            );
            push_texts(&mut query, organisations);
            query.push(")");
        }
        if let Some(after) = after {
            query.push(" AND a.id > ").push_bind(after);
        }
        query
            .push(" ORDER BY a.id LIMIT ")
            .push_bind(i64::from(limit));
        let bodies: Vec<String> = query.build_query_scalar().fetch_all(&self.read).await?;
        bodies.iter().map(|body| from_json(body)).collect()
    }

    /// Agreements not yet ended whose period ended at or before `now`.
    pub async fn agreements_past_end(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Agreement>> {
        let bodies: Vec<String> = sqlx::query_scalar(
            "SELECT body FROM agreements WHERE state IN ('draft', 'proposed', 'active') AND ends_at <= $1 ORDER BY ends_at LIMIT $2",
        )
        .bind(db_time(now))
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        bodies.iter().map(|body| from_json(body)).collect()
    }
}

/// Writes what a workflow change tells, inside the change's transaction: a revision of the record
/// (`snapshot`), its event in the change feed (and so the outbox), and its audit entry.
pub(super) async fn record_notice(
    tx: &mut Tx,
    entity_type: EntityType,
    id: Uuid,
    revision: i64,
    snapshot: &RawValue,
    notice: &crate::Notice,
) -> StoreResult<()> {
    let operation = if revision == 1 {
        Operation::Created
    } else {
        Operation::Updated
    };
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
    super::idempotency::note_write(tx, entity_type, id).await?;
    append_audit(tx, &notice.audit).await
}

/// Who an access request waits for, as the inbox finds it.
pub(super) async fn set_waiting(tx: &mut Tx, request: &AccessRequest) -> StoreResult<()> {
    sqlx::query("DELETE FROM access_request_waiting WHERE request_id = $1")
        .bind(request.id)
        .execute(&mut **tx)
        .await?;
    let waiting = request.review.waiting_for();
    if waiting.is_empty() {
        return Ok(());
    }
    let mut query =
        QueryBuilder::<Db>::new("INSERT INTO access_request_waiting (actor, request_id) ");
    query.push_values(&waiting, |mut row, actor| {
        row.push_bind(actor.as_str()).push_bind(request.id);
    });
    query.build().execute(&mut **tx).await?;
    Ok(())
}

pub(super) async fn insert_grant(
    tx: &mut Tx,
    grant: &Grant,
    notice: &crate::Notice,
) -> StoreResult<()> {
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
pub(super) async fn end_grant(
    tx: &mut Tx,
    grant: &Grant,
    notice: &crate::Notice,
) -> StoreResult<bool> {
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
