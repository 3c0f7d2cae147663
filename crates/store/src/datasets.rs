//! Datasets: the list's filters and what a reader may see of it, links between datasets and walks
//! along them, revisions, and what harvesters list (live records and tombstones). Their rows and
//! filters, and `Store`'s methods on them; the SQL is in `repository/datasets.rs`.

use super::*;

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

impl Walk {
    /// The ways a walk from a dataset finds a first link, from whether it has links to targets
    /// (`upstream`) and links from others (`downstream`).
    pub(crate) fn ways(upstream: bool, downstream: bool) -> Vec<Walk> {
        [(upstream, Walk::Upstream), (downstream, Walk::Downstream)]
            .into_iter()
            .filter_map(|(linked, walk)| linked.then_some(walk))
            .collect()
    }
}

/// [`Store::link_ways`]: whether a dataset (`$1`) has a link of a kind (`$2`) to a target, and
/// one from another dataset; two lookups in the links' two indexes.
pub(crate) const LINK_WAYS: &str = "SELECT \
    EXISTS (SELECT 1 FROM dataset_links WHERE dataset_id = $1 AND relation = $2), \
    EXISTS (SELECT 1 FROM dataset_links WHERE target_id = $1 AND relation = $2)";

/// One link a walk found: `dataset` links to `target`, `depth` links from where the walk started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkFound {
    pub dataset: Uuid,
    pub target: Uuid,
    pub depth: i32,
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

impl Store {
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

    /// What stays of the deleted dataset `id`, if it was deleted.
    pub async fn tombstone(&self, id: Uuid) -> StoreResult<Option<Tombstone>> {
        dispatch!(self, r => r.tombstone(id).await)
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

    /// The latest `limit` revisions of a record, newest first, with their snapshots.
    pub async fn latest_revisions(
        &self,
        entity_type: EntityType,
        id: Uuid,
        limit: u32,
    ) -> StoreResult<Vec<Revision>> {
        dispatch!(self, r => r.latest_revisions(entity_type, id, limit).await)
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

    /// The ways in which a walk along links of kind `link` from dataset `id` finds a first link:
    /// where it finds none, a walk need not be made.
    pub async fn link_ways(&self, link: DatasetLink, id: Uuid) -> StoreResult<Vec<Walk>> {
        dispatch!(self, r => r.link_ways(link, id).await)
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

    /// The datasets with these slugs that exist, in one query per few hundred slugs.
    pub async fn datasets_by_slugs(&self, slugs: &[&str]) -> StoreResult<Vec<Dataset>> {
        dispatch!(self, r => r.datasets_by_slugs(slugs).await)
    }

    /// The datasets with these ids that exist, in one query per few hundred ids.
    pub async fn datasets_by_ids(&self, ids: &[Uuid]) -> StoreResult<Vec<Dataset>> {
        dispatch!(self, r => r.datasets_by_ids(ids).await)
    }
}
