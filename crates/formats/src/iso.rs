//! ISO 19115 metadata of a dataset in the ISO/TS 19139:2007 XML encoding (GML 3.2), in the spirit of
//! the NATO Geospatial Metadata Profile (STANAG 2586): identification, extents, contacts, keywords
//! with their thesaurus, distribution, and the security label as `gmd:MD_SecurityConstraints`, with
//! the whole label as a STANAG 4774 `ConfidentialityInformation` in its `userNote` (see
//! `docs/standards.md`).

use fathom_model::{AccessRights, CategoryType, Dataset, SecurityLabel};
use time::OffsetDateTime;

use crate::Record;
use crate::dcat::{access_right_iri, language_code, publisher_name, theme_label};
use crate::format::{Format, OaiFormat, Writer};
use crate::oai::datestamp;
use crate::xml::Xml;

const GMD: &str = "http://www.isotc211.org/2005/gmd";
const GCO: &str = "http://www.isotc211.org/2005/gco";
const GMX: &str = "http://www.isotc211.org/2005/gmx";
const GML: &str = "http://www.opengis.net/gml/3.2";
const XLINK: &str = "http://www.w3.org/1999/xlink";
const CODE_LISTS: &str = "http://standards.iso.org/iso/19139/resources/gmxCodelists.xml";
const STANAG_4774: &str = "urn:nato:stanag:4774:confidentialitymetadatalabel:1:0";

/// The media type of the encoding.
pub const MEDIA_TYPE: &str = "application/vnd.iso.19139+xml";

/// ISO 19139, also offered over OAI-PMH.
pub const FORMAT: Format = Format {
    name: "iso19139",
    media_type: MEDIA_TYPE,
    extension: "xml",
    writer: Writer::Document(document),
    oai: Some(OaiFormat {
        prefix: "iso19139",
        schema: "http://www.isotc211.org/2005/gmd/gmd.xsd",
        namespace: GMD,
    }),
};

/// A whole `gmd:MD_Metadata` document.
pub fn document(record: &Record<'_>) -> String {
    let mut xml = Xml::new();
    write(&mut xml, record);
    xml.finish()
}

fn write(xml: &mut Xml, record: &Record<'_>) {
    let Record {
        site,
        dataset,
        publisher,
        access_rights,
    } = *record;
    let metadata = &dataset.metadata;
    let publisher = publisher_name(dataset, publisher);
    xml.open(
        "gmd:MD_Metadata",
        &[
            ("xmlns:gmd", GMD),
            ("xmlns:gco", GCO),
            ("xmlns:gmx", GMX),
            ("xmlns:gml", GML),
            ("xmlns:xlink", XLINK),
        ],
    );
    string(xml, "gmd:fileIdentifier", &dataset.id.to_string());
    let language = metadata
        .language
        .first()
        .map_or("eng".to_owned(), |tag| language_code(tag.as_str()));
    language_element(xml, &language);
    code(xml, "gmd:characterSet", "MD_CharacterSetCode", "utf8");
    code(xml, "gmd:hierarchyLevel", "MD_ScopeCode", "dataset");
    let email = metadata
        .contact_points
        .iter()
        .find_map(|c| c.email.as_deref());
    xml.open("gmd:contact", &[]);
    party(xml, None, Some(publisher), email, "pointOfContact");
    xml.close();
    xml.open("gmd:dateStamp", &[])
        .leaf("gco:DateTime", &[], &datestamp(dataset.updated_at))
        .close();
    string(xml, "gmd:metadataStandardName", "ISO 19115:2003/19139");
    string(xml, "gmd:metadataStandardVersion", "1.0");
    string(xml, "gmd:dataSetURI", &site.dataset_iri(dataset.id));

    xml.open("gmd:identificationInfo", &[])
        .open("gmd:MD_DataIdentification", &[]);
    citation(xml, dataset, publisher);
    string(xml, "gmd:abstract", abstract_of(dataset));
    for contact in &metadata.contact_points {
        let role = contact.role.as_deref().unwrap_or("pointOfContact");
        xml.open("gmd:pointOfContact", &[]);
        party(
            xml,
            Some(&contact.name),
            Some(publisher),
            contact.email.as_deref(),
            role_code(role),
        );
        xml.close();
    }
    keywords(xml, dataset);
    constraints(xml, dataset, access_rights);
    for tag in &metadata.language {
        language_element(xml, &language_code(tag.as_str()));
    }
    if metadata.language.is_empty() {
        language_element(xml, &language);
    }
    code(xml, "gmd:characterSet", "MD_CharacterSetCode", "utf8");
    xml.open("gmd:topicCategory", &[])
        .leaf("gmd:MD_TopicCategoryCode", &[], "oceans")
        .close();
    extent(xml, dataset);
    xml.close().close();

    distribution(xml, dataset);
    xml.close();
}

