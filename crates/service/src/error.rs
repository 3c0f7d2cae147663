use fathom_model::{DecodeError, ValidationErrors};
use fathom_store::StoreError;

/// Why a use case refused or failed, in terms the API maps to one status each.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The request body is not JSON at all.
    #[error("{0}")]
    Malformed(String),
    #[error("invalid request: {0}")]
    Invalid(#[from] ValidationErrors),
    /// The record does not exist, or the caller may not know that it does.
    #[error("no {0} with this id or slug")]
    NotFound(&'static str),
    #[error("authentication required")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(&'static str),
    /// The caller's `If-Match` names a revision that is no longer current.
    #[error("the {entity} is no longer at revision {expected}")]
    StaleRevision { entity: &'static str, expected: i64 },
    #[error("another {entity} already has this {field}")]
    Duplicate { entity: &'static str, field: String },
    #[error("{0}")]
    Conflict(String),
    /// An `Idempotency-Key` already used for a different request.
    #[error("this Idempotency-Key was used for a different request")]
    KeyReused,
    /// What was asked for existed once and is gone for good.
    #[error("{0}")]
    Gone(&'static str),
    /// A system Fathom called on the caller's behalf failed (a webhook receiver).
    #[error("{0}")]
    Upstream(String),
    #[error("internal error")]
    Internal(#[source] StoreError),
    #[error("search failed")]
    Search(#[source] fathom_search::SearchError),
}

impl ServiceError {
    /// Maps a store error about `entity`. Expected conditions become their own variants; anything
    /// else is internal.
    pub(crate) fn from_store(entity: &'static str, error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::NotFound(entity),
            StoreError::Duplicate { field } => Self::Duplicate { entity, field },
            other => Self::Internal(other),
        }
    }
}

impl From<DecodeError> for ServiceError {
    fn from(error: DecodeError) -> Self {
        match error {
            DecodeError::Malformed(message) => Self::Malformed(message),
            DecodeError::Invalid(errors) => Self::Invalid(errors),
        }
    }
}

impl ServiceError {
    /// The error on one line, naming each invalid field: for logs and the command line.
    pub fn summary(&self) -> String {
        match self {
            Self::Invalid(errors) => errors
                .0
                .iter()
                .map(|e| {
                    let pointer = if e.pointer.is_empty() {
                        "/"
                    } else {
                        &e.pointer
                    };
                    format!("{pointer}: {}", e.message)
                })
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        }
    }
}
