//! The publication workflow, where a dataset's data domain reviews publication: direct writes are
//! for drafts only; states move by actions; a published dataset changes through its working copy,
//! reviewed before it replaces the published record. Elsewhere, editors set the state directly.

use fathom_model::{
    CopyState, Dataset, DatasetInput, DatasetMetadata, DatasetState, EventKind, Principal,
    Publication, PublicationAction, PublicationRefusal, PublicationStep, Release, Roles,
    ValidationErrors, WorkingCopy, workflow_event,
};
use fathom_store::{Notice, RecordKey, StoreError, now};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::{Catalogue, LabelledUpdate, Result, dataset_write_error};
use crate::access;
use crate::audit::audit_entry;
use crate::codes::Code;
use crate::error::ServiceError;
use crate::sharing::{ActionInput, action_name, json_of};
use crate::stewards::{Domain, organisation_stewards};

/// A dataset's publication workflow as the API shows it: the dataset's state, its working copy's,
/// who submitted what is in review, who must act next, and the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PublicationView {
    pub dataset: Uuid,
    pub state: DatasetState,
    /// Whether the dataset's data domain reviews publication.
    pub review: bool,
    pub working_copy: Option<CopyState>,
    pub submitted_by: Option<String>,
    /// The reviewers, while something is in review.
    pub waiting_for: Vec<String>,
    pub history: Vec<PublicationStep>,
    /// The last release of the label asked for, with its review.
    pub release: Option<Release>,
    /// Who must decide the release, while it is open.
    pub release_waiting_for: Vec<String>,
    /// The workflow's revision: the `ETag` its actions and the working copy are based on.
    pub revision: i64,
}

/// A working copy with the workflow revision it was written at.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WorkingCopyView {
    pub dataset: Uuid,
    #[serde(flatten)]
    pub copy: WorkingCopy,
    pub revision: i64,
}

impl Catalogue {
    /// Refuses what the publication workflow keeps from direct writes. Where the dataset's data
    /// domain (as it is, or as the write makes it) reviews publication, only a draft is written
    /// directly and its state is not set by the write; a new dataset starts as a draft. Returns the
    /// state the written dataset has.
    pub(super) async fn check_direct_write(
        &self,
        principal: &Principal,
        current: Option<&Dataset>,
        target: &DatasetMetadata,
        state: Option<DatasetState>,
    ) -> Result<Option<DatasetState>> {
        let reviewed_now = match current {
            Some(current) => {
                Domain::of(&self.store, &current.metadata)
                    .await?
                    .publication_review
            }
            None => false,
        };
        let next = Domain::of(&self.store, target).await?;
        if !reviewed_now && !next.publication_review {
            return Ok(state);
        }
        let present = current.map_or(DatasetState::Draft, |c| c.state);
        if !reviewed_now
            && present != DatasetState::Draft
            && !next.curated_by(
                principal,
                &access::subject(&self.policy, principal),
                &target.organisation,
            )
        {
            return Err(ServiceError::refused(
                Code::ReviewerRequired,
                "only a reviewer of a data domain that reviews publication moves a dataset that is not a draft into it",
            ));
        }
        if reviewed_now && present != DatasetState::Draft {
            return Err(match present {
                DatasetState::InReview => ServiceError::refused(
                    Code::WrongState,
                    "the dataset is in review: withdraw it (POST …/actions) to change it",
                ),
                DatasetState::Retired => {
                    ServiceError::refused(Code::WrongState, "the dataset is retired")
                }
                _ => ServiceError::refused(
                    Code::WorkingCopyRequired,
                    "the dataset is published in a data domain that reviews publication: change its working copy (PUT …/working-copy), which is reviewed before it replaces the published record",
                ),
            });
        }
        if state.is_some_and(|s| s != present) {
            return Err(ValidationErrors::single(
                "/state",
                "moves through the publication workflow of the dataset's data domain: submit the draft for review (POST …/actions)",
            )
            .into());
        }
        Ok(Some(present))
    }

    /// Where its domain reviews publication, a dataset that is not a draft is retired by a
    /// reviewer rather than deleted by an editor (a reviewer may still delete it).
    pub(super) async fn check_deletion(
        &self,
        principal: &Principal,
        dataset: &Dataset,
    ) -> Result<()> {
        let domain = Domain::of(&self.store, &dataset.metadata).await?;
        if domain.publication_review
            && dataset.state != DatasetState::Draft
            && !domain.curated_by(
                principal,
                &access::subject(&self.policy, principal),
                &dataset.metadata.organisation,
            )
        {
            return Err(ServiceError::refused(
                Code::ReviewerRequired,
                "a dataset of a data domain that reviews publication is retired by a reviewer once it left the draft state, not deleted",
            ));
        }
        Ok(())
    }

