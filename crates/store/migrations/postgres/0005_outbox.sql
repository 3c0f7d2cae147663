-- The transactional outbox: one event per committed change, written in the change's transaction and
-- appended under the change feed's lock, so that `seq` order is commit order.
CREATE TABLE outbox (
    seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id        UUID NOT NULL CONSTRAINT outbox_id_key UNIQUE,
    type      TEXT NOT NULL,
    subject   UUID NOT NULL,
    sequence  BIGINT NOT NULL,
    time      TIMESTAMPTZ NOT NULL,
    data      TEXT NOT NULL
);
CREATE INDEX outbox_time ON outbox (time);

-- Where each delivery target (a broker, a webhook subscription) has got to in the outbox, and which
-- relay holds it: one relay at a time per target, so events reach it in order.
CREATE TABLE event_targets (
    name          TEXT PRIMARY KEY,
    position      BIGINT NOT NULL,
    lease_owner   TEXT,
    lease_until   TIMESTAMPTZ,
    heartbeat_at  TIMESTAMPTZ NOT NULL
);
