//! The SQL shared by both backends, a module per aggregate. `sqlite.rs` and `postgres.rs` each
//! compile this tree as their own `repository` module (`#[path]`), after defining `Db` (the sqlx
//! database), `db_time` (how an instant is bound for comparisons), `lock_change_feed` and
//! `lock_audit_log` (how appends are put in order), `PointReads` and `MIGRATOR`. Placeholders are
//! `$n`, which SQLite also binds by number.

mod audit;
mod change_feed;
mod datasets;
mod entities;
mod harvesting;
mod idempotency;
mod organisations;
mod publication;
mod sharing;
mod users;
mod vocabularies;

use self::{audit::*, change_feed::*, datasets::*, entities::*, sharing::*};
use super::{Db, MIGRATOR, PointReads, db_time, lock_audit_log, lock_change_feed};
use std::collections::{BTreeSet, HashSet};

use fathom_model::{
    AccessRequest, Agreement, CategoryType, Concept, Dataset, Entity, EntityKind, EventDraft,
    Grant, HarvestJob, HarvestSource, Organisation, ProfileVersion, Publication, Role, Version,
    Vocabulary,
};
use serde_json::value::RawValue;
use sqlx::{Pool, QueryBuilder, Row, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    ApiToken, Change, ConceptFilter, DatasetFilter, DatasetLink, DeadLetter, EntityType,
    EventTarget, HarvestFilter, Harvested, IdempotencyClaim, LinkFound, Operation, OutboxEvent,
    PageRequest, Position, RecordJson, RecordKey, Revision, StoreError, StoreResult, Tombstone,
    User, Walk, Webhook,
};

/// Rows per multi-row `INSERT`, well inside both databases' limits on bound parameters.
const ROWS_PER_INSERT: usize = 500;

/// The repositories of one backend: a pool for reads and one for writes (the same pool on
/// PostgreSQL; on SQLite a single writer connection, so writers queue instead of failing as busy).
#[derive(Debug, Clone)]
pub struct Repository {
    pub(super) read: Pool<Db>,
    pub(super) write: Pool<Db>,
    /// The backend's fast path for single-record reads, if it has one.
    pub(super) points: PointReads,
}

pub(super) type Tx = Transaction<'static, Db>;

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

    pub async fn server_secret(&self, name: &str, fresh: &[u8]) -> StoreResult<Vec<u8>> {
        sqlx::query("INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(fresh)
            .execute(&self.write)
            .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(&self.read)
                .await?,
        )
    }
}

/// What an update that returns the record's previous revision found: its JSON, or why there is none
/// (the record is gone or at another revision).
async fn previous_body(
    tx: &mut Tx,
    table: &'static str,
    id: Uuid,
    updated: Option<Option<String>>,
) -> StoreResult<String> {
    match updated {
        Some(Some(body)) => Ok(body),
        Some(None) => Err(StoreError::Corrupt(format!(
            "a record of {table} without its previous revision"
        ))),
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
    match sqlx::query_scalar::<_, i32>(sql)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
    {
        Ok(Some(_)) => StoreError::StaleRevision,
        Ok(None) => StoreError::NotFound,
        Err(error) => error.into(),
    }
}
/// A parenthesised list of `values` for `IN`, never empty (`''` leads it).
fn push_texts(query: &mut QueryBuilder<Db>, values: &[impl AsRef<str>]) {
    query.push("(").push_bind(String::new());
    for value in values {
        query.push(", ").push_bind(value.as_ref().to_owned());
    }
    query.push(")");
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
fn to_json<T: serde::Serialize>(record: &T) -> StoreResult<Box<RawValue>> {
    serde_json::value::to_raw_value(record)
        .map_err(|e| StoreError::Database(sqlx::Error::Encode(e.into())))
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
        json: RawValue::from_string(body)
            .map_err(|e| StoreError::Database(sqlx::Error::Decode(e.into())))?,
    })
}
fn unknown_value(column: &str, value: &str) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(
        format!("unknown {column} `{value}` in the database").into(),
    ))
}
