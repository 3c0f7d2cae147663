//! The embedded default: one SQLite file in WAL mode, many readers and a single writer connection.

use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use serde_json::value::RawValue;
use time::OffsetDateTime;
use uuid::Uuid;

use rusqlite::OptionalExtension;

use crate::{
    DatasetLink, LinkFound, Operation, RecordJson, RecordKey, Revision, StoreError, StoreResult,
    Walk,
};
use repository::Tx;

type Db = sqlx::Sqlite;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Each connection's page cache, in KiB (SQLite's negative `cache_size`). Small, to keep the server's
/// memory bounded: it holds the B-trees' upper pages, which every lookup reads; the operating
/// system's file cache holds the rest of a large database.
const PAGE_CACHE_KIB: i64 = 2_048;

/// Binds an instant as fixed-width UTC text, so that comparing text compares time.
fn db_time(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    utc.format(&format).unwrap_or_default()
}

/// SQLite has one writer at a time, so appends are already in commit order.
async fn lock_change_feed(_tx: &mut Tx) -> StoreResult<()> {
    Ok(())
}

/// SQLite has one writer: audit-log appends are already one at a time.
async fn lock_audit_log(_tx: &mut Tx) -> StoreResult<()> {
    Ok(())
}

/// The most records read at once inline: a page of search results or of a feed.
const POINT_READS_AT_ONCE: usize = 100;

/// Single-record reads, and a page of records by id, on read-only connections of their own, run
/// inline on the calling task.
///
/// sqlx runs each SQLite connection on a worker thread and hands it every query through a channel;
/// for a lookup of a few microseconds, the two thread wake-ups around it cost more than the lookup
/// (measured in `docs/performance-history.md`). A lookup here runs on the async worker itself: one
/// connection per worker thread, so they never wait for each other. WAL readers never wait for the
/// writer, and each statement sees the latest commit.
#[derive(Debug, Clone)]
struct PointReads {
    connections: Arc<[Mutex<rusqlite::Connection>]>,
    next: Arc<AtomicUsize>,
}

impl PointReads {
    fn open(path: &Path, count: usize) -> StoreResult<Self> {
        let flags =
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connections = (0..count.max(1))
            .map(|_| {
                let connection = rusqlite::Connection::open_with_flags(path, flags)?;
                connection.busy_timeout(Duration::from_secs(10))?;
                connection.pragma_update(None, "cache_size", -PAGE_CACHE_KIB)?;
                Ok(Mutex::new(connection))
            })
            .collect::<Result<Vec<_>, rusqlite::Error>>()
            .map_err(point_error)?;
        Ok(Self {
            connections: connections.into(),
            next: Arc::new(AtomicUsize::new(0)),
        })
    }

    fn dataset_json(&self, key: &RecordKey) -> Option<StoreResult<RecordJson>> {
        let (sql, parameter) = match key {
            RecordKey::Id(id) => (
                "SELECT id, revision, updated_at, body FROM datasets WHERE id = ?1",
                rusqlite::types::Value::Blob(id.as_bytes().to_vec()),
            ),
            RecordKey::Slug(slug) => (
                "SELECT id, revision, updated_at, body FROM datasets WHERE slug = ?1",
                rusqlite::types::Value::Text(slug.clone()),
            ),
        };
        let row = self.with_connection(|connection| {
            let mut statement = connection.prepare_cached(sql)?;
            let mut rows = statement.query([parameter])?;
            let Some(row) = rows.next()? else {
                return Ok(None);
            };
            Ok(Some((
                row.get::<_, Vec<u8>>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
            )))
        });
        Some(match row {
            Ok(Some((id, revision, updated_at, body))) => {
                decode_point(&id, revision, &updated_at, body)
            }
            Ok(None) => Err(StoreError::NotFound),
            Err(error) => Err(point_error(error)),
        })
    }

