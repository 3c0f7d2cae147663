//! Data sharing agreements between organisations: a provider shares some of its datasets with
//! recipient organisations, for a period, on terms that ODRL can state (a purpose, what may and may
//! not be done, duties). The provider proposes (its signatory signing for it), each recipient accepts
//! (its signatory signing for it), and the agreement is active: its recipients' members may read the
//! datasets until it expires or a party terminates it. As for access requests, an action is a
//! function from the agreement as it is to what it becomes, or to the reason it is refused.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::dataset::short_text;
use crate::label::SecurityLabel;
use crate::sharing::Period;
use crate::validation::ValidationErrors;
use crate::values::{Slug, parse_instant};

/// Where an agreement stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgreementState {
    /// Being written by the provider.
    Draft,
    /// Signed by the provider, waiting for the recipients.
    Proposed,
    /// Signed by every party: its grants are in force.
    Active,
    Expired,
    Terminated,
}

impl AgreementState {
    pub fn is_final(self) -> bool {
        matches!(self, Self::Expired | Self::Terminated)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Proposed => "proposed",
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Terminated => "terminated",
        }
    }
}

/// What someone does to an agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgreementAction {
    /// The provider signs and sends it to the recipients.
    Propose,
    /// A recipient signs.
    Accept,
    /// A recipient sends it back to the provider for changes (every signature is withdrawn).
    Decline,
    /// A party ends it, in force or not.
    Terminate,
    /// Its period ended (the system acts).
    Expire,
}

impl AgreementAction {
    pub const BY_PARTIES: [Self; 4] = [Self::Propose, Self::Accept, Self::Decline, Self::Terminate];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Propose => "propose",
            Self::Accept => "accept",
            Self::Decline => "decline",
            Self::Terminate => "terminate",
            Self::Expire => "expire",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::BY_PARTIES
            .into_iter()
            .find(|action| action.as_str() == raw)
            .ok_or_else(|| format!("`{raw}` is not one of propose, accept, decline, terminate"))
    }
}

/// What a recipient may do with the data beyond using it (ODRL actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Permitted {
    Reproduce,
    Derive,
    Aggregate,
}

/// What a recipient must not do (ODRL actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Prohibited {
    /// Pass the data on to anyone outside the recipient organisations.
    Distribute,
    Commercialize,
}

/// The terms, as ODRL states them: the use for a purpose, the extra permissions, the prohibitions,
/// and the duties (attribution, deletion by a date, notice of each use).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Terms {
    pub purpose: String,
    #[serde(default)]
    pub permitted: Vec<Permitted>,
    #[serde(default)]
    pub prohibited: Vec<Prohibited>,
    /// How the provider must be credited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribution: Option<String>,
    /// When the recipients must have deleted their copies.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub delete_by: Option<OffsetDateTime>,
    /// Whom to tell of each use (an address or an IRI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<String>,
}

impl Terms {
    /// The terms as the conditions a grant carries.
    pub fn conditions(&self) -> Vec<String> {
        let mut conditions = vec![format!("purpose: {}", self.purpose)];
        conditions.extend(self.prohibited.iter().map(|p| match p {
            Prohibited::Distribute => "no redistribution".to_owned(),
            Prohibited::Commercialize => "no commercial use".to_owned(),
        }));
        if let Some(attribution) = &self.attribution {
            conditions.push(format!("attribute: {attribution}"));
        }
        if let Some(at) = self.delete_by {
            conditions.push(format!("delete by {}", at.date()));
        }
        if let Some(notify) = &self.notify {
            conditions.push(format!("notify {notify} of each use"));
        }
        conditions
    }
}

/// A dataset of an agreement, with the label it had when the provider signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReleasedDataset {
    pub dataset: Uuid,
    pub label: SecurityLabel,
}

/// A party's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Signature {
    #[schema(value_type = String)]
    pub organisation: Slug,
    /// The user who signed for it.
    pub by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// One transition, as the agreement's history keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AgreementTransition {
    pub from: AgreementState,
    pub to: AgreementState,
    pub action: AgreementAction,
    pub actor: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub comment: String,
}

