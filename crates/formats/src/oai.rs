//! OAI-PMH 2.0 responses: the envelope, the six verbs' bodies, errors, and the records in the metadata
//! formats offered (`oai_dc`, Dublin Core; `dcat`, DCAT-AP RDF/XML; `iso19139`). What to list, and whether a
//! caller may see it, is decided before anything reaches this module.

use std::io;

use time::OffsetDateTime;
use time::macros::format_description;
use uuid::Uuid;

use crate::dcat::Site;
use crate::format::{Format, Record};
use crate::import::{ForeignRecord, ImportFormat, read_element};
use crate::xml::Element;
use crate::xml::Xml;

const OAI: &str = "http://www.openarchives.org/OAI/2.0/";
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
const OAI_SCHEMA: &str =
    "http://www.openarchives.org/OAI/2.0/ http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd";

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
    Live(Record<'a>),
    Deleted {
        id: Uuid,
        organisation: &'a str,
        deleted_at: OffsetDateTime,
    },
}

impl Item<'_> {
    fn id(&self) -> Uuid {
        match self {
            Self::Live(record) => record.dataset.id,
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
        for oai in Format::oai_formats() {
            self.xml
                .open("metadataFormat", &[])
                .leaf("metadataPrefix", &[], oai.prefix)
                .leaf("schema", &[], oai.schema)
                .leaf("metadataNamespace", &[], oai.namespace)
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

    /// A record: its header and, unless it was deleted, its metadata in `format` (one of
    /// [`Format::oai_formats`]).
    pub fn record(&mut self, item: &Item<'_>, format: &Format) -> io::Result<()> {
        self.xml.open("record", &[]);
        self.write_header(item);
        if let Item::Live(record) = item {
            let document = String::from_utf8(format.write(record)?).map_err(io::Error::other)?;
            let metadata = document
                .strip_prefix("<?xml")
                .and_then(|rest| rest.split_once("?>"))
                .map_or(document.as_str(), |(_, rest)| rest);
            self.xml.open("metadata", &[]).raw(metadata.trim()).close();
        }
        self.xml.close();
        Ok(())
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
            Item::Live(Record { dataset, .. }) => (
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
