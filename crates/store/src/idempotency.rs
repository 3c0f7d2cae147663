//! The idempotency keys of writes that clients retry. Their rows and filters, and `Store`'s methods
//! on them; the SQL is in `repository/idempotency.rs`.

use super::*;

tokio::task_local! {
    /// The `Idempotency-Key` claim (principal, key) of the request being served: each write it
    /// commits notes in the claim what it wrote (`note_write` in `repository/idempotency.rs`).
    static CLAIM: (Uuid, String);
}

/// Runs `request`, which holds the claim of `key` for `principal`, so that its writes note it.
pub async fn holding_claim<F: Future>(principal: Uuid, key: &str, request: F) -> F::Output {
    CLAIM.scope((principal, key.to_owned()), request).await
}

/// The claim the current request holds, if any.
pub(crate) fn current_claim() -> Option<(Uuid, String)> {
    CLAIM.try_with(Clone::clone).ok()
}

/// What a POST with an `Idempotency-Key` found when it claimed the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key is new (or its claim was abandoned) and now held by this request, which must
    /// complete or release it.
    Claimed,
    /// Another request with this key has not finished yet.
    InProgress,
    /// A request with this key wrote this record, then its process died before it could keep its
    /// response: the write is not to be made again.
    Written { entity_type: EntityType, id: Uuid },
    /// A request with this key finished; its response is to be replayed if the request is the same.
    Completed {
        request_hash: Vec<u8>,
        status: u16,
        response: String,
    },
}

impl Store {
    /// Claims `key` for a request at `now`. A claim of the same request made before
    /// `abandoned_before` and never completed nor released was abandoned (its process died): it is
    /// taken over when its request wrote nothing, and answered as [`IdempotencyClaim::Written`] when
    /// it did.
    pub async fn claim_idempotency_key(
        &self,
        principal: Uuid,
        key: &str,
        request_hash: &[u8],
        now: OffsetDateTime,
        abandoned_before: OffsetDateTime,
    ) -> StoreResult<IdempotencyClaim> {
        dispatch!(self, r => r.claim_idempotency_key(principal, key, request_hash, now, abandoned_before).await)
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

    /// Frees a claimed key after a failure that should not be replayed (e.g. the database was down),
    /// unless its request wrote a record: that write is not to be made again.
    pub async fn release_idempotency_key(&self, principal: Uuid, key: &str) -> StoreResult<()> {
        dispatch!(self, r => r.release_idempotency_key(principal, key).await)
    }

    /// Forgets idempotency keys created before `before`.
    pub async fn prune_idempotency_keys(&self, before: OffsetDateTime) -> StoreResult<u64> {
        dispatch!(self, r => r.prune_idempotency_keys(before).await)
    }
}
