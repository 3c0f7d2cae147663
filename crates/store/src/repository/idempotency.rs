//! Idempotency keys: the first response to each key.

use super::*;

impl Repository {
    pub async fn claim_idempotency_key(
        &self,
        principal: Uuid,
        key: &str,
        request_hash: &[u8],
        now: OffsetDateTime,
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
            "DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND status IS NULL",
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
