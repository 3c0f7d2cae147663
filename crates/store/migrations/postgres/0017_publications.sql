-- The publication workflow of datasets whose data domain reviews publication: per dataset, its
-- working copy, who submitted what is in review, the history of its steps and the release of its label
-- (as JSON); and whether something waits for a reviewer or a release officer, for their inbox.
CREATE TABLE publications (
    dataset_id  UUID PRIMARY KEY,
    revision    BIGINT NOT NULL,
    body        TEXT NOT NULL,
    review_open   BOOLEAN NOT NULL DEFAULT FALSE,
    release_open  BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX publications_review_open ON publications (dataset_id) WHERE review_open;
CREATE INDEX publications_release_open ON publications (dataset_id) WHERE release_open;
