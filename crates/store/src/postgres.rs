//! PostgreSQL, for deployments with several replicas.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use time::OffsetDateTime;

use crate::{RecordJson, RecordKey, StoreResult};
use repository::Tx;

type Db = sqlx::Postgres;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The key of the advisory lock that serialises change-feed appends.
const CHANGE_FEED_LOCK: i64 = 0x6661_7468_6f6d; // "fathom"

fn db_time(at: OffsetDateTime) -> OffsetDateTime {
    at
}

/// A sequence value is taken before commit, so without this lock a reader tailing by `seq` could see
/// seq 11 committed while seq 10 is still in flight, and skip 10 for ever. Holding a
/// transaction-scoped lock from the append to the commit makes seq order equal commit order.
async fn lock_change_feed(tx: &mut Tx) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(CHANGE_FEED_LOCK)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The key of the advisory lock that serialises audit-log appends (each reads the last entry's hash).
const AUDIT_LOG_LOCK: i64 = 0x6661_7468_6f6e;

/// Appends to the audit log one at a time, so each entry chains to the one committed before it.
async fn lock_audit_log(tx: &mut Tx) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(AUDIT_LOG_LOCK)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// PostgreSQL reads go through the pool like every other query.
#[derive(Debug, Clone)]
struct PointReads;

impl PointReads {
    fn dataset_json(&self, _key: &RecordKey) -> Option<StoreResult<RecordJson>> {
        None
    }

    fn body(&self, _table: &'static str, _key: &RecordKey) -> Option<StoreResult<String>> {
        None
    }

    fn link_ways(
        &self,
        _link: crate::DatasetLink,
        _id: uuid::Uuid,
    ) -> Option<StoreResult<Vec<crate::Walk>>> {
        None
    }

    fn dataset_bodies(&self, _ids: &[uuid::Uuid]) -> Option<StoreResult<Vec<String>>> {
        None
    }

    fn walk_links(
        &self,
        _link: crate::DatasetLink,
        _start: uuid::Uuid,
        _walk: crate::Walk,
        _depth: u32,
    ) -> Option<StoreResult<Vec<crate::LinkFound>>> {
        None
    }

    fn latest_revisions(
        &self,
        _entity_type: &str,
        _id: uuid::Uuid,
        _limit: u32,
    ) -> Option<StoreResult<Vec<crate::Revision>>> {
        None
    }
}

impl Repository {
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)?.application_name("fathom");
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            // No ping round trip before every query: a broken connection fails its query and is
            // dropped from the pool, and idle ones are recycled.
            .test_before_acquire(false)
            .idle_timeout(Duration::from_secs(300))
            .connect_with(options)
            .await?;
        Ok(Self {
            read: pool.clone(),
            write: pool,
            points: PointReads,
        })
    }
}

impl Repository {
    /// One pool serves reads and writes.
    pub fn pools(&self) -> Vec<crate::PoolStatus> {
        vec![crate::PoolStatus {
            pool: "shared",
            size: self.read.size(),
            idle: self.read.num_idle(),
        }]
    }
}

// The same source, compiled once per backend with this backend's `Db` (ADR 0001).
#[allow(clippy::duplicate_mod)]
#[path = "repository/mod.rs"]
mod repository;

pub use repository::Repository;
