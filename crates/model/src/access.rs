//! Who may do what: the access decisions, as pure functions of a principal's attributes, a record's
//! organisation and its label. Every read path compiles [`Policy::may_read`] into its own engine (SQL,
//! the search index); these functions are the reference those compilations are tested against.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::dataset::AccessRights;
use crate::label::{CategoryType, Policy, SecurityLabel};
use crate::values::{Nation, Slug};

/// What someone may read: a classification of the policy, and the category values they hold (their
/// nationality and their communities, such as `NATO` or a project).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clearance {
    /// The rank of the highest classification in the policy the holder may read.
    rank: usize,
    nationality: Option<Nation>,
    communities: Vec<String>,
}

impl Clearance {
    /// A clearance at `classification`, refused when the policy does not know it.
    pub fn new(
        policy: &Policy,
        classification: &str,
        nationality: Option<Nation>,
        communities: Vec<String>,
    ) -> Result<Self, String> {
        let rank = policy.rank(classification).ok_or_else(|| {
            format!("`{classification}` is not a classification of the active policy")
        })?;
        Ok(Self {
            rank,
            nationality,
            communities,
        })
    }

    /// What a caller who is not signed in holds: the policy's public classification, no nationality,
    /// no community.
    pub fn anonymous(policy: &Policy) -> Self {
        Self {
            rank: policy.public_rank(),
            nationality: None,
            communities: Vec::new(),
        }
    }

    pub fn rank(&self) -> usize {
        self.rank
    }

    /// The category values held: the nationality and the communities.
    pub fn holds(&self, value: &str) -> bool {
        self.nationality
            .as_ref()
            .is_some_and(|n| n.as_str() == value)
            || self.communities.iter().any(|c| c == value)
    }
}

/// A role in one organisation, from least to most powerful.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum OrganisationRole {
    /// Reads what their clearance allows (as anyone signed in).
    Viewer,
    /// Creates and changes the organisation's datasets.
    Editor,
    /// Also curates: changes labels (releases) and lifecycle states.
    Steward,
    /// Also manages the organisation and its members.
    Admin,
}

impl OrganisationRole {
    pub const ALL: [Self; 4] = [Self::Viewer, Self::Editor, Self::Steward, Self::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Editor => "editor",
            Self::Steward => "steward",
            Self::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str() == raw)
            .ok_or_else(|| format!("`{raw}` is not one of viewer, editor, steward, admin"))
    }
}

/// A role held in an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Membership {
    #[schema(value_type = String, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub organisation: Slug,
    pub role: OrganisationRole,
}

/// The attributes a decision needs about who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// A system administrator: sees and manages everything.
    pub administrator: bool,
    pub clearance: Clearance,
    /// A role held in every organisation (a deployment's global editors).
    pub everywhere: Option<OrganisationRole>,
    pub memberships: Vec<Membership>,
    /// The datasets their grants let them read now, whatever the labels' categories say.
    pub granted: Vec<Uuid>,
}

impl Subject {
    pub fn anonymous(policy: &Policy) -> Self {
        Self {
            administrator: false,
            clearance: Clearance::anonymous(policy),
            everywhere: None,
            memberships: Vec::new(),
            granted: Vec::new(),
        }
    }

    /// The role held in `organisation`, if any: its membership's or the one held everywhere.
    pub fn role_in(&self, organisation: &Slug) -> Option<OrganisationRole> {
        self.memberships
            .iter()
            .filter(|m| &m.organisation == organisation)
            .map(|m| m.role)
            .chain(self.everywhere)
            .max()
    }

    fn has_role(&self, organisation: &Slug, at_least: OrganisationRole) -> bool {
        self.administrator
            || self
                .role_in(organisation)
                .is_some_and(|role| role >= at_least)
    }
}

