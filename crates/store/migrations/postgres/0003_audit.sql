-- The audit log: security events (authentications refused, tokens and users made or ended, writes
-- refused, labels changed), appended in order. The sharing-workflow work chains them by hash.
CREATE TABLE audit_events (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recorded_at  TIMESTAMPTZ NOT NULL,
    event        TEXT NOT NULL,
    actor        TEXT,
    subject      TEXT,
    details      TEXT NOT NULL DEFAULT '{}'
);
