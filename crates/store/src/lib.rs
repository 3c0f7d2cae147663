//! The single source of truth: SQLite (the embedded default) and PostgreSQL through sqlx.
//!
//! Both backends run the same SQL (`repository.rs`, compiled once per backend with its own `Db`
//! type); what differs (types in the migrations, connection set-up, how change-feed appends are
//! serialised) lives in `sqlite.rs` and `postgres.rs`. Every write is one transaction that writes the
//! record, an immutable revision row and a change-feed row whose order equals commit order.

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

/// Filters of the dataset list. Each is backed by an index. With `modified_since`, the list is in
/// order of change (`updated_at`, then id), as incremental harvesters read it; otherwise in order of
/// creation (id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatasetFilter {
    pub organisation: Option<String>,
    /// Matched case-insensitively.
    pub keyword: Option<String>,
    /// Records changed at or after this instant (`updated_at`), for incremental harvesting.
    pub modified_since: Option<OffsetDateTime>,
    /// Only what a reader may see; `None` for everything.
    pub readable: Option<Readable>,
}

/// What harvesters ask for: records changed (or deleted) in `[from, until)`, of one organisation.
/// Deletions are not filtered by `readable`: each tombstone carries its label for the caller to judge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HarvestFilter {
    pub organisation: Option<String>,
    pub from: Option<OffsetDateTime>,
    /// Exclusive.
    pub until: Option<OffsetDateTime>,
    /// Only the live records a reader may see; `None` for every one.
    pub readable: Option<Readable>,
}

/// A record as harvesters list it, in order of its last change: alive, or deleted.
#[derive(Debug)]
pub enum Harvested {
    Live(RecordJson),
    Deleted(Tombstone),
}

impl Harvested {
    /// Its place in the list: the time of its last change, then its id.
    pub fn position(&self) -> (OffsetDateTime, Uuid) {
        match self {
            Self::Live(record) => (record.updated_at, record.id),
            Self::Deleted(tombstone) => (tombstone.deleted_at, tombstone.id),
        }
    }
}

/// What stays of a deleted dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Tombstone {
    pub id: Uuid,
    pub organisation: String,
    /// The label it had when deleted: who may learn of the deletion.
    pub label: fathom_model::SecurityLabel,
    pub deleted_at: OffsetDateTime,
}

/// What a reader may see, as the list's SQL tests it: the classifications they are cleared for and
/// the category values they hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Readable {
    pub classifications: Vec<String>,
    pub held: Vec<String>,
    /// Datasets granted to the reader: readable within `classifications` whatever their categories.
    pub granted: Vec<Uuid>,
}

/// Which concepts of a vocabulary a list shows, in order of their display label.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConceptFilter {
    /// Concepts with a name (a label in any language, or the notation) that starts with this,
    /// lower-cased: autocomplete.
    pub prefix: Option<String>,
    /// The narrower concepts of the concept with this IRI.
    pub broader: Option<String>,
    /// Top concepts only.
    pub top: bool,
    /// After this concept: its display label, lower-cased, and its IRI.
    pub after: Option<(String, String)>,
    pub limit: u32,
}

/// A link from one dataset to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DatasetLink {
    /// `prov:wasDerivedFrom`: the target is a source of the dataset.
    DerivedFrom,
    /// `dcat:previousVersion`: the dataset is the next version of the target.
    PreviousVersion,
}

impl DatasetLink {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DerivedFrom => "derived_from",
            Self::PreviousVersion => "previous_version",
        }
    }

    /// The targets of this link in a dataset's metadata.
    pub fn targets(self, metadata: &fathom_model::DatasetMetadata) -> Vec<Uuid> {
        match self {
            Self::DerivedFrom => metadata.was_derived_from.clone(),
            Self::PreviousVersion => metadata.previous_version.into_iter().collect(),
        }
    }
}

/// Which way a walk along links goes: to the targets (sources, older versions) or back from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk {
    Upstream,
    Downstream,
}

/// One link a walk found: `dataset` links to `target`, `depth` links from where the walk started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkFound {
    pub dataset: Uuid,
    pub target: Uuid,
    pub depth: i32,
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

/// One immutable revision of a record.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Revision {
    pub revision: i64,
    pub operation: Operation,
    /// The name of the user who made the change.
    pub actor: String,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    /// The full record as it was after this revision; `None` for a deletion.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub snapshot: Option<serde_json::Value>,
}

/// One committed change, in commit order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Change {
    pub seq: i64,
    /// `organisation`, `dataset`, or a kind of entity (`platform`, …).
    #[schema(value_type = String)]
    pub entity_type: EntityType,
    pub entity_id: Uuid,
    pub revision: i64,
    pub operation: Operation,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
}

