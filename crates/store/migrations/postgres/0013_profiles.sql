-- Metadata profiles: each registered version of a profile (its JSON Schema in body), immutable, in
-- version order.
CREATE TABLE profile_versions (
    profile     TEXT NOT NULL,
    major       BIGINT NOT NULL,
    minor       BIGINT NOT NULL,
    patch       BIGINT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (profile, major, minor, patch)
);
