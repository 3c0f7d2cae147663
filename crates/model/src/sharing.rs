//! Data sharing: access requests, the approval chains that decide them, and the grants that approval
//! yields. A request wraps a [`Review`] (the state machine of `workflow.rs`); its chain is built from
//! rules of the deployment's configuration; a grant lets its holder read one dataset for a period,
//! whatever the dataset's label says about their nationality or communities, never above their
//! classification.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::access::Clearance;
use crate::dataset::short_text;
use crate::label::{Policy, SecurityLabel};
use crate::validation::ValidationErrors;
use crate::values::{Iri, Slug, parse_instant};
use crate::workflow::Review;

/// A stretch of time, its end after its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Period {
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub end: OffsetDateTime,
}

impl Period {
    pub fn contains(&self, at: OffsetDateTime) -> bool {
        self.start <= at && at < self.end
    }

    /// A period from `start` (now when absent) to `end` (required), both RFC 3339 instants or
    /// dates, that ends after it starts and after `now`, and lasts at most `longest`; each problem
    /// at `/start` or `/end`.
    pub fn parse(
        errors: &mut ValidationErrors,
        start: Option<String>,
        end: Option<String>,
        now: OffsetDateTime,
        longest: Duration,
    ) -> Option<Self> {
        let start = start
            .and_then(|raw| errors.check("/start", parse_instant(&raw)))
            .unwrap_or(now);
        let end = errors
            .require("/end", end)
            .and_then(|raw| errors.check("/end", parse_instant(&raw)))?;
        if end <= start {
            errors.push("/end", "must be after the start");
        } else if end <= now {
            errors.push("/end", "must be in the future");
        } else if end - start > longest {
            errors.push(
                "/end",
                format!("the period may last at most {} days", longest.whole_days()),
            );
        } else {
            return Some(Self { start, end });
        }
        None
    }
}

/// What a requester sends. Unknown fields are refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessRequestInput {
    /// The id of the dataset (or its slug, when the requester may already see it).
    #[schema(value_type = String, required = true, min_length = 1)]
    pub dataset: Option<String>,
    /// The id of one of its distributions, when only that one is asked for.
    pub distribution: Option<String>,
    /// Why the data is needed.
    #[schema(value_type = String, required = true, min_length = 1)]
    pub purpose: Option<String>,
    /// When access is wanted: RFC 3339 instants or dates; the start defaults to now.
    pub start: Option<String>,
    #[schema(value_type = String, required = true)]
    pub end: Option<String>,
    /// Links to supporting documents.
    pub attachments: Option<Vec<String>>,
}

/// What a requester asks for, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRequestDraft {
    pub dataset: String,
    pub distribution: Option<Uuid>,
    pub purpose: String,
    pub period: Period,
    pub attachments: Vec<Iri>,
}

impl AccessRequestInput {
    /// Checks every field at once: a purpose, a period that ends after it starts and after `now`,
    /// no longer than `longest`, and links as attachments.
    pub fn parse(
        self,
        now: OffsetDateTime,
        longest: Duration,
    ) -> Result<AccessRequestDraft, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let dataset = errors.require("/dataset", self.dataset);
        let distribution = self.distribution.and_then(|raw| {
            errors.check(
                "/distribution",
                Uuid::parse_str(&raw).map_err(|_| format!("`{raw}` is not a distribution id")),
            )
        });
        let purpose = errors
            .require("/purpose", self.purpose)
            .and_then(|p| errors.check("/purpose", long_text(&p)));
        let period = Period::parse(&mut errors, self.start, self.end, now, longest);
        let attachments: Vec<Iri> = self
            .attachments
            .unwrap_or_default()
            .iter()
            .enumerate()
            .filter_map(|(n, raw)| errors.check(format!("/attachments/{n}"), Iri::parse_web(raw)))
            .collect();
        let (Some(dataset), Some(purpose), Some(period), true) =
            (dataset, purpose, period, errors.is_empty())
        else {
            return Err(errors);
        };
        Ok(AccessRequestDraft {
            dataset,
            distribution,
            purpose,
            period,
            attachments,
        })
    }
}

