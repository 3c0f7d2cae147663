//! The release workflow: relabelling a dataset so that more people may read it (a lower
//! classification, wider releasability, fewer need-to-know values) is asked for by a steward and
//! decided by a release officer (the configured group), never by the one who asked. Narrowing a
//! label stays a direct write of a steward cleared for both labels.

use fathom_model::{
    Action, EventKind, LabelInput, Principal, Publication, Release, RequestState, Review,
    SecurityLabel, ValidationErrors, workflow_event,
};
use fathom_store::{Notice, RecordKey, StoreError, now};
use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::requests::refused;
use super::{ActionInput, Result, SYSTEM, Sharing, action_name, digest, json_of, may_write};
use crate::access;
use crate::audit::audit_entry;
use crate::catalogue::{LabelledUpdate, check_revision};
use crate::codes::Code;
use crate::error::ServiceError;

/// The group whose members decide releases.
pub const RELEASE_OFFICERS: &str = "release_officers";

/// The release actions, as `POST …/datasets/{key}/actions` names them.
pub const RELEASE_ACTIONS: [&str; 4] = [
    "request_release",
    "approve_release",
    "reject_release",
    "withdraw_release",
];

impl Sharing {
    /// Acts on the release of a dataset's label: `request_release` (with `security_label`, by a
    /// steward of its organisation cleared for both labels), `approve_release` or `reject_release`
    /// (a release officer cleared for both labels, not the requester), `withdraw_release` (the
    /// requester). `expected` is the dataset workflow's revision.
    pub async fn act_on_release(
        &self,
        principal: &Principal,
        key: &RecordKey,
        expected: Option<i64>,
        input: ActionInput,
    ) -> Result<()> {
        may_write(principal)?;
        let name = action_name(&input, &RELEASE_ACTIONS)?;
        let comment = input.comment.clone().unwrap_or_default();
        let dataset = self.readable_dataset(principal, key).await?;
        let mut publication = self
            .store
            .publication(dataset.id)
            .await
            .map_err(ServiceError::Internal)?
            .unwrap_or_else(|| Publication::new(dataset.id));
        check_revision("dataset workflow", expected, publication.revision)?;
        let at = now();
        let subject = access::subject(&self.policy, principal);
        let current = &dataset.metadata.security_label;
        let (release, kind, relabelled) = if name == "request_release" {
            let input = input.security_label.clone().ok_or_else(|| {
                ValidationErrors::single("/security_label", "is required to request a release")
            })?;
            let to = self.parse_release_label(input)?;
            if !self.policy.widens(current, &to) {
                return Err(ServiceError::refused(
                    Code::ReleaseNotNeeded,
                    "this label lets nobody new read the dataset: a steward cleared for both labels changes it directly",
                ));
            }
            if !self
                .policy
                .may_release(&subject, &dataset.metadata.organisation, current, &to)
            {
                return Err(ServiceError::refused(
                    Code::ClearanceRequired,
                    "a release is asked for by a steward of the dataset's organisation cleared for both labels",
                ));
            }
            if let Some(open) = &publication.release
                && !open.review.state.is_final()
                && at < open.review.deadline
            {
                return Err(ServiceError::refused(
                    Code::WrongState,
                    "a release of this dataset is already asked for: withdraw it first",
                ));
            }
            let officers = self
                .settings
                .groups
                .get(RELEASE_OFFICERS)
                .cloned()
                .unwrap_or_default();
            let deadline = at + Duration::days(self.settings.decision_days);
            let review = Review::submit(&principal.name, vec![officers], deadline).map_err(|_| {
                ServiceError::refused(Code::NoApprover,
                    "no release officer other than you is configured (the `release_officers` group)",
                )
            })?;
            let release = Release {
                from: current.clone(),
                to,
                review,
            };
            (release, EventKind::Submitted, None)
        } else {
            let Some(open) = publication.release.clone() else {
                return Err(ServiceError::refused(
                    Code::WrongState,
                    "no release of this dataset is asked for",
                ));
            };
            let action = match name {
                "approve_release" => Action::Approve,
                "reject_release" => Action::Reject,
                _ => Action::Withdraw,
            };
            if action != Action::Withdraw
                && !(self.policy.subject_may_read(&subject, &open.from)
                    && self.policy.subject_may_read(&subject, &open.to))
            {
                return Err(ServiceError::refused(
                    Code::ClearanceRequired,
                    "a release is decided by a release officer cleared for both labels",
                ));
            }
            let review = open
                .review
                .act(&principal.name, &action, &comment, at)
                .map_err(refused)?;
            let approved = review.state == RequestState::Approved;
            if approved && &open.from != current {
                return Err(ServiceError::refused(
                    Code::BasisChanged,
                    "the dataset's label changed since the release was asked for: ask again",
                ));
            }
            let kind = match action {
                Action::Approve if approved => EventKind::Approved,
                Action::Approve => EventKind::Submitted,
                Action::Reject => EventKind::Rejected,
                _ => EventKind::Withdrawn,
            };
            let relabelled = approved.then(|| {
                let mut next = dataset.clone();
                next.metadata.security_label = open.to.clone();
                next.revision += 1;
                next.updated_at = at;
                next
            });
            let release = Release { review, ..open };
            (release, kind, relabelled)
        };
        let expected = publication.revision;
        publication.release = Some(release);
        publication.revision += 1;
        let notice = release_notice(
            &publication,
            &dataset.metadata.security_label,
            kind,
            &principal.name,
            &comment,
            at,
        )?;
        let labelled = relabelled.as_ref().map(|relabelled| {
            LabelledUpdate::new(
                principal,
                &dataset.metadata.security_label,
                relabelled,
                dataset.revision,
            )
        });
        self.store
            .write_publication(
                &publication,
                expected,
                labelled.as_ref().map(LabelledUpdate::update),
                Some(&notice),
            )
            .await
            .map_err(|error| match error {
                StoreError::StaleRevision => ServiceError::refused(
                    Code::ConcurrentChange,
                    "another action on this dataset came first: read it again",
                ),
                StoreError::NotFound => ServiceError::NotFound("dataset"),
                other => ServiceError::Internal(other),
            })?;
        if let Some(labelled) = labelled {
            labelled.committed();
        }
        Ok(())
    }

