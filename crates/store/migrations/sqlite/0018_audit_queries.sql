-- Audit queries by actor, subject or event, in order (`GET /api/v1/audit`).
CREATE INDEX audit_events_actor ON audit_events (actor, seq);
CREATE INDEX audit_events_subject ON audit_events (subject, seq);
CREATE INDEX audit_events_event ON audit_events (event, seq);
