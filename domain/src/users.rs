//! People who sign in: names, roles and argon2id password hashes in the
//! users table, and the failed-sign-in counters that slow down guessing.
//!
//! Counters live in DynamoDB, not in the process, so that every dashboard
//! replica counts the same attempts.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use crate::DomainError;
use crate::items::{Item, s, unavailable};
use crate::services::Services;
use crate::tables::{EXPIRES_AT, Tables};

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

/// How long sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Ends a session nobody used for this long.
    pub idle_secs: u64,
    /// Ends a session this long after sign-in, used or not.
    pub absolute_secs: u64,
    pub limits: SignInLimits,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_secs: 60 * 60,
            absolute_secs: 12 * 60 * 60,
            limits: Default::default(),
        }
    }
}

/// How many failed sign-ins are tolerated before further attempts are
/// refused until the window ends.
///
/// The limits are keyed so that an anonymous attacker cannot lock a person
/// out: guesses at one account from one address stop after `per_account`;
/// one address stops after `per_address` (for any names); and an account
/// guessed at from many addresses stops after `per_account_anywhere`, but
/// only for addresses it has never signed in from: its owner, at a known
/// address, still gets in with the right password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInLimits {
    /// Failures per account from one address, per window.
    pub per_account: u32,
    /// Failures per client address per window, for any accounts.
    pub per_address: u32,
    /// Failures per account from addresses it never signed in from, per
    /// window, from all of them together.
    pub per_account_anywhere: u32,
    /// The window's length.
    pub window_secs: u64,
}

impl Default for SignInLimits {
    fn default() -> Self {
        Self {
            per_account: 5,
            per_address: 20,
            per_account_anywhere: 50,
            window_secs: 15 * 60,
        }
    }
}

/// How long an address where an account signed in stays known to it.
const KNOWN_ADDRESS_SECS: u64 = 30 * 24 * 60 * 60;

/// How many argon2 checks run at once: one per core. Each takes 19 MiB
/// and a core for a moment; more at once would only queue them (and the
/// memory) while every sign-in slows down. Excess attempts are told at
/// once to try again.
fn argon2_permits() -> &'static tokio::sync::Semaphore {
    static PERMITS: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores)
    })
}

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 8;
/// Longest password accepted (argon2 accepts more; nobody types more).
pub const MAX_PASSWORD: usize = 1024;

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

fn check_password(password: &str) -> Result<(), DomainError> {
    let n = password.chars().count();
    if (MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
        Ok(())
    } else {
        Err(DomainError::Invalid(format!(
            "a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters"
        )))
    }
}

/// A password nobody chose: 16 random bytes as base64url (22 characters).
pub fn generate_password() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    base64url(&bytes)
}

/// Unpadded base64url, for secrets shown to people.
pub(crate) fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// The inverse of [`base64url`]; `None` for anything it could not have
/// written.
pub(crate) fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.as_bytes().chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c)? << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

/// argon2id with the crate's defaults (19 MiB, 2 passes), the OWASP
/// recommendation. Slow on purpose, so it runs off the async threads.
async fn hash_password(password: String) -> Result<String, DomainError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| unavailable("hashing a password")(e.to_string()))
    })
    .await
    .map_err(|e| unavailable("hashing a password")(e.to_string()))?
}

async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
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

/// A hash no password matches, checked for unknown names so that a wrong
/// name takes as long as a wrong password and does not reveal who exists.
async fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DECOY.get() {
        return hash;
    }
    let hash = hash_password(generate_password()).await.unwrap_or_default();
    DECOY.get_or_init(|| hash)
}

