//! The single source of truth: SQLite (the embedded default) and PostgreSQL through sqlx.
//!
//! A module per aggregate (datasets, organisations, entities, vocabularies, sharing, publication,
//! users and tokens, audit, change feed and events, harvesting, idempotency) holds its rows and
//! filters and the store's methods on it; its SQL is in `repository/` under the same name, compiled
//! once per backend with its own `Db` type. What differs between the backends (types in the
//! migrations, connection set-up, how change-feed appends are serialised) lives in `sqlite.rs` and
//! `postgres.rs`. Every write is one transaction that writes the record, an immutable revision row
//! and a change-feed row whose order equals commit order.

mod postgres;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
pub mod trace;

use std::collections::HashSet;
use std::path::Path;

use fathom_model::{
    AccessRequest, Agreement, Concept, Dataset, Entity, EntityKind, EventDraft, Grant, Grantee,
    Membership, Organisation, ProfileVersion, Publication, Role, Version, Vocabulary,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// What can go wrong in the store, in the terms of the domain.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("record not found")]
    NotFound,
    /// The record exists, but not at the revision the caller based its change on.
    #[error("the record has changed since the revision it was read at")]
    StaleRevision,
    /// A unique field (`slug`, `name`, …) already holds this value in another record.
    #[error("another record already has this {field}")]
    Duplicate { field: String },
    /// A reference points at nothing, or a record that others refer to was about to be deleted.
    #[error("the change would break a reference between records")]
    Reference,
    /// A stored record that does not decode as what was written.
    #[error("a stored record cannot be read: {0}")]
    Corrupt(String),
    /// What this backend does not do (the operator is told what to use instead).
    #[error("{0}")]
    Unsupported(&'static str),
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::RowNotFound => Self::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Duplicate {
                field: unique_field(db.constraint(), db.message()),
            },
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => Self::Reference,
            _ => Self::Database(error),
        }
    }
}

impl StoreError {
    /// Whether the database could not be reached or dropped the connection (it restarts, or is
    /// down): the same request may succeed shortly.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Database(
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed,
            ) => true,
            // PostgreSQL's connection exceptions (class 08) and its shutting down or starting up.
            Self::Database(sqlx::Error::Database(db)) => db
                .code()
                .is_some_and(|code| code.starts_with("08") || code.starts_with("57P0")),
            _ => false,
        }
    }
}

/// The field behind a unique violation: PostgreSQL names the constraint (`datasets_slug_key`),
/// SQLite names the column in its message (`UNIQUE constraint failed: datasets.slug`).
fn unique_field(constraint: Option<&str>, message: &str) -> String {
    let column = match constraint {
        Some(name) => name
            .trim_end_matches("_key")
            .rsplit('_')
            .next()
            .unwrap_or(name),
        None => message.rsplit('.').next().unwrap_or(message),
    };
    if column == "pkey" {
        "id".to_owned()
    } else {
        column.trim().to_owned()
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The current time, truncated to microseconds: the precision both databases keep, so a record read
/// back equals the record written.
pub fn now() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now)
}

/// A record addressed by its id or its slug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordKey {
    Id(Uuid),
    Slug(String),
}

impl RecordKey {
    /// A UUID is an id; anything else is taken as a slug (slugs never have the form of a UUID).
    pub fn parse(raw: &str) -> Self {
        match Uuid::try_parse(raw) {
            Ok(id) => Self::Id(id),
            Err(_) => Self::Slug(raw.to_owned()),
        }
    }
}

/// A keyset page: at most `limit` records after the position `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub after: Option<Position>,
    pub limit: u32,
}

/// A record's place in a list, for keyset pagination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// In a list in order of creation.
    Id(Uuid),
    /// In a list in order of change (`modified_since`).
    Modified(OffsetDateTime, Uuid),
}

impl PageRequest {
    pub fn first(limit: u32) -> Self {
        Self { after: None, limit }
    }

    pub fn after_id(id: Uuid, limit: u32) -> Self {
        Self {
            after: Some(Position::Id(id)),
            limit,
        }
    }
}

/// The kind of a record that has revisions and changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityType {
    Organisation,
    Dataset,
    /// An entity of the domain model (a platform, a campaign, …).
    Entity(EntityKind),
    AccessRequest,
    Grant,
    Agreement,
    /// The publication workflow of a dataset (its id is the dataset's).
    Publication,
}

impl EntityType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Organisation => "organisation",
            Self::Dataset => "dataset",
            Self::Entity(kind) => kind.as_str(),
            Self::AccessRequest => "access_request",
            Self::Grant => "grant",
            Self::Agreement => "agreement",
            Self::Publication => "publication",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "organisation" => Some(Self::Organisation),
            "dataset" => Some(Self::Dataset),
            "access_request" => Some(Self::AccessRequest),
            "grant" => Some(Self::Grant),
            "agreement" => Some(Self::Agreement),
            "publication" => Some(Self::Publication),
            _ => EntityKind::parse(raw).map(Self::Entity),
        }
    }
}

impl Serialize for EntityType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Created,
    Updated,
    Deleted,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Deleted => "deleted",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        [Self::Created, Self::Updated, Self::Deleted]
            .into_iter()
            .find(|o| o.as_str() == raw)
    }
}

