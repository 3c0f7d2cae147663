//! Where datasets come from and what became of them: lineage (PROV `wasDerivedFrom`, with the
//! activity that generated each) and DCAT versions (`previousVersion`), walked by one recursive query
//! each way. Lineage respects visibility: a dataset the reader may not see is a placeholder that
//! keeps the graph's shape and shows nothing of the dataset, not even its id.

use std::collections::{HashMap, HashSet};

use fathom_model::{
    Activity, Dataset, DatasetMetadata, Principal, SecurityLabel, ValidationErrors,
};
use fathom_store::{DatasetLink, LinkFound, RecordJson, RecordKey, StoreError, Walk};
use serde::Serialize;
use uuid::Uuid;

use super::{Catalogue, Result};
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
    /// Its security label (for its marking).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_label: Option<SecurityLabel>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
pub struct LineageEdge {
    pub from: String,
    pub to: String,
}

/// The datasets a dataset links to.
fn link_targets_of(metadata: &DatasetMetadata) -> Vec<Uuid> {
    [DatasetLink::DerivedFrom, DatasetLink::PreviousVersion]
        .into_iter()
        .flat_map(|link| link.targets(metadata))
        .collect()
}

/// The datasets a record's JSON links to.
fn link_targets(record: &serde_json::Value) -> Vec<Uuid> {
    let sources = record["was_derived_from"].as_array().into_iter().flatten();
    sources
        .chain(std::iter::once(&record["previous_version"]))
        .filter_map(id_of)
        .collect()
}

fn id_of(value: &serde_json::Value) -> Option<Uuid> {
    value.as_str().and_then(|s| Uuid::try_parse(s).ok())
}

