//! The publication workflow of datasets in data domains that review publication: an editor submits
//! a draft, a reviewer (a steward) publishes it or returns it; a published dataset changes through
//! a working copy, reviewed in the same way before it replaces the published record (as GeoNetwork
//! does); a reviewer deprecates and retires. As for the other workflows, an action is a function from
//! the workflow as it is to what it becomes, or to the reason it is refused.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::dataset::{DatasetMetadata, DatasetState};
use crate::label::SecurityLabel;
use crate::workflow::Review;

/// What someone does in the publication workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PublicationAction {
    /// An editor asks for review of the draft, or of the working copy.
    Submit,
    /// An editor takes back what they submitted.
    Withdraw,
    /// A reviewer publishes the draft, or puts the working copy in place of the published record.
    Approve,
    /// A reviewer sends it back for changes.
    Return,
    Deprecate,
    Retire,
}

impl PublicationAction {
    pub const ALL: [Self; 6] = [
        Self::Submit,
        Self::Withdraw,
        Self::Approve,
        Self::Return,
        Self::Deprecate,
        Self::Retire,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Withdraw => "withdraw",
            Self::Approve => "approve",
            Self::Return => "return",
            Self::Deprecate => "deprecate",
            Self::Retire => "retire",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|action| action.as_str() == raw)
            .ok_or_else(|| {
                format!(
                    "`{raw}` is not one of submit, withdraw, approve, return, deprecate, retire"
                )
            })
    }

    /// Whether the action is a reviewer's (the others are an editor's).
    pub fn by_reviewer(self) -> bool {
        !matches!(self, Self::Submit | Self::Withdraw)
    }
}

/// Where a working copy stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CopyState {
    Draft,
    InReview,
}

/// The next version of a published dataset, edited apart from it until a reviewer puts it in place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkingCopy {
    #[serde(flatten)]
    pub metadata: DatasetMetadata,
    pub state: CopyState,
    /// The dataset's revision the copy was written over: approval needs it still current.
    #[serde(default)]
    pub based_on: i64,
    pub updated_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// One step of the workflow, as its history keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PublicationStep {
    pub action: PublicationAction,
    /// Whether the step was on the working copy rather than the dataset.
    pub working_copy: bool,
    pub from: DatasetState,
    pub to: DatasetState,
    pub actor: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub comment: String,
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicationRefusal {
    #[error("nothing can be {action}ed now: the dataset is {state:?}{copy}", action = .action.as_str(), copy = if *.copy { " with a working copy" } else { "" })]
    NotFromState {
        state: DatasetState,
        copy: bool,
        action: PublicationAction,
    },
    #[error("only an editor of the dataset's organisation may {0}")]
    NotAnEditor(&'static str),
    #[error("only a steward of the dataset's organisation or data domain may {0}")]
    NotAReviewer(&'static str),
    #[error("nobody approves what they submitted or wrote")]
    OwnSubmission,
}

/// A request to relabel a dataset so that more people may read it (see `Policy::widens`): decided
/// by the release officers, as an access request's review is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Release {
    /// The label when the release was asked for; approval applies only while it is still the one.
    pub from: SecurityLabel,
    /// The label asked for.
    pub to: SecurityLabel,
    #[serde(flatten)]
    #[schema(inline)]
    pub review: Review,
}

/// The workflows of one dataset: its publication (working copy, who submitted what is in review,
/// history) and the release of its label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Publication {
    pub dataset: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_copy: Option<WorkingCopy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitted_by: Option<String>,
    #[serde(default)]
    pub history: Vec<PublicationStep>,
    /// The last release asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<Release>,
    /// 0 before the first step; grows by one with each.
    pub revision: i64,
}

/// What an action does to the dataset itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub publication: Publication,
    pub state: DatasetState,
    /// The working copy's metadata, approved to replace the dataset's.
    pub replacement: Option<DatasetMetadata>,
}

/// What the actor may do for this dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roles {
    pub editor: bool,
    pub reviewer: bool,
}

impl Publication {
    pub fn new(dataset: Uuid) -> Self {
        Self {
            dataset,
            working_copy: None,
            submitted_by: None,
            history: Vec::new(),
            release: None,
            revision: 0,
        }
    }

    /// Whether a release of the label waits for a decision.
    pub fn release_open(&self) -> bool {
        self.release
            .as_ref()
            .is_some_and(|release| !release.review.state.is_final())
    }

    /// Whether something waits for a reviewer.
    pub fn in_review(&self, state: DatasetState) -> bool {
        state == DatasetState::InReview
            || self
                .working_copy
                .as_ref()
                .is_some_and(|copy| copy.state == CopyState::InReview)
    }

