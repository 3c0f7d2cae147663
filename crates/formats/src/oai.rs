//! OAI-PMH 2.0 responses: the envelope, the six verbs' bodies, errors, and the records in the metadata
//! formats offered (`oai_dc`, Dublin Core; `dcat`, DCAT-AP RDF/XML; `iso19139`). What to list, and whether a
//! caller may see it, is decided before anything reaches this module.

use fathom_model::{AccessRights, Dataset, Organisation};
use time::OffsetDateTime;
use time::macros::format_description;
use uuid::Uuid;

use crate::RdfSyntax;
use crate::dcat::{DcatWriter, Site, access_right_iri, publisher_name};
use crate::dcterms::{dcmi_box, dcmi_period};
use crate::import::{ForeignRecord, ImportFormat, read_element};
use crate::xml::Element;
use crate::xml::Xml;

const OAI: &str = "http://www.openarchives.org/OAI/2.0/";
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
const OAI_SCHEMA: &str =
    "http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd";

/// The metadata formats records are disseminated in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataFormat {
    /// Unqualified Dublin Core, which every OAI-PMH repository offers.
    OaiDc,
    /// DCAT-AP 3.0 as RDF/XML.
    Dcat,
    /// ISO 19115 in the ISO 19139 encoding.
    Iso19139,
}

impl MetadataFormat {
    pub const ALL: [Self; 3] = [Self::OaiDc, Self::Dcat, Self::Iso19139];

    pub fn prefix(self) -> &'static str {
        match self {
            Self::OaiDc => "oai_dc",
            Self::Dcat => "dcat",
            Self::Iso19139 => "iso19139",
        }
    }

    pub fn from_prefix(prefix: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|format| format.prefix() == prefix)
    }

    fn schema(self) -> &'static str {
        match self {
            Self::OaiDc => "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
            Self::Dcat => "http://www.w3.org/2000/07/rdf.xsd",
            Self::Iso19139 => "http://www.isotc211.org/2005/gmd/gmd.xsd",
        }
    }

    fn namespace(self) -> &'static str {
        match self {
            Self::OaiDc => "http://www.openarchives.org/OAI/2.0/oai_dc/",
            Self::Dcat => "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
            Self::Iso19139 => "http://www.isotc211.org/2005/gmd",
        }
    }
}

/// The six requests of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Identify,
    ListMetadataFormats,
    ListSets,
    ListIdentifiers,
    ListRecords,
    GetRecord,
}

impl Verb {
    pub const ALL: [Self; 6] = [
        Self::Identify,
        Self::ListMetadataFormats,
        Self::ListSets,
        Self::ListIdentifiers,
        Self::ListRecords,
        Self::GetRecord,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Identify => "Identify",
            Self::ListMetadataFormats => "ListMetadataFormats",
            Self::ListSets => "ListSets",
            Self::ListIdentifiers => "ListIdentifiers",
            Self::ListRecords => "ListRecords",
            Self::GetRecord => "GetRecord",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|verb| verb.name() == name)
    }
}

/// The protocol's error conditions (OAI-PMH 2.0, 3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    BadArgument,
    BadResumptionToken,
    BadVerb,
    CannotDisseminateFormat,
    IdDoesNotExist,
    NoRecordsMatch,
    NoSetHierarchy,
}

impl ErrorCode {
    pub fn code(self) -> &'static str {
        match self {
            Self::BadArgument => "badArgument",
            Self::BadResumptionToken => "badResumptionToken",
            Self::BadVerb => "badVerb",
            Self::CannotDisseminateFormat => "cannotDisseminateFormat",
            Self::IdDoesNotExist => "idDoesNotExist",
            Self::NoRecordsMatch => "noRecordsMatch",
            Self::NoSetHierarchy => "noSetHierarchy",
        }
    }
}

/// What `Identify` says of the repository.
#[derive(Debug, Clone)]
pub struct Repository<'a> {
    pub site: &'a Site,
    /// The datestamp of the oldest change a harvester can ask for.
    pub earliest: OffsetDateTime,
}

impl Repository<'_> {
    pub fn base_url(&self) -> String {
        format!("{}/oai", self.site.base)
    }
}