/// One event of the outbox, in commit order (`seq`: its change in the change feed). Its `id` stays
/// the same however often it is delivered, so consumers drop duplicates by it.
#[derive(Debug, Clone)]
pub struct OutboxEvent {
    pub seq: i64,
    pub id: Uuid,
    /// `org.fathom.dataset.created`, …
    pub event_type: String,
    /// The record the event is about.
    pub subject: Uuid,
    /// The record's revision: the event's place among the events about its subject.
    pub sequence: i64,
    pub time: OffsetDateTime,
    pub data: Box<serde_json::value::RawValue>,
    /// The W3C `traceparent` of the request that made the change, when traces were exported.
    pub traceparent: Option<String>,
}

/// A delivery target as the outbox knows it: how far it has got, who relays to it, what waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTarget {
    pub name: String,
    /// The `seq` of the last event delivered.
    pub position: i64,
    pub lease_owner: Option<String>,
    pub heartbeat_at: OffsetDateTime,
    /// Events not yet delivered.
    pub pending: i64,
    /// When the oldest of them happened.
    pub oldest_pending: Option<OffsetDateTime>,
}

/// A webhook subscription. Its secret signs deliveries, so it is kept as given (and never shown by
/// `Debug`).
#[derive(Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    /// Event types or patterns (`org.fathom.dataset.*`); empty: every type.
    pub event_types: Vec<String>,
    pub secret: String,
    /// The user whose view of the catalogue decides which events are sent.
    pub owner: String,
    pub created_by: String,
    /// The change feed's position when the subscription was made: events after it are sent.
    pub start_seq: i64,
    pub created_at: OffsetDateTime,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("event_types", &self.event_types)
            .field("secret", &"<redacted>")
            .field("owner", &self.owner)
            .field("created_by", &self.created_by)
            .field("start_seq", &self.start_seq)
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl Webhook {
    /// What the names of webhook subscriptions' event targets begin with.
    pub const TARGET_PREFIX: &str = "webhook:";

    /// The event target the subscription's deliveries are recorded under.
    pub fn target(&self) -> String {
        format!("{}{}", Self::TARGET_PREFIX, self.id)
    }
}

/// An event a target gave up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub target: String,
    pub seq: i64,
    pub event_id: Uuid,
    pub attempts: i32,
    pub error: String,
    pub failed_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    /// A classification of the security policy; `None`: the policy's public one.
    pub clearance: Option<String>,
    /// ISO 3166 alpha-3.
    pub nationality: Option<String>,
    /// Communities such as `NATO` or a project: category values the user holds.
    pub communities: Vec<String>,
    pub memberships: Vec<Membership>,
    pub created_at: OffsetDateTime,
}

/// An API token as stored: the secret itself is never kept, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub secret_hash: Vec<u8>,
    pub description: String,
    /// What the token may be used for: `read`, `write`, `admin`.
    pub scopes: Vec<String>,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
}

/// What a change of a workflow tells, written in the change's transaction: its event (into the
/// change feed and the outbox) and its audit entry (whose actor is the revision's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub event: EventDraft,
    pub audit: AuditEvent,
}

/// Which grants a list shows: those of any of `grantees`, on `dataset` (each, when given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantFilter {
    pub grantees: Vec<Grantee>,
    pub dataset: Option<Uuid>,
}

/// Which audit entries a query keeps: those of this actor, about this subject, of this event
/// (each when given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub event: Option<String>,
}

/// A dataset's next revision, written only while the stored one is `expected_revision`, and the
/// audit entry that describes the change (a label change), written in the same transaction.
#[derive(Debug, Clone, Copy)]
pub struct DatasetUpdate<'a> {
    pub dataset: &'a Dataset,
    pub expected_revision: i64,
    pub audit: Option<&'a AuditEvent>,
}

