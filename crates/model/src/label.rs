//! Security labels in the structure of a STANAG 4774 confidentiality label, and the policy that gives
//! their values meaning (the role a SPIF plays): the ordered classifications, the categories and the
//! values each category allows.
//!
//! A label is only ever made by [`Policy::parse_label`], so a label in hand names a classification and
//! category values the policy knows.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::validation::ValidationErrors;

/// How the values of a category combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CategoryType {
    /// A reader needs at least one of the values (e.g. `ReleasableTo`: any listed nation).
    Permissive,
    /// A reader needs every value (e.g. a need-to-know list of projects).
    Restrictive,
}

/// A category of a label: a tag, how its values combine, and the values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelCategory {
    pub tag: String,
    #[serde(rename = "type")]
    pub kind: CategoryType,
    pub values: Vec<String>,
}

/// A label as a client writes it; `policy` may be left out (the active one), and `type` of a category
/// too (the policy's).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelInput {
    pub policy: Option<String>,
    pub classification: Option<String>,
    pub privacy_mark: Option<String>,
    #[serde(default)]
    pub categories: Vec<CategoryInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryInput {
    pub tag: String,
    #[serde(rename = "type")]
    pub kind: Option<CategoryType>,
    pub values: Vec<String>,
}

/// A label the active policy accepted. (It also deserialises, for records read back from the store:
/// they were accepted when written.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SecurityLabel {
    pub policy: String,
    pub classification: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub privacy_mark: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<LabelCategory>,
}

/// A policy as written in its file (TOML or JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    /// The policy identifier every label of the policy carries.
    pub id: String,
    /// The classifications, lowest first.
    pub classifications: Vec<String>,
    /// The highest classification a caller who is not signed in may read.
    pub public: String,
    #[serde(default)]
    pub categories: Vec<CategoryDefinition>,
    /// The label of a record given none.
    pub default_label: LabelInput,
    /// The colour of each classification's marking on pages, `#rrggbb`; one without is grey.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub colours: BTreeMap<String, String>,
}

/// A category the policy allows, with its values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryDefinition {
    pub tag: String,
    #[serde(rename = "type")]
    pub kind: CategoryType,
    pub values: Vec<String>,
}

/// The policy shipped for the embedded mode.
pub const DEFAULT_POLICY: &str = include_str!("default-policy.json");

/// A validated policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    document: PolicyDocument,
    ranks: HashMap<String, usize>,
    public: usize,
    categories: HashMap<String, (CategoryType, BTreeSet<String>)>,
    default_label: SecurityLabel,
}