fn user_from(item: &Item) -> Option<User> {
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

fn epoch_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

impl Accounts {
    /// Adds a user. Refuses a name that exists: replacing someone's
    /// password must be a deliberate [`Services::set_user`].
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

    /// Checks a name and password from `address`.
    ///
    /// The attempt is counted BEFORE the password is checked (an atomic
    /// conditional add per limit), so parallel guesses cannot overrun a
    /// limit; a right password gives its counts back. Unknown names take
    /// the same path and the same time (a decoy hash), so they cannot be
    /// told from wrong passwords.
    pub async fn sign_in(
        &self,
        name: &str,
        password: &str,
        address: &str,
        limits: SignInLimits,
    ) -> Result<User, DomainError> {
        let now = epoch_secs();
        let window_secs = limits.window_secs.max(1);
        let window = now / window_secs;
        let expires = (window + 1) * window_secs;
        // Hashed: a key holds what anyone typed (a 100 kB "name"), and a
        // DynamoDB key may not be that long.
        let account = crate::api_keys::sha256_hex(name);
        let from = crate::api_keys::sha256_hex(address);
        let known_key = format!("sign-in-known#{account}#{from}");
        let known = self.counter(&known_key).await?.is_some();
        let mut limited = vec![
            (
                format!("sign-in-failures#pair#{account}#{from}#{window}"),
                limits.per_account,
            ),
            (
                format!("sign-in-failures#address#{from}#{window}"),
                limits.per_address,
            ),
        ];
        if !known {
            limited.push((
                format!("sign-in-failures#account#{account}#{window}"),
                limits.per_account_anywhere,
            ));
        }
        let mut reserved = Vec::with_capacity(limited.len());
        for (key, limit) in &limited {
            if !self.reserve(key, *limit, expires).await? {
                self.give_back(&reserved).await;
                return Err(DomainError::TooManyAttempts {
                    retry_after_secs: expires - now,
                });
            }
            reserved.push(key.clone());
        }
        let Ok(permit) = argon2_permits().try_acquire() else {
            self.give_back(&reserved).await;
            return Err(DomainError::Busy);
        };
        let checked = self.check_password(name, password).await;
        drop(permit);
        match checked {
            Ok(Some(user)) => {
                self.give_back(&reserved).await;
                self.remember_address(&known_key, now + KNOWN_ADDRESS_SECS)
                    .await;
                Ok(user)
            }
            // The reservations stay: they are the failure's count.
            Ok(None) => Err(DomainError::BadCredentials),
            Err(e) => {
                self.give_back(&reserved).await;
                Err(e)
            }
        }
    }

    /// The user if `password` is theirs; `None` for a wrong password or an
    /// unknown name (after as much work as a wrong password).
    async fn check_password(
        &self,
        name: &str,
        password: &str,
    ) -> Result<Option<User>, DomainError> {
        let stored = if check_name(name).is_ok() {
            self.ddb
                .get_item()
                .table_name(&self.tables.users)
                .key("name", AttributeValue::S(name.into()))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| unavailable("reading a user")(format!("{e:?}")))?
                .item
        } else {
            None
        };
        let (hash, user) = match &stored {
            Some(item) => (s(item, "passwordHash"), user_from(item)),
            None => (None, None),
        };
        let hash = match hash {
            Some(hash) => hash,
            None => decoy_hash().await.to_owned(),
        };
        let matches = verify_password(password.to_owned(), hash).await;
        Ok(user.filter(|_| matches))
    }

    /// A counter row's count, if the row exists.
    async fn counter(&self, key: &str) -> Result<Option<u32>, DomainError> {
        let out = self
            .ddb
            .get_item()
            .table_name(&self.tables.meta)
            .key("key", AttributeValue::S(key.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("reading sign-in counts")(format!("{e:?}")))?;
        Ok(out.item().map(|item| {
            item.get("count")
                .and_then(|v| v.as_n().ok())
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        }))
    }

    /// Adds one to `key` unless it has reached `limit`; `false` if it had.
    async fn reserve(&self, key: &str, limit: u32, expires_at: u64) -> Result<bool, DomainError> {
        let added = self
            .ddb
            .update_item()
            .table_name(&self.tables.meta)
            .key("key", AttributeValue::S(key.into()))
            .update_expression("ADD #count :one SET #expires = :expires")
            .condition_expression("attribute_not_exists(#count) OR #count < :limit")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#expires", EXPIRES_AT)
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":limit", AttributeValue::N(limit.to_string()))
            .expression_attribute_values(":expires", AttributeValue::N(expires_at.to_string()))
            .send()
            .await;
        match added {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(unavailable("counting a sign-in")(format!("{e:?}"))),
        }
    }

    /// Takes back reservations of an attempt that was not a failure. A
    /// lost give-back only makes a limit a little stricter for a while.
    async fn give_back(&self, keys: &[String]) {
        for key in keys {
            let taken = self
                .ddb
                .update_item()
                .table_name(&self.tables.meta)
                .key("key", AttributeValue::S(key.clone()))
                .update_expression("ADD #count :minus")
                .condition_expression("#count > :zero")
                .expression_attribute_names("#count", "count")
                .expression_attribute_values(":minus", AttributeValue::N("-1".into()))
                .expression_attribute_values(":zero", AttributeValue::N("0".into()))
                .send()
                .await;
            if let Err(error) = taken {
                tracing::debug!(?error, "giving back a sign-in count failed");
            }
        }
    }

    async fn remember_address(&self, key: &str, until: u64) {
        let put = self
            .ddb
            .put_item()
            .table_name(&self.tables.meta)
            .item("key", AttributeValue::S(key.into()))
            .item("count", AttributeValue::N("0".into()))
            .item(EXPIRES_AT, AttributeValue::N(until.to_string()))
            .send()
            .await;
        if let Err(error) = put {
            tracing::warn!(?error, "remembering a sign-in address failed");
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

    #[test]
    fn base64url_matches_the_rfc_examples() {
        // RFC 4648 §10, without padding and in the URL-safe alphabet.
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(b"foob"), "Zm9vYg");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        for bytes in [&b""[..], b"f", b"fo", b"foo", b"foob", &[0xfb, 0xff]] {
            assert_eq!(base64url_decode(&base64url(bytes)).as_deref(), Some(bytes));
        }
        assert_eq!(base64url_decode("a"), None);
        assert_eq!(base64url_decode("ab=c"), None);
    }

    #[test]
    fn generated_passwords_are_long_enough_and_differ() {
        let a = generate_password();
        assert_eq!(a.len(), 22);
        assert!(a.len() >= MIN_PASSWORD);
        assert_ne!(a, generate_password());
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse".into()).await.expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse".into(), hash.clone()).await);
        assert!(!verify_password("correct horsf".into(), hash).await);
    }
}