fn long_text(raw: &str) -> Result<String, String> {
    let text = short_text(raw, true)?;
    if text.chars().count() > 4000 {
        return Err("is longer than 4000 characters".into());
    }
    Ok(text)
}

/// A request for access to a dataset, with its review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AccessRequest {
    pub id: Uuid,
    pub dataset: Uuid,
    /// The distribution asked for, when not the whole dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Uuid>,
    pub purpose: String,
    pub period: Period,
    #[schema(value_type = Vec<String>)]
    pub attachments: Vec<Iri>,
    #[serde(flatten)]
    #[schema(inline)]
    pub review: Review,
    /// The grant its approval made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<Uuid>,
    /// Starts at 1 and grows by one with every action; the `ETag` of the request.
    pub revision: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl AccessRequest {
    /// Who may see the request: its requester and everyone named in its chain.
    pub fn involves(&self, person: &str) -> bool {
        self.review.requester == person
            || self
                .review
                .steps
                .iter()
                .any(|step| step.approvers.iter().any(|a| a == person))
    }
}

/// Who holds a grant: one user, or every member of an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Grantee {
    User(String),
    #[schema(value_type = String)]
    Organisation(Slug),
}

impl Grantee {
    /// The kind and the name, as stored.
    pub fn parts(&self) -> (&'static str, &str) {
        match self {
            Self::User(name) => ("user", name),
            Self::Organisation(slug) => ("organisation", slug.as_str()),
        }
    }
}

/// Where a grant comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantSource {
    AccessRequest(Uuid),
    Agreement(Uuid),
}

/// Where a grant stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantState {
    /// Its period has not started.
    Pending,
    Active,
    Expired,
    Revoked,
}

/// Who ended a grant early, when and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Revocation {
    pub by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub reason: String,
}

/// Permission for a grantee to read one dataset during a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Grant {
    pub id: Uuid,
    pub dataset: Uuid,
    /// The one distribution it covers, when not the whole dataset: the catalogue record is read
    /// whole either way; the data host that serves the distributions reads this to decide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<Uuid>,
    pub grantee: Grantee,
    pub period: Period,
    pub purpose: String,
    /// Conditions of use the grantee accepted with it.
    #[serde(default)]
    pub conditions: Vec<String>,
    pub source: GrantSource,
    /// Who approved it.
    pub granted_by: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked: Option<Revocation>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl Grant {
    pub fn state(&self, at: OffsetDateTime) -> GrantState {
        match &self.revoked {
            Some(revocation) if revocation.at <= at => GrantState::Revoked,
            _ if at < self.period.start => GrantState::Pending,
            _ if self.period.contains(at) => GrantState::Active,
            _ => GrantState::Expired,
        }
    }
}

/// Who approves one step of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approvers {
    /// The stewards of the dataset's data domain; the stewards of its organisation when it has no
    /// domain or the domain names none.
    DomainStewards,
    /// The users with the steward role (or above) in the dataset's organisation.
    OrganisationStewards,
    /// A group named in the configuration (`security_officers`, …).
    Group(String),
}

/// When a rule applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// The dataset's classification is this one of the policy or above.
    ClassificationAtLeast(String),
    /// The requester's nationality and communities do not meet the label's categories (its
    /// releasability, its need-to-know): the request asks for a release.
    NotReleasableToRequester,
}

/// One rule of the approval chain: a step (or `approvals` steps, each by a different person of the
/// same approvers: "any two of a group") when any of its conditions holds (always, without any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRule {
    pub approvers: Approvers,
    #[serde(default)]
    pub when: Vec<Condition>,
    #[serde(default = "one")]
    pub approvals: usize,
}

fn one() -> usize {
    1
}

/// What the rules are decided on.
#[derive(Debug)]
pub struct ChainFacts<'a> {
    pub policy: &'a Policy,
    pub label: &'a SecurityLabel,
    pub requester: &'a Clearance,
    pub domain_stewards: &'a [String],
    pub organisation_stewards: &'a [String],
    pub groups: &'a BTreeMap<String, Vec<String>>,
}

