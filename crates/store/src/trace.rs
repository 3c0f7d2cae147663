//! The trace context a change is written in, for its event: the store knows nothing of
//! OpenTelemetry, so the program that exports traces says how to read the current one.

use std::sync::OnceLock;

static CURRENT: OnceLock<fn() -> Option<String>> = OnceLock::new();

/// Sets, once for the process, how the W3C `traceparent` of the current span is read.
pub fn read_traceparent_with(current: fn() -> Option<String>) {
    let _ = CURRENT.set(current);
}

/// The current span's `traceparent`, if traces are exported and there is one.
pub(crate) fn current_traceparent() -> Option<String> {
    CURRENT.get().and_then(|current| current())
}