    /// `actor`, holding `roles`, does `action` at `at` to a dataset in `state`: what the workflow,
    /// the dataset's state and its metadata become, or why not (nothing changed).
    pub fn act(
        &self,
        state: DatasetState,
        actor: &str,
        roles: Roles,
        action: PublicationAction,
        comment: &str,
        at: OffsetDateTime,
    ) -> Result<Outcome, PublicationRefusal> {
        use DatasetState::{Deprecated, Draft, InReview, Published, Retired};
        let copy = self.working_copy.as_ref().map(|c| c.state);
        let refused = PublicationRefusal::NotFromState {
            state,
            copy: copy.is_some(),
            action,
        };
        if action.by_reviewer() && !roles.reviewer {
            return Err(PublicationRefusal::NotAReviewer(action.as_str()));
        }
        if !action.by_reviewer() && !roles.editor {
            return Err(PublicationRefusal::NotAnEditor(action.as_str()));
        }
        let mut next = self.clone();
        let mut replacement = None;
        let (to, on_copy) = match (action, state, copy) {
            (PublicationAction::Submit, Draft, _) => {
                next.submitted_by = Some(actor.to_owned());
                (InReview, false)
            }
            (PublicationAction::Submit, Published | Deprecated, Some(CopyState::Draft)) => {
                next.submitted_by = Some(actor.to_owned());
                set_copy(&mut next, CopyState::InReview);
                (state, true)
            }
            (PublicationAction::Withdraw | PublicationAction::Return, InReview, _) => {
                next.submitted_by = None;
                (Draft, false)
            }
            (
                PublicationAction::Withdraw | PublicationAction::Return,
                Published | Deprecated,
                Some(CopyState::InReview),
            ) => {
                next.submitted_by = None;
                set_copy(&mut next, CopyState::Draft);
                (state, true)
            }
            (PublicationAction::Approve, InReview, _)
            | (PublicationAction::Approve, Published | Deprecated, Some(CopyState::InReview))
                if self.submitted_by.as_deref() == Some(actor)
                    || self
                        .working_copy
                        .as_ref()
                        .is_some_and(|copy| copy.updated_by == actor) =>
            {
                return Err(PublicationRefusal::OwnSubmission);
            }
            (PublicationAction::Approve, InReview, _) => {
                next.submitted_by = None;
                (Published, false)
            }
            (PublicationAction::Approve, Published | Deprecated, Some(CopyState::InReview)) => {
                next.submitted_by = None;
                replacement = next.working_copy.take().map(|copy| copy.metadata);
                (state, true)
            }
            (PublicationAction::Deprecate, Published, _) => (Deprecated, false),
            (PublicationAction::Retire, Published | Deprecated, _) => {
                next.working_copy = None;
                next.submitted_by = None;
                (Retired, false)
            }
            _ => return Err(refused),
        };
        next.history.push(PublicationStep {
            action,
            working_copy: on_copy,
            from: state,
            to,
            actor: actor.to_owned(),
            at,
            comment: comment.to_owned(),
        });
        next.revision += 1;
        Ok(Outcome {
            publication: next,
            state: to,
            replacement,
        })
    }
}

