-- Data sharing agreements (each as JSON, revisions in `revisions`) and their parties, by which an
-- organisation's members find them.
CREATE TABLE agreements (
    id          BLOB PRIMARY KEY NOT NULL,
    provider    TEXT NOT NULL,
    state       TEXT NOT NULL,
    ends_at     TEXT NOT NULL,
    revision    INTEGER NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX agreements_open ON agreements (state, ends_at);

CREATE TABLE agreement_parties (
    organisation  TEXT NOT NULL,
    agreement_id  BLOB NOT NULL REFERENCES agreements (id),
    PRIMARY KEY (organisation, agreement_id)
);
