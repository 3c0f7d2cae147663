//! SKOS concept schemes read from RDF (Turtle, RDF/XML, N-Triples or JSON-LD): the scheme's title
//! and description, and each concept's labels per language, notation, definition, hierarchy and
//! matches. One scheme per document.

use std::collections::{BTreeMap, HashMap};

use fathom_model::{Concept, complete_hierarchy};
use oxrdf::{NamedOrBlankNode, Term};
use oxrdfio::{RdfFormat, RdfParser};

use crate::RdfSyntax;

const SKOS: &str = "http://www.w3.org/2004/02/skos/core#";
const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const DCT: &str = "http://purl.org/dc/terms/";
const DC: &str = "http://purl.org/dc/elements/1.1/";
const RDFS_LABEL: &str = "http://www.w3.org/2000/01/rdf-schema#label";
const RDFS_COMMENT: &str = "http://www.w3.org/2000/01/rdf-schema#comment";

/// A concept scheme as read from a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemeRead {
    pub iri: String,
    /// Per language tag (`""`: none).
    pub title: BTreeMap<String, String>,
    pub description: Option<String>,
    /// In the document's order of subjects, hierarchy completed.
    pub concepts: Vec<Concept>,
}

/// The statements about each subject named by an IRI.
type Statements = HashMap<String, Vec<(String, Term)>>;

/// Reads the one concept scheme of `document`; an error says what is wrong (not RDF, no scheme or
/// several, a cycle of broader concepts).
pub fn read_scheme(syntax: RdfSyntax, document: &[u8]) -> Result<SchemeRead, String> {
    let mut statements: Statements = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for quad in RdfParser::from_format(RdfFormat::from(syntax)).for_slice(document) {
        let quad = quad.map_err(|error| format!("the document is not valid RDF: {error}"))?;
        let NamedOrBlankNode::NamedNode(subject) = quad.subject else {
            continue;
        };
        let about = statements
            .entry(subject.into_string())
            .or_insert_with_key(|key| {
                order.push(key.clone());
                Vec::new()
            });
        about.push((quad.predicate.into_string(), quad.object));
    }
    let is_a = |subject: &str, class: &str| {
        statements.get(subject).is_some_and(|about| {
            about.iter().any(|(p, o)| {
                p == RDF_TYPE && matches!(o, Term::NamedNode(n) if n.as_str() == class)
            })
        })
    };
    let scheme_class = format!("{SKOS}ConceptScheme");
    let schemes: Vec<&String> = order.iter().filter(|s| is_a(s, &scheme_class)).collect();
    let iri = match schemes.as_slice() {
        [one] => (*one).clone(),
        [] => return Err("the document has no skos:ConceptScheme".to_owned()),
        many => {
            return Err(format!(
                "the document has {} concept schemes; import one at a time",
                many.len()
            ));
        }
    };
    let about_scheme = &statements[&iri];
    let title = literals(
        about_scheme,
        &[
            &format!("{DCT}title"),
            &format!("{DC}title"),
            &format!("{SKOS}prefLabel"),
            RDFS_LABEL,
        ],
    );
    let description = first_literal(
        about_scheme,
        &[
            &format!("{DCT}description"),
            &format!("{SKOS}definition"),
            RDFS_COMMENT,
        ],
    );
    let tops: std::collections::HashSet<String> =
        objects(about_scheme, &format!("{SKOS}hasTopConcept"))
            .into_iter()
            .collect();
    let concept_class = format!("{SKOS}Concept");
    let in_scheme = |about: &[(String, Term)]| {
        [format!("{SKOS}inScheme"), format!("{SKOS}topConceptOf")]
            .iter()
            .any(|p| objects(about, p).contains(&iri))
    };
    let mut concepts: Vec<Concept> = order
        .iter()
        .filter(|s| is_a(s, &concept_class) || in_scheme(&statements[*s]))
        .map(|subject| {
            let about = &statements[subject];
            let mut alt_label: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (lang, label) in all_literals(about, &format!("{SKOS}altLabel")) {
                alt_label.entry(lang).or_default().push(label);
            }
            Concept {
                iri: subject.clone(),
                notation: first_literal(about, &[&format!("{SKOS}notation")]),
                pref_label: literals(about, &[&format!("{SKOS}prefLabel")]),
                alt_label,
                definition: first_literal(about, &[&format!("{SKOS}definition")]),
                broader: objects(about, &format!("{SKOS}broader")),
                narrower: objects(about, &format!("{SKOS}narrower")),
                exact_match: objects(about, &format!("{SKOS}exactMatch")),
                top: tops.contains(subject)
                    || objects(about, &format!("{SKOS}topConceptOf")).contains(&iri),
            }
        })
        .collect();
    if concepts.is_empty() {
        return Err(format!("the scheme <{iri}> has no concepts"));
    }
    let unfit = |text: &str| text.len() > 1_000 || text.contains('\0');
    let unfit_concept = concepts.iter().find(|c| {
        unfit(&c.iri)
            || c.names().iter().any(|n| unfit(n))
            || c.definition.as_deref().is_some_and(|d| d.contains('\0'))
    });
    if let Some(concept) = unfit_concept {
        return Err(format!(
            "<{}> has a label, notation or IRI longer than 1000 bytes or with a NUL character",
            concept.iri
        ));
    }
    complete_hierarchy(&mut concepts)?;
    Ok(SchemeRead {
        iri,
        title,
        description,
        concepts,
    })
}

