//! The marking of what a page or a list shows together: its highest classification, and the
//! releasability every part of it shares (the banner of classified systems; each part keeps its own
//! portion marking).

use std::collections::BTreeSet;

use crate::label::{CategoryType, Policy, SecurityLabel};

/// The overall marking of several labelled things shown together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marking {
    /// The highest classification among them (the policy's public one when there are none).
    pub classification: String,
    /// Per permissive category (`ReleasableTo`), the values every part that carries it allows: shown
    /// together, they may go only where each of them may.
    pub permissive: Vec<(String, Vec<String>)>,
    /// Per restrictive category (a need-to-know list), every value any part requires.
    pub restrictive: Vec<(String, Vec<String>)>,
}

impl Marking {
    /// The marking of `labels` shown together under `policy`.
    pub fn of<'a>(policy: &Policy, labels: impl IntoIterator<Item = &'a SecurityLabel>) -> Self {
        let public = &policy.document().public;
        let mut classification: Option<(usize, &str)> = None;
        let mut permissive: Vec<(String, BTreeSet<String>)> = Vec::new();
        let mut restrictive: Vec<(String, BTreeSet<String>)> = Vec::new();
        for label in labels {
            let rank = policy.rank(&label.classification).unwrap_or(usize::MAX);
            if classification.is_none_or(|(highest, _)| rank > highest) {
                classification = Some((rank, &label.classification));
            }
            for category in &label.categories {
                let values: BTreeSet<String> = category.values.iter().cloned().collect();
                match category.kind {
                    CategoryType::Permissive => {
                        match permissive.iter_mut().find(|(tag, _)| *tag == category.tag) {
                            Some((_, shared)) => shared.retain(|value| values.contains(value)),
                            None => permissive.push((category.tag.clone(), values)),
                        }
                    }
                    CategoryType::Restrictive => {
                        match restrictive.iter_mut().find(|(tag, _)| *tag == category.tag) {
                            Some((_, required)) => required.extend(values),
                            None => restrictive.push((category.tag.clone(), values)),
                        }
                    }
                }
            }
        }
        let listed = |categories: Vec<(String, BTreeSet<String>)>| {
            categories
                .into_iter()
                .map(|(tag, values)| (tag, values.into_iter().collect()))
                .collect()
        };
        Self {
            classification: classification.map_or_else(|| public.clone(), |(_, c)| c.to_owned()),
            permissive: listed(permissive),
            restrictive: listed(restrictive),
        }
    }

    /// The marking of one label.
    pub fn of_label(policy: &Policy, label: &SecurityLabel) -> Self {
        Self::of(policy, [label])
    }

    /// The categories written after the classification: `REL TO ITA, NOR` for a `ReleasableTo`
    /// category, `TAG: A, B` for others; empty when there are none.
    pub fn caveats(&self) -> Vec<String> {
        let permissive = self.permissive.iter().map(|(tag, values)| {
            let named = if tag == "ReleasableTo" { "REL TO" } else { tag };
            if values.is_empty() {
                format!("{named} NONE")
            } else {
                format!("{named} {}", values.join(", "))
            }
        });
        let restrictive = self
            .restrictive
            .iter()
            .map(|(tag, values)| format!("{tag}: {}", values.join(", ")));
        permissive.chain(restrictive).collect()
    }

    /// The whole marking on one line: `NATO SECRET // REL TO ITA, NOR`.
    pub fn line(&self) -> String {
        std::iter::once(self.classification.clone())
            .chain(self.caveats())
            .collect::<Vec<_>>()
            .join(" // ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::label::LabelInput;

    fn label(policy: &Policy, json: serde_json::Value) -> SecurityLabel {
        let input: LabelInput = serde_json::from_value(json).unwrap();
        policy.parse_label(input).unwrap()
    }

    #[test]
    fn a_page_is_marked_with_its_highest_classification_and_the_releasability_all_share() {
        let policy = Policy::default_policy();
        let public = label(&policy, serde_json::json!({"classification": "PUBLIC"}));
        let secret = label(
            &policy,
            serde_json::json!({"classification": "NATO SECRET",
                "categories": [{"tag": "ReleasableTo", "values": ["ITA", "NOR", "FRA"]}]}),
        );
        let restricted = label(
            &policy,
            serde_json::json!({"classification": "NATO RESTRICTED",
                "categories": [{"tag": "ReleasableTo", "values": ["NOR", "ITA"]},
                               {"tag": "NeedToKnow", "values": ["SEA-TRIALS"]}]}),
        );
        let marking = Marking::of(&policy, [&public, &secret, &restricted]);
        assert_eq!(marking.classification, "NATO SECRET");
        assert_eq!(
            marking.line(),
            "NATO SECRET // REL TO ITA, NOR // NeedToKnow: SEA-TRIALS"
        );
        assert_eq!(Marking::of(&policy, [&public]).line(), "PUBLIC");
        assert_eq!(Marking::of(&policy, []).line(), "PUBLIC");
    }
}
