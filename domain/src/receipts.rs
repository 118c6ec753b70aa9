//! Receipts: a decision as a signed statement anyone can check offline.
//!
//! A receipt says who decided what, when, on which files (by SHA-256, as
//! the decider saw them), for which execution and task. It is made from
//! the decision's ledger row whenever it is asked for, and signed with
//! Ed25519 (the `ed25519-dalek` crate) by a key the server keeps in its
//! meta table: made once, by whichever replica gets there first, and the
//! same for every replica after. Ed25519 signatures are deterministic, so
//! the same decision always has the same receipt.
//!
//! What is signed is the receipt's canonical JSON: keys sorted, no
//! whitespace (see [`canonical`]). A receipt file is
//! `{"receipt": {...}, "signature": "<base64url>"}`; [`verify`] checks
//! one against the public key (served at
//! `/.well-known/countersign-receipt-key`) and, if given, the files.

use aws_sdk_dynamodb::types::AttributeValue;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::DomainError;
use crate::items::{condition_failed, s, unavailable};
use crate::ledger::Entry;
use crate::outcome::{Outcome, Scope};
use crate::secrets::{base64url, base64url_decode, sha256_hex};
use crate::services::Services;
use countersign_model::files::FileRef;
pub use countersign_model::receipts::{Decision, RECEIPT_TYPE, Receipt, ReceiptPage, SubjectRef};

/// The meta table row that holds the signing key.
const KEY_ROW: &str = "receipt-signing-key";

/// The server's receipt key, public half, as a JWK (RFC 8037).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKey {
    pub kty: String,
    pub crv: String,
    /// The 32-byte public key, base64url.
    pub x: String,
    /// Short id: the first 16 hex digits of the key's SHA-256.
    pub kid: String,
}

impl PublicKey {
    fn of(key: &VerifyingKey) -> Self {
        Self {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: base64url(key.as_bytes()),
            kid: key_id(key),
        }
    }

    fn verifying_key(&self) -> Result<VerifyingKey, Invalid> {
        if self.kty != "OKP" || self.crv != "Ed25519" {
            return Err(Invalid::Key);
        }
        let bytes: [u8; 32] = base64url_decode(&self.x)
            .and_then(|b| b.try_into().ok())
            .ok_or(Invalid::Key)?;
        VerifyingKey::from_bytes(&bytes).map_err(|_| Invalid::Key)
    }
}

fn key_id(key: &VerifyingKey) -> String {
    sha256_hex(key.as_bytes())[..16].to_owned()
}

/// A receipt with its signature: what `GET /receipts/{decision}` serves
/// and `countersign receipts verify` reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signed {
    pub receipt: Value,
    pub signature: String,
}

/// Why a receipt does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("this is not a receipt (it is not the JSON a receipt is)")]
    NotAReceipt,
    #[error("the key is not an Ed25519 public key")]
    Key,
    #[error("the receipt was signed with key {signed_with}, not this key ({given})")]
    OtherKey { signed_with: String, given: String },
    #[error("the signature does not match: the receipt was changed, or not signed by this key")]
    Signature,
    #[error(
        "{name} is not the file the decision saw (its SHA-256 is {found}, the receipt says {expected})"
    )]
    FileChanged {
        name: String,
        expected: String,
        found: String,
    },
    #[error("the receipt names no file called {0}")]
    UnknownFile(String),
}

/// JSON with object keys sorted and no whitespace: the bytes a receipt's
/// signature covers, the same whoever writes them.
pub fn canonical(value: &Value) -> Vec<u8> {
    fn write(value: &Value, out: &mut Vec<u8>) {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push(b'{');
                for (i, key) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write(&Value::String(key.clone()), out);
                    out.push(b':');
                    write(&map[key], out);
                }
                out.push(b'}');
            }
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write(item, out);
                }
                out.push(b']');
            }
            scalar => out.extend(scalar.to_string().into_bytes()),
        }
    }
    let mut out = Vec::new();
    write(value, &mut out);
    out
}