impl Policy {
    /// Checks a policy document: classifications unique and non-empty, `public` one of them, category
    /// tags unique with unique values, a default label the policy itself accepts.
    pub fn parse(document: PolicyDocument) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if document.id.trim().is_empty() {
            errors.push("/id", "must not be empty");
        }
        if document.classifications.is_empty() {
            errors.push("/classifications", "must list at least one classification");
        }
        let mut ranks = HashMap::new();
        for (rank, name) in document.classifications.iter().enumerate() {
            if name.trim().is_empty() {
                errors.push(format!("/classifications/{rank}"), "must not be empty");
            } else if ranks.insert(name.clone(), rank).is_some() {
                errors.push(
                    format!("/classifications/{rank}"),
                    format!("`{name}` is listed twice"),
                );
            }
        }
        let public = ranks.get(&document.public).copied();
        if public.is_none() {
            errors.push(
                "/public",
                format!("`{}` is not one of the classifications", document.public),
            );
        }
        for (classification, colour) in &document.colours {
            if !ranks.contains_key(classification) {
                errors.push(
                    format!(
                        "/colours/{}",
                        classification.replace('~', "~0").replace('/', "~1")
                    ),
                    format!("`{classification}` is not one of the classifications"),
                );
            } else if !is_colour(colour) {
                errors.push(
                    format!(
                        "/colours/{}",
                        classification.replace('~', "~0").replace('/', "~1")
                    ),
                    format!("`{colour}` is not a colour written `#rrggbb`"),
                );
            }
        }
        let mut categories = HashMap::new();
        for (n, category) in document.categories.iter().enumerate() {
            let values: BTreeSet<String> = category.values.iter().cloned().collect();
            if category.tag.trim().is_empty() {
                errors.push(format!("/categories/{n}/tag"), "must not be empty");
            }
            if values.is_empty() || values.len() != category.values.len() {
                errors.push(
                    format!("/categories/{n}/values"),
                    "must list at least one value, each once",
                );
            }
            if categories
                .insert(category.tag.clone(), (category.kind, values))
                .is_some()
            {
                errors.push(
                    format!("/categories/{n}/tag"),
                    format!("`{}` is defined twice", category.tag),
                );
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut policy = Self {
            ranks,
            public: public.unwrap_or_default(),
            categories,
            default_label: SecurityLabel {
                policy: document.id.clone(),
                classification: String::new(),
                privacy_mark: None,
                categories: Vec::new(),
            },
            document,
        };
        policy.default_label = policy
            .parse_label(policy.document.default_label.clone())
            .map_err(|errors| {
                ValidationErrors(
                    errors
                        .0
                        .into_iter()
                        .map(|mut e| {
                            e.pointer = format!("/default_label{}", e.pointer);
                            e
                        })
                        .collect(),
                )
            })?;
        Ok(policy)
    }

    /// The policy shipped for the embedded mode.
    #[allow(clippy::expect_used)] // a constant of the build, parsed by a test
    pub fn default_policy() -> Self {
        let document: PolicyDocument =
            serde_json::from_str(DEFAULT_POLICY).expect("the shipped policy is JSON of a policy");
        Self::parse(document).expect("the shipped policy is valid")
    }

    pub fn id(&self) -> &str {
        &self.document.id
    }

    pub fn document(&self) -> &PolicyDocument {
        &self.document
    }

    pub fn default_label(&self) -> &SecurityLabel {
        &self.default_label
    }

    /// A label of the policy's highest classification, without categories: for what must be kept
    /// from all but the most cleared when its own label is lost.
    pub fn highest_label(&self) -> SecurityLabel {
        SecurityLabel {
            policy: self.id().to_owned(),
            classification: self
                .document
                .classifications
                .last()
                .cloned()
                .unwrap_or_default(),
            privacy_mark: None,
            categories: Vec::new(),
        }
    }

    /// The colour of a classification's marking, `#rrggbb`, if the policy gives one.
    pub fn colour(&self, classification: &str) -> Option<&str> {
        self.document
            .colours
            .get(classification)
            .map(String::as_str)
    }

    /// The position of a classification, lowest 0; `None` for one the policy does not know.
    pub fn rank(&self, classification: &str) -> Option<usize> {
        self.ranks.get(classification).copied()
    }

    /// The rank of the highest classification anyone may read without signing in.
    pub fn public_rank(&self) -> usize {
        self.public
    }

    /// Makes a label of an input, reporting each unknown classification, category or value with its
    /// pointer (relative to the label).
    pub fn parse_label(&self, input: LabelInput) -> Result<SecurityLabel, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        if let Some(policy) = &input.policy
            && policy != self.id()
        {
            errors.push(
                "/policy",
                format!("`{policy}` is not the active policy `{}`", self.id()),
            );
        }
        let classification = errors.require("/classification", input.classification);
        if let Some(classification) = &classification
            && self.rank(classification).is_none()
        {
            errors.push(
                "/classification",
                format!(
                    "`{classification}` is not one of {}",
                    self.document.classifications.join(", ")
                ),
            );
        }
        if let Some(mark) = &input.privacy_mark
            && mark.trim().is_empty()
        {
            errors.push("/privacy_mark", "must not be empty when given");
        }
        let mut categories: Vec<LabelCategory> = Vec::new();
        for (n, category) in input.categories.into_iter().enumerate() {
            let Some((kind, allowed)) = self.categories.get(&category.tag) else {
                errors.push(
                    format!("/categories/{n}/tag"),
                    format!("`{}` is not a category of the policy", category.tag),
                );
                continue;
            };
            if category.kind.is_some_and(|given| given != *kind) {
                errors.push(
                    format!("/categories/{n}/type"),
                    format!("`{}` is {} in the policy", category.tag, kind_name(*kind)),
                );
            }
            if categories.iter().any(|c| c.tag == category.tag) {
                errors.push(
                    format!("/categories/{n}/tag"),
                    format!("`{}` is given twice", category.tag),
                );
            }
            if category.values.is_empty() {
                errors.push(
                    format!("/categories/{n}/values"),
                    "must list at least one value",
                );
            }
            for (m, value) in category.values.iter().enumerate() {
                if !allowed.contains(value) {
                    errors.push(
                        format!("/categories/{n}/values/{m}"),
                        format!("`{value}` is not a value of `{}`", category.tag),
                    );
                }
            }
            let values: BTreeSet<String> = category.values.into_iter().collect();
            categories.push(LabelCategory {
                tag: category.tag,
                kind: *kind,
                values: values.into_iter().collect(),
            });
        }
        categories.sort_by(|a, b| a.tag.cmp(&b.tag));
        errors.into_result(|| SecurityLabel {
            policy: self.id().to_owned(),
            classification: classification.unwrap_or_default(),
            privacy_mark: input.privacy_mark,
            categories,
        })
    }
}

