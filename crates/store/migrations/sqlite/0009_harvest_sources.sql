-- Catalogues Fathom harvests (the source as JSON, its name unique), the jobs that read them (one
-- running at a time per source, held by a lease that a crashed harvester lets expire), and which
-- dataset each harvested record became, for updates and for retiring what vanished upstream.
CREATE TABLE harvest_sources (
    id          BLOB PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL CONSTRAINT harvest_sources_name_key UNIQUE,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE harvest_jobs (
    id           BLOB PRIMARY KEY NOT NULL,
    source_id    BLOB NOT NULL REFERENCES harvest_sources (id) ON DELETE CASCADE,
    status       TEXT NOT NULL,
    lease_until  TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX harvest_jobs_source_id_started_at ON harvest_jobs (source_id, started_at);
CREATE UNIQUE INDEX harvest_jobs_one_running ON harvest_jobs (source_id) WHERE status = 'running';

CREATE TABLE harvested_records (
    source_id   BLOB NOT NULL REFERENCES harvest_sources (id) ON DELETE CASCADE,
    record_key  TEXT NOT NULL,
    dataset_id  BLOB NOT NULL,
    PRIMARY KEY (source_id, record_key)
);
