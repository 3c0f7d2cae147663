-- The catalogue core on SQLite. Identifiers are 16-byte UUID blobs (byte order = UUIDv7 time order),
-- times are fixed-width UTC text (`YYYY-MM-DDTHH:MM:SS.ffffffZ`) so that text order is time order,
-- and `body` holds the whole record as JSON, as served.

CREATE TABLE organisations (
    id          BLOB PRIMARY KEY NOT NULL,
    slug        TEXT NOT NULL CONSTRAINT organisations_slug_key UNIQUE,
    revision    INTEGER NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE datasets (
    id            BLOB PRIMARY KEY NOT NULL,
    slug          TEXT NOT NULL CONSTRAINT datasets_slug_key UNIQUE,
    organisation  TEXT NOT NULL REFERENCES organisations (slug),
    state         TEXT NOT NULL,
    revision      INTEGER NOT NULL,
    body          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX datasets_organisation_id ON datasets (organisation, id);
CREATE INDEX datasets_updated_at_id ON datasets (updated_at, id);
CREATE INDEX datasets_organisation_updated_at_id ON datasets (organisation, updated_at, id);

-- Lowercased keywords, for the `keyword` filter.
CREATE TABLE dataset_keywords (
    keyword     TEXT NOT NULL,
    dataset_id  BLOB NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    PRIMARY KEY (keyword, dataset_id)
);
CREATE INDEX dataset_keywords_dataset_id ON dataset_keywords (dataset_id);

-- Immutable history: one full snapshot per revision of every record (NULL body for a deletion).
CREATE TABLE revisions (
    entity_type  TEXT NOT NULL,
    entity_id    BLOB NOT NULL,
    revision     INTEGER NOT NULL,
    operation    TEXT NOT NULL,
    body         TEXT,
    actor        TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    PRIMARY KEY (entity_type, entity_id, revision)
);

-- Every committed change, in commit order (one writer at a time on SQLite).
CREATE TABLE change_feed (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_type  TEXT NOT NULL,
    entity_id    BLOB NOT NULL,
    revision     INTEGER NOT NULL,
    operation    TEXT NOT NULL,
    recorded_at  TEXT NOT NULL
);

CREATE TABLE users (
    id          BLOB PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL CONSTRAINT users_name_key UNIQUE,
    role        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- API tokens: only the SHA-256 of the 256-bit secret is kept.
CREATE TABLE api_tokens (
    id           BLOB PRIMARY KEY NOT NULL,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_hash  BLOB NOT NULL CONSTRAINT api_tokens_secret_hash_key UNIQUE,
    description  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    revoked_at   TEXT
);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

-- Responses to POST commands sent with an Idempotency-Key, replayed on retry.
CREATE TABLE idempotency_keys (
    principal     BLOB NOT NULL,
    key           TEXT NOT NULL,
    request_hash  BLOB NOT NULL,
    status        INTEGER,
    response      TEXT,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