fn citation(xml: &mut Xml, dataset: &Dataset, publisher: &str) {
    let metadata = &dataset.metadata;
    xml.open("gmd:citation", &[]).open("gmd:CI_Citation", &[]);
    string(xml, "gmd:title", &metadata.title);
    let issued = metadata
        .issued
        .clone()
        .unwrap_or_else(|| day(dataset.created_at));
    date(xml, &issued, "publication");
    if let Some(modified) = &metadata.modified {
        date(xml, modified, "revision");
    }
    if let Some(version) = &metadata.version {
        string(xml, "gmd:edition", version);
    }
    for identifier in &metadata.identifiers {
        xml.open("gmd:identifier", &[])
            .open("gmd:MD_Identifier", &[]);
        string(xml, "gmd:code", identifier);
        xml.close().close();
    }
    for creator in &metadata.creators {
        xml.open("gmd:citedResponsibleParty", &[]);
        party(
            xml,
            Some(&creator.name),
            None,
            creator.email.as_deref(),
            "originator",
        );
        xml.close();
    }
    xml.open("gmd:citedResponsibleParty", &[]);
    party(xml, None, Some(publisher), None, "publisher");
    xml.close();
    xml.close().close();
}

/// Free keywords, then the themes with the thesaurus they come from.
fn keywords(xml: &mut Xml, dataset: &Dataset) {
    let metadata = &dataset.metadata;
    if !metadata.keywords.is_empty() {
        xml.open("gmd:descriptiveKeywords", &[])
            .open("gmd:MD_Keywords", &[]);
        for keyword in &metadata.keywords {
            string(xml, "gmd:keyword", keyword);
        }
        code(xml, "gmd:type", "MD_KeywordTypeCode", "theme");
        xml.close().close();
    }
    if !metadata.themes.is_empty() {
        xml.open("gmd:descriptiveKeywords", &[])
            .open("gmd:MD_Keywords", &[]);
        for theme in &metadata.themes {
            xml.open("gmd:keyword", &[])
                .leaf(
                    "gmx:Anchor",
                    &[("xlink:href", theme.as_str())],
                    &theme_label(theme.as_str()),
                )
                .close();
        }
        code(xml, "gmd:type", "MD_KeywordTypeCode", "theme");
        let eu = metadata.themes.iter().all(|t| {
            t.as_str()
                .starts_with("http://publications.europa.eu/resource/authority/data-theme/")
        });
        let thesaurus = if eu {
            "Data theme (EU Vocabularies)"
        } else {
            "Themes by IRI"
        };
        xml.open("gmd:thesaurusName", &[])
            .open("gmd:CI_Citation", &[]);
        string(xml, "gmd:title", thesaurus);
        xml.empty_with("gmd:date", &[("gco:nilReason", "unknown")]);
        xml.close().close();
        xml.close().close();
    }
}

/// The licence and access rights, then the security label.
fn constraints(xml: &mut Xml, dataset: &Dataset, access_rights: AccessRights) {
    let metadata = &dataset.metadata;
    xml.open("gmd:resourceConstraints", &[])
        .open("gmd:MD_LegalConstraints", &[]);
    if let Some(licence) = &metadata.license {
        string(xml, "gmd:useLimitation", &format!("Licence: {licence}"));
    }
    code(
        xml,
        "gmd:accessConstraints",
        "MD_RestrictionCode",
        "otherRestrictions",
    );
    if metadata.license.is_some() {
        code(xml, "gmd:useConstraints", "MD_RestrictionCode", "license");
    }
    xml.open("gmd:otherConstraints", &[])
        .leaf(
            "gmx:Anchor",
            &[("xlink:href", &access_right_iri(access_rights))],
            access_rights.eu_code(),
        )
        .close();
    xml.close().close();

    let label = &metadata.security_label;
    xml.open("gmd:resourceConstraints", &[])
        .open("gmd:MD_SecurityConstraints", &[]);
    code(
        xml,
        "gmd:classification",
        "MD_ClassificationCode",
        classification_code(&label.classification),
    );
    string(xml, "gmd:userNote", &confidentiality_information(label));
    string(xml, "gmd:classificationSystem", &label.policy);
    string(xml, "gmd:handlingDescription", &marking(label));
    xml.close().close();
}

