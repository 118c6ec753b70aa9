//! People who sign in: names, roles and argon2id password hashes in the
//! users table, and the failed-sign-in counters that slow down guessing.
//!
//! Counters live in DynamoDB, not in the process, so that every dashboard
//! replica counts the same attempts.
//!
//! # Layout
//! - `mod.rs`: the users table: add, change, list and remove people, with
//!   their roles and groups.
//! - `passwords`: what a password must be, generated ones, argon2id.
//! - `sign_in`: signing in, the failed-attempt limits, session lifetimes.
mod passwords;
mod sign_in;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use crate::DomainError;
use crate::items::{Item, s, unavailable};
use crate::services::Services;
use crate::tables::Tables;
pub use passwords::{MAX_PASSWORD, MIN_PASSWORD, generate_password};
use passwords::{check_password, hash_password};
pub use sign_in::{SessionPolicy, SignInLimits};

/// The users and sign-in bookkeeping: DynamoDB only, no workflows, so the
/// admin commands can use it without a Step Functions endpoint.
#[derive(Debug, Clone)]
pub struct Accounts {
    pub ddb: aws_sdk_dynamodb::Client,
    pub tables: Tables,
}

impl Services {
    /// The same tables' users.
    pub fn accounts(&self) -> Accounts {
        Accounts {
            ddb: self.ddb.clone(),
            tables: self.tables.clone(),
        }
    }
}

pub use countersign_model::people::{Role, UnknownRole, User};

/// Checks a user name: 1 to 64 of `a-z 0-9 . _ -`, so it is safe in keys,
/// URLs and logs.
pub fn check_name(name: &str) -> Result<(), DomainError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b".-_".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(DomainError::Invalid(format!(
            "a user name is 1 to 64 characters of a-z, 0-9, '.', '_' and '-' (got {name:?})"
        )))
    }
}

/// Group names: like user names (1 to 64 of a-z, 0-9, '.', '_', '-'),
/// sorted and without repeats.
fn checked_groups(groups: &[String]) -> Result<Vec<String>, DomainError> {
    let mut checked = Vec::with_capacity(groups.len());
    for group in groups {
        check_name(group).map_err(|_| {
            DomainError::Invalid(format!(
                "the group name {group:?} must be 1 to 64 of a-z, 0-9, '.', '_', '-'"
            ))
        })?;
        checked.push(group.clone());
    }
    checked.sort();
    checked.dedup();
    Ok(checked)
}

pub(super) fn user_from(item: &Item) -> Option<User> {
    let roles = item
        .get("roles")
        .and_then(|v| v.as_ss().ok())
        .map(|list| list.iter().filter_map(|r| r.parse().ok()).collect())
        .unwrap_or_default();
    let mut groups: Vec<String> = item
        .get("groups")
        .and_then(|v| v.as_ss().ok())
        .cloned()
        .unwrap_or_default();
    groups.sort();
    Some(User {
        name: s(item, "name")?,
        roles,
        groups,
        created_at: s(item, "createdAt").unwrap_or_default(),
    })
}

pub(super) fn epoch_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

impl Accounts {
    /// Adds a user. Refuses a name that exists: replacing someone's
    /// password must be a deliberate [`Accounts::set_user`].
    pub async fn add_user(
        &self,
        name: &str,
        roles: &[Role],
        password: &str,
    ) -> Result<User, DomainError> {
        self.put_user(name, roles, &[], password, false).await
    }

    /// Adds a user who belongs to `groups`.
    pub async fn add_user_in_groups(
        &self,
        name: &str,
        roles: &[Role],
        groups: &[String],
        password: &str,
    ) -> Result<User, DomainError> {
        self.put_user(name, roles, groups, password, false).await
    }

