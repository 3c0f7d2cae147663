//! The index schema and how a dataset becomes a document.

use fathom_model::values::parse_instant;
use fathom_model::{CategoryType, Dataset, EntityKind};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::{DateTime, TantivyDocument};

/// The English analyser: lower case, stop words kept (titles such as "The Gulf Stream"), stemming.
pub const TEXT_ANALYSER: &str = "en_stem";

/// The fields of a dataset document.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub slug: Field,
    pub title: Field,
    /// The whole title, lower-cased, for exact-title matches and sorting.
    pub title_exact: Field,
    pub description: Field,
    pub keywords: Field,
    /// The words of the title and keywords as written (lowercased, not stemmed): what a respelling
    /// (`Search::respelling`) is made of.
    pub words: Field,
    /// Distributions' titles and formats, the organisation's slug and name: searched with a low weight.
    pub other_text: Field,
    /// The words of the four fields above together, without frequencies: which documents have a
    /// word, in one list to walk instead of four.
    pub all_text: Field,
    pub keyword: Field,
    /// Each keyword as written (the facet counts the lower-cased `keyword`, and shows the form
    /// most documents use).
    pub keyword_shown: Field,
    pub organisation: Field,
    pub theme: Field,
    pub format: Field,
    pub licence: Field,
    pub language: Field,
    /// Persistent identifiers (DOIs, handles): OGC API - Records' `externalIds`.
    pub external_id: Field,
    pub state: Field,
    /// The slugs of the entities of the domain model a dataset refers to, a field per kind (named
    /// as the kind: `platform`, `observed_property`, …), in the order of [`EntityKind::ALL`].
    pub entities: [Field; 6],
    /// The classification of the label, and its categories' values as [`label_term`]s.
    pub label_classification: Field,
    pub label_term: Field,
    pub modified: Field,
    pub temporal_start: Field,
    pub temporal_end: Field,
    pub south: Field,
    pub north: Field,
    /// A bounding box as up to two longitude intervals that do not cross the antimeridian (the
    /// second repeats the first when the box does not cross it).
    pub west_1: Field,
    pub east_1: Field,
    pub west_2: Field,
    pub east_2: Field,
}

impl Fields {
    pub fn schema() -> (Schema, Fields) {
        let mut builder = Schema::builder();
        let analysed = |record: IndexRecordOption| {
            TextFieldIndexing::default()
                .set_tokenizer(TEXT_ANALYSER)
                .set_index_option(record)
        };
        let text = |stored: bool| {
            let indexing = analysed(IndexRecordOption::WithFreqsAndPositions);
            let options = TextOptions::default().set_indexing_options(indexing);
            if stored {
                options.set_stored()
            } else {
                options
            }
        };
        let exact = STRING | FAST;
        let fields = Fields {
            id: builder.add_text_field("id", STRING | STORED),
            slug: builder.add_text_field("slug", STORED),
            title: builder.add_text_field("title", text(true)),
            // With term frequencies, like the other scored fields: a union of terms that all have
            // them is what the ranking can prune (block-max WAND).
            title_exact: builder.add_text_field(
                "title_exact",
                exact.clone().set_indexing_options(
                    TextFieldIndexing::default()
                        .set_tokenizer("raw")
                        .set_index_option(IndexRecordOption::WithFreqs),
                ),
            ),
            description: builder.add_text_field("description", text(true)),
            keywords: builder.add_text_field("keywords", text(false)),
            words: builder.add_text_field(
                "words",
                TextOptions::default().set_indexing_options(
                    TextFieldIndexing::default()
                        .set_tokenizer("default")
                        .set_index_option(IndexRecordOption::Basic),
                ),
            ),
            other_text: builder.add_text_field("other_text", text(false)),
            // With positions, for walking a phrase in one list instead of four (a phrase cannot
            // span two fields: tantivy leaves a gap between the values of a field).
            all_text: builder.add_text_field(
                "all_text",
                TextOptions::default()
                    .set_indexing_options(analysed(IndexRecordOption::WithFreqsAndPositions)),
            ),
            keyword: builder.add_text_field("keyword", exact.clone()),
            keyword_shown: builder.add_text_field("keyword_shown", FAST),
            organisation: builder.add_text_field("organisation", exact.clone() | STORED),
            theme: builder.add_text_field("theme", exact.clone()),
            format: builder.add_text_field("format", exact.clone()),
            licence: builder.add_text_field("licence", exact.clone()),
            language: builder.add_text_field("language", exact.clone()),
            external_id: builder.add_text_field("external_id", STRING),
            state: builder.add_text_field("state", exact.clone()),
            entities: EntityKind::ALL
                .map(|kind| builder.add_text_field(kind.as_str(), exact.clone())),
            label_classification: builder.add_text_field("label_classification", STRING | FAST),
            label_term: builder.add_text_field("label_term", STRING),
            modified: builder.add_date_field("modified", INDEXED | FAST | STORED),
            temporal_start: builder.add_date_field("temporal_start", FAST),
            temporal_end: builder.add_date_field("temporal_end", FAST),
            south: builder.add_f64_field("south", FAST),
            north: builder.add_f64_field("north", FAST),
            west_1: builder.add_f64_field("west_1", FAST),
            east_1: builder.add_f64_field("east_1", FAST),
            west_2: builder.add_f64_field("west_2", FAST),
            east_2: builder.add_f64_field("east_2", FAST),
        };
        (builder.build(), fields)
    }

