//! The idempotency keys of writes that clients retry. Their rows and filters, and `Store`'s methods
//! on them; the SQL is in `repository/idempotency.rs`.

use super::*;

/// What a POST with an `Idempotency-Key` found when it claimed the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key is new and now held by this request, which must complete or release it.
    Claimed,
    /// Another request with this key has not finished yet.
    InProgress,
    /// A request with this key finished; its response is to be replayed if the request is the same.
    Completed {
        request_hash: Vec<u8>,
        status: u16,
        response: String,
    },
}

impl Store {
    pub async fn claim_idempotency_key(
        &self,
        principal: Uuid,
        key: &str,
        request_hash: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<IdempotencyClaim> {
        dispatch!(self, r => r.claim_idempotency_key(principal, key, request_hash, now).await)
    }

    pub async fn complete_idempotency_key(
        &self,
        principal: Uuid,
        key: &str,
        status: u16,
        response: &str,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.complete_idempotency_key(principal, key, status, response).await)
    }

    /// Frees a claimed key after a failure that should not be replayed (e.g. the database was down).
    pub async fn release_idempotency_key(&self, principal: Uuid, key: &str) -> StoreResult<()> {
        dispatch!(self, r => r.release_idempotency_key(principal, key).await)
    }

    /// Forgets idempotency keys created before `before`.
    pub async fn prune_idempotency_keys(&self, before: OffsetDateTime) -> StoreResult<u64> {
        dispatch!(self, r => r.prune_idempotency_keys(before).await)
    }
}
