-- The domain model's entities (data domains, projects, campaigns, platforms, instruments, observed
-- properties): one table, the kind beside the slug, which is unique per kind and never changes.
CREATE TABLE entities (
    id          BLOB PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL,
    slug        TEXT NOT NULL,
    revision    INTEGER NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CONSTRAINT entities_kind_slug_key UNIQUE (kind, slug)
);
CREATE INDEX entities_kind_id ON entities (kind, id);

-- Which entity each dataset or entity (`source_id`) refers to. The foreign key keeps a referenced
-- entity from being deleted; the target index finds a platform's datasets.
CREATE TABLE entity_references (
    source_id  BLOB NOT NULL,
    kind       TEXT NOT NULL,
    slug       TEXT NOT NULL,
    PRIMARY KEY (source_id, kind, slug),
    FOREIGN KEY (kind, slug) REFERENCES entities (kind, slug)
);
CREATE INDEX entity_references_kind_slug ON entity_references (kind, slug);