/// Checks a receipt file against a public key and, for each `(name,
/// bytes)` given, that the file is the one the decision saw.
pub fn verify(
    receipt_file: &[u8],
    key: &PublicKey,
    files: &[(String, Vec<u8>)],
) -> Result<Receipt, Invalid> {
    let signed: Signed = serde_json::from_slice(receipt_file).map_err(|_| Invalid::NotAReceipt)?;
    let receipt: Receipt =
        serde_json::from_value(signed.receipt.clone()).map_err(|_| Invalid::NotAReceipt)?;
    if receipt.kind != RECEIPT_TYPE {
        return Err(Invalid::NotAReceipt);
    }
    let verifying = key.verifying_key()?;
    if receipt.key != key.kid {
        return Err(Invalid::OtherKey {
            signed_with: receipt.key.clone(),
            given: key.kid.clone(),
        });
    }
    let signature: [u8; 64] = base64url_decode(&signed.signature)
        .and_then(|b| b.try_into().ok())
        .ok_or(Invalid::Signature)?;
    verifying
        .verify(
            &canonical(&signed.receipt),
            &Signature::from_bytes(&signature),
        )
        .map_err(|_| Invalid::Signature)?;
    for (name, bytes) in files {
        let recorded = receipt
            .files
            .iter()
            .find(|f| &f.name == name)
            .ok_or_else(|| Invalid::UnknownFile(name.clone()))?;
        let found = sha256_hex(bytes);
        if found != recorded.sha256 {
            return Err(Invalid::FileChanged {
                name: name.clone(),
                expected: recorded.sha256.clone(),
                found,
            });
        }
    }
    Ok(receipt)
}

/// The files a ledger row's decision saw, as its payload recorded them.
pub(crate) fn files_of(entry: &Entry) -> Vec<FileRef> {
    entry
        .payload
        .as_ref()
        .and_then(|p| p.get("attachments"))
        .and_then(|a| serde_json::from_value(a.clone()).ok())
        .unwrap_or_default()
}

/// What a decision was about and what it said, in a receipt's words (the
/// audit export uses the same).
pub(crate) fn decision_of(entry: &Entry) -> (SubjectRef, Decision) {
    let (outcome, error, reason) = match &entry.outcome {
        Outcome::Advance => ("success", None, None),
        Outcome::Reject { reason, error } => ("failure", Some(error.clone()), Some(reason.clone())),
    };
    let subject_kind = match entry.scope {
        Scope::Order { .. } => "order",
        Scope::Signature { .. } => "signature",
        Scope::Task { .. } => "task",
    };
    let subject = SubjectRef {
        kind: subject_kind.into(),
        id: entry.scope.subject().to_owned(),
    };
    let decision = Decision {
        action: entry
            .action()
            .unwrap_or_else(|| entry.outcome.name(&entry.scope))
            .to_owned(),
        outcome: outcome.into(),
        by: entry.actor.clone(),
        at: entry.at.clone(),
        comment: entry.comment.clone(),
        error,
        reason,
    };
    (subject, decision)
}

/// A receipt, its signing key and the ledger row it came from.
/// A handle on [`Services`]; get one with [`Services::receipts`].
#[derive(Debug, Clone, Copy)]
pub struct Receipts<'a> {
    s: &'a Services,
}

impl Services {
    /// Signed receipts of decisions.
    pub fn receipts(&self) -> Receipts<'_> {
        Receipts { s: self }
    }
}

impl Receipts<'_> {
    /// The signing key: read once per process, made once per deployment.
    async fn key(self) -> Result<SigningKey, DomainError> {
        self.s
            .receipt_key
            .0
            .get_or_try_init(|| async {
                if let Some(key) = self.stored_key().await? {
                    return Ok(key);
                }
                let mut seed = [0u8; 32];
                OsRng.fill_bytes(&mut seed);
                let put = self
                    .s
                    .ddb
                    .put_item()
                    .table_name(&self.s.tables.meta)
                    .item("key", AttributeValue::S(KEY_ROW.into()))
                    .item("seed", AttributeValue::S(base64url(&seed)))
                    .condition_expression("attribute_not_exists(#k)")
                    .expression_attribute_names("#k", "key")
                    .send()
                    .await;
                match put {
                    Ok(_) => Ok(SigningKey::from_bytes(&seed)),
                    // Another replica made it first (or our put got through
                    // and its answer was lost): theirs is the key.
                    Err(e) => {
                        if !condition_failed(&e) {
                            tracing::warn!(error = ?e, "storing the receipt key had no clear answer");
                        }
                        self.stored_key().await?.ok_or(DomainError::Unavailable)
                    }
                }
            })
            .await
            .cloned()
    }

    async fn stored_key(self) -> Result<Option<SigningKey>, DomainError> {
        let out = self
            .s
            .ddb
            .get_item()
            .table_name(&self.s.tables.meta)
            .key("key", AttributeValue::S(KEY_ROW.into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| unavailable("reading the receipt key")(format!("{e:?}")))?;
        let Some(item) = out.item() else {
            return Ok(None);
        };
        let seed: [u8; 32] = s(item, "seed")
            .and_then(|t| base64url_decode(&t))
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| unavailable("reading the receipt key")("it is malformed".into()))?;
        Ok(Some(SigningKey::from_bytes(&seed)))
    }

    /// The public half, for `/.well-known/countersign-receipt-key`.
    pub async fn public_key(self) -> Result<PublicKey, DomainError> {
        Ok(PublicKey::of(&self.key().await?.verifying_key()))
    }

    /// The signed receipt of a decision that reached its workflow.
    /// Whether the caller may see it is the caller's check
    /// ([`crate::access::receipt`]).
    pub(crate) async fn of_entry(self, entry: &Entry) -> Result<Signed, DomainError> {
        let key = self.key().await?;
        let (subject, decision) = decision_of(entry);
        let receipt = Receipt {
            kind: RECEIPT_TYPE.into(),
            version: 1,
            id: entry.task_id.clone(),
            subject,
            execution: entry.execution.clone(),
            task: entry.task_id.clone(),
            decision,
            files: files_of(entry),
            key: key_id(&key.verifying_key()),
        };
        let body = serde_json::to_value(&receipt).map_err(|_| DomainError::Unavailable)?;
        let signature = key.sign(&canonical(&body));
        Ok(Signed {
            receipt: body,
            signature: base64url(&signature.to_bytes()),
        })
    }

    /// The ledger row of a decision that took effect, or `NotFound`.
    pub(crate) async fn entry(self, decision: &str) -> Result<Entry, DomainError> {
        match self.s.ledger().entry(decision).await? {
            Some(entry) if entry.applied => Ok(entry),
            _ => Err(DomainError::NotFound),
        }
    }
}

