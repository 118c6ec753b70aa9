//! Files attached to what people decide on: a document to sign, or a task
//! of any kind (by its kind and subject, so that every task on the same
//! subject shows the same files).
//!
//! The bytes go to an object store through the `object_store` crate (a
//! directory under `--data-dir` in embedded mode, an S3 bucket in AWS
//! mode), under their SHA-256, so that a file is known by its content and
//! the same bytes are stored once. The attachments table says which file
//! an owner has under which name. A name may be given new bytes; a
//! decision records the hashes its decider saw, so a receipt can always
//! tell which bytes were decided on, and pages flag a file that changed
//! since.
//!
//! Reading a file checks its bytes against their hash again: a store
//! tampered with behind the dashboard's back is flagged, not trusted.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::DomainError;
pub use crate::file_store::{DEFAULT_LIMIT, FileStore};
use crate::items::{Item, s, unavailable};
use crate::secrets::sha256_hex;
use crate::services::Services;
pub use countersign_model::files::{Attachment, FileRef, FileType, Seen, ShownFile, size_text};

/// Most files one owner may have.
pub const MAX_FILES: usize = 20;
/// Longest file name, in characters.
pub const MAX_NAME: usize = 120;

/// A decision's payload with the files its decider saw added under
/// `attachments` (what its receipt and the workflow's output carry).
/// Nothing is added when there are none, so a workflow without files
/// hears what it always did.
pub(crate) fn with_files(
    payload: Option<serde_json::Value>,
    files: Vec<FileRef>,
) -> Option<serde_json::Value> {
    if files.is_empty() {
        return payload;
    }
    let files = serde_json::to_value(files).unwrap_or_default();
    match payload {
        Some(serde_json::Value::Object(mut map)) => {
            map.insert("attachments".into(), files);
            Some(serde_json::Value::Object(map))
        }
        // A payload is always an object; anything else keeps its shape.
        Some(other) => Some(other),
        None => Some(serde_json::json!({ "attachments": files })),
    }
}

/// What attachments belong to: a subject of some kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    kind: String,
    subject: String,
}

impl Owner {
    /// An order's files.
    pub fn order(order_id: &str) -> Self {
        Self {
            kind: crate::orders::KIND.into(),
            subject: order_id.into(),
        }
    }

    /// A document's files (every signer's request shows them).
    pub fn document(document_id: &str) -> Self {
        Self {
            kind: crate::signatures::KIND.into(),
            subject: document_id.into(),
        }
    }

    /// The files of a kind's subject (those attached when it was started).
    pub fn of_subject(kind: &str, subject: &str) -> Self {
        Self {
            kind: kind.into(),
            subject: subject.into(),
        }
    }

    /// A task's files: those of its kind's subject. `None` for a task
    /// whose contract cannot be read.
    pub fn of_task(task: &countersign_model::tasks::Task) -> Option<Self> {
        let spec = task.spec()?;
        Some(Self {
            kind: spec.kind.clone(),
            subject: spec.subject.id.clone(),
        })
    }

    /// The subject the files belong to (whose decisions saw them).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The table's partition key: kind names hold no `#`, so the pair is
    /// unambiguous.
    fn key(&self) -> String {
        format!("{}#{}", self.kind, self.subject)
    }
}

/// A file as read back: its row, its bytes, and whether the bytes are
/// still the ones its hash names.
#[derive(Debug, Clone)]
pub struct Opened {
    pub attachment: Attachment,
    pub bytes: Vec<u8>,
    pub intact: bool,
}

