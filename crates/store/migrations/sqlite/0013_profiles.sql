-- Metadata profiles: each registered version of a profile (its JSON Schema in body), immutable, in
-- version order.
CREATE TABLE profile_versions (
    profile     TEXT NOT NULL,
    major       INTEGER NOT NULL,
    minor       INTEGER NOT NULL,
    patch       INTEGER NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (profile, major, minor, patch)
);
