//! Keys for machine callers, each belonging to a user and acting with that
//! user's roles.
//!
//! - A **bearer key** (`csk_<id>_<secret>`) goes in `Authorization: Bearer`.
//!   Only its SHA-256 is stored: the key is 256 random bits, so a fast hash
//!   is as good as a slow one, and a stolen table reveals no key.
//! - A **webhook secret** (`csw_<id>_<secret>`) signs webhook bodies with
//!   HMAC-SHA256. Checking an HMAC needs the secret itself, so it is stored
//!   as it is; revoke it if the table may have leaked.
//!
//! The id is public (listings, signature headers); the secret part is shown
//! once, when the key is created.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use hmac::{Hmac, KeyInit, Mac};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::DomainError;
use crate::items::{Item, s, unavailable};
pub use crate::secrets::sha256_hex;
use crate::secrets::{base64url, hex};
use crate::tables::EXPIRES_AT;
use crate::users::{Accounts, User};

/// What a key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    /// `Authorization: Bearer` on the REST API.
    Bearer,
    /// Signs webhook calls.
    Webhook,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Bearer => "bearer",
            KeyKind::Webhook => "webhook",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            KeyKind::Bearer => "csk_",
            KeyKind::Webhook => "csw_",
        }
    }
}

impl std::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for KeyKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "bearer" => Ok(KeyKind::Bearer),
            "webhook" => Ok(KeyKind::Webhook),
            other => Err(DomainError::Invalid(format!(
                "a key is bearer or webhook, not {other:?}"
            ))),
        }
    }
}

/// A key as listings show it: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub user: String,
    pub kind: KeyKind,
    pub created_at: String,
}

/// How far a webhook's timestamp may be from now, either way.
pub const WEBHOOK_WINDOW_SECS: u64 = 5 * 60;

/// Equal without saying where the first difference is.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Splits `csk_<id>_<secret>` into its kind and id; ids are hex, so the
/// first `_` after the prefix ends the id.
fn parse(presented: &str) -> Option<(KeyKind, &str)> {
    let (kind, rest) = if let Some(rest) = presented.strip_prefix(KeyKind::Bearer.prefix()) {
        (KeyKind::Bearer, rest)
    } else {
        (
            KeyKind::Webhook,
            presented.strip_prefix(KeyKind::Webhook.prefix())?,
        )
    };
    let (id, secret) = rest.split_once('_')?;
    let ok = id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit()) && secret.len() == 43;
    ok.then_some((kind, id))
}

fn key_from(item: &Item) -> Option<ApiKey> {
    Some(ApiKey {
        id: s(item, "keyId")?,
        user: s(item, "user")?,
        kind: s(item, "kind")?.parse().ok()?,
        created_at: s(item, "createdAt").unwrap_or_default(),
    })
}

/// The signature of a webhook call sent at `timestamp` (epoch seconds):
/// lowercase hex HMAC-SHA256 over `"{timestamp}.{method}.{path}.{body}"`,
/// keyed with the whole secret as printed. The method and path are in it
/// so that a signed call for one task cannot be sent to another's hook.
pub fn webhook_signature(
    secret: &str,
    timestamp: u64,
    method: &str,
    path: &str,
    body: &[u8],
) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    for part in [
        timestamp.to_string().as_bytes(),
        method.as_bytes(),
        path.as_bytes(),
    ] {
        mac.update(part);
        mac.update(b".");
    }
    mac.update(body);
    hex(&mac.finalize().into_bytes())
}

/// A webhook call's replay marker, taken when its signature was accepted.
/// Kept once the call's decision is made or definitively refused;
/// [`Accounts::release_webhook_call`] gives it back when the call failed
/// for a passing reason, so the sender's retry is not refused as a replay.
#[derive(Debug)]
#[must_use = "keep or release the marker"]
pub struct WebhookCall {
    marker: String,
}

/// The webhook request as it arrived, for checking its signature.
#[derive(Debug, Clone, Copy)]
pub struct SignedCall<'a> {
    /// The `Countersign-Signature` header.
    pub header: &'a str,
    pub method: &'a str,
    /// The request path, as sent (`/hooks/tasks/…`).
    pub path: &'a str,
    pub body: &'a [u8],
}

/// Why a webhook call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookRefusal {
    #[error("the signature header is missing or malformed")]
    Malformed,
    #[error("the signature timestamp is more than 5 minutes from now")]
    Stale,
    #[error("the signature does not match")]
    BadSignature,
    #[error("this signed call was already received")]
    Replayed,
}