    /// The dataset's publication workflow, for anyone who may read the dataset.
    pub async fn publication(
        &self,
        principal: &Principal,
        key: &RecordKey,
    ) -> Result<PublicationView> {
        let dataset = self.dataset(Some(principal), key).await?;
        let publication = self.publication_of(dataset.id).await?;
        let domain = Domain::of(&self.store, &dataset.metadata).await?;
        self.publication_view(&dataset, &publication, &domain).await
    }

    async fn publication_of(&self, dataset: Uuid) -> Result<Publication> {
        Ok(self
            .store
            .publication(dataset)
            .await
            .map_err(ServiceError::Internal)?
            .unwrap_or_else(|| Publication::new(dataset)))
    }

    async fn publication_view(
        &self,
        dataset: &Dataset,
        publication: &Publication,
        domain: &Domain,
    ) -> Result<PublicationView> {
        let waiting_for = if publication.in_review(dataset.state) {
            let mut reviewers = domain.stewards.clone();
            let users = self.store.users().await.map_err(ServiceError::Internal)?;
            for name in organisation_stewards(&users, &dataset.metadata.organisation) {
                if !reviewers.contains(&name) {
                    reviewers.push(name);
                }
            }
            let author = publication.working_copy.as_ref().map(|c| &c.updated_by);
            reviewers.retain(|name| {
                Some(name) != publication.submitted_by.as_ref() && Some(name) != author
            });
            reviewers
        } else {
            Vec::new()
        };
        Ok(PublicationView {
            dataset: dataset.id,
            state: dataset.state,
            review: domain.publication_review,
            working_copy: publication.working_copy.as_ref().map(|c| c.state),
            submitted_by: publication.submitted_by.clone(),
            waiting_for,
            history: publication.history.clone(),
            release: publication.release.clone(),
            release_waiting_for: publication
                .release
                .as_ref()
                .map(|r| r.review.waiting_for())
                .unwrap_or_default(),
            revision: publication.revision,
        })
    }

    /// What the caller may do in the workflow of `dataset`: edit (an editor of its organisation
    /// cleared for its label), review (one who curates it, also cleared for its label).
    fn roles(&self, principal: &Principal, dataset: &Dataset, domain: &Domain) -> Roles {
        let subject = access::subject(&self.policy, principal);
        let metadata = &dataset.metadata;
        Roles {
            editor: principal.may_write()
                && self
                    .policy
                    .may_edit(&subject, &metadata.organisation, &metadata.security_label),
            reviewer: principal.may_write()
                && self
                    .policy
                    .subject_may_read(&subject, &metadata.security_label)
                && domain.curated_by(principal, &subject, &metadata.organisation),
        }
    }

