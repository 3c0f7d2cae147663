//! A dataset as schema.org `Dataset` JSON-LD, as dataset landing pages embed it for search engines
//! (Google Dataset Search reads `name`, `description`, `identifier`, `keywords`, `license`, `creator`,
//! `temporalCoverage`, `spatialCoverage` and `distribution`).

use fathom_model::AccessRights;
use serde_json::{Value, json};

use crate::Record;
use crate::dcat::{access_right_iri, publisher_name};
use crate::format::{Format, Writer};
use crate::oai::datestamp;

/// schema.org's `Dataset` in JSON-LD (`format=schemaorg`; `Accept` chooses DCAT-AP's JSON-LD).
pub const FORMAT: Format = Format {
    name: "schemaorg",
    media_type: "application/ld+json",
    extension: "jsonld",
    writer: Writer::Document(|record| schema_org(record).to_string()),
    oai: None,
};

/// The schema.org `Dataset` of a dataset.
pub fn schema_org(record: &Record<'_>) -> Value {
    let Record {
        site,
        dataset,
        publisher,
        access_rights,
    } = *record;
    let metadata = &dataset.metadata;
    let iri = site.dataset_iri(dataset.id);
    let publisher_name = publisher_name(dataset, publisher);
    let mut document = json!({
        "@context": "https://schema.org/",
        "@type": "Dataset",
        "@id": iri,
        "url": metadata.landing_page.as_ref().map_or(iri.as_str(), |p| p.as_str()),
        "name": metadata.title,
        "description": if metadata.description.trim().is_empty() { &metadata.title } else { &metadata.description },
        "identifier": std::iter::once(dataset.id.to_string()).chain(metadata.identifiers.iter().cloned()).collect::<Vec<_>>(),
        "keywords": metadata.keywords,
        "publisher": {"@type": "Organization", "name": publisher_name},
        "dateModified": metadata.modified.clone().unwrap_or_else(|| datestamp(dataset.updated_at)),
        "isAccessibleForFree": access_rights == AccessRights::Public,
        "conditionsOfAccess": access_right_iri(access_rights),
        "inLanguage": metadata.language.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
    });
    let fields = document.as_object_mut();
    let Some(fields) = fields else {
        return document;
    };
    if let Some(issued) = &metadata.issued {
        fields.insert("datePublished".into(), json!(issued));
    }
    if let Some(version) = &metadata.version {
        fields.insert("version".into(), json!(version));
    }
    if let Some(licence) = &metadata.license {
        let licence = if licence.contains(':') {
            licence.clone()
        } else {
            format!("https://spdx.org/licenses/{licence}")
        };
        fields.insert("license".into(), json!(licence));
    }
    if !metadata.creators.is_empty() {
        let creators: Vec<Value> = metadata
            .creators
            .iter()
            .map(|c| json!({"@type": "Person", "name": c.name, "email": c.email}))
            .collect();
        fields.insert("creator".into(), json!(creators));
    }
    if !metadata.themes.is_empty() {
        fields.insert(
            "about".into(),
            json!(
                metadata
                    .themes
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
            ),
        );
    }
    if let Some(temporal) = &metadata.temporal {
        let end = |at: Option<time::OffsetDateTime>| at.map_or("..".to_owned(), datestamp);
        fields.insert(
            "temporalCoverage".into(),
            json!(format!("{}/{}", end(temporal.start), end(temporal.end))),
        );
    }
    if let Some(bbox) = metadata.spatial.as_ref().and_then(|s| s.bbox.as_ref()) {
        // schema.org's box is "south west north east".
        let box_ = format!(
            "{} {} {} {}",
            bbox.south(),
            bbox.west(),
            bbox.north(),
            bbox.east()
        );
        fields.insert(
            "spatialCoverage".into(),
            json!({"@type": "Place", "geo": {"@type": "GeoShape", "box": box_}}),
        );
    }
    if !metadata.distributions.is_empty() {
        let distributions: Vec<Value> = metadata
            .distributions
            .iter()
            .map(|d| {
                json!({
                    "@type": "DataDownload",
                    "name": d.title,
                    "contentUrl": d.download_url.as_ref().unwrap_or(&d.access_url).as_str(),
                    "encodingFormat": d.media_type.as_ref().or(d.format.as_ref()),
                    "contentSize": d.byte_size,
                })
            })
            .collect();
        fields.insert("distribution".into(), json!(distributions));
    }
    remove_nulls(&mut document);
    document
}

/// Drops `null` members, which schema.org consumers read as values.
fn remove_nulls(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            fields.retain(|_, v| !v.is_null());
            fields.values_mut().for_each(remove_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(remove_nulls),
        _ => {}
    }
}
