//! Vocabularies for people: each SKOS concept scheme as a tree of its concepts (nested lists), and
//! each concept with its labels, definition, broader, narrower and matching
//! concepts, and the searches for what is tagged with it.

use std::collections::{BTreeMap, HashSet};

use axum::extract::{Path, Query};
use axum::response::Response;
use fathom_model::{Concept, Vocabulary};
use fathom_service::{ConceptFilter, RecordKey, ServiceError};
use maud::{Markup, html};

use super::{query_string, search_for};
use crate::i18n::{Arg, messages};
use crate::{Ctx, Page};

/// The most concepts a vocabulary's page reads (the starter vocabularies have a few dozen).
const CONCEPTS_READ: u32 = 5000;

/// The page of a concept.
fn concept_path(vocabulary: &str, iri: &str) -> String {
    format!(
        "/vocabularies/{vocabulary}/concept?{}",
        query_string([("iri", iri)])
    )
}

/// Every concept of a scheme (up to [`CONCEPTS_READ`]), in one read.
async fn all_concepts(ctx: &Ctx, vocabulary: &RecordKey) -> Result<Vec<Concept>, ServiceError> {
    let filter = ConceptFilter {
        limit: CONCEPTS_READ,
        ..Default::default()
    };
    ctx.state
        .services
        .catalogue
        .concepts(vocabulary, &filter)
        .await
}