/// The OAI identifier of a dataset: `oai:{repository identifier}:{id}`.
pub fn identifier(site: &Site, id: Uuid) -> String {
    format!("oai:{}:{id}", repository_identifier(site))
}

/// The dataset id an OAI identifier of this repository names.
pub fn parse_identifier(site: &Site, identifier: &str) -> Option<Uuid> {
    let prefix = format!("oai:{}:", repository_identifier(site));
    identifier
        .strip_prefix(&prefix)
        .and_then(|id| Uuid::try_parse(id).ok())
}

/// The public host name when it is a domain name, as the oai-identifier scheme requires; a server
/// known by an address or a single-label name is `fathom.localhost`.
fn repository_identifier(site: &Site) -> &str {
    let host = site
        .base
        .split_once("://")
        .map_or("", |(_, rest)| rest.split(['/', ':']).next().unwrap_or(""));
    let labels_ok = host.split('.').all(|label| {
        label.starts_with(|c: char| c.is_ascii_alphabetic())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if host.contains('.') && labels_ok {
        host
    } else {
        "fathom.localhost"
    }
}

/// A datestamp at the repository's granularity, seconds.
pub fn datestamp(at: OffsetDateTime) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

/// The set of an organisation's datasets, below the set of all organisations.
pub fn organisation_set(slug: &str) -> String {
    format!("{ORGANISATION_SETS}:{slug}")
}

/// The parent set of every organisation's set.
pub const ORGANISATION_SETS: &str = "organisation";

/// A record as listed: a dataset the caller may see, or the trace of one deleted.
#[derive(Debug, Clone, Copy)]
pub enum Item<'a> {
    Live {
        dataset: &'a Dataset,
        publisher: Option<&'a Organisation>,
        access_rights: AccessRights,
    },
    Deleted {
        id: Uuid,
        organisation: &'a str,
        deleted_at: OffsetDateTime,
    },
}

impl Item<'_> {
    fn id(&self) -> Uuid {
        match self {
            Self::Live { dataset, .. } => dataset.id,
            Self::Deleted { id, .. } => *id,
        }
    }
}

/// The `resumptionToken` of a list's page: the token of the next page (none on the last page), how
/// many records came before this page, and how many the whole list has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumption {
    pub token: Option<String>,
    pub expires: Option<OffsetDateTime>,
    pub cursor: u64,
    pub complete_list_size: u64,
}

/// One OAI-PMH response being written.
#[derive(Debug)]
pub struct Response<'a> {
    xml: Xml,
    site: &'a Site,
}

impl<'a> Response<'a> {
    /// The envelope, with the request echoed: its arguments when they were valid, none (as the
    /// protocol asks) after `badVerb` or `badArgument`.
    pub fn new(site: &'a Site, at: OffsetDateTime, arguments: Option<&[(&str, &str)]>) -> Self {
        let mut xml = Xml::new();
        xml.open(
            "OAI-PMH",
            &[
                ("xmlns", OAI),
                ("xmlns:xsi", XSI),
                ("xsi:schemaLocation", OAI_SCHEMA),
            ],
        )
        .leaf("responseDate", &[], &datestamp(at))
        .leaf(
            "request",
            arguments.unwrap_or_default(),
            &format!("{}/oai", site.base),
        );
        Self { xml, site }
    }

    pub fn error(mut self, code: ErrorCode, message: &str) -> String {
        self.xml.leaf("error", &[("code", code.code())], message);
        self.xml.finish()
    }

    pub fn identify(mut self, repository: &Repository<'_>) -> String {
        let sample = identifier(self.site, Uuid::nil());
        self.xml
            .open("Identify", &[])
            .leaf("repositoryName", &[], &repository.site.title)
            .leaf("baseURL", &[], &repository.base_url())
            .leaf("protocolVersion", &[], "2.0")
            .leaf("adminEmail", &[], &repository.site.email)
            .leaf("earliestDatestamp", &[], &datestamp(repository.earliest))
            .leaf("deletedRecord", &[], "persistent")
            .leaf("granularity", &[], "YYYY-MM-DDThh:mm:ssZ")
            .open("description", &[])
            .open(
                "oai-identifier",
                &[
                    ("xmlns", "http://www.openarchives.org/OAI/2.0/oai-identifier"),
                    (
                        "xsi:schemaLocation",
                        "http://www.openarchives.org/OAI/2.0/oai-identifier http://www.openarchives.org/OAI/2.0/oai-identifier.xsd",
                    ),
                ],
            )
            .leaf("scheme", &[], "oai")
            .leaf("repositoryIdentifier", &[], repository_identifier(self.site))
            .leaf("delimiter", &[], ":")
            .leaf("sampleIdentifier", &[], &sample);
        self.xml.finish()
    }

