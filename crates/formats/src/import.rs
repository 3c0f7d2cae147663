//! Records of other catalogues read into Fathom's terms: ISO 19139 (`gmd:MD_Metadata`, also ISO
//! 19115-2 `gmi:MI_Metadata`), Dublin Core (`csw:Record`, `oai_dc:dc`) and DCAT (Turtle, JSON-LD,
//! RDF/XML). A document may hold many records (an OAI-PMH or CSW response, a DCAT catalogue); each
//! is mapped on its own, so that a bad record costs only itself. What Fathom cannot hold is left out;
//! what it must have (an identifier, a title) or must not guess (a classified record) refuses the
//! record with the reason.

use std::collections::HashMap;

use fathom_model::dataset::{ContactPointInput, CreatorInput, SpatialInput, TemporalInput};
use fathom_model::{CategoryInput, CategoryType, DatasetInput, DistributionInput, LabelInput};
use oxrdf::{NamedOrBlankNode, Term};
use oxrdfio::{RdfFormat, RdfParser};

use crate::RdfSyntax;
use crate::xml::Element;

/// The formats records are imported from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Iso19139,
    DublinCore,
    Dcat(RdfSyntax),
}

impl ImportFormat {
    /// Each format by its name (`fathom import --format`, `POST /api/v1/imports?format=`).
    pub const NAMED: [(&'static str, Self); 6] = [
        ("iso19139", Self::Iso19139),
        ("dc", Self::DublinCore),
        ("dcat-ttl", Self::Dcat(RdfSyntax::Turtle)),
        ("dcat-jsonld", Self::Dcat(RdfSyntax::JsonLd)),
        ("dcat-rdfxml", Self::Dcat(RdfSyntax::RdfXml)),
        ("dcat-nt", Self::Dcat(RdfSyntax::NTriples)),
    ];

    pub fn parse(name: &str) -> Option<Self> {
        Self::NAMED
            .into_iter()
            .find(|(known, _)| *known == name)
            .map(|(_, format)| format)
    }

    /// The format of a media type sent to the import endpoint.
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        let essence = media_type.split(';').next().unwrap_or_default().trim();
        match essence {
            crate::iso::MEDIA_TYPE => Some(Self::Iso19139),
            "application/xml" | "text/xml" => None,
            other => RdfSyntax::from_media_type(other).map(Self::Dcat),
        }
    }
}

/// A record as read: in Fathom's terms, or why it cannot be.
pub type RecordRead = Result<ForeignRecord, String>;

/// A record of another catalogue in Fathom's terms: its identifier there, and the dataset (without an
/// organisation, which the import gives).
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignRecord {
    pub identifier: String,
    pub dataset: DatasetInput,
}

/// Each record of a document, or why it cannot be imported. A document that does not parse at all is
/// one failure.
pub fn read(format: ImportFormat, document: &[u8]) -> Vec<Result<ForeignRecord, String>> {
    match format {
        ImportFormat::Iso19139 | ImportFormat::DublinCore => {
            let root = match Element::parse(document) {
                Ok(root) => root,
                Err(message) => return vec![Err(message)],
            };
            if format == ImportFormat::Iso19139 {
                read_iso(&root)
            } else {
                read_dublin_core(&root)
            }
        }
        ImportFormat::Dcat(syntax) => read_dcat(syntax, document),
    }
}

// ---- ISO 19139 ------------------------------------------------------------------------------

const GMD: &str = "http://www.isotc211.org/2005/gmd";
const GMI: &str = "http://www.isotc211.org/2005/gmi";

/// The record an element holds: an ISO `MD_Metadata`/`MI_Metadata`, or a Dublin Core record (as in
/// an OAI-PMH `metadata` element).
pub(crate) fn read_element(
    format: ImportFormat,
    element: &Element,
) -> Result<ForeignRecord, String> {
    match format {
        ImportFormat::Iso19139 => match read_iso(element).pop() {
            Some(record) => record,
            None => Err("no gmd:MD_Metadata in the record".to_owned()),
        },
        ImportFormat::DublinCore => match read_dublin_core(element).pop() {
            Some(record) => record,
            None => Err("no Dublin Core record".to_owned()),
        },
        ImportFormat::Dcat(_) => {
            Err("DCAT records are read from RDF documents, not XML elements".to_owned())
        }
    }
}

fn read_iso(root: &Element) -> Vec<Result<ForeignRecord, String>> {
    if root
        .namespace
        .starts_with("http://standards.iso.org/iso/19115/-3/")
    {
        return vec![Err(format!(
            "`{}` is ISO 19115-3 ({}), not ISO 19139: it is not imported yet",
            root.name, root.namespace
        ))];
    }
    let mut found = Vec::new();
    for name in ["MD_Metadata", "MI_Metadata"] {
        root.descendants(name, &mut found);
    }
    found.retain(|e| e.namespace == GMD || e.namespace == GMI);
    if found.is_empty() {
        return vec![Err(format!(
            "no gmd:MD_Metadata in the document (its root is `{}` in `{}`)",
            root.name, root.namespace
        ))];
    }
    found.into_iter().map(iso_record).collect()
}

