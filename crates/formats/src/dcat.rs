//! DCAT-AP 3.0: a dataset, its distributions and the catalogue as RDF, one record at a time, so a
//! catalogue of any size is written with the memory of one record.
//!
//! The mapping (also in `docs/standards.md`): a dataset is a `dcat:Dataset` at its API address, with
//! its publisher (`foaf:Agent`, the organisation), contact points (`vcard:Kind`), creators, spatial
//! extent (`dct:Location` with `dcat:bbox` as WKT and its geometry as GeoJSON), temporal extent
//! (`dct:PeriodOfTime`), licence (`dct:LicenseDocument`, SPDX identifiers as SPDX IRIs), themes
//! (`skos:Concept`), keywords, languages (EU language authority), persistent identifiers
//! (`adms:Identifier`) and access rights (EU access-right authority, from the security label). Each
//! node the shapes constrain by class is typed, so the output passes the shapes' range checks too.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, LazyLock, Mutex, PoisonError, RwLock};

use fathom_model::{AccessRights, Dataset, Distribution, Organisation, Spatial};
use oxrdf::vocab::{rdf, rdfs, xsd};
use oxrdf::{
    BlankNode, Literal, NamedNode, NamedNodeRef, NamedOrBlankNode as Node, Term, TripleRef,
};
use oxrdfio::{RdfFormat, RdfSerializer, WriterQuadSerializer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::RdfSyntax;
use crate::format::{Format, OaiFormat, Record, Writer};

const DCAT: &str = "http://www.w3.org/ns/dcat#";
const DCT: &str = "http://purl.org/dc/terms/";
const FOAF: &str = "http://xmlns.com/foaf/0.1/";
const VCARD: &str = "http://www.w3.org/2006/vcard/ns#";
const ADMS: &str = "http://www.w3.org/ns/adms#";
const SPDX: &str = "http://spdx.org/rdf/terms#";
const SKOS: &str = "http://www.w3.org/2004/02/skos/core#";
const GSP: &str = "http://www.opengis.net/ont/geosparql#";
const HYDRA: &str = "http://www.w3.org/ns/hydra/core#";

const PREFIXES: [(&str, &str); 12] = [
    ("dcat", DCAT),
    ("dct", DCT),
    ("foaf", FOAF),
    ("vcard", VCARD),
    ("adms", ADMS),
    ("spdx", SPDX),
    ("skos", SKOS),
    ("gsp", GSP),
    ("hydra", HYDRA),
    ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
    ("rdfs", "http://www.w3.org/2000/01/rdf-schema#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
];

const ACCESS_RIGHT: &str = "http://publications.europa.eu/resource/authority/access-right/";
const LANGUAGE: &str = "http://publications.europa.eu/resource/authority/language/";
const FILE_TYPE: &str = "http://publications.europa.eu/resource/authority/file-type/";
const DATA_THEME: &str = "http://publications.europa.eu/resource/authority/data-theme/";
const MEDIA_TYPES: &str = "http://www.iana.org/assignments/media-types/";
const SPDX_LICENCES: &str = "http://spdx.org/licenses/";

/// DCAT-AP in Turtle, JSON-LD, RDF/XML and N-Triples; RDF/XML is OAI-PMH's `dcat`.
pub const TURTLE: Format = rdf(RdfSyntax::Turtle, None);
pub const JSON_LD: Format = rdf(RdfSyntax::JsonLd, None);
pub const RDF_XML: Format = rdf(
    RdfSyntax::RdfXml,
    Some(OaiFormat {
        prefix: "dcat",
        schema: "http://www.w3.org/2000/07/rdf.xsd",
        namespace: "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    }),
);
pub const N_TRIPLES: Format = rdf(RdfSyntax::NTriples, None);

const fn rdf(syntax: RdfSyntax, oai: Option<OaiFormat>) -> Format {
    Format {
        name: syntax.name(),
        media_type: syntax.media_type(),
        extension: syntax.name(),
        writer: Writer::Rdf(syntax),
        oai,
    }
}

/// What the catalogue says of itself, and where it is published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The public address of the server, without a trailing slash: every IRI starts with it.
    pub base: String,
    pub title: String,
    pub description: String,
    /// The name of the organisation that runs the catalogue.
    pub publisher: String,
    /// Where to write to the people who run it (OAI-PMH's `adminEmail`).
    pub email: String,
}

impl Default for Site {
    fn default() -> Self {
        Self {
            base: "http://localhost:8080".to_owned(),
            title: "Fathom catalogue".to_owned(),
            description: "Datasets of maritime research.".to_owned(),
            publisher: "Fathom".to_owned(),
            email: "catalogue@fathom.localhost".to_owned(),
        }
    }
}

impl Site {
    pub fn catalog_iri(&self) -> String {
        format!("{}/api/v1/catalog", self.base)
    }

    pub fn dataset_iri(&self, id: Uuid) -> String {
        format!("{}/api/v1/datasets/{id}", self.base)
    }

    fn organisation_iri(&self, slug: &str) -> String {
        format!("{}/api/v1/organisations/{slug}", self.base)
    }
}

/// One page of the catalogue, as a Hydra partial collection view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageView {
    /// This page's address.
    pub this: String,
    pub first: String,
    pub next: Option<String>,
}

/// Writes DCAT-AP in one RDF syntax. What is written so far is taken with [`DcatWriter::take`], so a
/// response streams as the records are written.
pub struct DcatWriter {
    /// The serializers write in small pieces: a buffer in front keeps the shared one's lock out of
    /// every piece (it is taken once per 64 KiB).
    serializer: WriterQuadSerializer<io::BufWriter<SharedBuffer>>,
    buffer: SharedBuffer,
    record: Triples,
}

/// The triples of the record being written: subjects once, triples by subject index.
#[derive(Default)]
struct Triples {
    subjects: Vec<Node>,
    triples: Vec<(usize, NamedNodeRef<'static>, Term)>,
}

impl std::fmt::Debug for DcatWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DcatWriter").finish_non_exhaustive()
    }
}

impl DcatWriter {
    pub fn new(syntax: RdfSyntax) -> Self {
        let mut serializer = RdfSerializer::from_format(RdfFormat::from(syntax));
        for (prefix, iri) in PREFIXES {
            serializer = serializer
                .with_prefix(prefix, iri)
                .unwrap_or_else(|_| RdfSerializer::from_format(RdfFormat::from(syntax)));
        }
        let buffer = SharedBuffer::default();
        Self {
            serializer: serializer
                .for_writer(io::BufWriter::with_capacity(1 << 16, buffer.clone())),
            buffer,
            record: Triples::default(),
        }
    }

    /// The catalogue itself, its publisher and, for a page, the page's Hydra view.
    pub fn catalogue(&mut self, site: &Site, view: Option<&PageView>) -> io::Result<()> {
        let node = Node::from(iri(&site.catalog_iri()));
        let publisher = Node::from(iri(&format!("{}#publisher", site.catalog_iri())));
        let mut graph = Graph(&mut self.record);
        graph.class(&node, ns(DCAT, "Catalog"));
        graph.literal(&node, ns(DCT, "title"), &site.title);
        graph.literal(&node, ns(DCT, "description"), &site.description);
        graph.link(&node, ns(DCT, "publisher"), &publisher);
        graph.class(&publisher, ns(FOAF, "Agent"));
        graph.literal(&publisher, ns(FOAF, "name"), &site.publisher);
        if let Some(view) = view {
            let page = Node::from(iri(&view.this));
            graph.link(&node, ns(HYDRA, "view"), &page);
            graph.class(&page, ns(HYDRA, "PartialCollectionView"));
            graph.link(&page, ns(HYDRA, "first"), &Node::from(iri(&view.first)));
            if let Some(next) = &view.next {
                graph.link(&page, ns(HYDRA, "next"), &Node::from(iri(next)));
            }
        }
        self.flush()
    }

    /// A dataset with its distributions and the nodes they refer to; `in_catalogue` links it from the
    /// catalogue.
    pub fn dataset(&mut self, record: &Record<'_>, in_catalogue: bool) -> io::Result<()> {
        describe(&mut self.record, record, in_catalogue);
        self.flush()
    }

    /// The bytes written since the last call (up to 64 KiB may still be held until the next).
    pub fn take(&mut self) -> Vec<u8> {
        self.buffer.take()
    }

    /// Ends the document and returns its last bytes.
    pub fn finish(self) -> io::Result<Vec<u8>> {
        let buffer = self.buffer.clone();
        let mut held = self.serializer.finish()?;
        io::Write::flush(&mut held)?;
        drop(held);
        Ok(buffer.take())
    }

    /// Writes the record's triples grouped by subject, in the order the subjects came, so that
    /// Turtle and RDF/XML state each node once.
    fn flush(&mut self) -> io::Result<()> {
        let Triples { subjects, triples } = &mut self.record;
        triples.sort_by_key(|(subject, _, _)| *subject);
        for (subject, predicate, object) in triples.drain(..) {
            let triple = TripleRef::new(&subjects[subject], predicate, &object);
            self.serializer.serialize_triple(triple)?;
        }
        subjects.clear();
        Ok(())
    }
}

/// The triples of a dataset (as [`DcatWriter::dataset`] writes them), for a graph store.
pub fn dataset_triples(record: &Record<'_>) -> Vec<oxrdf::Triple> {
    let mut gathered = Triples::default();
    describe(&mut gathered, record, false);
    let Triples { subjects, triples } = gathered;
    triples
        .into_iter()
        .map(|(subject, predicate, object)| {
            oxrdf::Triple::new(subjects[subject].clone(), predicate.into_owned(), object)
        })
        .collect()
}

/// Gathers a dataset's triples with its distributions and the nodes they refer to; `in_catalogue`
/// links it from the catalogue.
fn describe(triples: &mut Triples, record: &Record<'_>, in_catalogue: bool) {
    let Record {
        site,
        dataset,
        publisher,
        access_rights,
    } = *record;
    let metadata = &dataset.metadata;
    let node = Node::from(iri(&site.dataset_iri(dataset.id)));
    let mut graph = Graph(triples);
    if in_catalogue {
        graph.link(
            &Node::from(iri(&site.catalog_iri())),
            ns(DCAT, "dataset"),
            &node,
        );
    }
    graph.class(&node, ns(DCAT, "Dataset"));
    graph.literal(&node, ns(DCT, "identifier"), &dataset.id.to_string());
    graph.literal(&node, ns(DCT, "title"), &metadata.title);
    graph.literal(
        &node,
        ns(DCT, "description"),
        description(&metadata.description, &metadata.title),
    );
    graph.add(
        &node,
        ns(DCT, "issued"),
        date_literal(metadata.issued.as_deref(), dataset.created_at),
    );
    graph.add(
        &node,
        ns(DCT, "modified"),
        date_literal(metadata.modified.as_deref(), dataset.updated_at),
    );

    let organisation = Node::from(iri(&site.organisation_iri(metadata.organisation.as_str())));
    graph.link(&node, ns(DCT, "publisher"), &organisation);
    graph.class(&organisation, ns(FOAF, "Agent"));
    graph.class(&organisation, ns(FOAF, "Organization"));
    graph.literal(
        &organisation,
        ns(FOAF, "name"),
        publisher_name(dataset, publisher),
    );

    for keyword in &metadata.keywords {
        graph.literal(&node, ns(DCAT, "keyword"), keyword);
    }
    for theme in &metadata.themes {
        let Some(theme) = checked_iri(theme.as_str()) else {
            continue;
        };
        let concept = Node::from(theme.clone());
        graph.add(&node, ns(DCAT, "theme"), theme.clone());
        graph.class(&concept, ns(SKOS, "Concept"));
        graph.literal(
            &concept,
            ns(SKOS, "prefLabel"),
            &theme_label(theme.as_str()),
        );
    }
    for contact in &metadata.contact_points {
        let kind = Node::from(BlankNode::default());
        graph.link(&node, ns(DCAT, "contactPoint"), &kind);
        graph.class(&kind, ns(VCARD, "Kind"));
        graph.literal(&kind, ns(VCARD, "fn"), &contact.name);
        if let Some(email) = contact.email.as_deref().and_then(mailto) {
            graph.add(&kind, ns(VCARD, "hasEmail"), email);
        }
        if let Some(role) = &contact.role {
            graph.literal(&kind, ns(VCARD, "role"), role);
        }
    }
    for creator in &metadata.creators {
        let agent = Node::from(BlankNode::default());
        graph.link(&node, ns(DCT, "creator"), &agent);
        graph.class(&agent, ns(FOAF, "Agent"));
        graph.literal(&agent, ns(FOAF, "name"), &creator.name);
        if let Some(email) = creator.email.as_deref().and_then(mailto) {
            graph.add(&agent, ns(FOAF, "mbox"), email);
        }
    }
    if let Some(temporal) = &metadata.temporal {
        let period = Node::from(BlankNode::default());
        graph.link(&node, ns(DCT, "temporal"), &period);
        graph.class(&period, ns(DCT, "PeriodOfTime"));
        if let Some(start) = temporal.start {
            graph.add(&period, ns(DCAT, "startDate"), date_time(start));
        }
        if let Some(end) = temporal.end {
            graph.add(&period, ns(DCAT, "endDate"), date_time(end));
        }
    }
    if let Some(spatial) = &metadata.spatial {
        let location = Node::from(BlankNode::default());
        graph.link(&node, ns(DCT, "spatial"), &location);
        graph.class(&location, ns(DCT, "Location"));
        spatial_literals(&mut graph, &location, spatial);
    }
    for language in &metadata.language {
        let linguistic = Node::from(language_iri(language.as_str()));
        graph.link(&node, ns(DCT, "language"), &linguistic);
        graph.class(&linguistic, ns(DCT, "LinguisticSystem"));
    }
    if let Some(licence) = metadata.license.as_deref().and_then(licence_iri) {
        licence_of(&mut graph, &node, licence);
    }
    let rights = Node::from(iri(&access_right_iri(access_rights)));
    graph.link(&node, ns(DCT, "accessRights"), &rights);
    graph.class(&rights, ns(DCT, "RightsStatement"));
    if let Some(version) = &metadata.version {
        graph.literal(&node, ns(DCAT, "version"), version);
    }
    if let Some(page) = metadata
        .landing_page
        .as_ref()
        .and_then(|p| checked_iri(p.as_str()))
    {
        let page = Node::from(page);
        graph.link(&node, ns(DCAT, "landingPage"), &page);
        graph.class(&page, ns(FOAF, "Document"));
    }
    for identifier in &metadata.identifiers {
        let id = Node::from(BlankNode::default());
        graph.link(&node, ns(ADMS, "identifier"), &id);
        graph.class(&id, ns(ADMS, "Identifier"));
        graph.literal(&id, ns(SKOS, "notation"), identifier);
    }
    for distribution in &metadata.distributions {
        let dist = Node::from(iri(&format!(
            "{}/distributions/{}",
            site.dataset_iri(dataset.id),
            distribution.id
        )));
        graph.link(&node, ns(DCAT, "distribution"), &dist);
        distribution_triples(&mut graph, &dist, distribution);
    }
}

fn distribution_triples(graph: &mut Graph<'_>, node: &Node, distribution: &Distribution) {
    graph.class(node, ns(DCAT, "Distribution"));
    if !distribution.title.is_empty() {
        graph.literal(node, ns(DCT, "title"), &distribution.title);
    }
    if !distribution.description.is_empty() {
        graph.literal(node, ns(DCT, "description"), &distribution.description);
    }
    let resources = [
        ("accessURL", Some(&distribution.access_url)),
        ("downloadURL", distribution.download_url.as_ref()),
    ];
    for (property, url) in resources {
        if let Some(url) = url.and_then(|u| checked_iri(u.as_str())) {
            let resource = Node::from(url);
            graph.link(node, ns(DCAT, property), &resource);
            graph.class(&resource, rdfs::RESOURCE);
        }
    }
    if let Some(media_type) = distribution.media_type.as_deref().and_then(media_type_iri) {
        let media = Node::from(media_type);
        graph.link(node, ns(DCAT, "mediaType"), &media);
        graph.class(&media, ns(DCT, "MediaType"));
    }
    if let Some(format) = &distribution.format {
        let extent = match format_iri(format) {
            Some(format) => Node::from(format),
            None => {
                let extent = Node::from(BlankNode::default());
                graph.literal(&extent, rdfs::LABEL, format);
                extent
            }
        };
        graph.link(node, ns(DCT, "format"), &extent);
        graph.class(&extent, ns(DCT, "MediaTypeOrExtent"));
    }
    if let Some(size) = distribution.byte_size {
        graph.add(
            node,
            ns(DCAT, "byteSize"),
            Literal::new_typed_literal(size.to_string(), xsd::NON_NEGATIVE_INTEGER),
        );
    }
    if let Some(checksum) = &distribution.checksum {
        let sum = Node::from(BlankNode::default());
        graph.link(node, ns(SPDX, "checksum"), &sum);
        graph.class(&sum, ns(SPDX, "Checksum"));
        let algorithm = format!("checksumAlgorithm_{}", checksum_name(checksum.algorithm));
        let algorithm = Node::from(ns(SPDX, &algorithm).into_owned());
        graph.link(&sum, ns(SPDX, "algorithm"), &algorithm);
        graph.class(&algorithm, ns(SPDX, "ChecksumAlgorithm"));
        graph.add(
            &sum,
            ns(SPDX, "checksumValue"),
            Literal::new_typed_literal(&checksum.value, xsd::HEX_BINARY),
        );
    }
    if let Some(licence) = distribution.license.as_deref().and_then(licence_iri) {
        licence_of(graph, node, licence);
    }
}

fn licence_of(graph: &mut Graph<'_>, node: &Node, licence: NamedNode) {
    let document = Node::from(licence);
    graph.link(node, ns(DCT, "license"), &document);
    graph.class(&document, ns(DCT, "LicenseDocument"));
}

fn spatial_literals(graph: &mut Graph<'_>, location: &Node, spatial: &Spatial) {
    if let Some(bbox) = &spatial.bbox {
        let (w, s, e, n) = (bbox.west(), bbox.south(), bbox.east(), bbox.north());
        let polygon = |w: f64, e: f64| format!("(({w} {s}, {e} {s}, {e} {n}, {w} {n}, {w} {s}))");
        // A box across the antimeridian is two boxes in WKT, which has no wrap-around.
        let wkt = if bbox.crosses_antimeridian() {
            format!(
                "MULTIPOLYGON({}, {})",
                polygon(w, 180.0),
                polygon(-180.0, e)
            )
        } else {
            format!("POLYGON{}", polygon(w, e))
        };
        graph.add(
            location,
            ns(DCAT, "bbox"),
            Literal::new_typed_literal(wkt, ns(GSP, "wktLiteral")),
        );
    }
    if let Some(geometry) = &spatial.geometry {
        // Not `locn:geometry`: the release's two shape sets disagree on its range (a literal in
        // `html/shacl/shapes.ttl`, a `locn:Geometry` node in `shacl/dcat-ap-SHACL.ttl`), so no value
        // passes both. GeoSPARQL's own property carries the geometry instead.
        let node = Node::from(BlankNode::default());
        graph.link(location, ns(GSP, "hasGeometry"), &node);
        graph.class(&node, ns(GSP, "Geometry"));
        let geojson = Literal::new_typed_literal(geometry.to_string(), ns(GSP, "geoJSONLiteral"));
        graph.add(&node, ns(GSP, "asGeoJSON"), geojson);
    }
}

/// The name of a dataset's publisher: its organisation's, or the organisation's slug when the
/// organisation is not at hand.
pub(crate) fn publisher_name<'a>(
    dataset: &'a Dataset,
    publisher: Option<&'a Organisation>,
) -> &'a str {
    publisher.map_or(dataset.metadata.organisation.as_str(), |o| {
        o.details.name.as_str()
    })
}

