//! Idempotency keys: each claim, the record its request wrote (noted in the write's transaction), and
//! the first response.

use super::*;

impl Repository {
    pub async fn claim_idempotency_key(
        &self,
        principal: Uuid,
        key: &str,
        request_hash: &[u8],
        now: OffsetDateTime,
        abandoned_before: OffsetDateTime,
    ) -> StoreResult<IdempotencyClaim> {
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
        // The same request's claim, never completed nor released, and nothing written: its process
        // died before its write committed.
        let taken_over = sqlx::query(
            "UPDATE idempotency_keys SET created_at = $4 WHERE principal = $1 AND key = $2 \
             AND request_hash = $3 AND status IS NULL AND entity_id IS NULL AND created_at < $5",
        )
        .bind(principal)
        .bind(key)
        .bind(request_hash)
        .bind(db_time(now))
        .bind(db_time(abandoned_before))
        .execute(&self.write)
        .await?;
        if taken_over.rows_affected() == 1 {
            return Ok(IdempotencyClaim::Claimed);
        }
        let row = sqlx::query(
            "SELECT request_hash, status, response, entity_type, entity_id, created_at < $3 AS abandoned \
             FROM idempotency_keys WHERE principal = $1 AND key = $2",
        )
        .bind(principal)
        .bind(key)
        .bind(db_time(abandoned_before))
        .fetch_one(&self.write)
        .await?;
        let status: Option<i32> = row.try_get("status")?;
        let response: Option<String> = row.try_get("response")?;
        let seen: Vec<u8> = row.try_get("request_hash")?;
        let written: Option<String> = row.try_get("entity_type")?;
        let id: Option<Uuid> = row.try_get("entity_id")?;
        Ok(match (status, response, written, id) {
            (Some(status), Some(response), _, _) => IdempotencyClaim::Completed {
                request_hash: seen,
                status: u16::try_from(status).unwrap_or(500),
                response,
            },
            (None, _, Some(entity_type), Some(id))
                if seen == request_hash && row.try_get::<bool, _>("abandoned")? =>
            {
                IdempotencyClaim::Written {
                    entity_type: EntityType::parse(&entity_type).ok_or_else(|| {
                        StoreError::Corrupt(format!("an unknown entity type {entity_type}"))
                    })?,
                    id,
                }
            }
            _ => IdempotencyClaim::InProgress,
        })
    }

    pub async fn complete_idempotency_key(
        &self,
        principal: Uuid,
        key: &str,
        status: u16,
        response: &str,
    ) -> StoreResult<()> {
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
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND status IS NULL AND entity_id IS NULL",
        )
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

/// Notes in the claim the current request holds (if any) that it wrote `id`, in the write's own
/// transaction `tx`: the first record a request writes is the one it is answered with. Called by
/// every append to the change feed.
pub(super) async fn note_write(tx: &mut Tx, entity_type: EntityType, id: Uuid) -> StoreResult<()> {
    let Some((principal, key)) = crate::idempotency::current_claim() else {
        return Ok(());
    };
    sqlx::query(
        "UPDATE idempotency_keys SET entity_type = $3, entity_id = $4 \
         WHERE principal = $1 AND key = $2 AND status IS NULL AND entity_id IS NULL",
    )
    .bind(principal)
    .bind(key)
    .bind(entity_type.as_str())
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