impl Accounts {
    /// A new key for `user`; returns it with the whole key, which is shown
    /// once and never again.
    pub async fn create_key(
        &self,
        user: &str,
        kind: KeyKind,
    ) -> Result<(ApiKey, String), DomainError> {
        let Some(owner) = self.user(user).await? else {
            return Err(DomainError::Invalid(format!("there is no user {user:?}")));
        };
        let mut id = [0u8; 6];
        let mut secret = [0u8; 32];
        OsRng.fill_bytes(&mut id);
        OsRng.fill_bytes(&mut secret);
        let id = hex(&id);
        let whole = format!("{}{id}_{}", kind.prefix(), base64url(&secret));
        let key = ApiKey {
            id: id.clone(),
            user: user.into(),
            kind,
            created_at: crate::now(),
        };
        let stored = match kind {
            KeyKind::Bearer => ("hash", sha256_hex(&whole)),
            KeyKind::Webhook => ("secret", whole.clone()),
        };
        self.ddb
            .put_item()
            .table_name(&self.tables.api_keys)
            .item("keyId", AttributeValue::S(id))
            .item("user", AttributeValue::S(key.user.clone()))
            .item("kind", AttributeValue::S(kind.as_str().into()))
            .item("createdAt", AttributeValue::S(key.created_at.clone()))
            .item("userCreatedAt", AttributeValue::S(owner.created_at))
            .item(stored.0, AttributeValue::S(stored.1))
            .condition_expression("attribute_not_exists(keyId)")
            .send()
            .await
            .map_err(|e| unavailable("storing a key")(format!("{e:?}")))?;
        Ok((key, whole))
    }

