//! Importing records of other catalogues (ISO 19139, Dublin Core, DCAT), idempotently by their
//! identifier there: the identifier gives the slug, and is kept as the dataset's first persistent
//! identifier, so a second import of the same record updates it (or leaves it unchanged) instead of
//! adding a copy. Each record is reported on its own, and a bad one never stops the batch.

use std::collections::{HashMap, HashSet};

use fathom_formats::import::ForeignRecord;
use fathom_model::{Dataset, DatasetMetadata, Principal, Slug};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Catalogue, Result, ServiceError, new_dataset, now};
use crate::codes::Code;

/// What became of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    Created,
    Updated,
    /// Already imported, and unchanged since.
    Unchanged,
    Failed,
}

/// One record's line of an import report.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ImportedRecord {
    /// The record's identifier in the catalogue it comes from, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    pub status: ImportStatus,
    /// The dataset it became.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<Uuid>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ImportedRecord {
    fn failed(identifier: Option<String>, reason: String) -> Self {
        Self {
            identifier,
            status: ImportStatus::Failed,
            dataset: None,
            reason: Some(reason),
        }
    }
}

impl Catalogue {
    /// Imports `records` (as read from a document) into `organisation`, in one transaction for the
    /// new ones; updates are written one by one. The report has a line per record, in their order.
    #[tracing::instrument(level = "debug", skip_all, fields(records = records.len()))]
    pub async fn import_foreign(
        &self,
        principal: &Principal,
        organisation: &str,
        records: Vec<std::result::Result<ForeignRecord, String>>,
    ) -> Result<Vec<ImportedRecord>> {
        crate::access::require_administrator(
            principal,
            "only an admin may import records of other catalogues",
        )?;
        if !self.organisation_exists(organisation).await? {
            return Err(ServiceError::Unresolved(super::unknown_organisation(
                organisation,
            )));
        }
        let mut report: Vec<Option<ImportedRecord>> = vec![None; records.len()];
        let mut drafts = Vec::new();
        let mut seen = HashSet::new();
        for (position, record) in records.into_iter().enumerate() {
            let record = match record {
                Ok(record) => record,
                Err(reason) => {
                    report[position] = Some(ImportedRecord::failed(None, reason));
                    continue;
                }
            };
            if !seen.insert(record.identifier.clone()) {
                let reason =
                    "the batch holds this identifier twice; the first was imported".to_owned();
                report[position] = Some(ImportedRecord::failed(Some(record.identifier), reason));
                continue;
            }
            let labelled = record.dataset.security_label.is_some();
            match self.foreign_draft(principal, organisation, record.dataset) {
                Ok(metadata) => drafts.push((position, record.identifier, metadata, labelled)),
                Err(error) => {
                    report[position] = Some(ImportedRecord::failed(
                        Some(record.identifier),
                        error.summary(),
                    ));
                }
            }
        }
        // Each identifier's slug, and the one it takes when another record already holds that.
        let slugs: Vec<(Slug, Slug)> = drafts
            .iter()
            .map(|(_, identifier, _, _)| {
                // A UUID (another Fathom's id) would make no slug: slugs never look like ids.
                let slug = match Uuid::try_parse(identifier) {
                    Ok(_) => Slug::from_title(&format!("record {identifier}")),
                    Err(_) => Slug::from_title(identifier),
                };
                let hash = Sha256::digest(identifier.as_bytes());
                let suffix = u32::from_be_bytes([hash[0], hash[1], hash[2], hash[3]]);
                let alternative = slug.with_suffix(suffix);
                (slug, alternative)
            })
            .collect();
        let wanted: Vec<&str> = slugs
            .iter()
            .flat_map(|(a, b)| [a.as_str(), b.as_str()])
            .collect();
        let existing: HashMap<String, Dataset> = self
            .store
            .datasets_by_slugs(&wanted)
            .await
            .map_err(ServiceError::Internal)?
            .into_iter()
            .map(|dataset| (dataset.metadata.slug.to_string(), dataset))
            .collect();
        let mut created = Vec::new();
        let mut created_slugs = HashSet::new();
        for ((position, identifier, mut metadata, labelled), (slug, alternative)) in
            drafts.into_iter().zip(slugs)
        {
            let holds = |d: &&Dataset| d.metadata.identifiers.first() == Some(&identifier);
            let mine = existing
                .get(slug.as_str())
                .filter(holds)
                .or_else(|| existing.get(alternative.as_str()).filter(holds));
            if let Some(current) = mine {
                metadata.slug = current.metadata.slug.clone();
                // A record without a label keeps the one the dataset has (a steward may have set it).
                if !labelled {
                    metadata.security_label = current.metadata.security_label.clone();
                }
                report[position] = Some(
                    self.reimport(principal, identifier, current, metadata)
                        .await?,
                );
                continue;
            }
            let free = [slug, alternative].into_iter().find(|s| {
                !existing.contains_key(s.as_str()) && !created_slugs.contains(s.as_str())
            });
            let Some(free) = free else {
                let reason =
                    "its slug and the alternative are both held by other datasets".to_owned();
                report[position] = Some(ImportedRecord::failed(Some(identifier), reason));
                continue;
            };
            metadata.slug = free;
            if let Err(error) = self.check_write(principal, &metadata, None).await {
                report[position] = Some(ImportedRecord::failed(Some(identifier), error.summary()));
                continue;
            }
            created_slugs.insert(metadata.slug.to_string());
            let dataset = new_dataset(metadata, None);
            report[position] = Some(ImportedRecord {
                identifier: Some(identifier),
                status: ImportStatus::Created,
                dataset: Some(dataset.id),
                reason: None,
            });
            created.push(dataset);
        }
        if !created.is_empty() {
            self.store
                .insert_datasets(&created, &principal.name)
                .await
                .map_err(super::dataset_write_error)?;
        }
        Ok(report.into_iter().flatten().collect())
    }

