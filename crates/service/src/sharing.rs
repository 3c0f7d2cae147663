//! Data sharing workflows: access requests decided by approval chains, the grants approval yields,
//! the inbox of what waits for whom, and the audit log for auditors. Every action is one transaction
//! that writes the request's new revision, its event and its audit entry, or nothing; two actions on
//! the same revision yield exactly one transition.

use std::collections::BTreeMap;
use std::sync::Arc;

use fathom_model::{
    AccessRequest, AccessRequestInput, Action, ApprovalRule, ChainFacts, Dataset, EventKind, Grant,
    GrantSource, GrantState, Grantee, LabelInput, OrganisationRole, Policy, Principal, Refusal,
    RequestState, Review, Revocation, SecurityLabel, Subject, ValidationErrors, approval_chain,
    default_approval_rules, workflow_event,
};
use fathom_store::{
    AuditEvent, AuditFilter, GrantFilter, Notice, RecordKey, Store, StoreError, now,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::access;
use crate::error::ServiceError;
use crate::stewards::{Domain, organisation_stewards};

mod agreements;
mod releases;

pub use releases::{RELEASE_ACTIONS, RELEASE_OFFICERS};

type Result<T> = std::result::Result<T, ServiceError>;

/// How the workflows run: the approval chain's rules, the groups they name, and the time limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SharingSettings {
    /// The rules that build each request's approval chain, in order.
    pub approval_chain: Vec<ApprovalRule>,
    /// Named groups of users (`security_officers`, `auditors`, …).
    pub groups: BTreeMap<String, Vec<String>>,
    /// Days an approver has to decide before the request expires.
    pub decision_days: i64,
    /// The longest period a grant may last, in days.
    pub longest_grant_days: i64,
}

/// The group whose members (besides admins) read the audit log.
pub const AUDITORS: &str = "auditors";
/// The group the default chain asks for releases.
pub const SECURITY_OFFICERS: &str = "security_officers";

impl Default for SharingSettings {
    fn default() -> Self {
        Self {
            approval_chain: default_approval_rules(&Policy::default_policy()),
            groups: BTreeMap::from([
                (SECURITY_OFFICERS.to_owned(), Vec::new()),
                (RELEASE_OFFICERS.to_owned(), Vec::new()),
                (AUDITORS.to_owned(), Vec::new()),
            ]),
            decision_days: 14,
            longest_grant_days: 365,
        }
    }
}

impl SharingSettings {
    /// The defaults for `policy` (the second rule names its second classification).
    pub fn for_policy(policy: &Policy) -> Self {
        Self {
            approval_chain: default_approval_rules(policy),
            ..Self::default()
        }
    }

    /// Each rule checked against the policy and the groups, with the number of the rule at fault.
    pub fn check(&self, policy: &Policy) -> std::result::Result<(), String> {
        for (n, rule) in self.approval_chain.iter().enumerate() {
            rule.check(policy, &self.groups)
                .map_err(|message| format!("approval_chain[{n}]: {message}"))?;
        }
        let days = 1..=3650;
        if !days.contains(&self.decision_days) || !days.contains(&self.longest_grant_days) {
            return Err("decision_days and longest_grant_days must be between 1 and 3650".into());
        }
        Ok(())
    }

    fn in_group(&self, group: &str, name: &str) -> bool {
        self.groups
            .get(group)
            .is_some_and(|members| members.iter().any(|m| m == name))
    }
}

/// An action as a client sends it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    /// `approve`, `reject`, `return`, `delegate`, `amend` or `withdraw` for requests; `revoke` for
    /// grants; `propose`, `accept`, `decline`, `terminate` for agreements; for datasets, `submit`,
    /// `withdraw`, `approve`, `return`, `deprecate`, `retire` and the releases' `request_release`,
    /// `approve_release`, `reject_release`, `withdraw_release`.
    pub action: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    /// Whom a `delegate` hands the decision to.
    #[serde(default)]
    pub to: Option<String>,
    /// The label a `request_release` asks for.
    #[serde(default)]
    pub security_label: Option<LabelInput>,
}

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

/// A grant as the API shows it, with its state now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct GrantView {
    #[serde(flatten)]
    pub grant: Grant,
    pub state: GrantState,
}

