//! A small XML writer into a `String`: elements opened and closed in order, text and attribute values
//! escaped. Enough for the documents this crate writes, and fast (no intermediate tree).

use quick_xml::escape::escape;

#[derive(Debug, Default)]
pub(crate) struct Xml {
    out: String,
    open: Vec<&'static str>,
}

impl Xml {
    pub fn new() -> Self {
        Self {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            open: Vec::new(),
        }
    }

    /// A fragment to be embedded elsewhere: no XML declaration.
    pub fn fragment() -> Self {
        Self::default()
    }

    /// Opens `name` with `attributes`; [`Xml::close`] closes it.
    pub fn open(&mut self, name: &'static str, attributes: &[(&str, &str)]) -> &mut Self {
        self.start_tag(name, attributes);
        self.out.push('>');
        self.open.push(name);
        self
    }

    pub fn close(&mut self) -> &mut Self {
        if let Some(name) = self.open.pop() {
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push('>');
        }
        self
    }

    /// An element holding only `text`.
    pub fn leaf(
        &mut self,
        name: &'static str,
        attributes: &[(&str, &str)],
        text: &str,
    ) -> &mut Self {
        self.start_tag(name, attributes);
        self.out.push('>');
        self.out.push_str(&escape(&*xml_chars(text)));
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// An element without content.
    pub fn empty_with(&mut self, name: &'static str, attributes: &[(&str, &str)]) -> &mut Self {
        self.start_tag(name, attributes);
        self.out.push_str("/>");
        self
    }

    /// Markup made elsewhere, already well-formed (e.g. RDF/XML of a record).
    pub fn raw(&mut self, markup: &str) -> &mut Self {
        self.out.push_str(markup);
        self
    }

    /// Closes what is still open and returns the document.
    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out.push('\n');
        self.out
    }

    fn start_tag(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.out.push('<');
        self.out.push_str(name);
        for (attribute, value) in attributes {
            self.out.push(' ');
            self.out.push_str(attribute);
            self.out.push_str("=\"");
            self.out.push_str(&escape(&*xml_chars(value)));
            self.out.push('"');
        }
    }
}

/// `text` without the characters XML 1.0 cannot carry (most control characters), which a record's
/// free text may hold.
fn xml_chars(text: &str) -> std::borrow::Cow<'_, str> {
    let allowed = |c: char| {
        matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
    };
    if text.chars().all(allowed) {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(text.chars().filter(|&c| allowed(c)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped_and_elements_closed() {
        let mut xml = Xml::new();
        xml.open("a", &[("href", "x?a=1&b=\"2\"")])
            .leaf("b", &[], "1 < 2 & <c/>\u{1}")
            .leaf("d", &[], "");
        let document = xml.finish();
        assert!(document.ends_with(
            "<a href=\"x?a=1&amp;b=&quot;2&quot;\"><b>1 &lt; 2 &amp; &lt;c/&gt;</b><d></d></a>\n"
        ));
    }
}