fn iso_record(metadata: &Element) -> Result<ForeignRecord, String> {
    let identifier = metadata.child("fileIdentifier").and_then(string).ok_or(
        "no gmd:fileIdentifier: without it the record cannot be imported again idempotently",
    )?;
    let identification = metadata
        .child("identificationInfo")
        .and_then(|info| info.children.first())
        .ok_or_else(|| format!("`{identifier}`: no gmd:identificationInfo"))?;
    let citation = identification.at(&["citation", "CI_Citation"]);
    let title = citation
        .and_then(|c| c.child("title"))
        .and_then(string)
        .ok_or_else(|| {
            format!("`{identifier}`: no title (gmd:citation/gmd:CI_Citation/gmd:title)")
        })?;
    let mut dataset = DatasetInput {
        title: Some(title),
        description: identification.child("abstract").and_then(string),
        ..DatasetInput::default()
    };
    let mut identifiers = vec![identifier.clone()];
    if let Some(citation) = citation {
        for date in citation.all(&["date", "CI_Date"]) {
            let kind = date
                .at(&["dateType", "CI_DateTypeCode"])
                .and_then(code_value);
            let value = date
                .child("date")
                .and_then(|d| d.children.first())
                .and_then(Element::value)
                .and_then(date_value);
            match (kind, value) {
                (Some("publication"), Some(value)) => dataset.issued = Some(value),
                (Some("creation"), Some(value)) if dataset.issued.is_none() => {
                    dataset.issued = Some(value)
                }
                (Some("revision"), Some(value)) => dataset.modified = Some(value),
                _ => {}
            }
        }
        dataset.version = citation.child("edition").and_then(string);
        identifiers.extend(
            citation
                .all(&["identifier", "MD_Identifier", "code"])
                .into_iter()
                .filter_map(string),
        );
        identifiers.extend(
            citation
                .all(&["identifier", "RS_Identifier", "code"])
                .into_iter()
                .filter_map(string),
        );
        let creators: Vec<CreatorInput> = citation
            .all(&["citedResponsibleParty", "CI_ResponsibleParty"])
            .into_iter()
            .filter(|party| {
                matches!(
                    role(party),
                    Some("originator" | "author" | "principalInvestigator")
                )
            })
            .filter_map(|party| {
                let (name, email) = party_name(party)?;
                Some(CreatorInput {
                    name: Some(name),
                    email,
                })
            })
            .collect();
        dataset.creators = Some(creators).filter(|c| !c.is_empty());
    }
    dedup(&mut identifiers);
    dataset.identifiers = Some(identifiers);

    let contacts: Vec<ContactPointInput> = identification
        .all(&["pointOfContact", "CI_ResponsibleParty"])
        .into_iter()
        .filter_map(|party| {
            let (name, email) = party_name(party)?;
            Some(ContactPointInput {
                name: Some(name),
                email,
                role: role(party).map(str::to_owned),
            })
        })
        .collect();
    dataset.contact_points = Some(contacts).filter(|c| !c.is_empty());

    let mut keywords = Vec::new();
    let mut themes = Vec::new();
    for keyword in identification.all(&["descriptiveKeywords", "MD_Keywords", "keyword"]) {
        let Some(value) = keyword.children.first() else {
            continue;
        };
        match value.attribute("href").filter(|href| href.contains("://")) {
            Some(href) if value.name == "Anchor" => themes.push(href.to_owned()),
            _ => keywords.extend(value.value().map(one_line)),
        }
    }
    dedup(&mut keywords);
    dedup(&mut themes);
    dataset.keywords = Some(keywords).filter(|k| !k.is_empty());
    dataset.themes = Some(themes).filter(|t| !t.is_empty());

    let languages: Vec<String> = identification
        .children("language")
        .filter_map(|l| l.children.first())
        .filter_map(|code| {
            code.attribute("codeListValue")
                .or(code.value())
                .and_then(language_tag)
        })
        .collect();
    dataset.language = Some(languages).filter(|l| !l.is_empty());

    let mut extents = Vec::new();
    identification.descendants("EX_Extent", &mut extents);
    dataset.spatial = extents.iter().find_map(|extent| {
        let bbox = extent.at(&["geographicElement", "EX_GeographicBoundingBox"])?;
        let number = |name: &str| {
            bbox.child(name)
                .and_then(|e| e.children.first())
                .and_then(Element::value)?
                .parse::<f64>()
                .ok()
        };
        Some(SpatialInput {
            bbox: Some(vec![
                number("westBoundLongitude")?,
                number("southBoundLatitude")?,
                number("eastBoundLongitude")?,
                number("northBoundLatitude")?,
            ]),
            geometry: None,
        })
    });
    dataset.temporal = extents.iter().find_map(|extent| {
        let period = extent
            .at(&["temporalElement", "EX_TemporalExtent", "extent"])?
            .children
            .first()?;
        let instant = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| period.child(n))
                .and_then(time_position)
        };
        let start = instant(&["beginPosition"]).or_else(|| {
            period
                .at(&["begin", "TimeInstant", "timePosition"])
                .and_then(time_position)
        });
        let end = instant(&["endPosition"]).or_else(|| {
            period
                .at(&["end", "TimeInstant", "timePosition"])
                .and_then(time_position)
        });
        let single = period.child("timePosition").and_then(time_position);
        let (start, end) = match single {
            Some(at) => (Some(at.clone()), Some(at)),
            None => (start, end),
        };
        (start.is_some() || end.is_some()).then_some(TemporalInput { start, end })
    });

    for constraint in identification.all(&["resourceConstraints", "MD_LegalConstraints"]) {
        let texts = constraint
            .children("useLimitation")
            .chain(constraint.children("otherConstraints"));
        for text in texts.filter_map(string) {
            if let Some(licence) = licence(text.strip_prefix("Licence: ").unwrap_or(&text)) {
                dataset.license.get_or_insert(licence);
            }
        }
    }
    dataset.security_label = iso_label(identification, &identifier)?;

    if let Some(uri) = metadata
        .child("dataSetURI")
        .and_then(string)
        .filter(|u| u.contains("://"))
    {
        dataset.landing_page = Some(uri);
    }
    dataset.distributions = metadata
        .child("distributionInfo")
        .map(iso_distributions)
        .filter(|d| !d.is_empty());
    Ok(ForeignRecord {
        identifier,
        dataset,
    })
}

