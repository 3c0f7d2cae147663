//! The formats a dataset is written in, listed once. Content negotiation and `?format=` (the API),
//! OAI-PMH's `metadataPrefix` and `fathom export --format` all read [`FORMATS`]; adding a format is
//! a module with its writer and its [`Format`], and one line in that list.

use std::io;

use fathom_model::{AccessRights, Dataset, Organisation, Policy};

use crate::{DcatWriter, RdfSyntax, Site};

/// A dataset as a format writes it: the record, its publisher (when known), and the access rights the
/// policy gives its label (see `Policy::access_rights`).
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub site: &'a Site,
    pub dataset: &'a Dataset,
    pub publisher: Option<&'a Organisation>,
    pub access_rights: AccessRights,
}

impl<'a> Record<'a> {
    /// `dataset`, published by `publisher`, with the access rights `policy` gives its label.
    pub fn new(
        site: &'a Site,
        dataset: &'a Dataset,
        publisher: Option<&'a Organisation>,
        policy: &Policy,
    ) -> Self {
        let metadata = &dataset.metadata;
        Self {
            site,
            dataset,
            publisher,
            access_rights: policy.access_rights(&metadata.security_label, metadata.access_rights),
        }
    }
}

/// How a format writes records.
#[derive(Debug, Clone, Copy)]
pub enum Writer {
    /// Fathom's own JSON. Callers that hold a record's stored JSON serve it as it is.
    Native,
    /// DCAT-AP in an RDF syntax: a record alone, or a whole catalogue as one graph ([`DcatWriter`]).
    Rdf(RdfSyntax),
    /// A document per record.
    Document(fn(&Record<'_>) -> String),
}

/// How OAI-PMH names a format (`ListMetadataFormats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OaiFormat {
    pub prefix: &'static str,
    pub schema: &'static str,
    pub namespace: &'static str,
}

/// A format: its name (`?format=`, `fathom export --format`), its media type, the extension of its
/// files, its writer, and its OAI-PMH name when records are offered over OAI-PMH in it.
#[derive(Debug, Clone, Copy)]
pub struct Format {
    pub name: &'static str,
    pub media_type: &'static str,
    pub extension: &'static str,
    pub writer: Writer,
    pub oai: Option<OaiFormat>,
}

/// Every format, in the server's order of preference: where two share a media type, the first is
/// the one `Accept` chooses.
pub static FORMATS: [Format; 10] = [
    JSON,
    crate::dcat::TURTLE,
    crate::dcat::JSON_LD,
    crate::dcat::RDF_XML,
    crate::dcat::N_TRIPLES,
    crate::iso::FORMAT,
    crate::schema_org::FORMAT,
    crate::dcterms::XML,
    crate::dcterms::JSON,
    crate::oai_dc::FORMAT,
];

/// Fathom's own record.
pub const JSON: Format = Format {
    name: "json",
    media_type: "application/json",
    extension: "json",
    writer: Writer::Native,
    oai: None,
};

impl Format {
    /// The format of this name.
    pub fn named(name: &str) -> Option<&'static Self> {
        FORMATS.iter().find(|format| format.name == name)
    }

    /// The format OAI-PMH names so.
    pub fn of_oai_prefix(prefix: &str) -> Option<&'static Self> {
        FORMATS
            .iter()
            .find(|format| format.oai.is_some_and(|oai| oai.prefix == prefix))
    }

    /// How OAI-PMH names the formats it offers, in the list's order.
    pub fn oai_formats() -> impl Iterator<Item = OaiFormat> {
        FORMATS.iter().filter_map(|format| format.oai)
    }

    /// Whether a whole catalogue is one document in this format (DCAT-AP in RDF).
    pub fn is_catalogue(&self) -> bool {
        matches!(self.writer, Writer::Rdf(_))
    }

    /// One record as a whole document.
    pub fn write(&self, record: &Record<'_>) -> io::Result<Vec<u8>> {
        match self.writer {
            Writer::Native => Ok(serde_json::to_vec(record.dataset)?),
            Writer::Rdf(syntax) => {
                let mut writer = DcatWriter::new(syntax);
                writer.dataset(record, false)?;
                writer.finish()
            }
            Writer::Document(write) => Ok(write(record).into_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_oai_prefixes_are_each_listed_once() {
        for (i, format) in FORMATS.iter().enumerate() {
            assert!(
                FORMATS[..i].iter().all(|other| other.name != format.name),
                "{} is listed twice",
                format.name
            );
            assert!(std::ptr::eq(Format::named(format.name).unwrap(), format));
            if let Some(oai) = format.oai {
                assert!(std::ptr::eq(
                    Format::of_oai_prefix(oai.prefix).unwrap(),
                    format
                ));
            }
        }
        let prefixes: Vec<_> = Format::oai_formats().map(|oai| oai.prefix).collect();
        assert_eq!(prefixes, ["dcat", "iso19139", "oai_dc"]);
        assert!(Format::named("xls").is_none());
    }
}
