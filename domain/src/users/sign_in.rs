//! Signing in: a name and password checked against the users table, with
//! failed attempts counted in DynamoDB (per account and address, per
//! address, per account anywhere) so every replica counts the same, and
//! how long the session that follows lasts.

use std::sync::OnceLock;

use aws_sdk_dynamodb::types::AttributeValue;

use super::passwords::{decoy_hash, verify_password};
use super::{Accounts, User, check_name, epoch_secs, user_from};
use crate::DomainError;
use crate::items::{s, unavailable};
use crate::tables::EXPIRES_AT;

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

impl Accounts {
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
        let account = crate::secrets::sha256_hex(name);
        let from = crate::secrets::sha256_hex(address);
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
