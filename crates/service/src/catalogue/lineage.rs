//! Where datasets come from and what became of them: lineage (PROV `wasDerivedFrom`, with the
//! activity that generated each) and DCAT versions (`previousVersion`), walked by one recursive query
//! each way. Lineage respects visibility: a dataset the reader may not see is a placeholder that
//! keeps the graph's shape and shows nothing of the dataset, not even its id.

use std::collections::{HashMap, HashSet};

use fathom_model::{Activity, Dataset, DatasetMetadata, Principal, ValidationErrors};
use fathom_store::{DatasetLink, LinkFound, RecordKey, Walk};
use serde::Serialize;
use uuid::Uuid;

use super::{Catalogue, Result};
use crate::access;
use crate::error::ServiceError;

/// How far a write looks for a cycle: far beyond any real chain of derivations or versions.
const CYCLE_SEARCH_DEPTH: u32 = 10_000;

/// A dataset's lineage: the datasets around it and the derivations between them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Lineage {
    pub root: Uuid,
    pub nodes: Vec<LineageNode>,
    /// `from` was derived from `to` (`prov:wasDerivedFrom`).
    pub edges: Vec<LineageEdge>,
}

/// A dataset of a lineage graph.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineageNode {
    /// The dataset's id; `redacted-N` for a dataset the reader may not see or that was deleted.
    pub id: String,
    /// Links from the root: negative upstream (sources), positive downstream (products).
    pub distance: i32,
    pub redacted: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slug: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub was_generated_by: Option<Activity>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
pub struct LineageEdge {
    pub from: String,
    pub to: String,
}

/// One version of a dataset's version series.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VersionEntry {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Versions from the dataset asked about: negative older, positive newer.
    pub distance: i32,
}

