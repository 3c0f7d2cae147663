-- Data sharing: access requests (each with its review as JSON, revisions in `revisions`), who each
-- open request waits for (the inbox), and grants, looked up on every authenticated request by their
-- grantee and time.
CREATE TABLE access_requests (
    id          UUID PRIMARY KEY,
    dataset_id  UUID NOT NULL,
    requester   TEXT NOT NULL,
    state       TEXT NOT NULL,
    deadline    TIMESTAMPTZ NOT NULL,
    revision    BIGINT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX access_requests_requester ON access_requests (requester, id);
CREATE INDEX access_requests_open ON access_requests (state, deadline);

CREATE TABLE access_request_waiting (
    actor       TEXT NOT NULL,
    request_id  UUID NOT NULL REFERENCES access_requests (id),
    PRIMARY KEY (actor, request_id)
);
CREATE INDEX access_request_waiting_request ON access_request_waiting (request_id);

CREATE TABLE grants (
    id            UUID PRIMARY KEY,
    dataset_id    UUID NOT NULL,
    grantee_type  TEXT NOT NULL,
    grantee       TEXT NOT NULL,
    starts_at     TIMESTAMPTZ NOT NULL,
    ends_at       TIMESTAMPTZ NOT NULL,
    revoked_at    TIMESTAMPTZ,
    -- When the end of an expired grant was told (its event written).
    ended_at      TIMESTAMPTZ,
    body          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX grants_grantee ON grants (grantee_type, grantee, ends_at);
CREATE INDEX grants_dataset ON grants (dataset_id, id);
CREATE INDEX grants_unended ON grants (ends_at) WHERE ended_at IS NULL;
