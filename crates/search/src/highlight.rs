//! Highlighted fragments of a hit's title and description.
//!
//! The fragment is the one tantivy's snippet generator chooses (a unit test compares them), found
//! in one pass over the text. The words are read as the index's analyser (`en_stem`) reads them, but
//! not through its chain of token filters, which copies each word on its way; and a word is stemmed
//! only when it can become one of the query's terms: stemming keeps a word's first letter and, but
//! for a `y` that becomes `i`, its second, so a word that does not begin like a term cannot become
//! one (a one-letter stem, from its first letter alone).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use tantivy::query::Query;
use tantivy::schema::Field;
use tantivy::{Score, Searcher, TantivyDocument, Term};

use crate::document::first_text;

/// Fragments of the title and the description with the query's words in `<b>…</b>`.
pub(crate) struct Highlighter {
    title: Fragments,
    description: Fragments,
}

impl Highlighter {
    pub(crate) fn new(
        searcher: &Searcher,
        query: &dyn Query,
        title: Field,
        description: Field,
    ) -> tantivy::Result<Self> {
        Ok(Self {
            title: Fragments::new(searcher, query, title, 200)?,
            description: Fragments::new(searcher, query, description, 240)?,
        })
    }

    pub(crate) fn highlights(&mut self, doc: &TantivyDocument) -> BTreeMap<&'static str, String> {
        let mut highlights = BTreeMap::new();
        for (name, fragments) in [
            ("title", &mut self.title),
            ("description", &mut self.description),
        ] {
            if let Some(html) = fragments.best(first_text(doc, fragments.field)) {
                highlights.insert(name, html);
            }
        }
        highlights
    }
}

/// The best fragment of a field's texts: as tantivy's `SnippetGenerator` chooses it, the run of
/// words up to `max_chars` long, cut where the next word would pass that length, whose query terms
/// weigh most (a term weighs `1 / (1 + the documents that have it)`), the first of equals.
struct Fragments {
    field: Field,
    /// The query's terms in this field, with their weights.
    terms: Vec<(String, Score)>,
    /// How the terms begin: a few, one per term (a list is quicker to scan than a set to search).
    beginnings: Vec<Beginning>,
    stemmer: frostem::Stemmer,
    /// The word being read, lower-cased.
    lower: String,
    max_chars: usize,
}

/// A fragment being read.
struct Candidate {
    weight: Score,
    span: Range<usize>,
    highlighted: Vec<Range<usize>>,
}

impl Candidate {
    fn at(start: usize) -> Self {
        Self {
            weight: 0.0,
            span: start..start,
            highlighted: Vec::new(),
        }
    }
}

impl Fragments {
    fn new(
        searcher: &Searcher,
        query: &dyn Query,
        field: Field,
        max_chars: usize,
    ) -> tantivy::Result<Self> {
        let mut query_terms: BTreeSet<&Term> = BTreeSet::new();
        query.query_terms(&mut |term, _| {
            if term.field() == field {
                query_terms.insert(term);
            }
        });
        let mut terms = Vec::new();
        for term in query_terms {
            let value = term.value();
            let Some(text) = value.as_str() else {
                continue;
            };
            let documents = searcher.doc_freq(term)?;
            if documents > 0 {
                terms.push((text.to_owned(), 1.0 / (1.0 + documents as Score)));
            }
        }
        let mut beginnings: Vec<_> = terms.iter().map(|(term, _)| beginning(term)).collect();
        beginnings.sort_unstable();
        beginnings.dedup();
        Ok(Self {
            field,
            terms,
            beginnings,
            stemmer: frostem::Stemmer::new(frostem::Algorithm::English),
            lower: String::new(),
            max_chars,
        })
    }

    /// The best fragment of `text` as HTML, if any of the terms is in it.
    fn best(&mut self, text: &str) -> Option<String> {
        if self.terms.is_empty() {
            return None;
        }
        let mut best: Option<Candidate> = None;
        let mut keep = |candidate: Candidate| {
            if candidate.weight > best.as_ref().map_or(0.0, |b| b.weight) {
                best = Some(candidate);
            }
        };
        let mut current = Candidate::at(0);
        for word in words(text) {
            if word.end - current.span.start > self.max_chars {
                keep(std::mem::replace(&mut current, Candidate::at(word.start)));
            }
            current.span.end = word.end;
            if let Some(weight) = self.weight(&text[word.clone()]) {
                current.weight += weight;
                current.highlighted.push(word);
            }
        }
        keep(current);
        best.map(|fragment| html(text, &fragment))
    }

    /// The weight of the term `word` is analysed into, if it is one of the query's.
    fn weight(&mut self, word: &str) -> Option<Score> {
        // As tantivy's `LowerCaser` does it.
        self.lower.clear();
        if word.is_ascii() {
            self.lower.push_str(word);
            self.lower.make_ascii_lowercase();
        } else {
            self.lower.extend(word.chars().flat_map(char::to_lowercase));
        }
        let (first, second) = beginning(&self.lower);
        // A one-letter stem may come from a longer word (`aed` stems to `a`).
        if !self
            .beginnings
            .iter()
            .any(|&(f, s)| f == first && (s == second || s.is_none()))
        {
            return None;
        }
        let stem = self.stemmer.stem(&self.lower);
        let (_, weight) = self.terms.iter().find(|(term, _)| *term == *stem)?;
        Some(*weight)
    }
}