/// Online resources become distributions; a `download` link right after an `information` link of
/// the same name is that distribution's download URL (as Fathom writes them). Formats are given to
/// the distributions when there is one for all, or one each.
fn iso_distributions(info: &Element) -> Vec<DistributionInput> {
    let mut resources = Vec::new();
    info.descendants("CI_OnlineResource", &mut resources);
    let mut distributions: Vec<DistributionInput> = Vec::new();
    let mut last_name: Option<String> = None;
    for resource in resources {
        let Some(url) = resource
            .at(&["linkage", "URL"])
            .and_then(Element::value)
            .filter(|u| u.contains(':'))
        else {
            continue;
        };
        let name = resource.child("name").and_then(string);
        let function = resource
            .at(&["function", "CI_OnLineFunctionCode"])
            .and_then(code_value);
        if function == Some("download")
            && let Some(previous) = distributions.last_mut()
            && previous.download_url.is_none()
            && name == last_name
        {
            previous.download_url = Some(url.to_owned());
            continue;
        }
        last_name = name.clone();
        distributions.push(DistributionInput {
            title: name,
            description: resource.child("description").and_then(string),
            access_url: Some(url.to_owned()),
            ..DistributionInput::default()
        });
    }
    let formats: Vec<String> = info
        .all(&["MD_Distribution", "distributionFormat", "MD_Format", "name"])
        .into_iter()
        .filter_map(string)
        .collect();
    match formats.as_slice() {
        [one] => distributions
            .iter_mut()
            .for_each(|d| d.format = Some(one.clone())),
        many if many.len() == distributions.len() => {
            for (distribution, format) in distributions.iter_mut().zip(many) {
                distribution.format = Some(format.clone());
            }
        }
        _ => {}
    }
    distributions
}

/// The label of a record Fathom wrote (a STANAG 4774 label in the security constraints' `userNote`);
/// a record of another catalogue classified above `unclassified` is refused, since what its
/// classification means under this policy is not for an import to guess.
fn iso_label(identification: &Element, identifier: &str) -> Result<Option<LabelInput>, String> {
    let Some(security) = identification.at(&["resourceConstraints", "MD_SecurityConstraints"])
    else {
        return Ok(None);
    };
    if let Some(note) = security.child("userNote").and_then(string)
        && let Ok(label) = Element::parse(note.as_bytes())
        && label.name == "ConfidentialityInformation"
    {
        let categories = label
            .children("Category")
            .map(|category| CategoryInput {
                tag: category.attribute("TagName").unwrap_or_default().to_owned(),
                kind: match category.attribute("Type") {
                    Some("RESTRICTIVE") => Some(CategoryType::Restrictive),
                    Some("PERMISSIVE") => Some(CategoryType::Permissive),
                    _ => None,
                },
                values: category
                    .children
                    .iter()
                    .filter_map(|v| v.value().map(str::to_owned))
                    .collect(),
            })
            .collect();
        return Ok(Some(LabelInput {
            policy: label
                .child("PolicyIdentifier")
                .and_then(|p| p.value().map(str::to_owned)),
            classification: label
                .child("Classification")
                .and_then(|c| c.value().map(str::to_owned)),
            privacy_mark: label
                .child("PrivacyMark")
                .and_then(|p| p.value().map(str::to_owned)),
            categories,
        }));
    }
    match security
        .at(&["classification", "MD_ClassificationCode"])
        .and_then(code_value)
    {
        None | Some("unclassified") => Ok(None),
        Some(classification) => Err(format!(
            "`{identifier}` is classified `{classification}` and carries no STANAG 4774 label: import it under a label of this policy by hand"
        )),
    }
}

/// A `gco:CharacterString` or `gmx:Anchor` property's text, on one line.
fn string(property: &Element) -> Option<String> {
    property
        .children
        .first()
        .and_then(Element::value)
        .map(one_line)
}

fn code_value(code: &Element) -> Option<&str> {
    code.attribute("codeListValue").or(code.value())
}

fn role(party: &Element) -> Option<&str> {
    party.at(&["role", "CI_RoleCode"]).and_then(code_value)
}

/// A responsible party's name (a person, else the organisation, else the position) and e-mail.
fn party_name(party: &Element) -> Option<(String, Option<String>)> {
    let name = ["individualName", "organisationName", "positionName"]
        .into_iter()
        .find_map(|n| party.child(n).and_then(string))?;
    let email = party
        .at(&[
            "contactInfo",
            "CI_Contact",
            "address",
            "CI_Address",
            "electronicMailAddress",
        ])
        .and_then(string)
        .filter(|e| e.contains('@') && !e.contains(char::is_whitespace));
    Some((name, email))
}