    /// A foreign record as Fathom metadata: the organisation given, the identifier first among the
    /// persistent identifiers.
    fn foreign_draft(
        &self,
        principal: &Principal,
        organisation: &str,
        mut input: fathom_model::DatasetInput,
    ) -> Result<DatasetMetadata> {
        if !principal.may_write() {
            return Err(ServiceError::refused(
                Code::ReadOnlyToken,
                "this token may only read",
            ));
        }
        input.organisation = Some(organisation.to_owned());
        // The slug is set from the identifier once the identifier's records are known.
        input.slug = None;
        Ok(input.parse(&self.policy, Uuid::now_v7)?.metadata)
    }

    /// A record imported before: updated when it changed, else left alone. Distributions keep their
    /// ids where their access URL is the same.
    async fn reimport(
        &self,
        principal: &Principal,
        identifier: String,
        current: &Dataset,
        mut metadata: DatasetMetadata,
    ) -> Result<ImportedRecord> {
        for distribution in &mut metadata.distributions {
            if let Some(same) = current
                .metadata
                .distributions
                .iter()
                .find(|d| d.access_url == distribution.access_url)
            {
                distribution.id = same.id;
            }
        }
        if metadata == current.metadata {
            return Ok(ImportedRecord {
                identifier: Some(identifier),
                status: ImportStatus::Unchanged,
                dataset: Some(current.id),
                reason: None,
            });
        }
        if let Err(error) = self.check_no_release(&current.metadata, &metadata) {
            return Ok(ImportedRecord::failed(Some(identifier), error.summary()));
        }
        if let Err(error) = self
            .check_write(principal, &metadata, Some(&current.metadata))
            .await
        {
            return Ok(ImportedRecord::failed(Some(identifier), error.summary()));
        }
        let updated = Dataset {
            metadata,
            revision: current.revision + 1,
            updated_at: now(),
            ..current.clone()
        };
        match self
            .write_update(
                principal,
                &updated,
                current.revision,
                &current.metadata.security_label,
            )
            .await
        {
            Ok(()) => Ok(ImportedRecord {
                identifier: Some(identifier),
                status: ImportStatus::Updated,
                dataset: Some(current.id),
                reason: None,
            }),
            Err(fathom_store::StoreError::StaleRevision | fathom_store::StoreError::NotFound) => {
                Ok(ImportedRecord::failed(
                    Some(identifier),
                    "the dataset changed while it was imported; import again".to_owned(),
                ))
            }
            Err(error) => Err(ServiceError::Internal(error)),
        }
    }
}
