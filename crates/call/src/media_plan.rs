//! The media topology a call state implies: which legs share a room and
//! whether that room plays music. The engine applies the difference.

use crate::state::{Caller, State};
use crate::{LegId, Target, TransferPhase};

/// The music class of the ringback tone a waiting caller hears (the media
/// engine synthesizes it).
pub const RINGBACK: &str = "ringback";

/// Legs that hear each other (and music, if set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Members.
    pub legs: Vec<LegId>,
    /// Music class played to this group.
    pub music: Option<String>,
}

/// Every group of a call; legs not listed hear silence.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MediaPlan {
    /// Groups, index = room slot of the call.
    pub groups: Vec<Group>,
    /// Legs the others do not hear (conference mute).
    pub muted: Vec<LegId>,
    /// (listener, source): the listener does not hear that member of its
    /// group (supervision: nobody hears a listening supervisor, only the
    /// agent hears a whispering one).
    pub unheard: Vec<(LegId, LegId)>,
}

impl MediaPlan {
    /// Group containing a leg.
    pub fn group_of(&self, leg: LegId) -> Option<&Group> {
        self.groups.iter().find(|g| g.legs.contains(&leg))
    }
    /// Do these two legs hear each other?
    pub fn connected(&self, a: LegId, b: LegId) -> bool {
        self.group_of(a).is_some_and(|g| g.legs.contains(&b))
    }
    /// Does `a` hear `b`: same group, `b` not muted, no exclusion.
    pub fn hears(&self, a: LegId, b: LegId) -> bool {
        a != b
            && self.connected(a, b)
            && !self.muted.contains(&b)
            && !self.unheard.contains(&(a, b))
    }
    /// The members of its group `listener` does not hear.
    pub fn unheard_by(&self, listener: LegId) -> Vec<LegId> {
        self.unheard
            .iter()
            .filter(|(l, _)| *l == listener)
            .map(|(_, s)| *s)
            .collect()
    }
}

impl State {
    /// The media plan this state implies.
    pub(crate) fn media_plan(&self, music: &str) -> MediaPlan {
        let waiting = |leg: LegId| Group {
            legs: vec![leg],
            music: Some(music.to_string()),
        };
        let talking = |legs: Vec<LegId>| Group { legs, music: None };
        let mut muted = Vec::new();
        let groups = match self {
            State::CallingAgent { .. } | State::CallingContact { .. } | State::Ended => vec![],
            State::Ringing {
                caller,
                callee,
                unanswered,
            } => match caller {
                // Still queued even once an agent is offered the call (it rings).
                Caller::Customer(c)
                    if callee.queued || matches!(callee.target, Target::Campaign(_)) =>
                {
                    vec![waiting(*c)]
                }
                // The far end's early media (announcements, its ringback).
                _ if callee.early => vec![talking(vec![caller.leg(), callee.leg])],
                // An answered caller (click-to-call) hears our ringback; an
                // unanswered one got 180 and its phone plays its own.
                _ if !*unanswered => vec![Group {
                    legs: vec![caller.leg()],
                    music: Some(RINGBACK.to_string()),
                }],
                _ => vec![],
            },
            State::Connected { customer, agent } => vec![talking(vec![customer.leg, agent.leg])],
            State::Held { customer, agent } => {
                vec![waiting(customer.leg), talking(vec![agent.leg])]
            }
            State::Transferring {
                customer, agent, ..
            } => {
                let mut g = vec![waiting(customer.leg)];
                g.extend(agent.map(|a| talking(vec![a])));
                g
            }
            State::RingingBack { customer, .. } => vec![waiting(customer.leg)],
            State::Consulting {
                customer,
                agent,
                transfer,
            } => {
                let mut legs = vec![*agent];
                if transfer.phase == TransferPhase::Talking {
                    legs.push(transfer.leg);
                }
                vec![waiting(customer.leg), talking(legs)]
            }
            State::Conference {
                customer,
                agent,
                third,
                muted: m,
            } => {
                muted.clone_from(m);
                vec![talking(vec![customer.leg, agent.leg, third.0])]
            }
        };
        MediaPlan {
            groups,
            muted,
            unheard: Vec::new(),
        }
    }
}
