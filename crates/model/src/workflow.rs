//! The access-request workflow as a state machine (the sharing-workflow issue's first slice): an
//! action is a function from the request as it is to the request as it becomes, or to the reason it
//! is refused. Every transition records who, when and why; a final state takes no action; every other
//! state has a way out (the requester may withdraw; past the deadline, it expires).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// Waiting for its first approver.
    Submitted,
    /// Approved by some steps of its chain, waiting for the next.
    InReview,
    /// Sent back to the requester to amend.
    Returned,
    Approved,
    Rejected,
    Withdrawn,
    /// Nobody decided by the deadline.
    Expired,
}

impl RequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::InReview => "in_review",
            Self::Returned => "returned",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Withdrawn => "withdrawn",
            Self::Expired => "expired",
        }
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Approved | Self::Rejected | Self::Withdrawn | Self::Expired
        )
    }
}

/// What someone does to a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Approve,
    Reject,
    /// Sends it back to the requester for changes.
    Return,
    /// Hands the current step's decision to someone else.
    Delegate {
        to: String,
    },
    /// The requester resubmits a returned request.
    Amend,
    Withdraw,
    /// The deadline passed (the system acts).
    Expire,
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Return => "return",
            Self::Delegate { .. } => "delegate",
            Self::Amend => "amend",
            Self::Withdraw => "withdraw",
            Self::Expire => "expire",
        }
    }
}

/// One step of an approval chain: any one of its approvers decides it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Step {
    pub approvers: Vec<String>,
    /// Who approved it, once approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
}

/// One transition, as the request's history keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Transition {
    pub from: RequestState,
    pub to: RequestState,
    pub action: String,
    pub actor: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub comment: String,
}

/// Why an action was refused: each a conflict with the request's state or a lack of right.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("a request that is {state:?} cannot be {action}d", action = .action)]
    NotFromState {
        state: RequestState,
        action: &'static str,
    },
    #[error("only an approver of the current step may {0}")]
    NotAnApprover(&'static str),
    #[error("nobody approves their own request")]
    OwnRequest,
    #[error("only the requester may {0}")]
    NotTheRequester(&'static str),
    #[error("one person approves at most one step of a chain")]
    AlreadyApproved,
    #[error("the deadline has passed: the request can only expire or be withdrawn")]
    PastDeadline,
    #[error("the deadline has not passed")]
    BeforeDeadline,
    #[error(
        "an approval chain needs at least one step, each with an approver other than the requester"
    )]
    NoChain,
}

/// A request for access, with its approval chain and its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Review {
    pub requester: String,
    pub state: RequestState,
    pub steps: Vec<Step>,
    /// The step waiting for a decision.
    pub current: usize,
    #[serde(with = "time::serde::rfc3339")]
    pub deadline: OffsetDateTime,
    pub history: Vec<Transition>,
}

impl Review {
    /// A submitted request. Each step needs an approver other than the requester (separation of
    /// duties), so a chain the requester alone could approve is refused.
    pub fn submit(
        requester: &str,
        chain: Vec<Vec<String>>,
        deadline: OffsetDateTime,
    ) -> Result<Self, Refusal> {
        let fit = !chain.is_empty()
            && chain
                .iter()
                .all(|approvers| approvers.iter().any(|a| a != requester));
        if !fit {
            return Err(Refusal::NoChain);
        }
        Ok(Self {
            requester: requester.to_owned(),
            state: RequestState::Submitted,
            steps: chain
                .into_iter()
                .map(|approvers| Step {
                    approvers,
                    approved_by: None,
                })
                .collect(),
            current: 0,
            deadline,
            history: Vec::new(),
        })
    }

    /// Who must act next: the current step's approvers, the requester for a returned request,
    /// nobody for a final one.
    pub fn waiting_for(&self) -> Vec<String> {
        match self.state {
            RequestState::Submitted | RequestState::InReview => self.steps[self.current]
                .approvers
                .iter()
                .filter(|a| **a != self.requester)
                .cloned()
                .collect(),
            RequestState::Returned => vec![self.requester.clone()],
            _ => Vec::new(),
        }
    }

    /// Whether `person` approved an earlier step of the chain.
    fn approved_before(&self, person: &str) -> bool {
        self.steps[..self.current]
            .iter()
            .any(|step| step.approved_by.as_deref() == Some(person))
    }

