//! Data sharing: access requests, grants, agreements and the notices they send. Their rows and
//! filters, and `Store`'s methods on them; the SQL is in `repository/sharing.rs`.

use super::*;

/// What a change of a workflow tells, written in the change's transaction: its event (into the
/// change feed and the outbox) and its audit entry (whose actor is the revision's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub event: EventDraft,
    pub audit: AuditEvent,
}

/// Which grants a list shows: those of any of `grantees`, on `dataset` (each, when given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantFilter {
    pub grantees: Vec<Grantee>,
    pub dataset: Option<Uuid>,
}

impl Store {
    pub async fn insert_access_request(
        &self,
        request: &AccessRequest,
        notice: &Notice,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.insert_access_request(request, notice).await)
    }

    /// Writes an action on a request read at `expected_revision`, with the grant its approval made;
    /// `StaleRevision` (nothing written) when another action came first.
    pub async fn update_access_request(
        &self,
        request: &AccessRequest,
        expected_revision: i64,
        notice: &Notice,
        grant: Option<(&Grant, &Notice)>,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.update_access_request(request, expected_revision, notice, grant).await)
    }

    /// A grant made otherwise than by a request's approval (an agreement's).
    pub async fn insert_grant(&self, grant: &Grant, notice: &Notice) -> StoreResult<()> {
        dispatch!(self, r => r.insert_grant(grant, notice).await)
    }

    pub async fn access_request(&self, id: Uuid) -> StoreResult<AccessRequest> {
        dispatch!(self, r => r.access_request(id).await)
    }

    /// A page of requests in order of creation: of `requester`, waiting for `waiting_for`, or all.
    pub async fn access_requests(
        &self,
        requester: Option<&str>,
        waiting_for: Option<&str>,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<AccessRequest>> {
        dispatch!(self, r => r.access_requests(requester, waiting_for, after, limit).await)
    }

    /// Undecided requests whose deadline is at or before `now`.
    pub async fn overdue_access_requests(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<AccessRequest>> {
        dispatch!(self, r => r.overdue_access_requests(now, limit).await)
    }

    /// The datasets granted at `now` to the user `name` or to one of `organisations`.
    pub async fn granted_datasets(
        &self,
        name: &str,
        organisations: &[&str],
        now: OffsetDateTime,
    ) -> StoreResult<Vec<Uuid>> {
        dispatch!(self, r => r.granted_datasets(name, organisations, now).await)
    }

    pub async fn grants(
        &self,
        filter: &GrantFilter,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<Grant>> {
        dispatch!(self, r => r.grants(filter, after, limit).await)
    }

    pub async fn grant(&self, id: Uuid) -> StoreResult<Grant> {
        dispatch!(self, r => r.grant(id).await)
    }

    /// Ends a grant (revoked when `grant.revoked` is set, else its expiry told); `false` when
    /// another writer ended it first.
    pub async fn end_grant(&self, grant: &Grant, notice: &Notice) -> StoreResult<bool> {
        dispatch!(self, r => r.end_grant(grant, notice).await)
    }

    /// Grants whose period ended at or before `now` and whose end was not told yet.
    pub async fn grants_ended_untold(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Grant>> {
        dispatch!(self, r => r.grants_ended_untold(now, limit).await)
    }

    /// Proposed agreements one of `organisations` is a party to, at most `limit`.
    pub async fn proposed_agreements(
        &self,
        organisations: &[&str],
        limit: u32,
    ) -> StoreResult<Vec<Agreement>> {
        dispatch!(self, r => r.proposed_agreements(organisations, limit).await)
    }

    pub async fn insert_agreement(
        &self,
        agreement: &Agreement,
        notice: &Notice,
    ) -> StoreResult<()> {
        dispatch!(self, r => r.insert_agreement(agreement, notice).await)
    }

    /// Writes an action on an agreement read at `expected_revision`, with the grants it makes and
    /// ends; `StaleRevision` (nothing written) when another action came first.
    pub async fn update_agreement(
        &self,
        agreement: &Agreement,
        expected_revision: i64,
        notice: &Notice,
        made: &[(Grant, Notice)],
        ended: &[(Grant, Notice)],
    ) -> StoreResult<()> {
        dispatch!(self, r => r.update_agreement(agreement, expected_revision, notice, made, ended).await)
    }

    pub async fn agreement(&self, id: Uuid) -> StoreResult<Agreement> {
        dispatch!(self, r => r.agreement(id).await)
    }

    /// A page of agreements in order of creation: those one of `organisations` is a party to, or
    /// all of them.
    pub async fn agreements(
        &self,
        organisations: Option<&[&str]>,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<Agreement>> {
        dispatch!(self, r => r.agreements(organisations, after, limit).await)
    }

    /// Agreements not yet ended whose period ended at or before `now`.
    pub async fn agreements_past_end(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<Agreement>> {
        dispatch!(self, r => r.agreements_past_end(now, limit).await)
    }

    pub async fn grants_by_ids(&self, ids: &[Uuid]) -> StoreResult<Vec<Grant>> {
        dispatch!(self, r => r.grants_by_ids(ids).await)
    }
}
