//! Data sharing workflows: access requests decided by approval chains (`requests.rs`), agreements
//! between organisations (`agreements.rs`) and the grants both yield (`grants.rs`), releases of
//! labels (`releases.rs`), the inbox of what waits for whom (`inbox.rs`); here, their settings,
//! what they share (the labels of the datasets they are about, the sweeper, the audit log for
//! auditors). Every action is one transaction that writes the workflow's new revision, its event and
//! its audit entry, or nothing; two actions on the same revision yield exactly one transition.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use fathom_model::{
    Action, ApprovalRule, Dataset, EventKind, LabelInput, Policy, Principal, SecurityLabel,
    ValidationErrors, default_approval_rules,
};
use fathom_store::{AuditEvent, AuditFilter, RecordKey, Store, StoreError, now};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::access;
use crate::codes::Code;
use crate::error::ServiceError;

mod agreements;
mod grants;
mod inbox;
mod releases;
mod requests;

pub use grants::{GrantScope, GrantView};
pub use inbox::{INBOX_LIMIT, InboxItem};
pub use releases::{RELEASE_ACTIONS, RELEASE_OFFICERS};
pub use requests::AccessRequestView;

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
    #[schema(value_type = String, required = true, min_length = 1)]
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

/// The label of the dataset a workflow is about, with the dataset while it exists.
struct LabelOf {
    label: SecurityLabel,
    dataset: Option<Dataset>,
    deleted: bool,
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
    pub(crate) fn new(store: Store, policy: Arc<Policy>, settings: SharingSettings) -> Self {
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

    /// The dataset `principal` may read, by id or slug; not found otherwise.
    async fn readable_dataset(&self, principal: &Principal, key: &RecordKey) -> Result<Dataset> {
        match self.store.dataset(key).await {
            Ok(dataset)
                if self.policy.may_read_dataset(
                    &access::subject(&self.policy, principal),
                    dataset.id,
                    &dataset.metadata.security_label,
                ) =>
            {
                Ok(dataset)
            }
            Ok(_) | Err(StoreError::NotFound) => Err(ServiceError::NotFound("dataset")),
            Err(other) => Err(ServiceError::Internal(other)),
        }
    }

    /// The label of the dataset a workflow is about: its own, or once it is deleted the one it
    /// last had (the highest classification of the policy if even that is gone).
    async fn label_of(&self, id: Uuid) -> Result<LabelOf> {
        let mut labels = self.labels_of(&[id]).await?;
        match labels.remove(&id) {
            Some(label) => Ok(label),
            None => self.deleted_label(id).await,
        }
    }

    /// The labels of the datasets `ids` (as [`Sharing::label_of`]): one query for those that
    /// exist, one more for each deleted one.
    async fn labels_of(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, LabelOf>> {
        let mut labels: HashMap<Uuid, LabelOf> = self
            .store
            .datasets_by_ids(ids)
            .await
            .map_err(ServiceError::Internal)?
            .into_iter()
            .map(|dataset| {
                let id = dataset.id;
                let label = LabelOf {
                    label: dataset.metadata.security_label.clone(),
                    dataset: Some(dataset),
                    deleted: false,
                };
                (id, label)
            })
            .collect();
        for id in ids {
            if !labels.contains_key(id) {
                labels.insert(*id, self.deleted_label(*id).await?);
            }
        }
        Ok(labels)
    }

    async fn deleted_label(&self, id: Uuid) -> Result<LabelOf> {
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
            return Err(ServiceError::refused(
                Code::OversightRequired,
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
                Err(error) if error.code().status() == 409 => {}
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
}

pub(crate) fn json_of<T: Serialize>(value: &T) -> Result<Value> {
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
        Err(ServiceError::refused(
            Code::ReadOnlyToken,
            "this token may only read",
        ))
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
