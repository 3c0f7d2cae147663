//! The domain model's entities: data domains, projects, campaigns, platforms, instruments and
//! observed properties. Anyone may read them; editors write them, except data domains, which only
//! an admin changes (their owners and stewards are recorded for the sharing workflows).

use std::collections::{BTreeMap, HashMap};

use fathom_model::{BoundField, Entity, EntityKind, Facts, Principal, Slug, ValidationErrors};
use fathom_store::{EntityType, PageRequest, RecordKey, Revision, StoreError};
use serde_json::Value;

use super::{Catalogue, Result, check_revision, patched, write_error};
use crate::access;
use crate::codes::Code;
use crate::error::ServiceError;
use crate::revision_diff::RevisionDiff;
use fathom_store::now;

impl Catalogue {
    #[tracing::instrument(level = "debug", skip_all, fields(kind = kind.as_str()))]
    pub async fn create_entity(
        &self,
        principal: &Principal,
        kind: EntityKind,
        input: Value,
    ) -> Result<Entity> {
        may_write_entities(principal, kind)?;
        let details = kind.parse_input(input)?;
        self.check_entity_facts(&details.facts).await?;
        let entity = Entity::new(details, now());
        self.store
            .insert_entity(&entity, &principal.name)
            .await
            .map_err(|e| entity_write_error(kind, e))?;
        Ok(entity)
    }

    pub async fn entity(&self, kind: EntityKind, key: &RecordKey) -> Result<Entity> {
        self.store
            .entity(kind, key)
            .await
            .map_err(|e| ServiceError::from_store(kind.as_str(), e))
    }

    pub async fn entities(&self, kind: EntityKind, page: PageRequest) -> Result<Vec<Entity>> {
        self.store
            .entities(kind, page)
            .await
            .map_err(ServiceError::Internal)
    }

    /// The names of the entities of these kinds and slugs (those that exist), in one read.
    pub async fn entity_names(
        &self,
        slugs: &[(EntityKind, &str)],
    ) -> Result<HashMap<(EntityKind, String), String>> {
        if slugs.is_empty() {
            return Ok(HashMap::new());
        }
        let found = self
            .store
            .entities_by_slugs(slugs)
            .await
            .map_err(ServiceError::Internal)?;
        Ok(found
            .into_iter()
            .map(|entity| {
                let key = (entity.kind(), entity.details.slug.to_string());
                (key, entity.details.name)
            })
            .collect())
    }

    /// Replaces an entity at revision `expected`. Its slug cannot change: records refer to it.
    #[tracing::instrument(level = "debug", skip_all, fields(kind = kind.as_str()))]
    pub async fn replace_entity(
        &self,
        principal: &Principal,
        kind: EntityKind,
        key: &RecordKey,
        expected: Option<i64>,
        input: Value,
    ) -> Result<Entity> {
        may_write_entities(principal, kind)?;
        let current = self.entity(kind, key).await?;
        let expected = check_revision(kind.as_str(), expected, current.revision)?;
        let details = kind.parse_input(input)?;
        if details.slug != current.details.slug {
            return Err(ValidationErrors::single(
                "/slug",
                "cannot change: other records refer to this one by its slug",
            )
            .into());
        }
        self.check_entity_facts(&details.facts).await?;
        let entity = Entity {
            details,
            revision: current.revision + 1,
            updated_at: now(),
            ..current
        };
        self.store
            .update_entity(&entity, expected, &principal.name)
            .await
            .map_err(|e| entity_write_error(kind, e))?;
        Ok(entity)
    }

    /// Applies a JSON Merge Patch to an entity at revision `expected`.
    pub async fn patch_entity(
        &self,
        principal: &Principal,
        kind: EntityKind,
        key: &RecordKey,
        expected: Option<i64>,
        patch: &Value,
    ) -> Result<Entity> {
        may_write_entities(principal, kind)?;
        let current = self.entity(kind, key).await?;
        let expected = check_revision(kind.as_str(), expected, current.revision)?;
        let input: Value = patched(&current, patch)?;
        self.replace_entity(
            principal,
            kind,
            &RecordKey::Id(current.id),
            Some(expected),
            input,
        )
        .await
    }

    /// Deletes an entity nothing refers to, at revision `expected` if given. Its revisions stay.
    #[tracing::instrument(level = "debug", skip_all, fields(kind = kind.as_str()))]
    pub async fn delete_entity(
        &self,
        principal: &Principal,
        kind: EntityKind,
        key: &RecordKey,
        expected: Option<i64>,
    ) -> Result<()> {
        may_write_entities(principal, kind)?;
        let current = self.entity(kind, key).await?;
        let expected = check_revision(kind.as_str(), expected, current.revision)?;
        self.store
            .delete_entity(kind, current.id, expected, &principal.name)
            .await
            .map_err(|e| match e {
                StoreError::Reference => ServiceError::refused(Code::StillReferenced, format!(
                    "the {} `{}` is still referred to by datasets or other records; remove those references first",
                    kind.as_str(),
                    current.details.slug
                )),
                other => write_error(kind.as_str(), other, expected),
            })
    }

