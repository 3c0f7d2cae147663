-- The audit log as a hash chain: each entry holds the SHA-256 of the entry before it and its own,
-- computed over that and its content (`fathom audit verify` walks the chain). Entries written before
-- this migration are chained when the store next opens.
ALTER TABLE audit_events ADD COLUMN previous_hash BLOB;
ALTER TABLE audit_events ADD COLUMN hash BLOB;
