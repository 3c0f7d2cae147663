//! `Idempotency-Key`: a retried POST replays the first response instead of writing twice.

use fathom_model::Principal;
use fathom_store::{IdempotencyClaim, Store, now};
use sha2::{Digest, Sha256};
use time::Duration;

use crate::codes::Code;
use crate::error::ServiceError;

/// How long a key is remembered.
pub const IDEMPOTENCY_TTL: Duration = Duration::hours(24);

#[derive(Debug, Clone)]
pub struct Idempotency {
    store: Store,
}

/// What to do with a request that carries a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// First time: run it, then [`Idempotency::complete`] or [`Idempotency::release`].
    Run,
    /// Seen and finished: send this response again.
    Replay { status: u16, response: String },
}

impl Idempotency {
    pub(crate) fn new(store: Store) -> Self {
        Self { store }
    }

    /// Claims `key` for this principal and request (`fingerprint`: method, path and body).
    pub async fn begin(
        &self,
        principal: &Principal,
        key: &str,
        fingerprint: &[&[u8]],
    ) -> Result<Attempt, ServiceError> {
        let mut hasher = Sha256::new();
        for part in fingerprint {
            hasher.update((part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
        let request_hash = hasher.finalize().to_vec();
        let claim = self
            .store
            .claim_idempotency_key(principal.user_id, key, &request_hash, now())
            .await
            .map_err(ServiceError::Internal)?;
        match claim {
            IdempotencyClaim::Claimed => Ok(Attempt::Run),
            IdempotencyClaim::InProgress => Err(ServiceError::refused(
                Code::IdempotencyInProgress,
                "a request with this Idempotency-Key is still in progress",
            )),
            IdempotencyClaim::Completed {
                request_hash: seen, ..
            } if seen != request_hash => Err(ServiceError::refused(
                Code::IdempotencyKeyReused,
                "this Idempotency-Key was used for a different request",
            )),
            IdempotencyClaim::Completed {
                status, response, ..
            } => Ok(Attempt::Replay { status, response }),
        }
    }

    /// Remembers the response to replay for `key`.
    pub async fn complete(
        &self,
        principal: &Principal,
        key: &str,
        status: u16,
        response: &str,
    ) -> Result<(), ServiceError> {
        self.store
            .complete_idempotency_key(principal.user_id, key, status, response)
            .await
            .map_err(ServiceError::Internal)
    }

    /// Forgets `key` after a failure worth retrying (a server error), so that a retry runs again.
    pub async fn release(&self, principal: &Principal, key: &str) -> Result<(), ServiceError> {
        self.store
            .release_idempotency_key(principal.user_id, key)
            .await
            .map_err(ServiceError::Internal)
    }

    /// Forgets keys older than [`IDEMPOTENCY_TTL`]; returns how many.
    pub async fn prune(&self) -> Result<u64, ServiceError> {
        self.store
            .prune_idempotency_keys(now() - IDEMPOTENCY_TTL)
            .await
            .map_err(ServiceError::Internal)
    }
}
