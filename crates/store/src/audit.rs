//! The hash-chained audit log: its entries, filters and chain reports, and `Store`'s methods on it;
//! the SQL is in `repository/audit.rs`.

use super::*;

/// Which audit entries a query keeps: those of this actor, about this subject, of this event
/// (each when given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub subject: Option<String>,
    pub event: Option<String>,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AuditEvent {
    /// Its place in the log, from 1 (0 for one not yet written).
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub recorded_at: OffsetDateTime,
    /// What happened: `authentication_failed`, `token_created`, `label_changed`, …
    pub event: String,
    /// Who did it, when known.
    pub actor: Option<String>,
    /// What it was done to: a user, a token id, a dataset.
    pub subject: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// The hash of an audit entry in the chain: SHA-256 over the previous entry's hash and this entry's
/// content (sequence number, time, event, actor, subject, details as stored).
pub fn audit_hash(previous: &[u8], event: &AuditEvent) -> Vec<u8> {
    use sha2::Digest;
    // The time as stored: in UTC, to the microsecond.
    let at = event.recorded_at.to_offset(time::UtcOffset::UTC);
    let at = at
        .replace_nanosecond(at.nanosecond() / 1_000 * 1_000)
        .unwrap_or(at);
    let content = serde_json::json!([
        event.seq,
        at.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        event.event,
        event.actor,
        event.subject,
        event.details.to_string(),
    ]);
    let mut hasher = sha2::Sha256::new();
    hasher.update(previous);
    hasher.update(content.to_string().as_bytes());
    hasher.finalize().to_vec()
}

/// The first entry of the audit log whose link is broken: its sequence number and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    pub seq: i64,
    pub reason: String,
}

/// What walking the audit log's chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub entries: u64,
    /// The last entry's hash (hex), which a later walk can be compared with.
    pub last_hash: Option<String>,
    pub broken: Option<BrokenLink>,
}

impl Store {
    /// Appends an event to the audit log.
    pub async fn append_audit_event(&self, event: &AuditEvent) -> StoreResult<()> {
        dispatch!(self, r => r.append_audit_event(event).await)
    }

    /// Walks the audit log's hash chain from the first entry and reports the first broken link:
    /// an entry changed, removed or inserted out of turn.
    pub async fn verify_audit_chain(&self) -> StoreResult<ChainReport> {
        dispatch!(self, r => r.verify_audit_chain().await)
    }

    /// The audit log after `after`, in order.
    pub async fn audit_events(&self, after: i64, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        self.audit_search(&AuditFilter::default(), after, limit)
            .await
    }

    /// The entries of the audit log after `after` that `filter` keeps, in order.
    pub async fn audit_search(
        &self,
        filter: &AuditFilter,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<AuditEvent>> {
        dispatch!(self, r => r.audit_events(filter, after, limit).await)
    }
}
