//! The change feed and the event outbox: changes, events, the relay's targets, webhooks and dead
//! letters. Their rows and filters, and `Store`'s methods on them; the SQL is in
//! `repository/change_feed.rs`.

use super::*;

/// One committed change, in commit order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Change {
    pub seq: i64,
    /// `organisation`, `dataset`, or a kind of entity (`platform`, …).
    #[schema(value_type = String)]
    pub entity_type: EntityType,
    pub entity_id: Uuid,
    pub revision: i64,
    pub operation: Operation,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
}

/// One event of the outbox, in commit order (`seq`: its change in the change feed). Its `id` stays
/// the same however often it is delivered, so consumers drop duplicates by it.
#[derive(Debug, Clone)]
pub struct OutboxEvent {
    pub seq: i64,
    pub id: Uuid,
    /// `org.fathom.dataset.created`, …
    pub event_type: String,
    /// The record the event is about.
    pub subject: Uuid,
    /// The record's revision: the event's place among the events about its subject.
    pub sequence: i64,
    pub time: OffsetDateTime,
    pub data: Box<serde_json::value::RawValue>,
    /// The W3C `traceparent` of the request that made the change, when traces were exported.
    pub traceparent: Option<String>,
}

/// A delivery target as the outbox knows it: how far it has got, who relays to it, what waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTarget {
    pub name: String,
    /// The `seq` of the last event delivered.
    pub position: i64,
    pub lease_owner: Option<String>,
    pub heartbeat_at: OffsetDateTime,
    /// Events not yet delivered.
    pub pending: i64,
    /// When the oldest of them happened.
    pub oldest_pending: Option<OffsetDateTime>,
}

/// A webhook subscription. Its secret signs deliveries, so it is kept as given (and never shown by
/// `Debug`).
#[derive(Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: Uuid,
    pub url: String,
    /// Event types or patterns (`org.fathom.dataset.*`); empty: every type.
    pub event_types: Vec<String>,
    pub secret: String,
    /// The user whose view of the catalogue decides which events are sent.
    pub owner: String,
    pub created_by: String,
    /// The change feed's position when the subscription was made: events after it are sent.
    pub start_seq: i64,
    pub created_at: OffsetDateTime,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("event_types", &self.event_types)
            .field("secret", &"<redacted>")
            .field("owner", &self.owner)
            .field("created_by", &self.created_by)
            .field("start_seq", &self.start_seq)
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl Webhook {
    /// What the names of webhook subscriptions' event targets begin with.
    pub const TARGET_PREFIX: &str = "webhook:";

    /// The event target the subscription's deliveries are recorded under.
    pub fn target(&self) -> String {
        format!("{}{}", Self::TARGET_PREFIX, self.id)
    }
}

/// An event a target gave up on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub target: String,
    pub seq: i64,
    pub event_id: Uuid,
    pub attempts: i32,
    pub error: String,
    pub failed_at: OffsetDateTime,
}

impl Store {
    /// The sequence number of the latest committed change (0 when there is none).
    pub async fn latest_change(&self) -> StoreResult<i64> {
        dispatch!(self, r => r.latest_change().await)
    }

    /// Changes after `after_seq`, in commit order.
    pub async fn changes_since(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<Change>> {
        dispatch!(self, r => r.changes_since(after_seq, limit).await)
    }

    /// Up to `limit` events of the outbox (the change feed's events not yet pruned) after
    /// `after_seq`, in commit order.
    pub async fn events_after(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<OutboxEvent>> {
        dispatch!(self, r => r.events_after(after_seq, limit).await)
    }

    /// Takes or renews `owner`'s lease on the target `name` until `until`, creating the target at
    /// position `start` if it is new. `None` while another owner holds an unexpired lease; else the
    /// target's position: the `seq` of the last event it was sent.
    pub async fn lease_event_target(
        &self,
        name: &str,
        owner: &str,
        start: i64,
        now: OffsetDateTime,
        until: OffsetDateTime,
    ) -> StoreResult<Option<i64>> {
        dispatch!(self, r => r.lease_event_target(name, owner, start, now, until).await)
    }

    /// Records that the target has been sent every event up to `position` (or, moving back, that
    /// the events after `position` are to be sent again); `false` (and nothing written) if `owner`
    /// no longer holds its lease.
    pub async fn move_event_target(
        &self,
        name: &str,
        owner: &str,
        position: i64,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        dispatch!(self, r => r.move_event_target(name, owner, position, now).await)
    }

    /// Gives up `owner`'s lease on the target, so another relay may take it at once.
    pub async fn release_event_target(&self, name: &str, owner: &str) -> StoreResult<()> {
        dispatch!(self, r => r.release_event_target(name, owner).await)
    }

    /// Every target, with what waits for it.
    pub async fn event_targets(&self) -> StoreResult<Vec<EventTarget>> {
        dispatch!(self, r => r.event_targets().await)
    }

    /// Prunes (clears the data of) events that happened before `before` and that every target
    /// relayed since then has been sent; how many.
    pub async fn prune_events(&self, before: OffsetDateTime) -> StoreResult<u64> {
        dispatch!(self, r => r.prune_events(before).await)
    }

    pub async fn insert_webhook(&self, webhook: &Webhook) -> StoreResult<()> {
        dispatch!(self, r => r.insert_webhook(webhook).await)
    }

    /// Every webhook subscription, oldest first.
    pub async fn webhooks(&self) -> StoreResult<Vec<Webhook>> {
        dispatch!(self, r => r.webhooks().await)
    }

    /// Deletes a subscription with its delivery position and dead letters.
    pub async fn delete_webhook(&self, webhook: &Webhook) -> StoreResult<()> {
        dispatch!(self, r => r.delete_webhook(webhook).await)
    }

    /// Records that `target` gave up on an event, and moves `owner`'s target past it, in one
    /// transaction; `false` (and nothing written) if `owner` no longer holds the target.
    pub async fn dead_letter(&self, letter: &DeadLetter, owner: &str) -> StoreResult<bool> {
        dispatch!(self, r => r.dead_letter(letter, owner).await)
    }

    /// The events `target` gave up on, oldest first.
    pub async fn dead_letters(&self, target: &str) -> StoreResult<Vec<DeadLetter>> {
        dispatch!(self, r => r.dead_letters(target).await)
    }

    pub async fn delete_dead_letter(&self, target: &str, seq: i64) -> StoreResult<()> {
        dispatch!(self, r => r.delete_dead_letter(target, seq).await)
    }
}
