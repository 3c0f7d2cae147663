-- The transactional outbox is the change feed: each change's row also carries the event that tells of
-- it, written in the change's transaction and appended under the feed's lock, so events are in commit
-- order with no second insert. `event_data` is cleared once the event is delivered and old (pruned);
-- rows written before this migration have no event.
ALTER TABLE change_feed ADD COLUMN event_id UUID;
ALTER TABLE change_feed ADD COLUMN event_type TEXT;
ALTER TABLE change_feed ADD COLUMN event_data TEXT;
CREATE INDEX change_feed_pending_events ON change_feed (seq) WHERE event_data IS NOT NULL;

-- Where each delivery target (a broker, a webhook subscription) has got to in the change feed, and
-- which relay holds it: one relay at a time per target, so events reach it in order.
CREATE TABLE event_targets (
    name          TEXT PRIMARY KEY,
    position      BIGINT NOT NULL,
    lease_owner   TEXT,
    lease_until   TIMESTAMPTZ,
    heartbeat_at  TIMESTAMPTZ NOT NULL
);
