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

/// What a token may be used for, within what its user may do.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Reads (every token may read).
    Read,
    /// Creates, changes and deletes records.
    Write,
    /// Manages organisations, users and tokens.
    Admin,
}

impl Scope {
    pub const ALL: [Self; 3] = [Self::Read, Self::Write, Self::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|scope| scope.as_str() == raw)
            .ok_or_else(|| format!("`{raw}` is not one of read, write, admin"))
    }

    /// The scopes a role can use: anyone reads and writes (where organisation roles let them);
    /// only an admin manages.
    pub fn allowed_to(role: Role) -> Vec<Self> {
        match role {
            Role::Admin => Self::ALL.to_vec(),
            Role::Editor | Role::Viewer => vec![Self::Read, Self::Write],
        }
    }
}

/// How a caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Authentication {
    /// An API token of Fathom's own.
    ApiToken,
    /// A JWT from the configured OpenID Connect issuer.
    Oidc,
    /// A browser's session, after signing in on a page with a local account.
    Session,
    /// A browser's session, after signing in at the OpenID Connect issuer: its claims as they were then.
    OidcSession,
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
    /// What the token used may do, within the role.
    pub scopes: Vec<Scope>,
    pub authentication: Authentication,
    /// The datasets the principal's grants (their own and their organisations') let them read now,
    /// read afresh for every request so that a revocation takes effect at once.
    pub grants: Vec<Uuid>,
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
            scopes: Scope::allowed_to(role),
            authentication: Authentication::ApiToken,
            grants: Vec::new(),
        }
    }
}

impl Principal {
    /// May create, change and delete datasets in every organisation (with a token that may write).
    pub fn may_edit_datasets(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Editor) && self.may_write()
    }

    /// The token may write at all (organisation roles decide where).
    pub fn may_write(&self) -> bool {
        self.scopes.contains(&Scope::Write)
    }

    /// May create, change and delete organisations, users and tokens.
    pub fn may_administer(&self) -> bool {
        self.role == Role::Admin && self.scopes.contains(&Scope::Admin)
    }

    /// Reads everything, whatever its label: an admin, whatever the token's scopes.
    pub fn reads_everything(&self) -> bool {
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

    #[test]
    fn scopes_narrow_what_a_role_may_do() {
        let mut reading_admin = Principal::new(Uuid::nil(), "x", Role::Admin);
        reading_admin.scopes = vec![Scope::Read];
        assert!(reading_admin.reads_everything());
        assert!(!reading_admin.may_administer() && !reading_admin.may_write());
        assert_eq!(Scope::allowed_to(Role::Viewer), [Scope::Read, Scope::Write]);
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Ok(scope));
        }
    }
}