    /// The body of the record of `table` with this id or slug.
    fn body(&self, table: &'static str, key: &RecordKey) -> Option<StoreResult<String>> {
        let (sql, parameter) = match key {
            RecordKey::Id(id) => (
                format!("SELECT body FROM {table} WHERE id = ?1"),
                rusqlite::types::Value::Blob(id.as_bytes().to_vec()),
            ),
            RecordKey::Slug(slug) => (
                format!("SELECT body FROM {table} WHERE slug = ?1"),
                rusqlite::types::Value::Text(slug.clone()),
            ),
        };
        let found = self.with_connection(|connection| {
            connection
                .prepare_cached(&sql)?
                .query_row([parameter], |row| row.get::<_, String>(0))
                .optional()
        });
        Some(match found {
            Ok(Some(body)) => Ok(body),
            Ok(None) => Err(StoreError::NotFound),
            Err(error) => Err(point_error(error)),
        })
    }

    /// `Repository::datasets_by_ids` of a page's worth of ids (more go through the pool, off the
    /// async worker): the bodies of those that exist, each read by its key, all in one read
    /// transaction.
    fn dataset_bodies(&self, ids: &[Uuid]) -> Option<StoreResult<Vec<String>>> {
        if ids.len() > POINT_READS_AT_ONCE {
            return None;
        }
        let found = self.with_connection(|connection| {
            let transaction = connection.unchecked_transaction()?;
            let mut statement =
                transaction.prepare_cached("SELECT body FROM datasets WHERE id = ?1")?;
            let mut bodies = Vec::with_capacity(ids.len());
            for id in ids {
                let body = statement
                    .query_row([id.as_bytes().as_slice()], |row| row.get::<_, String>(0))
                    .optional()?;
                bodies.extend(body);
            }
            drop(statement);
            transaction.commit()?;
            Ok(bodies)
        });
        Some(found.map_err(point_error))
    }

    /// `Repository::walk_links` from one dataset: the same recursive query.
    fn walk_links(
        &self,
        link: DatasetLink,
        start: Uuid,
        walk: Walk,
        depth: u32,
    ) -> Option<StoreResult<Vec<LinkFound>>> {
        let (from, to) = match walk {
            Walk::Upstream => ("dataset_id", "target_id"),
            Walk::Downstream => ("target_id", "dataset_id"),
        };
        let sql = format!(
            "WITH RECURSIVE walk (dataset_id, target_id, depth) AS (\
             SELECT dataset_id, target_id, 1 FROM dataset_links WHERE relation = ?1 AND {from} = ?2 \
             UNION SELECT l.dataset_id, l.target_id, w.depth + 1 FROM dataset_links l JOIN walk w ON l.{from} = w.{to} \
             WHERE l.relation = ?1 AND w.depth < ?3) \
             SELECT dataset_id, target_id, MIN(depth) AS depth FROM walk GROUP BY dataset_id, target_id ORDER BY 3, 1, 2"
        );
        let depth = i64::from(depth.min(i32::MAX as u32));
        let rows = self.with_connection(|connection| {
            let mut statement = connection.prepare_cached(&sql)?;
            let rows = statement.query_map(
                rusqlite::params![link.as_str(), start.as_bytes().as_slice(), depth],
                |row| {
                    Ok((
                        row.get::<_, Vec<u8>>(0)?,
                        row.get::<_, Vec<u8>>(1)?,
                        row.get::<_, i32>(2)?,
                    ))
                },
            )?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        });
        let decode = |bytes: &[u8]| Uuid::from_slice(bytes).map_err(|e| corrupt(&e));
        Some(rows.map_err(point_error).and_then(|rows| {
            rows.iter()
                .map(|(dataset, target, depth)| {
                    Ok(LinkFound {
                        dataset: decode(dataset)?,
                        target: decode(target)?,
                        depth: *depth,
                    })
                })
                .collect()
        }))
    }

