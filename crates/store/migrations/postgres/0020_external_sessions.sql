-- Sessions of people who signed in at the OpenID Connect issuer and have no row in `users`: their
-- attributes as the issuer vouched for them at sign-in (JSON) take the place of a user id.
ALTER TABLE sessions ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE sessions ADD COLUMN external_user TEXT;
ALTER TABLE sessions ADD CONSTRAINT sessions_one_user CHECK ((user_id IS NULL) <> (external_user IS NULL));