/// A signed receipt as its page shows it.
pub fn page(signed: &Signed) -> Result<ReceiptPage, DomainError> {
    let receipt =
        serde_json::from_value(signed.receipt.clone()).map_err(|_| DomainError::Unavailable)?;
    Ok(ReceiptPage {
        receipt,
        signature: signed.signature.clone(),
        file: to_file(signed),
    })
}

/// A receipt file's JSON, pretty-printed for people (the signature covers
/// the canonical form, so layout does not matter).
pub fn to_file(signed: &Signed) -> String {
    serde_json::to_string_pretty(&json!({
        "receipt": signed.receipt,
        "signature": signed.signature,
    }))
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed_example(key: &SigningKey) -> Vec<u8> {
        let receipt = json!({
            "type": RECEIPT_TYPE, "version": 1, "id": "t1",
            "subject": {"kind": "signature", "id": "d1"},
            "execution": "arn:x", "task": "t1",
            "decision": {"action": "sign", "outcome": "success", "by": "bob", "at": "2026-01-01T00:00:00Z"},
            "files": [{"name": "a.txt", "sha256": sha256_hex("hello")}],
            "key": key_id(&key.verifying_key()),
        });
        let signature = key.sign(&canonical(&receipt));
        to_file(&Signed {
            receipt,
            signature: base64url(&signature.to_bytes()),
        })
        .into_bytes()
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let value: Value =
            serde_json::from_str(r#"{"b":1,"a":{"z":[{"y":1,"x":"é\n"}],"c":null}}"#)
                .expect("json");
        assert_eq!(
            String::from_utf8(canonical(&value)).expect("utf-8"),
            r#"{"a":{"c":null,"z":[{"x":"é\n","y":1}]},"b":1}"#
        );
    }

    #[test]
    fn a_receipt_verifies_and_any_change_to_it_or_its_file_does_not() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let public = PublicKey::of(&key.verifying_key());
        let file = signed_example(&key);
        let good = vec![("a.txt".to_owned(), b"hello".to_vec())];
        let receipt = verify(&file, &public, &good).expect("verifies");
        assert_eq!(receipt.decision.by, "bob");

        // One byte of the file.
        let changed = vec![("a.txt".to_owned(), b"hellp".to_vec())];
        assert!(matches!(
            verify(&file, &public, &changed),
            Err(Invalid::FileChanged { .. })
        ));
        // Any one byte of the receipt's text (outside layout whitespace)
        // either spoils the JSON or the signature.
        let text = String::from_utf8(file.clone()).expect("utf-8");
        let at = text.find("bob").expect("actor");
        let mut tampered = file.clone();
        tampered[at] = b'r';
        assert_eq!(verify(&tampered, &public, &[]), Err(Invalid::Signature));
        for i in (0..file.len()).step_by(7) {
            if file[i].is_ascii_whitespace() {
                continue;
            }
            let mut one = file.clone();
            one[i] ^= 0x01;
            assert!(verify(&one, &public, &[]).is_err(), "byte {i} changed");
        }
        // Another key.
        let other = PublicKey::of(&SigningKey::from_bytes(&[8; 32]).verifying_key());
        assert!(matches!(
            verify(&file, &other, &[]),
            Err(Invalid::OtherKey { .. })
        ));
        assert_eq!(
            verify(&file, &public, &[("b.txt".into(), vec![])]),
            Err(Invalid::UnknownFile("b.txt".into()))
        );
    }
}
