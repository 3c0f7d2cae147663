//! Harvest sources (other catalogues Fathom reads, on demand or on a schedule) and the jobs that read
//! them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::validation::ValidationErrors;
use crate::values::{Iri, Slug};

/// The protocols a source is read by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// An OAI-PMH repository, read by `ListRecords` (incrementally, from the last success).
    OaiPmh,
    /// A DCAT catalogue: one RDF document, or pages linked by `hydra:next`.
    Dcat,
}

/// A catalogue to harvest, valid by construction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HarvestSource {
    pub id: Uuid,
    pub name: String,
    pub kind: SourceKind,
    /// The OAI-PMH base URL, or the DCAT document's (first page's) address.
    #[schema(value_type = String)]
    pub url: Iri,
    /// Where the harvested datasets go.
    #[schema(value_type = String)]
    pub organisation: Slug,
    /// OAI-PMH: `iso19139` (the default) or `oai_dc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata_prefix: Option<String>,
    /// OAI-PMH: the set to harvest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<String>,
    /// Harvest every so many minutes; only on demand when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every_minutes: Option<u32>,
    /// Politeness: at most this many requests per second to the source.
    pub requests_per_second: f64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A source as a client sends it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HarvestSourceInput {
    pub name: Option<String>,
    /// `oai_pmh` or `dcat`.
    pub kind: Option<String>,
    pub url: Option<String>,
    pub organisation: Option<String>,
    pub metadata_prefix: Option<String>,
    pub set: Option<String>,
    pub every_minutes: Option<u32>,
    /// Default 5.
    pub requests_per_second: Option<f64>,
}

/// The metadata formats an OAI-PMH source can be read in.
pub const HARVEST_PREFIXES: [&str; 2] = ["iso19139", "oai_dc"];

impl HarvestSourceInput {
    pub fn parse(self, id: Uuid, now: OffsetDateTime) -> Result<HarvestSource, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = errors.require("/name", self.name).and_then(|name| {
            let name = name.trim().to_owned();
            let valid = !name.is_empty() && name.len() <= 200 && !name.contains(char::is_control);
            errors.check(
                "/name",
                if valid {
                    Ok(name)
                } else {
                    Err("must be 1 to 200 characters on one line".to_owned())
                },
            )
        });
        let kind = errors.require("/kind", self.kind).and_then(|kind| {
            errors.check(
                "/kind",
                match kind.as_str() {
                    "oai_pmh" => Ok(SourceKind::OaiPmh),
                    "dcat" => Ok(SourceKind::Dcat),
                    other => Err(format!("`{other}` is not one of oai_pmh, dcat")),
                },
            )
        });
        let url = errors
            .require("/url", self.url)
            .and_then(|url| errors.check("/url", Iri::parse_web(&url)));
        let organisation = errors
            .require("/organisation", self.organisation)
            .and_then(|slug| errors.check("/organisation", Slug::parse(&slug)));
        let metadata_prefix = match (kind, self.metadata_prefix) {
            (Some(SourceKind::Dcat), Some(_)) => {
                errors.push("/metadata_prefix", "is for OAI-PMH sources only");
                None
            }
            (_, Some(prefix)) if !HARVEST_PREFIXES.contains(&prefix.as_str()) => {
                errors.push(
                    "/metadata_prefix",
                    format!("`{prefix}` is not one of {}", HARVEST_PREFIXES.join(", ")),
                );
                None
            }
            (Some(SourceKind::OaiPmh), prefix) => {
                Some(prefix.unwrap_or_else(|| HARVEST_PREFIXES[0].to_owned()))
            }
            (_, prefix) => prefix,
        };
        if kind == Some(SourceKind::Dcat) && self.set.is_some() {
            errors.push("/set", "is for OAI-PMH sources only");
        }
        if let Some(minutes) = self.every_minutes
            && !(5..=525_600).contains(&minutes)
        {
            errors.push("/every_minutes", "must be 5 to 525600 (a year)");
        }
        let requests_per_second = self.requests_per_second.unwrap_or(5.0);
        if !(0.01..=100.0).contains(&requests_per_second) {
            errors.push("/requests_per_second", "must be 0.01 to 100");
        }
        match (name, kind, url, organisation) {
            (Some(name), Some(kind), Some(url), Some(organisation)) if errors.is_empty() => {
                Ok(HarvestSource {
                    id,
                    name,
                    kind,
                    url,
                    organisation,
                    metadata_prefix,
                    set: self.set,
                    every_minutes: self.every_minutes,
                    requests_per_second,
                    created_at: now,
                })
            }
            _ => Err(errors),
        }
    }
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Running,
    Succeeded,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }
}

/// One run of a source: what it did, record by record where something went wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HarvestJob {
    pub id: Uuid,
    pub source: Uuid,
    pub status: JobStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub finished_at: Option<OffsetDateTime>,
    /// An incremental run's start: changes since then were asked for.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub changed_since: Option<OffsetDateTime>,
    pub requests: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Datasets retired because the source deleted them or no longer lists them.
    pub retired: u64,
    pub failed: u64,
    /// The failed records (the first hundred).
    #[serde(default)]
    pub errors: Vec<JobError>,
    /// Why the job failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
    pub reason: String,
}

impl HarvestJob {
    /// The most failed records a job keeps.
    pub const MAX_ERRORS: usize = 100;

    pub fn start(
        id: Uuid,
        source: Uuid,
        now: OffsetDateTime,
        changed_since: Option<OffsetDateTime>,
    ) -> Self {
        Self {
            id,
            source,
            status: JobStatus::Running,
            started_at: now,
            finished_at: None,
            changed_since,
            requests: 0,
            created: 0,
            updated: 0,
            unchanged: 0,
            retired: 0,
            failed: 0,
            errors: Vec::new(),
            message: None,
        }
    }

    pub fn record_error(&mut self, identifier: Option<String>, reason: String) {
        self.failed += 1;
        if self.errors.len() < Self::MAX_ERRORS {
            self.errors.push(JobError { identifier, reason });
        }
    }
}
