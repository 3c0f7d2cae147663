//! Users and their API tokens.

use super::*;

impl Repository {
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
        let names: Vec<String> =
            sqlx::query_scalar("SELECT name FROM users WHERE disabled_at IS NOT NULL")
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
        let found: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM users WHERE role = 'admin' LIMIT 1")
                .fetch_optional(&self.read)
                .await?;
        Ok(found.is_some())
    }

    pub async fn insert_token(
        &self,
        token: &ApiToken,
        audit: &crate::AuditEvent,
    ) -> StoreResult<()> {
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

    pub async fn user_by_token(
        &self,
        secret_hash: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<(User, Vec<String>)> {
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
        Ok((
            user_from_row(&row)?,
            scopes.split_whitespace().map(str::to_owned).collect(),
        ))
    }

    pub async fn touch_token(&self, secret_hash: &[u8], now: OffsetDateTime) -> StoreResult<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE secret_hash = $1")
            .bind(secret_hash)
            .bind(db_time(now))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn disable_user(
        &self,
        name: &str,
        now: OffsetDateTime,
        audit: &crate::AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        let disabled = sqlx::query(
            "UPDATE users SET disabled_at = $2 WHERE name = $1 AND disabled_at IS NULL",
        )
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

    pub async fn revoke_token(
        &self,
        id: Uuid,
        now: OffsetDateTime,
        audit: &crate::AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        let revoked = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(db_time(now))
        .execute(&mut *tx)
        .await?;
        commit_with_audit(tx, revoked.rows_affected(), audit).await
    }
}

pub(super) fn user_from_row(row: &<Db as sqlx::Database>::Row) -> StoreResult<User> {
    let role: String = row.try_get("role")?;
    let communities: String = row.try_get("communities")?;
    let memberships: String = row.try_get("memberships")?;
    Ok(User {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        role: Role::parse(&role)
            .map_err(|message| StoreError::Database(sqlx::Error::Decode(message.into())))?,
        clearance: row.try_get("clearance")?,
        nationality: row.try_get("nationality")?,
        communities: serde_json::from_str(&communities)
            .map_err(|e| StoreError::Corrupt(format!("a user's communities: {e}")))?,
        memberships: serde_json::from_str(&memberships)
            .map_err(|e| StoreError::Corrupt(format!("a user's memberships: {e}")))?,
        created_at: row.try_get("created_at")?,
    })
}
