//! `Idempotency-Key`: a retried POST replays the first response instead of writing twice.

use fathom_model::Principal;
use fathom_store::{EntityType, IdempotencyClaim, Store, now};
use sha2::{Digest, Sha256};
use time::Duration;
use uuid::Uuid;

use crate::codes::Code;
use crate::error::ServiceError;

/// How long a key is remembered.
pub const IDEMPOTENCY_TTL: Duration = Duration::hours(24);

/// How long a claim may stay unfinished before a retry of the same request takes it over. The API runs
/// a request with a key to its end even when its client leaves or the server's timeout (60 s) answers
/// first, so a claim this old was held by a process that died.
pub const CLAIM_ABANDONED_AFTER: Duration = Duration::seconds(90);

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
    /// Seen: it wrote this record, but its process died before its response was kept.
    Written { entity: EntityType, id: Uuid },
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
        let now = now();
        let claim = self
            .store
            .claim_idempotency_key(
                principal.user_id,
                key,
                &request_hash,
                now,
                now - CLAIM_ABANDONED_AFTER,
            )
            .await
            .map_err(ServiceError::Internal)?;
        match claim {
            IdempotencyClaim::Claimed => Ok(Attempt::Run),
            IdempotencyClaim::Written { entity_type, id } => Ok(Attempt::Written {
                entity: entity_type,
                id,
            }),
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

    /// Runs `request`, which claimed `key` ([`Attempt::Run`]): each of its writes notes in the claim,
    /// in its own transaction, what it wrote.
    pub async fn holding<F: Future>(
        &self,
        principal: &Principal,
        key: &str,
        request: F,
    ) -> F::Output {
        fathom_store::holding_claim(principal.user_id, key, request).await
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
    /// When the database does not answer (the likely failure), it goes on trying in the background,
    /// every second until the claim would count as abandoned anyway.
    pub async fn release(&self, principal: &Principal, key: &str) {
        let (store, user, key) = (self.store.clone(), principal.user_id, key.to_owned());
        if store.release_idempotency_key(user, &key).await.is_ok() {
            return;
        }
        tokio::spawn(async move {
            for _ in 0..CLAIM_ABANDONED_AFTER.whole_seconds() {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                if store.release_idempotency_key(user, &key).await.is_ok() {
                    return;
                }
            }
        });
    }

    /// Forgets keys older than [`IDEMPOTENCY_TTL`]; returns how many.
    pub async fn prune(&self) -> Result<u64, ServiceError> {
        self.store
            .prune_idempotency_keys(now() - IDEMPOTENCY_TTL)
            .await
            .map_err(ServiceError::Internal)
    }
}
