-- Controlled vocabularies: SKOS concept schemes, each with its concepts. A concept's JSON is its
-- body; its names (labels in every language and its notation, lower-cased) are rows of
-- concept_labels for autocomplete (a prefix is a range of the index) and for checking the values of
-- bound fields; its broader links are rows of concept_broader for walking the hierarchy.
CREATE TABLE vocabularies (
    id          UUID PRIMARY KEY,
    slug        TEXT NOT NULL CONSTRAINT vocabularies_slug_key UNIQUE,
    iri         TEXT NOT NULL CONSTRAINT vocabularies_iri_key UNIQUE,
    revision    BIGINT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE concepts (
    vocabulary_id  UUID NOT NULL REFERENCES vocabularies (id) ON DELETE CASCADE,
    iri            TEXT NOT NULL,
    notation       TEXT,
    -- Its display label, lower-cased: the order of lists.
    sort_label     TEXT COLLATE "C" NOT NULL,
    top            BOOLEAN NOT NULL,
    body           TEXT NOT NULL,
    PRIMARY KEY (vocabulary_id, iri)
);
CREATE INDEX concepts_sort_label ON concepts (vocabulary_id, sort_label, iri);
CREATE INDEX concepts_iri ON concepts (iri);

CREATE TABLE concept_labels (
    vocabulary_id  UUID NOT NULL REFERENCES vocabularies (id) ON DELETE CASCADE,
    label          TEXT COLLATE "C" NOT NULL,
    iri            TEXT NOT NULL,
    PRIMARY KEY (vocabulary_id, label, iri)
);
CREATE INDEX concept_labels_label ON concept_labels (label);

CREATE TABLE concept_broader (
    vocabulary_id  UUID NOT NULL REFERENCES vocabularies (id) ON DELETE CASCADE,
    iri            TEXT NOT NULL,
    broader        TEXT NOT NULL,
    PRIMARY KEY (vocabulary_id, iri, broader)
);
CREATE INDEX concept_broader_broader ON concept_broader (broader, iri);
