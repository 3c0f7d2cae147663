-- What stays of a deleted dataset for harvesters (OAI-PMH `deletedRecord` persistent): when it was
-- deleted, whose it was, and the label it last had, which decides who may learn of the deletion.
CREATE TABLE dataset_tombstones (
    id            BLOB PRIMARY KEY NOT NULL,
    organisation  TEXT NOT NULL,
    label         TEXT NOT NULL,
    deleted_at    TEXT NOT NULL
);
CREATE INDEX dataset_tombstones_deleted_at_id ON dataset_tombstones (deleted_at, id);

-- Keys every replica shares (e.g. the one that signs OAI-PMH resumption tokens), made once at random.
CREATE TABLE server_secrets (
    name   TEXT PRIMARY KEY NOT NULL,
    value  BLOB NOT NULL
);