    /// Every key, by user then age. An administrator's listing (a Scan).
    pub async fn keys(&self) -> Result<Vec<ApiKey>, DomainError> {
        let mut keys = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .ddb
                .scan()
                .table_name(&self.tables.api_keys)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| unavailable("listing keys")(format!("{e:?}")))?;
            keys.extend(page.items().iter().filter_map(key_from));
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
        keys.sort_by(|a, b| (&a.user, &a.created_at).cmp(&(&b.user, &b.created_at)));
        Ok(keys)
    }

    /// Revokes a key by id: its next use is refused.
    pub async fn revoke_key(&self, id: &str) -> Result<(), DomainError> {
        let out = self
            .ddb
            .delete_item()
            .table_name(&self.tables.api_keys)
            .key("keyId", AttributeValue::S(id.into()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| unavailable("revoking a key")(format!("{e:?}")))?;
        match out.attributes() {
            Some(_) => Ok(()),
            None => Err(DomainError::NotFound),
        }
    }

    async fn key_item(&self, id: &str) -> Result<Option<Item>, DomainError> {
        let out = self
            .ddb
            .get_item()
            .table_name(&self.tables.api_keys)
            .key("keyId", AttributeValue::S(id.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("reading a key")(format!("{e:?}")))?;
        Ok(out.item().cloned())
    }

    /// The user a bearer key acts as, or `None` for a key that is unknown,
    /// revoked, of another kind, or whose user is gone.
    pub async fn bearer_user(&self, presented: &str) -> Result<Option<User>, DomainError> {
        let Some((KeyKind::Bearer, id)) = parse(presented) else {
            return Ok(None);
        };
        let Some(item) = self.key_item(id).await? else {
            return Ok(None);
        };
        let matches =
            s(&item, "hash").is_some_and(|h| same(h.as_bytes(), sha256_hex(presented).as_bytes()));
        match (matches, key_from(&item)) {
            (true, Some(key)) if key.kind == KeyKind::Bearer => self.key_owner(&item, &key).await,
            _ => Ok(None),
        }
    }

    /// Checks a webhook call: the header `t=<epoch secs>,k=<key id>,v1=<hex>`
    /// over the method, path and body, at `now` (epoch secs). Returns the
    /// key's user and the call's replay marker: a call is accepted once
    /// (its signature is remembered for the window) unless released.
    pub async fn webhook_user(
        &self,
        call: SignedCall<'_>,
        now: u64,
    ) -> Result<Result<(User, WebhookCall), WebhookRefusal>, DomainError> {
        let mut t = None;
        let mut k = None;
        let mut v1 = None;
        for part in call.header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", v)) => t = v.parse::<u64>().ok(),
                Some(("k", v)) => k = Some(v),
                Some(("v1", v)) => v1 = Some(v),
                _ => {}
            }
        }
        let (Some(t), Some(k), Some(v1)) = (t, k, v1) else {
            return Ok(Err(WebhookRefusal::Malformed));
        };
        if now.abs_diff(t) > WEBHOOK_WINDOW_SECS {
            return Ok(Err(WebhookRefusal::Stale));
        }
        let valid_id = k.len() == 12 && k.bytes().all(|b| b.is_ascii_hexdigit());
        let item = match valid_id {
            true => self.key_item(k).await?,
            false => None,
        };
        let key = item.as_ref().and_then(key_from);
        let secret = item.as_ref().and_then(|i| s(i, "secret"));
        let (Some(key), Some(secret), Some(item)) = (key, secret, item.as_ref()) else {
            return Ok(Err(WebhookRefusal::BadSignature));
        };
        let expected = webhook_signature(&secret, t, call.method, call.path, call.body);
        if key.kind != KeyKind::Webhook || !same(expected.as_bytes(), v1.as_bytes()) {
            return Ok(Err(WebhookRefusal::BadSignature));
        }
        let Some(user) = self.key_owner(item, &key).await? else {
            return Ok(Err(WebhookRefusal::BadSignature));
        };
        // The same signed call again inside the window is a replay: the
        // first one is remembered until its timestamp leaves the window.
        let marker = format!("webhook#{expected}");
        let expires = t + WEBHOOK_WINDOW_SECS + 60;
        let first = self
            .ddb
            .put_item()
            .table_name(&self.tables.meta)
            .item("key", AttributeValue::S(marker.clone()))
            .item(EXPIRES_AT, AttributeValue::N(expires.to_string()))
            .condition_expression("attribute_not_exists(#k)")
            .expression_attribute_names("#k", "key")
            .send()
            .await;
        match first {
            Ok(_) => Ok(Ok((user, WebhookCall { marker }))),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(Err(WebhookRefusal::Replayed))
            }
            Err(e) => Err(unavailable("remembering a webhook call")(format!("{e:?}"))),
        }
    }

    /// Gives a webhook call's marker back: its decision failed for a
    /// passing reason, and the same signed call may come again.
    pub async fn release_webhook_call(&self, call: WebhookCall) -> Result<(), DomainError> {
        self.ddb
            .delete_item()
            .table_name(&self.tables.meta)
            .key("key", AttributeValue::S(call.marker))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| unavailable("releasing a webhook call")(format!("{e:?}")))
    }

    /// The user a key acts as: `None` if the user is gone, or is not the
    /// user the key was made for (removed and added again since; a key
    /// made before users were dated like this is taken as it is).
    async fn key_owner(&self, item: &Item, key: &ApiKey) -> Result<Option<User>, DomainError> {
        let user = self.user(&key.user).await?;
        Ok(user.filter(|user| s(item, "userCreatedAt").is_none_or(|at| at == user.created_at)))
    }

    /// Revokes every key of `user` (when the user is removed).
    pub async fn revoke_keys_of(&self, user: &str) -> Result<usize, DomainError> {
        let mine: Vec<ApiKey> = self
            .keys()
            .await?
            .into_iter()
            .filter(|k| k.user == user)
            .collect();
        for key in &mine {
            match self.revoke_key(&key.id).await {
                Ok(()) | Err(DomainError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(mine.len())
    }
}

/// The key in an `Authorization` header's value: `Some(key)` for
/// `Bearer <key>` (any case), `None` for anything else, which is refused,
/// not ignored.
pub fn bearer_key(authorization: &str) -> Option<&str> {
    authorization
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, key)| key.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_only_in_their_own_shape() {
        let secret = "a".repeat(43);
        assert_eq!(
            parse(&format!("csk_0123456789ab_{secret}")),
            Some((KeyKind::Bearer, "0123456789ab"))
        );
        assert_eq!(
            parse(&format!("csw_0123456789ab_{secret}")),
            Some((KeyKind::Webhook, "0123456789ab"))
        );
        // Secrets are base64url and may hold `_` themselves.
        assert_eq!(
            parse(&format!("csk_0123456789ab_{}_x", "b".repeat(41))),
            Some((KeyKind::Bearer, "0123456789ab"))
        );
        for bad in [
            "",
            "csk_",
            "csk_0123456789ab",
            &format!("csx_0123456789ab_{secret}"),
            &format!("csk_0123456789zz_{secret}"),
            &format!("csk_0123456789ab_{}", "a".repeat(42)),
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn webhook_signatures_match_rfc_4231_hmac_sha256() {
        // RFC 4231 test case 2 pins the primitive; then the signed message
        // must be the timestamp, a dot and the body, in that order.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").expect("key");
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex(&mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(b"k").expect("key");
        mac.update(b"1700000000.POST./api/hooks/tasks/x.{}");
        let sign = |t, method, path| webhook_signature("k", t, method, path, b"{}");
        assert_eq!(
            sign(1_700_000_000, "POST", "/api/hooks/tasks/x"),
            hex(&mac.finalize().into_bytes())
        );
        let first = sign(1_700_000_000, "POST", "/api/hooks/tasks/x");
        assert_ne!(first, sign(1_700_000_001, "POST", "/api/hooks/tasks/x"));
        assert_ne!(first, sign(1_700_000_000, "POST", "/api/hooks/tasks/y"));
        assert_ne!(first, sign(1_700_000_000, "PUT", "/api/hooks/tasks/x"));
    }

    #[test]
    fn comparison_needs_every_byte() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
    }
}