/// The concept of the EU access-right authority for `rights`.
pub(crate) fn access_right_iri(rights: AccessRights) -> String {
    format!("{ACCESS_RIGHT}{}", rights.eu_code())
}

/// Triples being gathered for one record.
struct Graph<'a>(&'a mut Triples);

impl Graph<'_> {
    fn add(&mut self, subject: &Node, predicate: NamedNodeRef<'static>, object: impl Into<Term>) {
        let subjects = &mut self.0.subjects;
        let index = match subjects.iter().position(|s| s == subject) {
            Some(index) => index,
            None => {
                subjects.push(subject.clone());
                subjects.len() - 1
            }
        };
        self.0.triples.push((index, predicate, object.into()));
    }

    fn link(&mut self, subject: &Node, predicate: NamedNodeRef<'static>, object: &Node) {
        let object = match object {
            Node::NamedNode(node) => Term::from(node.clone()),
            Node::BlankNode(node) => Term::from(node.clone()),
        };
        self.add(subject, predicate, object);
    }

    fn literal(&mut self, subject: &Node, predicate: NamedNodeRef<'static>, value: &str) {
        self.add(subject, predicate, Literal::new_simple_literal(value));
    }

    fn class(&mut self, subject: &Node, class: NamedNodeRef<'static>) {
        self.add(subject, rdf::TYPE, class.into_owned());
    }
}