    /// Expires the releases nobody decided by their deadline.
    pub(super) async fn expire_releases(&self, at: OffsetDateTime) -> Result<usize> {
        let mut expired = 0;
        let open = self
            .store
            .open_publications(true, None, 500)
            .await
            .map_err(ServiceError::Internal)?;
        for mut publication in open {
            let Some(release) = publication.release.clone() else {
                continue;
            };
            let Ok(review) = release.review.act(SYSTEM, &Action::Expire, "", at) else {
                continue;
            };
            let label = self.label_of(publication.dataset).await?;
            let expected = publication.revision;
            publication.release = Some(Release { review, ..release });
            publication.revision += 1;
            let notice = release_notice(
                &publication,
                &label.label,
                EventKind::Expired,
                SYSTEM,
                "",
                at,
            )?;
            match self
                .store
                .write_publication(&publication, expected, None, Some(&notice))
                .await
            {
                Ok(()) => expired += 1,
                // Someone acted meanwhile: the next sweep looks again.
                Err(StoreError::StaleRevision) => {}
                Err(other) => return Err(ServiceError::Internal(other)),
            }
        }
        Ok(expired)
    }

    fn parse_release_label(&self, input: LabelInput) -> Result<fathom_model::SecurityLabel> {
        self.policy.parse_label(input).map_err(|errors| {
            let mut prefixed = ValidationErrors::default();
            for error in errors.0 {
                prefixed.push(format!("/security_label{}", error.pointer), error.message);
            }
            ServiceError::Invalid(prefixed)
        })
    }
}

/// The event and audit entry of a step of a release.
fn release_notice(
    publication: &Publication,
    label: &SecurityLabel,
    kind: EventKind,
    actor: &str,
    comment: &str,
    at: OffsetDateTime,
) -> Result<Notice> {
    let Some(release) = &publication.release else {
        return Err(ServiceError::Internal(StoreError::Corrupt(
            "a release step without a release".into(),
        )));
    };
    let dataset = publication.dataset;
    let mut record = json_of(release)?;
    record["id"] = json!(dataset);
    record["dataset"] = json!(dataset);
    record["waiting_for"] = json!(release.review.waiting_for());
    record["security_label"] = json_of(label)?;
    Ok(Notice {
        event: workflow_event("release", kind, &record, publication.revision),
        audit: audit_entry(
            format!("release_{}", kind.as_str()),
            actor,
            dataset,
            json!({
                "state": release.review.state,
                "from": release.from,
                "to": release.to,
                "comment": comment,
                "after": digest(release)?,
            }),
            at,
        ),
    })
}
