//! The catalogue's use cases: organisations, datasets and their distributions.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use fathom_profiles::CompiledProfile;

use fathom_model::{
    BoundField, Dataset, DatasetDraft, DatasetInput, DatasetMetadata, DatasetState, Distribution,
    DistributionInput, Organisation, OrganisationInput, Policy, Principal, ProfileRef,
    SecurityLabel, Slug, Subject, ValidationErrors, decode_json, decode_value,
};
use fathom_store::{
    AuditEvent, DatasetFilter, DatasetUpdate, EntityType, Operation, PageRequest, PoolStatus,
    RecordJson, RecordKey, Revision, Store, StoreError,
};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

mod entities;
mod foreign;
mod lineage;
mod profiles;
mod publication;
mod vocabularies;
pub use foreign::{ImportStatus, ImportedRecord};
pub use lineage::{Lineage, LineageEdge, LineageNode, VersionEntry};
pub use profiles::ProfileSummary;
pub use publication::{PublicationView, WorkingCopyView};

use crate::access;
use crate::audit::SecurityEvent;
use crate::codes::Code;
use crate::error::ServiceError;
use crate::merge_patch::merge_patch;
use crate::revision_diff::RevisionDiff;
use fathom_store::now;

type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// How many datasets an import writes per transaction.
pub const IMPORT_BATCH: usize = 1_000;

/// What `fathom import` does with a line it cannot import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Reports the line and goes on with the next.
    #[default]
    Continue,
    /// Imports the lines before it and stops.
    Stop,
}

/// A line an import refused, with why.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectedLine {
    pub line: u64,
    pub error: String,
}

/// What one call of [`Catalogue::import_datasets`] did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportOutcome {
    pub imported: u64,
    pub rejected: Vec<RejectedLine>,
    /// A line was rejected under [`OnError::Stop`]; nothing after it was written.
    pub stopped: bool,
}

/// The catalogue: every read and write of organisations and datasets goes through here.
#[derive(Debug, Clone)]
pub struct Catalogue {
    store: Store,
    policy: Arc<Policy>,
    /// The metadata profiles' versions compiled so far (immutable once registered).
    compiled_profiles: Arc<RwLock<HashMap<ProfileRef, Arc<CompiledProfile>>>>,
}

impl Catalogue {
    pub(crate) fn new(store: Store, policy: Arc<Policy>) -> Self {
        Self {
            store,
            policy,
            compiled_profiles: Arc::default(),
        }
    }

    /// The security policy labels are parsed and decided against.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// How the database's connection pools are used (metrics).
    pub fn database_pools(&self) -> Vec<PoolStatus> {
        self.store.pools()
    }

    /// Checks that the database answers (readiness).
    pub async fn ping(&self) -> Result<()> {
        self.store.ping().await.map_err(ServiceError::Internal)
    }

    // --- organisations -------------------------------------------------------------------------

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_organisation(
        &self,
        principal: &Principal,
        input: OrganisationInput,
    ) -> Result<Organisation> {
        access::require_administrator(principal, "only an admin may change organisations")?;
        let details = input.parse()?;
        let at = now();
        let organisation = Organisation {
            id: Uuid::now_v7(),
            details,
            revision: 1,
            created_at: at,
            updated_at: at,
        };
        self.store
            .insert_organisation(&organisation, &principal.name)
            .await
            .map_err(|e| ServiceError::from_store("organisation", e))?;
        Ok(organisation)
    }

    pub async fn organisation(&self, key: &RecordKey) -> Result<Organisation> {
        self.store
            .organisation(key)
            .await
            .map_err(|e| ServiceError::from_store("organisation", e))
    }

    pub async fn organisations(&self, page: PageRequest) -> Result<Vec<Organisation>> {
        self.store
            .organisations(page)
            .await
            .map_err(ServiceError::Internal)
    }

    /// Every organisation by slug, for naming the publishers of many datasets.
    pub async fn organisations_by_slug(&self) -> Result<HashMap<String, Organisation>> {
        self.store
            .organisations_by_slug()
            .await
            .map_err(ServiceError::Internal)
    }