/// Checks a file's name and works out its type from the name and the
/// bytes together: a `.pdf` must be a PDF, an image must be that image,
/// text must be UTF-8. Anything else is refused, so what is served
/// inline is always what its type says.
pub fn check(name: &str, bytes: &[u8], limit: u64) -> Result<FileType, DomainError> {
    let invalid = |m: String| Err(DomainError::Invalid(m));
    let count = name.chars().count();
    if count == 0 || count > MAX_NAME {
        return invalid(format!("a file name is 1 to {MAX_NAME} characters"));
    }
    if name.starts_with('.')
        || name
            .chars()
            .any(|c| c.is_control() || matches!(c, '/' | '\\' | '"' | '#'))
    {
        return invalid(format!("{name:?} is not a file name that can be stored"));
    }
    if bytes.len() as u64 > limit {
        return Err(DomainError::TooLarge { limit });
    }
    if bytes.is_empty() {
        return invalid(format!("{name} is empty"));
    }
    let extension = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let Some(file_type) = FileType::ALL
        .into_iter()
        .find(|t| t.extensions().contains(&extension.as_str()))
    else {
        return invalid(format!(
            "{name}: only PDF, plain text, Markdown and PNG, JPEG, GIF or WebP images can be attached"
        ));
    };
    let looks_right = match file_type {
        FileType::Pdf => bytes.starts_with(b"%PDF-"),
        FileType::Text | FileType::Markdown => std::str::from_utf8(bytes).is_ok(),
        FileType::Png => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        FileType::Jpeg => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        FileType::Gif => bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a"),
        FileType::Webp => bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP",
    };
    if !looks_right {
        return invalid(format!(
            "{name} does not hold what its name says (a .{extension} file)"
        ));
    }
    Ok(file_type)
}

/// The attachments table and the file store.
/// A handle on [`Services`]; get one with [`Services::attachments`].
#[derive(Debug, Clone, Copy)]
pub struct Attachments<'a> {
    s: &'a Services,
}

impl Services {
    /// Files attached to documents and tasks.
    pub fn attachments(&self) -> Attachments<'_> {
        Attachments { s: self }
    }
}

impl Attachments<'_> {
    /// Attaches `bytes` as `name` (replacing what had that name), once
    /// they are stored; returns the row.
    pub async fn add(
        self,
        owner: &Owner,
        name: &str,
        bytes: Vec<u8>,
        by: &str,
    ) -> Result<Attachment, DomainError> {
        self.s.files.store()?;
        let file_type = check(name, &bytes, self.s.files.limit)?;
        let existing = self.list(owner).await?;
        if existing.len() >= MAX_FILES && !existing.iter().any(|a| a.name == name) {
            return Err(DomainError::Invalid(format!(
                "at most {MAX_FILES} files can be attached"
            )));
        }
        let attachment = Attachment {
            name: name.to_owned(),
            sha256: sha256_hex(&bytes),
            size: bytes.len() as u64,
            file_type,
            added_by: by.to_owned(),
            added_at: self.s.clock.stamp(),
        };
        // Bytes first: a row never names bytes that are not there.
        self.s.files.put(&attachment.sha256, bytes).await?;
        self.s
            .ddb
            .put_item()
            .table_name(&self.s.tables.attachments)
            .set_item(Some(item(owner, &attachment)))
            .send()
            .await
            .map_err(|e| unavailable("recording a file")(format!("{e:?}")))?;
        Ok(attachment)
    }

    /// An owner's files, by name.
    pub async fn list(self, owner: &Owner) -> Result<Vec<Attachment>, DomainError> {
        let out = self
            .s
            .ddb
            .query()
            .table_name(&self.s.tables.attachments)
            .key_condition_expression("#owner = :owner")
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", AttributeValue::S(owner.key()))
            .consistent_read(true)
            .limit(MAX_FILES as i32 + 1)
            .send()
            .await
            .map_err(|e| unavailable("listing files")(format!("{e:?}")))?;
        Ok(out.items().iter().filter_map(from_item).collect())
    }

    /// An owner's files as pages show them: each with the latest decision
    /// that saw other bytes under its name, or none at all.
    pub async fn shown(self, owner: &Owner) -> Result<Vec<ShownFile>, DomainError> {
        let files = self.list(owner).await?;
        if files.is_empty() {
            return Ok(Vec::new());
        }
        let decisions = self.s.ledger().applied(owner.subject()).await?;
        Ok(files
            .into_iter()
            .map(|attachment| {
                let changed_after = decisions.iter().rev().find_map(|entry| {
                    let seen = crate::receipts::files_of(entry)
                        .into_iter()
                        .find(|f| f.name == attachment.name);
                    let differs = match &seen {
                        Some(f) => f.sha256 != attachment.sha256,
                        // Not there when this was decided: added since.
                        None => entry.at < attachment.added_at,
                    };
                    differs.then(|| Seen {
                        by: entry.actor.clone(),
                        at: entry.at.clone(),
                        sha256: seen.map(|f| f.sha256),
                        receipt: entry.task_id.clone(),
                    })
                });
                ShownFile {
                    attachment,
                    changed_after,
                }
            })
            .collect())
    }

    /// The files a decision sees: each name with its hash now.
    pub async fn refs(self, owner: &Owner) -> Result<Vec<FileRef>, DomainError> {
        Ok(self
            .list(owner)
            .await?
            .into_iter()
            .map(|a| FileRef {
                name: a.name,
                sha256: a.sha256,
            })
            .collect())
    }

    /// One file with its bytes, checked against its hash.
    pub async fn open(self, owner: &Owner, name: &str) -> Result<Opened, DomainError> {
        let attachment = self
            .list(owner)
            .await?
            .into_iter()
            .find(|a| a.name == name)
            .ok_or(DomainError::NotFound)?;
        let Some(bytes) = self.s.files.get(&attachment.sha256).await? else {
            tracing::warn!(file = %attachment.sha256, "a file's bytes are missing from the store");
            return Err(DomainError::Unavailable);
        };
        let intact = sha256_hex(&bytes) == attachment.sha256;
        if !intact {
            tracing::warn!(file = %attachment.sha256, "a file's bytes no longer match their hash");
        }
        Ok(Opened {
            attachment,
            bytes,
            intact,
        })
    }
}

