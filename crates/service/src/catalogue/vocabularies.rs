//! Controlled vocabularies: SKOS concept schemes imported by admins (from Turtle, RDF/XML,
//! N-Triples or JSON-LD), browsed and searched by anyone, and bound to fields whose values must
//! then be their concepts.

use std::collections::HashSet;

use fathom_formats::RdfSyntax;
use fathom_formats::skos::read_scheme;
use fathom_model::{BoundField, Concept, Principal, Slug, ValidationErrors, Vocabulary};
use fathom_store::{ConceptFilter, RecordKey, StoreError};
use uuid::Uuid;

use super::{Catalogue, Result};
use crate::access;
use crate::codes::Code;
use crate::error::ServiceError;
use fathom_store::now;

impl Catalogue {
    /// Imports the concept scheme in `document` (admin): a new vocabulary, or the next revision of
    /// the one with this slug, its concepts replaced in one transaction. Without a slug, it is
    /// derived from the scheme's title.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn import_vocabulary(
        &self,
        principal: &Principal,
        slug: Option<&str>,
        binds: Vec<BoundField>,
        syntax: RdfSyntax,
        document: Vec<u8>,
    ) -> Result<Vocabulary> {
        access::require_administrator(principal, "only an admin may import vocabularies")?;
        // Parsing a large scheme takes a while: off the async workers.
        let scheme = tokio::task::spawn_blocking(move || read_scheme(syntax, &document))
            .await
            .map_err(|e| {
                ServiceError::Internal(StoreError::Corrupt(format!("reading a vocabulary: {e}")))
            })?
            .map_err(|message| ValidationErrors::single("", message))?;
        let at = now();
        let mut vocabulary = Vocabulary {
            id: Uuid::now_v7(),
            slug: Slug::from_title(""),
            iri: scheme.iri,
            title: scheme.title,
            description: scheme.description,
            binds,
            concepts: scheme.concepts.len() as u64,
            revision: 1,
            created_at: at,
            updated_at: at,
        };
        vocabulary.slug = match slug {
            Some(raw) => Slug::parse(raw).map_err(|m| ValidationErrors::single("/slug", m))?,
            None => Slug::from_title(vocabulary.display_title()),
        };
        let expected = match self
            .store
            .vocabulary(&RecordKey::Slug(vocabulary.slug.to_string()))
            .await
        {
            Ok(current) if slug.is_none() && current.iri != vocabulary.iri => {
                return Err(ServiceError::refused(
                    Code::SlugTaken,
                    format!(
                        "the vocabulary `{}` holds another scheme (<{}>); give this one a slug of its own",
                        current.slug, current.iri
                    ),
                ));
            }
            Ok(current) => {
                vocabulary.id = current.id;
                vocabulary.revision = current.revision + 1;
                vocabulary.created_at = current.created_at;
                Some(current.revision)
            }
            Err(StoreError::NotFound) => None,
            Err(other) => return Err(ServiceError::Internal(other)),
        };
        self.store
            .save_vocabulary(&vocabulary, &scheme.concepts, expected)
            .await
            .map_err(|e| ServiceError::from_store("vocabulary", e))?;
        Ok(vocabulary)
    }

    pub async fn vocabulary(&self, key: &RecordKey) -> Result<Vocabulary> {
        self.store
            .vocabulary(key)
            .await
            .map_err(|e| ServiceError::from_store("vocabulary", e))
    }

    pub async fn vocabularies(&self) -> Result<Vec<Vocabulary>> {
        self.store
            .vocabularies()
            .await
            .map_err(ServiceError::Internal)
    }

    /// Deletes a vocabulary and its concepts (admin). Values already written stay as they are.
    pub async fn delete_vocabulary(&self, principal: &Principal, key: &RecordKey) -> Result<()> {
        access::require_administrator(principal, "only an admin may delete vocabularies")?;
        let vocabulary = self.vocabulary(key).await?;
        self.store
            .delete_vocabulary(vocabulary.id)
            .await
            .map_err(|e| ServiceError::from_store("vocabulary", e))
    }

    pub async fn concepts(&self, key: &RecordKey, filter: &ConceptFilter) -> Result<Vec<Concept>> {
        let vocabulary = self.vocabulary(key).await?;
        self.store
            .concepts(vocabulary.id, filter)
            .await
            .map_err(ServiceError::Internal)
    }

    /// A concept by its IRI or notation.
    pub async fn concept(&self, key: &RecordKey, concept: &str) -> Result<Concept> {
        let vocabulary = self.vocabulary(key).await?;
        self.store
            .concept(vocabulary.id, concept)
            .await
            .map_err(|e| ServiceError::from_store("concept", e))
    }

    /// The concepts narrower than those `values` name (IRIs, labels, notations), however deep.
    pub async fn narrower_concepts(&self, values: &[&str]) -> Result<Vec<Concept>> {
        self.store
            .narrower_concepts(values)
            .await
            .map_err(ServiceError::Internal)
    }

    /// The vocabularies bound to some field: what [`Catalogue::check_bound`] checks against (read
    /// once per write, or once per import).
    pub(super) async fn bound_vocabularies(&self) -> Result<Vec<Vocabulary>> {
        let mut vocabularies = self.vocabularies().await?;
        vocabularies.retain(|v| !v.binds.is_empty());
        Ok(vocabularies)
    }

    /// Checks the values of a field against those of `vocabularies` bound to it (none: any value):
    /// each `(pointer, value)` must name a concept of one of them.
    pub(super) async fn check_bound(
        &self,
        vocabularies: &[Vocabulary],
        field: BoundField,
        values: &[(String, &str)],
    ) -> Result<()> {
        let bound: Vec<&Vocabulary> = vocabularies
            .iter()
            .filter(|v| v.binds.contains(&field))
            .collect();
        if values.is_empty() || bound.is_empty() {
            return Ok(());
        }
        let ids: Vec<Uuid> = bound.iter().map(|v| v.id).collect();
        let raw: Vec<&str> = values.iter().map(|(_, value)| *value).collect();
        let found: HashSet<String> = self
            .store
            .concept_values_found(&ids, &raw)
            .await
            .map_err(ServiceError::Internal)?;
        let schemes = bound
            .iter()
            .map(|v| format!("{} ({})", v.display_title(), v.slug))
            .collect::<Vec<_>>()
            .join(", ");
        let mut errors = ValidationErrors::default();
        // Themes are IRIs: a label of a concept does not do for one.
        let by_iri_only = field == BoundField::Themes;
        for (at, value) in values {
            let named =
                found.contains(*value) || (!by_iri_only && found.contains(&value.to_lowercase()));
            if !named {
                errors.push(
                    at,
                    format!("`{value}` is not a concept of the bound vocabulary: {schemes}"),
                );
            }
        }
        errors.into_result(|| ()).map_err(Into::into)
    }
}