impl<'a> DatasetUpdate<'a> {
    /// An update that the audit log does not describe (nothing security-relevant changed).
    pub fn new(dataset: &'a Dataset, expected_revision: i64) -> Self {
        Self {
            dataset,
            expected_revision,
            audit: None,
        }
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AuditEvent {
    /// Its place in the log, from 1 (0 for one not yet written).
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    /// What happened: `authentication_failed`, `token_created`, `label_changed`, …
    pub event: String,
    /// Who did it, when known.
    pub actor: Option<String>,
    /// What it was done to: a user, a token id, a dataset.
    pub subject: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// The hash of an audit entry in the chain: SHA-256 over the previous entry's hash and this entry's
/// content (sequence number, time, event, actor, subject, details as stored).
pub fn audit_hash(previous: &[u8], event: &AuditEvent) -> Vec<u8> {
    use sha2::Digest;
    // The time as stored: in UTC, to the microsecond.
    let at = event.recorded_at.to_offset(time::UtcOffset::UTC);
    let at = at
        .replace_nanosecond(at.nanosecond() / 1_000 * 1_000)
        .unwrap_or(at);
    let content = serde_json::json!([
        event.seq,
        at.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        event.event,
        event.actor,
        event.subject,
        event.details.to_string(),
    ]);
    let mut hasher = sha2::Sha256::new();
    hasher.update(previous);
    hasher.update(content.to_string().as_bytes());
    hasher.finalize().to_vec()
}

/// The first entry of the audit log whose link is broken: its sequence number and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub seq: i64,
    pub reason: String,
}

/// What walking the audit log's chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub entries: u64,
    /// The last entry's hash (hex), which a later walk can be compared with.
    pub last_hash: Option<String>,
    pub broken: Option<BrokenLink>,
}

/// A token as listed: never its secret or hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSummary {
    pub id: Uuid,
    pub user: String,
    pub description: String,
    pub scopes: Vec<String>,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// What a POST with an `Idempotency-Key` found when it claimed the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key is new and now held by this request, which must complete or release it.
    Claimed,
    /// Another request with this key has not finished yet.
    InProgress,
    /// A request with this key finished; its response is to be replayed if the request is the same.
    Completed {
        request_hash: Vec<u8>,
        status: u16,
        response: String,
    },
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

