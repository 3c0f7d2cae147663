//! Users, their API tokens, passwords and browser sessions.

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

impl Repository {
    pub async fn set_password(
        &self,
        name: &str,
        password_hash: &str,
        audit: &crate::AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await?;
        let changed = sqlx::query("UPDATE users SET password_hash = $2 WHERE name = $1")
            .bind(name)
            .bind(password_hash)
            .execute(&mut *tx)
            .await?;
        commit_with_audit(tx, changed.rows_affected(), audit).await
    }

    pub async fn user_with_password(&self, name: &str) -> StoreResult<(User, Option<String>)> {
        let row = sqlx::query(
            "SELECT id, name, role, clearance, nationality, communities, memberships, created_at, password_hash \
             FROM users WHERE name = $1 AND disabled_at IS NULL",
        )
        .bind(name)
        .fetch_one(&self.read)
        .await?;
        Ok((user_from_row(&row)?, row.try_get("password_hash")?))
    }

    pub async fn insert_session(
        &self,
        session: &crate::Session,
        audit: &crate::AuditEvent,
    ) -> StoreResult<()> {
        let (user_id, external_user) = match &session.user {
            crate::SessionUser::Local(id) => (Some(*id), None),
            crate::SessionUser::External(user) => (None, Some(external_json(user))),
        };
        let mut tx = self.write.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, external_user, csrf_token, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(session.id_hash.as_slice())
        .bind(user_id)
        .bind(external_user)
        .bind(session.csrf_token.as_str())
        .bind(db_time(session.created_at))
        .bind(db_time(session.last_seen_at))
        .bind(db_time(session.expires_at))
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn session(
        &self,
        id_hash: &[u8],
        now: OffsetDateTime,
        idle_since: OffsetDateTime,
    ) -> StoreResult<(User, crate::Session)> {
        let row = sqlx::query(
            "SELECT u.id, u.name, u.role, u.clearance, u.nationality, u.communities, u.memberships, u.created_at, \
             s.external_user, s.csrf_token, s.created_at AS session_created_at, s.last_seen_at, s.expires_at \
             FROM sessions s LEFT JOIN users u ON u.id = s.user_id \
             WHERE s.id_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 \
             AND (s.external_user IS NOT NULL OR (u.id IS NOT NULL AND u.disabled_at IS NULL))",
        )
        .bind(id_hash)
        .bind(db_time(now))
        .bind(db_time(idle_since))
        .fetch_one(&self.read)
        .await?;
        let created_at = row.try_get("session_created_at")?;
        let external: Option<String> = row.try_get("external_user")?;
        let (user, session_user) = match external {
            Some(json) => {
                let user = external_user(&json, created_at)?;
                (user.clone(), crate::SessionUser::External(user))
            }
            None => {
                let user = user_from_row(&row)?;
                let id = user.id;
                (user, crate::SessionUser::Local(id))
            }
        };
        let session = crate::Session {
            id_hash: id_hash.to_vec(),
            user: session_user,
            csrf_token: row.try_get("csrf_token")?,
            created_at,
            last_seen_at: row.try_get("last_seen_at")?,
            expires_at: row.try_get("expires_at")?,
        };
        Ok((user, session))
    }

    pub async fn touch_session(&self, id_hash: &[u8], now: OffsetDateTime) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1")
            .bind(id_hash)
            .bind(db_time(now))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, id_hash: &[u8]) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    pub async fn prune_sessions(
        &self,
        now: OffsetDateTime,
        idle_since: OffsetDateTime,
    ) -> StoreResult<u64> {
        let pruned =
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
                .bind(db_time(now))
                .bind(db_time(idle_since))
                .execute(&self.write)
                .await?;
        Ok(pruned.rows_affected())
    }
}

/// The attributes an identity provider gave a user, as a session keeps them.
#[derive(serde::Serialize, serde::Deserialize)]
struct ExternalUser {
    id: Uuid,
    name: String,
    role: String,
    clearance: Option<String>,
    nationality: Option<String>,
    communities: Vec<String>,
    memberships: Vec<fathom_model::Membership>,
}

fn external_json(user: &User) -> String {
    let external = ExternalUser {
        id: user.id,
        name: user.name.clone(),
        role: user.role.as_str().to_owned(),
        clearance: user.clearance.clone(),
        nationality: user.nationality.clone(),
        communities: user.communities.clone(),
        memberships: user.memberships.clone(),
    };
    serde_json::to_string(&external).unwrap_or_default()
}

/// An external user as `external_json` wrote them; `since` is when they signed in.
fn external_user(json: &str, since: OffsetDateTime) -> StoreResult<User> {
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("a session's user: {e}"));
    let external: ExternalUser = serde_json::from_str(json).map_err(|e| corrupt(&e))?;
    Ok(User {
        id: external.id,
        name: external.name,
        role: Role::parse(&external.role).map_err(|e| corrupt(&e))?,
        clearance: external.clearance,
        nationality: external.nationality,
        communities: external.communities,
        memberships: external.memberships,
        created_at: since,
    })
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
