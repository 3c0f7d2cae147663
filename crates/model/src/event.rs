//! Events: what other systems are told about each committed change of a record.
//!
//! Every revision of a record yields exactly one event, so an event's per-subject `sequence` is the
//! record's revision: consumers order by it, spot a gap, and drop a duplicate by its id. The event
//! carries the record's summary (what a consumer needs to route or filter it, the security label
//! among it) and the names of the fields the change touched, never the whole record: a consumer that
//! needs more reads the record through the API, where the reader's access is decided.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use crate::entity::EntityKind;

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
    /// The steps of the sharing workflows: what was done to an access request or a grant.
    Submitted,
    Approved,
    Rejected,
    Returned,
    Amended,
    Delegated,
    Withdrawn,
    Expired,
    Revoked,
    Proposed,
    Accepted,
    Declined,
    Terminated,
    Deprecated,
    Retired,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Published => "published",
            Self::Deleted => "deleted",
            Self::Submitted => "submitted",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Returned => "returned",
            Self::Amended => "amended",
            Self::Delegated => "delegated",
            Self::Withdrawn => "withdrawn",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
            Self::Proposed => "proposed",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Terminated => "terminated",
            Self::Deprecated => "deprecated",
            Self::Retired => "retired",
        }
    }
}

/// The kinds of record that have events, and what can happen to each (only datasets are published).
pub fn event_sources() -> Vec<(&'static str, &'static [EventKind])> {
    use EventKind::*;
    const UNPUBLISHED: &[EventKind] = &[Created, Updated, Deleted];
    [
        ("organisation", UNPUBLISHED),
        ("dataset", &[Created, Updated, Published, Deleted][..]),
        (
            "access_request",
            &[
                Submitted, Approved, Rejected, Returned, Amended, Delegated, Withdrawn, Expired,
            ][..],
        ),
        ("grant", &[Created, Revoked, Expired][..]),
        (
            "publication",
            &[
                Submitted, Withdrawn, Approved, Returned, Deprecated, Retired,
            ][..],
        ),
        (
            "release",
            &[Submitted, Approved, Rejected, Withdrawn, Expired][..],
        ),
        (
            "agreement",
            &[Created, Proposed, Accepted, Declined, Terminated, Expired][..],
        ),
    ]
    .into_iter()
    .chain(EntityKind::ALL.map(|kind| (kind.as_str(), UNPUBLISHED)))
    .collect()
}

