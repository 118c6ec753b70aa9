//! The files attached to a document, task or order, shown on its page: a
//! PDF in the browser's own viewer, text and Markdown on the page, images
//! as images, each with its SHA-256 and a flag when it changed after
//! someone decided on it; and, for staff, a plain form to attach more
//! (it works with JavaScript off).

use leptos::prelude::*;

use crate::error::AppError;
use crate::pages::common::{Failure, When, short};
use crate::server_fns::files::{FileView, FilesCard};
use countersign_model::files::{FileType, size_text};

pub type FilesResource = Resource<Result<FilesCard, AppError>>;

/// The files of the page's `of` (`order`, `document` or `task`) named by
/// `id`, refetched when `version` moves and on live changes.
pub fn files_resource(
    of: &'static str,
    id: impl Fn() -> String + Send + Sync + 'static,
    version: impl Fn() -> usize + Send + Sync + 'static,
) -> FilesResource {
    let live = crate::pages::common::live();
    Resource::new(
        move || (id(), live.get(), version()),
        move |(id, ..)| crate::server_fns::files::files(of.to_owned(), id),
    )
}

/// What file types the upload form offers.
const ACCEPT: &str = ".pdf,.txt,.text,.md,.markdown,.png,.jpg,.jpeg,.gif,.webp";

#[component]
pub fn FilesPanel(files: FilesResource) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            {move || {
                files.get().map(|result| match result {
                    Err(error) => view! { <Failure error /> }.into_any(),
                    Ok(card) if card.files.is_empty() && !card.may_attach => ().into_any(),
                    Ok(card) => view! { <Files card /> }.into_any(),
                })
            }}
        </Transition>
    }
}

#[component]
fn Files(card: FilesCard) -> impl IntoView {
    let FilesCard {
        of,
        id,
        files,
        may_attach,
        limit,
    } = card;
    let action = format!("/files/{of}/{}", crate::words::urlencode(&id));
    view! {
        <section class="files" id="files" aria-labelledby="files-heading">
            <h2 id="files-heading">"Files"</h2>
            {files.is_empty().then(|| view! { <p class="muted">"No files attached."</p> })}
            {files.into_iter().map(|file| view! { <FileCard file /> }).collect_view()}
            {may_attach.then(|| view! {
                // A plain multipart form: the server takes it and comes
                // back here, with or without JavaScript.
                <form class="attach" method="post" action=action enctype="multipart/form-data">
                    <label>
                        "Attach files (PDF, text, Markdown or images, up to " {size_text(limit)} " each)"
                        <input type="file" name="file" multiple accept=ACCEPT required />
                    </label>
                    <button type="submit">"Attach"</button>
                </form>
            })}
        </section>
    }
}

#[component]
fn FileCard(file: FileView) -> impl IntoView {
    let a = file.shown.attachment.clone();
    let kind = file.file_type();
    let download = format!("{}?download", file.href);
    let type_name = match kind {
        FileType::Pdf => "PDF",
        FileType::Text => "text",
        FileType::Markdown => "Markdown",
        FileType::Png => "PNG image",
        FileType::Jpeg => "JPEG image",
        FileType::Gif => "GIF image",
        FileType::Webp => "WebP image",
    };
    let changed = file.shown.changed_after.clone().map(|seen| {
        let receipt = format!("/receipts/{}", crate::words::urlencode(&seen.receipt));
        let what = match &seen.sha256 {
            Some(sha) => format!("{} decided on other bytes (SHA-256 {})", seen.by, short(sha)),
            None => format!("{} decided before this file was attached", seen.by),
        };
        view! {
            <p class="changed" role="note">
                <strong>"Changed after a decision: "</strong> {what} " · " <When at=seen.at.clone() />
                " · " <a href=receipt>"see the receipt"</a>
            </p>
        }
    });
    let body = if !file.intact {
        view! { <p class="error">"The stored bytes no longer match this file's SHA-256; it is not shown."</p> }.into_any()
    } else {
        match (kind, file.text.clone(), file.html.clone()) {
            (FileType::Pdf, ..) => view! {
                <iframe class="pdf" src=file.href.clone() title=format!("{} (PDF)", a.name)></iframe>
            }
            .into_any(),
            (FileType::Markdown, _, Some(html)) => view! { <div class="markdown" inner_html=html></div> }.into_any(),
            (FileType::Text, Some(text), _) => view! { <pre class="text">{text}</pre> }.into_any(),
            (k, ..) if k.is_image() => view! { <img class="image" src=file.href.clone() alt=a.name.clone() /> }.into_any(),
            _ => view! { <p class="muted">"Too long to show here: open or download it."</p> }.into_any(),
        }
    };
    view! {
        <article class="file" data-file=a.name.clone() data-sha256=a.sha256.clone()>
            <h3>{a.name.clone()}</h3>
            <p class="meta">
                {type_name} " · " {size_text(a.size)} " · added by " {a.added_by.clone()} " " <When at=a.added_at.clone() />
            </p>
            <p class="meta hash">"SHA-256 " <code>{a.sha256.clone()}</code></p>
            {changed}
            {body}
            <p class="file-links">
                <a href=file.href.clone() rel="external" target="_blank">"Open"</a>
                " · "
                <a href=download rel="external" download=a.name.clone()>"Download"</a>
            </p>
        </article>
    }
}