/// The label of the dataset a workflow is about, with the dataset while it exists.
struct LabelOf {
    label: SecurityLabel,
    dataset: Option<Dataset>,
    deleted: bool,
}

/// How many items of each kind the inbox looks at.
pub const INBOX_LIMIT: u32 = 500;

/// Something that waits for the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InboxItem {
    /// `access_request`, `agreement`, `publication` or `release`.
    pub kind: String,
    /// The request's or agreement's id; the dataset's for a publication or a release.
    pub id: Uuid,
    /// Where to read it and act on it.
    pub href: String,
    pub state: String,
    /// When it must be decided by (an agreement's: when it would end).
    #[serde(with = "time::serde::rfc3339::option")]
    pub deadline: Option<OffsetDateTime>,
    pub overdue: bool,
}

/// Which grants to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantScope {
    /// The caller's own and their organisations'.
    Mine,
    /// Everyone's on one dataset: its stewards, security officers and admins only.
    Dataset(RecordKey),
    /// Everyone's: security officers, auditors and admins only.
    All,
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub requests_expired: usize,
    pub agreements_expired: usize,
    pub releases_expired: usize,
    pub grants_ended: usize,
}

#[derive(Debug, Clone)]
pub struct Sharing {
    store: Store,
    policy: Arc<Policy>,
    settings: Arc<SharingSettings>,
}

const SYSTEM: &str = "fathom";

impl Sharing {
    pub fn new(store: Store, policy: Arc<Policy>, settings: SharingSettings) -> Self {
        Self {
            store,
            policy,
            settings: Arc::new(settings),
        }
    }