/// What a party sends to write an agreement. Unknown fields are refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementInput {
    #[schema(value_type = String, required = true, min_length = 1)]
    pub title: Option<String>,
    /// The slug of the organisation whose datasets are shared.
    #[schema(value_type = String, required = true, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$", max_length = 100)]
    pub provider: Option<String>,
    /// The slugs of the organisations they are shared with.
    #[schema(value_type = Vec<String>, required = true, min_items = 1)]
    pub recipients: Option<Vec<String>>,
    /// The ids (or slugs) of the provider's datasets covered.
    #[schema(value_type = Vec<String>, required = true, min_items = 1)]
    pub datasets: Option<Vec<String>>,
    /// RFC 3339 instants or dates; the start defaults to now.
    pub start: Option<String>,
    #[schema(value_type = String, required = true)]
    pub end: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1)]
    pub purpose: Option<String>,
    #[schema(value_type = Option<Vec<String>>)]
    pub permitted: Option<Vec<Permitted>>,
    #[schema(value_type = Option<Vec<String>>)]
    pub prohibited: Option<Vec<Prohibited>>,
    pub attribution: Option<String>,
    pub delete_by: Option<String>,
    pub notify: Option<String>,
}

/// The most grants one agreement makes (each recipient, each dataset), all in one transaction.
pub const MAX_GRANTS: usize = 1000;

/// An agreement's content, checked (its datasets still named as sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementDraft {
    pub title: String,
    pub provider: Slug,
    pub recipients: Vec<Slug>,
    pub datasets: Vec<String>,
    pub period: Period,
    pub terms: Terms,
}

impl AgreementInput {
    /// Checks every field at once: a title, a provider and at least one other recipient, at least
    /// one dataset, a period that ends after it starts and after `now`.
    pub fn parse(
        self,
        now: OffsetDateTime,
        longest: time::Duration,
    ) -> Result<AgreementDraft, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let title = errors
            .require("/title", self.title)
            .and_then(|t| errors.check("/title", short_text(&t, true)));
        let provider = errors
            .require("/provider", self.provider)
            .and_then(|p| errors.check("/provider", Slug::parse(&p)));
        let recipients: Vec<Slug> = errors
            .require("/recipients", self.recipients)
            .unwrap_or_default()
            .iter()
            .enumerate()
            .filter_map(|(n, r)| errors.check(format!("/recipients/{n}"), Slug::parse(r)))
            .collect();
        if recipients.is_empty() {
            errors.push("/recipients", "names at least one organisation");
        }
        if let Some(provider) = &provider
            && recipients.contains(provider)
        {
            errors.push("/recipients", "cannot include the provider");
        }
        crate::validation::check_unique(&mut errors, "/recipients", &recipients);
        let datasets = errors
            .require("/datasets", self.datasets)
            .unwrap_or_default();
        if datasets.is_empty() {
            errors.push("/datasets", "names at least one dataset");
        }
        let period = Period::parse(&mut errors, self.start, self.end, now, longest);
        if recipients.len() * datasets.len() > MAX_GRANTS {
            errors.push(
                "/datasets",
                format!("an agreement makes at most {MAX_GRANTS} grants (recipients × datasets)"),
            );
        }
        let purpose = errors
            .require("/purpose", self.purpose)
            .and_then(|p| errors.check("/purpose", short_text(&p, true)));
        let attribution = self
            .attribution
            .and_then(|a| errors.check("/attribution", short_text(&a, true)));
        let notify = self
            .notify
            .and_then(|a| errors.check("/notify", short_text(&a, true)));
        let delete_by = self
            .delete_by
            .and_then(|raw| errors.check("/delete_by", parse_instant(&raw)));
        if let (Some(delete_by), Some(period)) = (delete_by, &period)
            && delete_by < period.end
        {
            errors.push("/delete_by", "cannot be before the end of the agreement");
        }
        let (Some(title), Some(provider), Some(period), Some(purpose), true) =
            (title, provider, period, purpose, errors.is_empty())
        else {
            return Err(errors);
        };
        Ok(AgreementDraft {
            title,
            provider,
            recipients,
            datasets,
            period,
            terms: Terms {
                purpose,
                permitted: self.permitted.unwrap_or_default(),
                prohibited: self.prohibited.unwrap_or_default(),
                attribution,
                delete_by,
                notify,
            },
        })
    }
}

