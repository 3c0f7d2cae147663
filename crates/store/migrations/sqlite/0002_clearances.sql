-- What a user may read under the security policy: a classification of the policy (none: the
-- policy's public one), a nationality (ISO 3166 alpha-3) and communities (JSON array of strings);
-- and their roles in organisations (JSON array of {organisation, role}), read with the user on every
-- authenticated request. A disabled user's tokens no longer authenticate. A token has scopes
-- (space-separated: read, write, admin) and the time it was last used (kept to within seconds).
ALTER TABLE users ADD COLUMN clearance TEXT;
ALTER TABLE users ADD COLUMN nationality TEXT;
ALTER TABLE users ADD COLUMN communities TEXT NOT NULL DEFAULT '[]';
ALTER TABLE users ADD COLUMN memberships TEXT NOT NULL DEFAULT '[]';
ALTER TABLE users ADD COLUMN disabled_at TEXT;
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'read write admin';
ALTER TABLE api_tokens ADD COLUMN last_used_at TEXT;