fn time_position(element: &Element) -> Option<String> {
    element.value().and_then(date_value)
}

// ---- Dublin Core ----------------------------------------------------------------------------

const DC: &str = "http://purl.org/dc/elements/1.1/";
const DCT: &str = "http://purl.org/dc/terms/";

fn read_dublin_core(root: &Element) -> Vec<Result<ForeignRecord, String>> {
    let mut found = Vec::new();
    for name in ["Record", "SummaryRecord", "BriefRecord", "dc"] {
        root.descendants(name, &mut found);
    }
    found.retain(|e| {
        e.children
            .iter()
            .any(|c| c.namespace == DC || c.namespace == DCT)
    });
    if found.is_empty() {
        return vec![Err(format!(
            "no Dublin Core record (csw:Record or oai_dc:dc) in the document (its root is `{}`)",
            root.name
        ))];
    }
    found.into_iter().map(dc_record).collect()
}

fn dc_record(record: &Element) -> Result<ForeignRecord, String> {
    let terms = |name: &'static str| {
        record
            .children
            .iter()
            .filter(move |c| c.name == name && (c.namespace == DC || c.namespace == DCT))
            .filter_map(Element::value)
    };
    let identifier = terms("identifier")
        .next()
        .map(one_line)
        .ok_or("no dc:identifier: without it the record cannot be imported again idempotently")?;
    let title = terms("title")
        .next()
        .map(one_line)
        .ok_or_else(|| format!("`{identifier}`: no dc:title"))?;
    let mut keywords: Vec<String> = terms("subject").map(one_line).collect();
    dedup(&mut keywords);
    let urls: Vec<&str> = terms("references")
        .chain(terms("relation"))
        .chain(terms("source"))
        .filter(|u| u.contains("://"))
        .collect();
    let mut distributions: Vec<DistributionInput> = Vec::new();
    for url in urls {
        if distributions
            .iter()
            .all(|d| d.access_url.as_deref() != Some(url))
        {
            distributions.push(DistributionInput {
                access_url: Some(url.to_owned()),
                ..DistributionInput::default()
            });
        }
    }
    if let Some(format) = terms("format").next().map(one_line) {
        distributions
            .iter_mut()
            .for_each(|d| d.format = Some(format.clone()));
    }
    let mut bbox = None;
    let mut temporal = None;
    for box_element in record
        .children
        .iter()
        .filter(|c| c.name == "BoundingBox" || c.name == "WGS84BoundingBox")
    {
        bbox = bbox.or_else(|| ows_bbox(box_element));
    }
    for coverage in terms("coverage")
        .chain(terms("spatial"))
        .chain(terms("temporal"))
    {
        bbox = bbox.or_else(|| dcmi_box(coverage));
        temporal = temporal.or_else(|| dcmi_period(coverage));
    }
    let creators: Vec<CreatorInput> = terms("creator")
        .map(|n| CreatorInput {
            name: Some(one_line(n)),
            email: None,
        })
        .collect();
    let contacts: Vec<ContactPointInput> = terms("publisher")
        .map(|n| ContactPointInput {
            name: Some(one_line(n)),
            email: None,
            role: Some("publisher".to_owned()),
        })
        .collect();
    let languages: Vec<String> = terms("language").filter_map(language_tag).collect();
    let dataset = DatasetInput {
        title: Some(title),
        description: terms("abstract")
            .chain(terms("description"))
            .next()
            .map(str::to_owned),
        keywords: Some(keywords).filter(|k| !k.is_empty()),
        creators: Some(creators).filter(|c| !c.is_empty()),
        contact_points: Some(contacts).filter(|c| !c.is_empty()),
        issued: terms("issued")
            .chain(terms("created"))
            .chain(terms("date"))
            .find_map(date_value),
        modified: terms("modified").find_map(date_value),
        language: Some(languages).filter(|l| !l.is_empty()),
        license: terms("license").chain(terms("rights")).find_map(licence),
        identifiers: Some(vec![identifier.clone()]),
        spatial: bbox.map(|b| SpatialInput {
            bbox: Some(b),
            geometry: None,
        }),
        temporal,
        distributions: Some(distributions).filter(|d| !d.is_empty()),
        ..DatasetInput::default()
    };
    Ok(ForeignRecord {
        identifier,
        dataset,
    })
}

/// `ows:BoundingBox`: latitude first for EPSG:4326, longitude first for CRS84 and `WGS84BoundingBox`.
fn ows_bbox(element: &Element) -> Option<Vec<f64>> {
    let corner = |name: &str| -> Option<(f64, f64)> {
        let text = element.child(name)?.value()?;
        let mut numbers = text.split_whitespace().map(|n| n.parse::<f64>().ok());
        Some((numbers.next()??, numbers.next()??))
    };
    let (lower, upper) = (corner("LowerCorner")?, corner("UpperCorner")?);
    let latitude_first = element.name == "BoundingBox"
        && element
            .attribute("crs")
            .is_some_and(|crs| crs.contains("4326"));
    Some(if latitude_first {
        vec![lower.1, lower.0, upper.1, upper.0]
    } else {
        vec![lower.0, lower.1, upper.0, upper.1]
    })
}