/// Why an action on an agreement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgreementRefusal {
    #[error("an agreement that is {state:?} cannot be {action}d", action = .action.as_str())]
    NotFromState {
        state: AgreementState,
        action: AgreementAction,
    },
    #[error("only a signatory of {0} may do this")]
    NotASignatory(&'static str),
    #[error("this organisation has already signed")]
    AlreadySigned,
    #[error("one person signs for one party of an agreement")]
    SignedForAnother,
    #[error("the agreement's period has ended: it can only expire")]
    PastEnd,
    #[error("the agreement's period has not ended")]
    BeforeEnd,
}

/// An agreement between a provider and its recipients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Agreement {
    pub id: Uuid,
    pub title: String,
    #[schema(value_type = String)]
    pub provider: Slug,
    #[schema(value_type = Vec<String>)]
    pub recipients: Vec<Slug>,
    pub datasets: Vec<Uuid>,
    pub period: Period,
    pub terms: Terms,
    pub state: AgreementState,
    /// Who signed for each party, in order.
    pub signatures: Vec<Signature>,
    pub history: Vec<AgreementTransition>,
    /// The grants it made when it came into force.
    #[serde(default)]
    pub grants: Vec<Uuid>,
    /// The labels of its datasets when the provider signed: it comes into force only while they
    /// are still the labels of the datasets (a signatory releases what they saw).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub released: Vec<ReleasedDataset>,
    pub revision: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Agreement {
    /// The parties: the provider, then the recipients.
    pub fn parties(&self) -> impl Iterator<Item = &Slug> {
        std::iter::once(&self.provider).chain(&self.recipients)
    }

    /// The parties that have not signed yet.
    pub fn unsigned(&self) -> Vec<&Slug> {
        self.parties()
            .filter(|party| !self.signatures.iter().any(|s| &s.organisation == *party))
            .collect()
    }

    /// `actor`, a signatory of the organisations `signs_for`, does `action` at `at`: the agreement
    /// as it becomes, with the transition in its history, or why not (the agreement unchanged).
    pub fn act(
        &self,
        actor: &str,
        signs_for: &[Slug],
        action: AgreementAction,
        comment: &str,
        at: OffsetDateTime,
    ) -> Result<Self, AgreementRefusal> {
        use AgreementState::{Active, Draft, Expired, Proposed, Terminated};
        let refused = AgreementRefusal::NotFromState {
            state: self.state,
            action,
        };
        if self.state.is_final() {
            return Err(refused);
        }
        let past = at >= self.period.end;
        let signs = |party: &Slug| signs_for.contains(party);
        let mut next = self.clone();
        let to = match action {
            AgreementAction::Expire if !past => return Err(AgreementRefusal::BeforeEnd),
            AgreementAction::Expire => Expired,
            _ if past => return Err(AgreementRefusal::PastEnd),
            AgreementAction::Terminate if !self.parties().any(signs) => {
                return Err(AgreementRefusal::NotASignatory("one of its parties"));
            }
            AgreementAction::Terminate => Terminated,
            AgreementAction::Propose if self.state != Draft => return Err(refused),
            AgreementAction::Propose if !signs(&self.provider) => {
                return Err(AgreementRefusal::NotASignatory("the provider"));
            }
            AgreementAction::Propose => {
                next.signatures = vec![Signature {
                    organisation: self.provider.clone(),
                    by: actor.to_owned(),
                    at,
                }];
                Proposed
            }
            AgreementAction::Accept | AgreementAction::Decline if self.state != Proposed => {
                return Err(refused);
            }
            AgreementAction::Accept | AgreementAction::Decline
                if !self.recipients.iter().any(signs) =>
            {
                return Err(AgreementRefusal::NotASignatory("a recipient"));
            }
            AgreementAction::Accept => {
                let Some(party) = self
                    .unsigned()
                    .into_iter()
                    .find(|party| signs(party))
                    .cloned()
                else {
                    return Err(AgreementRefusal::AlreadySigned);
                };
                if self.signatures.iter().any(|s| s.by == actor) {
                    return Err(AgreementRefusal::SignedForAnother);
                }
                next.signatures.push(Signature {
                    organisation: party,
                    by: actor.to_owned(),
                    at,
                });
                if next.unsigned().is_empty() {
                    Active
                } else {
                    Proposed
                }
            }
            AgreementAction::Decline => {
                next.signatures.clear();
                Draft
            }
        };
        next.state = to;
        next.history.push(AgreementTransition {
            from: self.state,
            to,
            action,
            actor: actor.to_owned(),
            at,
            comment: comment.to_owned(),
        });
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::Duration;

    use super::*;

    const START: OffsetDateTime = OffsetDateTime::UNIX_EPOCH;

    fn slug(raw: &str) -> Slug {
        Slug::parse(raw).unwrap()
    }

    fn agreement() -> Agreement {
        Agreement {
            id: Uuid::nil(),
            title: "Sonar data for the joint exercise".into(),
            provider: slug("cmre"),
            recipients: vec![slug("nurc"), slug("ffi")],
            datasets: vec![Uuid::nil()],
            period: Period {
                start: START,
                end: START + Duration::days(30),
            },
            terms: Terms {
                purpose: "exercise".into(),
                permitted: Vec::new(),
                prohibited: vec![Prohibited::Distribute],
                attribution: None,
                delete_by: None,
                notify: None,
            },
            state: AgreementState::Draft,
            signatures: Vec::new(),
            history: Vec::new(),
            grants: Vec::new(),
            released: Vec::new(),
            revision: 1,
            created_at: START,
            updated_at: START,
        }
    }

    #[test]
    fn every_party_signs_before_it_is_in_force() {
        let at = START + Duration::days(1);
        let draft = agreement();
        assert_eq!(
            draft.act("nina", &[slug("nurc")], AgreementAction::Propose, "", at),
            Err(AgreementRefusal::NotASignatory("the provider"))
        );
        let proposed = draft
            .act("carla", &[slug("cmre")], AgreementAction::Propose, "", at)
            .unwrap();
        assert_eq!(proposed.unsigned(), [&slug("nurc"), &slug("ffi")]);
        assert_eq!(
            proposed.act("carla", &[slug("cmre")], AgreementAction::Accept, "", at),
            Err(AgreementRefusal::NotASignatory("a recipient"))
        );
        let one = proposed
            .act("nina", &[slug("nurc")], AgreementAction::Accept, "", at)
            .unwrap();
        assert_eq!(one.state, AgreementState::Proposed);
        assert_eq!(
            one.act("nina", &[slug("nurc")], AgreementAction::Accept, "", at),
            Err(AgreementRefusal::AlreadySigned)
        );
        assert_eq!(
            one.act(
                "carla",
                &[slug("cmre"), slug("ffi")],
                AgreementAction::Accept,
                "",
                at
            ),
            Err(AgreementRefusal::SignedForAnother),
            "the provider's signatory cannot also sign for a recipient"
        );
        let active = one
            .act("frode", &[slug("ffi")], AgreementAction::Accept, "", at)
            .unwrap();
        assert_eq!(active.state, AgreementState::Active);
        let signed: Vec<(&str, &str)> = active
            .signatures
            .iter()
            .map(|s| (s.organisation.as_str(), s.by.as_str()))
            .collect();
        assert_eq!(
            signed,
            [("cmre", "carla"), ("nurc", "nina"), ("ffi", "frode")]
        );
        let declined = one
            .act(
                "frode",
                &[slug("ffi")],
                AgreementAction::Decline,
                "narrower",
                at,
            )
            .unwrap();
        assert_eq!(
            (declined.state, declined.signatures.len()),
            (AgreementState::Draft, 0)
        );
        let ended = active
            .act(
                "system",
                &[],
                AgreementAction::Expire,
                "",
                active.period.end,
            )
            .unwrap();
        assert_eq!(ended.state, AgreementState::Expired);
        assert!(
            ended
                .act("nina", &[slug("nurc")], AgreementAction::Terminate, "", at)
                .is_err()
        );
    }

    #[test]
    fn agreements_are_checked_field_by_field() {
        let now = START + Duration::days(10);
        let errors = AgreementInput {
            title: Some(" ".into()),
            provider: Some("cmre".into()),
            recipients: Some(vec!["cmre".into(), "Not a slug".into()]),
            datasets: Some(Vec::new()),
            end: Some("1970-01-05".into()),
            ..Default::default()
        }
        .parse(now, Duration::days(365))
        .unwrap_err();
        let pointers: Vec<&str> = errors.0.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/title",
                "/recipients/1",
                "/recipients",
                "/datasets",
                "/end",
                "/purpose"
            ]
        );
        let early = AgreementInput {
            title: Some("Sonar data".into()),
            provider: Some("cmre".into()),
            recipients: Some(vec!["ffi".into()]),
            datasets: Some(vec!["towed-array".into()]),
            end: Some("1970-03-01".into()),
            purpose: Some("exercise".into()),
            delete_by: Some("1970-02-01".into()),
            ..Default::default()
        }
        .parse(now, Duration::days(365))
        .unwrap_err();
        assert_eq!(early.0[0].pointer, "/delete_by", "deletion before the end");
    }

    fn actions() -> impl Strategy<Value = (usize, AgreementAction, i64)> {
        let action = prop::sample::select(vec![
            AgreementAction::Propose,
            AgreementAction::Accept,
            AgreementAction::Decline,
            AgreementAction::Terminate,
            AgreementAction::Expire,
        ]);
        (0..4usize, action, 0..40i64)
    }

    const SIGNATORIES: [(&str, &str); 4] = [
        ("carla", "cmre"),
        ("nina", "nurc"),
        ("frode", "ffi"),
        ("oscar", "other"),
    ];

    proptest! {
        /// Whatever anyone tries: a refused action changes nothing, a final state takes nothing
        /// more, an active agreement carries one signature per party (the provider's first) by
        /// someone who signs for it, and a state that is not final has a way out.
        #[test]
        fn no_sequence_of_actions_reaches_an_invalid_state(steps in proptest::collection::vec(actions(), 1..40)) {
            let mut agreement = agreement();
            for (who, action, day) in steps {
                let at = START + Duration::days(day);
                let (actor, organisation) = SIGNATORIES[who];
                if let Ok(next) = agreement.act(actor, &[slug(organisation)], action, "", at) {
                    prop_assert!(!agreement.state.is_final());
                    prop_assert_eq!(next.history.len(), agreement.history.len() + 1);
                    agreement = next;
                }
                if agreement.state == AgreementState::Active {
                    let signed: Vec<&Slug> = agreement.signatures.iter().map(|s| &s.organisation).collect();
                    prop_assert_eq!(signed.len(), 3);
                    prop_assert_eq!(signed[0], &agreement.provider);
                    prop_assert!(agreement.unsigned().is_empty());
                    let signers: std::collections::HashSet<&str> = agreement.signatures.iter().map(|s| s.by.as_str()).collect();
                    prop_assert_eq!(signers.len(), agreement.signatures.len(), "one person, one party");
                    for signature in &agreement.signatures {
                        prop_assert!(SIGNATORIES.contains(&(signature.by.as_str(), signature.organisation.as_str())));
                    }
                }
                if !agreement.state.is_final() {
                    let before_end = at.min(agreement.period.end - Duration::SECOND);
                    let out = agreement.act("carla", &[slug("cmre")], AgreementAction::Terminate, "", before_end);
                    prop_assert_eq!(out.map(|a| a.state), Ok(AgreementState::Terminated));
                    let late = agreement.act("system", &[], AgreementAction::Expire, "", agreement.period.end);
                    prop_assert_eq!(late.map(|a| a.state), Ok(AgreementState::Expired));
                }
            }
        }
    }
}
