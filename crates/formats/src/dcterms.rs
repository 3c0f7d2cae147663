//! A dataset in DCMI Metadata Terms as XML: `dcterms:` elements in one `metadata` element, with the
//! encoding schemes named by `xsi:type` (the box and period as DCMI Box and Period).

use fathom_model::{AccessRights, BoundingBox, Dataset, Organisation, TemporalExtent};

use crate::dcat::{Site, access_right_iri};
use crate::oai::datestamp;
use crate::xml::Xml;

/// The media type of the document.
pub const MEDIA_TYPE: &str = "application/xml";

/// The dataset in DCMI Metadata Terms, as an XML document (`dcterms:` elements in one
/// `metadata` element; the box and period in the DCMI Box and Period encodings).
pub fn document(
    site: &Site,
    dataset: &Dataset,
    publisher: Option<&Organisation>,
    access_rights: AccessRights,
) -> String {
    let metadata = &dataset.metadata;
    let mut xml = Xml::new();
    xml.open(
        "metadata",
        &[
            ("xmlns:dcterms", "http://purl.org/dc/terms/"),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
        ],
    );
    let iri = site.dataset_iri(dataset.id);
    xml.leaf("dcterms:identifier", &[("xsi:type", "dcterms:URI")], &iri);
    for identifier in &metadata.identifiers {
        xml.leaf("dcterms:identifier", &[], identifier);
    }
    xml.leaf("dcterms:title", &[], &metadata.title);
    if !metadata.description.is_empty() {
        xml.leaf("dcterms:abstract", &[], &metadata.description);
    }
    xml.leaf(
        "dcterms:type",
        &[("xsi:type", "dcterms:DCMIType")],
        "Dataset",
    );
    let publisher = publisher.map_or(metadata.organisation.as_str(), |o| o.details.name.as_str());
    xml.leaf("dcterms:publisher", &[], publisher);
    for creator in &metadata.creators {
        xml.leaf("dcterms:creator", &[], &creator.name);
    }
    for keyword in &metadata.keywords {
        xml.leaf("dcterms:subject", &[], keyword);
    }
    for theme in &metadata.themes {
        xml.leaf(
            "dcterms:subject",
            &[("xsi:type", "dcterms:URI")],
            theme.as_str(),
        );
    }
    if let Some(issued) = &metadata.issued {
        xml.leaf("dcterms:issued", &[("xsi:type", "dcterms:W3CDTF")], issued);
    }
    let modified = metadata
        .modified
        .clone()
        .unwrap_or_else(|| datestamp(dataset.updated_at));
    xml.leaf(
        "dcterms:modified",
        &[("xsi:type", "dcterms:W3CDTF")],
        &modified,
    );
    for language in &metadata.language {
        xml.leaf(
            "dcterms:language",
            &[("xsi:type", "dcterms:RFC4646")],
            language.as_str(),
        );
    }
    if let Some(bbox) = metadata.spatial.as_ref().and_then(|s| s.bbox.as_ref()) {
        xml.leaf(
            "dcterms:spatial",
            &[("xsi:type", "dcterms:Box")],
            &dcmi_box(bbox),
        );
    }
    if let Some(temporal) = &metadata.temporal {
        xml.leaf(
            "dcterms:temporal",
            &[("xsi:type", "dcterms:Period")],
            &dcmi_period(temporal),
        );
    }
    if let Some(licence) = &metadata.license {
        xml.leaf("dcterms:license", &[], licence);
    }
    xml.leaf(
        "dcterms:accessRights",
        &[("xsi:type", "dcterms:URI")],
        &access_right_iri(access_rights),
    );
    for distribution in &metadata.distributions {
        xml.leaf(
            "dcterms:hasFormat",
            &[("xsi:type", "dcterms:URI")],
            distribution.access_url.as_str(),
        );
    }
    xml.finish()
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
