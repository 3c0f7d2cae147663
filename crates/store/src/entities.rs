//! The domain model's entities: domains, projects, campaigns, platforms, instruments and observed
//! properties. `Store`'s methods on them; the SQL is in `repository/entities.rs`.

use super::*;

impl Store {
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
    /// The entities of these kinds and slugs that exist, in one query per few hundred.
    pub async fn entities_by_slugs(
        &self,
        slugs: &[(EntityKind, &str)],
    ) -> StoreResult<Vec<Entity>> {
        dispatch!(self, r => r.entities_by_slugs(slugs).await)
    }

    pub async fn entity_slugs_taken(
        &self,
        kind: EntityKind,
        slugs: &[&str],
    ) -> StoreResult<HashSet<String>> {
        dispatch!(self, r => r.entity_slugs_taken(kind, slugs).await)
    }
}
