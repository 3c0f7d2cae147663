-- The W3C trace context of the request that made the change, when traces are exported: carried into
-- the event (the CloudEvents distributed-tracing extension) so that consumers join the trace.
ALTER TABLE change_feed ADD COLUMN event_traceparent TEXT;
