//! XML both ways, small and fast: a writer into a `String` (elements opened and closed in order, text
//! and attribute values escaped) and a reader into a namespace-aware tree for the records this crate
//! imports, which refuses DTDs (so no entity expansion, no external entity) and bounds depth.

use quick_xml::NsReader;
use quick_xml::escape::escape;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;

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
    pub fn leaf(&mut self, name: &str, attributes: &[(&str, &str)], text: &str) -> &mut Self {
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

/// An element of a parsed document: its namespace and local name, attributes by local name, text,
/// and children.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    pub namespace: String,
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

/// The deepest nesting accepted; real metadata records stay far below it.
const MAX_DEPTH: usize = 256;

impl Element {
    /// Parses a whole document.
    pub fn parse(document: &[u8]) -> Result<Self, String> {
        let mut reader = NsReader::from_reader(document);
        reader.config_mut().expand_empty_elements = true;
        let mut stack: Vec<Element> = Vec::new();
        let mut buffer = Vec::new();
        loop {
            let position = reader.buffer_position();
            let (resolved, event) = reader
                .read_resolved_event_into(&mut buffer)
                .map_err(|e| format!("not well-formed XML near byte {position}: {e}"))?;
            match event {
                Event::Start(start) => {
                    if stack.len() == MAX_DEPTH {
                        return Err(format!("elements are nested deeper than {MAX_DEPTH}"));
                    }
                    stack.push(element(resolved, &start)?);
                }
                Event::End(_) => {
                    let done = stack.pop().ok_or("an end tag without its start")?;
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => return Ok(done),
                    }
                }
                Event::Text(text) => {
                    let text = text
                        .unescape()
                        .map_err(|e| format!("bad text near byte {position}: {e}"))?;
                    if let Some(current) = stack.last_mut() {
                        current.text.push_str(&text);
                    }
                }
                Event::CData(data) => {
                    if let Some(current) = stack.last_mut() {
                        current.text.push_str(&String::from_utf8_lossy(&data));
                    }
                }
                Event::DocType(_) => {
                    return Err(
                        "a DOCTYPE is not accepted (entities are never expanded)".to_owned()
                    );
                }
                Event::Eof => {
                    return Err("the document ends before its root element closes".to_owned());
                }
                Event::Empty(_) | Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            }
            buffer.clear();
        }
    }

    /// The children with this local name.
    pub fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The first element at the end of a path of local names (every match is tried at each step,
    /// so a repeated property whose first value leads elsewhere does not hide a later one).
    pub fn at<'a>(&'a self, path: &'a [&'a str]) -> Option<&'a Element> {
        self.all(path).into_iter().next()
    }

    /// Every element at the end of a path of local names, following every match.
    pub fn all<'a>(&'a self, path: &'a [&'a str]) -> Vec<&'a Element> {
        let mut current = vec![self];
        for name in path {
            current = current.into_iter().flat_map(|e| e.children(name)).collect();
        }
        current
    }

    /// This element and every element below it with this local name, in document order.
    pub fn descendants<'a>(&'a self, name: &str, found: &mut Vec<&'a Element>) {
        if self.name == name {
            found.push(self);
        }
        for child in &self.children {
            child.descendants(name, found);
        }
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The text, trimmed; `None` when empty.
    pub fn value(&self) -> Option<&str> {
        Some(self.text.trim()).filter(|t| !t.is_empty())
    }
}

fn element(resolved: ResolveResult<'_>, start: &BytesStart<'_>) -> Result<Element, String> {
    let namespace = match resolved {
        ResolveResult::Bound(namespace) => String::from_utf8_lossy(namespace.as_ref()).into_owned(),
        ResolveResult::Unbound => String::new(),
        ResolveResult::Unknown(prefix) => {
            return Err(format!(
                "the namespace prefix `{}` is not declared",
                String::from_utf8_lossy(&prefix)
            ));
        }
    };
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| format!("a bad attribute: {e}"))?;
        let local = attribute.key.local_name();
        let value = attribute
            .unescape_value()
            .map_err(|e| format!("a bad attribute value: {e}"))?;
        attributes.push((
            String::from_utf8_lossy(local.as_ref()).into_owned(),
            value.into_owned(),
        ));
    }
    Ok(Element {
        namespace,
        name: String::from_utf8_lossy(start.local_name().as_ref()).into_owned(),
        attributes,
        ..Element::default()
    })
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
        let parsed = Element::parse(document.as_bytes()).unwrap();
        assert_eq!(parsed.attribute("href"), Some("x?a=1&b=\"2\""));
        assert_eq!(
            parsed.at(&["b"]).and_then(Element::value),
            Some("1 < 2 & <c/>")
        );
        assert!(document.ends_with(
            "<a href=\"x?a=1&amp;b=&quot;2&quot;\"><b>1 &lt; 2 &amp; &lt;c/&gt;</b><d></d></a>\n"
        ));
    }
}

#[cfg(test)]
mod reading {
    use super::*;

    #[test]
    fn namespaces_resolve_and_hostile_documents_are_refused() {
        let parsed = Element::parse(
            b"<a:r xmlns:a='urn:a' xmlns='urn:d'><k>1</k><a:k x='y'/><![CDATA[<raw>]]></a:r>",
        )
        .unwrap();
        assert_eq!(
            (parsed.namespace.as_str(), parsed.name.as_str()),
            ("urn:a", "r")
        );
        let names: Vec<_> = parsed
            .children
            .iter()
            .map(|c| (c.namespace.as_str(), c.name.as_str()))
            .collect();
        assert_eq!(names, [("urn:d", "k"), ("urn:a", "k")]);
        assert_eq!(parsed.text, "<raw>");
        let laughs = b"<?xml version='1.0'?><!DOCTYPE l [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;'>]><l>&b;</l>";
        assert!(Element::parse(laughs).unwrap_err().contains("DOCTYPE"));
        let external = b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>";
        assert!(Element::parse(external).is_err());
        assert!(
            Element::parse(b"<x>&e;</x>").is_err(),
            "an undeclared entity"
        );
        assert!(
            Element::parse(b"<gmd:x/>")
                .unwrap_err()
                .contains("`gmd` is not declared")
        );
        assert!(Element::parse(b"<a><b></a>").is_err());
        assert!(Element::parse(b"<a>").is_err());
        let deep = format!("{}{}", "<a>".repeat(300), "</a>".repeat(300));
        assert!(
            Element::parse(deep.as_bytes())
                .unwrap_err()
                .contains("deeper")
        );
    }
}
