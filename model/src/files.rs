//! Files attached to what people decide on (a document to sign, a task),
//! as the browser sees them: named, typed by their content, and known by
//! their SHA-256.

use serde::{Deserialize, Serialize};

/// The kinds of file that may be attached, each shown inline its own way.
/// The type is decided by the server from the name *and* the bytes, never
/// by what the uploader claimed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileType {
    Pdf,
    Text,
    Markdown,
    Png,
    Jpeg,
    Gif,
    Webp,
}

impl FileType {
    pub const ALL: [FileType; 7] = [
        FileType::Pdf,
        FileType::Text,
        FileType::Markdown,
        FileType::Png,
        FileType::Jpeg,
        FileType::Gif,
        FileType::Webp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FileType::Pdf => "pdf",
            FileType::Text => "text",
            FileType::Markdown => "markdown",
            FileType::Png => "png",
            FileType::Jpeg => "jpeg",
            FileType::Gif => "gif",
            FileType::Webp => "webp",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// The media type it is served with.
    pub fn mime(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Text => "text/plain; charset=utf-8",
            // Browsers offer text/markdown as a download; as plain text it
            // reads in the tab (the page shows it rendered).
            FileType::Markdown => "text/plain; charset=utf-8",
            FileType::Png => "image/png",
            FileType::Jpeg => "image/jpeg",
            FileType::Gif => "image/gif",
            FileType::Webp => "image/webp",
        }
    }

    /// The file name endings that mean this type.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            FileType::Pdf => &["pdf"],
            FileType::Text => &["txt", "text"],
            FileType::Markdown => &["md", "markdown"],
            FileType::Png => &["png"],
            FileType::Jpeg => &["jpg", "jpeg"],
            FileType::Gif => &["gif"],
            FileType::Webp => &["webp"],
        }
    }

    pub fn is_image(self) -> bool {
        matches!(
            self,
            FileType::Png | FileType::Jpeg | FileType::Gif | FileType::Webp
        )
    }
}

/// A size in the largest unit that keeps it whole enough to read
/// ("10 MiB", "512 KiB", "300 bytes").
pub fn size_text(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB {
        format!("{:.1} MiB", bytes as f64 / MIB as f64).replace(".0 ", " ")
    } else if bytes >= KIB {
        format!("{:.1} KiB", bytes as f64 / KIB as f64).replace(".0 ", " ")
    } else {
        format!("{bytes} bytes")
    }
}

/// One attached file, as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub name: String,
    /// Lowercase hex SHA-256 of the bytes: the file's identity.
    pub sha256: String,
    pub size: u64,
    pub file_type: FileType,
    pub added_by: String,
    pub added_at: String,
}

/// A file as a decision saw it: what a receipt names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    pub name: String,
    pub sha256: String,
}

/// An attached file as a page shows it: with the decision, if any, that
/// saw other bytes under this name (or none at all), so that a file
/// changed after someone decided on it is flagged wherever it is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShownFile {
    pub attachment: Attachment,
    pub changed_after: Option<Seen>,
}

/// What one decision saw of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    pub by: String,
    pub at: String,
    /// The hash the decider saw; `None`: the file was not there yet.
    pub sha256: Option<String>,
    /// The decision's receipt.
    pub receipt: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(size_text(300), "300 bytes");
        assert_eq!(size_text(512 * 1024), "512 KiB");
        assert_eq!(size_text(10 * 1024 * 1024), "10 MiB");
        assert_eq!(size_text(1536 * 1024), "1.5 MiB");
    }
}
