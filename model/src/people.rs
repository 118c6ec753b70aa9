//! People as every part of the system sees them: a name, roles and
//! groups, never a password hash.

use serde::{Deserialize, Serialize};

/// What a person may do. A user may hold several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Decides orders; sees every order and document.
    Staff,
    /// Signs or declines the documents addressed to them.
    Signer,
    /// Places orders and follows their own.
    Customer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Staff, Role::Signer, Role::Customer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Signer => "signer",
            Role::Customer => "customer",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is none of the roles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}; the roles are staff, signer and customer")]
pub struct UnknownRole(pub String);

impl std::str::FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// A person as the rest of the system sees them: never the hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub roles: Vec<Role>,
    /// The groups they belong to (`finance`, say): who may decide a task
    /// can name groups as well as roles and people.
    #[serde(default)]
    pub groups: Vec<String>,
    pub created_at: String,
}

impl User {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}
