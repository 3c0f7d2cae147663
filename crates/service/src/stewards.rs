//! Who curates a dataset: the stewards of its data domain and of its organisation, and whether the
//! domain reviews publication. Read by the sharing workflows (approval chains, who decides on
//! grants) and the publication workflow (who reviews).

use fathom_model::{
    DatasetMetadata, EntityKind, Facts, OrganisationRole, Principal, Slug, Subject,
};
use fathom_store::{RecordKey, Store, StoreError, User};

use crate::error::ServiceError;

/// What a dataset's data domain says of its curation (nothing when it has none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Domain {
    pub stewards: Vec<String>,
    pub publication_review: bool,
}

impl Domain {
    /// The domain of the dataset described by `metadata`.
    pub(crate) async fn of(
        store: &Store,
        metadata: &DatasetMetadata,
    ) -> Result<Self, ServiceError> {
        let Some(slug) = &metadata.domain else {
            return Ok(Self::default());
        };
        match store
            .entity(EntityKind::Domain, &RecordKey::Slug(slug.to_string()))
            .await
        {
            Ok(entity) => Ok(match entity.details.facts {
                Facts::Domain(facts) => Self {
                    stewards: facts.stewards,
                    publication_review: facts.publication_review,
                },
                _ => Self::default(),
            }),
            Err(StoreError::NotFound) => Ok(Self::default()),
            Err(other) => Err(ServiceError::Internal(other)),
        }
    }

    /// Whether `principal` (as `subject`) curates the dataset of `organisation`: an admin, a
    /// steward of the organisation, or a steward of this domain.
    pub(crate) fn curated_by(
        &self,
        principal: &Principal,
        subject: &Subject,
        organisation: &Slug,
    ) -> bool {
        principal.reads_everything()
            || subject
                .role_in(organisation)
                .is_some_and(|role| role >= OrganisationRole::Steward)
            || self.stewards.contains(&principal.name)
    }
}

/// The names of the `users` with the steward role (or above) in `organisation`. (Users known only
/// through OIDC are not among them: name them as domain stewards or in a group.)
pub(crate) fn organisation_stewards(users: &[User], organisation: &Slug) -> Vec<String> {
    users
        .iter()
        .filter(|user| {
            user.memberships
                .iter()
                .any(|m| &m.organisation == organisation && m.role >= OrganisationRole::Steward)
        })
        .map(|user| user.name.clone())
        .collect()
}