    /// `principal` with the datasets their grants open now, read afresh (a revocation takes effect
    /// on the next request, on every replica).
    pub async fn with_grants(&self, mut principal: Principal) -> Result<Principal> {
        let organisations: Vec<&str> = principal
            .memberships
            .iter()
            .map(|m| m.organisation.as_str())
            .collect();
        principal.grants = self
            .store
            .granted_datasets(&principal.name, &organisations, now())
            .await
            .map_err(ServiceError::Internal)?;
        Ok(principal)
    }

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
            return Err(ServiceError::Conflict(
                "you may already read this dataset: there is nothing to request".into(),
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
            ServiceError::Conflict(
                "nobody but the requester can approve this request under the configured approval chain: ask an administrator to name its approvers".into(),
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
        let organisation_stewards =
            organisation_stewards(&self.store, &dataset.metadata.organisation).await?;
        // An approver must be cleared for the label: local users who are not are left out (users
        // known only through OIDC are kept, and checked when they act).
        let uncleared: Vec<String> = self
            .store
            .users()
            .await
            .map_err(ServiceError::Internal)?
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
            return Err(ServiceError::Forbidden(
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

    /// What waits for the caller, in order of id (then kind): access requests they must decide or
    /// amend, agreements their organisation must sign, datasets they must review, releases they
    /// must decide. At most [`INBOX_LIMIT`] of each kind are looked at.
    pub async fn inbox(&self, principal: &Principal) -> Result<Vec<InboxItem>> {
        let at = now();
        let mut items = Vec::new();
        let waiting = self
            .store
            .access_requests(None, Some(&principal.name), None, INBOX_LIMIT)
            .await
            .map_err(ServiceError::Internal)?;
        for request in waiting {
            // An approver left uncleared by a relabelling does not learn of the request.
            if request.review.requester != principal.name
                && !self.may_decide_on(principal, request.dataset).await?
            {
                continue;
            }
            items.push(InboxItem {
                kind: "access_request".into(),
                id: request.id,
                href: format!("/api/v1/access-requests/{}", request.id),
                state: request.review.state.as_str().into(),
                deadline: Some(request.review.deadline),
                overdue: request.review.deadline <= at,
            });
        }
        let subject = access::subject(&self.policy, principal);
        let signs_for: Vec<&str> = principal
            .memberships
            .iter()
            .filter(|m| m.role >= OrganisationRole::Admin)
            .map(|m| m.organisation.as_str())
            .collect();
        if !signs_for.is_empty() {
            let proposed = self
                .store
                .proposed_agreements(&signs_for, INBOX_LIMIT)
                .await
                .map_err(ServiceError::Internal)?;
            items.extend(
                proposed
                    .into_iter()
                    .filter(|agreement| {
                        agreement.unsigned().iter().any(|party| {
                            signs_for.contains(&party.as_str())
                                && agreement.recipients.contains(party)
                        }) && !agreement.signatures.iter().any(|s| s.by == principal.name)
                    })
                    .map(|agreement| InboxItem {
                        kind: "agreement".into(),
                        id: agreement.id,
                        href: format!("/api/v1/agreements/{}", agreement.id),
                        state: agreement.state.as_str().into(),
                        deadline: Some(agreement.period.end),
                        overdue: false,
                    }),
            );
        }
        for releases in [false, true] {
            if releases && !self.settings.in_group(RELEASE_OFFICERS, &principal.name) {
                continue;
            }
            // Read in pages until every open workflow was looked at (or INBOX_LIMIT items kept).
            let mut after = None;
            let mut kept = 0;
            loop {
                let open = self
                    .store
                    .open_publications(releases, after, INBOX_LIMIT)
                    .await
                    .map_err(ServiceError::Internal)?;
                let full = open.len() == INBOX_LIMIT as usize;
                after = open.last().map(|p| p.dataset);
                let ids: Vec<Uuid> = open.iter().map(|p| p.dataset).collect();
                let datasets = self
                    .store
                    .datasets_by_ids(&ids)
                    .await
                    .map_err(ServiceError::Internal)?;
                for publication in open {
                    let Some(dataset) = datasets.iter().find(|d| d.id == publication.dataset)
                    else {
                        continue;
                    };
                    if !self
                        .policy
                        .subject_may_read(&subject, &dataset.metadata.security_label)
                    {
                        continue;
                    }
                    if let Some(item) = self
                        .inbox_item(principal, &subject, &publication, dataset, releases, at)
                        .await?
                    {
                        items.push(item);
                        kept += 1;
                    }
                }
                if !full || kept >= INBOX_LIMIT {
                    break;
                }
            }
        }
        items.sort_by(|a, b| (a.id, &a.kind).cmp(&(b.id, &b.kind)));
        Ok(items)
    }

    /// The inbox item of a dataset workflow for `principal`, if it waits for them: a release they
    /// decide, or a review of what they neither submitted nor wrote in a domain that still reviews.
    async fn inbox_item(
        &self,
        principal: &Principal,
        subject: &Subject,
        publication: &fathom_model::Publication,
        dataset: &Dataset,
        release: bool,
        at: OffsetDateTime,
    ) -> Result<Option<InboxItem>> {
        let href = format!("/api/v1/datasets/{}/actions", dataset.id);
        if release {
            return Ok(publication
                .release
                .as_ref()
                .filter(|r| r.review.waiting_for().contains(&principal.name))
                .map(|r| InboxItem {
                    kind: "release".into(),
                    id: dataset.id,
                    href,
                    state: r.review.state.as_str().into(),
                    deadline: Some(r.review.deadline),
                    overdue: r.review.deadline <= at,
                }));
        }
        let author = publication.working_copy.as_ref().map(|c| &c.updated_by);
        if publication.submitted_by.as_ref() == Some(&principal.name)
            || author == Some(&principal.name)
        {
            return Ok(None);
        }
        let domain = Domain::of(&self.store, &dataset.metadata).await?;
        if !domain.publication_review
            || !domain.curated_by(principal, subject, &dataset.metadata.organisation)
        {
            return Ok(None);
        }
        Ok(Some(InboxItem {
            kind: "publication".into(),
            id: dataset.id,
            href,
            state: if dataset.state == fathom_model::DatasetState::InReview {
                "in_review".into()
            } else {
                "working_copy_in_review".into()
            },
            deadline: None,
            overdue: false,
        }))
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
        if let Some(expected) = expected
            && expected != current.revision
        {
            return Err(ServiceError::StaleRevision {
                entity: "access request",
                expected,
            });
        }
        let label = self.label_of(current.dataset).await?;
        let deciding = matches!(action, Action::Approve | Action::Delegate { .. });
        if deciding && label.deleted {
            return Err(ServiceError::Conflict(
                "the dataset of this request was deleted: the request can only be rejected or withdrawn".into(),
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
            return Err(ServiceError::Forbidden(
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
    async fn write(
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
                StoreError::StaleRevision => ServiceError::Conflict(
                    "another action on this request came first: read it again and decide on what it is now".into(),
                ),
                other => ServiceError::Internal(other),
            })?;
        Ok(AccessRequestView::of(next, at))
    }

    /// The label of the dataset a workflow is about: its own, or once it is deleted the one it
    /// last had (the highest classification of the policy if even that is gone).
    async fn label_of(&self, id: Uuid) -> Result<LabelOf> {
        match self.store.dataset(&RecordKey::Id(id)).await {
            Ok(dataset) => {
                return Ok(LabelOf {
                    label: dataset.metadata.security_label.clone(),
                    dataset: Some(dataset),
                    deleted: false,
                });
            }
            Err(StoreError::NotFound) => {}
            Err(other) => return Err(ServiceError::Internal(other)),
        }
        let label = match self
            .store
            .tombstone(id)
            .await
            .map_err(ServiceError::Internal)?
        {
            Some(tombstone) => tombstone.label,
            None => self.policy.highest_label(),
        };
        Ok(LabelOf {
            label,
            dataset: None,
            deleted: true,
        })
    }

    /// Grants: the caller's own, a dataset's (for those who decide on it), or all (for those who
    /// oversee).
    pub async fn grants(
        &self,
        principal: &Principal,
        scope: GrantScope,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<GrantView>> {
        let filter = match scope {
            GrantScope::Mine => GrantFilter {
                grantees: std::iter::once(Grantee::User(principal.name.clone()))
                    .chain(
                        principal
                            .memberships
                            .iter()
                            .map(|m| Grantee::Organisation(m.organisation.clone())),
                    )
                    .collect(),
                dataset: None,
            },
            GrantScope::Dataset(key) => {
                let dataset = match self.store.dataset(&key).await {
                    Ok(dataset)
                        if self.policy.may_read_dataset(
                            &access::subject(&self.policy, principal),
                            dataset.id,
                            &dataset.metadata.security_label,
                        ) =>
                    {
                        dataset
                    }
                    Ok(_) | Err(StoreError::NotFound) => {
                        return Err(ServiceError::NotFound("dataset"));
                    }
                    Err(other) => return Err(ServiceError::Internal(other)),
                };
                if !self.decides_on(principal, &dataset).await? {
                    return Err(ServiceError::Forbidden(
                        "only the dataset's stewards, security officers and admins see who may read it",
                    ));
                }
                GrantFilter {
                    grantees: Vec::new(),
                    dataset: Some(dataset.id),
                }
            }
            GrantScope::All => {
                if !self.oversees(principal) {
                    return Err(ServiceError::Forbidden(
                        "only security officers, auditors and admins list every grant",
                    ));
                }
                GrantFilter::default()
            }
        };
        // Grants on datasets the caller may not read are left out, so the store is read in batches
        // until the page is full. A holder sees their own grants (active or not) on datasets whose
        // classification they are cleared for.
        let mine = filter.dataset.is_none() && !filter.grantees.is_empty();
        let subject = access::subject(&self.policy, principal);
        let mut grants = Vec::new();
        let mut from = after;
        loop {
            let batch = self
                .store
                .grants(&filter, from, limit)
                .await
                .map_err(ServiceError::Internal)?;
            let full = batch.len() == limit as usize;
            from = batch.last().map(|g| g.id);
            for grant in batch {
                let shown = principal.reads_everything() || {
                    let label = self.label_of(grant.dataset).await?;
                    if mine {
                        self.policy.cleared_for(&subject.clearance, &label.label)
                    } else {
                        self.policy
                            .may_read_dataset(&subject, grant.dataset, &label.label)
                            || (label.deleted
                                && self.policy.subject_may_read(&subject, &label.label))
                    }
                };
                if shown {
                    grants.push(grant);
                }
            }
            if !full || grants.len() >= limit as usize {
                break;
            }
        }
        grants.truncate(limit as usize);
        let at = now();
        Ok(grants
            .into_iter()
            .map(|grant| GrantView {
                state: grant.state(at),
                grant,
            })
            .collect())
    }

    /// Revokes a grant at once: by a steward of its dataset, a security officer or an admin.
    pub async fn revoke_grant(
        &self,
        principal: &Principal,
        id: Uuid,
        input: ActionInput,
    ) -> Result<GrantView> {
        may_write(principal)?;
        action_name(&input, &["revoke"])?;
        let grant = match self.store.grant(id).await {
            Ok(grant) => grant,
            Err(StoreError::NotFound) => return Err(ServiceError::NotFound("grant")),
            Err(other) => return Err(ServiceError::Internal(other)),
        };
        let about = self.label_of(grant.dataset).await?;
        let holder = match &grant.grantee {
            Grantee::User(name) => name == &principal.name,
            Grantee::Organisation(slug) => principal
                .memberships
                .iter()
                .any(|m| &m.organisation == slug),
        };
        // Once the dataset is deleted, only security officers and admins decide on its grants.
        let decides = match &about.dataset {
            Some(dataset) => self.decides_on(principal, dataset).await?,
            None => {
                principal.reads_everything()
                    || self.settings.in_group(SECURITY_OFFICERS, &principal.name)
            }
        };
        if !decides {
            return Err(if holder {
                ServiceError::Forbidden(
                    "a grant is revoked by the dataset's stewards, security officers or admins",
                )
            } else {
                ServiceError::NotFound("grant")
            });
        }
        let at = now();
        match grant.state(at) {
            GrantState::Active | GrantState::Pending => {}
            state => {
                return Err(ServiceError::Conflict(format!(
                    "the grant is already {}",
                    if state == GrantState::Revoked {
                        "revoked"
                    } else {
                        "expired"
                    }
                )));
            }
        }
        let revoked = Grant {
            revoked: Some(Revocation {
                by: principal.name.clone(),
                at,
                reason: input.comment.unwrap_or_default(),
            }),
            ..grant
        };
        let notice = self.grant_notice(
            &revoked,
            2,
            EventKind::Revoked,
            &principal.name,
            &about.label,
            at,
        )?;
        if !self
            .store
            .end_grant(&revoked, &notice)
            .await
            .map_err(ServiceError::Internal)?
        {
            return Err(ServiceError::Conflict("the grant has just ended".into()));
        }
        Ok(GrantView {
            state: revoked.state(at),
            grant: revoked,
        })
    }

    /// Whether `principal` decides on access to `dataset`: a security officer, or one who curates
    /// it (an admin, a steward of its organisation or of its data domain).
    async fn decides_on(&self, principal: &Principal, dataset: &Dataset) -> Result<bool> {
        if self.settings.in_group(SECURITY_OFFICERS, &principal.name) {
            return Ok(true);
        }
        let domain = Domain::of(&self.store, &dataset.metadata).await?;
        Ok(domain.curated_by(
            principal,
            &access::subject(&self.policy, principal),
            &dataset.metadata.organisation,
        ))
    }

    /// Admins, security officers and auditors.
    fn oversees(&self, principal: &Principal) -> bool {
        principal.reads_everything()
            || self.settings.in_group(SECURITY_OFFICERS, &principal.name)
            || self.settings.in_group(AUDITORS, &principal.name)
    }

    /// The audit log after `after`: for admins and auditors only.
    pub async fn audit(
        &self,
        principal: &Principal,
        filter: &AuditFilter,
        after: i64,
        limit: u32,
    ) -> Result<Vec<AuditEvent>> {
        if !(principal.reads_everything() || self.settings.in_group(AUDITORS, &principal.name)) {
            return Err(ServiceError::Forbidden(
                "only auditors and admins read the audit log",
            ));
        }
        self.store
            .audit_search(filter, after, limit)
            .await
            .map_err(ServiceError::Internal)
    }

    /// Expires the requests and releases nobody decided by their deadline and the agreements whose
    /// period ended, and tells of the grants whose period ended. (Reads never wait for this: an ended grant opens nothing from its end.)
    pub async fn sweep(&self, at: OffsetDateTime) -> Result<SweepReport> {
        let mut report = SweepReport::default();
        let overdue = self
            .store
            .overdue_access_requests(at, 500)
            .await
            .map_err(ServiceError::Internal)?;
        for request in overdue {
            let Ok(review) = request.review.act(SYSTEM, &Action::Expire, "", at) else {
                continue;
            };
            let about = self.label_of(request.dataset).await?;
            match self
                .write(
                    request,
                    review,
                    &Action::Expire,
                    SYSTEM,
                    "",
                    &about.label,
                    at,
                )
                .await
            {
                Ok(_) => report.requests_expired += 1,
                // Someone acted meanwhile: the next sweep looks again.
                Err(ServiceError::Conflict(_)) => {}
                Err(other) => return Err(other),
            }
        }
        report.agreements_expired = self.expire_agreements(at).await?;
        report.releases_expired = self.expire_releases(at).await?;
        let ended = self
            .store
            .grants_ended_untold(at, 500)
            .await
            .map_err(ServiceError::Internal)?;
        for grant in ended {
            let about = self.label_of(grant.dataset).await?;
            let notice =
                self.grant_notice(&grant, 2, EventKind::Expired, SYSTEM, &about.label, at)?;
            if self
                .store
                .end_grant(&grant, &notice)
                .await
                .map_err(ServiceError::Internal)?
            {
                report.grants_ended += 1;
            }
        }
        Ok(report)
    }

    /// Sweeps every `every` until the process ends.
    pub fn spawn_sweeper(self, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            loop {
                ticks.tick().await;
                match self.sweep(now()).await {
                    Ok(report) if report != SweepReport::default() => {
                        tracing::info!(?report, "sharing workflows swept");
                    }
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "cannot sweep the sharing workflows"),
                }
            }
        })
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

    /// The event and audit entry of a grant's creation or end, told at `at`.
    fn grant_notice(
        &self,
        grant: &Grant,
        revision: i64,
        kind: EventKind,
        actor: &str,
        label: &SecurityLabel,
        at: OffsetDateTime,
    ) -> Result<Notice> {
        let mut record = json_of(grant)?;
        record["security_label"] = json_of(label)?;
        Ok(Notice {
            event: workflow_event("grant", kind, &record, revision),
            audit: audit_entry(
                format!("grant_{}", kind.as_str()),
                actor,
                grant.id,
                json!({
                    "dataset": grant.dataset,
                    "grantee": grant.grantee,
                    "period": grant.period,
                    "after": digest(grant)?,
                }),
                at,
            ),
        })
    }
}

fn audit_entry(
    event: String,
    actor: &str,
    subject: Uuid,
    mut details: Value,
    at: OffsetDateTime,
) -> AuditEvent {
    if let Some(request_id) = crate::audit::current_request_id() {
        details["request_id"] = Value::String(request_id);
    }
    AuditEvent {
        seq: 0,
        recorded_at: at,
        event,
        actor: Some(actor.to_owned()),
        subject: Some(subject.to_string()),
        details,
    }
}

fn json_of<T: Serialize>(value: &T) -> Result<Value> {
    serde_json::to_value(value)
        .map_err(|e| ServiceError::Internal(StoreError::Corrupt(format!("cannot encode: {e}"))))
}

/// The SHA-256 of a record's JSON, hex: what the audit log keeps of its state before and after.
fn digest<T: Serialize>(record: &T) -> Result<String> {
    let bytes = serde_json::to_vec(record)
        .map_err(|e| ServiceError::Internal(StoreError::Corrupt(format!("cannot encode: {e}"))))?;
    Ok(hex::encode(Sha256::digest(bytes)))
}

/// `Forbidden` for a token that may only read: every step of a workflow is a write.
fn may_write(principal: &Principal) -> Result<()> {
    if principal.may_write() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden("this token may only read"))
    }
}

/// The action named, if it is one of `allowed`, and its comment, at most 4,000 characters.
pub(crate) fn action_name<'a>(input: &'a ActionInput, allowed: &[&str]) -> Result<&'a str> {
    let name = input
        .action
        .as_deref()
        .ok_or_else(|| ValidationErrors::single("/action", "is required"))?;
    if input
        .comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > 4000)
    {
        return Err(ValidationErrors::single("/comment", "is longer than 4000 characters").into());
    }
    if allowed.contains(&name) {
        Ok(name)
    } else {
        Err(ValidationErrors::single(
            "/action",
            format!("`{name}` is not one of {}", allowed.join(", ")),
        )
        .into())
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
fn refused(refusal: Refusal) -> ServiceError {
    match refusal {
        Refusal::NotAnApprover(_) => {
            ServiceError::Forbidden("only an approver of the request's current step may decide it")
        }
        Refusal::OwnRequest => ServiceError::Forbidden("nobody approves their own request"),
        Refusal::NotTheRequester(_) => {
            ServiceError::Forbidden("only the requester may withdraw or amend a request")
        }
        other => ServiceError::Conflict(other.to_string()),
    }
}