    /// Replaces an organisation at revision `expected`. Its slug cannot change: datasets refer to it.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn replace_organisation(
        &self,
        principal: &Principal,
        key: &RecordKey,
        expected: Option<i64>,
        input: OrganisationInput,
    ) -> Result<Organisation> {
        access::require_administrator(principal, "only an admin may change organisations")?;
        let current = self.organisation(key).await?;
        let expected = check_revision("organisation", expected, current.revision)?;
        let details = input.parse()?;
        if details.slug != current.details.slug {
            return Err(ValidationErrors::single(
                "/slug",
                "cannot change: datasets refer to their organisation by its slug",
            )
            .into());
        }
        let organisation = Organisation {
            details,
            revision: current.revision + 1,
            updated_at: now(),
            ..current
        };
        self.store
            .update_organisation(&organisation, expected, &principal.name)
            .await
            .map_err(|e| write_error("organisation", e, expected))?;
        Ok(organisation)
    }

    /// Applies a JSON Merge Patch to an organisation at revision `expected`.
    pub async fn patch_organisation(
        &self,
        principal: &Principal,
        key: &RecordKey,
        expected: Option<i64>,
        patch: &Value,
    ) -> Result<Organisation> {
        access::require_administrator(principal, "only an admin may change organisations")?;
        let current = self.organisation(key).await?;
        let expected = check_revision("organisation", expected, current.revision)?;
        let input = patched(&current, patch)?;
        self.replace_organisation(principal, key, Some(expected), input)
            .await
    }

    /// Deletes an organisation that publishes no dataset, at revision `expected` if given.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn delete_organisation(
        &self,
        principal: &Principal,
        key: &RecordKey,
        expected: Option<i64>,
    ) -> Result<()> {
        access::require_administrator(principal, "only an admin may change organisations")?;
        let current = self.organisation(key).await?;
        let expected = check_revision("organisation", expected, current.revision)?;
        self.store
            .delete_organisation(current.id, expected, &principal.name)
            .await
            .map_err(|e| match e {
                StoreError::Reference => ServiceError::refused(
                    Code::StillReferenced,
                    format!(
                        "organisation `{}` still publishes datasets; delete or move them first",
                        current.details.slug
                    ),
                ),
                other => write_error("organisation", other, expected),
            })
    }

    // --- datasets ------------------------------------------------------------------------------

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_dataset(
        &self,
        principal: &Principal,
        input: DatasetInput,
    ) -> Result<Dataset> {
        let draft = self.parse_dataset(input).await?;
        self.check_write(principal, &draft.metadata, None).await?;
        self.check_references(principal, None, &draft.metadata)
            .await?;
        let state = self
            .check_direct_write(principal, None, &draft.metadata, draft.state)
            .await?;
        let mut dataset = new_dataset(draft.metadata, state);
        if draft.slug_derived {
            dataset.metadata.slug = self
                .free_slug(&dataset.metadata.slug, &HashSet::new())
                .await?;
        }
        self.store
            .insert_dataset(&dataset, &principal.name)
            .await
            .map_err(dataset_write_error)?;
        Ok(dataset)
    }

    /// A dataset `reader` may see (`None`: an anonymous reader). One they may not see is not found,
    /// exactly as if it did not exist.
    pub async fn dataset(&self, reader: Option<&Principal>, key: &RecordKey) -> Result<Dataset> {
        let dataset = self
            .store
            .dataset(key)
            .await
            .map_err(|e| ServiceError::from_store("dataset", e))?;
        self.visible(reader, dataset.id, &dataset.metadata.security_label)?;
        Ok(dataset)
    }

    /// A dataset as its stored JSON, for reads that serve it unchanged.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn dataset_json(
        &self,
        reader: Option<&Principal>,
        key: &RecordKey,
    ) -> Result<RecordJson> {
        let record = self
            .store
            .dataset_json(key)
            .await
            .map_err(|e| ServiceError::from_store("dataset", e))?;
        self.visible(reader, record.id, &label_of(record.json.get())?)?;
        let mut records = [record];
        self.hide_unseen_links_in_json(reader, &mut records).await?;
        let [record] = records;
        Ok(record)
    }

    /// `NotFound` unless `reader` may see the dataset `id` labelled `label`.
    fn visible(&self, reader: Option<&Principal>, id: Uuid, label: &SecurityLabel) -> Result<()> {
        self.visible_to(&access::subject_of(&self.policy, reader), id, label)
    }

    /// As [`Catalogue::visible`], for a subject already made.
    fn visible_to(&self, subject: &Subject, id: Uuid, label: &SecurityLabel) -> Result<()> {
        if self.policy.may_read_dataset(subject, id, label) {
            Ok(())
        } else {
            Err(ServiceError::NotFound("dataset"))
        }
    }

    /// A page of the datasets `reader` may see, as their stored JSON (the label filter is SQL).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn datasets_json(
        &self,
        reader: Option<&Principal>,
        filter: &DatasetFilter,
        page: PageRequest,
    ) -> Result<Vec<RecordJson>> {
        let filter = DatasetFilter {
            readable: access::readable(&self.policy, reader),
            ..filter.clone()
        };
        let mut records = self
            .store
            .datasets_json(&filter, page)
            .await
            .map_err(ServiceError::Internal)?;
        self.hide_unseen_links_in_json(reader, &mut records).await?;
        Ok(records)
    }

    /// The datasets with these ids that `reader` may see, in the order of `ids` (those that no
    /// longer exist, or are not to be seen, are left out).
    pub async fn datasets_by_ids(
        &self,
        reader: Option<&Principal>,
        ids: &[Uuid],
    ) -> Result<Vec<Dataset>> {
        let mut found = self
            .store
            .datasets_by_ids(ids)
            .await
            .map_err(ServiceError::Internal)?;
        let subject = access::subject_of(&self.policy, reader);
        found.retain(|dataset| {
            self.visible_to(&subject, dataset.id, &dataset.metadata.security_label)
                .is_ok()
        });
        let order: HashMap<Uuid, usize> = ids.iter().enumerate().map(|(n, id)| (*id, n)).collect();
        found.sort_by_key(|dataset| order.get(&dataset.id).copied().unwrap_or(usize::MAX));
        Ok(found)
    }

    pub async fn datasets(
        &self,
        filter: &DatasetFilter,
        page: PageRequest,
    ) -> Result<Vec<Dataset>> {
        self.store
            .datasets(filter, page)
            .await
            .map_err(ServiceError::Internal)
    }

    /// Replaces a dataset at revision `expected`. A body without a slug keeps the current one, so a
    /// dataset's address does not move when its title changes.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn replace_dataset(
        &self,
        principal: &Principal,
        key: &RecordKey,
        expected: Option<i64>,
        input: DatasetInput,
    ) -> Result<Dataset> {
        let current = self.dataset(Some(principal), key).await?;
        let expected = check_revision("dataset", expected, current.revision)?;
        let mut draft = self.parse_dataset(input).await?;
        if draft.slug_derived {
            draft.metadata.slug = current.metadata.slug.clone();
        }
        self.check_no_release(&current.metadata, &draft.metadata)?;
        let state = self
            .check_direct_write(principal, Some(&current), &draft.metadata, draft.state)
            .await?;
        self.check_write(principal, &draft.metadata, Some(&current.metadata))
            .await?;
        self.keep_unseen_links(principal, &current, &mut draft.metadata)
            .await?;
        self.check_references(principal, Some(&current), &draft.metadata)
            .await?;
        let previous_label = current.metadata.security_label.clone();
        let dataset = Dataset {
            metadata: draft.metadata,
            state: state.unwrap_or(current.state),
            revision: current.revision + 1,
            updated_at: now(),
            ..current
        };
        self.save_dataset(principal, &dataset, expected, &previous_label)
            .await?;
        Ok(dataset)
    }

    /// Applies a JSON Merge Patch to a dataset at revision `expected`.
    pub async fn patch_dataset(
        &self,
        principal: &Principal,
        key: &RecordKey,
        expected: Option<i64>,
        patch: &Value,
    ) -> Result<Dataset> {
        let current = self.dataset(Some(principal), key).await?;
        let expected = check_revision("dataset", expected, current.revision)?;
        let input = patched(&current, patch)?;
        self.replace_dataset(principal, &RecordKey::Id(current.id), Some(expected), input)
            .await
    }

    /// Deletes a dataset, at revision `expected` if given. Its revisions are kept.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn delete_dataset(
        &self,
        principal: &Principal,
        key: &RecordKey,
        expected: Option<i64>,
    ) -> Result<()> {
        let current = self.dataset(Some(principal), key).await?;
        self.check_write(principal, &current.metadata, Some(&current.metadata))
            .await?;
        self.check_deletion(principal, &current).await?;
        let expected = check_revision("dataset", expected, current.revision)?;
        self.store
            .delete_dataset(current.id, expected, &principal.name)
            .await
            .map_err(|e| write_error("dataset", e, expected))
    }

    /// The revisions of a dataset after `after`, oldest first, without their snapshots. Revisions
    /// outlive the dataset, so the key of a deleted dataset must be its id.
    /// Visible as the dataset is: to a reader who may see it now or, once deleted, as it was last
    /// labelled.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn dataset_revisions(
        &self,
        reader: Option<&Principal>,
        key: &RecordKey,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Revision>> {
        let id = self.visible_history(reader, key).await?;
        let revisions = self
            .store
            .revisions(EntityType::Dataset, id, after, limit)
            .await
            .map_err(ServiceError::Internal)?;
        if revisions.is_empty() && after == 0 {
            return Err(ServiceError::NotFound("dataset"));
        }
        Ok(revisions)
    }

    /// The latest `limit` revisions of a dataset, newest first, each with what it changed from the
    /// one before (`None` for the first listed, and where the reader may not see either revision as
    /// it was labelled). Snapshots are not returned; links to what the reader may not see are
    /// hidden before comparing.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn dataset_changes(
        &self,
        reader: Option<&Principal>,
        key: &RecordKey,
        limit: u32,
    ) -> Result<Vec<(Revision, Option<RevisionDiff>)>> {
        let id = self.visible_history(reader, key).await?;
        self.changes_of(reader, id, limit).await
    }

    /// [`Catalogue::dataset_changes`] of a dataset already read for `reader`.
    pub async fn dataset_changes_of(
        &self,
        reader: Option<&Principal>,
        dataset: &Dataset,
        limit: u32,
    ) -> Result<Vec<(Revision, Option<RevisionDiff>)>> {
        self.changes_of(reader, dataset.id, limit).await
    }

    /// The changes of the dataset `id`, whose history `reader` may see.
    async fn changes_of(
        &self,
        reader: Option<&Principal>,
        id: Uuid,
        limit: u32,
    ) -> Result<Vec<(Revision, Option<RevisionDiff>)>> {
        // One more than listed, to compare the oldest listed with the one before it.
        let mut revisions = self
            .store
            .latest_revisions(EntityType::Dataset, id, limit.saturating_add(1))
            .await
            .map_err(ServiceError::Internal)?;
        let subject = access::subject_of(&self.policy, reader);
        for revision in &mut revisions {
            let seen = match &revision.snapshot {
                Some(snapshot) => self.visible_to(&subject, id, &label_in(snapshot)?).is_ok(),
                None => true,
            };
            if !seen {
                revision.snapshot = None;
            }
        }
        let mut snapshots: Vec<&mut serde_json::Value> = revisions
            .iter_mut()
            .filter_map(|r| r.snapshot.as_mut())
            .collect();
        self.hide_unseen_links(reader, &mut snapshots).await?;
        let changes = (0..revisions.len().min(limit as usize))
            .map(|n| {
                let diff = match (revisions.get(n + 1), &revisions[n]) {
                    (Some(before), after)
                        if before.snapshot.is_some() && after.snapshot.is_some() =>
                    {
                        Some(RevisionDiff::between(before, after))
                    }
                    _ => None,
                };
                let mut listed = revisions[n].clone();
                listed.snapshot = None;
                (listed, diff)
            })
            .collect();
        Ok(changes)
    }

    /// One revision, to a reader who may see the dataset now and the revision as it was labelled.
    pub async fn dataset_revision(
        &self,
        reader: Option<&Principal>,
        key: &RecordKey,
        revision: i64,
    ) -> Result<Revision> {
        let id = self.visible_history(reader, key).await?;
        let mut found = self
            .store
            .revision(EntityType::Dataset, id, revision)
            .await
            .map_err(|e| ServiceError::from_store("revision", e))?;
        if let Some(snapshot) = &mut found.snapshot {
            self.visible(reader, id, &label_in(snapshot)?)
                .map_err(|_| ServiceError::NotFound("revision"))?;
            self.hide_unseen_links(reader, &mut [snapshot]).await?;
        }
        Ok(found)
    }

    /// What changed from one revision of a dataset to another, both visible to `reader`.
    pub async fn dataset_revision_diff(
        &self,
        reader: Option<&Principal>,
        key: &RecordKey,
        from: i64,
        to: i64,
    ) -> Result<RevisionDiff> {
        let before = self.dataset_revision(reader, key, from).await?;
        let after = self.dataset_revision(reader, key, to).await?;
        Ok(RevisionDiff::between(&before, &after))
    }

    /// A dataset as it was at `at`: the revision current then, to a reader who may see the
    /// dataset and that revision. Not found before it was created and after it was deleted.
    pub async fn dataset_as_of(
        &self,
        reader: Option<&Principal>,
        key: &RecordKey,
        at: time::OffsetDateTime,
    ) -> Result<Revision> {
        let id = self.visible_history(reader, key).await?;
        let revision = self
            .store
            .revision_at(EntityType::Dataset, id, at)
            .await
            .map_err(ServiceError::Internal)?
            .ok_or(ServiceError::NotFound("dataset"))?;
        let found = self
            .dataset_revision(reader, &RecordKey::Id(id), revision)
            .await?;
        match found.snapshot {
            Some(_) => Ok(found),
            None => Err(ServiceError::NotFound("dataset")),
        }
    }

    /// The id of a dataset whose history `reader` may see: the dataset's own label decides or, for
    /// a deleted dataset (addressed by id), the label of its last snapshot.
    async fn visible_history(&self, reader: Option<&Principal>, key: &RecordKey) -> Result<Uuid> {
        let id = match key {
            RecordKey::Slug(_) => return Ok(self.dataset(reader, key).await?.id),
            RecordKey::Id(id) => *id,
        };
        let label = match self.store.dataset_json(key).await {
            Ok(record) => label_of(record.json.get())?,
            Err(StoreError::NotFound) => {
                let revisions = self
                    .store
                    .revisions(EntityType::Dataset, id, 0, u32::MAX)
                    .await
                    .map_err(ServiceError::Internal)?;
                let last_snapshot = revisions
                    .iter()
                    .rev()
                    .find(|r| r.operation != Operation::Deleted)
                    .ok_or(ServiceError::NotFound("dataset"))?;
                let snapshot = self
                    .store
                    .revision(EntityType::Dataset, id, last_snapshot.revision)
                    .await
                    .map_err(ServiceError::Internal)?
                    .snapshot
                    .ok_or(ServiceError::NotFound("dataset"))?;
                label_in(&snapshot)?
            }
            Err(other) => return Err(ServiceError::Internal(other)),
        };
        self.visible(reader, id, &label)?;
        Ok(id)
    }

    // --- distributions -------------------------------------------------------------------------

    /// Adds a distribution to a dataset (a new revision of the dataset), at revision `expected` if
    /// given.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_distribution(
        &self,
        principal: &Principal,
        key: &RecordKey,
        expected: Option<i64>,
        input: DistributionInput,
    ) -> Result<(Dataset, Distribution)> {
        let distribution = input.parse(Uuid::now_v7)?;
        let mut dataset = self.dataset(Some(principal), key).await?;
        self.check_write(principal, &dataset.metadata, Some(&dataset.metadata))
            .await?;
        self.check_direct_write(principal, Some(&dataset), &dataset.metadata, None)
            .await?;
        let expected = check_revision("dataset", expected, dataset.revision)?;
        if dataset
            .metadata
            .distributions
            .iter()
            .any(|d| d.id == distribution.id)
        {
            return Err(ServiceError::Duplicate {
                entity: "distribution",
                field: "id".into(),
            });
        }
        dataset.metadata.distributions.push(distribution.clone());
        let dataset = self.save_changed(principal, dataset, expected).await?;
        Ok((dataset, distribution))
    }

    pub async fn distribution(
        &self,
        reader: Option<&Principal>,
        key: &RecordKey,
        id: Uuid,
    ) -> Result<(Dataset, Distribution)> {
        let dataset = self.dataset(reader, key).await?;
        let distribution = dataset
            .metadata
            .distributions
            .iter()
            .find(|d| d.id == id)
            .cloned()
            .ok_or(ServiceError::NotFound("distribution"))?;
        Ok((dataset, distribution))
    }

    /// Replaces one distribution of a dataset, at the dataset's revision `expected` if given.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn replace_distribution(
        &self,
        principal: &Principal,
        key: &RecordKey,
        id: Uuid,
        expected: Option<i64>,
        mut input: DistributionInput,
    ) -> Result<(Dataset, Distribution)> {
        if input
            .id
            .as_deref()
            .is_some_and(|given| given != id.to_string())
        {
            return Err(ValidationErrors::single("/id", "differs from the id in the path").into());
        }
        input.id = Some(id.to_string());
        let distribution = input.parse(|| id)?;
        let (mut dataset, _) = self.distribution(Some(principal), key, id).await?;
        self.check_write(principal, &dataset.metadata, Some(&dataset.metadata))
            .await?;
        self.check_direct_write(principal, Some(&dataset), &dataset.metadata, None)
            .await?;
        let expected = check_revision("dataset", expected, dataset.revision)?;
        for slot in &mut dataset.metadata.distributions {
            if slot.id == id {
                *slot = distribution.clone();
            }
        }
        let dataset = self.save_changed(principal, dataset, expected).await?;
        Ok((dataset, distribution))
    }

    /// Removes one distribution from a dataset, at the dataset's revision `expected` if given.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn delete_distribution(
        &self,
        principal: &Principal,
        key: &RecordKey,
        id: Uuid,
        expected: Option<i64>,
    ) -> Result<Dataset> {
        let (mut dataset, _) = self.distribution(Some(principal), key, id).await?;
        self.check_write(principal, &dataset.metadata, Some(&dataset.metadata))
            .await?;
        self.check_direct_write(principal, Some(&dataset), &dataset.metadata, None)
            .await?;
        let expected = check_revision("dataset", expected, dataset.revision)?;
        dataset.metadata.distributions.retain(|d| d.id != id);
        self.save_changed(principal, dataset, expected).await
    }

    // --- bulk import ---------------------------------------------------------------------------

    /// Imports datasets from NDJSON lines (`(line number, text)`), in transactions of
    /// [`IMPORT_BATCH`]. A batch is parsed and checked first (slugs with one query per batch) and
    /// written all or nothing, so an interrupted import leaves whole batches and no half-written record.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn import_datasets(
        &self,
        principal: &Principal,
        lines: &[(u64, String)],
        on_error: OnError,
    ) -> Result<ImportOutcome> {
        let mut outcome = ImportOutcome::default();
        let mut organisations: HashMap<String, bool> = HashMap::new();
        let vocabularies = self.bound_vocabularies().await?;
        for chunk in lines.chunks(IMPORT_BATCH) {
            let mut drafts = Vec::with_capacity(chunk.len());
            for (line, text) in chunk.iter().filter(|(_, text)| !text.trim().is_empty()) {
                let draft = self
                    .import_draft(principal, text, &mut organisations, &vocabularies)
                    .await;
                drafts.push((*line, draft));
            }
            let candidates: Vec<&str> = drafts
                .iter()
                .filter_map(|(_, draft)| draft.as_ref().ok())
                .map(|draft| draft.metadata.slug.as_str())
                .collect();
            let taken = self
                .store
                .dataset_slugs_taken(&candidates)
                .await
                .map_err(ServiceError::Internal)?;
            let mut batch = Vec::with_capacity(drafts.len());
            let mut in_batch = HashSet::new();
            for (line, draft) in drafts {
                let dataset = match draft {
                    Ok(draft) => self.import_slug(draft, &taken, &in_batch).await,
                    Err(error) => Err(error),
                };
                match dataset {
                    Ok(dataset) => {
                        in_batch.insert(dataset.metadata.slug.as_str().to_owned());
                        batch.push((line, dataset));
                    }
                    Err(error) => {
                        outcome.rejected.push(RejectedLine {
                            line,
                            error: error.summary(),
                        });
                        if on_error == OnError::Stop {
                            outcome.stopped = true;
                            break;
                        }
                    }
                }
            }
            self.write_batch(principal, batch, &mut outcome).await?;
            if outcome.stopped {
                break;
            }
        }
        Ok(outcome)
    }

    /// Decodes and parses one line and checks what it refers to: its organisation (cached per
    /// import), entities, linked datasets, bound vocabularies (read once per import) and profiles.
    async fn import_draft(
        &self,
        principal: &Principal,
        text: &str,
        organisations: &mut HashMap<String, bool>,
        vocabularies: &[fathom_model::Vocabulary],
    ) -> Result<DatasetDraft> {
        let input: DatasetInput = decode_json(text.as_bytes())?;
        let draft = self.parse_dataset(input).await?;
        self.check_write(principal, &draft.metadata, None).await?;
        let organisation = draft.metadata.organisation.as_str();
        let known = match organisations.get(organisation) {
            Some(known) => *known,
            None => {
                let known = self.organisation_exists(organisation).await?;
                organisations.insert(organisation.to_owned(), known);
                known
            }
        };
        self.check_dataset_references(principal, None, &draft.metadata, known, vocabularies)
            .await?;
        Ok(draft)
    }

    /// Settles the slug of an imported dataset: a given slug must be free; a derived one gets a
    /// suffix if it is not (`taken` holds the slugs of the batch already in the store).
    async fn import_slug(
        &self,
        draft: DatasetDraft,
        taken: &HashSet<String>,
        in_batch: &HashSet<String>,
    ) -> Result<Dataset> {
        let slug = draft.metadata.slug.as_str();
        let free = !taken.contains(slug) && !in_batch.contains(slug);
        let mut dataset = new_dataset(draft.metadata, draft.state);
        if !free {
            if !draft.slug_derived {
                return Err(ServiceError::Duplicate {
                    entity: "dataset",
                    field: "slug".into(),
                });
            }
            dataset.metadata.slug = self.free_slug(&dataset.metadata.slug, in_batch).await?;
        }
        Ok(dataset)
    }

    /// Writes a batch in one transaction. Should it fail on a record (a slug taken meanwhile), the
    /// records are written one by one so that only the offending lines are rejected.
    async fn write_batch(
        &self,
        principal: &Principal,
        batch: Vec<(u64, Dataset)>,
        outcome: &mut ImportOutcome,
    ) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let (lines, datasets): (Vec<u64>, Vec<Dataset>) = batch.into_iter().unzip();
        match self.store.insert_datasets(&datasets, &principal.name).await {
            Ok(()) => outcome.imported += datasets.len() as u64,
            Err(StoreError::Duplicate { .. } | StoreError::Reference) => {
                for (line, dataset) in lines.into_iter().zip(&datasets) {
                    match self.store.insert_dataset(dataset, &principal.name).await {
                        Ok(()) => outcome.imported += 1,
                        Err(error) => outcome.rejected.push(RejectedLine {
                            line,
                            error: dataset_write_error(error).summary(),
                        }),
                    }
                }
            }
            Err(other) => return Err(ServiceError::Internal(other)),
        }
        Ok(())
    }

    // --- helpers -------------------------------------------------------------------------------

    async fn organisation_exists(&self, slug: &str) -> Result<bool> {
        match self
            .store
            .organisation(&RecordKey::Slug(slug.to_owned()))
            .await
        {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound) => Ok(false),
            Err(other) => Err(ServiceError::Internal(other)),
        }
    }

    /// Parses a dataset. When it does not parse, the organisation and entities it names that do not
    /// exist are reported with the fields that do not parse, all in one answer.
    async fn parse_dataset(&self, input: DatasetInput) -> Result<DatasetDraft> {
        let (organisation, references) = input.named_references();
        let mut errors = match input.parse(&self.policy, Uuid::now_v7) {
            Ok(draft) => return Ok(draft),
            Err(errors) => errors,
        };
        if let Some(organisation) = organisation
            && !self.organisation_exists(organisation.as_str()).await?
        {
            errors
                .0
                .extend(unknown_organisation(organisation.as_str()).0);
        }
        let references: Vec<_> = references
            .iter()
            .map(|(kind, slug, at)| (*kind, slug, at.clone()))
            .collect();
        gather(self.check_entity_references(&references).await, &mut errors)?;
        Err(ServiceError::Invalid(errors))
    }

    /// Checks that the records a dataset (replacing `current`, for a change) refers to exist: its
    /// organisation, its entities, the datasets it links to, the concepts of bound vocabularies; and
    /// that it conforms to its profiles (see [`Catalogue::check_dataset_references`]).
    async fn check_references(
        &self,
        principal: &Principal,
        current: Option<&Dataset>,
        metadata: &DatasetMetadata,
    ) -> Result<()> {
        let organisation_known = self
            .organisation_exists(metadata.organisation.as_str())
            .await?;
        let vocabularies = self.bound_vocabularies().await?;
        self.check_dataset_references(
            principal,
            current,
            metadata,
            organisation_known,
            &vocabularies,
        )
        .await
    }

    /// Every check of what a dataset refers to, each field that fails reported at once: when only
    /// references fail to resolve (the organisation, entities, concepts), `Unresolved`
    /// (`reference-not-found`); with links or profiles failing too, `Invalid`.
    async fn check_dataset_references(
        &self,
        principal: &Principal,
        current: Option<&Dataset>,
        metadata: &DatasetMetadata,
        organisation_known: bool,
        vocabularies: &[fathom_model::Vocabulary],
    ) -> Result<()> {
        let mut unresolved = ValidationErrors::default();
        if !organisation_known {
            unresolved = unknown_organisation(metadata.organisation.as_str());
        }
        gather(
            self.check_entity_references(&metadata.references()).await,
            &mut unresolved,
        )?;
        let keywords: Vec<(String, &str)> = (metadata.keywords.iter().enumerate())
            .map(|(i, k)| (format!("/keywords/{i}"), k.as_str()))
            .collect();
        let themes: Vec<(String, &str)> = (metadata.themes.iter().enumerate())
            .map(|(i, t)| (format!("/themes/{i}"), t.as_str()))
            .collect();
        for (field, values) in [
            (BoundField::Keywords, keywords),
            (BoundField::Themes, themes),
        ] {
            gather(
                self.check_bound(vocabularies, field, &values).await,
                &mut unresolved,
            )?;
        }
        let mut invalid = ValidationErrors::default();
        gather(
            self.check_links(principal, current, metadata).await,
            &mut invalid,
        )?;
        gather(self.check_profiles(metadata).await, &mut invalid)?;
        if invalid.is_empty() {
            return unresolved
                .into_result(|| ())
                .map_err(ServiceError::Unresolved);
        }
        unresolved.0.extend(invalid.0);
        Err(ServiceError::Invalid(unresolved))
    }

    /// The first of `slug`, `slug-2`, `slug-3`, … that no dataset has and `also_taken` lacks.
    async fn free_slug(&self, slug: &Slug, also_taken: &HashSet<String>) -> Result<Slug> {
        let mut candidate = slug.clone();
        for n in 2.. {
            let taken = also_taken.contains(candidate.as_str())
                || self
                    .store
                    .dataset_slug_taken(candidate.as_str())
                    .await
                    .map_err(ServiceError::Internal)?;
            if !taken {
                break;
            }
            candidate = slug.with_suffix(n);
        }
        Ok(candidate)
    }

    /// Saves a dataset whose metadata the caller changed, as the next revision.
    async fn save_changed(
        &self,
        principal: &Principal,
        mut dataset: Dataset,
        expected: i64,
    ) -> Result<Dataset> {
        dataset.revision = expected + 1;
        dataset.updated_at = now();
        self.save_dataset(
            principal,
            &dataset,
            expected,
            &dataset.metadata.security_label,
        )
        .await?;
        Ok(dataset)
    }

    /// Saves `dataset` over the revision `expected` (see [`Catalogue::write_update`]).
    async fn save_dataset(
        &self,
        principal: &Principal,
        dataset: &Dataset,
        expected: i64,
        previous_label: &SecurityLabel,
    ) -> Result<()> {
        self.write_update(principal, dataset, expected, previous_label)
            .await
            .map_err(|e| match e {
                StoreError::StaleRevision => write_error("dataset", e, expected),
                other => dataset_write_error(other),
            })
    }

    /// Writes `dataset` over the revision `expected`, with the audit entry of its label change
    /// from `previous_label` when it has one, in the same transaction (logged once committed).
    async fn write_update(
        &self,
        principal: &Principal,
        dataset: &Dataset,
        expected: i64,
        previous_label: &SecurityLabel,
    ) -> std::result::Result<(), StoreError> {
        let labelled = LabelledUpdate::new(principal, previous_label, dataset, expected);
        self.store
            .update_dataset(labelled.update(), &principal.name)
            .await?;
        labelled.committed();
        Ok(())
    }
}

