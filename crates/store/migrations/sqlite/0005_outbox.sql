-- The transactional outbox: one event per committed change, written in the change's transaction
-- (one writer at a time, so `seq` order is commit order).
CREATE TABLE outbox (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    id        BLOB NOT NULL CONSTRAINT outbox_id_key UNIQUE,
    type      TEXT NOT NULL,
    subject   BLOB NOT NULL,
    sequence  INTEGER NOT NULL,
    time      TEXT NOT NULL,
    data      TEXT NOT NULL
);
CREATE INDEX outbox_time ON outbox (time);

-- Where each delivery target (a broker, a webhook subscription) has got to in the outbox, and which
-- relay holds it: one relay at a time per target, so events reach it in order.
CREATE TABLE event_targets (
    name          TEXT PRIMARY KEY NOT NULL,
    position      INTEGER NOT NULL,
    lease_owner   TEXT,
    lease_until   TEXT,
    heartbeat_at  TEXT NOT NULL
);
