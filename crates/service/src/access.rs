//! The principal of a request as the access decisions of `model` see it.

use fathom_model::{Clearance, OrganisationRole, Policy, Principal, Subject};
use fathom_search::{CategoryVisibility, Visibility};

use crate::codes::Code;
use crate::error::ServiceError;

/// The subject of a signed-in principal: an admin is an administrator, who sees everything; anyone
/// else holds their clearance (the policy's public classification when they have none, or one the
/// policy no longer knows), nationality and communities, and their roles in organisations.
pub fn subject(policy: &Policy, principal: &Principal) -> Subject {
    let public = policy.document().public.as_str();
    let at = |classification: &str| {
        Clearance::new(
            policy,
            classification,
            principal.nationality.clone(),
            principal.communities.clone(),
        )
    };
    let clearance = at(principal.clearance.as_deref().unwrap_or(public))
        .or_else(|message| {
            tracing::warn!(user = %principal.name, %message, "clearance not in the policy; public only");
            at(public)
        })
        .unwrap_or_else(|_| Clearance::anonymous(policy));
    Subject {
        administrator: principal.reads_everything(),
        clearance,
        // A global editor edits in every organisation; memberships give roles in one.
        everywhere: principal
            .may_edit_datasets()
            .then_some(OrganisationRole::Editor),
        memberships: principal.memberships.clone(),
        granted: principal.grants.clone(),
    }
}

/// `Forbidden` (saying `why`) unless `principal` is an admin whose token may administer.
pub(crate) fn require_administrator(
    principal: &Principal,
    why: &'static str,
) -> Result<(), ServiceError> {
    if principal.may_administer() {
        Ok(())
    } else {
        Err(ServiceError::refused(Code::AdminRequired, why))
    }
}

/// The subject of a request, signed in or not.
pub fn subject_of(policy: &Policy, principal: Option<&Principal>) -> Subject {
    match principal {
        Some(principal) => subject(policy, principal),
        None => Subject::anonymous(policy),
    }
}

/// What `reader` may see, as the store's list queries test it; `None` for an administrator.
pub fn readable(policy: &Policy, reader: Option<&Principal>) -> Option<fathom_store::Readable> {
    visibility(policy, reader).map(|visibility| fathom_store::Readable {
        classifications: visibility.classifications,
        held: visibility
            .categories
            .into_iter()
            .flat_map(|category| category.held)
            .collect(),
        granted: visibility.granted,
    })
}

/// What `reader` may see, compiled for the search index; `None` for an administrator, who sees
/// everything.
pub fn visibility(policy: &Policy, reader: Option<&Principal>) -> Option<Visibility> {
    let subject = subject_of(policy, reader);
    if subject.administrator {
        return None;
    }
    let classifications = policy
        .cleared_classifications(&subject.clearance)
        .cloned()
        .collect();
    let categories = policy
        .document()
        .categories
        .iter()
        .map(|category| {
            let (held, not_held) = category
                .values
                .iter()
                .cloned()
                .partition(|value| subject.clearance.holds(value));
            CategoryVisibility {
                tag: category.tag.clone(),
                kind: category.kind,
                held,
                not_held,
            }
        })
        .collect();
    Some(Visibility {
        classifications,
        categories,
        granted: subject.granted,
    })
}
