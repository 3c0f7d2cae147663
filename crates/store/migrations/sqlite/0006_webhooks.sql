-- Webhook subscriptions: events of the given types that `owner` may see, POSTed to `url`, signed
-- with `secret` (kept to sign; shown once when the subscription is made). Each is the event target
-- `webhook:<id>`, starting at the change feed's position when it was made.
CREATE TABLE webhooks (
    id           BLOB PRIMARY KEY NOT NULL,
    url          TEXT NOT NULL,
    event_types  TEXT NOT NULL,
    secret       TEXT NOT NULL,
    owner        TEXT NOT NULL REFERENCES users (name),
    created_by   TEXT NOT NULL,
    start_seq    INTEGER NOT NULL,
    created_at   TEXT NOT NULL
);

-- Events a target gave up on after its attempts ran out, for an operator to redeliver.
CREATE TABLE dead_letters (
    target     TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    event_id   BLOB NOT NULL,
    attempts   INTEGER NOT NULL,
    error      TEXT NOT NULL,
    failed_at  TEXT NOT NULL,
    PRIMARY KEY (target, seq)
);
