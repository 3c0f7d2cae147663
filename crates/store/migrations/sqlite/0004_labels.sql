-- The label of each dataset in columns, so that lists filter by what the reader may see in SQL:
-- the classification, and the values of each category. (Rows written before this migration have no
-- classification and are seen by administrators only until written again.)
ALTER TABLE datasets ADD COLUMN classification TEXT NOT NULL DEFAULT '';
CREATE TABLE dataset_label_values (
    dataset_id   BLOB NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    tag          TEXT NOT NULL,
    restrictive  BOOLEAN NOT NULL,
    value        TEXT NOT NULL,
    PRIMARY KEY (dataset_id, tag, value)
);
