-- The record a request holding an Idempotency-Key wrote, noted in the write's own transaction: when
-- the request's process dies between that commit and the key's completion, a retry learns that the
-- write was made instead of making it again.
ALTER TABLE idempotency_keys ADD COLUMN entity_type TEXT;
ALTER TABLE idempotency_keys ADD COLUMN entity_id UUID;
