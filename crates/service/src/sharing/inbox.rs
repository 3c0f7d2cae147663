//! The inbox: what waits for the caller in every workflow.

use std::collections::HashMap;

use fathom_model::{
    Dataset, DatasetState, OrganisationRole, Principal, Publication, Review, Slug, Subject,
};
use fathom_store::now;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{RELEASE_OFFICERS, Result, Sharing};
use crate::access;
use crate::error::ServiceError;
use crate::stewards::Domain;

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

impl InboxItem {
    /// An item that waits for a review's decision, overdue once its deadline has passed at `at`.
    fn awaiting(kind: &str, id: Uuid, href: String, review: &Review, at: OffsetDateTime) -> Self {
        Self {
            kind: kind.into(),
            id,
            href,
            state: review.state.as_str().into(),
            deadline: Some(review.deadline),
            overdue: review.deadline <= at,
        }
    }
}

impl Sharing {
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
        let subject = access::subject(&self.policy, principal);
        let decided: Vec<Uuid> = waiting
            .iter()
            .filter(|r| r.review.requester != principal.name)
            .map(|r| r.dataset)
            .collect();
        let labels = self.labels_of(&decided).await?;
        for request in waiting {
            // An approver left uncleared by a relabelling does not learn of the request.
            if request.review.requester != principal.name
                && !labels
                    .get(&request.dataset)
                    .is_some_and(|l| self.policy.subject_may_read(&subject, &l.label))
            {
                continue;
            }
            items.push(InboxItem::awaiting(
                "access_request",
                request.id,
                format!("/api/v1/access-requests/{}", request.id),
                &request.review,
                at,
            ));
        }
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
        // Data domains read once each, however many of their datasets wait.
        let mut domains: HashMap<Option<Slug>, Domain> = HashMap::new();
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
                    let item = if releases {
                        release_item(principal, &publication, at)
                    } else {
                        self.review_item(principal, &subject, &publication, dataset, &mut domains)
                            .await?
                    };
                    if let Some(item) = item {
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

    /// The review of a dataset or its working copy, if `principal` reviews it: not what they
    /// submitted or wrote, in a domain that still reviews publication.
    async fn review_item(
        &self,
        principal: &Principal,
        subject: &Subject,
        publication: &Publication,
        dataset: &Dataset,
        domains: &mut HashMap<Option<Slug>, Domain>,
    ) -> Result<Option<InboxItem>> {
        let author = publication.working_copy.as_ref().map(|c| &c.updated_by);
        if publication.submitted_by.as_ref() == Some(&principal.name)
            || author == Some(&principal.name)
        {
            return Ok(None);
        }
        let domain = match domains.get(&dataset.metadata.domain) {
            Some(domain) => domain,
            None => {
                let domain = Domain::of(&self.store, &dataset.metadata).await?;
                domains
                    .entry(dataset.metadata.domain.clone())
                    .or_insert(domain)
            }
        };
        if !domain.publication_review
            || !domain.curated_by(principal, subject, &dataset.metadata.organisation)
        {
            return Ok(None);
        }
        Ok(Some(InboxItem {
            kind: "publication".into(),
            id: dataset.id,
            href: format!("/api/v1/datasets/{}/actions", dataset.id),
            state: if dataset.state == DatasetState::InReview {
                "in_review".into()
            } else {
                "working_copy_in_review".into()
            },
            deadline: None,
            overdue: false,
        }))
    }
}

/// The release of a dataset's label, if `principal` must decide it.
fn release_item(
    principal: &Principal,
    publication: &Publication,
    at: OffsetDateTime,
) -> Option<InboxItem> {
    let release = publication.release.as_ref()?;
    release
        .review
        .waiting_for()
        .contains(&principal.name)
        .then(|| {
            InboxItem::awaiting(
                "release",
                publication.dataset,
                format!("/api/v1/datasets/{}/actions", publication.dataset),
                &release.review,
                at,
            )
        })
}
