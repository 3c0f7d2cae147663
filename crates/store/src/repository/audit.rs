//! The audit log: a hash chain, appended in the transaction of what it describes.

use super::*;

impl Repository {
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
    pub(super) async fn chain_audit_log(&self) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        lock_audit_log(&mut tx).await?;
        let chained: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM audit_events WHERE hash IS NOT NULL LIMIT 1")
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
                    broken: Some(crate::BrokenLink {
                        seq: entry.seq,
                        reason: reason.to_owned(),
                    }),
                };
                if previous.as_deref() != Some(expected.as_slice()) {
                    return Ok(broken(
                        "does not hold the hash of the entry before it: an entry before it was changed or removed",
                    ));
                }
                let hash = crate::audit_hash(&expected, &entry);
                if stored.as_deref() != Some(hash.as_slice()) {
                    return Ok(broken(
                        "its content does not match its hash: it was changed",
                    ));
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

    pub async fn audit_events(
        &self,
        filter: &crate::AuditFilter,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<crate::AuditEvent>> {
        let mut query = QueryBuilder::<Db>::new(
            "SELECT seq, recorded_at, event, actor, subject, details FROM audit_events WHERE seq > ",
        );
        query.push_bind(after);
        for (column, value) in [
            ("actor", &filter.actor),
            ("subject", &filter.subject),
            ("event", &filter.event),
        ] {
            if let Some(value) = value {
                query
                    .push(format_args!(" AND {column} = "))
                    .push_bind(value.clone());
            }
        }
        query
            .push(" ORDER BY seq LIMIT ")
            .push_bind(i64::from(limit));
        let rows = query.build().fetch_all(&self.read).await?;
        rows.iter().map(audit_event).collect()
    }
}

/// Commits `tx` with `audit` when its one-row change found its row (`affected`); `NotFound`, with
/// nothing written, when it did not.
pub(super) async fn commit_with_audit(
    mut tx: Tx,
    affected: u64,
    audit: &crate::AuditEvent,
) -> StoreResult<()> {
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
pub(super) async fn append_audit(tx: &mut Tx, event: &crate::AuditEvent) -> StoreResult<()> {
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
    let previous: Option<Option<Vec<u8>>> = sqlx::query_scalar(
        "SELECT hash FROM audit_events WHERE seq < $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(seq)
    .fetch_optional(&mut **tx)
    .await?;
    let previous = match previous {
        None => GENESIS.to_vec(),
        Some(Some(hash)) => hash,
        Some(None) => {
            return Err(StoreError::Corrupt(
                "the last audit entry is not chained: run `fathom audit verify`".into(),
            ));
        }
    };
    let entry = crate::AuditEvent {
        seq,
        ..event.clone()
    };
    sqlx::query("UPDATE audit_events SET previous_hash = $2, hash = $3 WHERE seq = $1")
        .bind(seq)
        .bind(&previous)
        .bind(crate::audit_hash(&previous, &entry))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The hash the first audit entry chains to.
pub(super) const GENESIS: [u8; 32] = [0; 32];

pub(super) fn audit_event(row: &<Db as sqlx::Database>::Row) -> StoreResult<crate::AuditEvent> {
    let details: String = row.try_get("details")?;
    Ok(crate::AuditEvent {
        seq: row.try_get("seq")?,
        recorded_at: row.try_get("recorded_at")?,
        event: row.try_get("event")?,
        actor: row.try_get("actor")?,
        subject: row.try_get("subject")?,
        details: serde_json::from_str(&details)
            .map_err(|e| StoreError::Corrupt(format!("an audit event: {e}")))?,
    })
}