/// A term of a vocabulary, made once for the life of the process (the vocabularies are small and
/// fixed), so that writing a record allocates nothing for its predicates and classes.
fn ns(namespace: &'static str, local: &str) -> NamedNodeRef<'static> {
    static TERMS: LazyLock<RwLock<HashMap<&'static str, HashMap<String, &'static str>>>> =
        LazyLock::new(RwLock::default);
    let known = TERMS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(namespace)
        .and_then(|terms| terms.get(local).copied());
    let iri = known.unwrap_or_else(|| {
        let mut terms = TERMS.write().unwrap_or_else(PoisonError::into_inner);
        let terms = terms.entry(namespace).or_default();
        terms
            .entry(local.to_owned())
            .or_insert_with(|| Box::leak(format!("{namespace}{local}").into_boxed_str()))
    });
    NamedNodeRef::new_unchecked(iri)
}

/// An IRI this module made from parts known to be valid.
fn iri(value: &str) -> NamedNode {
    NamedNode::new_unchecked(value)
}

/// A publisher's IRI, when it is one by RFC 3987 (the model's check is looser).
fn checked_iri(value: &str) -> Option<NamedNode> {
    NamedNode::new(value).ok()
}

fn mailto(email: &str) -> Option<NamedNode> {
    checked_iri(&format!("mailto:{email}"))
}

/// DCAT-AP asks for a description; a dataset without one is described by its title.
fn description<'a>(description: &'a str, title: &'a str) -> &'a str {
    if description.trim().is_empty() {
        title
    } else {
        description
    }
}

/// A date as given (`xsd:date` for `YYYY-MM-DD`, else `xsd:dateTime`), or the record's own time.
fn date_literal(given: Option<&str>, fallback: OffsetDateTime) -> Literal {
    match given {
        Some(date) if date.len() == 10 => Literal::new_typed_literal(date, xsd::DATE),
        Some(date_time) => Literal::new_typed_literal(date_time, xsd::DATE_TIME),
        None => self::date_time(fallback),
    }
}

fn date_time(at: OffsetDateTime) -> Literal {
    let text = at.format(&Rfc3339).unwrap_or_default();
    Literal::new_typed_literal(text, xsd::DATE_TIME)
}

/// An SPDX identifier as its SPDX IRI, or the licence IRI given.
fn licence_iri(licence: &str) -> Option<NamedNode> {
    if licence.contains(':') {
        checked_iri(licence)
    } else {
        checked_iri(&format!("{SPDX_LICENCES}{licence}"))
    }
}

fn media_type_iri(media_type: &str) -> Option<NamedNode> {
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let (kind, subtype) = essence.split_once('/')?;
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    (token(kind) && token(subtype)).then(|| iri(&format!("{MEDIA_TYPES}{kind}/{subtype}")))
}

/// A format name as its EU file-type concept when there is one, or the format IRI given.
fn format_iri(format: &str) -> Option<NamedNode> {
    if format.contains("://") {
        return checked_iri(format);
    }
    let code = match format.trim().to_ascii_uppercase().as_str() {
        "CSV" => "CSV",
        "JSON" => "JSON",
        "GEOJSON" => "GEOJSON",
        "XML" => "XML",
        "NETCDF" | "NC" => "NETCDF",
        "HDF" | "HDF5" => "HDF",
        "PDF" => "PDF",
        "ZIP" => "ZIP",
        "TIFF" | "TIF" => "TIFF",
        "GEOTIFF" => "GEOTIFF",
        "HTML" => "HTML",
        "TXT" | "TEXT" => "TXT",
        "SHP" | "SHAPEFILE" => "SHP",
        "KML" => "KML",
        "GML" => "GML",
        "GRIB" => "GRIB",
        "PARQUET" => "PARQUET",
        _ => return None,
    };
    Some(iri(&format!("{FILE_TYPE}{code}")))
}

/// The EU language authority's concept for a BCP 47 tag's language, or the Library of Congress's
/// ISO 639-1 concept for a language the table does not list.
fn language_iri(tag: &str) -> NamedNode {
    let primary = tag.split('-').next().unwrap_or(tag);
    match eu_language(primary) {
        Some(code) => iri(&format!("{LANGUAGE}{code}")),
        None => iri(&format!("http://id.loc.gov/vocabulary/iso639-1/{primary}")),
    }
}

/// The ISO 639-2 code of a BCP 47 tag's language (the EU authority's codes are ISO 639-2/T in upper
/// case), or its primary subtag for a language the table does not list.
pub(crate) fn language_code(tag: &str) -> String {
    let primary = tag.split('-').next().unwrap_or(tag);
    eu_language(primary).map_or_else(|| primary.to_owned(), str::to_ascii_lowercase)
}

/// The EU language authority's code of an ISO 639-1 language: the languages of Europe.
fn eu_language(primary: &str) -> Option<&'static str> {
    Some(match primary {
        "bg" => "BUL",
        "cs" => "CES",
        "da" => "DAN",
        "de" => "DEU",
        "el" => "ELL",
        "en" => "ENG",
        "es" => "SPA",
        "et" => "EST",
        "fi" => "FIN",
        "fr" => "FRA",
        "ga" => "GLE",
        "hr" => "HRV",
        "hu" => "HUN",
        "is" => "ISL",
        "it" => "ITA",
        "lt" => "LIT",
        "lv" => "LAV",
        "mt" => "MLT",
        "nl" => "NLD",
        "no" | "nb" => "NOR",
        "nn" => "NNO",
        "pl" => "POL",
        "pt" => "POR",
        "ro" => "RON",
        "sk" => "SLK",
        "sl" => "SLV",
        "sq" => "SQI",
        "sv" => "SWE",
        "tr" => "TUR",
        _ => return None,
    })
}