    /// `Repository::link_ways`: the same two lookups.
    fn link_ways(&self, link: DatasetLink, id: Uuid) -> Option<StoreResult<Vec<Walk>>> {
        let found = self.with_connection(|connection| {
            let mut statement = connection.prepare_cached(crate::datasets::LINK_WAYS)?;
            statement.query_row(
                rusqlite::params![id.as_bytes().as_slice(), link.as_str()],
                |row| Ok((row.get::<_, bool>(0)?, row.get::<_, bool>(1)?)),
            )
        });
        Some(
            found
                .map(|(upstream, downstream)| Walk::ways(upstream, downstream))
                .map_err(point_error),
        )
    }

    /// `Repository::latest_revisions`: the latest `limit` revisions of a record, newest first.
    fn latest_revisions(
        &self,
        entity_type: &str,
        id: Uuid,
        limit: u32,
    ) -> Option<StoreResult<Vec<Revision>>> {
        let sql = latest_revisions_sql(limit);
        let rows = self.with_connection(|connection| {
            let mut statement = connection.prepare_cached(&sql)?;
            let rows = statement.query_map(
                rusqlite::params![entity_type, id.as_bytes().as_slice()],
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, Option<String>>(4)?,
                    ))
                },
            )?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        });
        Some(rows.map_err(point_error).and_then(|rows| {
            rows.into_iter()
                .map(|(revision, operation, actor, recorded_at, body)| {
                    Ok(Revision {
                        revision,
                        operation: Operation::parse(&operation)
                            .ok_or_else(|| corrupt(&format!("an unknown operation {operation}")))?,
                        actor,
                        recorded_at: parse_time(&recorded_at)?,
                        snapshot: body
                            .map(|body| serde_json::from_str(&body).map_err(|e| corrupt(&e)))
                            .transpose()?,
                    })
                })
                .collect()
        }))
    }

    /// Runs `read` on a free connection, starting from the next in turn.
    fn with_connection<T>(
        &self,
        read: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let count = self.connections.len();
        let free = (0..count).find_map(|i| self.connections[(start + i) % count].try_lock().ok());
        let connection = match free {
            Some(connection) => connection,
            None => self.connections[start % count]
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        };
        read(&connection)
    }
}

/// The statement of [`PointReads::latest_revisions`], its limit written in: bound as a parameter, it
/// made SQLite prepare the statement again at every run (the plan depends on the limit's value).
fn latest_revisions_sql(limit: u32) -> String {
    format!(
        "SELECT revision, operation, actor, recorded_at, body FROM revisions \
         WHERE entity_type = ?1 AND entity_id = ?2 ORDER BY revision DESC LIMIT {limit}"
    )
}

fn decode_point(
    id: &[u8],
    revision: i64,
    updated_at: &str,
    body: String,
) -> StoreResult<RecordJson> {
    let decode = |error: Box<dyn std::error::Error + Send + Sync>| {
        StoreError::Database(sqlx::Error::Decode(error))
    };
    Ok(RecordJson {
        id: Uuid::from_slice(id).map_err(|e| decode(e.into()))?,
        revision,
        updated_at: OffsetDateTime::parse(
            updated_at,
            &time::format_description::well_known::Rfc3339,
        )
        .map_err(|e| decode(e.into()))?,
        json: RawValue::from_string(body).map_err(|e| decode(e.into()))?,
    })
}

fn parse_time(text: &str) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| corrupt(&e))
}

fn corrupt(error: &dyn std::fmt::Display) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(error.to_string().into()))
}

fn point_error(error: rusqlite::Error) -> StoreError {
    StoreError::Database(sqlx::Error::Protocol(format!("SQLite: {error}")))
}

