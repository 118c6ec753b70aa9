//! Attached Markdown, rendered for the page (server build only). What a
//! file says is shown, never run: raw HTML in it comes out as text, links
//! keep only `http`, `https`, `mailto` and same-site addresses, and images
//! become links (the page's policy would not load another site's anyway).

use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

/// The Markdown `text` as HTML safe to put in the page.
pub fn to_html(text: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let events = Parser::new_ext(text, options).map(|event| match event {
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            dest_url,
            title,
            id,
            ..
        }) => Event::Start(Tag::Link {
            link_type: LinkType::Inline,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        other => other,
    });
    let mut html = String::with_capacity(text.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

/// An address kept if it is one of ours or a web or mail address;
/// anything else (`javascript:`, `data:`, …) becomes `#`.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.trim_start().to_ascii_lowercase();
    // A scheme is letters (and + - .) before the first ':' that comes
    // before any '/', '?' or '#'.
    let scheme = lower
        .find(':')
        .filter(|&at| !lower[..at].contains(['/', '?', '#']))
        .map(|at| &lower[..at]);
    match scheme {
        None => url,
        Some("http" | "https" | "mailto") => url,
        Some(_) => CowStr::Borrowed("#"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_rendered_and_nothing_in_it_runs() {
        let html = to_html("# Terms\n\n*Signed* by [us](https://example.com).");
        assert!(html.contains("<h1>Terms</h1>"), "{html}");
        assert!(html.contains("<em>Signed</em>"), "{html}");
        assert!(
            html.contains(r#"<a href="https://example.com">us</a>"#),
            "{html}"
        );

        let html = to_html("<script>alert(1)</script>\n\nHi <img src=x onerror=alert(1)>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");

        for bad in [
            "[x](javascript:alert(1))",
            "[x](JavaScript:alert(1))",
            "[x]( data:text/html,hi)",
            "[x](vbscript:msgbox)",
            "![x](javascript:alert(1))",
        ] {
            let html = to_html(bad);
            assert!(
                !html.to_ascii_lowercase().contains("script:"),
                "{bad} → {html}"
            );
            assert!(!html.contains("data:"), "{bad} → {html}");
        }
        let html = to_html("![diagram](https://example.com/a.png)");
        assert!(
            html.contains(r#"<a href="https://example.com/a.png">diagram</a>"#),
            "{html}"
        );
        assert!(to_html("[rel](/tasks/1#x)").contains(r#"href="/tasks/1#x""#));
    }
}
