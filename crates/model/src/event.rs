//! Events: what other systems are told about each committed change of a record.
//!
//! Every revision of a record yields exactly one event, so an event's per-subject `sequence` is the
//! record's revision: consumers order by it, spot a gap, and drop a duplicate by its id. The event
//! carries the record's summary (what a consumer needs to route or filter it, the security label
//! among it) and the names of the fields the change touched, never the whole record: a consumer that
//! needs more reads the record through the API, where the reader's access is decided.

use serde_json::{Map, Value};

/// The prefix of every event type: `org.fathom.dataset.created`.
pub const EVENT_TYPE_PREFIX: &str = "org.fathom";

/// What happened to the record. A change that moves a dataset into `published` is told as
/// `Published` rather than `Updated`: one event per revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Created,
    Updated,
    Published,
    Deleted,
}

impl EventKind {
    pub const ALL: [Self; 4] = [Self::Created, Self::Updated, Self::Published, Self::Deleted];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Published => "published",
            Self::Deleted => "deleted",
        }
    }
}

/// The kinds of record that have events, and what can happen to each (only datasets are published).
pub const EVENT_SOURCES: [(&str, &[EventKind]); 2] = [
    (
        "organisation",
        &[EventKind::Created, EventKind::Updated, EventKind::Deleted],
    ),
    ("dataset", &EventKind::ALL),
];

/// Every event type [`record_event`] makes, with the kind of record it is about.
pub fn event_types() -> Vec<(&'static str, EventKind, String)> {
    EVENT_SOURCES
        .iter()
        .flat_map(|(entity, kinds)| {
            kinds.iter().map(move |kind| {
                (
                    *entity,
                    *kind,
                    format!("{EVENT_TYPE_PREFIX}.{entity}.{}", kind.as_str()),
                )
            })
        })
        .collect()
}

/// The fields of each kind of record that an event's data repeats.
pub fn summary_fields(entity: &str) -> &'static [&'static str] {
    match entity {
        "dataset" => &[
            "id",
            "slug",
            "title",
            "organisation",
            "state",
            "security_label",
        ],
        _ => &["id", "slug", "name", "nation"],
    }
}

/// Fields every record has that change with every revision, so naming them as changed says nothing.
const BOOKKEEPING: [&str; 2] = ["revision", "updated_at"];

/// An event about to be written with the change it tells of.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDraft {
    /// `org.fathom.{entity}.{kind}`.
    pub event_type: String,
    /// The record's revision after the change.
    pub sequence: i64,
    pub data: Value,
}

/// The event of one change of a record of kind `entity` (`dataset`, `organisation`): from the
/// record as it was (`None` when created) to the record as it is (`None` when deleted), both as
/// their stored JSON. `revision` is the revision the change made.
pub fn record_event(
    entity: &str,
    previous: Option<&Value>,
    next: Option<&Value>,
    revision: i64,
) -> EventDraft {
    let kind = match (previous, next) {
        (None, _) => EventKind::Created,
        (Some(_), None) => EventKind::Deleted,
        (Some(before), Some(after)) => {
            let published = |record: &Value| record.get("state") == Some(&Value::from("published"));
            if published(after) && !published(before) {
                EventKind::Published
            } else {
                EventKind::Updated
            }
        }
    };
    let described = next.or(previous);
    let mut data = Map::new();
    for field in summary_fields(entity) {
        if let Some(value) = described.and_then(|record| record.get(*field)) {
            data.insert((*field).to_owned(), value.clone());
        }
    }
    data.insert("revision".to_owned(), Value::from(revision));
    if let (Some(before), Some(after)) = (previous, next) {
        data.insert("changed".to_owned(), changed_fields(before, after).into());
    }
    EventDraft {
        event_type: format!("{EVENT_TYPE_PREFIX}.{entity}.{}", kind.as_str()),
        sequence: revision,
        data: Value::Object(data),
    }
}

