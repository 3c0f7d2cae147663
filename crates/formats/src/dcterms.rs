//! A dataset in DCMI Metadata Terms, as XML (`dcterms:` elements in one `metadata` element, the
//! encoding schemes named by `xsi:type`) and as JSON(-LD) (`dcterms:` keys, a value or a list of
//! values each). The box and period are in the DCMI Box and Period encodings.

use fathom_model::{BoundingBox, TemporalExtent};
use serde_json::{Map, Value, json};

use crate::Record;
use crate::dcat::{access_right_iri, publisher_name};
use crate::format::{Format, Writer};
use crate::oai::datestamp;
use crate::xml::Xml;

/// DCMI terms in XML.
pub const XML: Format = Format {
    name: "dcterms",
    media_type: "application/xml",
    extension: "xml",
    writer: Writer::Document(document),
    oai: None,
};

/// DCMI terms in JSON (`format=dcterms-json`; `Accept` chooses Fathom's JSON).
pub const JSON: Format = Format {
    name: "dcterms-json",
    media_type: "application/json",
    extension: "json",
    writer: Writer::Document(|record| json(record).to_string()),
    oai: None,
};

const DCTERMS: &str = "http://purl.org/dc/terms/";

/// One statement: a term, the encoding scheme of its value (if one applies), the value.
struct Term {
    name: &'static str,
    scheme: Option<&'static str>,
    value: String,
}

/// The dataset's statements in DCMI terms, in document order.
fn terms(record: &Record<'_>) -> Vec<Term> {
    let Record {
        site,
        dataset,
        publisher,
        access_rights,
    } = *record;
    let metadata = &dataset.metadata;
    let term = |name, scheme, value: &str| Term {
        name,
        scheme,
        value: value.to_owned(),
    };
    let mut terms = vec![term(
        "identifier",
        Some("URI"),
        &site.dataset_iri(dataset.id),
    )];
    terms.extend(
        metadata
            .identifiers
            .iter()
            .map(|id| term("identifier", None, id)),
    );
    terms.push(term("title", None, &metadata.title));
    if !metadata.description.is_empty() {
        terms.push(term("abstract", None, &metadata.description));
    }
    terms.push(term("type", Some("DCMIType"), "Dataset"));
    terms.push(term("publisher", None, publisher_name(dataset, publisher)));
    terms.extend(
        metadata
            .creators
            .iter()
            .map(|c| term("creator", None, &c.name)),
    );
    terms.extend(metadata.keywords.iter().map(|k| term("subject", None, k)));
    terms.extend(
        metadata
            .themes
            .iter()
            .map(|t| term("subject", Some("URI"), t.as_str())),
    );
    if let Some(issued) = &metadata.issued {
        terms.push(term("issued", Some("W3CDTF"), issued));
    }
    let modified = metadata
        .modified
        .clone()
        .unwrap_or_else(|| datestamp(dataset.updated_at));
    terms.push(term("modified", Some("W3CDTF"), &modified));
    terms.extend(
        metadata
            .language
            .iter()
            .map(|l| term("language", Some("RFC4646"), l.as_str())),
    );
    if let Some(bbox) = metadata.spatial.as_ref().and_then(|s| s.bbox.as_ref()) {
        terms.push(term("spatial", Some("Box"), &dcmi_box(bbox)));
    }
    if let Some(temporal) = &metadata.temporal {
        terms.push(term("temporal", Some("Period"), &dcmi_period(temporal)));
    }
    if let Some(licence) = &metadata.license {
        terms.push(term("license", None, licence));
    }
    terms.push(term(
        "accessRights",
        Some("URI"),
        &access_right_iri(access_rights),
    ));
    terms.extend(
        metadata
            .distributions
            .iter()
            .map(|d| term("hasFormat", Some("URI"), d.access_url.as_str())),
    );
    terms
}

/// The XML document.
pub fn document(record: &Record<'_>) -> String {
    let mut xml = Xml::new();
    xml.open(
        "metadata",
        &[
            ("xmlns:dcterms", DCTERMS),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
        ],
    );
    for term in terms(record) {
        let element = format!("dcterms:{}", term.name);
        let scheme = term.scheme.map(|s| format!("dcterms:{s}"));
        let attributes: Vec<(&str, &str)> =
            scheme.iter().map(|s| ("xsi:type", s.as_str())).collect();
        xml.leaf(&element, &attributes, &term.value);
    }
    xml.finish()
}

/// The JSON document: JSON-LD with the `dcterms` prefix, a term's values as a list when it has
/// several.
pub fn json(record: &Record<'_>) -> Value {
    let mut document = Map::new();
    document.insert("@context".into(), json!({"dcterms": DCTERMS}));
    for term in terms(record) {
        let key = format!("dcterms:{}", term.name);
        let value = Value::String(term.value);
        match document.get_mut(&key) {
            None => {
                document.insert(key, value);
            }
            Some(Value::Array(values)) => values.push(value),
            Some(single) => *single = Value::Array(vec![single.take(), value]),
        }
    }
    Value::Object(document)
}

/// A box in the DCMI Box encoding.
pub(crate) fn dcmi_box(bbox: &BoundingBox) -> String {
    format!(
        "westlimit={}; southlimit={}; eastlimit={}; northlimit={}; projection=EPSG:4326",
        bbox.west(),
        bbox.south(),
        bbox.east(),
        bbox.north()
    )
}

/// A period in the DCMI Period encoding (W3C-DTF instants).
pub(crate) fn dcmi_period(temporal: &TemporalExtent) -> String {
    let mut period = Vec::new();
    if let Some(start) = temporal.start {
        period.push(format!("start={}", datestamp(start)));
    }
    if let Some(end) = temporal.end {
        period.push(format!("end={}", datestamp(end)));
    }
    period.push("scheme=W3C-DTF".to_owned());
    period.join("; ")
}
