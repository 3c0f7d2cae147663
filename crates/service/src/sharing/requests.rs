//! Access requests: asked for by a user cleared for the dataset's classification, decided step by
//! step by the approval chain the configured rules give, yielding a grant once approved.

use fathom_model::{
    AccessRequest, AccessRequestInput, Action, ChainFacts, Dataset, EventKind, Grant, GrantSource,
    Grantee, Principal, Refusal, RequestState, Review, SecurityLabel, Subject, ValidationErrors,
    approval_chain, workflow_event,
};
use fathom_store::{Notice, RecordKey, StoreError, now};
use serde::Serialize;
use serde_json::json;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{ActionInput, Result, Sharing, action_name, digest, json_of, may_write};
use crate::access;
use crate::audit::audit_entry;
use crate::catalogue::check_revision;
use crate::codes::Code;
use crate::error::ServiceError;
use crate::stewards::{Domain, organisation_stewards};

/// A request as the API shows it: the request, who must act next, and whether that is overdue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AccessRequestView {
    #[serde(flatten)]
    pub request: AccessRequest,
    pub waiting_for: Vec<String>,
    pub overdue: bool,
}

impl AccessRequestView {
    fn of(request: AccessRequest, at: OffsetDateTime) -> Self {
        Self {
            waiting_for: request.review.waiting_for(),
            overdue: !request.review.state.is_final() && request.review.deadline <= at,
            request,
        }
    }
}

/// An action on a request (`expire` is the system's alone).
fn request_action(input: &ActionInput) -> Result<Action> {
    let name = action_name(
        input,
        &[
            "approve", "reject", "return", "delegate", "amend", "withdraw",
        ],
    )?;
    Ok(match name {
        "approve" => Action::Approve,
        "reject" => Action::Reject,
        "return" => Action::Return,
        "delegate" => Action::Delegate {
            to: input
                .to
                .clone()
                .ok_or_else(|| ValidationErrors::single("/to", "is required to delegate"))?,
        },
        "amend" => Action::Amend,
        _ => Action::Withdraw,
    })
}

fn event_kind(action: &Action) -> EventKind {
    match action {
        Action::Approve => EventKind::Approved,
        Action::Reject => EventKind::Rejected,
        Action::Return => EventKind::Returned,
        Action::Delegate { .. } => EventKind::Delegated,
        Action::Amend => EventKind::Amended,
        Action::Withdraw => EventKind::Withdrawn,
        Action::Expire => EventKind::Expired,
    }
}

/// A refusal of the state machine as the API tells it.
pub(super) fn refused(refusal: Refusal) -> ServiceError {
    let code = match refusal {
        Refusal::NotAnApprover(_) => {
            return ServiceError::refused(
                Code::ReviewerRequired,
                "only an approver of the request's current step may decide it",
            );
        }
        Refusal::NotTheRequester(_) => {
            return ServiceError::refused(
                Code::PartyRequired,
                "only the requester may withdraw or amend a request",
            );
        }
        Refusal::OwnRequest | Refusal::AlreadyApproved => Code::SeparationOfDuties,
        Refusal::NotFromState { .. } | Refusal::BeforeDeadline => Code::WrongState,
        Refusal::PastDeadline => Code::DeadlinePassed,
        Refusal::NoChain => Code::NoApprover,
    };
    ServiceError::refused(code, refusal.to_string())
}

impl Sharing {
    /// Submits a request for access to a dataset. The requester must be cleared for its
    /// classification: a dataset above it, an unknown one, or one named by slug that they may not
    /// see is not found, all alike (a slug can be guessed; a dataset's random id cannot, so only
    /// someone it was shared with can ask by id).
    pub async fn request_access(
        &self,
        principal: &Principal,
        input: AccessRequestInput,
    ) -> Result<AccessRequestView> {
        may_write(principal)?;
        let at = now();
        let draft = input.parse(at, Duration::days(self.settings.longest_grant_days))?;
        let subject = access::subject(&self.policy, principal);
        let key = RecordKey::parse(&draft.dataset);
        let dataset = match self.store.dataset(&key).await {
            Ok(dataset) => dataset,
            Err(StoreError::NotFound) => return Err(ServiceError::NotFound("dataset")),
            Err(other) => return Err(ServiceError::Internal(other)),
        };
        let label = &dataset.metadata.security_label;
        let readable = self.policy.may_read_dataset(&subject, dataset.id, label);
        let askable = match key {
            RecordKey::Id(_) => self.policy.cleared_for(&subject.clearance, label),
            RecordKey::Slug(_) => readable,
        };
        if !askable {
            return Err(ServiceError::NotFound("dataset"));
        }
        // Read by its label, the dataset is the requester's already; read through a grant, only
        // another of its distributions may still be asked for (the data host decides per grant).
        let granted_only = !self.policy.subject_may_read(&subject, label);
        if readable && !(granted_only && draft.distribution.is_some()) {
            return Err(ServiceError::refused(
                Code::AlreadyReadable,
                "you may already read this dataset: there is nothing to request",
            ));
        }
        if let Some(distribution) = draft.distribution
            && !dataset
                .metadata
                .distributions
                .iter()
                .any(|d| d.id == distribution)
        {
            return Err(ValidationErrors::single(
                "/distribution",
                "is not a distribution of the dataset",
            )
            .into());
        }
        let chain = self.chain(&dataset, &subject).await?;
        let deadline = at + Duration::days(self.settings.decision_days);
        let review = Review::submit(&principal.name, chain, deadline).map_err(|_| {
            ServiceError::refused(Code::NoApprover,
                "nobody but the requester can approve this request under the configured approval chain: ask an administrator to name its approvers",
            )
        })?;
        let request = AccessRequest {
            id: Uuid::now_v7(),
            dataset: dataset.id,
            distribution: draft.distribution,
            purpose: draft.purpose,
            period: draft.period,
            attachments: draft.attachments,
            review,
            grant: None,
            revision: 1,
            created_at: at,
            updated_at: at,
        };
        let notice = self.request_notice(
            &request,
            None,
            EventKind::Submitted,
            &principal.name,
            "",
            &dataset.metadata.security_label,
        )?;
        self.store
            .insert_access_request(&request, &notice)
            .await
            .map_err(ServiceError::Internal)?;
        Ok(AccessRequestView::of(request, at))
    }