    pub fn metadata_formats(mut self) -> String {
        self.xml.open("ListMetadataFormats", &[]);
        for format in MetadataFormat::ALL {
            self.xml
                .open("metadataFormat", &[])
                .leaf("metadataPrefix", &[], format.prefix())
                .leaf("schema", &[], format.schema())
                .leaf("metadataNamespace", &[], format.namespace())
                .close();
        }
        self.xml.finish()
    }

    /// `sets`: each organisation's slug and name.
    pub fn sets(mut self, organisations: &[(&str, &str)]) -> String {
        self.xml
            .open("ListSets", &[])
            .open("set", &[])
            .leaf("setSpec", &[], ORGANISATION_SETS)
            .leaf("setName", &[], "Organisations")
            .close();
        for (slug, name) in organisations {
            self.xml
                .open("set", &[])
                .leaf("setSpec", &[], &organisation_set(slug))
                .leaf("setName", &[], name)
                .close();
        }
        self.xml.finish()
    }

    /// Opens the element of a list or `GetRecord`.
    pub fn begin(&mut self, verb: Verb) {
        self.xml.open(verb.name(), &[]);
    }

    /// A header alone (`ListIdentifiers`).
    pub fn header(&mut self, item: &Item<'_>) {
        self.write_header(item);
    }

    /// A record: its header and, unless it was deleted, its metadata in `format`.
    pub fn record(&mut self, item: &Item<'_>, format: MetadataFormat) {
        self.xml.open("record", &[]);
        self.write_header(item);
        if let Item::Live {
            dataset,
            publisher,
            access_rights,
        } = item
        {
            self.xml.open("metadata", &[]);
            match format {
                MetadataFormat::OaiDc => self.dublin_core(dataset, *publisher, *access_rights),
                MetadataFormat::Dcat => {
                    let mut writer = DcatWriter::new(RdfSyntax::RdfXml);
                    let written = writer
                        .dataset(self.site, dataset, *publisher, *access_rights, false)
                        .and_then(|()| writer.finish());
                    // Writing into memory does not fail; an empty `metadata` would be invalid, though.
                    let document =
                        String::from_utf8(written.unwrap_or_default()).unwrap_or_default();
                    let body = document
                        .split_once("?>")
                        .map_or(document.as_str(), |(_, rest)| rest);
                    self.xml.raw(body.trim());
                }
                MetadataFormat::Iso19139 => {
                    crate::iso::write(
                        &mut self.xml,
                        self.site,
                        dataset,
                        *publisher,
                        *access_rights,
                        true,
                    );
                }
            }
            self.xml.close();
        }
        self.xml.close();
    }

    /// Ends a list's page with its resumption token (on every page of a list that has more than
    /// one, the last one's empty).
    pub fn resumption(&mut self, resumption: &Resumption) {
        let cursor = resumption.cursor.to_string();
        let size = resumption.complete_list_size.to_string();
        let expires = resumption.expires.map(datestamp);
        let mut attributes = vec![
            ("completeListSize", size.as_str()),
            ("cursor", cursor.as_str()),
        ];
        if let Some(expires) = &expires {
            attributes.push(("expirationDate", expires.as_str()));
        }
        self.xml.leaf(
            "resumptionToken",
            &attributes,
            resumption.token.as_deref().unwrap_or_default(),
        );
    }

    pub fn finish(self) -> String {
        self.xml.finish()
    }

