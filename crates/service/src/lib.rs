//! Use cases: the one place where permission is decided and writes are shaped. The HTTP API and the
//! command line both call these; neither talks to the store directly.

pub mod access;
mod audit;
mod catalogue;
mod codes;
mod error;
mod events;
mod harvesting;
mod idempotency;
mod identity;
mod merge_patch;
mod oai_pmh;
mod oidc;
pub mod parameters;
mod revision_diff;
mod search;
mod services;
mod sessions;
mod sharing;
mod sparql;
mod stewards;
mod webhooks;

pub use audit::REQUEST_ID;
pub use catalogue::{
    Catalogue, IMPORT_BATCH, ImportOutcome, ImportStatus, ImportedRecord, Lineage, LineageEdge,
    LineageNode, OnError, ProfileSummary, PublicationView, RejectedLine, VersionEntry,
    WorkingCopyView,
};
pub use codes::Code;
pub use error::ServiceError;
pub use events::{Events, TargetReport};
pub use fathom_events::{Channels, RelayHealth};
pub use fathom_formats::{FORMATS, Format};
pub use fathom_search::{
    DEFAULT_CACHE_ENTRIES, Direction, EXACT_UP_TO, Facet, FacetCount, Hit, SearchRequest,
    SearchResults, Sort, TimeRange, Visibility,
};
pub use harvesting::{DEFAULT_LEASE, Harvesting};
pub use idempotency::{Attempt, CLAIM_ABANDONED_AFTER, IDEMPOTENCY_TTL, Idempotency};
pub use identity::{
    Identity, IssuedToken, LONGEST_TOKEN_DAYS, NewUser, TOKEN_PREFIX, random_secret, secrets_match,
    token_expiry,
};
pub use merge_patch::merge_patch;
pub use oai_pmh::{DEFAULT_OAI_PAGE, OaiItem, OaiPage, OaiPmh, OaiQuery, ResumeError};
pub use oidc::{CALLBACK_PATH, ClaimNames, OidcClient, OidcConfig, OidcStart};
pub use revision_diff::{PatchOperation, RevisionDiff};
pub use search::Search;
pub use services::{Database, IndexSettings, ServiceSettings, Services};
pub use sessions::{
    FailedAuthentication, MIN_PASSWORD, SessionSettings, SessionView, Sessions, SignedIn,
};
pub use sharing::{
    AUDITORS, AccessRequestView, ActionInput, GrantScope, GrantView, INBOX_LIMIT, InboxItem,
    RELEASE_ACTIONS, RELEASE_OFFICERS, SECURITY_OFFICERS, Sharing, SharingSettings, SweepReport,
};
pub use sparql::{ResultsFormat, Sparql, SparqlAnswer, SparqlError};
pub use webhooks::{DeadLetterView, WebhookInput, WebhookSettings, WebhookView, Webhooks};

pub use fathom_store::{
    AuditEvent, AuditFilter, ChainReport, ConceptFilter, DB_OPERATION_SECONDS, DatasetFilter,
    EntityType, Operation, PageRequest, PoolStatus, Position, RecordJson, RecordKey, Revision,
    Store, TokenSummary, User, Walk,
};
