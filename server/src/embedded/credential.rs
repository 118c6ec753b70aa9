//! The one credential the embedded services' socket accepts. Given on the
//! command line, or else generated once per data directory and kept there
//! (mode 0600), so that the AWS CLI keeps working across restarts.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The file, inside the data directory, that holds a generated credential.
const FILE: &str = "services-credential";

/// An access key id and its secret. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Why the credential file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a credential this program wrote; remove it to have a new one made")]
    Unreadable { path: PathBuf },
}

/// Where the socket's credential comes from.
#[derive(Clone, Debug)]
pub enum CredentialSource {
    /// `--access-key-id` and `--secret-access-key`.
    Given(Credential),
    /// The data directory's file, made on first use.
    DataDir,
}

impl Credential {
    /// The line printed for people: paste it into a shell before `aws`.
    pub fn export_line(&self) -> String {
        format!(
            "AWS_ACCESS_KEY_ID={} AWS_SECRET_ACCESS_KEY={}",
            self.access_key_id, self.secret_access_key
        )
    }

    fn parse(line: &str) -> Option<Self> {
        let mut parts = line.split_whitespace();
        let id = parts.next()?.strip_prefix("AWS_ACCESS_KEY_ID=")?;
        let secret = parts.next()?.strip_prefix("AWS_SECRET_ACCESS_KEY=")?;
        (parts.next().is_none() && !id.is_empty() && !secret.is_empty()).then(|| Self {
            access_key_id: id.to_owned(),
            secret_access_key: secret.to_owned(),
        })
    }

    fn generate() -> Self {
        // Shaped like AWS's own (20 upper-case characters, a 40-odd
        // character secret) so that tools which check the shape accept it.
        let id: String = countersign_domain::users::generate_password()
            .chars()
            .map(|c| match c.to_ascii_uppercase() {
                c @ ('A'..='Z' | '0'..='9') => c,
                _ => 'X',
            })
            .take(16)
            .collect();
        Self {
            access_key_id: format!("CSAK{id}"),
            secret_access_key: format!(
                "{}{}",
                countersign_domain::users::generate_password(),
                countersign_domain::users::generate_password()
            ),
        }
    }

    /// The data directory's credential: read, or made and stored with
    /// owner-only permissions.
    pub fn for_data_dir(data_dir: &Path) -> Result<Self, CredentialError> {
        let path = data_dir.join(FILE);
        let io = |source| CredentialError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(data_dir).map_err(io)?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&path) {
            Ok(mut file) => {
                let credential = Self::generate();
                writeln!(file, "{}", credential.export_line()).map_err(io)?;
                file.sync_all().map_err(io)?;
                Ok(credential)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(&path).map_err(io)?;
                Self::parse(text.trim()).ok_or(CredentialError::Unreadable { path })
            }
            Err(e) => Err(io(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_credential_is_kept_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("cs-cred-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = Credential::for_data_dir(&dir).expect("made");
        let again = Credential::for_data_dir(&dir).expect("read");
        assert_eq!(first, again);
        assert_eq!(first.access_key_id.len(), 20);
        assert!(first.secret_access_key.len() >= 40);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(FILE))
                .expect("file")
                .permissions();
            assert_eq!(mode.mode() & 0o777, 0o600);
        }
        assert!(!format!("{first:?}").contains(&first.secret_access_key));
        std::fs::write(dir.join(FILE), "garbage").expect("write");
        assert!(matches!(
            Credential::for_data_dir(&dir),
            Err(CredentialError::Unreadable { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
