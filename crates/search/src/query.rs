//! A search request and the tantivy query it becomes.

use fathom_model::{BoundingBox, CategoryType, EntityKind};
use tantivy::query::{
    AllQuery, Bm25Weight, BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhraseQuery, Query,
    TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Score, Searcher, Term};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::document::{Fields, label_term, normalise};

/// Words shorter than this are matched exactly; longer ones also with one typo.
const FUZZY_FROM: usize = 5;

/// A word found as it is in this many titles and keyword lists is neither a typo nor one still being
/// typed: it is not expanded to its near spellings and completions, which would add little to its
/// matches and cost a scan of each expansion's documents.
const COMMON_WORD: u64 = 1_000;

/// What a caller asks the index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchRequest {
    /// Words, "quoted phrases" and -excluded words; the last word also matches as a prefix (search
    /// as you type). Every word must match (each with its typo tolerance), unless `match_any`.
    pub text: Option<String>,
    /// Any word may match (a union), instead of every word.
    pub match_any: bool,
    /// Records whose bounding box intersects this one.
    pub bbox: Option<BoundingBox>,
    /// Records whose temporal extent intersects this interval.
    pub datetime: Option<TimeRange>,
    pub organisation: Vec<String>,
    pub keyword: Vec<String>,
    pub theme: Vec<String>,
    pub format: Vec<String>,
    pub licence: Vec<String>,
    /// BCP 47 language tags.
    pub language: Vec<String>,
    /// Lifecycle states (`draft`, `published`, …).
    pub state: Vec<String>,
    /// Persistent identifiers, matched exactly.
    pub external_id: Vec<String>,
    /// Entities of the domain model by kind and slug: a dataset that refers to one of a kind's.
    pub entities: Vec<(EntityKind, String)>,
    /// Words as written in a title or a keyword (any case): a dataset with one of them. How a
    /// respelling is checked against what a reader may see.
    pub words: Vec<String>,
    pub facets: Vec<Facet>,
    /// What the reader may see; `None` for a reader who sees everything.
    pub visibility: Option<Visibility>,
    pub sort: Sort,
    pub offset: usize,
    pub limit: usize,
}

/// The part of the catalogue a reader may see, as the index can test it: a policy's access decision
/// compiled for one reader (see `fathom_service::access`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visibility {
    /// The classifications the reader's clearance dominates (checked per match in `filter.rs`).
    pub classifications: Vec<String>,
    /// Every category of the policy, with the values the reader does not hold and those they do.
    pub categories: Vec<CategoryVisibility>,
    /// Datasets granted to the reader: their categories are not checked (their classification is).
    pub granted: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryVisibility {
    pub tag: String,
    pub kind: CategoryType,
    pub held: Vec<String>,
    pub not_held: Vec<String>,
}

/// A time interval, either end open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeRange {
    pub start: Option<OffsetDateTime>,
    pub end: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Facet {
    Keyword,
    Organisation,
    Format,
    Licence,
    Theme,
    /// The entities of one kind of the domain model (`platform`, …), by slug.
    Entity(EntityKind),
    /// The classification of the label.
    Classification,
    /// The years the temporal extent covers: a histogram, in the order of the years.
    Year,
}

impl Facet {
    pub const ALL: [Facet; 13] = [
        Facet::Keyword,
        Facet::Organisation,
        Facet::Format,
        Facet::Licence,
        Facet::Theme,
        Facet::Entity(EntityKind::Domain),
        Facet::Entity(EntityKind::Project),
        Facet::Entity(EntityKind::Campaign),
        Facet::Entity(EntityKind::Platform),
        Facet::Entity(EntityKind::Instrument),
        Facet::Entity(EntityKind::ObservedProperty),
        Facet::Classification,
        Facet::Year,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Keyword => "keyword",
            Self::Organisation => "organisation",
            Self::Format => "format",
            Self::Licence => "licence",
            Self::Theme => "theme",
            Self::Entity(kind) => kind.as_str(),
            Self::Classification => "classification",
            Self::Year => "year",
        }
    }

    /// The fast field its values are counted in.
    pub(crate) fn field(self) -> &'static str {
        match self {
            Self::Classification => "label_classification",
            other => other.name(),
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|facet| facet.name() == raw)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Best match first; without words, most recently modified first.
    #[default]
    Relevance,
    /// By modification time.
    Modified(Direction),
    /// By title (case-insensitive).
    Title(Direction),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ascending,
    Descending,
}