    /// Acts on a dataset's publication: `submit` and `withdraw` (an editor), `approve`, `return`,
    /// `deprecate`, `retire` (a reviewer, never of what they submitted). `expected` is the
    /// workflow's revision the action is based on.
    pub async fn act_on_publication(
        &self,
        principal: &Principal,
        key: &RecordKey,
        expected: Option<i64>,
        input: ActionInput,
    ) -> Result<PublicationView> {
        let name = action_name(
            &input,
            &PublicationAction::ALL.map(PublicationAction::as_str),
        )?;
        let action =
            PublicationAction::parse(name).map_err(|m| ValidationErrors::single("/action", m))?;
        let comment = input.comment.unwrap_or_default();
        let dataset = self.dataset(Some(principal), key).await?;
        let domain = Domain::of(&self.store, &dataset.metadata).await?;
        if !domain.publication_review {
            return Err(ServiceError::refused(
                Code::ReviewNotEnabled,
                "the dataset's data domain does not review publication: its editors set its state directly",
            ));
        }
        let publication = self.publication_of(dataset.id).await?;
        let expected = super::check_revision("publication", expected, publication.revision)?;
        let at = now();
        let roles = self.roles(principal, &dataset, &domain);
        if action == PublicationAction::Approve
            && let Some(copy) = publication
                .working_copy
                .as_ref()
                .filter(|c| c.state == CopyState::InReview)
        {
            if copy.based_on != dataset.revision {
                return Err(ServiceError::refused(
                    Code::BasisChanged,
                    "the dataset changed since its working copy was written: return the copy for an update",
                ));
            }
            let subject = access::subject(&self.policy, principal);
            let from = &dataset.metadata.security_label;
            let to = &copy.metadata.security_label;
            if roles.reviewer
                && (!self.policy.subject_may_read(&subject, to)
                    || (from != to
                        && !self.policy.may_release(
                            &subject,
                            &dataset.metadata.organisation,
                            from,
                            to,
                        )))
            {
                return Err(ServiceError::refused(
                    Code::ClearanceRequired,
                    "the working copy changes the label: approving it takes a steward of the organisation cleared for both labels",
                ));
            }
        }
        let outcome = publication
            .act(dataset.state, &principal.name, roles, action, &comment, at)
            .map_err(refused)?;
        let changed =
            (outcome.state != dataset.state || outcome.replacement.is_some()).then(|| Dataset {
                metadata: outcome
                    .replacement
                    .clone()
                    .unwrap_or_else(|| dataset.metadata.clone()),
                state: outcome.state,
                revision: dataset.revision + 1,
                updated_at: at,
                ..dataset.clone()
            });
        let now_dataset = changed.clone().unwrap_or_else(|| dataset.clone());
        let view = self
            .publication_view(&now_dataset, &outcome.publication, &domain)
            .await?;
        let kind = match action {
            PublicationAction::Submit => EventKind::Submitted,
            PublicationAction::Withdraw => EventKind::Withdrawn,
            PublicationAction::Approve => EventKind::Approved,
            PublicationAction::Return => EventKind::Returned,
            PublicationAction::Deprecate => EventKind::Deprecated,
            PublicationAction::Retire => EventKind::Retired,
        };
        let mut record = json_of(&view)?;
        record["id"] = json!(dataset.id);
        record["security_label"] = json_of(&now_dataset.metadata.security_label)?;
        let notice = Notice {
            event: workflow_event("publication", kind, &record, outcome.publication.revision),
            audit: audit_entry(
                format!("publication_{}", kind.as_str()),
                &principal.name,
                dataset.id,
                json!({
                    "dataset": dataset.id,
                    "from": dataset.state,
                    "to": outcome.state,
                    "working_copy": outcome.publication.history.last().is_some_and(|s| s.working_copy),
                    "comment": comment,
                }),
                at,
            ),
        };
        let labelled = changed.as_ref().map(|changed| {
            LabelledUpdate::new(
                principal,
                &dataset.metadata.security_label,
                changed,
                dataset.revision,
            )
        });
        self.store
            .write_publication(
                &outcome.publication,
                expected,
                labelled.as_ref().map(LabelledUpdate::update),
                Some(&notice),
            )
            .await
            .map_err(stale_or(
                "another action or edit came first: read the workflow again",
            ))?;
        if let Some(labelled) = labelled {
            labelled.committed();
        }
        Ok(view)
    }

    /// The working copy of a published dataset, for its editors and reviewers.
    /// Its revision, and the copy as JSON without the ids of linked datasets the caller may not see.
    pub async fn working_copy(
        &self,
        principal: &Principal,
        key: &RecordKey,
    ) -> Result<(i64, serde_json::Value)> {
        let dataset = self.dataset(Some(principal), key).await?;
        let domain = Domain::of(&self.store, &dataset.metadata).await?;
        let roles = self.roles(principal, &dataset, &domain);
        if !(roles.editor || roles.reviewer) {
            return Err(ServiceError::refused(
                Code::EditorRequired,
                "a working copy is for the dataset's editors and reviewers",
            ));
        }
        let publication = self.publication_of(dataset.id).await?;
        let copy = publication
            .working_copy
            .filter(|copy| {
                self.policy.subject_may_read(
                    &access::subject(&self.policy, principal),
                    &copy.metadata.security_label,
                )
            })
            .ok_or(ServiceError::NotFound("working copy"))?;
        let mut view = json_of(&WorkingCopyView {
            dataset: dataset.id,
            copy,
            revision: publication.revision,
        })?;
        self.hide_unseen_links(Some(principal), &mut [&mut view])
            .await?;
        Ok((publication.revision, view))
    }