    /// Replaces a user's groups (none: in no group).
    pub async fn set_groups(&self, name: &str, groups: &[String]) -> Result<User, DomainError> {
        let groups = checked_groups(groups)?;
        let mut update = self
            .ddb
            .update_item()
            .table_name(&self.tables.users)
            .key("name", AttributeValue::S(name.into()))
            .condition_expression("attribute_exists(#name)")
            .expression_attribute_names("#name", "name")
            .expression_attribute_names("#groups", "groups")
            .return_values(ReturnValue::AllNew);
        update = if groups.is_empty() {
            update.update_expression("REMOVE #groups")
        } else {
            update
                .update_expression("SET #groups = :groups")
                .expression_attribute_values(":groups", AttributeValue::Ss(groups))
        };
        match update.send().await {
            Ok(out) => out
                .attributes()
                .and_then(user_from)
                .ok_or(DomainError::Unavailable),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(DomainError::NotFound)
            }
            Err(e) => Err(unavailable("setting a user's groups")(format!("{e:?}"))),
        }
    }

    /// Adds or replaces a user (the demo users on every `serve --demo`).
    pub async fn set_user(
        &self,
        name: &str,
        roles: &[Role],
        password: &str,
    ) -> Result<User, DomainError> {
        self.put_user(name, roles, &[], password, true).await
    }

    async fn put_user(
        &self,
        name: &str,
        roles: &[Role],
        groups: &[String],
        password: &str,
        replace: bool,
    ) -> Result<User, DomainError> {
        check_name(name)?;
        let groups = checked_groups(groups)?;
        check_password(password)?;
        if roles.is_empty() {
            return Err(DomainError::Invalid(
                "a user needs at least one role".into(),
            ));
        }
        let mut roles = roles.to_vec();
        roles.sort_unstable();
        roles.dedup();
        let hash = hash_password(password.to_owned()).await?;
        let created_at = crate::now();
        let mut put = self
            .ddb
            .put_item()
            .table_name(&self.tables.users)
            .item("name", AttributeValue::S(name.into()))
            .item(
                "roles",
                AttributeValue::Ss(roles.iter().map(|r| r.as_str().to_owned()).collect()),
            )
            .item("passwordHash", AttributeValue::S(hash))
            .item("createdAt", AttributeValue::S(created_at.clone()));
        if !groups.is_empty() {
            put = put.item("groups", AttributeValue::Ss(groups.clone()));
        }
        if !replace {
            put = put.condition_expression("attribute_not_exists(#name)");
            put = put.expression_attribute_names("#name", "name");
        }
        match put.send().await {
            Ok(_) => Ok(User {
                name: name.into(),
                roles,
                groups,
                created_at,
            }),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Err(DomainError::Invalid(format!(
                    "a user named {name:?} already exists"
                )))
            }
            Err(e) => Err(unavailable("adding a user")(format!("{e:?}"))),
        }
    }

    /// One user, or `None` if there is no such name (or it was removed).
    pub async fn user(&self, name: &str) -> Result<Option<User>, DomainError> {
        // No row has such a key, and DynamoDB refuses to look one up.
        if !crate::items::usable_key(name) {
            return Ok(None);
        }
        let out = self
            .ddb
            .get_item()
            .table_name(&self.tables.users)
            .key("name", AttributeValue::S(name.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("reading a user")(format!("{e:?}")))?;
        Ok(out.item().and_then(user_from))
    }

    /// Every user, by name. An administrator's listing: a Scan of a table
    /// that holds people, not orders.
    pub async fn users(&self) -> Result<Vec<User>, DomainError> {
        let mut users = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .ddb
                .scan()
                .table_name(&self.tables.users)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| unavailable("listing users")(format!("{e:?}")))?;
            users.extend(page.items().iter().filter_map(user_from));
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        users.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(users)
    }

    /// Removes a user and revokes their API keys. Their sessions end at
    /// once: every request looks the user up again, and a session (or key)
    /// made for an earlier user of the same name (`created_at` differs)
    /// is worth nothing, so adding the name again brings none back.
    pub async fn remove_user(&self, name: &str) -> Result<(), DomainError> {
        let out = self
            .ddb
            .delete_item()
            .table_name(&self.tables.users)
            .key("name", AttributeValue::S(name.into()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| unavailable("removing a user")(format!("{e:?}")))?;
        // Revoked even when the user was already gone: a failed earlier
        // removal may have left keys behind.
        self.revoke_keys_of(name).await?;
        if out.attributes().is_some() {
            Ok(())
        } else {
            Err(DomainError::NotFound)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(check_name("bob").is_ok());
        assert!(check_name("a.b-c_9").is_ok());
        for bad in ["", "Bob", "bob smith", "bob#1", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn roles_round_trip_and_unknown_ones_are_named() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        let error = "admin".parse::<Role>().expect_err("unknown");
        assert!(error.to_string().contains("admin"), "{error}");
    }
}