impl Policy {
    /// Whether `clearance` lets its holder see a record labelled `label`: the clearance dominates the
    /// classification, every permissive category has a value the holder holds, and the holder holds
    /// every value of every restrictive category. A label of another policy, or of a classification
    /// this policy does not know, is readable by nobody.
    pub fn may_read(&self, clearance: &Clearance, label: &SecurityLabel) -> bool {
        self.cleared_for(clearance, label)
            && label.categories.iter().all(|category| match category.kind {
                CategoryType::Permissive => category.values.iter().any(|v| clearance.holds(v)),
                CategoryType::Restrictive => category.values.iter().all(|v| clearance.holds(v)),
            })
    }

    /// The classifications `clearance` dominates, lowest first: what a reader's engine filter lists.
    pub fn cleared_classifications<'a>(
        &'a self,
        clearance: &'a Clearance,
    ) -> impl Iterator<Item = &'a String> + 'a {
        self.document()
            .classifications
            .iter()
            .take(clearance.rank + 1)
    }

    /// Whether `subject` may see a record labelled `label` (administrators see everything).
    pub fn subject_may_read(&self, subject: &Subject, label: &SecurityLabel) -> bool {
        subject.administrator || self.may_read(&subject.clearance, label)
    }

    /// Whether `subject` may see the dataset `id` labelled `label`: as any record so labelled, or
    /// through a grant, which lifts the label's categories (releasability, need-to-know) but never
    /// its classification.
    pub fn may_read_dataset(&self, subject: &Subject, id: Uuid, label: &SecurityLabel) -> bool {
        self.subject_may_read(subject, label)
            || (subject.granted.contains(&id) && self.cleared_for(&subject.clearance, label))
    }

    /// Whether relabelling a record from `from` to `to` lets someone read it who could not: a lower
    /// classification, a permissive category with a value more or dropped, a restrictive category
    /// with a value fewer or dropped. Such a change is a release, decided by approval. (A category
    /// `to` adds only narrows.)
    pub fn widens(&self, from: &SecurityLabel, to: &SecurityLabel) -> bool {
        let (Some(before), Some(after)) = (
            self.rank(&from.classification),
            self.rank(&to.classification),
        ) else {
            return true;
        };
        if from.policy != to.policy || after < before {
            return true;
        }
        from.categories.iter().any(|category| {
            match to.categories.iter().find(|c| c.tag == category.tag) {
                None => true,
                Some(next) => match category.kind {
                    CategoryType::Permissive => {
                        next.values.iter().any(|v| !category.values.contains(v))
                    }
                    CategoryType::Restrictive => {
                        category.values.iter().any(|v| !next.values.contains(v))
                    }
                },
            }
        })
    }

    /// Whether `clearance` dominates the classification of `label` (of this policy), whatever its
    /// categories: what a grant needs, and what a request for access needs.
    pub fn cleared_for(&self, clearance: &Clearance, label: &SecurityLabel) -> bool {
        label.policy == self.id()
            && self
                .rank(&label.classification)
                .is_some_and(|needed| clearance.rank >= needed)
    }

    /// The access rights of a record in the terms of the EU access-right vocabulary: the stricter of
    /// what its publisher declared and what its label allows. Public when anyone may read it without
    /// signing in; non-public when its classification is above the public one; restricted otherwise
    /// (public classification, but categories such as releasability or need-to-know narrow it).
    pub fn access_rights(
        &self,
        label: &SecurityLabel,
        declared: Option<AccessRights>,
    ) -> AccessRights {
        let from_label = if self.may_read(&Clearance::anonymous(self), label) {
            AccessRights::Public
        } else if self
            .rank(&label.classification)
            .is_none_or(|rank| rank > self.public_rank())
        {
            AccessRights::NonPublic
        } else {
            AccessRights::Restricted
        };
        declared.map_or(from_label, |declared| declared.max(from_label))
    }

    /// Whether `subject` may change a record of `organisation` labelled `label`: an editor there who
    /// may read it.
    pub fn may_edit(&self, subject: &Subject, organisation: &Slug, label: &SecurityLabel) -> bool {
        subject.has_role(organisation, OrganisationRole::Editor)
            && self.subject_may_read(subject, label)
    }

    /// Whether `subject` may set the label of a record of `organisation` from `from` to `to`: a steward
    /// there who may read both (nobody labels a record beyond what they could see).
    pub fn may_release(
        &self,
        subject: &Subject,
        organisation: &Slug,
        from: &SecurityLabel,
        to: &SecurityLabel,
    ) -> bool {
        subject.has_role(organisation, OrganisationRole::Steward)
            && self.subject_may_read(subject, from)
            && self.subject_may_read(subject, to)
    }

    /// Whether `subject` may manage `organisation` itself and its members.
    pub fn may_manage(&self, subject: &Subject, organisation: &Slug) -> bool {
        subject.has_role(organisation, OrganisationRole::Admin)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::label::{CategoryInput, LabelInput};

    const VALUES: [&str; 6] = ["NATO", "EU", "ITA", "NOR", "REP-MUS", "SEA-TRIALS"];

    fn policy() -> Policy {
        Policy::default_policy()
    }

    fn classification() -> impl Strategy<Value = String> {
        prop::sample::select(policy().document().classifications.clone())
    }

    fn label() -> impl Strategy<Value = SecurityLabel> {
        (
            classification(),
            prop::option::of(prop::sample::subsequence(&VALUES[..4], 1..=4)),
            prop::option::of(prop::sample::subsequence(&VALUES[4..], 1..=2)),
        )
            .prop_map(|(classification, releasable, need_to_know)| {
                let mut categories = Vec::new();
                if let Some(values) = releasable {
                    categories.push(CategoryInput {
                        tag: "ReleasableTo".into(),
                        kind: None,
                        values: values.into_iter().map(str::to_owned).collect(),
                    });
                }
                if let Some(values) = need_to_know {
                    categories.push(CategoryInput {
                        tag: "NeedToKnow".into(),
                        kind: None,
                        values: values.into_iter().map(str::to_owned).collect(),
                    });
                }
                policy()
                    .parse_label(LabelInput {
                        policy: None,
                        classification: Some(classification),
                        privacy_mark: None,
                        categories,
                    })
                    .unwrap()
            })
    }

    fn clearance() -> impl Strategy<Value = Clearance> {
        (
            classification(),
            prop::option::of(prop::sample::select(vec!["ITA", "NOR", "USA"])),
            prop::sample::subsequence(&[VALUES[0], VALUES[1], VALUES[4], VALUES[5]][..], 0..=4),
        )
            .prop_map(|(classification, nation, communities)| {
                Clearance::new(
                    &policy(),
                    &classification,
                    nation.map(|n| Nation::parse(n).unwrap()),
                    communities.into_iter().map(str::to_owned).collect(),
                )
                .unwrap()
            })
    }

    fn org(slug: &str) -> Slug {
        Slug::parse(slug).unwrap()
    }

    fn subject(clearance: Clearance, role: Option<OrganisationRole>) -> Subject {
        Subject {
            administrator: false,
            clearance,
            everywhere: None,
            memberships: role
                .map(|role| Membership {
                    organisation: org("cmre"),
                    role,
                })
                .into_iter()
                .collect(),
            granted: Vec::new(),
        }
    }

    fn role() -> impl Strategy<Value = Option<OrganisationRole>> {
        prop::option::of(prop::sample::select(vec![
            OrganisationRole::Viewer,
            OrganisationRole::Editor,
            OrganisationRole::Steward,
            OrganisationRole::Admin,
        ]))
    }

    proptest! {
        /// A relabelling that does not widen opens the record to nobody new; one that does, to
        /// somebody (among the drawn clearances, some reader tells the difference).
        #[test]
        fn only_a_widening_opens_a_record(from in label(), to in label(), clearances in prop::collection::vec(clearance(), 40)) {
            let policy = policy();
            if !policy.widens(&from, &to) {
                for clearance in &clearances {
                    prop_assert!(!policy.may_read(clearance, &to) || policy.may_read(clearance, &from));
                }
            }
            prop_assert!(!policy.widens(&from, &from));
        }

        /// A grant lifts a label's categories for one dataset, never its classification.
        #[test]
        fn a_grant_opens_one_dataset_within_the_clearance(label in label(), clearance in clearance()) {
            let policy = policy();
            let (granted, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
            let subject = Subject {
                granted: vec![granted],
                ..subject(clearance.clone(), None)
            };
            let cleared = clearance.rank() >= policy.rank(&label.classification).unwrap();
            prop_assert_eq!(policy.may_read_dataset(&subject, granted, &label), cleared);
            prop_assert_eq!(
                policy.may_read_dataset(&subject, other, &label),
                policy.may_read(&clearance, &label)
            );
        }
    }

    /// The decision spelled out the other way round: what would make reading fail.
    fn refused_because(clearance: &Clearance, label: &SecurityLabel) -> Option<&'static str> {
        let policy = policy();
        if clearance.rank() < policy.rank(&label.classification).unwrap() {
            return Some("classification");
        }
        for category in &label.categories {
            let held = category
                .values
                .iter()
                .filter(|v| clearance.holds(v))
                .count();
            match category.kind {
                CategoryType::Permissive if held == 0 => return Some("permissive"),
                CategoryType::Restrictive if held < category.values.len() => {
                    return Some("restrictive");
                }
                _ => {}
            }
        }
        None
    }

    proptest! {
        #[test]
        fn reading_is_allowed_exactly_when_nothing_refuses_it(clearance in clearance(), label in label()) {
            prop_assert_eq!(policy().may_read(&clearance, &label), refused_because(&clearance, &label).is_none());
        }

        #[test]
        fn a_higher_clearance_or_more_communities_never_sees_less(clearance in clearance(), label in label(), extra in prop::sample::select(VALUES.to_vec())) {
            let policy = policy();
            if policy.may_read(&clearance, &label) {
                let mut higher = clearance.clone();
                higher.rank = policy.document().classifications.len() - 1;
                prop_assert!(policy.may_read(&higher, &label));
                let mut wider = clearance.clone();
                wider.communities.push(extra.to_owned());
                prop_assert!(policy.may_read(&wider, &label));
            }
        }

        #[test]
        fn a_stricter_label_is_never_easier_to_read(clearance in clearance(), label in label(), value in prop::sample::select(VALUES[4..].to_vec())) {
            let policy = policy();
            let mut stricter = label.clone();
            match stricter.categories.iter_mut().find(|c| c.kind == CategoryType::Restrictive) {
                Some(category) => category.values.push(value.to_owned()),
                None => stricter.categories.push(crate::label::LabelCategory {
                    tag: "NeedToKnow".into(),
                    kind: CategoryType::Restrictive,
                    values: vec![value.to_owned()],
                }),
            }
            if policy.may_read(&clearance, &stricter) {
                prop_assert!(policy.may_read(&clearance, &label));
            }
        }

        #[test]
        fn writing_and_releasing_need_reading_and_a_role(clearance in clearance(), role in role(), from in label(), to in label()) {
            let policy = policy();
            let subject = subject(clearance, role);
            let cmre = org("cmre");
            if policy.may_edit(&subject, &cmre, &from) {
                prop_assert!(policy.may_read(&subject.clearance, &from));
                prop_assert!(role >= Some(OrganisationRole::Editor));
            }
            if policy.may_release(&subject, &cmre, &from, &to) {
                prop_assert!(policy.may_read(&subject.clearance, &from) && policy.may_read(&subject.clearance, &to));
                prop_assert!(role >= Some(OrganisationRole::Steward));
                prop_assert!(policy.may_edit(&subject, &cmre, &from));
            }
            prop_assert!(!policy.may_edit(&subject, &org("nhs"), &from), "a role elsewhere gives nothing here");
            prop_assert_eq!(policy.may_manage(&subject, &cmre), role == Some(OrganisationRole::Admin));
        }

        #[test]
        fn anonymous_callers_see_only_public_unrestricted_records(label in label()) {
            let policy = policy();
            let visible = policy.subject_may_read(&Subject::anonymous(&policy), &label);
            prop_assert_eq!(visible, label.classification == "PUBLIC" && label.categories.is_empty());
        }

        #[test]
        fn access_rights_are_never_looser_than_the_label_or_the_publisher(
            label in label(),
            declared in proptest::option::of(prop_oneof![
                Just(AccessRights::Public), Just(AccessRights::Restricted), Just(AccessRights::NonPublic)
            ]),
        ) {
            let policy = policy();
            let rights = policy.access_rights(&label, declared);
            prop_assert!(declared.is_none_or(|declared| rights >= declared));
            let public = label.classification == "PUBLIC";
            prop_assert_eq!(
                rights == AccessRights::Public,
                public && label.categories.is_empty() && declared.is_none_or(|d| d == AccessRights::Public)
            );
            prop_assert_eq!(rights == AccessRights::NonPublic, !public || declared == Some(AccessRights::NonPublic));
        }
    }

    #[test]
    fn a_role_everywhere_counts_in_every_organisation() {
        let policy = policy();
        let label = policy.default_label().clone();
        let global_editor = Subject {
            everywhere: Some(OrganisationRole::Editor),
            ..Subject::anonymous(&policy)
        };
        for organisation in ["cmre", "nhs"] {
            assert!(policy.may_edit(&global_editor, &org(organisation), &label));
            assert!(!policy.may_release(&global_editor, &org(organisation), &label, &label));
        }
        let mut steward = global_editor.clone();
        steward.memberships.push(Membership {
            organisation: org("nhs"),
            role: OrganisationRole::Steward,
        });
        assert_eq!(
            steward.role_in(&org("nhs")),
            Some(OrganisationRole::Steward)
        );
        assert!(policy.may_release(&steward, &org("nhs"), &label, &label));
        assert!(!policy.may_release(&steward, &org("cmre"), &label, &label));
        for role in OrganisationRole::ALL {
            assert_eq!(OrganisationRole::parse(role.as_str()), Ok(role));
        }
    }

    #[test]
    fn administrators_see_everything_and_foreign_labels_nobody() {
        let policy = policy();
        let secret = policy
            .parse_label(LabelInput {
                classification: Some("NATO SECRET".into()),
                categories: vec![CategoryInput {
                    tag: "NeedToKnow".into(),
                    kind: None,
                    values: vec!["REP-MUS".into()],
                }],
                ..Default::default()
            })
            .unwrap();
        let admin = Subject {
            administrator: true,
            ..Subject::anonymous(&policy)
        };
        assert!(policy.subject_may_read(&admin, &secret));
        assert!(policy.may_release(&admin, &org("cmre"), &secret, &secret));
        let mut foreign = policy.default_label().clone();
        foreign.policy = "urn:other".into();
        let cleared = Clearance::new(&policy, "NATO SECRET", None, vec![]).unwrap();
        assert_eq!(policy.cleared_classifications(&cleared).count(), 5);
        assert_eq!(
            policy
                .cleared_classifications(&Clearance::anonymous(&policy))
                .collect::<Vec<_>>(),
            ["PUBLIC"]
        );
        assert!(!policy.may_read(&cleared, &foreign));
        assert!(!policy.may_read_dataset(
            &Subject {
                clearance: cleared.clone(),
                granted: vec![Uuid::nil()],
                ..Subject::anonymous(&policy)
            },
            Uuid::nil(),
            &foreign
        ));
        assert!(Clearance::new(&policy, "COSMIC TOP SECRET", None, vec![]).is_err());
    }
}