/// A DCMI Box: `westlimit=…; southlimit=…; eastlimit=…; northlimit=…`.
fn dcmi_box(text: &str) -> Option<Vec<f64>> {
    let fields = dcmi_fields(text);
    let number = |name: &str| fields.get(name)?.parse::<f64>().ok();
    Some(vec![
        number("westlimit")?,
        number("southlimit")?,
        number("eastlimit")?,
        number("northlimit")?,
    ])
}

/// A DCMI Period: `start=…; end=…`.
fn dcmi_period(text: &str) -> Option<TemporalInput> {
    let fields = dcmi_fields(text);
    let start = fields.get("start").and_then(|s| date_value(s));
    let end = fields.get("end").and_then(|s| date_value(s));
    (start.is_some() || end.is_some()).then_some(TemporalInput { start, end })
}

fn dcmi_fields(text: &str) -> HashMap<&str, &str> {
    text.split(';')
        .filter_map(|part| part.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect()
}

// ---- DCAT -----------------------------------------------------------------------------------

const DCAT: &str = "http://www.w3.org/ns/dcat#";
const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";

/// Every statement of a graph, by subject.
struct Graph(HashMap<NamedOrBlankNode, Vec<(String, Term)>>);

impl Graph {
    fn objects<'a>(
        &'a self,
        subject: &NamedOrBlankNode,
        predicate: &'a str,
    ) -> impl Iterator<Item = &'a Term> + 'a {
        self.0
            .get(subject)
            .into_iter()
            .flatten()
            .filter(move |(p, _)| p == predicate)
            .map(|(_, o)| o)
    }

    /// The literal values of a property, those in English or without a language first.
    fn texts(&self, subject: &NamedOrBlankNode, predicate: &str) -> Vec<String> {
        let mut literals: Vec<(bool, String)> = self
            .objects(subject, predicate)
            .filter_map(|o| match o {
                Term::Literal(l) => Some((
                    l.language().is_some_and(|lang| !lang.starts_with("en")),
                    one_line(l.value()),
                )),
                _ => None,
            })
            .collect();
        literals.sort_by_key(|(foreign, _)| *foreign);
        let preferred = literals.first().map(|(foreign, _)| *foreign);
        literals
            .into_iter()
            .filter(|(f, _)| Some(*f) == preferred)
            .map(|(_, v)| v)
            .collect()
    }

    fn text(&self, subject: &NamedOrBlankNode, predicate: &str) -> Option<String> {
        self.texts(subject, predicate).into_iter().next()
    }

    fn iris(&self, subject: &NamedOrBlankNode, predicate: &str) -> Vec<String> {
        self.objects(subject, predicate)
            .filter_map(|o| match o {
                Term::NamedNode(n) => Some(n.as_str().to_owned()),
                _ => None,
            })
            .collect()
    }

    fn nodes(&self, subject: &NamedOrBlankNode, predicate: &str) -> Vec<NamedOrBlankNode> {
        self.objects(subject, predicate)
            .filter_map(|o| match o {
                Term::NamedNode(n) => Some(NamedOrBlankNode::from(n.clone())),
                Term::BlankNode(b) => Some(NamedOrBlankNode::from(b.clone())),
                _ => None,
            })
            .collect()
    }
}

fn read_dcat(syntax: RdfSyntax, document: &[u8]) -> Vec<Result<ForeignRecord, String>> {
    match read_dcat_page(syntax, document) {
        Ok((records, _)) if records.is_empty() => {
            vec![Err("no dcat:Dataset in the graph".to_owned())]
        }
        Ok((records, _)) => records,
        Err(message) => vec![Err(message)],
    }
}

/// One page of a DCAT catalogue: its datasets' records (none on an empty page), and the address of
/// the next page (`hydra:next`, or the older `hydra:nextPage`) if there is one.
pub fn read_dcat_page(
    syntax: RdfSyntax,
    document: &[u8],
) -> Result<(Vec<RecordRead>, Option<String>), String> {
    let mut graph = Graph(HashMap::new());
    for quad in RdfParser::from_format(RdfFormat::from(syntax)).for_slice(document) {
        let quad = quad.map_err(|error| format!("the RDF does not parse: {error}"))?;
        graph
            .0
            .entry(quad.subject)
            .or_default()
            .push((quad.predicate.as_str().to_owned(), quad.object));
    }
    let dataset_class = Term::NamedNode(oxrdf::NamedNode::new_unchecked(format!("{DCAT}Dataset")));
    let mut datasets: Vec<&NamedOrBlankNode> = graph
        .0
        .iter()
        .filter(|(_, statements)| {
            statements
                .iter()
                .any(|(p, o)| p == RDF_TYPE && *o == dataset_class)
        })
        .map(|(subject, _)| subject)
        .collect();
    datasets.sort_by_key(|s| s.to_string());
    let next = graph
        .0
        .values()
        .flatten()
        .find_map(|(predicate, object)| match object {
            Term::NamedNode(next) if predicate == HYDRA_NEXT || predicate == HYDRA_NEXT_PAGE => {
                Some(next.as_str().to_owned())
            }
            _ => None,
        });
    let records = datasets
        .into_iter()
        .map(|subject| dcat_record(&graph, subject))
        .collect();
    Ok((records, next))
}

const HYDRA_NEXT: &str = "http://www.w3.org/ns/hydra/core#next";
const HYDRA_NEXT_PAGE: &str = "http://www.w3.org/ns/hydra/core#nextPage";

