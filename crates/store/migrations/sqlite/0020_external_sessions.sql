-- Sessions of people who signed in at the OpenID Connect issuer and have no row in `users`: their
-- attributes as the issuer vouched for them at sign-in (JSON) take the place of a user id. SQLite
-- cannot drop a NOT NULL, so the table is made again.
CREATE TABLE sessions_new (
    id_hash        BLOB PRIMARY KEY NOT NULL,
    user_id        BLOB REFERENCES users (id) ON DELETE CASCADE,
    external_user  TEXT,
    csrf_token     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    last_seen_at   TEXT NOT NULL,
    expires_at     TEXT NOT NULL,
    CHECK ((user_id IS NULL) <> (external_user IS NULL))
);
INSERT INTO sessions_new (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at)
    SELECT id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
