-- The publication workflow of datasets whose data domain reviews publication: per dataset, its
-- working copy, who submitted what is in review, and the history of its steps (as JSON).
CREATE TABLE publications (
    dataset_id  BLOB PRIMARY KEY NOT NULL,
    revision    INTEGER NOT NULL,
    body        TEXT NOT NULL
);