fn extent(xml: &mut Xml, dataset: &Dataset) {
    let metadata = &dataset.metadata;
    let bbox = metadata.spatial.as_ref().and_then(|s| s.bbox.as_ref());
    if bbox.is_none() && metadata.temporal.is_none() {
        return;
    }
    xml.open("gmd:extent", &[]).open("gmd:EX_Extent", &[]);
    if let Some(bbox) = bbox {
        xml.open("gmd:geographicElement", &[])
            .open("gmd:EX_GeographicBoundingBox", &[]);
        for (name, value) in [
            ("gmd:westBoundLongitude", bbox.west()),
            ("gmd:eastBoundLongitude", bbox.east()),
            ("gmd:southBoundLatitude", bbox.south()),
            ("gmd:northBoundLatitude", bbox.north()),
        ] {
            xml.open(name, &[])
                .leaf("gco:Decimal", &[], &value.to_string())
                .close();
        }
        xml.close().close();
    }
    if let Some(temporal) = &metadata.temporal {
        let id = format!("extent-{}", dataset.id);
        xml.open("gmd:temporalElement", &[])
            .open("gmd:EX_TemporalExtent", &[])
            .open("gmd:extent", &[])
            .open("gml:TimePeriod", &[("gml:id", &id)]);
        for (name, at) in [
            ("gml:beginPosition", temporal.start),
            ("gml:endPosition", temporal.end),
        ] {
            match at {
                Some(at) => xml.leaf(name, &[], &datestamp(at)),
                None => xml.empty_with(name, &[("indeterminatePosition", "unknown")]),
            };
        }
        xml.close().close().close().close();
    }
    xml.close().close();
}

fn distribution(xml: &mut Xml, dataset: &Dataset) {
    let distributions = &dataset.metadata.distributions;
    if distributions.is_empty() {
        return;
    }
    xml.open("gmd:distributionInfo", &[])
        .open("gmd:MD_Distribution", &[]);
    for distribution in distributions {
        let Some(format) = distribution
            .format
            .as_ref()
            .or(distribution.media_type.as_ref())
        else {
            continue;
        };
        xml.open("gmd:distributionFormat", &[])
            .open("gmd:MD_Format", &[]);
        string(xml, "gmd:name", format);
        xml.empty_with("gmd:version", &[("gco:nilReason", "unknown")]);
        xml.close().close();
    }
    xml.open("gmd:transferOptions", &[])
        .open("gmd:MD_DigitalTransferOptions", &[]);
    for distribution in distributions {
        let links = [
            (Some(&distribution.access_url), "information"),
            (distribution.download_url.as_ref(), "download"),
        ];
        for (url, function) in links {
            let Some(url) = url else { continue };
            xml.open("gmd:onLine", &[])
                .open("gmd:CI_OnlineResource", &[]);
            xml.open("gmd:linkage", &[])
                .leaf("gmd:URL", &[], url.as_str())
                .close();
            if !distribution.title.is_empty() {
                string(xml, "gmd:name", &distribution.title);
            }
            if !distribution.description.is_empty() {
                string(xml, "gmd:description", &distribution.description);
            }
            code(xml, "gmd:function", "CI_OnLineFunctionCode", function);
            xml.close().close();
        }
    }
    xml.close().close();
    xml.close().close();
}

/// A `gmd:CI_ResponsibleParty`.
fn party(
    xml: &mut Xml,
    individual: Option<&str>,
    organisation: Option<&str>,
    email: Option<&str>,
    role: &str,
) {
    xml.open("gmd:CI_ResponsibleParty", &[]);
    if let Some(individual) = individual {
        string(xml, "gmd:individualName", individual);
    }
    if let Some(organisation) = organisation {
        string(xml, "gmd:organisationName", organisation);
    }
    if let Some(email) = email {
        xml.open("gmd:contactInfo", &[])
            .open("gmd:CI_Contact", &[])
            .open("gmd:address", &[])
            .open("gmd:CI_Address", &[]);
        string(xml, "gmd:electronicMailAddress", email);
        xml.close().close().close().close();
    }
    code(xml, "gmd:role", "CI_RoleCode", role);
    xml.close();
}

fn date(xml: &mut Xml, value: &str, kind: &str) {
    let (element, text) = if value.len() == 10 {
        ("gco:Date", value.to_owned())
    } else {
        let at = OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339);
        (
            "gco:DateTime",
            at.map(datestamp).unwrap_or_else(|_| value.to_owned()),
        )
    };
    xml.open("gmd:date", &[]).open("gmd:CI_Date", &[]);
    xml.open("gmd:date", &[]).leaf(element, &[], &text).close();
    code(xml, "gmd:dateType", "CI_DateTypeCode", kind);
    xml.close().close();
}

