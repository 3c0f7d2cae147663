-- Links between datasets: what each was derived from (PROV `wasDerivedFrom`) and the version it
-- follows (DCAT `previousVersion`). The target has no foreign key: provenance stays true after the
-- dataset it names is deleted. Walks go both ways: by dataset (upstream) and by target (downstream).
CREATE TABLE dataset_links (
    dataset_id  BLOB NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    relation    TEXT NOT NULL,
    target_id   BLOB NOT NULL,
    PRIMARY KEY (dataset_id, relation, target_id)
);
CREATE INDEX dataset_links_target_id ON dataset_links (target_id, relation, dataset_id);