    /// The approval chain the configured rules give for `dataset` and its requester.
    async fn chain(&self, dataset: &Dataset, requester: &Subject) -> Result<Vec<Vec<String>>> {
        let domain = Domain::of(&self.store, &dataset.metadata).await?;
        let users = self.store.users().await.map_err(ServiceError::Internal)?;
        let organisation_stewards = organisation_stewards(&users, &dataset.metadata.organisation);
        // An approver must be cleared for the label: local users who are not are left out (users
        // known only through OIDC are kept, and checked when they act).
        let uncleared: Vec<String> = users
            .into_iter()
            .filter(|user| {
                let subject = access::subject(
                    &self.policy,
                    &crate::identity::principal(user.clone(), Vec::new()),
                );
                !self
                    .policy
                    .subject_may_read(&subject, &dataset.metadata.security_label)
            })
            .map(|user| user.name)
            .collect();
        let mut chain = approval_chain(
            &self.settings.approval_chain,
            &ChainFacts {
                policy: &self.policy,
                label: &dataset.metadata.security_label,
                requester: &requester.clearance,
                domain_stewards: &domain.stewards,
                organisation_stewards: &organisation_stewards,
                groups: &self.settings.groups,
            },
        );
        for approvers in &mut chain {
            approvers.retain(|name| !uncleared.contains(name));
        }
        Ok(chain)
    }