impl ApprovalRule {
    /// The rule's problems against the policy and the configured groups.
    pub fn check(
        &self,
        policy: &Policy,
        groups: &BTreeMap<String, Vec<String>>,
    ) -> Result<(), String> {
        if let Approvers::Group(name) = &self.approvers
            && !groups.contains_key(name)
        {
            return Err(format!("no group `{name}` is configured"));
        }
        if !(1..=5).contains(&self.approvals) {
            return Err("`approvals` must be between 1 and 5".into());
        }
        for condition in &self.when {
            if let Condition::ClassificationAtLeast(name) = condition
                && policy.rank(name).is_none()
            {
                return Err(format!("`{name}` is not a classification of the policy"));
            }
        }
        Ok(())
    }

    fn applies(&self, facts: &ChainFacts<'_>) -> bool {
        self.when.is_empty()
            || self.when.iter().any(|condition| match condition {
                Condition::ClassificationAtLeast(name) => facts
                    .policy
                    .rank(name)
                    .zip(facts.policy.rank(&facts.label.classification))
                    .is_some_and(|(least, rank)| rank >= least),
                Condition::NotReleasableToRequester => {
                    !facts.policy.may_read(facts.requester, facts.label)
                }
            })
    }
}

/// The approval chain the rules give: for each rule that applies, its approvers, once per approval
/// it needs. A step whose approvers are nobody is kept (empty): [`Review::submit`] refuses it.
pub fn approval_chain(rules: &[ApprovalRule], facts: &ChainFacts<'_>) -> Vec<Vec<String>> {
    rules
        .iter()
        .filter(|rule| rule.applies(facts))
        .flat_map(|rule| {
            let approvers = match &rule.approvers {
                Approvers::DomainStewards if !facts.domain_stewards.is_empty() => {
                    facts.domain_stewards.to_vec()
                }
                Approvers::DomainStewards | Approvers::OrganisationStewards => {
                    facts.organisation_stewards.to_vec()
                }
                Approvers::Group(name) => facts.groups.get(name).cloned().unwrap_or_default(),
            };
            std::iter::repeat_n(approvers, rule.approvals)
        })
        .collect()
}

