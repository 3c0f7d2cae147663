//! Descriptions are Markdown. They are rendered with any raw HTML shown as text, and with links and
//! images kept only for the schemes a page may follow, so that a description can carry no script.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag};

/// The schemes a link in a description may use.
const SAFE_SCHEMES: &[&str] = &["http:", "https:", "mailto:"];

/// `markdown` as HTML that is safe to embed in a page.
pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        // Raw HTML becomes text, escaped on output.
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
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        other => other,
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

/// The words of `markdown` without its marks, for a snippet.
pub fn to_text(markdown: &str) -> String {
    let mut text = String::with_capacity(markdown.len());
    for event in Parser::new(markdown) {
        match event {
            Event::Text(words) | Event::Code(words) => text.push_str(&words),
            Event::SoftBreak | Event::HardBreak | Event::End(_) => text.push(' '),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The address kept when relative or of a safe scheme; else `#`.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.trim_start().to_ascii_lowercase();
    let scheme = lower
        .split_once(':')
        .filter(|(scheme, _)| !scheme.contains(['/', '?', '#']))
        .map(|(scheme, _)| format!("{scheme}:"));
    match scheme {
        Some(scheme) if !SAFE_SCHEMES.contains(&scheme.as_str()) => CowStr::Borrowed("#"),
        _ => url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_and_carries_no_script() {
        let html =
            to_html("**Salinity** and [a link](https://example.org)\n\n<script>alert(1)</script>");
        assert!(html.contains("<strong>Salinity</strong>"), "{html}");
        assert!(html.contains(r#"<a href="https://example.org">"#), "{html}");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        for bad in [
            "javascript:alert(1)",
            " JaVaScript:x",
            "data:text/html,x",
            "vbscript:x",
        ] {
            let html = to_html(&format!("[x]({bad}) ![y]({bad})"));
            assert!(!html.to_ascii_lowercase().contains("script:"), "{html}");
            assert!(!html.contains("data:"), "{html}");
        }
        assert!(to_html("[rel](/datasets/x)").contains(r#"href="/datasets/x""#));
        assert_eq!(
            to_text("Narrowband **passive** [signatures](https://x.org)\n\n- one\n- two"),
            "Narrowband passive signatures one two"
        );
    }
}