    /// Writes the working copy of a published (or deprecated) dataset in a data domain that
    /// reviews publication, as `input` describes the next version, checked as a direct write is.
    pub async fn put_working_copy(
        &self,
        principal: &Principal,
        key: &RecordKey,
        expected: Option<i64>,
        input: DatasetInput,
    ) -> Result<(i64, serde_json::Value)> {
        let current = self.dataset(Some(principal), key).await?;
        let domain = Domain::of(&self.store, &current.metadata).await?;
        if !domain.publication_review
            || !matches!(
                current.state,
                DatasetState::Published | DatasetState::Deprecated
            )
        {
            return Err(ServiceError::refused(
                Code::WrongState,
                "only a published dataset of a data domain that reviews publication has a working copy: write the dataset itself",
            ));
        }
        let mut publication = self.publication_of(current.id).await?;
        let expected = super::check_revision("working copy", expected, publication.revision)?;
        if publication
            .working_copy
            .as_ref()
            .is_some_and(|c| c.state == CopyState::InReview)
        {
            return Err(ServiceError::refused(
                Code::WrongState,
                "the working copy is in review: withdraw it (POST …/actions) to change it",
            ));
        }
        let mut draft = input.parse(&self.policy, Uuid::now_v7)?;
        if draft.state.is_some_and(|s| s != current.state) {
            return Err(ValidationErrors::single(
                "/state",
                "moves through the publication workflow, not in the working copy",
            )
            .into());
        }
        if draft.slug_derived {
            draft.metadata.slug = current.metadata.slug.clone();
        }
        self.check_no_release(&current.metadata, &draft.metadata)?;
        self.check_write(principal, &draft.metadata, Some(&current.metadata))
            .await?;
        self.keep_unseen_links(principal, &current, &mut draft.metadata)
            .await?;
        self.check_references(principal, Some(&current), &draft.metadata)
            .await?;
        let at = now();
        publication.working_copy = Some(WorkingCopy {
            metadata: draft.metadata,
            state: CopyState::Draft,
            based_on: current.revision,
            updated_by: principal.name.clone(),
            updated_at: at,
        });
        publication.revision = expected + 1;
        self.store
            .write_publication(&publication, expected, None, None)
            .await
            .map_err(stale_or(
                "the working copy changed meanwhile: read it again",
            ))?;
        self.working_copy(principal, &RecordKey::Id(current.id))
            .await
    }

    /// Discards a working copy that is not in review (an editor).
    pub async fn discard_working_copy(
        &self,
        principal: &Principal,
        key: &RecordKey,
        expected: Option<i64>,
    ) -> Result<()> {
        let current = self.dataset(Some(principal), key).await?;
        let domain = Domain::of(&self.store, &current.metadata).await?;
        if !self.roles(principal, &current, &domain).editor {
            return Err(ServiceError::refused(
                Code::EditorRequired,
                "only an editor of the dataset's organisation discards its working copy",
            ));
        }
        let mut publication = self.publication_of(current.id).await?;
        let expected = super::check_revision("working copy", expected, publication.revision)?;
        match publication.working_copy.take() {
            None => return Err(ServiceError::NotFound("working copy")),
            Some(copy) if copy.state == CopyState::InReview => {
                return Err(ServiceError::refused(
                    Code::WrongState,
                    "the working copy is in review: withdraw it first",
                ));
            }
            Some(_) => {}
        }
        publication.revision = expected + 1;
        self.store
            .write_publication(&publication, expected, None, None)
            .await
            .map_err(stale_or(
                "the working copy changed meanwhile: read it again",
            ))
    }
}

/// A lost race as a conflict saying `what`; anything else as a dataset write's error.
fn stale_or(what: &'static str) -> impl Fn(StoreError) -> ServiceError {
    move |error| match error {
        StoreError::StaleRevision => ServiceError::refused(Code::ConcurrentChange, what),
        other => dataset_write_error(other),
    }
}

/// A refusal of the state machine with its code (every variant named, so a new one gets its own).
fn refused(refusal: PublicationRefusal) -> ServiceError {
    match refusal {
        PublicationRefusal::NotAnEditor(_) => ServiceError::refused(
            Code::EditorRequired,
            "only an editor of the dataset's organisation submits or withdraws it",
        ),
        PublicationRefusal::NotAReviewer(_) => ServiceError::refused(
            Code::ReviewerRequired,
            "only a steward of the dataset's organisation or data domain reviews it",
        ),
        PublicationRefusal::OwnSubmission => ServiceError::refused(
            Code::SeparationOfDuties,
            "nobody approves what they submitted or wrote",
        ),
        refusal @ PublicationRefusal::NotFromState { .. } => {
            ServiceError::refused(Code::WrongState, refusal.to_string())
        }
    }
}