/// Every event type [`record_event`] makes, with the kind of record it is about.
pub fn event_types() -> Vec<(&'static str, EventKind, String)> {
    event_sources()
        .into_iter()
        .flat_map(|(entity, kinds)| {
            kinds.iter().map(move |kind| {
                (
                    entity,
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
        "organisation" => &["id", "slug", "name", "nation"],
        "access_request" => &[
            "id",
            "dataset",
            "requester",
            "state",
            "waiting_for",
            "deadline",
            "security_label",
        ],
        "publication" => &[
            "id",
            "dataset",
            "state",
            "working_copy",
            "waiting_for",
            "security_label",
        ],
        // `security_label`: the dataset's while the release is open; `to`: the label asked for.
        "release" => &[
            "id",
            "dataset",
            "state",
            "to",
            "waiting_for",
            "security_label",
        ],
        // Not the datasets: an agreement has no one label to decide a delivery by.
        "agreement" => &["id", "title", "provider", "recipients", "state"],
        "grant" => &[
            "id",
            "dataset",
            "grantee",
            "period",
            "source",
            "security_label",
        ],
        _ => &["id", "slug", "name", "type"],
    }
}

/// The event of a step of a sharing workflow: `kind` says what was done to the `entity`
/// (`access_request`, `grant`) at `revision`; the data repeats the summary fields of `record`, which
/// carries the label of the dataset it is about, so that deliveries are decided as a dataset's are.
pub fn workflow_event(
    entity: &str,
    kind: EventKind,
    record: &serde_json::Value,
    revision: i64,
) -> EventDraft {
    let mut data: serde_json::Map<String, serde_json::Value> = summary_fields(entity)
        .iter()
        .filter_map(|field| Some(((*field).to_owned(), record.get(field)?.clone())))
        .collect();
    data.insert("revision".to_owned(), revision.into());
    EventDraft {
        event_type: format!("{EVENT_TYPE_PREFIX}.{entity}.{}", kind.as_str()),
        sequence: revision,
        data: serde_json::Value::Object(data).to_string(),
    }
}

/// Fields every record has that change with every revision, so naming them as changed says nothing.
const BOOKKEEPING: [&str; 2] = ["revision", "updated_at"];

/// An event about to be written with the change it tells of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDraft {
    /// `org.fathom.{entity}.{kind}`.
    pub event_type: String,
    /// The record's revision after the change.
    pub sequence: i64,
    /// The event's data, as JSON text.
    pub data: String,
}

/// A record's top-level fields, each as the JSON text it was stored as: records are compared and
/// summarised without decoding them (this runs inside every write).
type Fields<'a> = BTreeMap<&'a str, &'a RawValue>;

/// The event of one change of a record of kind `entity` (`dataset`, `organisation`): from the
/// record as it was (`None` when created) to the record as it is (`None` when deleted), both as
/// their stored JSON. `revision` is the revision the change made.
pub fn record_event(
    entity: &str,
    previous: Option<&str>,
    next: Option<&str>,
    revision: i64,
) -> Result<EventDraft, serde_json::Error> {
    let previous: Option<Fields<'_>> = previous.map(serde_json::from_str).transpose()?;
    let next: Option<Fields<'_>> = next.map(serde_json::from_str).transpose()?;
    let kind = match (&previous, &next) {
        (None, _) => EventKind::Created,
        (Some(_), None) => EventKind::Deleted,
        (Some(before), Some(after)) => {
            let published = |record: &Fields<'_>| {
                record.get("state").map(|state| state.get()) == Some("\"published\"")
            };
            if published(after) && !published(before) {
                EventKind::Published
            } else {
                EventKind::Updated
            }
        }
    };
    let Some(described) = next.as_ref().or(previous.as_ref()) else {
        return Err(serde::de::Error::custom(
            "an event needs the record before or after",
        ));
    };
    let mut data: BTreeMap<&str, Box<RawValue>> = summary_fields(entity)
        .iter()
        .filter_map(|field| Some((*field, RawValue::to_owned(described.get(field)?))))
        .collect();
    data.insert("revision", RawValue::from_string(revision.to_string())?);
    if let (Some(before), Some(after)) = (&previous, &next) {
        data.insert(
            "changed",
            serde_json::value::to_raw_value(&changed_fields(before, after))?,
        );
    }
    Ok(EventDraft {
        event_type: format!("{EVENT_TYPE_PREFIX}.{entity}.{}", kind.as_str()),
        sequence: revision,
        data: serde_json::to_string(&data)?,
    })
}

/// The top-level fields whose values differ, in name order, bookkeeping left out. Records are
/// written by one serialiser, so equal values have equal text.
fn changed_fields<'a>(before: &Fields<'a>, after: &Fields<'a>) -> Vec<&'a str> {
    let mut names: Vec<&'a str> = before.keys().chain(after.keys()).copied().collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .filter(|name| !BOOKKEEPING.contains(name))
        .filter(|name| before.get(name).map(|v| v.get()) != after.get(name).map(|v| v.get()))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn dataset(state: &str, title: &str, revision: i64) -> String {
        json!({
            "id": "0191e0a0-0000-7000-8000-000000000001", "slug": "ctd", "title": title,
            "organisation": "cmre", "state": state, "revision": revision,
            "description": "casts", "updated_at": format!("2026-01-0{revision}T00:00:00Z"),
            "security_label": {"policy": "fathom", "classification": "UNCLASSIFIED"}
        })
        .to_string()
    }

    const ORGANISATION: &str =
        r#"{"id": "x", "slug": "cmre", "name": "CMRE", "nation": "ITA", "revision": 1}"#;

    /// The event's type, sequence and data.
    fn event(
        entity: &str,
        before: Option<&str>,
        after: Option<&str>,
        revision: i64,
    ) -> (String, i64, Value) {
        let event = record_event(entity, before, after, revision).unwrap();
        (
            event.event_type,
            event.sequence,
            serde_json::from_str(&event.data).unwrap(),
        )
    }

    #[test]
    fn a_creation_carries_the_summary_and_no_changes() {
        let (event_type, sequence, data) =
            event("dataset", None, Some(&dataset("draft", "CTD", 1)), 1);
        assert_eq!(event_type, "org.fathom.dataset.created");
        assert_eq!(sequence, 1);
        assert_eq!(data["title"], "CTD");
        assert_eq!(data["security_label"]["classification"], "UNCLASSIFIED");
        assert!(
            data.get("description").is_none(),
            "a summary, not the record"
        );
        assert!(data.get("changed").is_none());
    }

    #[test]
    fn an_update_names_the_fields_it_changed() {
        let (before, after) = (dataset("draft", "CTD", 1), dataset("draft", "CTD casts", 2));
        let (event_type, _, data) = event("dataset", Some(&before), Some(&after), 2);
        assert_eq!(event_type, "org.fathom.dataset.updated");
        assert_eq!(data["changed"], json!(["title"]));
        assert_eq!(data["revision"], 2);
    }

    #[test]
    fn publishing_is_its_own_event_and_staying_published_is_not() {
        let (draft, published) = (dataset("draft", "CTD", 1), dataset("published", "CTD", 2));
        let (event_type, _, data) = event("dataset", Some(&draft), Some(&published), 2);
        assert_eq!(event_type, "org.fathom.dataset.published");
        assert_eq!(data["changed"], json!(["state"]));
        let retitled = dataset("published", "CTD 2", 3);
        let (event_type, _, _) = event("dataset", Some(&published), Some(&retitled), 3);
        assert_eq!(event_type, "org.fathom.dataset.updated");
    }

    #[test]
    fn a_deletion_describes_the_record_as_it_was() {
        let before = dataset("published", "CTD", 4);
        let (event_type, sequence, data) = event("dataset", Some(&before), None, 5);
        assert_eq!(event_type, "org.fathom.dataset.deleted");
        assert_eq!(sequence, 5);
        assert_eq!(data["slug"], "ctd");
        assert_eq!(data["revision"], 5);
    }

    #[test]
    fn every_event_made_is_listed() {
        let listed: Vec<String> = event_types().into_iter().map(|(_, _, name)| name).collect();
        let (draft, published) = (dataset("draft", "CTD", 1), dataset("published", "CTD", 2));
        let (draft, published) = (draft.as_str(), published.as_str());
        for (entity, before, after) in [
            ("dataset", None, Some(draft)),
            ("dataset", Some(draft), Some(draft)),
            ("dataset", Some(draft), Some(published)),
            ("dataset", Some(draft), None),
            ("organisation", None, Some(ORGANISATION)),
            ("organisation", Some(ORGANISATION), Some(ORGANISATION)),
            ("organisation", Some(ORGANISATION), None),
        ] {
            let (made, _, _) = event(entity, before, after, 2);
            assert!(listed.contains(&made), "{made} is not listed");
        }
        let platform =
            r#"{"id": "x", "slug": "rv-a", "name": "RV A", "type": "platform", "revision": 1}"#;
        let (made, _, data) = event("platform", None, Some(platform), 1);
        assert_eq!(made, "org.fathom.platform.created");
        assert_eq!(data["type"], "platform");
        assert!(listed.contains(&made));
        let request = serde_json::json!({"id": "r", "dataset": "d", "requester": "sam",
            "state": "approved", "waiting_for": [], "purpose": "not repeated"});
        let approved = workflow_event("access_request", EventKind::Approved, &request, 3);
        assert_eq!(approved.event_type, "org.fathom.access_request.approved");
        assert!(listed.contains(&approved.event_type));
        let data: serde_json::Value = serde_json::from_str(&approved.data).unwrap();
        assert_eq!(data["requester"], "sam");
        assert_eq!(data["revision"], 3);
        assert!(
            data.get("purpose").is_none(),
            "only the summary is repeated"
        );
        // Records: 7 dataset and organisation events, 3 per entity kind; workflows: 8 request, 3
        // grant, 6 agreement, 6 publication and 5 release events.
        assert_eq!(
            listed.len(),
            7 + 3 * EntityKind::ALL.len() + 8 + 3 + 6 + 6 + 5
        );
    }

    #[test]
    fn organisations_have_their_own_summary() {
        let (event_type, _, data) = event("organisation", None, Some(ORGANISATION), 1);
        assert_eq!(event_type, "org.fathom.organisation.created");
        assert_eq!(data["name"], "CMRE");
    }

    #[test]
    fn a_record_that_is_not_json_is_an_error() {
        assert!(record_event("dataset", Some("{"), None, 2).is_err());
        assert!(record_event("dataset", None, None, 2).is_err());
    }
}
