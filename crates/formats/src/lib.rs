//! The standards the catalogue speaks, written and read without I/O: DCAT-AP as RDF in its usual
//! syntaxes, ISO 19139, OAI-PMH with Dublin Core, schema.org, DCMI terms; and records of other
//! catalogues read into Fathom's terms (`import`). The formats a dataset is written in are listed
//! once, in [`FORMATS`]; the API negotiates which one a client gets and streams what they write.

pub mod dcat;
pub mod dcterms;
mod format;
pub mod import;
pub mod iso;
pub mod oai;
mod oai_dc;
pub mod odrl;
pub mod schema_org;
pub mod skos;
mod xml;

pub use dcat::{DcatWriter, PageView, Site};
pub use format::{FORMATS, Format, OaiFormat, Record, Writer};

/// The RDF syntaxes served, each with its media type and its short `format=` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RdfSyntax {
    Turtle,
    NTriples,
    RdfXml,
    JsonLd,
}

impl RdfSyntax {
    pub const ALL: [Self; 4] = [Self::Turtle, Self::JsonLd, Self::RdfXml, Self::NTriples];

    pub const fn media_type(self) -> &'static str {
        match self {
            Self::Turtle => "text/turtle",
            Self::NTriples => "application/n-triples",
            Self::RdfXml => "application/rdf+xml",
            Self::JsonLd => "application/ld+json",
        }
    }

    /// The value of `?format=` that asks for this syntax.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Turtle => "ttl",
            Self::NTriples => "nt",
            Self::RdfXml => "rdf",
            Self::JsonLd => "jsonld",
        }
    }

    pub fn from_media_type(media_type: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|syntax| syntax.media_type().eq_ignore_ascii_case(media_type))
    }
}

impl From<RdfSyntax> for oxrdfio::RdfFormat {
    fn from(syntax: RdfSyntax) -> Self {
        match syntax {
            RdfSyntax::Turtle => Self::Turtle,
            RdfSyntax::NTriples => Self::NTriples,
            RdfSyntax::RdfXml => Self::RdfXml,
            RdfSyntax::JsonLd => Self::JsonLd {
                profile: oxrdfio::JsonLdProfileSet::empty(),
            },
        }
    }
}