    /// The revisions of an entity after `after`, oldest first, without their snapshots.
    pub async fn entity_revisions(
        &self,
        kind: EntityKind,
        key: &RecordKey,
        after: i64,
        limit: u32,
    ) -> Result<Vec<Revision>> {
        let id = self.entity_history_id(kind, key).await?;
        let revisions = self
            .store
            .revisions(EntityType::Entity(kind), id, after, limit)
            .await
            .map_err(ServiceError::Internal)?;
        if revisions.is_empty() && after == 0 {
            return Err(ServiceError::NotFound(kind.as_str()));
        }
        Ok(revisions)
    }

    /// One revision of an entity, with its snapshot.
    pub async fn entity_revision(
        &self,
        kind: EntityKind,
        key: &RecordKey,
        revision: i64,
    ) -> Result<Revision> {
        let id = self.entity_history_id(kind, key).await?;
        self.store
            .revision(EntityType::Entity(kind), id, revision)
            .await
            .map_err(|e| ServiceError::from_store("revision", e))
    }

    /// What changed from one revision of an entity to another.
    pub async fn entity_revision_diff(
        &self,
        kind: EntityKind,
        key: &RecordKey,
        from: i64,
        to: i64,
    ) -> Result<RevisionDiff> {
        let before = self.entity_revision(kind, key, from).await?;
        let after = self.entity_revision(kind, key, to).await?;
        Ok(RevisionDiff::between(&before, &after))
    }

    /// An entity as it was at `at`; not found before it was created and after it was deleted.
    pub async fn entity_as_of(
        &self,
        kind: EntityKind,
        key: &RecordKey,
        at: time::OffsetDateTime,
    ) -> Result<Revision> {
        let id = self.entity_history_id(kind, key).await?;
        let revision = self
            .store
            .revision_at(EntityType::Entity(kind), id, at)
            .await
            .map_err(ServiceError::Internal)?;
        let found = match revision {
            Some(revision) => {
                self.entity_revision(kind, &RecordKey::Id(id), revision)
                    .await?
            }
            None => return Err(ServiceError::NotFound(kind.as_str())),
        };
        match found.snapshot {
            Some(_) => Ok(found),
            None => Err(ServiceError::NotFound(kind.as_str())),
        }
    }

    /// The id whose history is asked for: a live entity's, or (revisions outlive their entity) the
    /// id given.
    async fn entity_history_id(&self, kind: EntityKind, key: &RecordKey) -> Result<uuid::Uuid> {
        match (self.entity(kind, key).await, key) {
            (Ok(entity), _) => Ok(entity.id),
            (Err(ServiceError::NotFound(_)), RecordKey::Id(id)) => Ok(*id),
            (Err(error), _) => Err(error),
        }
    }

    /// Checks what an entity's facts refer to: entities, and concepts of bound vocabularies.
    async fn check_entity_facts(&self, facts: &Facts) -> Result<()> {
        let mut unresolved = ValidationErrors::default();
        super::gather(
            self.check_entity_references(&facts.references()).await,
            &mut unresolved,
        )?;
        if let Facts::Platform(platform) = facts {
            let value = [("/platform_type".to_owned(), platform.platform_type.as_str())];
            let vocabularies = self.bound_vocabularies().await?;
            super::gather(
                self.check_bound(&vocabularies, BoundField::PlatformType, &value)
                    .await,
                &mut unresolved,
            )?;
        }
        unresolved
            .into_result(|| ())
            .map_err(ServiceError::Unresolved)
    }

    /// Checks that every referenced entity exists, one query per kind, naming each missing one
    /// with the pointer of its field.
    pub(super) async fn check_entity_references(
        &self,
        references: &[(EntityKind, &Slug, String)],
    ) -> Result<()> {
        let mut by_kind: BTreeMap<EntityKind, Vec<&str>> = BTreeMap::new();
        for (kind, slug, _) in references {
            by_kind.entry(*kind).or_default().push(slug.as_str());
        }
        let mut errors = ValidationErrors::default();
        for (kind, slugs) in by_kind {
            let found = self
                .store
                .entity_slugs_taken(kind, &slugs)
                .await
                .map_err(ServiceError::Internal)?;
            for (_, slug, at) in references.iter().filter(|(k, _, _)| *k == kind) {
                if !found.contains(slug.as_str()) {
                    errors.push(at, format!("no {} has the slug `{slug}`", kind.as_str()));
                }
            }
        }
        errors.into_result(|| ()).map_err(ServiceError::Unresolved)
    }
}

fn may_write_entities(principal: &Principal, kind: EntityKind) -> Result<()> {
    if kind == EntityKind::Domain {
        access::require_administrator(principal, "only an admin may change data domains")
    } else if principal.may_edit_datasets() {
        Ok(())
    } else {
        Err(ServiceError::refused(
            Code::EditorRequired,
            "only an editor or an admin may change the domain model",
        ))
    }
}

/// A write that failed in the store; a broken reference is an entity deleted meanwhile.
fn entity_write_error(kind: EntityKind, error: StoreError) -> ServiceError {
    match error {
        StoreError::Reference => {
            ValidationErrors::single("", "refers to an entity that no longer exists").into()
        }
        other => ServiceError::from_store(kind.as_str(), other),
    }
}
