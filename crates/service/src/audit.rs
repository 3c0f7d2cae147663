//! Security events: each is a log line (within the request's span, so with its request id) and an
//! entry of the audit log. A failure to write the log is itself logged, never the caller's error.

use fathom_store::{AuditEvent, Store, now};
use serde_json::Value;
use time::OffsetDateTime;

tokio::task_local! {
    /// The id of the request being served (`X-Request-Id`), set by the API around each request.
    pub static REQUEST_ID: String;
}

/// The id of the request being served, when there is one.
fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// `details` with the id of the request being served (`request_id`), when there is one.
fn with_request_id(details: Value) -> Value {
    match (details, current_request_id()) {
        (Value::Object(mut details), Some(id)) => {
            details.insert("request_id".into(), Value::String(id));
            Value::Object(details)
        }
        (details, _) => details,
    }
}

/// The audit entry of a step of a workflow: `actor` did `event` to `subject` at `at`, with the
/// request's id among the details. Written by the store in the step's own transaction.
pub(crate) fn audit_entry(
    event: String,
    actor: &str,
    subject: impl ToString,
    details: Value,
    at: OffsetDateTime,
) -> AuditEvent {
    AuditEvent {
        seq: 0,
        recorded_at: at,
        event,
        actor: Some(actor.to_owned()),
        subject: Some(subject.to_string()),
        details: with_request_id(details),
    }
}

/// What happened, to what, by whom.
#[derive(Debug)]
pub(crate) struct SecurityEvent<'a> {
    pub event: &'static str,
    pub actor: Option<&'a str>,
    pub subject: Option<String>,
    pub details: Value,
}

impl SecurityEvent<'_> {
    /// Logs the event (refusals as warnings) and appends it to the audit log on its own: for an
    /// event that is not a change (a refusal, a failed authentication).
    pub(crate) async fn record(self, store: &Store) {
        self.log();
        let entry = self.entry();
        if let Err(error) = store.append_audit_event(&entry).await {
            tracing::error!(
                ?error,
                event = entry.event,
                "cannot append to the audit log"
            );
        }
    }

    /// The event's audit entry, for the store to write in the transaction of the change it
    /// describes (then [`SecurityEvent::log`] once that committed).
    pub(crate) fn entry(&self) -> AuditEvent {
        AuditEvent {
            seq: 0,
            recorded_at: now(),
            event: self.event.to_owned(),
            actor: self.actor.map(str::to_owned),
            subject: self.subject.clone(),
            details: with_request_id(self.details.clone()),
        }
    }

    /// Counts and logs the event (refusals as warnings).
    pub(crate) fn log(&self) {
        metrics::counter!("fathom_security_events_total", "event" => self.event).increment(1);
        let refusal = self.event.ends_with("_failed") || self.event.ends_with("_denied");
        let (actor, subject) = (
            self.actor.unwrap_or("-"),
            self.subject.as_deref().unwrap_or("-"),
        );
        if refusal {
            tracing::warn!(security_event = self.event, actor, subject, details = %self.details, "security event");
        } else {
            tracing::info!(security_event = self.event, actor, subject, details = %self.details, "security event");
        }
    }
}