/// Adds the invalid fields a check found to `errors`; any other failure stops the checks.
fn gather(checked: Result<()>, errors: &mut ValidationErrors) -> Result<()> {
    match checked {
        Err(ServiceError::Invalid(found) | ServiceError::Unresolved(found)) => {
            errors.0.extend(found.0);
            Ok(())
        }
        other => other,
    }
}

/// A dataset's next revision by `principal`, with the security event of its label change when its
/// label differs from the previous one: the event's entry is written in the update's transaction
/// ([`LabelledUpdate::update`]), and the event logged once that committed
/// ([`LabelledUpdate::committed`]).
pub(crate) struct LabelledUpdate<'a> {
    dataset: &'a Dataset,
    expected_revision: i64,
    label_change: Option<(SecurityEvent<'a>, AuditEvent)>,
}

impl<'a> LabelledUpdate<'a> {
    pub(crate) fn new(
        principal: &'a Principal,
        previous_label: &SecurityLabel,
        dataset: &'a Dataset,
        expected_revision: i64,
    ) -> Self {
        let target = &dataset.metadata;
        let label_change = (previous_label != &target.security_label).then(|| {
            let event = SecurityEvent {
                event: "label_changed",
                actor: Some(&principal.name),
                subject: Some(target.slug.as_str().to_owned()),
                details: serde_json::json!({"from": previous_label, "to": target.security_label}),
            };
            let entry = event.entry();
            (event, entry)
        });
        Self {
            dataset,
            expected_revision,
            label_change,
        }
    }

