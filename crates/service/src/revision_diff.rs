//! What changed between two revisions of a record: an RFC 6902 JSON Patch from one snapshot to the
//! other, and the top-level fields added, updated and deleted (as OpenMetadata lists them).

use serde::Serialize;
use serde_json::Value;

use fathom_store::Revision;

/// Fields that change with every revision, so naming them says nothing.
const BOOKKEEPING: [&str; 2] = ["revision", "updated_at"];

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RevisionDiff {
    pub from: i64,
    pub to: i64,
    pub fields_added: Vec<String>,
    pub fields_updated: Vec<String>,
    pub fields_deleted: Vec<String>,
    /// The JSON Patch (RFC 6902) that turns revision `from` into revision `to`; a deletion's
    /// snapshot is `null`.
    #[schema(value_type = Vec<Object>)]
    pub patch: Vec<PatchOperation>,
}

/// One operation of a JSON Patch.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum PatchOperation {
    Add { path: String, value: Value },
    Remove { path: String },
    Replace { path: String, value: Value },
}

impl RevisionDiff {
    pub fn between(from: &Revision, to: &Revision) -> Self {
        let (before, after) = (
            from.snapshot.clone().unwrap_or(Value::Null),
            to.snapshot.clone().unwrap_or(Value::Null),
        );
        let mut patch = Vec::new();
        diff(&before, &after, "", &mut patch);
        let empty = serde_json::Map::new();
        let (old, new) = (
            before.as_object().unwrap_or(&empty),
            after.as_object().unwrap_or(&empty),
        );
        let field = |name: &&String| !BOOKKEEPING.contains(&name.as_str());
        Self {
            from: from.revision,
            to: to.revision,
            fields_added: new
                .keys()
                .filter(field)
                .filter(|k| !old.contains_key(*k))
                .cloned()
                .collect(),
            fields_updated: new
                .iter()
                .filter(|(k, v)| field(k) && old.get(*k).is_some_and(|o| o != *v))
                .map(|(k, _)| k.clone())
                .collect(),
            fields_deleted: old
                .keys()
                .filter(field)
                .filter(|k| !new.contains_key(*k))
                .cloned()
                .collect(),
            patch,
        }
    }
}

/// Appends to `patch` the operations that turn `before` (at `path`) into `after`: objects member
/// by member, arrays of equal length element by element, anything else replaced whole.
fn diff(before: &Value, after: &Value, path: &str, patch: &mut Vec<PatchOperation>) {
    match (before, after) {
        (Value::Object(old), Value::Object(new)) => {
            for (name, value) in old {
                let at = pointer(path, name);
                match new.get(name) {
                    None => patch.push(PatchOperation::Remove { path: at }),
                    Some(next) => diff(value, next, &at, patch),
                }
            }
            for (name, value) in new.iter().filter(|(name, _)| !old.contains_key(*name)) {
                patch.push(PatchOperation::Add {
                    path: pointer(path, name),
                    value: value.clone(),
                });
            }
        }
        (Value::Array(old), Value::Array(new)) if old.len() == new.len() => {
            for (i, (value, next)) in old.iter().zip(new).enumerate() {
                diff(value, next, &pointer(path, &i.to_string()), patch);
            }
        }
        _ if before != after => patch.push(PatchOperation::Replace {
            path: path.to_owned(),
            value: after.clone(),
        }),
        _ => {}
    }
}

fn pointer(parent: &str, segment: &str) -> String {
    format!("{parent}/{}", fathom_model::pointer_segment(segment))
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::OffsetDateTime;

    use super::*;
    use fathom_store::Operation;

    fn revision(n: i64, snapshot: Option<Value>) -> Revision {
        Revision {
            revision: n,
            operation: Operation::Updated,
            actor: "ed".into(),
            recorded_at: OffsetDateTime::UNIX_EPOCH,
            snapshot,
        }
    }

    #[test]
    fn a_diff_lists_fields_and_patches_the_snapshot() {
        let before = json!({"title": "CTD", "keywords": ["ctd", "salinity"], "spatial": {"bbox": [1, 2, 3, 4]},
                            "license": "CC-BY-4.0", "a/b": 1, "revision": 1});
        let after = json!({"title": "CTD casts", "keywords": ["ctd", "temperature"], "spatial": {"bbox": [1, 2, 3, 4]},
                           "version": "2", "a/b": 2, "revision": 2});
        let diff = RevisionDiff::between(&revision(1, Some(before)), &revision(2, Some(after)));
        assert_eq!(diff.fields_added, ["version"]);
        assert_eq!(diff.fields_updated, ["a/b", "keywords", "title"]);
        assert_eq!(diff.fields_deleted, ["license"]);
        assert_eq!(
            serde_json::to_value(&diff.patch).unwrap(),
            json!([
                {"op": "replace", "path": "/a~1b", "value": 2},
                {"op": "replace", "path": "/keywords/1", "value": "temperature"},
                {"op": "remove", "path": "/license"},
                {"op": "replace", "path": "/revision", "value": 2},
                {"op": "replace", "path": "/title", "value": "CTD casts"},
                {"op": "add", "path": "/version", "value": "2"},
            ])
        );
    }

    #[test]
    fn a_deletion_replaces_the_whole_record() {
        let diff = RevisionDiff::between(
            &revision(1, Some(json!({"title": "x"}))),
            &revision(2, None),
        );
        assert_eq!(diff.fields_deleted, ["title"]);
        assert_eq!(
            serde_json::to_value(&diff.patch).unwrap(),
            json!([{"op": "replace", "path": "", "value": null}])
        );
    }
}
