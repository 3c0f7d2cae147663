//! Controlled vocabularies and their concepts, and metadata profiles. Their rows and filters, and
//! `Store`'s methods on them; the SQL is in `repository/vocabularies.rs`.

use super::*;

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

impl Store {
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
}
