//! The principal of a request as the access decisions of `model` see it.

use fathom_model::{Clearance, Policy, Principal, Subject};

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