/// A record as stored: its JSON exactly as it is served, with the id and revision beside it, for read
/// paths that pass records through without decoding them.
#[derive(Debug, Clone)]
pub struct RecordJson {
    pub id: Uuid,
    pub revision: i64,
    pub updated_at: OffsetDateTime,
    pub json: Box<serde_json::value::RawValue>,
}

/// The store: one of the two backends, chosen at start-up.
#[derive(Debug, Clone)]
pub enum Store {
    Sqlite(sqlite::Repository),
    Postgres(postgres::Repository),
}

/// Calls the backend's method in a span `db` naming the operation, and times it as
/// `fathom_db_operation_duration_seconds{operation}`.
macro_rules! dispatch {
    ($self:ident, $repo:ident => $r:ident . $method:ident ( $($arg:expr),* $(,)? ) .await) => {{
        let started = std::time::Instant::now();
        let span = tracing::debug_span!("db", operation = stringify!($method));
        let result = tracing::Instrument::instrument(
            async {
                match $self {
                    Store::Sqlite($repo) => $r.$method($($arg),*).await,
                    Store::Postgres($repo) => $r.$method($($arg),*).await,
                }
            },
            span,
        )
        .await;
        metrics::histogram!(DB_OPERATION_SECONDS, "operation" => stringify!($method))
            .record(started.elapsed().as_secs_f64());
        result
    }};
}

// After `dispatch!`, which they use.
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

pub use audit::*;
pub use change_feed::*;
pub use datasets::*;
pub use idempotency::*;
pub use sharing::*;
pub use users::*;
pub use vocabularies::*;

/// The histogram of the time each store operation takes, by operation (its method's name).
pub const DB_OPERATION_SECONDS: &str = "fathom_db_operation_duration_seconds";

/// A connection pool's use, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// `read` and `write` on SQLite; `shared` on PostgreSQL, whose one pool serves both.
    pub pool: &'static str,
    pub size: u32,
    pub idle: usize,
}

impl Store {
    /// Opens (creating if needed) the SQLite database `fathom.db` in `data_dir`.
    pub async fn open_sqlite(data_dir: &Path) -> StoreResult<Self> {
        Ok(Self::Sqlite(
            sqlite::Repository::open(&data_dir.join("fathom.db")).await?,
        ))
    }

    /// Connects to PostgreSQL at `url` (`postgres://…`).
    pub async fn connect_postgres(url: &str) -> StoreResult<Self> {
        Ok(Self::Postgres(postgres::Repository::connect(url).await?))
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Applies the embedded migrations that have not run yet.
    pub async fn migrate(&self) -> StoreResult<()> {
        dispatch!(self, r => r.migrate().await)
    }

    /// Writes a consistent copy of the whole database to `path` (a new file) while it serves:
    /// SQLite's `VACUUM INTO`, with `attachments` (name, text: the security policy) stored in the
    /// copy's table `backup_attachments`. PostgreSQL is backed up with its own tools (`pg_dump`).
    pub async fn backup_to(&self, path: &Path, attachments: &[(&str, &str)]) -> StoreResult<()> {
        match self {
            Store::Sqlite(r) => r.backup_to(path, attachments).await,
            Store::Postgres(_) => Err(StoreError::Unsupported(
                "a PostgreSQL catalogue is backed up with pg_dump (see docs/operations.md)",
            )),
        }
    }

    /// Takes the attachments out of a restored backup (none for a database that is not one).
    pub async fn take_backup_attachments(&self) -> StoreResult<Vec<(String, String)>> {
        match self {
            Store::Sqlite(r) => r.take_backup_attachments().await,
            Store::Postgres(_) => Ok(Vec::new()),
        }
    }

    /// How the connection pools are used now.
    pub fn pools(&self) -> Vec<PoolStatus> {
        match self {
            Store::Sqlite(r) => r.pools(),
            Store::Postgres(r) => r.pools(),
        }
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> StoreResult<()> {
        dispatch!(self, r => r.ping().await)
    }

    pub async fn close(&self) {
        dispatch!(self, r => r.close().await)
    }

    /// The shared secret `name`, made of `fresh` by the first replica to ask for it.
    pub async fn server_secret(&self, name: &str, fresh: &[u8]) -> StoreResult<Vec<u8>> {
        dispatch!(self, r => r.server_secret(name, fresh).await)
    }

    /// The event at `seq`, unless it was pruned (or the change predates events).
    pub async fn event(&self, seq: i64) -> StoreResult<Option<OutboxEvent>> {
        Ok(self
            .events_after(seq - 1, 1)
            .await?
            .into_iter()
            .find(|e| e.seq == seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_out_of_reach_is_unavailable_and_nothing_else_is() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        for error in [
            sqlx::Error::Io(refused),
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
        ] {
            assert!(StoreError::Database(error).is_unavailable());
        }
        assert!(!StoreError::Database(sqlx::Error::RowNotFound).is_unavailable());
        assert!(!StoreError::NotFound.is_unavailable());
        assert!(!StoreError::Corrupt("x".into()).is_unavailable());
    }

    #[test]
    fn unique_fields_are_named_on_both_backends() {
        assert_eq!(unique_field(Some("datasets_slug_key"), ""), "slug");
        assert_eq!(unique_field(Some("datasets_pkey"), ""), "id");
        assert_eq!(
            unique_field(None, "UNIQUE constraint failed: datasets.slug"),
            "slug"
        );
        assert_eq!(
            unique_field(None, "UNIQUE constraint failed: users.name"),
            "name"
        );
    }
}
