//! The principal of a request as the access decisions of `model` see it.

use fathom_model::{Clearance, Policy, Principal, Subject};
use fathom_search::{CategoryVisibility, Visibility};

/// The subject of a signed-in principal. Until users carry clearances, memberships and nationality
/// (the next slice of the security work), an admin is an administrator who sees everything and
/// anyone else holds what an anonymous caller holds: the policy's public classification.
pub fn subject(policy: &Policy, principal: &Principal) -> Subject {
    Subject {
        administrator: principal.may_administer(),
        clearance: Clearance::anonymous(policy),
        memberships: Vec::new(),
    }
}

/// The subject of a request, signed in or not.
pub fn subject_of(policy: &Policy, principal: Option<&Principal>) -> Subject {
    match principal {
        Some(principal) => subject(policy, principal),
        None => Subject::anonymous(policy),
    }
}

/// What `reader` may see, compiled for the search index; `None` for an administrator, who sees
/// everything.
pub fn visibility(policy: &Policy, reader: Option<&Principal>) -> Option<Visibility> {
    let subject = subject_of(policy, reader);
    if subject.administrator {
        return None;
    }
    let document = policy.document();
    let classifications = document
        .classifications
        .iter()
        .filter(|c| {
            policy
                .rank(c)
                .is_some_and(|rank| rank <= subject.clearance.rank())
        })
        .cloned()
        .collect();
    let categories = document
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
    })
}
