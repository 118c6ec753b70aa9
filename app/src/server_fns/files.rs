//! Attached files and decision receipts, for the document, task and order
//! pages and the receipt page. The bytes themselves are served by the
//! server's `/files/…` routes; these calls say what there is, with text
//! and Markdown already rendered, and who may add more.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use countersign_model::files::{FileType, ShownFile};
use countersign_model::receipts::ReceiptPage;

/// Text and Markdown files up to this size are shown on the page itself.
pub const INLINE_TEXT: u64 = 256 * 1024;

/// What a page shows of its files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilesCard {
    /// Where the files belong: `order`, `document` or `task`, and its id
    /// (the upload form posts to `/files/{of}/{id}`).
    pub of: String,
    pub id: String,
    pub files: Vec<FileView>,
    /// Whether the reader may attach files here (staff, with a store).
    pub may_attach: bool,
    /// The largest file, in bytes.
    pub limit: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileView {
    pub shown: ShownFile,
    /// Where the bytes are (`/files/{of}/{id}/{name}`).
    pub href: String,
    /// A text file's content, for the page.
    pub text: Option<String>,
    /// A Markdown file, rendered (safe to put in the page as it is).
    pub html: Option<String>,
    /// False when the stored bytes no longer match their hash.
    pub intact: bool,
}

impl FileView {
    pub fn file_type(&self) -> FileType {
        self.shown.attachment.file_type
    }
}

/// The files attached to an order, document or task (`of`), with text
/// and Markdown content ready to show.
///
/// Who may call it: whoever may see the order, document or task.
#[server(endpoint = "files/list")]
pub async fn files(of: String, id: String) -> Result<FilesCard, AppError> {
    use countersign_domain::access::{self, FilesOf};
    crate::auth::as_signed_in(|services, user| async move {
        let owner = match of.as_str() {
            "order" => FilesOf::Order(&id),
            "document" => FilesOf::Document(&id),
            "task" => FilesOf::Task(&id),
            _ => return Err(AppError::NotFound),
        };
        let shown = access::attachments(&services.domain, &user, owner).await?;
        let mut files = Vec::with_capacity(shown.len());
        for shown in shown {
            let a = &shown.attachment;
            let href = format!(
                "/files/{of}/{}/{}",
                crate::words::urlencode(&id),
                crate::words::urlencode(&a.name)
            );
            let textual = matches!(a.file_type, FileType::Text | FileType::Markdown);
            let (mut text, mut html, mut intact) = (None, None, true);
            if textual && a.size <= INLINE_TEXT {
                let opened =
                    access::open_attachment(&services.domain, &user, owner, &a.name).await?;
                intact = opened.intact;
                if intact {
                    let content = String::from_utf8_lossy(&opened.bytes).into_owned();
                    if a.file_type == FileType::Markdown {
                        html = Some(crate::markdown::to_html(&content));
                    } else {
                        text = Some(content);
                    }
                }
            }
            files.push(FileView {
                shown,
                href,
                text,
                html,
                intact,
            });
        }
        Ok(FilesCard {
            may_attach: user.has(countersign_domain::users::Role::Staff)
                && services.domain.files.enabled(),
            limit: services.domain.files.limit,
            of,
            id,
            files,
        })
    })
    .await
}

/// A decision's signed receipt.
///
/// Who may call it: staff, whoever decided, and anyone who may see what
/// was decided. Anyone else is told "not found".
#[server(endpoint = "receipts/get")]
pub async fn receipt(id: String) -> Result<ReceiptPage, AppError> {
    crate::auth::as_signed_in(|services, user| async move {
        let signed = countersign_domain::access::receipt(&services.domain, &user, &id).await?;
        Ok(countersign_domain::receipts::page(&signed)?)
    })
    .await
}
