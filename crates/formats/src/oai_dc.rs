//! Unqualified Dublin Core (`oai_dc`), the metadata format every OAI-PMH repository offers.

use crate::Record;
use crate::dcat::{access_right_iri, publisher_name};
use crate::dcterms::{dcmi_box, dcmi_period};
use crate::format::{Format, OaiFormat, Writer};
use crate::oai::datestamp;
use crate::xml::Xml;

const NAMESPACE: &str = "http://www.openarchives.org/OAI/2.0/oai_dc/";

/// Unqualified Dublin Core, OAI-PMH's `oai_dc`.
pub const FORMAT: Format = Format {
    name: "oai_dc",
    media_type: "application/xml",
    extension: "xml",
    writer: Writer::Document(document),
    oai: Some(OaiFormat {
        prefix: "oai_dc",
        schema: "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
        namespace: NAMESPACE,
    }),
};

/// Unqualified Dublin Core: the fifteen elements, each as the DCMI's guidelines for datasets use
/// them (`coverage` as a DCMI Box and Period).
pub fn document(record: &Record<'_>) -> String {
    let Record {
        site,
        dataset,
        publisher,
        access_rights,
    } = *record;
    let metadata = &dataset.metadata;
    let publisher = publisher_name(dataset, publisher);
    let mut xml = Xml::new();
    xml.open(
        "oai_dc:dc",
        &[
            ("xmlns:oai_dc", NAMESPACE),
            ("xmlns:dc", "http://purl.org/dc/elements/1.1/"),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            (
                "xsi:schemaLocation",
                "http://www.openarchives.org/OAI/2.0/oai_dc/ http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
            ),
        ],
    );
    xml.leaf("dc:title", &[], &metadata.title);
    for creator in &metadata.creators {
        xml.leaf("dc:creator", &[], &creator.name);
    }
    if metadata.creators.is_empty() {
        xml.leaf("dc:creator", &[], publisher);
    }
    for keyword in &metadata.keywords {
        xml.leaf("dc:subject", &[], keyword);
    }
    for theme in &metadata.themes {
        xml.leaf("dc:subject", &[], theme.as_str());
    }
    if !metadata.description.is_empty() {
        xml.leaf("dc:description", &[], &metadata.description);
    }
    xml.leaf("dc:publisher", &[], publisher);
    for contact in &metadata.contact_points {
        xml.leaf("dc:contributor", &[], &contact.name);
    }
    let date = metadata
        .issued
        .clone()
        .unwrap_or_else(|| datestamp(dataset.created_at));
    xml.leaf("dc:date", &[], &date);
    xml.leaf("dc:type", &[], "Dataset");
    for distribution in &metadata.distributions {
        if let Some(format) = distribution
            .media_type
            .as_ref()
            .or(distribution.format.as_ref())
        {
            xml.leaf("dc:format", &[], format);
        }
    }
    xml.leaf("dc:identifier", &[], &site.dataset_iri(dataset.id));
    for identifier in &metadata.identifiers {
        xml.leaf("dc:identifier", &[], identifier);
    }
    if let Some(page) = &metadata.landing_page {
        xml.leaf("dc:identifier", &[], page.as_str());
    }
    for language in &metadata.language {
        xml.leaf("dc:language", &[], language.as_str());
    }
    for distribution in &metadata.distributions {
        xml.leaf("dc:relation", &[], distribution.access_url.as_str());
    }
    if let Some(bbox) = metadata.spatial.as_ref().and_then(|s| s.bbox.as_ref()) {
        xml.leaf("dc:coverage", &[], &dcmi_box(bbox));
    }
    if let Some(temporal) = &metadata.temporal {
        xml.leaf("dc:coverage", &[], &dcmi_period(temporal));
    }
    if let Some(licence) = &metadata.license {
        xml.leaf("dc:rights", &[], licence);
    }
    xml.leaf("dc:rights", &[], &access_right_iri(access_rights));
    xml.close();
    xml.finish()
}