impl Sort {
    /// `relevance`, `modified` (newest first) or `title` (A to Z).
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "relevance" => Some(Self::Relevance),
            "modified" => Some(Self::Modified(Direction::Descending)),
            "title" => Some(Self::Title(Direction::Ascending)),
            _ => None,
        }
    }
}

/// A request as the index runs it: the words, which match and score, and the filters, which only
/// select (see `filter.rs`).
pub(crate) struct Plan {
    /// Words and phrases; `None` when the request has none.
    pub text: Option<Box<dyn Query>>,
    /// The documents `text` matches, as a query cheaper to walk: each word's and phrase's one list
    /// in `all_text` instead of four, with the near spellings, completions and exact title as in
    /// `text`. `None` without words.
    pub matching: Option<Box<dyn Query>>,
    /// The request's exact filters (organisation, keyword, …), all of which must hold.
    pub required: Option<Box<dyn Query>>,
    /// The documents the reader's categories exclude.
    pub excluded: Option<Box<dyn Query>>,
    /// The last word as the prefix it completes, in each field it is completed in (the completions
    /// are not among the queries' terms).
    pub completions: Vec<Term>,
    /// What `text` scores, one alternative at a time (`run.rs` ranks by them).
    pub alternatives: Vec<Alternative>,
    /// Whether `text` is one union of its alternatives, which block-max WAND can prune: any word
    /// may match, or there is one.
    pub union: bool,
}

/// One scored alternative of a search's words: a word's term in one field, its near spellings or
/// completions there, a phrase in one field, or the exact title; boosted by the field's weight. A
/// document's relevance is the sum of the scores of the alternatives it matches, as tantivy's
/// boolean query sums them; `run.rs` sums them itself, to stop adding where a document can no
/// longer reach the page.
pub(crate) struct Alternative {
    /// Boosted.
    pub query: Box<dyn Query>,
    bound: Bound,
}

/// What bounds an alternative's score.
enum Bound {
    /// BM25 of these terms (a phrase's, or one term's), boosted.
    Bm25(Vec<Term>, Score),
    /// A constant score (near spellings and completions score as matched, not by frequency).
    Constant(Score),
}

impl Alternative {
    fn term(term: Term, boost: Score) -> Self {
        let query = TermQuery::new(term.clone(), IndexRecordOption::WithFreqs);
        Self {
            query: Box::new(BoostQuery::new(Box::new(query), boost)),
            bound: Bound::Bm25(vec![term], boost),
        }
    }

    fn spelt(query: FuzzyTermQuery, boost: Score) -> Self {
        Self {
            query: Box::new(BoostQuery::new(Box::new(query), boost)),
            bound: Bound::Constant(boost),
        }
    }

    fn phrase(terms: Vec<Term>, boost: Score) -> Self {
        Self {
            query: Box::new(BoostQuery::new(phrase_query(&terms), boost)),
            bound: Bound::Bm25(terms, boost),
        }
    }

    /// The most it adds to a document's score in `searcher`'s index.
    pub(crate) fn bound(&self, searcher: &Searcher) -> tantivy::Result<Score> {
        Ok(match &self.bound {
            Bound::Bm25(terms, boost) => Bm25Weight::for_terms(searcher, terms)?
                .boost_by(*boost)
                .max_score(),
            Bound::Constant(score) => *score,
        })
    }

    fn clause(&self) -> (Occur, Box<dyn Query>) {
        (Occur::Should, self.query.box_clone())
    }
}

impl Plan {
    /// The query whose documents a search walks: the words', else the exact filters'; `None` for
    /// every document.
    pub(crate) fn walked(&self) -> Option<&dyn Query> {
        self.matching.as_deref().or(self.required.as_deref())
    }

    /// The exact filters as checked on each walked document: `None` without words, when they are
    /// the walked query itself.
    pub(crate) fn checked_required(&self) -> Option<&dyn Query> {
        self.required.as_deref().filter(|_| self.text.is_some())
    }

