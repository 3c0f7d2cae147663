//! Data sharing agreements: written and proposed by the provider's admins, accepted by each
//! recipient's, in force until their period ends or a party terminates them. Coming into force
//! grants every recipient organisation each dataset; terminating revokes those grants in the same
//! transaction.

use fathom_formats::Site;
use fathom_model::{
    Agreement, AgreementAction, AgreementInput, AgreementRefusal, AgreementState, Dataset,
    EventKind, Grant, GrantSource, GrantState, Grantee, OrganisationRole, Principal,
    ReleasedDataset, Revocation, Slug, ValidationErrors, workflow_event,
};
use fathom_store::{Notice, RecordKey, StoreError, now};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{ActionInput, Result, SYSTEM, Sharing, action_name, digest, json_of, may_write};
use crate::access;
use crate::audit::audit_entry;
use crate::catalogue::check_revision;
use crate::codes::Code;
use crate::error::ServiceError;

impl Sharing {
    /// Writes a draft agreement. Its author must be an admin of the provider who may read each
    /// dataset, all of them the provider's.
    pub async fn create_agreement(
        &self,
        principal: &Principal,
        input: AgreementInput,
    ) -> Result<Agreement> {
        may_write(principal)?;
        let at = now();
        let draft = input.parse(at, Duration::days(self.settings.longest_grant_days))?;
        let mut errors = ValidationErrors::default();
        for (n, party) in std::iter::once(&draft.provider)
            .chain(&draft.recipients)
            .enumerate()
        {
            match self
                .store
                .organisation(&RecordKey::Slug(party.to_string()))
                .await
            {
                Ok(_) => {}
                Err(StoreError::NotFound) => errors.push(
                    if n == 0 {
                        "/provider".to_owned()
                    } else {
                        format!("/recipients/{}", n - 1)
                    },
                    "no such organisation",
                ),
                Err(other) => return Err(ServiceError::Internal(other)),
            }
        }
        let subject = access::subject(&self.policy, principal);
        if !self.policy.may_manage(&subject, &draft.provider) {
            return Err(ServiceError::refused(
                Code::PartyRequired,
                "only an admin of the providing organisation writes its agreements",
            ));
        }
        let mut datasets = Vec::with_capacity(draft.datasets.len());
        for (n, key) in draft.datasets.iter().enumerate() {
            match self.store.dataset(&RecordKey::parse(key)).await {
                Ok(dataset)
                    if dataset.metadata.organisation == draft.provider
                        && self.policy.may_read_dataset(
                            &subject,
                            dataset.id,
                            &dataset.metadata.security_label,
                        ) =>
                {
                    datasets.push(dataset.id);
                }
                Ok(_) | Err(StoreError::NotFound) => errors.push(
                    format!("/datasets/{n}"),
                    "no dataset of the provider that you may read",
                ),
                Err(other) => return Err(ServiceError::Internal(other)),
            }
        }
        fathom_model::validation::check_unique(&mut errors, "/datasets", &datasets);
        errors.into_result(|| ())?;
        let agreement = Agreement {
            id: Uuid::now_v7(),
            title: draft.title,
            provider: draft.provider,
            recipients: draft.recipients,
            datasets,
            period: draft.period,
            terms: draft.terms,
            state: AgreementState::Draft,
            signatures: Vec::new(),
            history: Vec::new(),
            grants: Vec::new(),
            released: Vec::new(),
            revision: 1,
            created_at: at,
            updated_at: at,
        };
        let notice = agreement_notice(&agreement, None, EventKind::Created, &principal.name, "")?;
        self.store
            .insert_agreement(&agreement, &notice)
            .await
            .map_err(ServiceError::Internal)?;
        Ok(agreement)
    }

    /// An agreement for a member of one of its parties (or an admin); not found for anyone else.
    /// Its datasets are those the caller may read (the others are left out).
    pub async fn agreement(&self, principal: &Principal, id: Uuid) -> Result<Agreement> {
        let mut agreement = [self.party_agreement(principal, id).await?];
        self.hide_unseen_datasets(principal, &mut agreement).await?;
        let [agreement] = agreement;
        Ok(agreement)
    }

    /// Leaves out of `agreements` the datasets `principal` may not read (one query for them all).
    async fn hide_unseen_datasets(
        &self,
        principal: &Principal,
        agreements: &mut [Agreement],
    ) -> Result<()> {
        if principal.reads_everything() {
            return Ok(());
        }
        let ids: Vec<Uuid> = agreements
            .iter()
            .flat_map(|a| a.datasets.iter().copied())
            .collect();
        let subject = access::subject(&self.policy, principal);
        let readable: std::collections::HashSet<Uuid> = self
            .store
            .datasets_by_ids(&ids)
            .await
            .map_err(ServiceError::Internal)?
            .into_iter()
            .filter(|d| {
                self.policy
                    .may_read_dataset(&subject, d.id, &d.metadata.security_label)
            })
            .map(|d| d.id)
            .collect();
        for agreement in agreements {
            agreement.datasets.retain(|id| readable.contains(id));
            agreement.released.retain(|r| readable.contains(&r.dataset));
        }
        Ok(())
    }

