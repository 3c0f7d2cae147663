//! Metadata profiles: JSON Schema (2020-12) documents that datasets declare they conform to, carrying
//! the profile's fields in `extensions.{profile}`. A schema is checked before it is registered (its
//! meta-schema; local `$ref`s only, nothing is fetched), compiled once per version, and a new version
//! is checked against the one before it as a schema registry does: a record valid under the old
//! version must stay valid, and no field may disappear.

use std::collections::BTreeSet;

use jsonschema::Validator;
use serde_json::{Map, Value};

/// The only dialect profiles are written in.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// A problem with a schema or a record: where (a JSON pointer) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub pointer: String,
    pub message: String,
}

impl Problem {
    fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

/// A profile's schema compiled for validating records.
#[derive(Debug)]
pub struct CompiledProfile(Validator);

impl CompiledProfile {
    /// Checks and compiles a schema: an object in the 2020-12 dialect, valid against its
    /// meta-schema, whose references are all local (`#…`). Every problem found is reported.
    pub fn compile(schema: &Value) -> Result<Self, Vec<Problem>> {
        let Value::Object(members) = schema else {
            return Err(vec![Problem::new(
                "",
                "a profile's schema must be a JSON object",
            )]);
        };
        let mut problems = Vec::new();
        match members.get("$schema") {
            None => {}
            Some(Value::String(dialect)) if dialect == DIALECT => {}
            Some(_) => problems.push(Problem::new(
                "/$schema",
                format!("must be `{DIALECT}` (or absent)"),
            )),
        }
        remote_references(schema, &mut String::new(), &mut problems);
        if let Err(error) = jsonschema::draft202012::meta::validate(schema) {
            problems.push(Problem::new(
                error.instance_path().as_str(),
                format!("is not valid JSON Schema: {error}"),
            ));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        jsonschema::draft202012::options()
            .build(schema)
            .map(Self)
            .map_err(|error| vec![Problem::new("", format!("does not compile: {error}"))])
    }

    /// Every violation of the profile by `record`, each at its pointer within the record.
    pub fn violations(&self, record: &Value) -> Vec<Problem> {
        self.0
            .iter_errors(record)
            .map(|error| Problem::new(error.instance_path().as_str(), error.to_string()))
            .collect()
    }
}

/// `$ref`s that do not point into the schema itself: refused, since nothing is fetched.
fn remote_references(node: &Value, at: &mut String, problems: &mut Vec<Problem>) {
    match node {
        Value::Object(members) => {
            for (name, value) in members {
                let length = at.len();
                at.push('/');
                at.push_str(&segment(name));
                if (name == "$ref" || name == "$dynamicRef")
                    && value.as_str().is_some_and(|r| !r.starts_with('#'))
                {
                    problems.push(Problem::new(
                        at.clone(),
                        "must be a local reference (`#/$defs/…`): remote references are not fetched",
                    ));
                }
                remote_references(value, at, problems);
                at.truncate(length);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let length = at.len();
                at.push_str(&format!("/{i}"));
                remote_references(item, at, problems);
                at.truncate(length);
            }
        }
        _ => {}
    }
}

/// Why `next` is not compatible with `previous`: each a pointer into `next` (or where the field
/// was) and the change. Empty when every record valid under `previous` is valid under `next` and
/// no field is gone: fields and allowed values may be added, types widened, limits relaxed.
pub fn incompatibilities(previous: &Value, next: &Value) -> Vec<Problem> {
    let mut found = Vec::new();
    compare(previous, next, "", &mut found);
    found
}

fn compare(old: &Value, new: &Value, at: &str, found: &mut Vec<Problem>) {
    let (Some(old), Some(new)) = (old.as_object(), new.as_object()) else {
        if old != new && new != &Value::Bool(true) {
            found.push(Problem::new(at, "changes a schema that was not an object"));
        }
        return;
    };
    let (old_types, new_types) = (types(old), types(new));
    if let (Some(old_types), Some(new_types)) = (&old_types, &new_types) {
        let widened =
            |t: &str| new_types.contains(t) || (t == "integer" && new_types.contains("number"));
        let lost: Vec<&str> = old_types
            .iter()
            .map(String::as_str)
            .filter(|t| !widened(t))
            .collect();
        if !lost.is_empty() {
            found.push(Problem::new(
                format!("{at}/type"),
                format!("narrows the type: no longer {}", lost.join(", ")),
            ));
        }
    } else if old_types.is_none() && new_types.is_some() {
        found.push(Problem::new(
            format!("{at}/type"),
            "restricts a value of any type to a type",
        ));
    }
    let empty = Map::new();
    let properties = |schema: &Map<String, Value>| {
        schema
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty)
            .clone()
    };
    let (old_properties, new_properties) = (properties(old), properties(new));
    for (name, schema) in &old_properties {
        let pointer = format!("{at}/properties/{}", segment(name));
        match new_properties.get(name) {
            None => found.push(Problem::new(pointer, format!("removes the field `{name}`"))),
            Some(next) => compare(schema, next, &pointer, found),
        }
    }
    let required = |schema: &Map<String, Value>| -> BTreeSet<String> {
        schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    for name in required(new).difference(&required(old)) {
        found.push(Problem::new(
            format!("{at}/required"),
            format!("makes `{name}` required"),
        ));
    }
    for keyword in ["enum", "const"] {
        let values = |schema: &Map<String, Value>| -> Option<Vec<Value>> {
            schema.get(keyword).map(|v| match (keyword, v) {
                ("enum", Value::Array(items)) => items.clone(),
                _ => vec![v.clone()],
            })
        };
        match (values(old), values(new)) {
            (None, Some(_)) => found.push(Problem::new(
                format!("{at}/{keyword}"),
                format!("adds `{keyword}`: restricts the allowed values"),
            )),
            (Some(old_values), Some(new_values)) => {
                let dropped: Vec<String> = old_values
                    .iter()
                    .filter(|v| !new_values.contains(v))
                    .map(Value::to_string)
                    .collect();
                if !dropped.is_empty() {
                    found.push(Problem::new(
                        format!("{at}/{keyword}"),
                        format!("no longer allows {}", dropped.join(", ")),
                    ));
                }
            }
            _ => {}
        }
    }
    if old.get("additionalProperties") != Some(&Value::Bool(false))
        && new.get("additionalProperties") == Some(&Value::Bool(false))
    {
        found.push(Problem::new(
            format!("{at}/additionalProperties"),
            "forbids fields that were allowed",
        ));
    }
    // Limits that may only be relaxed: an upper bound may not fall, a lower bound may not rise.
    for (keyword, upper) in [
        ("maxLength", true),
        ("maxItems", true),
        ("maxProperties", true),
        ("maximum", true),
        ("exclusiveMaximum", true),
        ("minLength", false),
        ("minItems", false),
        ("minProperties", false),
        ("minimum", false),
        ("exclusiveMinimum", false),
    ] {
        let (before, after) = (
            old.get(keyword).and_then(Value::as_f64),
            new.get(keyword).and_then(Value::as_f64),
        );
        let tighter = match (before, after) {
            (None, Some(_)) => true,
            (Some(before), Some(after)) => {
                if upper {
                    after < before
                } else {
                    after > before
                }
            }
            _ => false,
        };
        if tighter {
            found.push(Problem::new(
                format!("{at}/{keyword}"),
                format!("tightens `{keyword}`"),
            ));
        }
    }
    if new.get("pattern").is_some() && old.get("pattern") != new.get("pattern") {
        found.push(Problem::new(
            format!("{at}/pattern"),
            "adds or changes `pattern`",
        ));
    }
    if let (Some(before), Some(after)) = (old.get("items"), new.get("items")) {
        compare(before, after, &format!("{at}/items"), found);
    } else if old.get("items").is_none() && new.get("items").is_some() {
        found.push(Problem::new(
            format!("{at}/items"),
            "adds `items`: restricts the items",
        ));
    }
    for keyword in old.keys().chain(new.keys()) {
        let judged =
            MODELLED.contains(&keyword.as_str()) || ANNOTATIONS.contains(&keyword.as_str());
        if !judged && old.get(keyword) != new.get(keyword) {
            found.push(Problem::new(
                format!("{at}/{}", segment(keyword)),
                format!("changes `{keyword}`, whose effect on valid records is not checked: only a new major version may"),
            ));
        }
    }
    let definitions = |schema: &Map<String, Value>| {
        schema
            .get("$defs")
            .and_then(Value::as_object)
            .unwrap_or(&empty)
            .clone()
    };
    let new_definitions = definitions(new);
    for (name, schema) in &definitions(old) {
        let pointer = format!("{at}/$defs/{name}");
        match new_definitions.get(name) {
            None => found.push(Problem::new(
                pointer,
                format!("removes the definition `{name}`"),
            )),
            Some(next) => compare(schema, next, &pointer, found),
        }
    }
}

/// The keywords whose changes [`incompatibilities`] judges one by one.
const MODELLED: [&str; 20] = [
    "type",
    "properties",
    "required",
    "enum",
    "const",
    "additionalProperties",
    "maxLength",
    "maxItems",
    "maxProperties",
    "maximum",
    "exclusiveMaximum",
    "minLength",
    "minItems",
    "minProperties",
    "minimum",
    "exclusiveMinimum",
    "pattern",
    "items",
    "$defs",
    "$schema",
];

/// Keywords that describe and never constrain: free to change.
const ANNOTATIONS: [&str; 9] = [
    "title",
    "description",
    "examples",
    "default",
    "$comment",
    "deprecated",
    "readOnly",
    "writeOnly",
    "format",
];

/// A name as one segment of a JSON Pointer (RFC 6901).
fn segment(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// The types a schema allows, `None` for any.
fn types(schema: &Map<String, Value>) -> Option<BTreeSet<String>> {
    match schema.get("type")? {
        Value::String(one) => Some(BTreeSet::from([one.clone()])),
        Value::Array(many) => Some(
            many.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn cruise() -> Value {
        json!({
            "$schema": DIALECT,
            "type": "object",
            "properties": {
                "cruise_id": {"type": "string", "maxLength": 40},
                "vessel": {"type": "string"},
                "casts": {"type": "integer", "minimum": 0},
                "quality": {"enum": ["raw", "checked"]},
                "stations": {"type": "array", "items": {"$ref": "#/$defs/station"}}
            },
            "required": ["cruise_id"],
            "$defs": {"station": {"type": "object", "properties": {"name": {"type": "string"}}}}
        })
    }

    #[test]
    fn records_are_checked_with_every_violation_at_its_pointer() {
        let profile = CompiledProfile::compile(&cruise()).unwrap();
        assert!(
            profile
                .violations(&json!({"cruise_id": "LOGMEC21", "casts": 86}))
                .is_empty()
        );
        let problems = profile
            .violations(&json!({"casts": -1, "quality": "great", "stations": [{"name": 7}]}));
        let pointers: BTreeSet<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            BTreeSet::from(["", "/casts", "/quality", "/stations/0/name"]),
            "{problems:?}"
        );
    }

    #[test]
    fn bad_schemas_are_refused_with_reasons() {
        let remote =
            json!({"type": "object", "properties": {"x": {"$ref": "https://example.org/x.json"}}});
        let problems = CompiledProfile::compile(&remote).unwrap_err();
        assert_eq!(problems[0].pointer, "/properties/x/$ref");
        let invalid = CompiledProfile::compile(&json!({"type": "strnig"})).unwrap_err();
        assert!(
            invalid[0].message.contains("not valid JSON Schema"),
            "{invalid:?}"
        );
        let dialect = CompiledProfile::compile(
            &json!({"$schema": "http://json-schema.org/draft-04/schema#"}),
        )
        .unwrap_err();
        assert_eq!(dialect[0].pointer, "/$schema");
        assert!(CompiledProfile::compile(&json!([1])).is_err());
    }

    #[test]
    fn compatible_changes_add_and_widen() {
        let mut next = cruise();
        next["properties"]["platform"] = json!({"type": "string"});
        next["properties"]["casts"] = json!({"type": "number", "minimum": 0});
        next["properties"]["quality"] = json!({"enum": ["raw", "checked", "final"]});
        next["properties"]["cruise_id"]["maxLength"] = json!(80);
        assert_eq!(incompatibilities(&cruise(), &next), []);
    }

    #[test]
    fn unmodelled_keywords_may_only_change_in_a_major_version() {
        let mut next = cruise();
        next["description"] = json!("Cruises, described");
        assert_eq!(incompatibilities(&cruise(), &next), []);
        next["allOf"] = json!([{"required": ["vessel"]}]);
        next["properties"]["casts"]["multipleOf"] = json!(2);
        let pointers: Vec<String> = incompatibilities(&cruise(), &next)
            .into_iter()
            .map(|p| p.pointer)
            .collect();
        assert_eq!(pointers, ["/properties/casts/multipleOf", "/allOf"]);
    }

    #[test]
    fn incompatible_changes_are_each_explained() {
        let mut next = cruise();
        next["properties"].as_object_mut().unwrap().remove("vessel");
        next["required"] = json!(["cruise_id", "casts"]);
        next["properties"]["cruise_id"] = json!({"type": "string", "maxLength": 20});
        next["properties"]["quality"] = json!({"enum": ["checked"]});
        next["properties"]["casts"] = json!({"type": "string"});
        next["$defs"]["station"]["additionalProperties"] = json!(false);
        let found: Vec<(String, String)> = incompatibilities(&cruise(), &next)
            .into_iter()
            .map(|p| (p.pointer, p.message))
            .collect();
        let pointers: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/properties/casts/type",
                "/properties/cruise_id/maxLength",
                "/properties/quality/enum",
                "/properties/vessel",
                "/required",
                "/$defs/station/additionalProperties",
            ],
            "{found:?}"
        );
        assert!(found[3].1.contains("removes the field `vessel`"));
        assert!(found[4].1.contains("makes `casts` required"));
    }
}