    /// About how many postings running the plan reads, counted until past `up_to`: those of the
    /// walked query's terms (every document, for a search with neither words nor filters), of the
    /// filters' terms and of the last word's completions. Near spellings are not counted: only words
    /// found in few titles and keyword lists are spelt near.
    pub(crate) fn reads(&self, searcher: &Searcher, up_to: u64) -> u64 {
        let mut terms: Vec<&Term> = Vec::new();
        let mut reads = 0;
        match self.walked() {
            Some(walked) => walked.query_terms(&mut |term, _| terms.push(term)),
            None => reads = searcher.num_docs(),
        }
        for query in [self.checked_required(), self.excluded.as_deref()]
            .into_iter()
            .flatten()
        {
            query.query_terms(&mut |term, _| terms.push(term));
        }
        for term in terms {
            let documents = searcher.doc_freq(term).unwrap_or(u64::MAX);
            reads = documents.saturating_add(reads);
        }
        for prefix in &self.completions {
            reads = completed(searcher, prefix, up_to).saturating_add(reads);
        }
        reads
    }
}

/// The postings of the terms that begin with `prefix` (in its field), counted until past `up_to`.
fn completed(searcher: &Searcher, prefix: &Term, up_to: u64) -> u64 {
    let start = prefix.serialized_value_bytes();
    let mut reads = 0;
    for reader in searcher.segment_readers() {
        let Ok(index) = reader.inverted_index(prefix.field()) else {
            return u64::MAX;
        };
        let Ok(mut terms) = index.terms().range().ge(start).into_stream() else {
            return u64::MAX;
        };
        while reads <= up_to && terms.advance() && terms.key().starts_with(start) {
            reads += u64::from(terms.value().doc_freq);
        }
    }
    reads
}

pub(crate) fn plan(
    request: &SearchRequest,
    fields: &Fields,
    analyser: &mut TextAnalyzer,
    searcher: &Searcher,
) -> Plan {
    let mut completions = Vec::new();
    let words = request
        .text
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .map(|text| {
            text_query(
                text,
                request.match_any,
                fields,
                analyser,
                searcher,
                &mut completions,
            )
        });
    let entities: Vec<(Field, Vec<String>)> = EntityKind::ALL
        .iter()
        .map(|kind| {
            let slugs = request.entities.iter().filter(|(k, _)| k == kind);
            (
                fields.entity(*kind),
                slugs.map(|(_, slug)| slug.clone()).collect(),
            )
        })
        .collect();
    let filters = [
        (fields.organisation, &request.organisation, false),
        (fields.keyword, &request.keyword, true),
        (fields.theme, &request.theme, false),
        (fields.format, &request.format, false),
        (fields.licence, &request.licence, false),
        (fields.language, &request.language, false),
        (fields.state, &request.state, false),
        (fields.external_id, &request.external_id, false),
        (fields.words, &request.words, true),
    ]
    .into_iter()
    .chain(entities.iter().map(|(field, slugs)| (*field, slugs, false)));
    let mut required: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (field, values, lower) in filters {
        if values.is_empty() {
            continue;
        }
        // Values of one filter are alternatives; different filters must all hold.
        let any: Vec<(Occur, Box<dyn Query>)> = values
            .iter()
            .map(|value| {
                let value = if lower {
                    value.to_lowercase()
                } else {
                    value.clone()
                };
                let term = TermQuery::new(
                    Term::from_field_text(field, &value),
                    IndexRecordOption::Basic,
                );
                (Occur::Should, Box::new(term) as Box<dyn Query>)
            })
            .collect();
        required.push((Occur::Must, Box::new(BooleanQuery::new(any))));
    }
    let excluded: Vec<(Occur, Box<dyn Query>)> = request
        .visibility
        .as_ref()
        .map(|visibility| category_exclusions(visibility, fields))
        .unwrap_or_default()
        .into_iter()
        .map(|query| (Occur::Should, query))
        .collect();
    let any = |clauses: Vec<(Occur, Box<dyn Query>)>| {
        (!clauses.is_empty()).then(|| Box::new(BooleanQuery::new(clauses)) as Box<dyn Query>)
    };
    let (text, matching, alternatives, union) = match words {
        Some(words) => (
            Some(words.scored),
            Some(words.matching),
            words.alternatives,
            words.union,
        ),
        None => (None, None, Vec::new(), false),
    };
    Plan {
        text,
        matching,
        required: any(required),
        excluded: any(excluded),
        completions,
        alternatives,
        union,
    }
}