/// The words of `text` as tantivy's `SimpleTokenizer` splits it, runs of letters and digits, but for
/// those the analyser's `RemoveLongFilter` leaves out (as written, before lower-casing).
fn words(text: &str) -> impl Iterator<Item = Range<usize>> + '_ {
    /// `RemoveLongFilter::limit(40)` of `en_stem`: a word of 40 bytes or more is left out.
    const LIMIT: usize = 40;
    let mut chars = text.char_indices();
    std::iter::from_fn(move || {
        loop {
            let (start, _) = chars.by_ref().find(|(_, c)| c.is_alphanumeric())?;
            let end = chars
                .by_ref()
                .find(|(_, c)| !c.is_alphanumeric())
                .map_or(text.len(), |(at, _)| at);
            if end - start < LIMIT {
                return Some(start..end);
            }
        }
    })
}

/// The fragment's text, HTML-escaped, with its highlighted words in `<b>…</b>`.
fn html(text: &str, fragment: &Candidate) -> String {
    let mut html = String::with_capacity(fragment.span.len() + 16);
    let mut from = fragment.span.start;
    for word in &fragment.highlighted {
        escape_into(&mut html, &text[from..word.start]);
        html.push_str("<b>");
        escape_into(&mut html, &text[word.clone()]);
        html.push_str("</b>");
        from = word.end;
    }
    escape_into(&mut html, &text[from..fragment.span.end]);
    html
}

/// Appends `text` with `&`, `<`, `>`, `"` and `'` escaped. Byte by byte: the five are ASCII, so they
/// are never part of a longer character, and a byte test is cheaper than decoding characters.
fn escape_into(html: &mut String, text: &str) {
    let mut from = 0;
    for (at, byte) in text.bytes().enumerate() {
        let escaped = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#x27;",
            _ => continue,
        };
        html.push_str(&text[from..at]);
        html.push_str(escaped);
        from = at + 1;
    }
    html.push_str(&text[from..]);
}

/// A word's first two letters, a `y` in second place read as `i` (`dying` stems to `die`).
fn beginning(word: &str) -> Beginning {
    let mut letters = word.chars();
    let first = letters.next();
    let second = letters.next().map(|c| if c == 'y' { 'i' } else { c });
    (first, second)
}

type Beginning = (Option<char>, Option<char>);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use tantivy::query::QueryParser;
    use tantivy::schema::{Schema, TEXT};
    use tantivy::snippet::SnippetGenerator;
    use tantivy::{Index, doc};

    use super::*;

    /// The fragments are tantivy's own, for words whose stems differ from them in many ways, words
    /// whose lower case is longer, and words too long to be indexed.
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
            "Tom's \"sonar\" <survey> & the CTD's log: sonar, then waves; later the sea, sonar again \
             and sea waves, a survey of surveys, the last sonar & ctd <b>casts</b> of the sea.",
            "ÉTUDES über Sonar-Messungen: İSTANBUL's café, naïve Straße; ĲSSEL 2016 ctd2 casts.",
            // 39 bytes, 58 once lower-cased: kept, as the analyser measures a word before.
            "The İİİİİİİİİİİİİİİİİİİa survey.",
            // 39 bytes, then 40 (which the analyser drops), then 41, each followed by a sonar.
            "sonarsonarsonarsonarsonarsonarsonarsona sonar \
             sonarsonarsonarsonarsonarsonarsonarsonar sonar \
             sonarsonarsonarsonarsonarsonarsonarsonars sonar",
        ];
        let mut writer = index.writer(15_000_000).unwrap();
        for text in texts {
            writer.add_document(doc!(body => text)).unwrap();
        }
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let parser = QueryParser::for_index(&index, vec![body]);
        for asked in [
            "dying",
            "lie tie sky",
            "temperature",
            "study currents fly",
            "cry ugly only singly idly general",
            "survey sonar ctd",
            "sonar sea waves",
            "the sea",
            "aed oed",
            "études über İSTANBUL café straße ĲSSEL 2016 ctd2",
            "İİİİİİİİİİİİİİİİİİİa",
            "sonarsonarsonarsonarsonarsonarsonarsona sonarsonarsonarsonarsonarsonarsonarsonar",
        ] {
            let query = parser.parse_query(asked).unwrap();
            let mut ours = Fragments::new(&searcher, query.as_ref(), body, 60).unwrap();
            let mut theirs = SnippetGenerator::create(&searcher, query.as_ref(), body).unwrap();
            theirs.set_max_num_chars(60);
            let mut highlighted = 0;
            for text in texts {
                let snippet = theirs.snippet(text);
                let expected = (!snippet.highlighted().is_empty()).then(|| snippet.to_html());
                let fragment = ours.best(text);
                assert_eq!(fragment, expected, "{asked:?} in {text:?}");
                highlighted += fragment.map_or(0, |html| html.matches("<b>").count());
            }
            assert!(highlighted > 0, "{asked:?} highlights something");
        }
    }
}
