//! The words of the pages, from the message catalogue (`locales/*.ftl`, Project Fluent). Templates
//! name messages by id and never hold text of their own.

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

const ENGLISH: &str = include_str!("../locales/en.ftl");

/// The English messages, parsed once.
static EN: LazyLock<Bundle> = LazyLock::new(|| Bundle::new("en", ENGLISH));

/// The messages of one language.
pub struct Bundle {
    bundle: FluentBundle<FluentResource>,
    /// What went wrong reading the file (none for the shipped ones: a test checks).
    errors: Vec<String>,
}

impl std::fmt::Debug for Bundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bundle")
            .field("errors", &self.errors)
            .finish_non_exhaustive()
    }
}

impl Bundle {
    fn new(language: &str, source: &str) -> Self {
        let mut errors = Vec::new();
        let language: LanguageIdentifier = language.parse().unwrap_or_default();
        let mut bundle = FluentBundle::new_concurrent(vec![language]);
        // No Unicode isolation marks around arguments: the pages set their own direction.
        bundle.set_use_isolating(false);
        let resource =
            FluentResource::try_new(source.to_owned()).unwrap_or_else(|(resource, e)| {
                errors.extend(e.iter().map(|e| format!("{e:?}")));
                resource
            });
        if let Err(e) = bundle.add_resource(resource) {
            errors.extend(e.iter().map(|e| format!("{e:?}")));
        }
        Self { bundle, errors }
    }

    /// The message `id`, or `⟦id⟧` where the catalogue has none (tests look for that mark).
    pub fn text(&self, id: &str) -> String {
        self.format(id, None)
    }

    /// The message `id` with its arguments.
    pub fn text_with(&self, id: &str, args: &[(&str, Arg<'_>)]) -> String {
        let mut fluent = FluentArgs::new();
        for (name, value) in args {
            let value = match value {
                Arg::Text(text) => FluentValue::from(*text),
                Arg::Number(n) => FluentValue::from(*n),
            };
            fluent.set(*name, value);
        }
        self.format(id, Some(&fluent))
    }

    fn format(&self, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        let Some(pattern) = self.bundle.get_message(id).and_then(|m| m.value()) else {
            tracing::warn!(id, "no such message");
            return format!("⟦{id}⟧");
        };
        let mut errors = Vec::new();
        let text = self.bundle.format_pattern(pattern, args, &mut errors);
        if !errors.is_empty() {
            tracing::warn!(id, ?errors, "message formatted with errors");
        }
        text.into_owned()
    }
}

/// An argument of a message.
#[derive(Debug, Clone, Copy)]
pub enum Arg<'a> {
    Text(&'a str),
    Number(u64),
}

/// The messages for a reader (English until a second language is added).
pub fn messages() -> &'static Bundle {
    &EN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalogue_reads_without_errors_and_plurals_agree() {
        let en = messages();
        assert!(en.errors.is_empty(), "{:?}", en.errors);
        let total = |n: u64, shown: &str| {
            en.text_with(
                "total-exact",
                &[("count", Arg::Number(n)), ("shown", Arg::Text(shown))],
            )
        };
        assert_eq!(total(1, "1"), "One dataset matches");
        assert_eq!(total(1200, "1,200"), "1,200 datasets match");
        assert_eq!(en.text("no-such-message"), "⟦no-such-message⟧");
    }
}