/// The documents a reader may not see for their categories: those with a restrictive value the
/// reader does not hold, and those with a permissive category none of whose values they hold. (Few
/// documents carry categories, so these are short lists to skip.)
fn category_exclusions(visibility: &Visibility, fields: &Fields) -> Vec<Box<dyn Query>> {
    let term = |text: &str| -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(fields.label_term, text),
            IndexRecordOption::Basic,
        ))
    };
    let mut excluded = Vec::new();
    for category in &visibility.categories {
        let value_term =
            |value: &String| term(&label_term(category.kind, &category.tag, Some(value)));
        match category.kind {
            CategoryType::Restrictive => excluded.extend(category.not_held.iter().map(value_term)),
            CategoryType::Permissive => {
                // Present, and none of its values held.
                let present = term(&label_term(category.kind, &category.tag, None));
                let mut unmet = vec![(Occur::Must, present)];
                if !category.held.is_empty() {
                    let held = category
                        .held
                        .iter()
                        .map(|value| (Occur::Should, value_term(value)))
                        .collect();
                    unmet.push((
                        Occur::MustNot,
                        Box::new(BooleanQuery::new(held)) as Box<dyn Query>,
                    ));
                }
                excluded.push(Box::new(BooleanQuery::new(unmet)));
            }
        }
    }
    if visibility.granted.is_empty() || excluded.is_empty() {
        return excluded;
    }
    // Excluded for a category, unless granted.
    let granted = visibility
        .granted
        .iter()
        .map(|id| {
            let term = Term::from_field_text(fields.id, &id.to_string());
            let query: Box<dyn Query> = Box::new(TermQuery::new(term, IndexRecordOption::Basic));
            (Occur::Should, query)
        })
        .collect();
    let any_excluded = excluded
        .into_iter()
        .map(|query| (Occur::Should, query))
        .collect();
    vec![Box::new(BooleanQuery::new(vec![
        (
            Occur::Must,
            Box::new(BooleanQuery::new(any_excluded)) as Box<dyn Query>,
        ),
        (Occur::MustNot, Box::new(BooleanQuery::new(granted))),
    ]))]
}

/// The clauses of a boolean query.
type Clauses = Vec<(Occur, Box<dyn Query>)>;

/// A search's words as queries.
struct Words {
    /// Words and phrases over the scored fields.
    scored: Box<dyn Query>,
    /// The same documents, walked unscored ([`Plan::matching`]).
    matching: Box<dyn Query>,
    /// What `scored` scores ([`Plan::alternatives`]).
    alternatives: Vec<Alternative>,
    /// [`Plan::union`].
    union: bool,
}

