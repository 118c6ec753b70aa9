//! Passwords: what one must be, one nobody chose, and argon2id hashing
//! (off the async threads: it is slow on purpose).

use std::sync::OnceLock;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};

use crate::DomainError;
use crate::items::unavailable;

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 8;
/// Longest password accepted (argon2 accepts more; nobody types more).
pub const MAX_PASSWORD: usize = 1024;

pub(super) fn check_password(password: &str) -> Result<(), DomainError> {
    let n = password.chars().count();
    if (MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
        Ok(())
    } else {
        Err(DomainError::Invalid(format!(
            "a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters"
        )))
    }
}

/// A password nobody chose: 16 random bytes as base64url (22 characters),
/// never starting with `-` or `_`. Such secrets are passed on command
/// lines (`--secret-access-key`, a printed demo password), where a leading
/// `-` reads as an option; drawing again costs under 0.05 bits.
pub fn generate_password() -> String {
    loop {
        let mut bytes = [0u8; 16];
        OsRng.fill_bytes(&mut bytes);
        let text = crate::secrets::base64url(&bytes);
        if text.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return text;
        }
    }
}

/// argon2id with the crate's defaults (19 MiB, 2 passes), the OWASP
/// recommendation. Slow on purpose, so it runs off the async threads.
pub(super) async fn hash_password(password: String) -> Result<String, DomainError> {
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

pub(super) async fn verify_password(password: String, hash: String) -> bool {
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

/// A hash no password matches, checked for unknown names so that a wrong
/// name takes as long as a wrong password and does not reveal who exists.
pub(super) async fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DECOY.get() {
        return hash;
    }
    let hash = hash_password(generate_password()).await.unwrap_or_default();
    DECOY.get_or_init(|| hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_never_read_as_a_command_line_option() {
        // One in 32 would start with `-` or `_` if nothing prevented it.
        for _ in 0..5_000 {
            let p = generate_password();
            assert!(p.starts_with(|c: char| c.is_ascii_alphanumeric()), "{p}");
        }
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
