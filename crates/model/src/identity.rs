//! Who is asking, and what their role lets them do. The security issue extends this with
//! per-organisation roles, clearances and grants; until then a principal has one global role.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::Membership;
use crate::values::Nation;

/// A global role, from most to least powerful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages organisations, users and tokens, and edits everything.
    Admin,
    /// Creates and edits datasets.
    Editor,
    /// Reads; may hold a token for rate limits and, later, for labelled records.
    Viewer,
}

impl Role {
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "admin" => Ok(Self::Admin),
            "editor" => Ok(Self::Editor),
            "viewer" => Ok(Self::Viewer),
            _ => Err(format!("`{raw}` is not one of admin, editor, viewer")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Editor => "editor",
            Self::Viewer => "viewer",
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: Uuid,
    pub name: String,
    pub role: Role,
    /// A classification of the security policy; `None`: the policy's public one.
    pub clearance: Option<String>,
    pub nationality: Option<Nation>,
    /// Category values held besides the nationality (`NATO`, a project, …).
    pub communities: Vec<String>,
    /// Roles in organisations.
    pub memberships: Vec<Membership>,
}

impl Principal {
    /// A principal with `role` and no clearance beyond the public one.
    pub fn new(user_id: Uuid, name: impl Into<String>, role: Role) -> Self {
        Self {
            user_id,
            name: name.into(),
            role,
            clearance: None,
            nationality: None,
            communities: Vec::new(),
            memberships: Vec::new(),
        }
    }
}

impl Principal {
    /// May create, change and delete datasets.
    pub fn may_edit_datasets(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Editor)
    }

    /// May create, change and delete organisations, users and tokens.
    pub fn may_administer(&self) -> bool {
        self.role == Role::Admin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_in_order() {
        let principal = |role| Principal::new(Uuid::nil(), "x", role);
        assert!(
            principal(Role::Admin).may_administer() && principal(Role::Admin).may_edit_datasets()
        );
        assert!(
            !principal(Role::Editor).may_administer()
                && principal(Role::Editor).may_edit_datasets()
        );
        assert!(
            !principal(Role::Viewer).may_administer()
                && !principal(Role::Viewer).may_edit_datasets()
        );
        for role in [Role::Admin, Role::Editor, Role::Viewer] {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
    }
}
