//! Highlighted fragments of a hit's title and description.
//!
//! tantivy's snippet generator runs the stemming analyser over the whole text of every hit, and the
//! stemming was a tenth of a search's CPU. Stemming keeps a word's first letter and, but for a `y`
//! that becomes `i`, its second; so a word that does not begin like one of the query's terms cannot
//! become one (a one-letter stem, from its first letter alone), and it is blanked before the stemmer
//! instead of stemmed. The fragments are the same
//! (a unit test compares them with tantivy's own).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tantivy::query::Query;
use tantivy::schema::{Field, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer, Token,
    TokenFilter, TokenStream, Tokenizer,
};
use tantivy::{Score, Searcher, TantivyDocument, Term};

/// Fragments of the title and the description with the query's words in `<b>…</b>`.
pub(crate) struct Highlighter {
    title: (Field, SnippetGenerator),
    description: (Field, SnippetGenerator),
}

impl Highlighter {
    pub(crate) fn new(
        searcher: &Searcher,
        query: &dyn Query,
        title: Field,
        description: Field,
    ) -> tantivy::Result<Self> {
        Ok(Self {
            title: (title, generator(searcher, query, title, 200)?),
            description: (description, generator(searcher, query, description, 240)?),
        })
    }

    pub(crate) fn highlights(&self, doc: &TantivyDocument) -> BTreeMap<&'static str, String> {
        let mut highlights = BTreeMap::new();
        for (name, (field, generator)) in
            [("title", &self.title), ("description", &self.description)]
        {
            let text = doc.get_first(*field).and_then(|v| v.as_str()).unwrap_or("");
            let snippet = generator.snippet(text);
            if !snippet.highlighted().is_empty() {
                highlights.insert(name, snippet.to_html());
            }
        }
        highlights
    }
}

/// As [`SnippetGenerator::create`] makes it, with the analyser that blanks hopeless words.
fn generator(
    searcher: &Searcher,
    query: &dyn Query,
    field: Field,
    max_num_chars: usize,
) -> tantivy::Result<SnippetGenerator> {
    let mut terms: BTreeSet<&Term> = BTreeSet::new();
    query.query_terms(&mut |term, _| {
        if term.field() == field {
            terms.insert(term);
        }
    });
    let mut scored: BTreeMap<String, Score> = BTreeMap::new();
    for term in terms {
        let value = term.value();
        let Some(text) = value.as_str() else {
            continue;
        };
        let documents = searcher.doc_freq(term)?;
        if documents > 0 {
            scored.insert(text.to_owned(), 1.0 / (1.0 + documents as Score));
        }
    }
    let beginnings = Arc::new(scored.keys().map(|term| beginning(term)).collect());
    let analyser = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(BlankUnlike { beginnings })
        .filter(Stemmer::new(Language::English))
        .build();
    Ok(SnippetGenerator::new(
        scored,
        analyser,
        field,
        max_num_chars,
    ))
}

/// A word's first two letters, a `y` in second place read as `i` (`dying` stems to `die`).
fn beginning(word: &str) -> (Option<char>, Option<char>) {
    let mut letters = word.chars();
    let first = letters.next();
    let second = letters.next().map(|c| if c == 'y' { 'i' } else { c });
    (first, second)
}

/// Empties the (lower-cased) words that do not begin like any of `beginnings`.
#[derive(Clone)]
struct BlankUnlike {
    beginnings: Arc<BTreeSet<(Option<char>, Option<char>)>>,
}

impl TokenFilter for BlankUnlike {
    type Tokenizer<T: Tokenizer> = BlankUnlikeFilter<T>;

    fn transform<T: Tokenizer>(self, inner: T) -> BlankUnlikeFilter<T> {
        BlankUnlikeFilter {
            beginnings: self.beginnings,
            inner,
        }
    }
}

#[derive(Clone)]
struct BlankUnlikeFilter<T> {
    beginnings: Arc<BTreeSet<(Option<char>, Option<char>)>>,
    inner: T,
}

impl<T: Tokenizer> Tokenizer for BlankUnlikeFilter<T> {
    type TokenStream<'a> = BlankUnlikeStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        BlankUnlikeStream {
            beginnings: &self.beginnings,
            tail: self.inner.token_stream(text),
        }
    }
}

struct BlankUnlikeStream<'a, T> {
    beginnings: &'a BTreeSet<(Option<char>, Option<char>)>,
    tail: T,
}

impl<T: TokenStream> TokenStream for BlankUnlikeStream<'_, T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        let (first, second) = beginning(&token.text);
        // A one-letter stem may come from a longer word (`aed` stems to `a`).
        if !self.beginnings.contains(&(first, second)) && !self.beginnings.contains(&(first, None))
        {
            token.text.clear();
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use tantivy::query::QueryParser;
    use tantivy::schema::{Schema, TEXT};
    use tantivy::{Index, doc};

    use super::*;

    /// The fragments are tantivy's own, for words whose stems differ from them in many ways.
    #[test]
    fn fragments_are_those_of_the_stemming_analyser() {
        let mut schema = Schema::builder();
        let options = TEXT.set_stored();
        let options = options.set_indexing_options(
            tantivy::schema::TextFieldIndexing::default()
                .set_tokenizer("en_stem")
                .set_index_option(tantivy::schema::IndexRecordOption::WithFreqsAndPositions),
        );
        let body = schema.add_text_field("body", options);
        let index = Index::create_in_ram(schema.build());
        let texts = [
            "Dying gliders and lying buoys: tying the moorings of the skies, gently and early.",
            "Sea surface temperatures, temperature profiles and temperate waters of the Ligurian Sea.",
            "Studies studying the studied currents; currently flying flies flew over the fly-by.",
            "Cries of the crying, cried and cry: ugly, only, singly and idly generated generalities.",
            "Bathymetric surveys surveyed by multibeam echosounders, sonar and sonars, ctd casts and CTDs.",
            "An AED, an oed and a bed: one-letter stems of longer words.",
        ];
        let mut writer = index.writer(15_000_000).unwrap();
        for text in texts {
            writer.add_document(doc!(body => text)).unwrap();
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let parser = QueryParser::for_index(&index, vec![body]);
        for words in [
            "dying",
            "lie tie sky",
            "temperature",
            "study currents fly",
            "cry ugly only singly idly general",
            "survey sonar ctd",
            "the sea",
            "aed oed",
        ] {
            let query = parser.parse_query(words).unwrap();
            let ours = generator(&searcher, query.as_ref(), body, 60).unwrap();
            let mut theirs = SnippetGenerator::create(&searcher, query.as_ref(), body).unwrap();
            theirs.set_max_num_chars(60);
            let mut highlighted = 0;
            for text in texts {
                let (a, b) = (ours.snippet(text), theirs.snippet(text));
                assert_eq!(a.to_html(), b.to_html(), "{words:?} in {text:?}");
                assert_eq!(a.highlighted(), b.highlighted(), "{words:?} in {text:?}");
                highlighted += a.highlighted().len();
            }
            assert!(highlighted > 0, "{words:?} highlights something");
        }
    }
}