/// A theme's label: the EU data theme's English label, or the last segment of its IRI.
pub(crate) fn theme_label(theme: &str) -> String {
    let label = match theme.strip_prefix(DATA_THEME) {
        Some("AGRI") => "Agriculture, fisheries, forestry and food",
        Some("ECON") => "Economy and finance",
        Some("EDUC") => "Education, culture and sport",
        Some("ENER") => "Energy",
        Some("ENVI") => "Environment",
        Some("GOVE") => "Government and public sector",
        Some("HEAL") => "Health",
        Some("INTR") => "International issues",
        Some("JUST") => "Justice, legal system and public safety",
        Some("REGI") => "Regions and cities",
        Some("SOCI") => "Population and society",
        Some("TECH") => "Science and technology",
        Some("TRAN") => "Transport",
        _ => theme
            .trim_end_matches('/')
            .rsplit(['/', '#'])
            .next()
            .unwrap_or(theme),
    };
    label.to_owned()
}

fn checksum_name(algorithm: fathom_model::ChecksumAlgorithm) -> &'static str {
    use fathom_model::ChecksumAlgorithm::*;
    match algorithm {
        Md5 => "md5",
        Sha1 => "sha1",
        Sha256 => "sha256",
        Sha512 => "sha512",
    }
}

/// The serializer's output, shared so that it can be taken while the serializer lives on.
#[derive(Debug, Clone, Default)]
struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl SharedBuffer {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl io::Write for SharedBuffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use fathom_model::{DatasetInput, DatasetState, Policy};
    use oxrdfio::RdfParser;

    use super::*;

    fn dataset(spatial: serde_json::Value) -> Dataset {
        let input: DatasetInput = serde_json::from_value(serde_json::json!({
            "title": "CTD casts",
            "organisation": "cmre",
            "keywords": ["CTD"],
            "themes": ["http://publications.europa.eu/resource/authority/data-theme/ENVI"],
            "contact_points": [{"name": "Data Desk", "email": "data@example.org"}],
            "creators": [{"name": "A. Researcher"}],
            "issued": "2024-05-01",
            "modified": "2024-06-01T10:00:00Z",
            "temporal": {"start": "2024-04-01T00:00:00Z"},
            "spatial": spatial,
            "language": ["nb-NO", "xx"],
            "license": "CC-BY-4.0",
            "access_rights": "restricted",
            "identifiers": ["doi:10.1234/ctd"],
            "distributions": [{
                "access_url": "https://data.example.org/ctd.nc",
                "media_type": "application/x-netcdf",
                "format": "Zarr",
                "byte_size": 1024,
                "checksum": {"algorithm": "sha256", "value": "a".repeat(64)}
            }]
        }))
        .unwrap();
        let draft = input
            .parse(&Policy::default_policy(), Uuid::now_v7)
            .unwrap();
        Dataset::new(
            draft.metadata,
            DatasetState::Published,
            OffsetDateTime::now_utc(),
        )
    }

    /// Writes `dataset` in `syntax` and parses it back as N-Triples lines, sorted, with blank node
    /// labels replaced so that syntaxes can be compared.
    fn round_trip(syntax: RdfSyntax, dataset: &Dataset) -> Vec<String> {
        let mut writer = DcatWriter::new(syntax);
        let record = Record {
            site: &Site::default(),
            dataset,
            publisher: None,
            access_rights: AccessRights::Restricted,
        };
        writer.dataset(&record, false).unwrap();
        let bytes = writer.finish().unwrap();
        let mut lines: Vec<String> = RdfParser::from_format(RdfFormat::from(syntax))
            .for_slice(&bytes)
            .map(|quad| {
                let triple = oxrdf::Triple::from(quad.unwrap());
                let blank = |text: String| {
                    if text.starts_with("_:") {
                        "_:b".to_owned()
                    } else {
                        text
                    }
                };
                format!(
                    "{} {} {}",
                    blank(triple.subject.to_string()),
                    triple.predicate,
                    blank(triple.object.to_string())
                )
            })
            .collect();
        lines.sort();
        lines
    }

    #[test]
    fn every_syntax_carries_the_same_triples() {
        let dataset = dataset(serde_json::json!({"bbox": [8.0, 43.0, 10.0, 44.5]}));
        let turtle = round_trip(RdfSyntax::Turtle, &dataset);
        assert!(turtle.len() > 40, "{turtle:#?}");
        for syntax in [RdfSyntax::NTriples, RdfSyntax::RdfXml, RdfSyntax::JsonLd] {
            assert_eq!(round_trip(syntax, &dataset), turtle, "{syntax:?}");
        }
    }

    #[test]
    fn the_mapping_names_each_field_in_dcat_ap_terms() {
        let dataset = dataset(serde_json::json!({
            "bbox": [170.0, -20.0, -170.0, 10.0],
            "geometry": {"type": "Point", "coordinates": [175.0, -5.0]}
        }));
        let triples = round_trip(RdfSyntax::NTriples, &dataset).join("\n");
        let expected = [
            "<http://purl.org/dc/terms/issued> \"2024-05-01\"^^<http://www.w3.org/2001/XMLSchema#date>",
            "<http://purl.org/dc/terms/modified> \"2024-06-01T10:00:00Z\"^^<http://www.w3.org/2001/XMLSchema#dateTime>",
            "<http://purl.org/dc/terms/publisher> <http://localhost:8080/api/v1/organisations/cmre>",
            // Two boxes: WKT has no wrap-around at the antimeridian.
            "\"MULTIPOLYGON(((170 -20, 180 -20, 180 10, 170 10, 170 -20)), ((-180 -20, -170 -20, -170 10, -180 10, -180 -20)))\"^^<http://www.opengis.net/ont/geosparql#wktLiteral>",
            "<http://www.opengis.net/ont/geosparql#asGeoJSON> \"{\\\"coordinates\\\":[175.0,-5.0],\\\"type\\\":\\\"Point\\\"}\"",
            "<http://purl.org/dc/terms/language> <http://publications.europa.eu/resource/authority/language/NOR>",
            "<http://purl.org/dc/terms/language> <http://id.loc.gov/vocabulary/iso639-1/xx>",
            "<http://purl.org/dc/terms/license> <http://spdx.org/licenses/CC-BY-4.0>",
            "<http://purl.org/dc/terms/accessRights> <http://publications.europa.eu/resource/authority/access-right/RESTRICTED>",
            "<http://www.w3.org/2004/02/skos/core#prefLabel> \"Environment\"",
            "<http://www.w3.org/2006/vcard/ns#hasEmail> <mailto:data@example.org>",
            "<http://www.w3.org/2004/02/skos/core#notation> \"doi:10.1234/ctd\"",
            "<http://www.w3.org/ns/dcat#mediaType> <http://www.iana.org/assignments/media-types/application/x-netcdf>",
            "<http://www.w3.org/2000/01/rdf-schema#label> \"Zarr\"",
            "<http://www.w3.org/ns/dcat#byteSize> \"1024\"^^<http://www.w3.org/2001/XMLSchema#nonNegativeInteger>",
            "<http://spdx.org/rdf/terms#algorithm> <http://spdx.org/rdf/terms#checksumAlgorithm_sha256>",
            // A dataset without a description is described by its title.
            "<http://purl.org/dc/terms/description> \"CTD casts\"",
        ];
        for triple in expected {
            assert!(triples.contains(triple), "missing {triple} in\n{triples}");
        }
    }

    #[test]
    fn a_page_names_the_catalogue_and_its_next_page() {
        let site = Site::default();
        let mut writer = DcatWriter::new(RdfSyntax::NTriples);
        let dataset = dataset(serde_json::json!({"bbox": [8.0, 43.0, 10.0, 44.5]}));
        let record = Record {
            site: &site,
            dataset: &dataset,
            publisher: None,
            access_rights: AccessRights::Public,
        };
        writer.dataset(&record, true).unwrap();
        let view = PageView {
            this: format!("{}?limit=1", site.catalog_iri()),
            first: format!("{}?limit=1", site.catalog_iri()),
            next: Some(format!("{}?limit=1&cursor=abc", site.catalog_iri())),
        };
        writer.catalogue(&site, Some(&view)).unwrap();
        let text = String::from_utf8(writer.finish().unwrap()).unwrap();
        let catalog = format!("<{}>", site.catalog_iri());
        for line in [
            format!(
                "{catalog} <http://www.w3.org/ns/dcat#dataset> <{}>",
                site.dataset_iri(dataset.id)
            ),
            format!(
                "{catalog} <http://www.w3.org/ns/hydra/core#view> <{}>",
                view.this
            ),
            format!(
                "<{}> <http://www.w3.org/ns/hydra/core#next> <{}>",
                view.this,
                view.next.unwrap()
            ),
        ] {
            assert!(text.contains(&line), "missing {line} in\n{text}");
        }
    }
}