/// One version of a dataset's version series.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VersionEntry {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Its place from the dataset asked about among the versions the reader may see: negative
    /// older, positive newer.
    pub distance: i32,
    /// Its security label (for its marking).
    pub security_label: SecurityLabel,
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
        self.lineage_of(reader, &root, walks, depth).await
    }

    /// [`Catalogue::lineage`] of a dataset already read for `reader`.
    pub async fn lineage_of(
        &self,
        reader: Option<&Principal>,
        root: &Dataset,
        walks: &[Walk],
        depth: u32,
    ) -> Result<Lineage> {
        let (found, distance) = self
            .walk_from(DatasetLink::DerivedFrom, root.id, walks, depth)
            .await?;
        let visible = self.visible_around(reader, root, &distance).await?;
        // Visible datasets first, by distance then id; the placeholders after them, so that where
        // one sits among the ids tells nothing of when its dataset was made.
        let mut order: Vec<(i32, Uuid)> = distance.iter().map(|(id, d)| (*d, *id)).collect();
        order.sort_by_key(|(d, id)| (!visible.contains_key(id), *d, *id));
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
                    security_label: Some(dataset.metadata.security_label.clone()),
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
                    security_label: None,
                },
            };
            names.insert(id, node.id.clone());
            nodes.push(node);
        }
        let mut seen = HashSet::new();
        let edges = found
            .iter()
            .filter_map(|link| {
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
        self.versions_of(reader, &root).await
    }

    /// [`Catalogue::versions`] of a dataset already read for `reader`.
    pub async fn versions_of(
        &self,
        reader: Option<&Principal>,
        root: &Dataset,
    ) -> Result<Vec<VersionEntry>> {
        let both = [Walk::Upstream, Walk::Downstream];
        let (_, distance) = self
            .walk_from(
                DatasetLink::PreviousVersion,
                root.id,
                &both,
                CYCLE_SEARCH_DEPTH,
            )
            .await?;
        let visible = self.visible_around(reader, root, &distance).await?;
        let mut versions: Vec<VersionEntry> = visible
            .into_values()
            .map(|dataset| VersionEntry {
                distance: distance.get(&dataset.id).copied().unwrap_or_default(),
                id: dataset.id,
                slug: dataset.metadata.slug.to_string(),
                title: dataset.metadata.title,
                version: dataset.metadata.version,
                security_label: dataset.metadata.security_label,
            })
            .collect();
        versions.sort_by_key(|v| (v.distance, v.id));
        // Counted among the versions the reader sees, so that a hidden one leaves no gap.
        let root_at = versions
            .iter()
            .position(|v| v.id == root.id)
            .unwrap_or_default();
        for (i, version) in versions.iter_mut().enumerate() {
            version.distance = i as i32 - root_at as i32;
        }
        Ok(versions)
    }

    /// The links of kind `link` found walking from `root` each way of `walks`, at most `depth`
    /// links away, and each dataset reached at its least distance from the root (upstream
    /// negative; the root 0).
    async fn walk_from(
        &self,
        link: DatasetLink,
        root: Uuid,
        walks: &[Walk],
        depth: u32,
    ) -> Result<(Vec<LinkFound>, HashMap<Uuid, i32>)> {
        let mut found = Vec::new();
        let mut distance: HashMap<Uuid, i32> = HashMap::from([(root, 0)]);
        // Most datasets have no links: one lookup then spares the recursive walks.
        let ways = self
            .store
            .link_ways(link, root)
            .await
            .map_err(ServiceError::Internal)?;
        for walk in walks.iter().filter(|walk| ways.contains(walk)) {
            let links = self
                .store
                .walk_links(link, &[root], *walk, depth)
                .await
                .map_err(ServiceError::Internal)?;
            for link in links {
                let (node, signed) = match walk {
                    Walk::Upstream => (link.target, -link.depth),
                    Walk::Downstream => (link.dataset, link.depth),
                };
                let known = distance.entry(node).or_insert(signed);
                if signed.abs() < known.abs() {
                    *known = signed;
                }
                found.push(link);
            }
        }
        Ok((found, distance))
    }

    /// The datasets a walk from `root` reached (`distance`'s keys) that exist and `reader` may see,
    /// by id: `root` as read, the others read in one query (none when the walk found nothing).
    async fn visible_around(
        &self,
        reader: Option<&Principal>,
        root: &Dataset,
        distance: &HashMap<Uuid, i32>,
    ) -> Result<HashMap<Uuid, Dataset>> {
        let others: Vec<Uuid> = distance
            .keys()
            .copied()
            .filter(|id| *id != root.id)
            .collect();
        let mut visible = if others.is_empty() {
            HashMap::new()
        } else {
            self.visible_datasets(reader, &others).await?
        };
        visible.insert(root.id, root.clone());
        Ok(visible)
    }

    /// The datasets among `ids` that exist and `reader` may see, by id.
    async fn visible_datasets(
        &self,
        reader: Option<&Principal>,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Dataset>> {
        let found = self.datasets_by_ids(reader, ids).await?;
        Ok(found.into_iter().map(|d| (d.id, d)).collect())
    }

    /// Hides from records as `reader` reads them the ids of linked datasets they may not see (a
    /// link names a dataset by id, and an id tells that the dataset exists). One query for the lot.
    pub(super) async fn hide_unseen_links(
        &self,
        reader: Option<&Principal>,
        records: &mut [&mut serde_json::Value],
    ) -> Result<()> {
        let targets: Vec<Uuid> = records
            .iter()
            .flat_map(|record| link_targets(record))
            .collect();
        if targets.is_empty() {
            return Ok(());
        }
        let visible = self.visible_datasets(reader, &targets).await?;
        for record in records.iter_mut() {
            if let Some(sources) = record
                .get_mut("was_derived_from")
                .and_then(|v| v.as_array_mut())
            {
                sources.retain(|id| id_of(id).is_some_and(|id| visible.contains_key(&id)));
            }
            let hidden_previous = record
                .get("previous_version")
                .and_then(id_of)
                .is_some_and(|id| !visible.contains_key(&id));
            if let (true, Some(fields)) = (hidden_previous, record.as_object_mut()) {
                fields.remove("previous_version");
            }
        }
        Ok(())
    }

    /// [`Catalogue::hide_unseen_links`] on stored records, decoding only those with links: the
    /// others are served as stored.
    pub(super) async fn hide_unseen_links_in_json(
        &self,
        reader: Option<&Principal>,
        records: &mut [RecordJson],
    ) -> Result<()> {
        let linked: Vec<usize> = (0..records.len())
            .filter(|i| {
                let json = records[*i].json.get();
                json.contains("\"was_derived_from\"") || json.contains("\"previous_version\"")
            })
            .collect();
        if linked.is_empty() {
            return Ok(());
        }
        let corrupt = |e: serde_json::Error| {
            ServiceError::Internal(StoreError::Corrupt(format!("a stored dataset: {e}")))
        };
        let mut values = linked
            .iter()
            .map(|i| serde_json::from_str::<serde_json::Value>(records[*i].json.get()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(corrupt)?;
        self.hide_unseen_links(reader, &mut values.iter_mut().collect::<Vec<_>>())
            .await?;
        for (i, value) in linked.into_iter().zip(values) {
            records[i].json = serde_json::value::to_raw_value(&value).map_err(corrupt)?;
        }
        Ok(())
    }

    /// Checks the links a write adds (those `current` already has stand): each names a dataset the
    /// writer may see, never the dataset itself, nor one already downstream of it (a cycle).
    pub(super) async fn check_links(
        &self,
        principal: &Principal,
        current: Option<&Dataset>,
        metadata: &DatasetMetadata,
    ) -> Result<()> {
        let mut errors = ValidationErrors::default();
        for (link, at) in [
            (DatasetLink::DerivedFrom, "/was_derived_from"),
            (DatasetLink::PreviousVersion, "/previous_version"),
        ] {
            let existing = current
                .map(|c| link.targets(&c.metadata))
                .unwrap_or_default();
            let added: Vec<(usize, Uuid)> = link
                .targets(metadata)
                .into_iter()
                .enumerate()
                .filter(|(_, target)| !existing.contains(target))
                .collect();
            if added.is_empty() {
                continue;
            }
            let pointer = |i: usize| match link {
                DatasetLink::DerivedFrom => format!("{at}/{i}"),
                DatasetLink::PreviousVersion => at.to_owned(),
            };
            let targets: Vec<Uuid> = added.iter().map(|(_, t)| *t).collect();
            let visible = self.visible_datasets(Some(principal), &targets).await?;
            let own = current.map(|c| c.id);
            for (i, target) in &added {
                if Some(*target) == own {
                    errors.push(pointer(*i), "cannot name the dataset itself");
                } else if !visible.contains_key(target) {
                    errors.push(pointer(*i), format!("no dataset has the id `{target}`"));
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

    /// Keeps in a replacement the links of `current` to datasets the writer may not see: they
    /// could not see them to send them back, so leaving them out removes nothing.
    pub(super) async fn keep_unseen_links(
        &self,
        principal: &Principal,
        current: &Dataset,
        metadata: &mut DatasetMetadata,
    ) -> Result<()> {
        let existing = link_targets_of(&current.metadata);
        if existing.is_empty() {
            return Ok(());
        }
        let visible = self.visible_datasets(Some(principal), &existing).await?;
        for source in &current.metadata.was_derived_from {
            if !visible.contains_key(source) && !metadata.was_derived_from.contains(source) {
                metadata.was_derived_from.push(*source);
            }
        }
        if let Some(previous) = current.metadata.previous_version
            && !visible.contains_key(&previous)
            && metadata.previous_version.is_none()
        {
            metadata.previous_version = Some(previous);
        }
        Ok(())
    }
}
