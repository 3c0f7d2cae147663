//! Grants: what approvals and agreements open, listed for their holders, their datasets' stewards
//! and those who oversee them, and revoked at once.

use std::collections::HashMap;

use fathom_model::{
    Dataset, EventKind, Grant, GrantState, Grantee, Principal, Revocation, SecurityLabel,
    workflow_event,
};
use fathom_store::{GrantFilter, Notice, RecordKey, StoreError, now};
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    ActionInput, Result, SECURITY_OFFICERS, Sharing, action_name, digest, json_of, may_write,
};
use crate::access;
use crate::audit::audit_entry;
use crate::codes::Code;
use crate::error::ServiceError;
use crate::stewards::Domain;

/// A grant as the API shows it, with its state now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct GrantView {
    #[serde(flatten)]
    pub grant: Grant,
    pub state: GrantState,
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

impl Sharing {
    /// Grants: the caller's own, a dataset's (for those who decide on it), or all (for those who
    /// oversee).
    pub async fn grants(
        &self,
        principal: &Principal,
        scope: GrantScope,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<GrantView>> {
        let mine = scope == GrantScope::Mine;
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
                let dataset = self.readable_dataset(principal, &key).await?;
                if !self.decides_on(principal, &dataset).await? {
                    return Err(ServiceError::refused(
                        Code::OversightRequired,
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
                    return Err(ServiceError::refused(
                        Code::OversightRequired,
                        "only security officers, auditors and admins list every grant",
                    ));
                }
                GrantFilter::default()
            }
        };
        // Grants on datasets the caller may not read are left out, so the store is read in batches
        // until the page is full. A holder sees their own grants (active or not) on datasets whose
        // classification they are cleared for.
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
            let labels = if principal.reads_everything() {
                HashMap::new()
            } else {
                let ids: Vec<Uuid> = batch.iter().map(|g| g.dataset).collect();
                self.labels_of(&ids).await?
            };
            for grant in batch {
                let shown = match labels.get(&grant.dataset) {
                    None => principal.reads_everything(),
                    Some(label) if mine => {
                        self.policy.cleared_for(&subject.clearance, &label.label)
                    }
                    Some(label) => {
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
                ServiceError::refused(
                    Code::OversightRequired,
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
                return Err(ServiceError::refused(
                    Code::WrongState,
                    format!(
                        "the grant is already {}",
                        if state == GrantState::Revoked {
                            "revoked"
                        } else {
                            "expired"
                        }
                    ),
                ));
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
            return Err(ServiceError::refused(
                Code::WrongState,
                "the grant has just ended",
            ));
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

    /// The event and audit entry of a grant's creation or end, told at `at`.
    pub(super) fn grant_notice(
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