fn dcat_record(graph: &Graph, subject: &NamedOrBlankNode) -> Result<ForeignRecord, String> {
    let dct = |local: &str| format!("{DCT}{local}");
    let dcat = |local: &str| format!("{DCAT}{local}");
    let identifier = graph
        .text(subject, &dct("identifier"))
        .or_else(|| match subject {
            NamedOrBlankNode::NamedNode(n) => Some(n.as_str().to_owned()),
            NamedOrBlankNode::BlankNode(_) => None,
        })
        .ok_or(
            "a dcat:Dataset without dct:identifier or IRI cannot be imported again idempotently",
        )?;
    let title = graph
        .text(subject, &dct("title"))
        .ok_or_else(|| format!("`{identifier}`: no dct:title"))?;
    let mut keywords = graph.texts(subject, &dcat("keyword"));
    dedup(&mut keywords);
    let contacts: Vec<ContactPointInput> = graph
        .nodes(subject, &dcat("contactPoint"))
        .iter()
        .filter_map(|kind| {
            let name = graph
                .text(kind, "http://www.w3.org/2006/vcard/ns#fn")
                .or_else(|| {
                    graph.text(kind, "http://www.w3.org/2006/vcard/ns#organization-name")
                })?;
            let email = graph
                .iris(kind, "http://www.w3.org/2006/vcard/ns#hasEmail")
                .into_iter()
                .next()
                .map(|m| m.trim_start_matches("mailto:").to_owned());
            Some(ContactPointInput {
                name: Some(name),
                email,
                role: graph.text(kind, "http://www.w3.org/2006/vcard/ns#role"),
            })
        })
        .collect();
    let creators: Vec<CreatorInput> = graph
        .nodes(subject, &dct("creator"))
        .iter()
        .filter_map(|agent| {
            let name = graph.text(agent, "http://xmlns.com/foaf/0.1/name")?;
            let email = graph
                .iris(agent, "http://xmlns.com/foaf/0.1/mbox")
                .into_iter()
                .next()
                .map(|m| m.trim_start_matches("mailto:").to_owned());
            Some(CreatorInput {
                name: Some(name),
                email,
            })
        })
        .collect();
    let temporal = graph
        .nodes(subject, &dct("temporal"))
        .iter()
        .find_map(|period| {
            let start = graph
                .text(period, &dcat("startDate"))
                .or_else(|| graph.text(period, "http://schema.org/startDate"))
                .and_then(|d| date_value(&d));
            let end = graph
                .text(period, &dcat("endDate"))
                .or_else(|| graph.text(period, "http://schema.org/endDate"))
                .and_then(|d| date_value(&d));
            (start.is_some() || end.is_some()).then_some(TemporalInput { start, end })
        });
    let spatial = graph
        .nodes(subject, &dct("spatial"))
        .iter()
        .find_map(|location| {
            let wkt = graph
                .text(location, &dcat("bbox"))
                .or_else(|| graph.text(location, "http://www.w3.org/ns/locn#geometry"))?;
            Some(SpatialInput {
                bbox: Some(wkt_bbox(&wkt)?),
                geometry: None,
            })
        });
    let languages: Vec<String> = graph
        .iris(subject, &dct("language"))
        .iter()
        .filter_map(|iri| iri.rsplit('/').next())
        .filter_map(language_tag)
        .collect();
    let mut identifiers = vec![identifier.clone()];
    identifiers.extend(
        graph
            .nodes(subject, "http://www.w3.org/ns/adms#identifier")
            .iter()
            .filter_map(|id| graph.text(id, "http://www.w3.org/2004/02/skos/core#notation")),
    );
    dedup(&mut identifiers);
    let distributions: Vec<DistributionInput> = graph
        .nodes(subject, &dcat("distribution"))
        .iter()
        .filter_map(|node| {
            let access = graph.iris(node, &dcat("accessURL")).into_iter().next()?;
            Some(DistributionInput {
                title: graph.text(node, &dct("title")),
                description: graph.text(node, &dct("description")),
                access_url: Some(access),
                download_url: graph.iris(node, &dcat("downloadURL")).into_iter().next(),
                media_type: graph
                    .iris(node, &dcat("mediaType"))
                    .into_iter()
                    .next()
                    .and_then(|iri| {
                        iri.strip_prefix("http://www.iana.org/assignments/media-types/")
                            .map(str::to_owned)
                    }),
                format: graph
                    .iris(node, &dct("format"))
                    .into_iter()
                    .next()
                    .or_else(|| {
                        graph.nodes(node, &dct("format")).first().and_then(|f| {
                            graph.text(f, "http://www.w3.org/2000/01/rdf-schema#label")
                        })
                    }),
                byte_size: graph
                    .text(node, &dcat("byteSize"))
                    .and_then(|s| s.parse().ok()),
                license: graph
                    .iris(node, &dct("license"))
                    .into_iter()
                    .next()
                    .and_then(|l| licence(&l)),
                ..DistributionInput::default()
            })
        })
        .collect();
    let dataset = DatasetInput {
        title: Some(title),
        description: graph.text(subject, &dct("description")),
        keywords: Some(keywords).filter(|k| !k.is_empty()),
        themes: Some(graph.iris(subject, &dcat("theme"))).filter(|t| !t.is_empty()),
        contact_points: Some(contacts).filter(|c| !c.is_empty()),
        creators: Some(creators).filter(|c| !c.is_empty()),
        issued: graph
            .text(subject, &dct("issued"))
            .or_else(|| graph.text(subject, &dct("created")))
            .and_then(|d| date_value(&d)),
        modified: graph
            .text(subject, &dct("modified"))
            .and_then(|d| date_value(&d)),
        temporal,
        spatial,
        language: Some(languages).filter(|l| !l.is_empty()),
        license: graph
            .iris(subject, &dct("license"))
            .into_iter()
            .next()
            .and_then(|l| licence(&l)),
        version: graph
            .text(subject, &dcat("version"))
            .or_else(|| graph.text(subject, "http://www.w3.org/2002/07/owl#versionInfo")),
        landing_page: graph.iris(subject, &dcat("landingPage")).into_iter().next(),
        identifiers: Some(identifiers),
        distributions: Some(distributions).filter(|d| !d.is_empty()),
        ..DatasetInput::default()
    };
    Ok(ForeignRecord {
        identifier,
        dataset,
    })
}

