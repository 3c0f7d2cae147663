use std::borrow::Cow;

use fathom_model::{DecodeError, ValidationErrors};
use fathom_store::StoreError;

use crate::codes::Code;
use crate::parameters::InvalidParameter;

/// Why a use case refused or failed, in terms the API maps to one problem each (see [`Code`]).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The request body is not JSON at all.
    #[error("{0}")]
    Malformed(String),
    #[error("invalid request: {0}")]
    Invalid(#[from] ValidationErrors),
    /// A query parameter that cannot be used.
    #[error("{0}")]
    InvalidParameter(#[from] InvalidParameter),
    /// Fields that refer to what does not exist, or what the caller may not see: organisations,
    /// entities, concepts of bound vocabularies.
    #[error("unresolved references: {0}")]
    Unresolved(ValidationErrors),
    /// The record does not exist, or the caller may not know that it does.
    #[error("no {0} with this id or slug")]
    NotFound(&'static str),
    #[error("authentication required")]
    Unauthenticated,
    /// The caller's `If-Match` names a revision that is no longer current.
    #[error("the {entity} is no longer at revision {expected}")]
    StaleRevision { entity: &'static str, expected: i64 },
    #[error("another {entity} already has this {field}")]
    Duplicate { entity: &'static str, field: String },
    /// Refused for a reason the code names (its status: 403, 409, 410, 422, 502), said in words.
    #[error("{detail}")]
    Refused {
        code: Code,
        detail: Cow<'static, str>,
    },
    /// A fault of the server outside the store (a random source, a client that cannot be built).
    #[error("{0}")]
    Fault(String),
    #[error("internal error")]
    Internal(#[source] StoreError),
    #[error("search failed")]
    Search(#[source] fathom_search::SearchError),
}

impl ServiceError {
    /// Refused for the reason `code` names, said by `detail`.
    pub fn refused(code: Code, detail: impl Into<Cow<'static, str>>) -> Self {
        Self::Refused {
            code,
            detail: detail.into(),
        }
    }

    /// The code of the failure.
    pub fn code(&self) -> Code {
        match self {
            Self::Malformed(_) => Code::MalformedJson,
            Self::Invalid(_) => Code::ValidationFailed,
            Self::InvalidParameter(_) => Code::InvalidParameter,
            Self::Unresolved(_) => Code::ReferenceNotFound,
            Self::NotFound(_) => Code::NotFound,
            Self::Unauthenticated => Code::Unauthenticated,
            Self::StaleRevision { .. } => Code::StaleRevision,
            Self::Duplicate { field, .. } if field == "slug" => Code::SlugTaken,
            Self::Duplicate { .. } => Code::Duplicate,
            Self::Refused { code, .. } => *code,
            Self::Internal(source) if source.is_unavailable() => Code::Unavailable,
            Self::Fault(_) | Self::Internal(_) | Self::Search(_) => Code::Internal,
        }
    }
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
            Self::Invalid(errors) | Self::Unresolved(errors) => errors
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