/// Words and phrases over the text fields, title weighted over keywords over description. Every
/// word must match in some field (any of them, with `match_any`); documents matching more words
/// score higher. An exact title match gets a large boost.
///
/// Where any word may match (or there is one), the words' alternatives are one flat union: a flat
/// union of terms lets the ranking skip the blocks of documents that cannot reach the best
/// (block-max WAND, `run.rs`). Also returns the query of the same documents for walking them
/// unscored ([`Plan::matching`]), and adds the last word's prefixes to `completions`.
fn text_query(
    text: &str,
    match_any: bool,
    fields: &Fields,
    analyser: &mut TextAnalyzer,
    searcher: &Searcher,
    completions: &mut Vec<Term>,
) -> Words {
    let weighted = [
        (fields.title, 3.0),
        (fields.keywords, 2.0),
        (fields.description, 1.0),
        (fields.other_text, 0.5),
    ];
    let Split {
        phrases,
        words,
        excluded,
    } = split_phrases(text);
    let ends_in_word = !text.ends_with(char::is_whitespace) && !text.ends_with('"');
    let mut alternatives: Vec<Alternative> = Vec::new();
    let mut parts: Clauses = Vec::new();
    let mut matching: Clauses = Vec::new();
    // Each word's alternatives, scored and walked.
    let mut groups: Vec<(Clauses, Clauses)> = Vec::new();
    for (n, word) in words.iter().enumerate() {
        let prefix = ends_in_word && n + 1 == words.len();
        // The word's alternatives: its tokens in each field, near spellings and completions.
        let mut scored: Vec<Alternative> = Vec::new();
        let mut walked: Clauses = Vec::new();
        for token in tokens(analyser, word) {
            let anywhere = Term::from_field_text(fields.all_text, &token);
            walked.push((
                Occur::Should,
                Box::new(TermQuery::new(anywhere, IndexRecordOption::Basic)),
            ));
            let expand = !is_common(searcher, fields, &token);
            for (field, weight) in weighted {
                let term = Term::from_field_text(field, &token);
                scored.push(Alternative::term(term.clone(), weight));
                // Typos and prefixes are looked for in titles and keywords only: expanding them over
                // every description term would cost more than it finds.
                let short_field = expand && (field == fields.title || field == fields.keywords);
                if short_field && token.chars().count() >= FUZZY_FROM {
                    let fuzzy = FuzzyTermQuery::new(term.clone(), 1, true);
                    walked.push((Occur::Should, Box::new(fuzzy.clone())));
                    scored.push(Alternative::spelt(fuzzy, weight * 0.3));
                }
                if short_field && prefix {
                    completions.push(term.clone());
                    let fuzzy_prefix = FuzzyTermQuery::new_prefix(term, 0, false);
                    walked.push((Occur::Should, Box::new(fuzzy_prefix.clone())));
                    scored.push(Alternative::spelt(fuzzy_prefix, weight * 0.5));
                }
            }
        }
        if scored.is_empty() {
            // A word the analyser drops (a stop word) requires nothing.
            continue;
        }
        groups.push((scored.iter().map(Alternative::clause).collect(), walked));
        alternatives.extend(scored);
    }
    let required_words = !groups.is_empty();
    // One word alone is the same set whether required or not (the exact title's clause beside it
    // has it too), unless a phrase is required beside it.
    let union = match_any || (groups.len() == 1 && phrases.is_empty());
    if union {
        for (scored, walked) in groups {
            parts.extend(scored);
            matching.extend(walked);
        }
    } else {
        for (scored, walked) in groups {
            parts.push((Occur::Must, Box::new(BooleanQuery::new(scored))));
            matching.push((Occur::Must, Box::new(BooleanQuery::new(walked))));
        }
    }
    for word in &excluded {
        for token in tokens(analyser, word) {
            let anywhere = Term::from_field_text(fields.all_text, &token);
            for clauses in [&mut parts, &mut matching] {
                clauses.push((
                    Occur::MustNot,
                    Box::new(TermQuery::new(anywhere.clone(), IndexRecordOption::Basic)),
                ));
            }
        }
    }
    let has_phrases = !phrases.is_empty();
    for phrase in phrases {
        let tokens = tokens(analyser, &phrase);
        if tokens.is_empty() {
            continue;
        }
        let in_field = |field| -> Vec<Term> {
            tokens
                .iter()
                .map(|t| Term::from_field_text(field, t))
                .collect()
        };
        let mut any_field: Clauses = Vec::new();
        for (field, weight) in weighted {
            let alternative = Alternative::phrase(in_field(field), weight);
            any_field.push(alternative.clause());
            alternatives.push(alternative);
        }
        // A quoted phrase is required; walked in `all_text`, where it is found where it is in any
        // one field.
        parts.push((Occur::Must, Box::new(BooleanQuery::new(any_field))));
        matching.push((Occur::Must, phrase_query(&in_field(fields.all_text))));
    }
    let title = Term::from_field_text(fields.title_exact, &normalise(text.trim_matches('"')));
    matching.push((
        Occur::Should,
        Box::new(TermQuery::new(title.clone(), IndexRecordOption::Basic)),
    ));
    let title = Alternative::term(title, 20.0);
    parts.push(title.clause());
    alternatives.push(title);
    // Only exclusions: everything else matches.
    if !required_words && !has_phrases && !excluded.is_empty() {
        parts.push((Occur::Must, Box::new(AllQuery)));
        matching.push((Occur::Must, Box::new(AllQuery)));
    }
    Words {
        scored: Box::new(BooleanQuery::new(parts)),
        matching: Box::new(BooleanQuery::new(matching)),
        alternatives,
        union: union && !has_phrases,
    }
}