fn language_element(xml: &mut Xml, code_value: &str) {
    xml.open("gmd:language", &[])
        .leaf(
            "gmd:LanguageCode",
            &[
                ("codeList", "http://www.loc.gov/standards/iso639-2/"),
                ("codeListValue", code_value),
            ],
            code_value,
        )
        .close();
}

/// `<{property}><gco:CharacterString>{text}</gco:CharacterString></{property}>`.
fn string(xml: &mut Xml, property: &'static str, text: &str) {
    xml.open(property, &[])
        .leaf("gco:CharacterString", &[], text)
        .close();
}

/// A property holding a value of one of ISO 19139's code lists.
fn code(xml: &mut Xml, property: &'static str, list: &'static str, value: &str) {
    let code_list = format!("{CODE_LISTS}#{list}");
    let element = match list {
        "MD_CharacterSetCode" => "gmd:MD_CharacterSetCode",
        "MD_ScopeCode" => "gmd:MD_ScopeCode",
        "MD_KeywordTypeCode" => "gmd:MD_KeywordTypeCode",
        "MD_RestrictionCode" => "gmd:MD_RestrictionCode",
        "MD_ClassificationCode" => "gmd:MD_ClassificationCode",
        "CI_OnLineFunctionCode" => "gmd:CI_OnLineFunctionCode",
        "CI_DateTypeCode" => "gmd:CI_DateTypeCode",
        _ => "gmd:CI_RoleCode",
    };
    xml.open(property, &[])
        .leaf(
            element,
            &[("codeList", &code_list), ("codeListValue", value)],
            value,
        )
        .close();
}

/// DCAT-AP asks for a description; so does ISO 19115 (`abstract`): the title stands in for none.
fn abstract_of(dataset: &Dataset) -> &str {
    let metadata = &dataset.metadata;
    if metadata.description.trim().is_empty() {
        &metadata.title
    } else {
        &metadata.description
    }
}

/// The ISO 19115 role of a contact's role as given (ISO role codes pass unchanged).
fn role_code(role: &str) -> &str {
    const ROLES: [&str; 11] = [
        "resourceProvider",
        "custodian",
        "owner",
        "user",
        "distributor",
        "originator",
        "pointOfContact",
        "principalInvestigator",
        "processor",
        "publisher",
        "author",
    ];
    ROLES
        .into_iter()
        .find(|r| *r == role)
        .unwrap_or("pointOfContact")
}

/// The `MD_ClassificationCode` of a classification by its name: the highest level it names.
pub fn classification_code(classification: &str) -> &'static str {
    let upper = classification.to_ascii_uppercase();
    if upper.contains("TOP SECRET") || upper.contains("COSMIC") {
        "topSecret"
    } else if upper.contains("SECRET") {
        "secret"
    } else if upper.contains("CONFIDENTIAL") {
        "confidential"
    } else if upper.contains("RESTRICTED") {
        "restricted"
    } else {
        "unclassified"
    }
}

/// The label as a one-line marking: `NATO SECRET // ReleasableTo NOR, ITA // NeedToKnow REP-MUS`.
fn marking(label: &SecurityLabel) -> String {
    let mut parts = vec![label.classification.clone()];
    for category in &label.categories {
        parts.push(format!("{} {}", category.tag, category.values.join(", ")));
    }
    if let Some(mark) = &label.privacy_mark {
        parts.push(mark.clone());
    }
    parts.join(" // ")
}

/// The label as a STANAG 4774 `ConfidentialityInformation` element.
pub fn confidentiality_information(label: &SecurityLabel) -> String {
    let mut xml = Xml::fragment();
    xml.open(
        "slab:ConfidentialityInformation",
        &[("xmlns:slab", STANAG_4774)],
    )
    .leaf("slab:PolicyIdentifier", &[], &label.policy)
    .leaf("slab:Classification", &[], &label.classification);
    if let Some(mark) = &label.privacy_mark {
        xml.leaf("slab:PrivacyMark", &[], mark);
    }
    for category in &label.categories {
        let kind = match category.kind {
            CategoryType::Permissive => "PERMISSIVE",
            CategoryType::Restrictive => "RESTRICTIVE",
        };
        xml.open(
            "slab:Category",
            &[("TagName", &category.tag), ("Type", kind)],
        );
        for value in &category.values {
            xml.leaf("slab:GenericValue", &[], value);
        }
        xml.close();
    }
    xml.finish().trim_end().to_owned()
}

fn day(at: OffsetDateTime) -> String {
    datestamp(at)[..10].to_owned()
}