    /// The store's update, carrying the label change's audit entry.
    pub(crate) fn update(&self) -> DatasetUpdate<'_> {
        DatasetUpdate {
            dataset: self.dataset,
            expected_revision: self.expected_revision,
            audit: self.label_change.as_ref().map(|(_, entry)| entry),
        }
    }

    /// Logs the label change, once the update committed.
    pub(crate) fn committed(self) {
        if let Some((event, _)) = self.label_change {
            event.log();
        }
    }
}

/// A write that failed in the store: a lost race on the revision, a vanished record, a taken slug.
fn write_error(entity: &'static str, error: StoreError, expected: i64) -> ServiceError {
    match error {
        StoreError::StaleRevision => ServiceError::StaleRevision { entity, expected },
        other => ServiceError::from_store(entity, other),
    }
}

fn new_dataset(metadata: fathom_model::DatasetMetadata, state: Option<DatasetState>) -> Dataset {
    Dataset::new(metadata, state.unwrap_or(DatasetState::Published), now())
}

/// The input a record would be sent as after applying `patch` to it.
fn patched<R: serde::Serialize, I: serde::de::DeserializeOwned>(
    record: &R,
    patch: &Value,
) -> Result<I> {
    if !patch.is_object() {
        return Err(ValidationErrors::single("", "a merge patch must be a JSON object").into());
    }
    let mut document = serde_json::to_value(record)
        .map_err(|e| ServiceError::Fault(format!("record cannot be patched: {e}")))?;
    merge_patch(&mut document, patch);
    Ok(decode_value(document)?)
}