/// The bounding box of a WKT geometry (the extremes of its coordinates, longitude first); a
/// `MULTIPOLYGON` of two boxes meeting at ±180° is the box across the antimeridian it stands for.
fn wkt_bbox(wkt: &str) -> Option<Vec<f64>> {
    let body = wkt.trim();
    let body = body
        .strip_prefix('<')
        .map_or(body, |rest| rest.split_once('>').map_or(rest, |(_, r)| r))
        .trim();
    let coordinates: Vec<f64> = body
        .split(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | 'e' | 'E' | '+')))
        .filter(|t| !t.is_empty() && t.chars().any(|c| c.is_ascii_digit()))
        .filter_map(|t| t.parse().ok())
        .collect();
    if coordinates.len() < 2 || !coordinates.len().is_multiple_of(2) {
        return None;
    }
    let longitudes: Vec<f64> = coordinates.iter().step_by(2).copied().collect();
    let latitudes: Vec<f64> = coordinates.iter().skip(1).step_by(2).copied().collect();
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (west, east) = (min(&longitudes), max(&longitudes));
    if body.to_ascii_uppercase().starts_with("MULTIPOLYGON") && west == -180.0 && east == 180.0 {
        // The eastern half starts at -180, the western ends at 180: west is the larger start.
        let starts: Vec<f64> = longitudes
            .iter()
            .copied()
            .filter(|l| *l != 180.0 && *l != -180.0)
            .collect();
        if let [a, b, ..] = starts.as_slice() {
            let (low, high) = if a < b { (*a, *b) } else { (*b, *a) };
            return Some(vec![high, min(&latitudes), low, max(&latitudes)]);
        }
    }
    Some(vec![west, min(&latitudes), east, max(&latitudes)])
}

// ---- CKAN -----------------------------------------------------------------------------------

/// One page of a CKAN `package_search` answer: its packages' records, and how many packages match in
/// all.
pub fn read_ckan_page(document: &[u8]) -> Result<(Vec<RecordRead>, u64), String> {
    let answer: serde_json::Value =
        serde_json::from_slice(document).map_err(|e| format!("the answer is not JSON: {e}"))?;
    if answer["success"] != serde_json::Value::Bool(true) {
        let message = answer["error"]["message"]
            .as_str()
            .unwrap_or("no reason given");
        return Err(format!("CKAN answered an error: {message}"));
    }
    let result = &answer["result"];
    let count = result["count"]
        .as_u64()
        .ok_or("the answer has no result.count")?;
    let packages = result["results"]
        .as_array()
        .ok_or("the answer has no result.results")?;
    Ok((packages.iter().map(ckan_record).collect(), count))
}

fn ckan_record(package: &serde_json::Value) -> RecordRead {
    let text = |field: &str| {
        package[field]
            .as_str()
            .map(str::trim)
            .filter(|t| !t.is_empty())
    };
    let identifier = text("id")
        .or(text("name"))
        .ok_or("a package without id or name")?
        .to_owned();
    let title = text("title")
        .or(text("name"))
        .ok_or_else(|| format!("`{identifier}`: no title"))?;
    let mut keywords: Vec<String> = package["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|tag| tag["display_name"].as_str().or(tag["name"].as_str()))
        .map(one_line)
        .collect();
    dedup(&mut keywords);
    let distributions: Vec<DistributionInput> = package["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|resource| {
            let url = resource["url"].as_str().filter(|u| u.contains("://"))?;
            let text = |field: &str| {
                resource[field]
                    .as_str()
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(one_line)
            };
            Some(DistributionInput {
                title: text("name"),
                description: text("description"),
                access_url: Some(url.to_owned()),
                format: text("format"),
                media_type: text("mimetype").filter(|m| m.contains('/')),
                byte_size: resource["size"].as_u64(),
                ..DistributionInput::default()
            })
        })
        .collect();
    let person = |name: &str, email: &str| {
        text(name).map(|n| {
            (
                one_line(n),
                text(email).filter(|e| e.contains('@')).map(str::to_owned),
            )
        })
    };
    let creators: Vec<CreatorInput> = person("author", "author_email")
        .map(|(name, email)| CreatorInput {
            name: Some(name),
            email,
        })
        .into_iter()
        .collect();
    let contacts: Vec<ContactPointInput> = person("maintainer", "maintainer_email")
        .map(|(name, email)| ContactPointInput {
            name: Some(name),
            email,
            role: Some("pointOfContact".to_owned()),
        })
        .into_iter()
        .collect();
    // CKAN's spatial extension keeps the extent as GeoJSON in the `spatial` extra.
    let spatial = package["extras"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|extra| extra["key"] == "spatial")
        .and_then(|extra| extra["value"].as_str())
        .and_then(|geojson| serde_json::from_str::<serde_json::Value>(geojson).ok())
        .and_then(|geometry| wkt_bbox(&geometry["coordinates"].to_string()))
        .map(|bbox| SpatialInput {
            bbox: Some(bbox),
            geometry: None,
        });
    let mut identifiers = vec![identifier.clone()];
    if let Some(name) = text("name") {
        identifiers.push(name.to_owned());
    }
    dedup(&mut identifiers);
    let dataset = DatasetInput {
        title: Some(one_line(title)),
        description: text("notes").map(str::to_owned),
        keywords: Some(keywords).filter(|k| !k.is_empty()),
        creators: Some(creators).filter(|c| !c.is_empty()),
        contact_points: Some(contacts).filter(|c| !c.is_empty()),
        issued: text("metadata_created").and_then(date_value),
        modified: text("metadata_modified").and_then(date_value),
        license: text("license_id").and_then(licence),
        version: text("version").map(one_line),
        landing_page: text("url").filter(|u| u.contains("://")).map(str::to_owned),
        identifiers: Some(identifiers),
        spatial,
        distributions: Some(distributions).filter(|d| !d.is_empty()),
        ..DatasetInput::default()
    };
    Ok(ForeignRecord {
        identifier,
        dataset,
    })
}