/// The documents with `terms` in a row (one term: with it), scored by how often.
fn phrase_query(terms: &[Term]) -> Box<dyn Query> {
    match terms {
        [term] => Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
        _ => Box::new(PhraseQuery::new(terms.to_vec())),
    }
}

/// Whether `token` is a word of at least [`COMMON_WORD`] titles and keyword lists. (An unreadable
/// term dictionary counts as not common: the word is then expanded, as it would be in a small index.)
fn is_common(searcher: &Searcher, fields: &Fields, token: &str) -> bool {
    let documents = |field| {
        searcher
            .doc_freq(&Term::from_field_text(field, token))
            .unwrap_or(0)
    };
    documents(fields.title) + documents(fields.keywords) >= COMMON_WORD
}

/// A search's text, read: its quoted phrases, its words, and the words it excludes (`-word`).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Split {
    pub phrases: Vec<String>,
    pub words: Vec<String>,
    pub excluded: Vec<String>,
}

/// `"a phrase" and words -not` → phrases `["a phrase"]`, words `["and", "words"]`, excluded
/// `["not"]`; an unbalanced quote closes at the end.
pub(crate) fn split_phrases(text: &str) -> Split {
    let mut split = Split::default();
    let words_of = |part: &str| -> Vec<String> {
        part.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    };
    for (n, part) in text.split('"').enumerate() {
        if n % 2 == 1 {
            if !part.trim().is_empty() {
                split.phrases.push(part.to_owned());
            }
            continue;
        }
        for piece in part.split_whitespace() {
            match piece.strip_prefix('-') {
                Some(rest) if !rest.is_empty() => split.excluded.extend(words_of(rest)),
                _ => split.words.extend(words_of(piece)),
            }
        }
    }
    split
}

/// `text` without its last word, and that word: what a search of every word tries next when it finds
/// nothing. `None` when fewer than two words are left (phrases and excluded words stay).
pub fn without_last_word(text: &str) -> Option<(String, String)> {
    let Split {
        phrases,
        mut words,
        excluded,
    } = split_phrases(text);
    if words.len() < 2 {
        return None;
    }
    let dropped = words.pop()?;
    let kept: Vec<String> = phrases
        .iter()
        .map(|phrase| format!("\"{phrase}\""))
        .chain(excluded.iter().map(|word| format!("-{word}")))
        .chain(words)
        .collect();
    // Ending in a space: the last word kept is a whole word, not a prefix being typed.
    Some((format!("{} ", kept.join(" ")), dropped))
}

fn tokens(analyser: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyser.token_stream(text);
    let mut tokens = Vec::new();
    while stream.advance() {
        tokens.push(stream.token().text.clone());
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_and_words_split_even_when_quotes_are_unbalanced() {
        let split = split_phrases(r#"ctd "ligurian sea" glider -mooring "open"#);
        assert_eq!(split.phrases, ["ligurian sea", "open"]);
        assert_eq!(split.words, ["ctd", "glider"]);
        assert_eq!(split.excluded, ["mooring"]);
        let split = split_phrases("a+b:(c) -d* e-f - g");
        assert!(split.phrases.is_empty());
        assert_eq!(split.words, ["a", "b", "c", "e", "f", "g"]);
        assert_eq!(split.excluded, ["d"]);
    }

    #[test]
    fn the_last_word_is_dropped_first_and_the_last_one_never() {
        assert_eq!(
            without_last_word(r#"ctd "ligurian sea" glider -mooring 2021"#),
            Some((
                r#""ligurian sea" -mooring ctd glider "#.to_owned(),
                "2021".to_owned()
            ))
        );
        assert_eq!(without_last_word(r#""ligurian sea" ctd"#), None);
        assert_eq!(without_last_word("ctd"), None);
    }
}
