-- The catalogue core on PostgreSQL; the same tables as on SQLite, with native types. `body` is the
-- record's JSON exactly as served, as TEXT rather than JSONB: JSONB would reorder its keys and make every
-- read re-encode it. A query that needs to look inside can cast it (`body::jsonb`).

CREATE TABLE organisations (
    id          UUID PRIMARY KEY,
    slug        TEXT NOT NULL CONSTRAINT organisations_slug_key UNIQUE,
    revision    BIGINT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE datasets (
    id            UUID PRIMARY KEY,
    slug          TEXT NOT NULL CONSTRAINT datasets_slug_key UNIQUE,
    organisation  TEXT NOT NULL REFERENCES organisations (slug),
    state         TEXT NOT NULL,
    revision      BIGINT NOT NULL,
    body          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX datasets_organisation_id ON datasets (organisation, id);
CREATE INDEX datasets_updated_at_id ON datasets (updated_at, id);
CREATE INDEX datasets_organisation_updated_at_id ON datasets (organisation, updated_at, id);

CREATE TABLE dataset_keywords (
    keyword     TEXT NOT NULL,
    dataset_id  UUID NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    PRIMARY KEY (keyword, dataset_id)
);
CREATE INDEX dataset_keywords_dataset_id ON dataset_keywords (dataset_id);

CREATE TABLE revisions (
    entity_type  TEXT NOT NULL,
    entity_id    UUID NOT NULL,
    revision     BIGINT NOT NULL,
    operation    TEXT NOT NULL,
    body         TEXT,
    actor        TEXT NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (entity_type, entity_id, revision)
);

-- Appends are serialised by a transaction-scoped advisory lock taken just before the insert, so a
-- sequence value is never visible after a larger one: tailing by `seq` never skips a row.
CREATE TABLE change_feed (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entity_type  TEXT NOT NULL,
    entity_id    UUID NOT NULL,
    revision     BIGINT NOT NULL,
    operation    TEXT NOT NULL,
    recorded_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL CONSTRAINT users_name_key UNIQUE,
    role        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_tokens (
    id           UUID PRIMARY KEY,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_hash  BYTEA NOT NULL CONSTRAINT api_tokens_secret_hash_key UNIQUE,
    description  TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

CREATE TABLE idempotency_keys (
    principal     UUID NOT NULL,
    key           TEXT NOT NULL,
    request_hash  BYTEA NOT NULL,
    status        INTEGER,
    response      TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
