//! Controlled vocabularies: SKOS concept schemes (platform types, CF standard names, data domains, …)
//! with their concepts. A scheme may be bound to fields of the catalogue, whose values must then be
//! its concepts.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::values::Slug;

/// A concept scheme as the catalogue keeps it; its concepts are kept (and listed) apart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Vocabulary {
    pub id: Uuid,
    #[schema(value_type = String, example = "platform-types")]
    pub slug: Slug,
    /// The IRI of the `skos:ConceptScheme`.
    pub iri: String,
    /// Its title (`dcterms:title` or `skos:prefLabel`) per language tag (`""`: none).
    pub title: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The fields whose values must be concepts of this scheme.
    #[serde(default)]
    pub binds: Vec<BoundField>,
    /// How many concepts it has.
    pub concepts: u64,
    pub revision: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Vocabulary {
    /// Its title in English, else without a language, else in any language, else its slug.
    pub fn display_title(&self) -> &str {
        ["en", ""]
            .iter()
            .find_map(|lang| self.title.get(*lang))
            .or_else(|| self.title.values().next())
            .map_or(self.slug.as_str(), String::as_str)
    }
}

/// A field of the catalogue whose values a vocabulary may control.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum BoundField {
    /// A dataset's `keywords`: each a label or notation of a concept.
    Keywords,
    /// A dataset's `themes`: each a concept's IRI.
    Themes,
    /// A platform's `platform_type`: a concept's notation, label or IRI.
    PlatformType,
}

impl BoundField {
    pub const ALL: [Self; 3] = [Self::Keywords, Self::Themes, Self::PlatformType];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keywords => "keywords",
            Self::Themes => "themes",
            Self::PlatformType => "platform_type",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|field| field.as_str() == raw)
            .ok_or_else(|| format!("`{raw}` is not one of keywords, themes, platform_type"))
    }
}

/// A `skos:Concept` of a scheme.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Concept {
    pub iri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notation: Option<String>,
    /// Preferred labels per language tag (`""`: none).
    pub pref_label: BTreeMap<String, String>,
    /// Alternative labels per language tag.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub alt_label: BTreeMap<String, Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub definition: Option<String>,
    /// The IRIs of broader concepts of the same scheme.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub broader: Vec<String>,
    /// The IRIs of narrower concepts of the same scheme (`skos:narrower` and the inverse of
    /// `skos:broader`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub narrower: Vec<String>,
    /// `skos:exactMatch`: the same concept in other schemes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exact_match: Vec<String>,
    /// A top concept of its scheme.
    #[serde(default)]
    pub top: bool,
}

impl Concept {
    /// Its preferred label in English, else without a language, else in any, else its IRI: the
    /// label lists are ordered by.
    pub fn display_label(&self) -> &str {
        ["en", ""]
            .iter()
            .find_map(|lang| self.pref_label.get(*lang))
            .or_else(|| self.pref_label.values().next())
            .map_or(self.iri.as_str(), String::as_str)
    }

    /// What a value may say to name this concept, lower-cased: its labels in every language and
    /// its notation (its IRI is matched as it is).
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .pref_label
            .values()
            .chain(self.alt_label.values().flatten())
            .chain(self.notation.iter())
            .map(|name| name.to_lowercase())
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// Completes a scheme's hierarchy (each `narrower` the inverse of a `broader` and the reverse, both
/// limited to the scheme's own concepts, top concepts those without broader ones when none is
/// declared) and refuses a cycle of `broader`, naming a concept on it.
pub fn complete_hierarchy(concepts: &mut [Concept]) -> Result<(), String> {
    let index: HashMap<String, usize> = concepts
        .iter()
        .enumerate()
        .map(|(i, c)| (c.iri.clone(), i))
        .collect();
    let mut broader: Vec<Vec<usize>> = vec![Vec::new(); concepts.len()];
    for (i, concept) in concepts.iter().enumerate() {
        for parent in &concept.broader {
            if let Some(&p) = index.get(parent) {
                broader[i].push(p);
            }
        }
        for child in &concept.narrower {
            if let Some(&c) = index.get(child) {
                broader[c].push(i);
            }
        }
    }
    for links in &mut broader {
        links.sort_unstable();
        links.dedup();
    }
    // Depth-first search for a cycle: 0 unvisited, 1 on the current path, 2 done.
    let mut state = vec![0u8; concepts.len()];
    for start in 0..concepts.len() {
        if state[start] != 0 {
            continue;
        }
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        while let Some((node, next)) = stack.pop() {
            if let Some(&parent) = broader[node].get(next) {
                stack.push((node, next + 1));
                match state[parent] {
                    0 => {
                        state[parent] = 1;
                        stack.push((parent, 0));
                    }
                    1 => {
                        return Err(format!(
                            "the broader concepts of <{}> lead back to it: a cycle",
                            concepts[parent].iri
                        ));
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
            }
        }
    }
    let mut narrower: Vec<Vec<String>> = vec![Vec::new(); concepts.len()];
    for (child, parents) in broader.iter().enumerate() {
        for &parent in parents {
            narrower[parent].push(concepts[child].iri.clone());
        }
    }
    let any_top = concepts.iter().any(|c| c.top);
    let iris: Vec<String> = concepts.iter().map(|c| c.iri.clone()).collect();
    for (i, concept) in concepts.iter_mut().enumerate() {
        concept.broader = broader[i].iter().map(|&p| iris[p].clone()).collect();
        concept.broader.sort();
        concept.narrower = std::mem::take(&mut narrower[i]);
        concept.narrower.sort();
        if !any_top {
            concept.top = concept.broader.is_empty();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn concept(iri: &str, broader: &[&str]) -> Concept {
        Concept {
            iri: iri.into(),
            pref_label: BTreeMap::from([("en".into(), iri.to_uppercase())]),
            broader: broader.iter().map(|b| (*b).to_owned()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn the_hierarchy_is_made_symmetric_with_top_concepts() {
        let mut concepts = vec![
            concept("vehicle", &[]),
            concept("auv", &["vehicle", "elsewhere"]),
            Concept {
                narrower: vec!["glider".into()],
                ..concept("uuv", &["vehicle"])
            },
            concept("glider", &[]),
        ];
        complete_hierarchy(&mut concepts).unwrap();
        assert_eq!(concepts[0].narrower, ["auv", "uuv"]);
        assert_eq!(
            concepts[1].broader,
            ["vehicle"],
            "outside the scheme: left out"
        );
        assert_eq!(concepts[3].broader, ["uuv"]);
        assert!(concepts[0].top && !concepts[3].top);
    }

    #[test]
    fn a_cycle_of_broader_concepts_is_refused() {
        let mut concepts = vec![
            concept("a", &["c"]),
            concept("b", &["a"]),
            concept("c", &["b"]),
        ];
        let error = complete_hierarchy(&mut concepts).unwrap_err();
        assert!(error.contains("cycle"), "{error}");
        let mut itself = vec![concept("a", &["a"])];
        assert!(complete_hierarchy(&mut itself).is_err());
    }
}
