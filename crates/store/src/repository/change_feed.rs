//! The change feed in commit order, the outbox of events, the targets that relay it, and webhooks.

use super::*;

impl Repository {
    pub async fn latest_change(&self) -> StoreResult<i64> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM change_feed")
            .fetch_one(&self.read)
            .await?;
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
                    entity_type: EntityType::parse(&entity_type)
                        .ok_or_else(|| unknown_value("entity_type", &entity_type))?,
                    entity_id: row.try_get("entity_id")?,
                    revision: row.try_get("revision")?,
                    operation: Operation::parse(&operation)
                        .ok_or_else(|| unknown_value("operation", &operation))?,
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
                    data: RawValue::from_string(data)
                        .map_err(|e| StoreError::Corrupt(format!("an event's data: {e}")))?,
                    traceparent: row.try_get("event_traceparent")?,
                })
            })
            .collect()
    }

    /// Takes or renews the lease on a target (creating it at `start`) unless another owner holds an
    /// unexpired one; the target's position when the lease is `owner`'s.
    pub async fn lease_event_target(
        &self,
        name: &str,
        owner: &str,
        start: i64,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreResult<Option<i64>> {
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

    pub async fn move_event_target(
        &self,
        name: &str,
        owner: &str,
        position: i64,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
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
                    event_types: serde_json::from_str(&event_types).map_err(|e| {
                        StoreError::Corrupt(format!("a webhook's event types: {e}"))
                    })?,
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
        let deleted = sqlx::query("DELETE FROM webhooks WHERE id = $1")
            .bind(webhook.id)
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        for table in [
            "DELETE FROM event_targets WHERE name = $1",
            "DELETE FROM dead_letters WHERE target = $1",
        ] {
            sqlx::query(table)
                .bind(webhook.target())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn dead_letter(&self, letter: &DeadLetter, owner: &str) -> StoreResult<bool> {
        let mut tx = self.write.begin().await?;
        let moved = sqlx::query(
            "UPDATE event_targets SET position = $3 WHERE name = $1 AND lease_owner = $2",
        )
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
        if deleted.rows_affected() == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }
}

/// One change to record: the record's id, its new revision, its JSON (none for a deletion), its JSON
/// before the change (none for a creation), when.
pub(super) struct ChangeRow<'a> {
    pub(super) id: Uuid,
    pub(super) revision: i64,
    pub(super) snapshot: Option<&'a RawValue>,
    pub(super) previous: Option<&'a str>,
    pub(super) at: OffsetDateTime,
}

/// Writes the immutable revision rows and appends each change, with the event that tells of it (the
/// outbox), to the change feed, in the caller's transaction; notes the first in the request's
/// `Idempotency-Key` claim, if it holds one. The append comes last, so that the
/// ordering lock is held for as short a time as possible.
pub(super) async fn record_changes(
    tx: &mut Tx,
    entity_type: EntityType,
    operation: Operation,
    actor: &str,
    changes: &[ChangeRow<'_>],
) -> StoreResult<()> {
    let events = changes
        .iter()
        .map(|change| change_event(entity_type, change))
        .collect::<StoreResult<Vec<_>>>()?;
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
    match changes.first() {
        Some(first) => super::idempotency::note_write(tx, entity_type, first.id).await,
        None => Ok(()),
    }
}

/// The event that tells of `change`, from the record's JSON before and after it.
pub(super) fn change_event(
    entity_type: EntityType,
    change: &ChangeRow<'_>,
) -> StoreResult<EventDraft> {
    fathom_model::record_event(
        entity_type.as_str(),
        change.previous,
        change.snapshot.map(RawValue::get),
        change.revision,
    )
    .map_err(|e| StoreError::Corrupt(format!("a record's event: {e}")))
}