    /// The field of the entities of `kind`.
    pub fn entity(&self, kind: EntityKind) -> Field {
        let position = EntityKind::ALL.iter().position(|k| *k == kind);
        self.entities[position.unwrap_or_default()]
    }

    pub fn document(&self, dataset: &Dataset, organisation_name: Option<&str>) -> TantivyDocument {
        let metadata = &dataset.metadata;
        let mut doc = TantivyDocument::default();
        let words = |doc: &mut TantivyDocument, field, text: &str| {
            doc.add_text(field, text);
            doc.add_text(self.all_text, text);
        };
        doc.add_text(self.id, dataset.id.to_string());
        doc.add_text(self.slug, metadata.slug.as_str());
        words(&mut doc, self.title, &metadata.title);
        doc.add_text(self.words, &metadata.title);
        doc.add_text(self.title_exact, normalise(&metadata.title));
        words(&mut doc, self.description, &metadata.description);
        for keyword in &metadata.keywords {
            words(&mut doc, self.keywords, keyword);
            doc.add_text(self.words, keyword);
            doc.add_text(self.keyword, keyword.to_lowercase());
            doc.add_text(self.keyword_shown, keyword);
        }
        words(&mut doc, self.other_text, metadata.organisation.as_str());
        if let Some(name) = organisation_name {
            words(&mut doc, self.other_text, name);
        }
        for distribution in &metadata.distributions {
            words(&mut doc, self.other_text, &distribution.title);
            if let Some(format) = &distribution.format {
                words(&mut doc, self.other_text, format);
                doc.add_text(self.format, format);
            }
        }
        doc.add_text(self.organisation, metadata.organisation.as_str());
        for theme in &metadata.themes {
            doc.add_text(self.theme, theme.as_str());
        }
        if let Some(licence) = &metadata.license {
            doc.add_text(self.licence, licence);
        }
        for language in &metadata.language {
            doc.add_text(self.language, language.as_str());
        }
        for identifier in &metadata.identifiers {
            doc.add_text(self.external_id, identifier);
        }
        doc.add_text(self.state, dataset.state.as_str());
        for (kind, slug, _) in metadata.references() {
            doc.add_text(self.entity(kind), slug.as_str());
        }
        let label = &metadata.security_label;
        doc.add_text(self.label_classification, &label.classification);
        for category in &label.categories {
            doc.add_text(
                self.label_term,
                label_term(category.kind, &category.tag, None),
            );
            for value in &category.values {
                doc.add_text(
                    self.label_term,
                    label_term(category.kind, &category.tag, Some(value)),
                );
            }
        }
        // DCAT `modified` when the publisher gave it, else when the record last changed.
        let modified = metadata
            .modified
            .as_deref()
            .and_then(|m| parse_instant(m).ok())
            .unwrap_or(dataset.updated_at);
        doc.add_date(self.modified, DateTime::from_utc(modified));
        if let Some(temporal) = &metadata.temporal {
            let start = temporal.start.map_or(DateTime::MIN, DateTime::from_utc);
            let end = temporal.end.map_or(DateTime::MAX, DateTime::from_utc);
            doc.add_date(self.temporal_start, start);
            doc.add_date(self.temporal_end, end);
        }
        if let Some(bbox) = metadata.spatial.as_ref().and_then(|s| s.bbox) {
            let (west, south, east, north) = (bbox.west(), bbox.south(), bbox.east(), bbox.north());
            doc.add_f64(self.south, south);
            doc.add_f64(self.north, north);
            let (first, second) = longitude_intervals(west, east);
            doc.add_f64(self.west_1, first.0);
            doc.add_f64(self.east_1, first.1);
            doc.add_f64(self.west_2, second.0);
            doc.add_f64(self.east_2, second.1);
        }
        doc
    }
}

/// A box's longitudes as at most two intervals that do not cross the antimeridian; a box that does
/// not cross it gives its one interval twice.
pub fn longitude_intervals(west: f64, east: f64) -> ((f64, f64), (f64, f64)) {
    if west <= east {
        ((west, east), (west, east))
    } else {
        ((west, 180.0), (-180.0, east))
    }
}

/// A term of a label's category: `p\u{1f}ReleasableTo` marks a permissive category's presence,
/// `p\u{1f}ReleasableTo\u{1f}NOR` one of its values (`r` for restrictive ones).
pub fn label_term(kind: CategoryType, tag: &str, value: Option<&str>) -> String {
    let kind = match kind {
        CategoryType::Permissive => 'p',
        CategoryType::Restrictive => 'r',
    };
    match value {
        Some(value) => format!("{kind}\u{1f}{tag}\u{1f}{value}"),
        None => format!("{kind}\u{1f}{tag}"),
    }
}

/// Lower case with single spaces: how titles are compared for an exact match.
pub fn normalise(text: &str) -> String {
    text.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first text of `field` in a stored document; empty when it has none.
pub(crate) fn first_text(doc: &TantivyDocument, field: Field) -> &str {
    doc.get_first(field)
        .and_then(|value| value.as_str())
        .unwrap_or_default()
}