fn item(owner: &Owner, a: &Attachment) -> Item {
    Item::from([
        ("owner".to_owned(), AttributeValue::S(owner.key())),
        ("name".to_owned(), AttributeValue::S(a.name.clone())),
        ("sha256".to_owned(), AttributeValue::S(a.sha256.clone())),
        ("size".to_owned(), AttributeValue::N(a.size.to_string())),
        (
            "type".to_owned(),
            AttributeValue::S(a.file_type.as_str().into()),
        ),
        ("addedBy".to_owned(), AttributeValue::S(a.added_by.clone())),
        ("addedAt".to_owned(), AttributeValue::S(a.added_at.clone())),
    ])
}

fn from_item(item: &Item) -> Option<Attachment> {
    Some(Attachment {
        name: s(item, "name")?,
        sha256: s(item, "sha256")?,
        size: item.get("size")?.as_n().ok()?.parse().ok()?,
        file_type: FileType::parse(&s(item, "type")?)?,
        added_by: s(item, "addedBy").unwrap_or_default(),
        added_at: s(item, "addedAt").unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_needs_both_its_name_and_its_bytes() {
        let limit = 1000;
        assert_eq!(
            check("contract.pdf", b"%PDF-1.4\n", limit),
            Ok(FileType::Pdf)
        );
        assert_eq!(
            check("notes.MD", "# Hi ✓".as_bytes(), limit),
            Ok(FileType::Markdown)
        );
        assert_eq!(check("a.txt", b"plain", limit), Ok(FileType::Text));
        assert_eq!(
            check("p.png", b"\x89PNG\r\n\x1a\nrest", limit),
            Ok(FileType::Png)
        );
        assert_eq!(
            check("w.webp", b"RIFF\0\0\0\0WEBPVP8 ", limit),
            Ok(FileType::Webp)
        );
        for (name, bytes) in [
            ("fake.pdf", &b"<html><script>"[..]),
            ("fake.png", b"GIF89a"),
            ("bad.txt", &[0xff, 0xfe, 0x00][..]),
            ("page.html", b"<p>hi</p>"),
            ("image.svg", b"<svg/>"),
            ("noext", b"text"),
            (".hidden.txt", b"x"),
            ("dir/a.txt", b"x"),
            ("", b"x"),
            ("empty.txt", b""),
        ] {
            assert!(
                matches!(check(name, bytes, limit), Err(DomainError::Invalid(_))),
                "{name} should be refused"
            );
        }
        assert_eq!(
            check("big.txt", &[b'a'; 1001], limit),
            Err(DomainError::TooLarge { limit })
        );
    }

    #[test]
    fn files_join_a_payload_only_when_there_are_some() {
        assert_eq!(with_files(None, vec![]), None);
        let files = vec![FileRef {
            name: "a.txt".into(),
            sha256: "ab".into(),
        }];
        assert_eq!(
            with_files(
                Some(serde_json::json!({"action": "approve"})),
                files.clone()
            ),
            Some(
                serde_json::json!({"action": "approve", "attachments": [{"name": "a.txt", "sha256": "ab"}]})
            )
        );
        assert_eq!(
            with_files(None, files),
            Some(serde_json::json!({"attachments": [{"name": "a.txt", "sha256": "ab"}]}))
        );
    }
}