// ---- CSW 2.0.2 ------------------------------------------------------------------------------

/// One page of a CSW 2.0.2 `GetRecords` answer: its records (ISO 19139 or Dublin Core, whichever it
/// holds), the position of the next record (none after the last), and how many match in all. An
/// `ows:ExceptionReport` is an error with its text.
pub fn read_csw_page(document: &[u8]) -> Result<(Vec<RecordRead>, Option<u64>, u64), String> {
    let root = Element::parse(document).map_err(|e| format!("the answer is not XML: {e}"))?;
    if root.name == "ExceptionReport" {
        let mut texts = Vec::new();
        root.descendants("ExceptionText", &mut texts);
        let text: Vec<&str> = texts.iter().filter_map(|t| t.value()).collect();
        return Err(format!(
            "the catalogue answered an exception: {}",
            text.join("; ")
        ));
    }
    if root.name != "GetRecordsResponse" {
        return Err(format!(
            "the answer is not a CSW GetRecordsResponse: its root is `{}`",
            root.name
        ));
    }
    let results = root
        .child("SearchResults")
        .ok_or("the answer has no csw:SearchResults")?;
    let number = |name: &str| results.attribute(name).and_then(|n| n.parse::<u64>().ok());
    let matched = number("numberOfRecordsMatched").unwrap_or_default();
    let next = number("nextRecord").filter(|next| *next > 0 && *next <= matched);
    let iso = results
        .children
        .iter()
        .any(|c| c.name == "MD_Metadata" || c.name == "MI_Metadata");
    let records = if results.children.is_empty() {
        Vec::new()
    } else if iso {
        read_iso(results)
    } else {
        read_dublin_core(results)
    };
    Ok((records, next, matched))
}

// ---- shared ---------------------------------------------------------------------------------

/// Whitespace runs (line breaks too) as one space.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn dedup(values: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    values.retain(|v| seen.insert(v.clone()));
}

/// A date Fathom accepts (`YYYY-MM-DD` or RFC 3339): as given, or its day when the time lacks a zone.
fn date_value(text: &str) -> Option<String> {
    let text = text.trim();
    if fathom_model::values::parse_instant(text).is_ok() {
        return Some(text.to_owned());
    }
    let day = text.get(..10)?;
    fathom_model::values::parse_date(day)
        .ok()
        .map(|_| day.to_owned())
}

/// A licence Fathom can hold: an SPDX-like identifier or an IRI; prose is left out.
fn licence(text: &str) -> Option<String> {
    let text = text.trim();
    let identifier = !text.is_empty()
        && text.len() <= 100
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'))
        && text.bytes().any(|b| b.is_ascii_digit() || b == b'-');
    let iri = text.contains("://") && !text.contains(char::is_whitespace);
    (identifier || iri).then(|| text.to_owned())
}

/// A BCP 47 tag for an ISO 639 code (`eng`, `ENG`, `en`).
fn language_tag(code: &str) -> Option<String> {
    let code = code.trim().to_ascii_lowercase();
    let two = match code.as_str() {
        "eng" => "en",
        "fra" | "fre" => "fr",
        "deu" | "ger" => "de",
        "ita" => "it",
        "spa" => "es",
        "nld" | "dut" => "nl",
        "nor" | "nob" => "no",
        "dan" => "da",
        "swe" => "sv",
        "fin" => "fi",
        "por" => "pt",
        "pol" => "pl",
        "ell" | "gre" => "el",
        "isl" | "ice" => "is",
        "tur" => "tr",
        other
            if (2..=3).contains(&other.len()) && other.bytes().all(|b| b.is_ascii_lowercase()) =>
        {
            other
        }
        _ => return None,
    };
    Some(two.to_owned())
}