impl Repository {
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // In WAL mode NORMAL loses nothing when the process dies; only a power loss can lose
            // the last commits.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", (-PAGE_CACHE_KIB).to_string());
        // A connection to a local file does not go stale: skip the ping sqlx would otherwise send
        // (a round trip to the connection's worker thread) before every query.
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        let readers = std::thread::available_parallelism()
            .map_or(4, |n| n.get() * 2)
            .clamp(2, 16);
        let read = SqlitePoolOptions::new()
            .max_connections(u32::try_from(readers).unwrap_or(4))
            .min_connections(2)
            .test_before_acquire(false)
            .connect_with(options.read_only(true))
            .await?;
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let points = PointReads::open(path, workers)?;
        Ok(Self {
            read,
            write,
            points,
        })
    }
}

impl Repository {
    pub fn pools(&self) -> Vec<crate::PoolStatus> {
        [("read", &self.read), ("write", &self.write)]
            .into_iter()
            .map(|(pool, connections)| crate::PoolStatus {
                pool,
                size: connections.size(),
                idle: connections.num_idle(),
            })
            .collect()
    }

    /// `VACUUM INTO`: a consistent snapshot, read on a reader connection, so writers go on; then
    /// the attachments are written into the copy.
    pub async fn backup_to(&self, path: &Path, attachments: &[(&str, &str)]) -> StoreResult<()> {
        let target = path
            .to_str()
            .ok_or(StoreError::Unsupported("a backup path must be UTF-8"))?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.read)
            .await?;
        let mut copy =
            sqlx::SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(path))
                .await?;
        sqlx::query("CREATE TABLE backup_attachments (name TEXT PRIMARY KEY NOT NULL, content TEXT NOT NULL)")
            .execute(&mut copy)
            .await?;
        for (name, content) in attachments {
            sqlx::query("INSERT INTO backup_attachments (name, content) VALUES ($1, $2)")
                .bind(*name)
                .bind(*content)
                .execute(&mut copy)
                .await?;
        }
        copy.close().await?;
        Ok(())
    }

    /// Reads and drops the table of attachments, if this database is a restored backup.
    pub async fn take_backup_attachments(&self) -> StoreResult<Vec<(String, String)>> {
        let exists: Option<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'backup_attachments'",
        )
        .fetch_optional(&self.write)
        .await?;
        if exists.is_none() {
            return Ok(Vec::new());
        }
        let attachments: Vec<(String, String)> =
            sqlx::query_as("SELECT name, content FROM backup_attachments ORDER BY name")
                .fetch_all(&self.write)
                .await?;
        sqlx::query("DROP TABLE backup_attachments")
            .execute(&self.write)
            .await?;
        Ok(attachments)
    }
}

// The same source, compiled once per backend with this backend's `Db` (ADR 0001).
#[allow(clippy::duplicate_mod)]
#[path = "repository/mod.rs"]
mod repository;

pub use repository::Repository;

#[cfg(all(test, feature = "testing"))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A point read's statement is prepared once per connection: SQLite prepares a statement again at
    /// every run when a bound value can change its plan (a bound `LIMIT` did), which cost the dataset
    /// page a third of its time.
    #[tokio::test]
    async fn point_reads_are_not_prepared_again_at_each_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("points.db");
        // The schema as migrations make it.
        let repository = Repository::open(&path).await.unwrap();
        repository.migrate().await.unwrap();
        let ids = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
        for id in ids {
            sqlx::query(
                "INSERT INTO revisions (entity_type, entity_id, revision, operation, actor, recorded_at) \
                 VALUES ('dataset', $1, 1, 'created', 'tester', '2026-12-05T10:00:00.000000Z')",
            )
            .bind(id)
            .execute(&repository.write)
            .await
            .unwrap();
        }
        let points = PointReads::open(&path, 1).unwrap();
        for id in ids {
            let found = points.latest_revisions("dataset", id, 5).unwrap().unwrap();
            assert_eq!(found.len(), 1);
        }
        let connection = points.connections[0].lock().unwrap();
        let statement = connection.prepare_cached(&latest_revisions_sql(5)).unwrap();
        let prepared_again = statement.get_status(rusqlite::StatementStatus::RePrepare);
        assert_eq!(prepared_again, 0);
    }
}