/// A dataset write failed in the store; a broken reference is to a record deleted meanwhile.
fn dataset_write_error(error: StoreError) -> ServiceError {
    match error {
        StoreError::Reference => ServiceError::Unresolved(ValidationErrors::single(
            "",
            "refers to an organisation or entity that no longer exists",
        )),
        other => ServiceError::from_store("dataset", other),
    }
}

/// The revision a write is based on: the one the caller expects, which must be current, or the
/// current one when the caller accepts any (`If-Match: *`, or none where it is optional).
pub(crate) fn check_revision(
    entity: &'static str,
    expected: Option<i64>,
    current: i64,
) -> Result<i64> {
    let expected = expected.unwrap_or(current);
    if expected == current {
        Ok(expected)
    } else {
        Err(ServiceError::StaleRevision { entity, expected })
    }
}

impl Catalogue {
    /// Whether `principal` may write `target`, which replaces `current` if given: an editor of the
    /// organisations concerned who may read both labels, and for a new label a steward (a release).
    /// A refusal is recorded in the audit log (`write_denied`).
    async fn check_write(
        &self,
        principal: &Principal,
        target: &DatasetMetadata,
        current: Option<&DatasetMetadata>,
    ) -> Result<()> {
        let decided = self.decide_write(principal, target, current);
        if let Err(ServiceError::Refused { code, detail }) = &decided {
            SecurityEvent {
                event: "write_denied",
                actor: Some(&principal.name),
                subject: Some(target.slug.as_str().to_owned()),
                details: serde_json::json!({"reason": detail, "code": code.as_str()}),
            }
            .record(&self.store)
            .await;
        }
        decided
    }