/// The IRIs `predicate` points at.
fn objects(about: &[(String, Term)], predicate: &str) -> Vec<String> {
    about
        .iter()
        .filter(|(p, _)| p == predicate)
        .filter_map(|(_, o)| match o {
            Term::NamedNode(n) => Some(n.as_str().to_owned()),
            _ => None,
        })
        .collect()
}

/// Every literal of `predicate`, with its language tag (`""`: none).
fn all_literals(about: &[(String, Term)], predicate: &str) -> Vec<(String, String)> {
    about
        .iter()
        .filter(|(p, _)| p == predicate)
        .filter_map(|(_, o)| match o {
            Term::Literal(l) => Some((
                l.language().unwrap_or_default().to_owned(),
                l.value().trim().to_owned(),
            )),
            _ => None,
        })
        .filter(|(_, value)| !value.is_empty())
        .collect()
}

/// One literal per language, from the first of `predicates` that has any.
fn literals(about: &[(String, Term)], predicates: &[&str]) -> BTreeMap<String, String> {
    for predicate in predicates {
        let mut found = BTreeMap::new();
        for (lang, value) in all_literals(about, predicate) {
            found.entry(lang).or_insert(value);
        }
        if !found.is_empty() {
            return found;
        }
    }
    BTreeMap::new()
}

/// A literal of the first of `predicates` that has one: in English, else without a language, else
/// any.
fn first_literal(about: &[(String, Term)], predicates: &[&str]) -> Option<String> {
    let found = literals(about, predicates);
    ["en", ""]
        .iter()
        .find_map(|lang| found.get(*lang).cloned())
        .or_else(|| found.into_values().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEME: &str = r#"
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix pt: <https://vocab.example.org/platform-types/> .
pt: a skos:ConceptScheme ; dct:title "Platform types"@en, "Types de plateforme"@fr ; skos:hasTopConcept pt:vessel .
pt:vessel a skos:Concept ; skos:prefLabel "vessel"@en ; skos:notation "vessel" ; skos:inScheme pt: .
pt:research_vessel a skos:Concept ; skos:prefLabel "research vessel"@en, "navire de recherche"@fr ;
    skos:altLabel "RV"@en, "R/V"@en ; skos:broader pt:vessel ; skos:notation "research_vessel" ;
    skos:exactMatch <http://vocab.nerc.ac.uk/collection/L06/current/31/> ; skos:inScheme pt: .
"#;

    #[test]
    fn a_turtle_scheme_reads_with_labels_and_hierarchy() {
        let scheme = read_scheme(RdfSyntax::Turtle, SCHEME.as_bytes()).unwrap();
        assert_eq!(scheme.iri, "https://vocab.example.org/platform-types/");
        assert_eq!(scheme.title["fr"], "Types de plateforme");
        assert_eq!(scheme.concepts.len(), 2);
        let vessel = &scheme.concepts[0];
        assert!(vessel.top);
        assert_eq!(
            vessel.narrower,
            ["https://vocab.example.org/platform-types/research_vessel"]
        );
        let research = &scheme.concepts[1];
        assert_eq!(research.alt_label["en"], ["RV", "R/V"]);
        assert_eq!(research.display_label(), "research vessel");
        assert!(research.names().contains(&"navire de recherche".to_owned()));
        assert!(!research.top);
    }

    #[test]
    fn an_rdf_xml_scheme_reads_the_same() {
        let document = r#"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:skos="http://www.w3.org/2004/02/skos/core#">
  <skos:ConceptScheme rdf:about="https://vocab.example.org/platform-types/">
    <skos:prefLabel xml:lang="en">Platform types</skos:prefLabel>
  </skos:ConceptScheme>
  <skos:Concept rdf:about="https://vocab.example.org/platform-types/vessel">
    <skos:prefLabel xml:lang="en">vessel</skos:prefLabel>
    <skos:narrower rdf:resource="https://vocab.example.org/platform-types/research_vessel"/>
    <skos:inScheme rdf:resource="https://vocab.example.org/platform-types/"/>
  </skos:Concept>
  <skos:Concept rdf:about="https://vocab.example.org/platform-types/research_vessel">
    <skos:prefLabel xml:lang="en">research vessel</skos:prefLabel>
    <skos:altLabel xml:lang="en">RV</skos:altLabel>
    <skos:notation>research_vessel</skos:notation>
  </skos:Concept>
</rdf:RDF>"#;
        let scheme = read_scheme(RdfSyntax::RdfXml, document.as_bytes()).unwrap();
        assert_eq!(scheme.title["en"], "Platform types");
        let research = &scheme.concepts[1];
        assert_eq!(
            research.broader,
            ["https://vocab.example.org/platform-types/vessel"]
        );
        assert_eq!(research.notation.as_deref(), Some("research_vessel"));
        assert!(scheme.concepts[0].top && !research.top);
    }

    #[test]
    fn what_is_not_one_scheme_is_refused_with_a_reason() {
        let broken =
            read_scheme(RdfSyntax::Turtle, b"@prefix x: <http://x/> . x:a x:b").unwrap_err();
        assert!(broken.contains("not valid RDF"), "{broken}");
        let none = read_scheme(
            RdfSyntax::Turtle,
            b"<http://x/a> <http://x/b> <http://x/c> .",
        )
        .unwrap_err();
        assert!(none.contains("no skos:ConceptScheme"), "{none}");
        let cyclic = SCHEME.replace(
            "pt:vessel a skos:Concept ;",
            "pt:vessel a skos:Concept ; skos:broader pt:research_vessel ;",
        );
        let cyclic = read_scheme(RdfSyntax::Turtle, cyclic.as_bytes()).unwrap_err();
        assert!(cyclic.contains("cycle"), "{cyclic}");
    }
}