fn kind_name(kind: CategoryType) -> &'static str {
    match kind {
        CategoryType::Permissive => "permissive",
        CategoryType::Restrictive => "restrictive",
    }
}

/// `#rrggbb`.
fn is_colour(raw: &str) -> bool {
    raw.len() == 7 && raw.starts_with('#') && raw[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> LabelInput {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn the_default_policy_orders_its_classifications() {
        let policy = Policy::default_policy();
        assert_eq!(policy.rank("PUBLIC"), Some(0));
        assert!(policy.rank("NATO SECRET") > policy.rank("NATO RESTRICTED"));
        assert_eq!(policy.public_rank(), 0);
        assert_eq!(policy.default_label().classification, "PUBLIC");
        assert_eq!(policy.default_label().policy, policy.id());
    }

    #[test]
    fn labels_are_parsed_against_the_policy() {
        let policy = Policy::default_policy();
        let label = policy
            .parse_label(input(serde_json::json!({
                "classification": "NATO RESTRICTED",
                "categories": [{"tag": "ReleasableTo", "values": ["NOR", "ITA", "ITA"]}]
            })))
            .unwrap();
        assert_eq!(label.policy, policy.id());
        assert_eq!(label.categories[0].kind, CategoryType::Permissive);
        assert_eq!(label.categories[0].values, ["ITA", "NOR"]);

        let errors = policy
            .parse_label(input(serde_json::json!({
                "policy": "urn:other",
                "classification": "TOP SECRET",
                "privacy_mark": " ",
                "categories": [
                    {"tag": "ReleasableTo", "type": "restrictive", "values": ["XXX"]},
                    {"tag": "Colour", "values": ["red"]},
                    {"tag": "ReleasableTo", "values": []}
                ]
            })))
            .unwrap_err();
        let pointers: Vec<&str> = errors.0.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/policy",
                "/classification",
                "/privacy_mark",
                "/categories/0/type",
                "/categories/0/values/0",
                "/categories/1/tag",
                "/categories/2/tag",
                "/categories/2/values"
            ]
        );
        let missing = policy.parse_label(LabelInput::default()).unwrap_err();
        assert_eq!(missing.0[0].pointer, "/classification");
    }

    #[test]
    fn a_broken_policy_is_refused_with_pointers() {
        let document: PolicyDocument = serde_json::from_value(serde_json::json!({
            "id": "urn:test",
            "classifications": ["LOW", "HIGH", "LOW"],
            "public": "NONE",
            "categories": [
                {"tag": "ReleasableTo", "type": "permissive", "values": []},
                {"tag": "ReleasableTo", "type": "restrictive", "values": ["A"]}
            ],
            "default_label": {"classification": "LOW"}
        }))
        .unwrap();
        let errors = Policy::parse(document).unwrap_err();
        let pointers: Vec<&str> = errors.0.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/classifications/2",
                "/public",
                "/categories/0/values",
                "/categories/1/tag"
            ]
        );
        let document: PolicyDocument = serde_json::from_value(serde_json::json!({
            "id": "urn:test", "classifications": ["LOW"], "public": "LOW",
            "default_label": {"classification": "HIGH"}
        }))
        .unwrap();
        assert_eq!(
            Policy::parse(document).unwrap_err().0[0].pointer,
            "/default_label/classification"
        );
    }
}