    /// An agreement for a member of one of its parties (or an admin), whole; not found for anyone
    /// else.
    async fn party_agreement(&self, principal: &Principal, id: Uuid) -> Result<Agreement> {
        match self.store.agreement(id).await {
            Ok(agreement)
                if principal.reads_everything()
                    || agreement.parties().any(|party| {
                        principal
                            .memberships
                            .iter()
                            .any(|m| &m.organisation == party)
                    }) =>
            {
                Ok(agreement)
            }
            Ok(_) | Err(StoreError::NotFound) => Err(ServiceError::NotFound("agreement")),
            Err(other) => Err(ServiceError::Internal(other)),
        }
    }

    /// The agreement as an ODRL `Agreement` in JSON-LD.
    pub async fn agreement_odrl(
        &self,
        principal: &Principal,
        id: Uuid,
        site: &Site,
    ) -> Result<Value> {
        let agreement = self.agreement(principal, id).await?;
        Ok(fathom_formats::odrl::agreement(&agreement, site))
    }

    /// The agreements of the caller's organisations (an admin's: all), in order of creation.
    pub async fn agreements(
        &self,
        principal: &Principal,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Agreement>> {
        let organisations: Vec<&str> = principal
            .memberships
            .iter()
            .map(|m| m.organisation.as_str())
            .collect();
        let parties = (!principal.reads_everything()).then_some(organisations.as_slice());
        let mut agreements = self
            .store
            .agreements(parties, after, limit)
            .await
            .map_err(ServiceError::Internal)?;
        self.hide_unseen_datasets(principal, &mut agreements)
            .await?;
        Ok(agreements)
    }

    /// Acts on an agreement: `propose` (the provider's admin, who must be cleared to release each
    /// dataset), `accept` or `decline` (a recipient's admin), `terminate` (any party's admin).
    pub async fn act_on_agreement(
        &self,
        principal: &Principal,
        id: Uuid,
        expected: Option<i64>,
        input: ActionInput,
    ) -> Result<Agreement> {
        may_write(principal)?;
        let name = action_name(
            &input,
            &AgreementAction::BY_PARTIES.map(AgreementAction::as_str),
        )?;
        let action =
            AgreementAction::parse(name).map_err(|m| ValidationErrors::single("/action", m))?;
        let comment = input.comment.unwrap_or_default();
        let current = self.party_agreement(principal, id).await?;
        check_revision("agreement", expected, current.revision)?;
        let subject = access::subject(&self.policy, principal);
        let signs_for: Vec<Slug> = current
            .parties()
            .filter(|party| {
                subject
                    .role_in(party)
                    .is_some_and(|role| role >= OrganisationRole::Admin)
            })
            .cloned()
            .collect();
        let datasets = self.agreement_datasets(&current).await?;
        if action == AgreementAction::Propose
            && !datasets.iter().all(|d| {
                self.policy
                    .subject_may_read(&subject, &d.metadata.security_label)
            })
        {
            return Err(ServiceError::refused(
                Code::ClearanceRequired,
                "you are not cleared for every dataset of the agreement, so you cannot release them",
            ));
        }
        let at = now();
        let mut next = current
            .act(&principal.name, &signs_for, action, &comment, at)
            .map_err(refused)?;
        if action == AgreementAction::Propose {
            next.released = datasets
                .iter()
                .map(|d| ReleasedDataset {
                    dataset: d.id,
                    label: d.metadata.security_label.clone(),
                })
                .collect();
        }
        let mut written = [self
            .write_agreement(
                current,
                next,
                action,
                &principal.name,
                &comment,
                &datasets,
                at,
            )
            .await?];
        self.hide_unseen_datasets(principal, &mut written).await?;
        let [written] = written;
        Ok(written)
    }

    async fn agreement_datasets(&self, agreement: &Agreement) -> Result<Vec<Dataset>> {
        self.store
            .datasets_by_ids(&agreement.datasets)
            .await
            .map_err(ServiceError::Internal)
    }

    /// Writes `next` over `current`: with the grants it makes when it comes into force, and the
    /// grants it revokes when it is terminated.
    #[allow(clippy::too_many_arguments)]
    async fn write_agreement(
        &self,
        current: Agreement,
        mut next: Agreement,
        action: AgreementAction,
        actor: &str,
        comment: &str,
        datasets: &[Dataset],
        at: OffsetDateTime,
    ) -> Result<Agreement> {
        let mut made = Vec::new();
        let mut ended = Vec::new();
        if next.state == AgreementState::Active {
            if datasets.len() != next.datasets.len()
                || datasets
                    .iter()
                    .any(|d| d.metadata.organisation != next.provider)
            {
                return Err(ServiceError::refused(
                    Code::BasisChanged,
                    "a dataset of the agreement was deleted or moved to another organisation since it was written: terminate it and write another",
                ));
            }
            let relabelled = !next.released.is_empty()
                && datasets.iter().any(|d| {
                    !next
                        .released
                        .iter()
                        .any(|r| r.dataset == d.id && r.label == d.metadata.security_label)
                });
            if relabelled {
                return Err(ServiceError::refused(
                    Code::BasisChanged,
                    "a dataset of the agreement was relabelled since the provider signed: a recipient declines it, and the provider proposes it again",
                ));
            }
            for recipient in &next.recipients {
                for dataset in datasets {
                    let grant = Grant {
                        id: Uuid::now_v7(),
                        dataset: dataset.id,
                        distribution: None,
                        grantee: Grantee::Organisation(recipient.clone()),
                        period: next.period,
                        purpose: next.terms.purpose.clone(),
                        conditions: next.terms.conditions(),
                        source: GrantSource::Agreement(next.id),
                        granted_by: next.signatures.iter().map(|s| s.by.clone()).collect(),
                        revoked: None,
                        created_at: at,
                    };
                    let notice = self.grant_notice(
                        &grant,
                        1,
                        EventKind::Created,
                        actor,
                        &dataset.metadata.security_label,
                        at,
                    )?;
                    made.push((grant, notice));
                }
            }
            next.grants = made.iter().map(|(grant, _)| grant.id).collect();
        }
        if next.state == AgreementState::Terminated {
            let grants = self
                .store
                .grants_by_ids(&current.grants)
                .await
                .map_err(ServiceError::Internal)?;
            for grant in grants {
                if !matches!(grant.state(at), GrantState::Active | GrantState::Pending) {
                    continue;
                }
                let label = match datasets.iter().find(|d| d.id == grant.dataset) {
                    Some(dataset) => dataset.metadata.security_label.clone(),
                    None => self.label_of(grant.dataset).await?.label,
                };
                let revoked = Grant {
                    revoked: Some(Revocation {
                        by: actor.to_owned(),
                        at,
                        reason: format!("the agreement was terminated: {comment}"),
                    }),
                    ..grant
                };
                let notice =
                    self.grant_notice(&revoked, 2, EventKind::Revoked, actor, &label, at)?;
                ended.push((revoked, notice));
            }
        }
        next.revision = current.revision + 1;
        next.updated_at = at;
        let kind = match action {
            AgreementAction::Propose => EventKind::Proposed,
            AgreementAction::Accept => EventKind::Accepted,
            AgreementAction::Decline => EventKind::Declined,
            AgreementAction::Terminate => EventKind::Terminated,
            AgreementAction::Expire => EventKind::Expired,
        };
        let notice = agreement_notice(&next, Some(&current), kind, actor, comment)?;
        self.store
            .update_agreement(&next, current.revision, &notice, &made, &ended)
            .await
            .map_err(|error| match error {
                StoreError::StaleRevision => ServiceError::refused(Code::ConcurrentChange,
                    "another action on this agreement came first: read it again and decide on what it is now",
                ),
                other => ServiceError::Internal(other),
            })?;
        Ok(next)
    }

    /// Expires the agreements whose period ended (their grants end with them).
    pub(super) async fn expire_agreements(&self, at: OffsetDateTime) -> Result<usize> {
        let mut expired = 0;
        let ended = self
            .store
            .agreements_past_end(at, 500)
            .await
            .map_err(ServiceError::Internal)?;
        for agreement in ended {
            let Ok(next) = agreement.act(SYSTEM, &[], AgreementAction::Expire, "", at) else {
                continue;
            };
            let datasets = self.agreement_datasets(&agreement).await?;
            match self
                .write_agreement(
                    agreement,
                    next,
                    AgreementAction::Expire,
                    SYSTEM,
                    "",
                    &datasets,
                    at,
                )
                .await
            {
                Ok(_) => expired += 1,
                Err(error) if error.code().status() == 409 => {}
                Err(other) => return Err(other),
            }
        }
        Ok(expired)
    }
}

/// The event and audit entry of an action on an agreement.
fn agreement_notice(
    agreement: &Agreement,
    before: Option<&Agreement>,
    kind: EventKind,
    actor: &str,
    comment: &str,
) -> Result<Notice> {
    let record = json_of(agreement)?;
    Ok(Notice {
        event: workflow_event("agreement", kind, &record, agreement.revision),
        audit: audit_entry(
            format!("agreement_{}", kind.as_str()),
            actor,
            agreement.id,
            json!({
                "state": agreement.state,
                "parties": agreement.parties().collect::<Vec<_>>(),
                "datasets": agreement.datasets,
                "comment": comment,
                "before": before.map(digest).transpose()?,
                "after": digest(agreement)?,
            }),
            agreement.updated_at,
        ),
    })
}

/// A refusal of the state machine with its code (every variant named, so a new one gets its own).
fn refused(refusal: AgreementRefusal) -> ServiceError {
    let code = match refusal {
        AgreementRefusal::NotASignatory(_) => {
            return ServiceError::refused(
                Code::PartyRequired,
                "only an admin of the party this action is for may do it",
            );
        }
        AgreementRefusal::SignedForAnother => Code::SeparationOfDuties,
        AgreementRefusal::NotFromState { .. }
        | AgreementRefusal::AlreadySigned
        | AgreementRefusal::BeforeEnd => Code::WrongState,
        AgreementRefusal::PastEnd => Code::DeadlinePassed,
    };
    ServiceError::refused(code, refusal.to_string())
}