    /// `actor` does `action` at `at`: the request as it becomes, with the transition in its
    /// history, or why not (the request unchanged).
    pub fn act(
        &self,
        actor: &str,
        action: &Action,
        comment: &str,
        at: OffsetDateTime,
    ) -> Result<Self, Refusal> {
        use RequestState::{Approved, Expired, InReview, Rejected, Returned, Submitted, Withdrawn};
        let refused = Refusal::NotFromState {
            state: self.state,
            action: action.name(),
        };
        if self.state.is_final() {
            return Err(refused);
        }
        let past = at >= self.deadline;
        let mut next = self.clone();
        let deciding = matches!(self.state, Submitted | InReview);
        let to = match action {
            Action::Withdraw if actor != self.requester => {
                return Err(Refusal::NotTheRequester("withdraw"));
            }
            Action::Withdraw => Withdrawn,
            Action::Expire if !past => return Err(Refusal::BeforeDeadline),
            Action::Expire => Expired,
            _ if past => return Err(Refusal::PastDeadline),
            Action::Amend if self.state != Returned => return Err(refused),
            Action::Amend if actor != self.requester => {
                return Err(Refusal::NotTheRequester("amend"));
            }
            Action::Amend => {
                next.current = 0;
                for step in &mut next.steps {
                    step.approved_by = None;
                }
                Submitted
            }
            _ if !deciding => return Err(refused),
            _ if actor == self.requester => return Err(Refusal::OwnRequest),
            _ if !self.steps[self.current]
                .approvers
                .iter()
                .any(|a| a == actor) =>
            {
                return Err(Refusal::NotAnApprover(action.name()));
            }
            Action::Approve if self.approved_before(actor) => {
                return Err(Refusal::AlreadyApproved);
            }
            Action::Approve => {
                next.steps[self.current].approved_by = Some(actor.to_owned());
                if self.current + 1 == self.steps.len() {
                    Approved
                } else {
                    next.current += 1;
                    InReview
                }
            }
            Action::Reject => Rejected,
            Action::Return => Returned,
            Action::Delegate { to } if *to == self.requester => return Err(Refusal::OwnRequest),
            Action::Delegate { to } if self.approved_before(to) => {
                return Err(Refusal::AlreadyApproved);
            }
            Action::Delegate { to } => {
                let approvers = &mut next.steps[self.current].approvers;
                approvers.retain(|a| a != actor);
                if !approvers.contains(to) {
                    approvers.push(to.clone());
                }
                self.state
            }
        };
        next.state = to;
        next.history.push(Transition {
            from: self.state,
            to,
            action: action.name().to_owned(),
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

    fn chain() -> Vec<Vec<String>> {
        vec![
            vec!["steward".into()],
            vec!["officer".into(), "deputy".into()],
        ]
    }

    fn request() -> Review {
        Review::submit("scientist", chain(), START + Duration::days(14)).unwrap()
    }

    #[test]
    fn a_request_passes_its_chain_in_order() {
        let at = START + Duration::days(1);
        let request = request();
        assert_eq!(request.waiting_for(), ["steward"]);
        assert_eq!(
            request.act("officer", &Action::Approve, "", at),
            Err(Refusal::NotAnApprover("approve"))
        );
        let reviewed = request
            .act("steward", &Action::Approve, "fine", at)
            .unwrap();
        assert_eq!(
            (reviewed.state, reviewed.current),
            (RequestState::InReview, 1)
        );
        assert_eq!(reviewed.waiting_for(), ["officer", "deputy"]);
        let approved = reviewed.act("deputy", &Action::Approve, "", at).unwrap();
        assert_eq!(approved.state, RequestState::Approved);
        assert_eq!(approved.history.len(), 2);
        assert_eq!(approved.history[1].actor, "deputy");
        assert!(matches!(
            approved.act("steward", &Action::Reject, "", at),
            Err(Refusal::NotFromState { .. })
        ));
    }

    #[test]
    fn returned_requests_are_amended_and_start_again() {
        let at = START + Duration::days(1);
        let returned = request()
            .act("steward", &Action::Approve, "", at)
            .and_then(|r| r.act("officer", &Action::Return, "say why", at))
            .unwrap();
        assert_eq!(returned.waiting_for(), ["scientist"]);
        assert_eq!(
            returned.act("steward", &Action::Amend, "", at),
            Err(Refusal::NotTheRequester("amend"))
        );
        let again = returned
            .act("scientist", &Action::Amend, "purpose added", at)
            .unwrap();
        assert_eq!((again.state, again.current), (RequestState::Submitted, 0));
        assert!(again.steps.iter().all(|s| s.approved_by.is_none()));
    }

    #[test]
    fn nobody_approves_their_own_request_or_delegates_to_its_requester() {
        assert_eq!(
            Review::submit("steward", vec![vec!["steward".into()]], START),
            Err(Refusal::NoChain)
        );
        let request = Review::submit(
            "steward",
            vec![vec!["steward".into(), "other".into()]],
            START + Duration::days(1),
        )
        .unwrap();
        assert_eq!(
            request.act("steward", &Action::Approve, "", START),
            Err(Refusal::OwnRequest)
        );
        let delegated = request.act(
            "other",
            &Action::Delegate {
                to: "steward".into(),
            },
            "",
            START,
        );
        assert_eq!(delegated, Err(Refusal::OwnRequest));
    }

    #[test]
    fn one_person_approves_one_step() {
        let at = START + Duration::days(1);
        let chain = vec![vec!["steward".into()], vec!["officer".into()]];
        let reviewed = Review::submit("scientist", chain, START + Duration::days(2))
            .unwrap()
            .act("steward", &Action::Approve, "", at)
            .unwrap();
        let to_steward = Action::Delegate {
            to: "steward".into(),
        };
        assert_eq!(
            reviewed.act("officer", &to_steward, "", at),
            Err(Refusal::AlreadyApproved)
        );
    }

    #[test]
    fn past_the_deadline_a_request_only_expires_or_is_withdrawn() {
        let late = START + Duration::days(15);
        assert_eq!(
            request().act("steward", &Action::Approve, "", late),
            Err(Refusal::PastDeadline)
        );
        assert_eq!(
            request().act("system", &Action::Expire, "", START),
            Err(Refusal::BeforeDeadline)
        );
        assert_eq!(
            request()
                .act("system", &Action::Expire, "", late)
                .unwrap()
                .state,
            RequestState::Expired
        );
    }

    fn actions() -> impl Strategy<Value = (usize, Action, i64)> {
        let action = prop_oneof![
            Just(Action::Approve),
            Just(Action::Reject),
            Just(Action::Return),
            Just(Action::Amend),
            Just(Action::Withdraw),
            Just(Action::Expire),
            (0..4usize).prop_map(|n| Action::Delegate {
                to: PEOPLE[n].to_owned()
            }),
        ];
        (0..4usize, action, 0..20i64)
    }

    const PEOPLE: [&str; 4] = ["scientist", "steward", "officer", "deputy"];

    proptest! {
        /// Whatever anyone tries, in any order: a refused action changes nothing, a final state
        /// takes nothing more, an approval means every step was approved by one of its own
        /// approvers who is not the requester, and a state that is not final has a way out.
        #[test]
        fn no_sequence_of_actions_reaches_an_invalid_state(steps in proptest::collection::vec(actions(), 1..40)) {
            let mut request = request();
            for (who, action, day) in steps {
                let at = START + Duration::days(day);
                if let Ok(next) = request.act(PEOPLE[who], &action, "", at) {
                    prop_assert!(!request.state.is_final());
                    prop_assert_eq!(next.history.len(), request.history.len() + 1);
                    request = next;
                }
                if request.state == RequestState::Approved {
                    let mut approvers = std::collections::HashSet::new();
                    for step in &request.steps {
                        let by = step.approved_by.as_deref();
                        prop_assert!(by.is_some_and(|by| by != "scientist" && step.approvers.iter().any(|a| a == by)));
                        prop_assert!(approvers.insert(by), "each step by someone else");
                    }
                }
                if !request.state.is_final() {
                    let out = request.act("scientist", &Action::Withdraw, "", at);
                    prop_assert_eq!(out.map(|r| r.state), Ok(RequestState::Withdrawn));
                    let late = request.act("system", &Action::Expire, "", request.deadline);
                    prop_assert_eq!(late.map(|r| r.state), Ok(RequestState::Expired));
                    prop_assert!(!request.waiting_for().is_empty());
                }
            }
        }
    }
}