/// `/browse`'s list of vocabularies.
pub fn listed(vocabularies: &[Vocabulary]) -> Markup {
    let text = messages();
    html! {
        @if !vocabularies.is_empty() {
            section {
                h2 { (text.text("kind-vocabularies")) }
                ul {
                    @for vocabulary in vocabularies {
                        li {
                            a href={ "/vocabularies/" (vocabulary.slug.as_str()) } { (vocabulary.display_title()) }
                            " " span class="count" { (vocabulary.concepts) }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /vocabularies/{slug}`: the scheme and its concepts as a tree.
pub async fn vocabulary(ctx: Ctx, Path(slug): Path<String>) -> Response {
    let page = vocabulary_page(&ctx, &slug).await;
    ctx.respond(page)
}

async fn vocabulary_page(ctx: &Ctx, slug: &str) -> Result<Page, ServiceError> {
    let text = messages();
    let catalogue = &ctx.state.services.catalogue;
    let key = RecordKey::parse(slug);
    let vocabulary = catalogue.vocabulary(&key).await?;
    let concepts = all_concepts(ctx, &key).await?;
    let by_iri: BTreeMap<&str, &Concept> = concepts.iter().map(|c| (c.iri.as_str(), c)).collect();
    // The roots: top concepts, and any concept whose broader ones are not in the scheme.
    let mut roots: Vec<&Concept> = concepts
        .iter()
        .filter(|c| c.top || c.broader.iter().all(|b| !by_iri.contains_key(b.as_str())))
        .collect();
    roots.sort_by_key(|c| c.display_label().to_lowercase());
    let slug = vocabulary.slug.as_str();
    let body = html! {
        article class="entity" {
            p class="kind" { (text.text("kind-one-vocabularies")) }
            h1 { (vocabulary.display_title()) }
            @if let Some(description) = &vocabulary.description { p { (description) } }
            dl class="facts" {
                dt { (text.text("vocabulary-iri")) } dd { code { (vocabulary.iri) } }
                dt { (text.text("vocabulary-concepts")) } dd { (vocabulary.concepts) }
                @if !vocabulary.binds.is_empty() {
                    dt { (text.text("vocabulary-binds")) }
                    @for bound in &vocabulary.binds { dd { code { (bound.as_str()) } } }
                }
            }
            h2 { (text.text("vocabulary-tree")) }
            ul class="concept-tree" {
                @for root in roots {
                    (branch(slug, root, &by_iri, &mut HashSet::new()))
                }
            }
        }
    };
    Ok(Page::new(vocabulary.display_title().to_owned(), body))
}

/// A concept and, under it, its narrower ones (each once, however the scheme loops).
fn branch<'a>(
    vocabulary: &str,
    concept: &'a Concept,
    by_iri: &BTreeMap<&str, &'a Concept>,
    seen: &mut HashSet<&'a str>,
) -> Markup {
    seen.insert(concept.iri.as_str());
    let mut narrower: Vec<&Concept> = concept
        .narrower
        .iter()
        .filter_map(|iri| by_iri.get(iri.as_str()).copied())
        .filter(|child| !seen.contains(child.iri.as_str()))
        .collect();
    narrower.sort_by_key(|c| c.display_label().to_lowercase());
    let link = html! {
        a href=(concept_path(vocabulary, &concept.iri)) { (concept.display_label()) }
        @if let Some(notation) = &concept.notation { " " span class="count" { "(" (notation) ")" } }
    };
    html! {
        li {
            (link)
            @if !narrower.is_empty() {
                ul { @for child in narrower { (branch(vocabulary, child, by_iri, seen)) } }
            }
        }
    }
}

#[derive(Debug, serde::Deserialize)]
pub struct ConceptQuery {
    iri: String,
}

/// `GET /vocabularies/{slug}/concept?iri=…`: one concept.
pub async fn concept(
    ctx: Ctx,
    Path(slug): Path<String>,
    Query(query): Query<ConceptQuery>,
) -> Response {
    let page = concept_page(&ctx, &slug, &query.iri).await;
    ctx.respond(page)
}

async fn concept_page(ctx: &Ctx, slug: &str, iri: &str) -> Result<Page, ServiceError> {
    let text = messages();
    let catalogue = &ctx.state.services.catalogue;
    let key = RecordKey::parse(slug);
    let vocabulary = catalogue.vocabulary(&key).await?;
    let concept = catalogue.concept(&key, iri).await?;
    // The broader and narrower concepts, named: read with the scheme's other concepts.
    let concepts = all_concepts(ctx, &key).await?;
    let label_of = |iri: &str| {
        concepts
            .iter()
            .find(|c| c.iri == iri)
            .map_or(iri.to_owned(), |c| c.display_label().to_owned())
    };
    let related = |heading: &str, iris: &[String]| -> Markup {
        html! {
            @if !iris.is_empty() {
                dt { (text.text(heading)) }
                @for iri in iris { dd { a href=(concept_path(slug, iri)) { (label_of(iri)) } } }
            }
        }
    };
    let label = concept.display_label().to_owned();
    let body = html! {
        article class="entity" {
            p class="kind" { a href={ "/vocabularies/" (slug) } { (vocabulary.display_title()) } }
            h1 { (label) }
            @if let Some(definition) = &concept.definition { p { (definition) } }
            dl class="facts" {
                dt { (text.text("concept-iri")) } dd { code { (concept.iri) } }
                @if let Some(notation) = &concept.notation { dt { (text.text("concept-notation")) } dd { (notation) } }
                @for (language, value) in &concept.pref_label {
                    dt { (text.text_with("concept-label-in", &[("language", Arg::Text(if language.is_empty() { "–" } else { language }))])) } dd { (value) }
                }
                @for (language, values) in &concept.alt_label {
                    dt { (text.text_with("concept-alt-label-in", &[("language", Arg::Text(if language.is_empty() { "–" } else { language }))])) }
                    dd { (values.join(", ")) }
                }
                (related("concept-broader", &concept.broader))
                (related("concept-narrower", &concept.narrower))
                @if !concept.exact_match.is_empty() {
                    dt { (text.text("concept-exact-match")) }
                    @for iri in &concept.exact_match { dd { a href=(iri) { (iri) } } }
                }
            }
            h2 { (text.text("concept-datasets")) }
            ul {
                li { a href=(search_for("theme", &concept.iri)) { (text.text("concept-as-theme")) } }
                li { a href=(search_for("keyword", &label)) { (text.text_with("concept-as-keyword", &[("label", Arg::Text(&label))])) } }
            }
        }
    };
    Ok(Page::new(label, body))
}