    /// Refuses a write that widens the dataset's label (`Policy::widens`): that is a release,
    /// asked for and approved through the dataset's actions.
    fn check_no_release(&self, current: &DatasetMetadata, target: &DatasetMetadata) -> Result<()> {
        if self
            .policy
            .widens(&current.security_label, &target.security_label)
        {
            return Err(ServiceError::refused(
                Code::ReleaseRequired,
                "this label lets more people read the dataset: that is a release, asked for with POST …/actions {\"action\": \"request_release\", \"security_label\": …} and approved by a release officer",
            ));
        }
        Ok(())
    }

    fn decide_write(
        &self,
        principal: &Principal,
        target: &DatasetMetadata,
        current: Option<&DatasetMetadata>,
    ) -> Result<()> {
        if !principal.may_write() {
            return Err(ServiceError::refused(
                Code::ReadOnlyToken,
                "this token may only read",
            ));
        }
        let subject = access::subject(&self.policy, principal);
        let policy = &self.policy;
        if let Some(current) = current {
            if !policy.may_edit(&subject, &current.organisation, &current.security_label) {
                return Err(ServiceError::refused(
                    Code::EditorRequired,
                    "only an editor of the dataset's organisation may change it",
                ));
            }
            if current.security_label != target.security_label
                && !policy.may_release(
                    &subject,
                    &current.organisation,
                    &current.security_label,
                    &target.security_label,
                )
            {
                return Err(ServiceError::refused(
                    Code::ClearanceRequired,
                    "changing a dataset's label is a release: it takes a steward of its organisation cleared for both labels",
                ));
            }
        }
        if !policy.subject_may_read(&subject, &target.security_label) {
            return Err(ServiceError::refused(
                Code::ClearanceRequired,
                "a dataset cannot be labelled beyond what its writer may read",
            ));
        }
        if !policy.may_edit(&subject, &target.organisation, &target.security_label) {
            return Err(ServiceError::refused(
                Code::EditorRequired,
                "only an editor of the organisation may write its datasets",
            ));
        }
        Ok(())
    }
}

/// The label in a dataset's stored JSON, read without decoding the rest.
fn label_of(json: &str) -> Result<SecurityLabel> {
    #[derive(serde::Deserialize)]
    struct Labelled {
        security_label: SecurityLabel,
    }
    serde_json::from_str::<Labelled>(json)
        .map(|labelled| labelled.security_label)
        .map_err(corrupt_label)
}

/// The label in a revision's snapshot.
fn label_in(snapshot: &Value) -> Result<SecurityLabel> {
    SecurityLabel::deserialize(&snapshot["security_label"]).map_err(corrupt_label)
}

fn corrupt_label(error: serde_json::Error) -> ServiceError {
    ServiceError::Internal(StoreError::Corrupt(format!("a stored label: {error}")))
}

fn unknown_organisation(slug: &str) -> ValidationErrors {
    ValidationErrors::single(
        "/organisation",
        format!("no organisation has the slug `{slug}`"),
    )
}