impl Catalogue {
    /// The lineage of a dataset `reader` may see, `depth` derivations up, down or both ways.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn lineage(
        &self,
        reader: Option<&Principal>,
        key: &RecordKey,
        walks: &[Walk],
        depth: u32,
    ) -> Result<Lineage> {
        let root = self.dataset(reader, key).await?;
        let mut found: Vec<(Walk, LinkFound)> = Vec::new();
        for walk in walks {
            let links = self
                .store
                .walk_links(DatasetLink::DerivedFrom, &[root.id], *walk, depth)
                .await
                .map_err(ServiceError::Internal)?;
            found.extend(links.into_iter().map(|link| (*walk, link)));
        }
        // Each dataset at its least distance from the root, upstream negative.
        let mut distance: HashMap<Uuid, i32> = HashMap::from([(root.id, 0)]);
        for (walk, link) in &found {
            let (node, signed) = match walk {
                Walk::Upstream => (link.target, -link.depth),
                Walk::Downstream => (link.dataset, link.depth),
            };
            let known = distance.entry(node).or_insert(signed);
            if signed.abs() < known.abs() {
                *known = signed;
            }
        }
        let ids: Vec<Uuid> = distance.keys().copied().collect();
        let visible = self.visible_datasets(reader, &ids).await?;
        let mut order: Vec<(i32, Uuid)> = distance.iter().map(|(id, d)| (*d, *id)).collect();
        order.sort();
        let mut names: HashMap<Uuid, String> = HashMap::new();
        let mut redacted = 0;
        let mut nodes = Vec::with_capacity(order.len());
        for (distance, id) in order {
            let node = match visible.get(&id) {
                Some(dataset) => LineageNode {
                    id: id.to_string(),
                    distance,
                    redacted: false,
                    slug: Some(dataset.metadata.slug.to_string()),
                    title: Some(dataset.metadata.title.clone()),
                    organisation: Some(dataset.metadata.organisation.to_string()),
                    was_generated_by: dataset.metadata.was_generated_by.clone(),
                },
                None => LineageNode {
                    id: {
                        redacted += 1;
                        format!("redacted-{redacted}")
                    },
                    distance,
                    redacted: true,
                    slug: None,
                    title: None,
                    organisation: None,
                    was_generated_by: None,
                },
            };
            names.insert(id, node.id.clone());
            nodes.push(node);
        }
        let mut seen = HashSet::new();
        let edges = found
            .iter()
            .filter_map(|(_, link)| {
                let edge = LineageEdge {
                    from: names.get(&link.dataset)?.clone(),
                    to: names.get(&link.target)?.clone(),
                };
                seen.insert(edge.clone()).then_some(edge)
            })
            .collect();
        Ok(Lineage {
            root: root.id,
            nodes,
            edges,
        })
    }

    /// The versions of a dataset `reader` may see (older first), through `previous_version` links.
    pub async fn versions(
        &self,
        reader: Option<&Principal>,
        key: &RecordKey,
    ) -> Result<Vec<VersionEntry>> {
        let root = self.dataset(reader, key).await?;
        let mut distance: HashMap<Uuid, i32> = HashMap::from([(root.id, 0)]);
        for walk in [Walk::Upstream, Walk::Downstream] {
            let links = self
                .store
                .walk_links(
                    DatasetLink::PreviousVersion,
                    &[root.id],
                    walk,
                    CYCLE_SEARCH_DEPTH,
                )
                .await
                .map_err(ServiceError::Internal)?;
            for link in links {
                let (id, signed) = match walk {
                    Walk::Upstream => (link.target, -link.depth),
                    Walk::Downstream => (link.dataset, link.depth),
                };
                distance.entry(id).or_insert(signed);
            }
        }
        let ids: Vec<Uuid> = distance.keys().copied().collect();
        let visible = self.visible_datasets(reader, &ids).await?;
        let mut versions: Vec<VersionEntry> = visible
            .into_values()
            .map(|dataset| VersionEntry {
                distance: distance.get(&dataset.id).copied().unwrap_or_default(),
                id: dataset.id,
                slug: dataset.metadata.slug.to_string(),
                title: dataset.metadata.title,
                version: dataset.metadata.version,
            })
            .collect();
        versions.sort_by_key(|v| (v.distance, v.id));
        Ok(versions)
    }

    /// The datasets among `ids` that exist and `reader` may see, by id.
    async fn visible_datasets(
        &self,
        reader: Option<&Principal>,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Dataset>> {
        let subject = access::subject_of(&self.policy, reader);
        Ok(self
            .store
            .datasets_by_ids(ids)
            .await
            .map_err(ServiceError::Internal)?
            .into_iter()
            .filter(|d| {
                self.visible_to(&subject, &d.metadata.security_label)
                    .is_ok()
            })
            .map(|d| (d.id, d))
            .collect())
    }

    /// Checks a dataset's links to other datasets: each names a dataset the writer may see, never
    /// the dataset itself (`own`, for a change) nor one downstream of it, which would make a cycle.
    pub(super) async fn check_links(
        &self,
        principal: &Principal,
        own: Option<Uuid>,
        metadata: &DatasetMetadata,
    ) -> Result<()> {
        let mut errors = ValidationErrors::default();
        for (link, at) in [
            (DatasetLink::DerivedFrom, "/was_derived_from"),
            (DatasetLink::PreviousVersion, "/previous_version"),
        ] {
            let targets = link.targets(metadata);
            if targets.is_empty() {
                continue;
            }
            let pointer = |i: usize| match link {
                DatasetLink::DerivedFrom => format!("{at}/{i}"),
                DatasetLink::PreviousVersion => at.to_owned(),
            };
            let visible = self.visible_datasets(Some(principal), &targets).await?;
            for (i, target) in targets.iter().enumerate() {
                if Some(*target) == own {
                    errors.push(pointer(i), "cannot name the dataset itself");
                } else if !visible.contains_key(target) {
                    errors.push(pointer(i), format!("no dataset has the id `{target}`"));
                }
            }
            let Some(own) = own else { continue };
            let upstream = self
                .store
                .walk_links(link, &targets, Walk::Upstream, CYCLE_SEARCH_DEPTH)
                .await
                .map_err(ServiceError::Internal)?;
            if upstream.iter().any(|found| found.target == own) {
                errors.push(
                    at,
                    "would make a cycle: a dataset named here already comes from this one",
                );
            }
        }
        errors.into_result(|| ()).map_err(Into::into)
    }
}