/// The top-level fields whose values differ, in name order, bookkeeping left out.
fn changed_fields(before: &Value, after: &Value) -> Vec<String> {
    let empty = Map::new();
    let before = before.as_object().unwrap_or(&empty);
    let after = after.as_object().unwrap_or(&empty);
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|name| !BOOKKEEPING.contains(&name.as_str()))
        .filter(|name| before.get(*name) != after.get(*name))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn dataset(state: &str, title: &str, revision: i64) -> Value {
        json!({
            "id": "0191e0a0-0000-7000-8000-000000000001", "slug": "ctd", "title": title,
            "organisation": "cmre", "state": state, "revision": revision,
            "description": "casts", "updated_at": format!("2026-01-0{revision}T00:00:00Z"),
            "security_label": {"policy": "fathom", "classification": "UNCLASSIFIED"}
        })
    }

    #[test]
    fn a_creation_carries_the_summary_and_no_changes() {
        let event = record_event("dataset", None, Some(&dataset("draft", "CTD", 1)), 1);
        assert_eq!(event.event_type, "org.fathom.dataset.created");
        assert_eq!(event.sequence, 1);
        assert_eq!(event.data["title"], "CTD");
        assert_eq!(
            event.data["security_label"]["classification"],
            "UNCLASSIFIED"
        );
        assert!(
            event.data.get("description").is_none(),
            "a summary, not the record"
        );
        assert!(event.data.get("changed").is_none());
    }

    #[test]
    fn an_update_names_the_fields_it_changed() {
        let before = dataset("draft", "CTD", 1);
        let after = dataset("draft", "CTD casts", 2);
        let event = record_event("dataset", Some(&before), Some(&after), 2);
        assert_eq!(event.event_type, "org.fathom.dataset.updated");
        assert_eq!(event.data["changed"], json!(["title"]));
        assert_eq!(event.data["revision"], 2);
    }

    #[test]
    fn publishing_is_its_own_event_and_staying_published_is_not() {
        let draft = dataset("draft", "CTD", 1);
        let published = dataset("published", "CTD", 2);
        let event = record_event("dataset", Some(&draft), Some(&published), 2);
        assert_eq!(event.event_type, "org.fathom.dataset.published");
        assert_eq!(event.data["changed"], json!(["state"]));
        let retitled = dataset("published", "CTD 2", 3);
        let event = record_event("dataset", Some(&published), Some(&retitled), 3);
        assert_eq!(event.event_type, "org.fathom.dataset.updated");
    }

    #[test]
    fn a_deletion_describes_the_record_as_it_was() {
        let before = dataset("published", "CTD", 4);
        let event = record_event("dataset", Some(&before), None, 5);
        assert_eq!(event.event_type, "org.fathom.dataset.deleted");
        assert_eq!(event.sequence, 5);
        assert_eq!(event.data["slug"], "ctd");
        assert_eq!(event.data["revision"], 5);
    }

    #[test]
    fn every_event_made_is_listed() {
        let listed: Vec<String> = event_types().into_iter().map(|(_, _, name)| name).collect();
        let draft = dataset("draft", "CTD", 1);
        let published = dataset("published", "CTD", 2);
        let organisation = json!({"id": "x", "slug": "cmre", "name": "CMRE", "nation": "ITA"});
        for (entity, before, after) in [
            ("dataset", None, Some(&draft)),
            ("dataset", Some(&draft), Some(&draft)),
            ("dataset", Some(&draft), Some(&published)),
            ("dataset", Some(&draft), None),
            ("organisation", None, Some(&organisation)),
            ("organisation", Some(&organisation), Some(&organisation)),
            ("organisation", Some(&organisation), None),
        ] {
            let made = record_event(entity, before, after, 2).event_type;
            assert!(listed.contains(&made), "{made} is not listed");
        }
        assert_eq!(listed.len(), 7);
    }

    #[test]
    fn organisations_have_their_own_summary() {
        let organisation =
            json!({"id": "x", "slug": "cmre", "name": "CMRE", "nation": "ITA", "revision": 1});
        let event = record_event("organisation", None, Some(&organisation), 1);
        assert_eq!(event.event_type, "org.fathom.organisation.created");
        assert_eq!(event.data["name"], "CMRE");
    }
}