    fn write_header(&mut self, item: &Item<'_>) {
        let (organisation, changed, deleted) = match item {
            Item::Live { dataset, .. } => (
                dataset.metadata.organisation.as_str(),
                dataset.updated_at,
                false,
            ),
            Item::Deleted {
                organisation,
                deleted_at,
                ..
            } => (*organisation, *deleted_at, true),
        };
        let status: &[(&str, &str)] = if deleted {
            &[("status", "deleted")]
        } else {
            &[]
        };
        self.xml
            .open("header", status)
            .leaf("identifier", &[], &identifier(self.site, item.id()))
            .leaf("datestamp", &[], &datestamp(changed))
            .leaf("setSpec", &[], ORGANISATION_SETS)
            .leaf("setSpec", &[], &organisation_set(organisation))
            .close();
    }

    /// Unqualified Dublin Core: the fifteen elements, each as the DCMI's guidelines for datasets use
    /// them (`coverage` as a DCMI Box and Period).
    fn dublin_core(
        &mut self,
        dataset: &Dataset,
        publisher: Option<&Organisation>,
        access_rights: AccessRights,
    ) {
        let metadata = &dataset.metadata;
        let publisher = publisher_name(dataset, publisher);
        self.xml.open(
            "oai_dc:dc",
            &[
                ("xmlns:oai_dc", MetadataFormat::OaiDc.namespace()),
                ("xmlns:dc", "http://purl.org/dc/elements/1.1/"),
                (
                    "xsi:schemaLocation",
                    "http://www.openarchives.org/OAI/2.0/oai_dc/ http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
                ),
            ],
        );
        let xml = &mut self.xml;
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
        xml.leaf("dc:identifier", &[], &self.site.dataset_iri(dataset.id));
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
    }
}

/// A record a repository listed: its OAI identifier, and its metadata read into Fathom's terms, or
/// `None` when the repository reports it deleted.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedRecord {
    pub identifier: String,
    pub record: Option<Result<ForeignRecord, String>>,
}

/// What a `ListRecords` request answered.
#[derive(Debug, Clone, PartialEq)]
pub enum ListAnswer {
    /// A page, and the token of the next one.
    Page {
        records: Vec<ListedRecord>,
        token: Option<String>,
    },
    /// `noRecordsMatch`: nothing (more) to harvest.
    NoRecords,
    /// Any other OAI-PMH error, with its code and message.
    Error { code: String, message: String },
}

/// Reads a `ListRecords` response of another repository, its records in `format` (`iso19139` or
/// `oai_dc`). A document that is not an OAI-PMH response (an HTML error page, say) is an error.
pub fn read_list_records(document: &[u8], format: ImportFormat) -> Result<ListAnswer, String> {
    let root = Element::parse(document).map_err(|e| format!("the response is not XML: {e}"))?;
    if root.namespace != OAI || root.name != "OAI-PMH" {
        return Err(format!(
            "the response is not OAI-PMH: its root element is `{}`{}",
            root.name,
            if root.name.eq_ignore_ascii_case("html") {
                " (a web page)"
            } else {
                ""
            }
        ));
    }
    if let Some(error) = root.child("error") {
        let code = error.attribute("code").unwrap_or_default().to_owned();
        if code == ErrorCode::NoRecordsMatch.code() {
            return Ok(ListAnswer::NoRecords);
        }
        return Ok(ListAnswer::Error {
            code,
            message: error.value().unwrap_or_default().to_owned(),
        });
    }
    let list = root
        .child("ListRecords")
        .ok_or("the response has neither ListRecords nor an error")?;
    let records = list
        .children("record")
        .map(|record| {
            let header = record.child("header");
            let identifier = header
                .and_then(|h| h.child("identifier"))
                .and_then(Element::value)
                .unwrap_or_default()
                .to_owned();
            let deleted = header.and_then(|h| h.attribute("status")) == Some("deleted");
            let metadata = if deleted {
                None
            } else {
                Some(
                    match record.child("metadata").and_then(|m| m.children.first()) {
                        Some(element) => read_element(format, element),
                        None => Err(format!("`{identifier}` has no metadata")),
                    },
                )
            };
            ListedRecord {
                identifier,
                record: metadata,
            }
        })
        .collect();
    let token = list
        .child("resumptionToken")
        .and_then(Element::value)
        .map(str::to_owned);
    Ok(ListAnswer::Page { records, token })
}