fn set_copy(publication: &mut Publication, state: CopyState) {
    if let Some(copy) = &mut publication.working_copy {
        copy.state = state;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use time::Duration;

    use super::*;
    use crate::dataset::DatasetInput;
    use crate::label::Policy;

    const START: OffsetDateTime = OffsetDateTime::UNIX_EPOCH;
    const EDITOR: Roles = Roles {
        editor: true,
        reviewer: false,
    };
    const STEWARD: Roles = Roles {
        editor: true,
        reviewer: true,
    };

    fn metadata(title: &str) -> DatasetMetadata {
        DatasetInput {
            title: Some(title.into()),
            organisation: Some("cmre".into()),
            ..Default::default()
        }
        .parse(&Policy::default_policy(), Uuid::now_v7)
        .unwrap()
        .metadata
    }

    fn copy(state: CopyState) -> WorkingCopy {
        WorkingCopy {
            metadata: metadata("CTD casts, second edition"),
            state,
            based_on: 1,
            updated_by: "ed".into(),
            updated_at: START,
        }
    }

    #[test]
    fn a_draft_is_reviewed_before_it_is_published() {
        let start = Publication::new(Uuid::nil());
        use DatasetState::*;
        let submitted = start
            .act(Draft, "ed", EDITOR, PublicationAction::Submit, "", START)
            .unwrap();
        assert_eq!(submitted.state, InReview);
        let in_review = submitted.publication;
        assert_eq!(
            in_review.act(
                InReview,
                "ed",
                EDITOR,
                PublicationAction::Approve,
                "",
                START
            ),
            Err(PublicationRefusal::NotAReviewer("approve"))
        );
        assert_eq!(
            in_review.act(
                InReview,
                "ed",
                STEWARD,
                PublicationAction::Approve,
                "",
                START
            ),
            Err(PublicationRefusal::OwnSubmission)
        );
        let returned = in_review
            .act(
                InReview,
                "stella",
                STEWARD,
                PublicationAction::Return,
                "add units",
                START,
            )
            .unwrap();
        assert_eq!(returned.state, Draft);
        let published = in_review
            .act(
                InReview,
                "stella",
                STEWARD,
                PublicationAction::Approve,
                "",
                START,
            )
            .unwrap();
        assert_eq!(published.state, Published);
        assert_eq!(published.publication.history.len(), 2);
        assert_eq!(published.publication.revision, 2);
    }

    #[test]
    fn a_working_copy_replaces_the_published_record_once_approved() {
        use DatasetState::*;
        let mut publication = Publication::new(Uuid::nil());
        publication.working_copy = Some(copy(CopyState::Draft));
        assert!(
            publication
                .act(
                    Published,
                    "stella",
                    STEWARD,
                    PublicationAction::Approve,
                    "",
                    START
                )
                .is_err(),
            "a draft copy is submitted first"
        );
        let submitted = publication
            .act(
                Published,
                "ed",
                EDITOR,
                PublicationAction::Submit,
                "",
                START,
            )
            .unwrap();
        assert_eq!(
            submitted.state, Published,
            "the published record stays in place"
        );
        assert!(submitted.publication.in_review(Published));
        let approved = submitted
            .publication
            .act(
                Published,
                "stella",
                STEWARD,
                PublicationAction::Approve,
                "",
                START,
            )
            .unwrap();
        assert_eq!(
            approved.replacement.map(|m| m.title),
            Some("CTD casts, second edition".to_owned())
        );
        assert!(approved.publication.working_copy.is_none());
        assert!(approved.publication.history.last().unwrap().working_copy);
    }

    fn actions() -> impl Strategy<Value = (usize, PublicationAction, bool)> {
        (
            0..3usize,
            prop::sample::select(PublicationAction::ALL.to_vec()),
            any::<bool>(),
        )
    }

    const PEOPLE: [(&str, Roles); 3] = [
        ("ed", EDITOR),
        ("stella", STEWARD),
        (
            "vic",
            Roles {
                editor: false,
                reviewer: false,
            },
        ),
    ];

    proptest! {
        /// Whatever anyone tries: a refused action changes nothing; a working copy exists only
        /// beside a published or deprecated record; nobody approves what they submitted; and
        /// every state but retired has a way on.
        #[test]
        fn no_sequence_of_actions_reaches_an_invalid_state(steps in proptest::collection::vec(actions(), 1..40)) {
            let mut publication = Publication::new(Uuid::nil());
            let mut state = DatasetState::Draft;
            for (n, (who, action, edit)) in steps.into_iter().enumerate() {
                let at = START + Duration::minutes(n as i64);
                // Editors make a working copy of a published record now and then.
                if edit && matches!(state, DatasetState::Published | DatasetState::Deprecated) && publication.working_copy.is_none() {
                    publication.working_copy = Some(copy(CopyState::Draft));
                }
                let (actor, roles) = PEOPLE[who];
                let submitter = publication.submitted_by.clone();
                let author = publication.working_copy.as_ref().map(|c| c.updated_by.clone());
                if let Ok(outcome) = publication.act(state, actor, roles, action, "", at) {
                    prop_assert_ne!(state, DatasetState::Retired);
                    prop_assert_eq!(outcome.publication.history.len(), publication.history.len() + 1);
                    if action == PublicationAction::Approve {
                        prop_assert_ne!(submitter.as_deref(), Some(actor));
                        prop_assert_ne!(author.as_deref(), Some(actor));
                    }
                    publication = outcome.publication;
                    state = outcome.state;
                }
                if publication.working_copy.is_some() {
                    prop_assert!(matches!(state, DatasetState::Published | DatasetState::Deprecated));
                }
                let way_on = match state {
                    DatasetState::Draft => Some(("ed", EDITOR, PublicationAction::Submit)),
                    DatasetState::InReview => Some(("ed", EDITOR, PublicationAction::Withdraw)),
                    DatasetState::Published | DatasetState::Deprecated => Some(("stella", STEWARD, PublicationAction::Retire)),
                    DatasetState::Retired => None,
                };
                if let Some((actor, roles, action)) = way_on {
                    prop_assert!(publication.act(state, actor, roles, action, "", at).is_ok());
                }
            }
        }
    }
}
