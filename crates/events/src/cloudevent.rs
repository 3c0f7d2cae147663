//! The CloudEvents 1.0 JSON envelope of an outbox event.

use fathom_store::OutboxEvent;
use serde::Serialize;
use serde_json::value::RawValue;
use time::format_description::well_known::Rfc3339;

/// The media type of a CloudEvent in structured JSON mode.
pub const CONTENT_TYPE: &str = "application/cloudevents+json";

/// An event ready to send: its id, type and subject for the broker's headers and routing, and the
/// CloudEvent as JSON bytes.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub id: String,
    pub event_type: String,
    pub subject: String,
    /// The event's data alone, for targets that filter on it.
    pub data: Box<RawValue>,
    /// The W3C trace context of the change, for the broker's or the receiver's headers too.
    pub traceparent: Option<String>,
    pub body: Vec<u8>,
}

#[derive(Serialize)]
struct CloudEvent<'a> {
    specversion: &'static str,
    id: &'a str,
    source: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
    subject: &'a str,
    time: String,
    datacontenttype: &'static str,
    /// The sequence extension: the subject's revision, zero-padded so that text order is number
    /// order, as the extension requires.
    sequence: String,
    /// The distributed-tracing extension: the trace of the request that made the change.
    #[serde(skip_serializing_if = "Option::is_none")]
    traceparent: Option<&'a str>,
    data: &'a RawValue,
}

impl Envelope {
    /// The CloudEvent of `event`, from `source` (a URI reference naming this catalogue).
    pub fn new(source: &str, event: &OutboxEvent) -> Self {
        let id = event.id.to_string();
        let subject = event.subject.to_string();
        let cloud_event = CloudEvent {
            specversion: "1.0",
            id: &id,
            source,
            event_type: &event.event_type,
            subject: &subject,
            time: event.time.format(&Rfc3339).unwrap_or_default(),
            datacontenttype: "application/json",
            sequence: format!("{:020}", event.sequence),
            traceparent: event.traceparent.as_deref(),
            data: &event.data,
        };
        // Serialising strings and already-valid JSON cannot fail.
        let body = serde_json::to_vec(&cloud_event).unwrap_or_default();
        Self {
            id,
            event_type: event.event_type.clone(),
            subject,
            data: event.data.clone(),
            traceparent: event.traceparent.clone(),
            body,
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;
    use uuid::Uuid;

    use super::*;

    #[test]
    fn the_envelope_has_every_required_attribute() {
        let event = OutboxEvent {
            seq: 7,
            id: Uuid::now_v7(),
            event_type: "org.fathom.dataset.created".into(),
            subject: Uuid::now_v7(),
            sequence: 3,
            time: datetime!(2026-11-25 21:00:00.5 UTC),
            data: RawValue::from_string(r#"{"title":"CTD"}"#.into()).unwrap(),
            traceparent: Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into()),
        };
        let envelope = Envelope::new("/fathom", &event);
        let json: serde_json::Value = serde_json::from_slice(&envelope.body).unwrap();
        assert_eq!(json["specversion"], "1.0");
        assert_eq!(json["id"], event.id.to_string());
        assert_eq!(json["source"], "/fathom");
        assert_eq!(json["type"], "org.fathom.dataset.created");
        assert_eq!(json["subject"], event.subject.to_string());
        assert_eq!(json["time"], "2026-11-25T21:00:00.5Z");
        assert_eq!(json["sequence"], "00000000000000000003");
        assert_eq!(json["data"]["title"], "CTD");
        assert_eq!(
            json["traceparent"],
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        );
    }
}
