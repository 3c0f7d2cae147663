//! Fathom's domain: the catalogue's records, the values they are made of, and the rules that decide
//! what a principal may do. No I/O, no async, no database or HTTP types: everything here is parsed from
//! plain data and unit-testable in microseconds.

pub mod access;
pub mod agreement;
pub mod dataset;
pub mod entity;
pub mod event;
pub mod harvest;
pub mod identity;
pub mod label;
pub mod marking;
pub mod organisation;
pub mod profile;
pub mod publication;
pub mod sharing;
pub mod validation;
pub mod values;
pub mod vocabulary;
pub mod workflow;

pub use access::{Clearance, Membership, OrganisationRole, Subject};
pub use agreement::{
    Agreement, AgreementAction, AgreementDraft, AgreementInput, AgreementRefusal, AgreementState,
    AgreementTransition, Permitted, Prohibited, ReleasedDataset, Signature, Terms,
};
pub use dataset::{
    AccessRights, Activity, Checksum, ChecksumAlgorithm, ContactPoint, Creator, Dataset,
    DatasetDraft, DatasetInput, DatasetMetadata, DatasetState, Distribution, DistributionInput,
};
pub use entity::{
    CampaignFacts, DomainFacts, Entity, EntityDraft, EntityKind, Facts, InstrumentFacts, Mounting,
    ObservedPropertyFacts, PlatformFacts, PlatformIdentifier, ProjectFacts,
};
pub use event::{
    EVENT_TYPE_PREFIX, EventDraft, EventKind, event_sources, event_types, record_event,
    summary_fields, workflow_event,
};
pub use harvest::{
    Cron, HARVEST_PREFIXES, HarvestJob, HarvestSource, HarvestSourceInput, JobError, JobStatus,
    SourceKind,
};
pub use identity::{Authentication, Principal, Role, Scope};
pub use label::{
    CategoryDefinition, CategoryInput, CategoryType, DEFAULT_POLICY, LabelCategory, LabelInput,
    Policy, PolicyDocument, SecurityLabel,
};
pub use marking::Marking;
pub use organisation::{Organisation, OrganisationDraft, OrganisationInput};
pub use profile::{ProfileRef, ProfileVersion, Version};
pub use publication::{
    CopyState, Outcome, Publication, PublicationAction, PublicationRefusal, PublicationStep,
    Release, Roles, WorkingCopy,
};
pub use sharing::{
    AccessRequest, AccessRequestDraft, AccessRequestInput, ApprovalRule, Approvers, ChainFacts,
    Condition, Grant, GrantSource, GrantState, Grantee, Period, Revocation, approval_chain,
    default_approval_rules,
};
pub use validation::{
    DecodeError, FieldError, ValidationErrors, decode_json, decode_value, pointer_segment,
};
pub use values::{BoundingBox, Iri, LanguageTag, Nation, Slug, Spatial, TemporalExtent};
pub use vocabulary::{BoundField, Concept, Vocabulary, complete_hierarchy};
pub use workflow::{Action, Refusal, RequestState, Review, Step, Transition};