    pub async fn insert_organisation(
        &self,
        organisation: &Organisation,
        actor: &str,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.insert_organisation(organisation, actor).await)
    }

    /// Replaces the organisation if it is still at `expected_revision`.
    pub async fn update_organisation(
        &self,
        organisation: &Organisation,
        expected_revision: i64,
        actor: &str,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.update_organisation(organisation, expected_revision, actor).await)
    }

    /// Deletes the organisation if it is still at `expected_revision` and publishes no dataset.
    pub async fn delete_organisation(
        &self,
        id: Uuid,
        expected_revision: i64,
        actor: &str,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.delete_organisation(id, expected_revision, actor).await)
    }

    pub async fn organisation(&self, key: &RecordKey) -> StoreResult<Organisation> {
        dispatch!(self, r => r.organisation(key).await)
    }

    pub async fn organisations(&self, page: PageRequest) -> StoreResult<Vec<Organisation>> {
        dispatch!(self, r => r.organisations(page).await)
    }

    /// Inserts an entity with its references (which must exist).
    pub async fn insert_entity(&self, entity: &Entity, actor: &str) -> StoreResult<()> {
        dispatch!(self, r => r.insert_entity(entity, actor).await)
    }

    /// Replaces the entity if it is still at `expected_revision`.
    pub async fn update_entity(
        &self,
        entity: &Entity,
        expected_revision: i64,
        actor: &str,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.update_entity(entity, expected_revision, actor).await)
    }

    /// Deletes the entity if it is still at `expected_revision` and nothing refers to it
    /// ([`StoreError::Reference`] otherwise); its revisions stay.
    pub async fn delete_entity(
        &self,
        kind: EntityKind,
        id: Uuid,
        expected_revision: i64,
        actor: &str,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.delete_entity(kind, id, expected_revision, actor).await)
    }

    pub async fn entity(&self, kind: EntityKind, key: &RecordKey) -> StoreResult<Entity> {
        dispatch!(self, r => r.entity(kind, key).await)
    }

    /// A page of the entities of one kind, in order of creation.
    pub async fn entities(&self, kind: EntityKind, page: PageRequest) -> StoreResult<Vec<Entity>> {
        dispatch!(self, r => r.entities(kind, page).await)
    }

    /// Which of these slugs entities of `kind` have, in one query per few hundred slugs.
    pub async fn entity_slugs_taken(
        &self,
        kind: EntityKind,
        slugs: &[&str],
    ) -> StoreResult<HashSet<String>> {
        dispatch!(self, r => r.entity_slugs_taken(kind, slugs).await)
    }

    pub async fn insert_dataset(&self, dataset: &Dataset, actor: &str) -> StoreResult<()> {
        dispatch!(self, r => r.insert_dataset(dataset, actor).await)
    }

    /// Inserts many datasets in one transaction (bulk import): all or none.
    pub async fn insert_datasets(&self, datasets: &[Dataset], actor: &str) -> StoreResult<()> {
        dispatch!(self, r => r.insert_datasets(datasets, actor).await)
    }

    /// Replaces the dataset if it is still at the update's expected revision.
    pub async fn update_dataset(&self, update: DatasetUpdate<'_>, actor: &str) -> StoreResult<()> {
        dispatch!(self, r => r.update_dataset(update, actor).await)
    }

    /// Deletes the dataset if it is still at `expected_revision`; its revisions stay.
    pub async fn delete_dataset(
        &self,
        id: Uuid,
        expected_revision: i64,
        actor: &str,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.delete_dataset(id, expected_revision, actor).await)
    }

    pub async fn dataset(&self, key: &RecordKey) -> StoreResult<Dataset> {
        dispatch!(self, r => r.dataset(key).await)
    }

    /// The dataset's stored JSON, undecoded.
    pub async fn dataset_json(&self, key: &RecordKey) -> StoreResult<RecordJson> {
        dispatch!(self, r => r.dataset_json(key).await)
    }

    /// Whether a dataset has this slug (for deriving a unique slug).
    pub async fn dataset_slug_taken(&self, slug: &str) -> StoreResult<bool> {
        dispatch!(self, r => r.dataset_slug_taken(slug).await)
    }

    /// Which of these slugs datasets already have, in one query.
    pub async fn dataset_slugs_taken(&self, slugs: &[&str]) -> StoreResult<HashSet<String>> {
        dispatch!(self, r => r.dataset_slugs_taken(slugs).await)
    }

    pub async fn datasets(
        &self,
        filter: &DatasetFilter,
        page: PageRequest,
    ) -> StoreResult<Vec<Dataset>> {
        dispatch!(self, r => r.datasets(filter, page).await)
    }

    /// A page of datasets as their stored JSON, undecoded.
    pub async fn datasets_json(
        &self,
        filter: &DatasetFilter,
        page: PageRequest,
    ) -> StoreResult<Vec<RecordJson>> {
        dispatch!(self, r => r.datasets_json(filter, page).await)
    }

    /// Live and deleted datasets in order of their last change, after `after` (a position of
    /// [`Harvested::position`]), at most `limit` of them.
    pub async fn harvest(
        &self,
        filter: &HarvestFilter,
        after: Option<(OffsetDateTime, Uuid)>,
        limit: u32,
    ) -> StoreResult<Vec<Harvested>> {
        dispatch!(self, r => r.harvest(filter, after, limit).await)
    }

    /// How many live datasets [`Store::harvest`] lists for `filter`, and every tombstone it lists.
    pub async fn harvest_extent(
        &self,
        filter: &HarvestFilter,
    ) -> StoreResult<(u64, Vec<Tombstone>)> {
        dispatch!(self, r => r.harvest_extent(filter).await)
    }

    pub async fn insert_harvest_source(
        &self,
        source: &fathom_model::HarvestSource,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.insert_harvest_source(source).await)
    }

    pub async fn harvest_sources(&self) -> StoreResult<Vec<fathom_model::HarvestSource>> {
        dispatch!(self, r => r.harvest_sources().await)
    }

    pub async fn harvest_source(&self, id: Uuid) -> StoreResult<fathom_model::HarvestSource> {
        dispatch!(self, r => r.harvest_source(id).await)
    }

    pub async fn delete_harvest_source(&self, id: Uuid) -> StoreResult<()> {
        dispatch!(self, r => r.delete_harvest_source(id).await)
    }

    /// Starts a job, leased until `lease_until`, unless one of its source is running; running jobs
    /// whose lease expired are failed first.
    pub async fn begin_harvest_job(
        &self,
        job: &fathom_model::HarvestJob,
        lease_until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        dispatch!(self, r => r.begin_harvest_job(job, lease_until, now).await)
    }

    /// Fails the running jobs whose lease expired (their harvester crashed or was killed).
    pub async fn expire_harvest_jobs(&self, now: OffsetDateTime) -> StoreResult<u64> {
        dispatch!(self, r => r.expire_harvest_jobs(now).await)
    }

    /// Saves a running job's state and extends its lease; false if it is no longer running.
    pub async fn save_harvest_job(
        &self,
        job: &fathom_model::HarvestJob,
        lease_until: OffsetDateTime,
    ) -> StoreResult<bool> {
        dispatch!(self, r => r.save_harvest_job(job, lease_until).await)
    }

    /// A source's jobs, newest first.
    pub async fn harvest_jobs(
        &self,
        source: Uuid,
        limit: u32,
    ) -> StoreResult<Vec<fathom_model::HarvestJob>> {
        dispatch!(self, r => r.harvest_jobs(source, limit).await)
    }

    pub async fn record_harvested(
        &self,
        source: Uuid,
        records: &[(String, Uuid)],
    ) -> StoreResult<()> {
        dispatch!(self, r => r.record_harvested(source, records).await)
    }

    pub async fn harvested_records(&self, source: Uuid) -> StoreResult<Vec<(String, Uuid)>> {
        dispatch!(self, r => r.harvested_records(source).await)
    }

    pub async fn forget_harvested(&self, source: Uuid, keys: &[String]) -> StoreResult<()> {
        dispatch!(self, r => r.forget_harvested(source, keys).await)
    }

    /// Every organisation by slug, a page of 1,000 at a time (a catalogue has few).
    pub async fn organisations_by_slug(
        &self,
    ) -> StoreResult<std::collections::HashMap<String, Organisation>> {
        let mut by_slug = std::collections::HashMap::new();
        let mut after = None;
        loop {
            let page = self
                .organisations(PageRequest { after, limit: 1000 })
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(Position::Id(last.id));
            by_slug.extend(page.into_iter().map(|o| (o.details.slug.to_string(), o)));
        }
        Ok(by_slug)
    }

    /// What stays of the deleted dataset `id`, if it was deleted.
    pub async fn tombstone(&self, id: Uuid) -> StoreResult<Option<Tombstone>> {
        dispatch!(self, r => r.tombstone(id).await)
    }

    /// The shared secret `name`, made of `fresh` by the first replica to ask for it.
    pub async fn server_secret(&self, name: &str, fresh: &[u8]) -> StoreResult<Vec<u8>> {
        dispatch!(self, r => r.server_secret(name, fresh).await)
    }

    /// The revisions of a record after `after_revision`, oldest first, without snapshots.
    pub async fn revisions(
        &self,
        entity_type: EntityType,
        id: Uuid,
        after_revision: i64,
        limit: u32,
    ) -> StoreResult<Vec<Revision>> {
        dispatch!(self, r => r.revisions(entity_type, id, after_revision, limit).await)
    }

    /// One revision of a record, with its snapshot.
    pub async fn revision(
        &self,
        entity_type: EntityType,
        id: Uuid,
        revision: i64,
    ) -> StoreResult<Revision> {
        dispatch!(self, r => r.revision(entity_type, id, revision).await)
    }

    /// The links of kind `link` reachable from `starts` in `walk`'s direction, at most `depth`
    /// links away, each once at its least depth: one recursive query.
    pub async fn walk_links(
        &self,
        link: DatasetLink,
        starts: &[Uuid],
        walk: Walk,
        depth: u32,
    ) -> StoreResult<Vec<LinkFound>> {
        dispatch!(self, r => r.walk_links(link, starts, walk, depth).await)
    }

    /// The revision a record was at, at instant `at` (`None` if it did not exist yet).
    pub async fn revision_at(
        &self,
        entity_type: EntityType,
        id: Uuid,
        at: OffsetDateTime,
    ) -> StoreResult<Option<i64>> {
        dispatch!(self, r => r.revision_at(entity_type, id, at).await)
    }

    /// Saves a vocabulary with all its concepts, which replace those it had: a new one when
    /// `expected_revision` is `None`, else if it is still at that revision.
    pub async fn save_vocabulary(
        &self,
        vocabulary: &Vocabulary,
        concepts: &[Concept],
        expected_revision: Option<i64>,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.save_vocabulary(vocabulary, concepts, expected_revision).await)
    }

    pub async fn vocabulary(&self, key: &RecordKey) -> StoreResult<Vocabulary> {
        dispatch!(self, r => r.vocabulary(key).await)
    }

    /// Every vocabulary, by slug (a catalogue has few).
    pub async fn vocabularies(&self) -> StoreResult<Vec<Vocabulary>> {
        dispatch!(self, r => r.vocabularies().await)
    }

    /// Deletes a vocabulary and its concepts.
    pub async fn delete_vocabulary(&self, id: Uuid) -> StoreResult<()> {
        dispatch!(self, r => r.delete_vocabulary(id).await)
    }

    pub async fn concepts(
        &self,
        vocabulary: Uuid,
        filter: &ConceptFilter,
    ) -> StoreResult<Vec<Concept>> {
        dispatch!(self, r => r.concepts(vocabulary, filter).await)
    }

    /// A concept of a vocabulary by its IRI or its notation.
    pub async fn concept(&self, vocabulary: Uuid, key: &str) -> StoreResult<Concept> {
        dispatch!(self, r => r.concept(vocabulary, key).await)
    }

    /// Which of `values` name a concept of one of `vocabularies`: an IRI as it is, a label or
    /// notation in any case. One query per few hundred values.
    pub async fn concept_values_found(
        &self,
        vocabularies: &[Uuid],
        values: &[&str],
    ) -> StoreResult<HashSet<String>> {
        dispatch!(self, r => r.concept_values_found(vocabularies, values).await)
    }

    /// The IRIs of every concept narrower than those named by `values` (IRIs, or labels and
    /// notations in any case), however deep, in any vocabulary: one recursive query.
    pub async fn narrower_concepts(&self, values: &[&str]) -> StoreResult<Vec<Concept>> {
        dispatch!(self, r => r.narrower_concepts(values).await)
    }

    /// Registers a version of a profile ([`StoreError::Duplicate`] if it exists).
    pub async fn insert_profile_version(&self, version: &ProfileVersion) -> StoreResult<()> {
        dispatch!(self, r => r.insert_profile_version(version).await)
    }

    /// The registered versions of one profile, or of every profile, in order of profile and version.
    pub async fn profile_versions(
        &self,
        profile: Option<&str>,
    ) -> StoreResult<Vec<ProfileVersion>> {
        dispatch!(self, r => r.profile_versions(profile).await)
    }

    pub async fn profile_version(
        &self,
        profile: &str,
        version: Version,
    ) -> StoreResult<ProfileVersion> {
        dispatch!(self, r => r.profile_version(profile, version).await)
    }

    /// The datasets with these slugs that exist, in one query per few hundred slugs.
    pub async fn datasets_by_slugs(&self, slugs: &[&str]) -> StoreResult<Vec<Dataset>> {
        dispatch!(self, r => r.datasets_by_slugs(slugs).await)
    }

    /// The datasets with these ids that exist, in one query per few hundred ids.
    pub async fn datasets_by_ids(&self, ids: &[Uuid]) -> StoreResult<Vec<Dataset>> {
        dispatch!(self, r => r.datasets_by_ids(ids).await)
    }

    /// The sequence number of the latest committed change (0 when there is none).
    pub async fn latest_change(&self) -> StoreResult<i64> {
        dispatch!(self, r => r.latest_change().await)
    }

    /// Changes after `after_seq`, in commit order.
    pub async fn changes_since(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<Change>> {
        dispatch!(self, r => r.changes_since(after_seq, limit).await)
    }

    /// Up to `limit` events of the outbox (the change feed's events not yet pruned) after
    /// `after_seq`, in commit order.
    pub async fn events_after(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<OutboxEvent>> {
        dispatch!(self, r => r.events_after(after_seq, limit).await)
    }

    /// Takes or renews `owner`'s lease on the target `name` until `until`, creating the target at
    /// position `start` if it is new. `None` while another owner holds an unexpired lease; else the
    /// target's position: the `seq` of the last event it was sent.
    pub async fn lease_event_target(
        &self,
        name: &str,
        owner: &str,
        start: i64,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreResult<Option<i64>> {
        dispatch!(self, r => r.lease_event_target(name, owner, start, now, until).await)
    }

    /// Records that the target has been sent every event up to `position` (or, moving back, that
    /// the events after `position` are to be sent again); `false` (and nothing written) if `owner`
    /// no longer holds its lease.
    pub async fn move_event_target(
        &self,
        name: &str,
        owner: &str,
        position: i64,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        dispatch!(self, r => r.move_event_target(name, owner, position, now).await)
    }

    /// Gives up `owner`'s lease on the target, so another relay may take it at once.
    pub async fn release_event_target(&self, name: &str, owner: &str) -> StoreResult<()> {
        dispatch!(self, r => r.release_event_target(name, owner).await)
    }

    /// Every target, with what waits for it.
    pub async fn event_targets(&self) -> StoreResult<Vec<EventTarget>> {
        dispatch!(self, r => r.event_targets().await)
    }

    /// Prunes (clears the data of) events that happened before `before` and that every target
    /// relayed since then has been sent; how many.
    pub async fn prune_events(&self, before: OffsetDateTime) -> StoreResult<u64> {
        dispatch!(self, r => r.prune_events(before).await)
    }

    /// The event at `seq`, unless it was pruned (or the change predates events).
    pub async fn event(&self, seq: i64) -> StoreResult<Option<OutboxEvent>> {
        Ok(self
            .events_after(seq - 1, 1)
            .await?
            .into_iter()
            .find(|e| e.seq == seq))
    }

    pub async fn insert_webhook(&self, webhook: &Webhook) -> StoreResult<()> {
        dispatch!(self, r => r.insert_webhook(webhook).await)
    }

    /// Every webhook subscription, oldest first.
    pub async fn webhooks(&self) -> StoreResult<Vec<Webhook>> {
        dispatch!(self, r => r.webhooks().await)
    }

    /// Deletes a subscription with its delivery position and dead letters.
    pub async fn delete_webhook(&self, webhook: &Webhook) -> StoreResult<()> {
        dispatch!(self, r => r.delete_webhook(webhook).await)
    }

    /// Records that `target` gave up on an event, and moves `owner`'s target past it, in one
    /// transaction; `false` (and nothing written) if `owner` no longer holds the target.
    pub async fn dead_letter(&self, letter: &DeadLetter, owner: &str) -> StoreResult<bool> {
        dispatch!(self, r => r.dead_letter(letter, owner).await)
    }

    /// The events `target` gave up on, oldest first.
    pub async fn dead_letters(&self, target: &str) -> StoreResult<Vec<DeadLetter>> {
        dispatch!(self, r => r.dead_letters(target).await)
    }

    pub async fn delete_dead_letter(&self, target: &str, seq: i64) -> StoreResult<()> {
        dispatch!(self, r => r.delete_dead_letter(target, seq).await)
    }

    /// Inserts a user, with the audit entry that says so.
    pub async fn insert_user(&self, user: &User, audit: &AuditEvent) -> StoreResult<()> {
        dispatch!(self, r => r.insert_user(user, audit).await)
    }

    /// Every user, by name.
    pub async fn users(&self) -> StoreResult<Vec<User>> {
        dispatch!(self, r => r.users().await)
    }

    /// The names of the users who were disabled.
    pub async fn disabled_users(&self) -> StoreResult<HashSet<String>> {
        dispatch!(self, r => r.disabled_users().await)
    }

    pub async fn user_by_name(&self, name: &str) -> StoreResult<User> {
        dispatch!(self, r => r.user_by_name(name).await)
    }

    pub async fn admin_exists(&self) -> StoreResult<bool> {
        dispatch!(self, r => r.admin_exists().await)
    }

    /// Inserts a token, with the audit entry that says so.
    pub async fn insert_token(&self, token: &ApiToken, audit: &AuditEvent) -> StoreResult<()> {
        dispatch!(self, r => r.insert_token(token, audit).await)
    }

    /// The tokens, of one user or of all, newest first.
    pub async fn tokens(&self, user: Option<&str>) -> StoreResult<Vec<TokenSummary>> {
        dispatch!(self, r => r.tokens(user).await)
    }

    /// Records that the token with this hash was used at `now`.
    pub async fn touch_token(&self, secret_hash: &[u8], now: OffsetDateTime) -> StoreResult<()> {
        dispatch!(self, r => r.touch_token(secret_hash, now).await)
    }

    /// Disables a user, with the audit entry that says so: their tokens stop authenticating.
    pub async fn disable_user(
        &self,
        name: &str,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.disable_user(name, now, audit).await)
    }

    /// The user holding the token with this secret hash, and the token's scopes, if the token is
    /// neither revoked nor expired at `now` and the user is not disabled.
    pub async fn user_by_token(
        &self,
        secret_hash: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<(User, Vec<String>)> {
        dispatch!(self, r => r.user_by_token(secret_hash, now).await)
    }

    /// Appends an event to the audit log.
    pub async fn append_audit_event(&self, event: &AuditEvent) -> StoreResult<()> {
        dispatch!(self, r => r.append_audit_event(event).await)
    }

    /// Walks the audit log's hash chain from the first entry and reports the first broken link:
    /// an entry changed, removed or inserted out of turn.
    pub async fn verify_audit_chain(&self) -> StoreResult<ChainReport> {
        dispatch!(self, r => r.verify_audit_chain().await)
    }

    pub async fn insert_access_request(
        &self,
        request: &AccessRequest,
        notice: &Notice,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.insert_access_request(request, notice).await)
    }

    /// Writes an action on a request read at `expected_revision`, with the grant its approval made;
    /// `StaleRevision` (nothing written) when another action came first.
    pub async fn update_access_request(
        &self,
        request: &AccessRequest,
        expected_revision: i64,
        notice: &Notice,
        grant: Option<(&Grant, &Notice)>,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.update_access_request(request, expected_revision, notice, grant).await)
    }

    /// A grant made otherwise than by a request's approval (an agreement's).
    pub async fn insert_grant(&self, grant: &Grant, notice: &Notice) -> StoreResult<()> {
        dispatch!(self, r => r.insert_grant(grant, notice).await)
    }

    pub async fn access_request(&self, id: Uuid) -> StoreResult<AccessRequest> {
        dispatch!(self, r => r.access_request(id).await)
    }

    /// A page of requests in order of creation: of `requester`, waiting for `waiting_for`, or all.
    pub async fn access_requests(
        &self,
        requester: Option<&str>,
        waiting_for: Option<&str>,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<AccessRequest>> {
        dispatch!(self, r => r.access_requests(requester, waiting_for, after, limit).await)
    }

    /// Undecided requests whose deadline is at or before `now`.
    pub async fn overdue_access_requests(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<AccessRequest>> {
        dispatch!(self, r => r.overdue_access_requests(now, limit).await)
    }

    /// The datasets granted at `now` to the user `name` or to one of `organisations`.
    pub async fn granted_datasets(
        &self,
        name: &str,
        organisations: &[&str],
        now: OffsetDateTime,
    ) -> StoreResult<Vec<Uuid>> {
        dispatch!(self, r => r.granted_datasets(name, organisations, now).await)
    }

    pub async fn grants(
        &self,
        filter: &GrantFilter,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<Grant>> {
        dispatch!(self, r => r.grants(filter, after, limit).await)
    }

    pub async fn grant(&self, id: Uuid) -> StoreResult<Grant> {
        dispatch!(self, r => r.grant(id).await)
    }

    /// Ends a grant (revoked when `grant.revoked` is set, else its expiry told); `false` when
    /// another writer ended it first.
    pub async fn end_grant(&self, grant: &Grant, notice: &Notice) -> StoreResult<bool> {
        dispatch!(self, r => r.end_grant(grant, notice).await)
    }

    /// Grants whose period ended at or before `now` and whose end was not told yet.
    pub async fn grants_ended_untold(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Grant>> {
        dispatch!(self, r => r.grants_ended_untold(now, limit).await)
    }

    /// The dataset workflows in which something waits for a reviewer (`releases`: for a release
    /// officer), in order of dataset id after `after`, at most `limit`.
    pub async fn open_publications(
        &self,
        releases: bool,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<Publication>> {
        dispatch!(self, r => r.open_publications(releases, after, limit).await)
    }

    /// Proposed agreements one of `organisations` is a party to, at most `limit`.
    pub async fn proposed_agreements(
        &self,
        organisations: &[&str],
        limit: u32,
    ) -> StoreResult<Vec<Agreement>> {
        dispatch!(self, r => r.proposed_agreements(organisations, limit).await)
    }

    pub async fn publication(&self, dataset: Uuid) -> StoreResult<Option<Publication>> {
        dispatch!(self, r => r.publication(dataset).await)
    }

    /// Writes a dataset's publication workflow if it is still at `expected_revision` (0: none yet),
    /// with the dataset as a step changed it (at its expected revision) and what a step tells;
    /// `StaleRevision` (nothing written) when either moved.
    pub async fn write_publication(
        &self,
        publication: &Publication,
        expected_revision: i64,
        dataset: Option<DatasetUpdate<'_>>,
        notice: Option<&Notice>,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.write_publication(publication, expected_revision, dataset, notice).await)
    }

    pub async fn insert_agreement(
        &self,
        agreement: &Agreement,
        notice: &Notice,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.insert_agreement(agreement, notice).await)
    }

    /// Writes an action on an agreement read at `expected_revision`, with the grants it makes and
    /// ends; `StaleRevision` (nothing written) when another action came first.
    pub async fn update_agreement(
        &self,
        agreement: &Agreement,
        expected_revision: i64,
        notice: &Notice,
        made: &[(Grant, Notice)],
        ended: &[(Grant, Notice)],
    ) -> StoreResult<()> {
        dispatch!(self, r => r.update_agreement(agreement, expected_revision, notice, made, ended).await)
    }

    pub async fn agreement(&self, id: Uuid) -> StoreResult<Agreement> {
        dispatch!(self, r => r.agreement(id).await)
    }

    /// A page of agreements in order of creation: those one of `organisations` is a party to, or
    /// all of them.
    pub async fn agreements(
        &self,
        organisations: Option<&[&str]>,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<Agreement>> {
        dispatch!(self, r => r.agreements(organisations, after, limit).await)
    }

    /// Agreements not yet ended whose period ended at or before `now`.
    pub async fn agreements_past_end(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Agreement>> {
        dispatch!(self, r => r.agreements_past_end(now, limit).await)
    }

    pub async fn grants_by_ids(&self, ids: &[Uuid]) -> StoreResult<Vec<Grant>> {
        dispatch!(self, r => r.grants_by_ids(ids).await)
    }

    /// The audit log after `after`, in order.
    pub async fn audit_events(&self, after: i64, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        self.audit_search(&AuditFilter::default(), after, limit)
            .await
    }

    /// The entries of the audit log after `after` that `filter` keeps, in order.
    pub async fn audit_search(
        &self,
        filter: &AuditFilter,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>> {
        dispatch!(self, r => r.audit_events(filter, after, limit).await)
    }

    /// Revokes a token, with the audit entry that says so.
    pub async fn revoke_token(
        &self,
        id: Uuid,
        now: OffsetDateTime,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.revoke_token(id, now, audit).await)
    }

    pub async fn claim_idempotency_key(
        &self,
        principal: Uuid,
        key: &str,
        request_hash: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<IdempotencyClaim> {
        dispatch!(self, r => r.claim_idempotency_key(principal, key, request_hash, now).await)
    }

    pub async fn complete_idempotency_key(
        &self,
        principal: Uuid,
        key: &str,
        status: u16,
        response: &str,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.complete_idempotency_key(principal, key, status, response).await)
    }

    /// Frees a claimed key after a failure that should not be replayed (e.g. the database was down).
    pub async fn release_idempotency_key(&self, principal: Uuid, key: &str) -> StoreResult<()> {
        dispatch!(self, r => r.release_idempotency_key(principal, key).await)
    }

    /// Forgets idempotency keys created before `before`.
    pub async fn prune_idempotency_keys(&self, before: OffsetDateTime) -> StoreResult<u64> {
        dispatch!(self, r => r.prune_idempotency_keys(before).await)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