    /// A request its requester, one of its approvers or an admin may see; not found for anyone else.
    pub async fn access_request(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<AccessRequestView> {
        let request = self.visible_request(principal, id).await?;
        Ok(AccessRequestView::of(request, now()))
    }

    async fn visible_request(&self, principal: &Principal, id: Uuid) -> Result<AccessRequest> {
        let request = match self.store.access_request(id).await {
            Ok(request) => request,
            Err(StoreError::NotFound) => return Err(ServiceError::NotFound("access request")),
            Err(other) => return Err(ServiceError::Internal(other)),
        };
        let visible = principal.reads_everything()
            || request.review.requester == principal.name
            || (request.involves(&principal.name)
                && self.may_decide_on(principal, request.dataset).await?);
        if visible {
            Ok(request)
        } else {
            Err(ServiceError::NotFound("access request"))
        }
    }

    /// Whether `principal` is cleared for the label of the dataset `id` (as it is, or as it last
    /// was): what an approver needs to see a request for it.
    async fn may_decide_on(&self, principal: &Principal, id: Uuid) -> Result<bool> {
        let label = self.label_of(id).await?;
        Ok(self
            .policy
            .subject_may_read(&access::subject(&self.policy, principal), &label.label))
    }

    /// The caller's own requests (an admin's `all`: everyone's), in order of submission.
    pub async fn access_requests(
        &self,
        principal: &Principal,
        all: bool,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<AccessRequestView>> {
        if all && !principal.reads_everything() {
            return Err(ServiceError::refused(
                Code::AdminRequired,
                "only an admin lists everyone's requests",
            ));
        }
        let requester = (!all).then_some(principal.name.as_str());
        let at = now();
        Ok(self
            .store
            .access_requests(requester, None, after, limit)
            .await
            .map_err(ServiceError::Internal)?
            .into_iter()
            .map(|request| AccessRequestView::of(request, at))
            .collect())
    }

    /// Acts on a request the caller may see, at revision `expected` when given. An approval that
    /// completes the chain grants the requester the dataset for the period asked.
    pub async fn act(
        &self,
        principal: &Principal,
        id: Uuid,
        expected: Option<i64>,
        input: ActionInput,
    ) -> Result<AccessRequestView> {
        may_write(principal)?;
        let action = request_action(&input)?;
        let comment = input.comment.unwrap_or_default();
        let current = self.visible_request(principal, id).await?;
        check_revision("access request", expected, current.revision)?;
        let label = self.label_of(current.dataset).await?;
        let deciding = matches!(action, Action::Approve | Action::Delegate { .. });
        if deciding && label.deleted {
            return Err(ServiceError::refused(
                Code::BasisChanged,
                "the dataset of this request was deleted: the request can only be rejected or withdrawn",
            ));
        }
        if let Action::Delegate { to } = &action {
            // The step passes only to someone who could decide it: cleared for the label.
            let cleared = match self.store.user_by_name(to).await {
                Ok(user) => self.policy.subject_may_read(
                    &access::subject(&self.policy, &crate::identity::principal(user, Vec::new())),
                    &label.label,
                ),
                Err(StoreError::NotFound) => {
                    return Err(ValidationErrors::single("/to", "no such user").into());
                }
                Err(other) => return Err(ServiceError::Internal(other)),
            };
            if !cleared {
                return Err(ValidationErrors::single(
                    "/to",
                    "is not cleared for the dataset's label, so could not decide",
                )
                .into());
            }
        }
        // Deciding for someone else is a release of the dataset's label: the decider must be
        // cleared to read it themselves.
        if deciding
            && current.review.waiting_for().contains(&principal.name)
            && !self
                .policy
                .subject_may_read(&access::subject(&self.policy, principal), &label.label)
        {
            return Err(ServiceError::refused(
                Code::ClearanceRequired,
                "you are not cleared for this dataset's label, so you cannot release it",
            ));
        }
        let at = now();
        let review = current
            .review
            .act(&principal.name, &action, &comment, at)
            .map_err(refused)?;
        self.write(
            current,
            review,
            &action,
            &principal.name,
            &comment,
            &label.label,
            at,
        )
        .await
    }

    /// Writes the request as `review` made it, over `current`; a grant when it was approved.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn write(
        &self,
        current: AccessRequest,
        review: Review,
        action: &Action,
        actor: &str,
        comment: &str,
        label: &SecurityLabel,
        at: OffsetDateTime,
    ) -> Result<AccessRequestView> {
        let approved = review.state == RequestState::Approved;
        let grant = approved.then(|| Grant {
            id: Uuid::now_v7(),
            dataset: current.dataset,
            distribution: current.distribution,
            grantee: Grantee::User(review.requester.clone()),
            period: current.period,
            purpose: current.purpose.clone(),
            conditions: Vec::new(),
            source: GrantSource::AccessRequest(current.id),
            granted_by: review
                .steps
                .iter()
                .filter_map(|step| step.approved_by.clone())
                .collect(),
            revoked: None,
            created_at: at,
        });
        let before = current.clone();
        let next = AccessRequest {
            review,
            grant: grant.as_ref().map(|g| g.id).or(current.grant),
            revision: current.revision + 1,
            updated_at: at,
            ..current
        };
        let notice = self.request_notice(
            &next,
            Some(&before),
            event_kind(action),
            actor,
            comment,
            label,
        )?;
        let grant_notice = match &grant {
            Some(grant) => {
                Some(self.grant_notice(grant, 1, EventKind::Created, actor, label, at)?)
            }
            None => None,
        };
        self.store
            .update_access_request(
                &next,
                before.revision,
                &notice,
                grant.as_ref().zip(grant_notice.as_ref()),
            )
            .await
            .map_err(|error| match error {
                StoreError::StaleRevision => ServiceError::refused(Code::ConcurrentChange,
                    "another action on this request came first: read it again and decide on what it is now",
                ),
                other => ServiceError::Internal(other),
            })?;
        Ok(AccessRequestView::of(next, at))
    }

    /// The event and audit entry of an action on a request.
    fn request_notice(
        &self,
        request: &AccessRequest,
        before: Option<&AccessRequest>,
        kind: EventKind,
        actor: &str,
        comment: &str,
        label: &SecurityLabel,
    ) -> Result<Notice> {
        let mut record = json_of(&AccessRequestView::of(request.clone(), request.updated_at))?;
        record["security_label"] = json_of(label)?;
        Ok(Notice {
            event: workflow_event("access_request", kind, &record, request.revision),
            audit: audit_entry(
                format!("access_request_{}", kind.as_str()),
                actor,
                request.id,
                json!({
                    "dataset": request.dataset,
                    "state": request.review.state,
                    "comment": comment,
                    "before": before.map(digest).transpose()?,
                    "after": digest(request)?,
                }),
                request.updated_at,
            ),
        })
    }
}