/// The chain used when the configuration names none: the data domain's stewards; then a security
/// officer when the request asks for a release or the classification is above the public one.
pub fn default_approval_rules(policy: &Policy) -> Vec<ApprovalRule> {
    let above_public = policy
        .document()
        .classifications
        .get(policy.public_rank() + 1)
        .cloned();
    vec![
        ApprovalRule {
            approvers: Approvers::DomainStewards,
            when: Vec::new(),
            approvals: 1,
        },
        ApprovalRule {
            approvers: Approvers::Group("security_officers".into()),
            when: above_public
                .map(Condition::ClassificationAtLeast)
                .into_iter()
                .chain([Condition::NotReleasableToRequester])
                .collect(),
            approvals: 1,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::label::{CategoryInput, LabelInput};
    use crate::values::Nation;

    fn label(classification: &str, releasable: &[&str]) -> SecurityLabel {
        Policy::default_policy()
            .parse_label(LabelInput {
                policy: None,
                classification: Some(classification.into()),
                privacy_mark: None,
                categories: vec![CategoryInput {
                    tag: "ReleasableTo".into(),
                    kind: None,
                    values: releasable.iter().map(|v| (*v).to_owned()).collect(),
                }],
            })
            .unwrap()
    }

    #[test]
    fn the_chain_follows_the_label_and_the_requester() {
        let policy = Policy::default_policy();
        let groups = BTreeMap::from([("security_officers".to_owned(), vec!["sofia".to_owned()])]);
        let rules = default_approval_rules(&policy);
        for rule in &rules {
            rule.check(&policy, &groups).unwrap();
        }
        let clearance = |nation: &str| {
            Clearance::new(
                &policy,
                "NATO RESTRICTED",
                Some(Nation::parse(nation).unwrap()),
                Vec::new(),
            )
            .unwrap()
        };
        let chain = |label: &SecurityLabel, requester: &Clearance, domain: &[String]| {
            approval_chain(
                &rules,
                &ChainFacts {
                    policy: &policy,
                    label,
                    requester,
                    domain_stewards: domain,
                    organisation_stewards: &["olga".to_owned()],
                    groups: &groups,
                },
            )
        };
        let restricted = label("NATO RESTRICTED", &["ITA"]);
        assert_eq!(
            chain(&restricted, &clearance("NOR"), &["dora".to_owned()]),
            [vec!["dora".to_owned()], vec!["sofia".to_owned()]]
        );
        let public = label("PUBLIC", &["NOR", "ITA"]);
        assert_eq!(
            chain(&public, &clearance("SWE"), &[]),
            [vec!["olga".to_owned()], vec!["sofia".to_owned()]],
            "a release needs the security officer, domain stewards fall back to the organisation's"
        );
        assert_eq!(
            chain(&public, &clearance("NOR"), &[]),
            [vec!["olga".to_owned()]]
        );
        let two = ApprovalRule {
            approvers: Approvers::Group("security_officers".into()),
            when: Vec::new(),
            approvals: 2,
        };
        assert_eq!(
            approval_chain(
                std::slice::from_ref(&two),
                &ChainFacts {
                    policy: &policy,
                    label: &public,
                    requester: &clearance("NOR"),
                    domain_stewards: &[],
                    organisation_stewards: &[],
                    groups: &groups,
                }
            )
            .len(),
            2
        );
        assert!(
            ApprovalRule {
                approvers: Approvers::Group("auditors".into()),
                ..two.clone()
            }
            .check(&policy, &groups)
            .is_err()
        );
        assert!(
            ApprovalRule {
                when: vec![Condition::ClassificationAtLeast("TOP".into())],
                ..two
            }
            .check(&policy, &groups)
            .is_err()
        );
    }

    #[test]
    fn requests_are_checked_field_by_field() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(100);
        let longest = Duration::days(365);
        let errors = AccessRequestInput {
            dataset: None,
            distribution: Some("the third".into()),
            purpose: Some("  ".into()),
            start: Some("2020-13-01".into()),
            end: Some("1970-01-02T00:00:00Z".into()),
            attachments: Some(vec!["not a link".into()]),
        }
        .parse(now, longest)
        .unwrap_err();
        let pointers: Vec<&str> = errors.0.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/dataset",
                "/distribution",
                "/purpose",
                "/start",
                "/end",
                "/attachments/0"
            ]
        );
        let too_long = AccessRequestInput {
            dataset: Some("x".into()),
            purpose: Some("analysis".into()),
            end: Some("1972-01-01T00:00:00Z".into()),
            ..Default::default()
        }
        .parse(now, longest)
        .unwrap_err();
        assert!(too_long.0[0].message.contains("365 days"));
        let draft = AccessRequestInput {
            dataset: Some("x".into()),
            purpose: Some("analysis".into()),
            end: Some("1970-06-01T00:00:00Z".into()),
            attachments: Some(vec!["https://example.org/plan.pdf".into()]),
            ..Default::default()
        }
        .parse(now, longest)
        .unwrap();
        assert_eq!(draft.period.start, now);
        assert_eq!(draft.attachments.len(), 1);
    }

    #[test]
    fn a_grant_is_active_inside_its_period_until_revoked() {
        let start = OffsetDateTime::UNIX_EPOCH;
        let mut grant = Grant {
            id: Uuid::nil(),
            dataset: Uuid::nil(),
            distribution: None,
            grantee: Grantee::User("sam".into()),
            period: Period {
                start,
                end: start + Duration::days(2),
            },
            purpose: "p".into(),
            conditions: Vec::new(),
            source: GrantSource::AccessRequest(Uuid::nil()),
            granted_by: Vec::new(),
            revoked: None,
            created_at: start,
        };
        assert_eq!(grant.state(start - Duration::SECOND), GrantState::Pending);
        assert_eq!(grant.state(start), GrantState::Active);
        assert_eq!(grant.state(start + Duration::days(2)), GrantState::Expired);
        grant.revoked = Some(Revocation {
            by: "sofia".into(),
            at: start + Duration::days(1),
            reason: "ended".into(),
        });
        assert_eq!(grant.state(start + Duration::hours(12)), GrantState::Active);
        assert_eq!(grant.state(start + Duration::days(1)), GrantState::Revoked);
    }
}
