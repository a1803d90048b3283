//! What a call holds in each of its states: every variant of [`State`]
//! carries exactly the parties and transfer valid in it, so a consultation
//! without a transfer or a conference without its third party cannot exist.

use crate::{LegId, Target, Transfer};

/// Where a call stands (the public, coarse view of [`State`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    /// Click-to-call: the agent's own phone is ringing first.
    Originating,
    /// The other party is being reached (ringing, or queued for a campaign).
    Ringing,
    /// Two parties talking.
    Connected,
    /// The agent put the other party on hold (music).
    Held,
    /// A blind transfer is reaching its target.
    Transferring,
    /// Consultative transfer: customer on hold, agent with the target.
    Consulting,
    /// Customer, agent and target all together.
    Conference,
    /// Over.
    Ended,
}

impl CallState {
    /// How refusals name the state ("cannot hold while the call is on hold").
    pub(crate) fn words(self) -> &'static str {
        match self {
            CallState::Originating => "ringing the agent's phone",
            CallState::Ringing => "ringing",
            CallState::Connected => "connected",
            CallState::Held => "on hold",
            CallState::Transferring => "being transferred",
            CallState::Consulting => "in a consultation",
            CallState::Conference => "in a conference",
            CallState::Ended => "ended",
        }
    }
}

/// The username of a target when it is an agent.
pub(crate) fn agent_name(t: &Target) -> Option<String> {
    match t {
        Target::Agent(a) => Some(a.clone()),
        _ => None,
    }
}

/// One established side of a call: its leg and, when an agent is on it, the username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Party {
    pub(crate) leg: LegId,
    pub(crate) agent: Option<String>,
}

impl Party {
    /// The party reached through a leg dialled towards `target`.
    pub(crate) fn reached(leg: LegId, target: &Target) -> Party {
        Party {
            leg,
            agent: agent_name(target),
        }
    }

    /// Is `target` the agent on this side?
    pub(crate) fn is_agent(&self, target: &Target) -> bool {
        self.agent.is_some() && agent_name(target) == self.agent
    }
}

/// Who placed the call while the other party is being reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Caller {
    /// A customer (calling in, or a dialer contact who answered): the
    /// answering party becomes the agent side.
    Customer(LegId),
    /// An agent (from their phone, or click-to-call once their phone answered):
    /// the answering party becomes the served party.
    Agent(LegId, String),
}

impl Caller {
    pub(crate) fn leg(&self) -> LegId {
        match self {
            Caller::Customer(l) | Caller::Agent(l, _) => *l,
        }
    }
}

/// The leg being dialled during setup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Callee {
    pub(crate) leg: LegId,
    /// Destination (becomes the assigned agent once a queue offers the call).
    pub(crate) target: Target,
    /// Its ringing was already reported.
    pub(crate) rang: bool,
    /// A queue offered the caller to an agent: the caller keeps its music while that agent rings.
    pub(crate) queued: bool,
    /// The destination sends early media: the caller hears it instead of ringback.
    pub(crate) early: bool,
}

impl Callee {
    pub(crate) fn new(leg: LegId, target: Target) -> Callee {
        Callee {
            leg,
            target,
            rang: false,
            queued: false,
            early: false,
        }
    }
}

/// The state of a call and the data valid in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum State {
    /// Click-to-call: the agent's phone rings; `destination` (its leg id
    /// reserved, not dialled yet) is dialled once it answers.
    CallingAgent {
        agent: LegId,
        name: String,
        destination: (LegId, Target),
    },
    /// Dialer: the contact's number rings; once answered the contact goes to `then`.
    CallingContact { contact: LegId, then: Target },
    /// The callee is being reached (ringing, or queued for a campaign).
    Ringing {
        caller: Caller,
        /// The caller's incoming INVITE still waits for its answer.
        unanswered: bool,
        callee: Callee,
    },
    /// Two parties talking.
    Connected { customer: Party, agent: Party },
    /// The customer hears music, the agent silence.
    Held { customer: Party, agent: Party },
    /// Blind transfer reaching its target. The transferring agent
    /// (`transfer.by_agent`) keeps its leg until the target rings or it hangs up.
    Transferring {
        customer: Party,
        agent: Option<LegId>,
        transfer: Transfer,
    },
    /// A blind transfer failed once the agent had left: the transferring
    /// agent is rung back (`transfer` targets them).
    RingingBack { customer: Party, transfer: Transfer },
    /// Consultative transfer: the customer on hold, the agent
    /// (`transfer.by_agent`) with the target (`transfer.leg`) once it answers.
    Consulting {
        customer: Party,
        agent: LegId,
        transfer: Transfer,
    },
    /// Three parties in one room.
    Conference {
        customer: Party,
        agent: Party,
        third: (LegId, Target),
        /// Legs the others do not hear.
        muted: Vec<LegId>,
    },
    /// Over.
    Ended,
}

impl State {
    /// The public view.
    pub(crate) fn kind(&self) -> CallState {
        match self {
            State::CallingAgent { .. } | State::CallingContact { .. } => CallState::Originating,
            State::Ringing { .. } => CallState::Ringing,
            State::Connected { .. } => CallState::Connected,
            State::Held { .. } => CallState::Held,
            State::Transferring { .. } | State::RingingBack { .. } => CallState::Transferring,
            State::Consulting { .. } => CallState::Consulting,
            State::Conference { .. } => CallState::Conference,
            State::Ended => CallState::Ended,
        }
    }

    /// The served party (customer, called number, called agent).
    pub(crate) fn customer(&self) -> Option<&Party> {
        match self {
            State::Connected { customer, .. }
            | State::Held { customer, .. }
            | State::Transferring { customer, .. }
            | State::RingingBack { customer, .. }
            | State::Consulting { customer, .. }
            | State::Conference { customer, .. } => Some(customer),
            _ => None,
        }
    }

    /// The served party's leg (also while it is being set up).
    pub(crate) fn customer_leg(&self) -> Option<LegId> {
        match self {
            State::CallingContact { contact, .. } => Some(*contact),
            State::Ringing {
                caller: Caller::Customer(c),
                ..
            } => Some(*c),
            s => s.customer().map(|c| c.leg),
        }
    }

    /// The agent side's leg and the controlling agent's username.
    pub(crate) fn agent(&self) -> Option<(LegId, Option<&str>)> {
        match self {
            State::CallingAgent { agent, name, .. }
            | State::Ringing {
                caller: Caller::Agent(agent, name),
                ..
            } => Some((*agent, Some(name))),
            State::Connected { agent, .. }
            | State::Held { agent, .. }
            | State::Conference { agent, .. } => Some((agent.leg, agent.agent.as_deref())),
            State::Transferring {
                agent: Some(agent),
                transfer,
                ..
            }
            | State::Consulting {
                agent, transfer, ..
            } => Some((*agent, Some(&transfer.by_agent))),
            _ => None,
        }
    }

    /// Consultation target or conference member.
    pub(crate) fn third(&self) -> Option<(LegId, &Target)> {
        match self {
            State::Consulting { transfer, .. } => Some((transfer.leg, &transfer.target)),
            State::Conference { third, .. } => Some((third.0, &third.1)),
            _ => None,
        }
    }

    /// Leg being set up and its target.
    pub(crate) fn pending(&self) -> Option<(LegId, &Target)> {
        match self {
            State::CallingAgent { destination, .. } => Some((destination.0, &destination.1)),
            State::Ringing { callee, .. } => Some((callee.leg, &callee.target)),
            _ => None,
        }
    }

    pub(crate) fn transfer(&self) -> Option<&Transfer> {
        match self {
            State::Transferring { transfer, .. }
            | State::RingingBack { transfer, .. }
            | State::Consulting { transfer, .. } => Some(transfer),
            _ => None,
        }
    }

    pub(crate) fn transfer_mut(&mut self) -> Option<&mut Transfer> {
        match self {
            State::Transferring { transfer, .. }
            | State::RingingBack { transfer, .. }
            | State::Consulting { transfer, .. } => Some(transfer),
            _ => None,
        }
    }

    /// Every live leg: customer, agent side, third party, callee, transfer
    /// target (in that order, which is the order they are hung up in).
    pub(crate) fn legs(&self) -> Vec<LegId> {
        match self {
            // The destination of a click-to-call is not dialled yet.
            State::CallingAgent { agent, .. } => vec![*agent],
            State::CallingContact { contact, .. } => vec![*contact],
            State::Ringing { caller, callee, .. } => vec![caller.leg(), callee.leg],
            State::Connected { customer, agent } | State::Held { customer, agent } => {
                vec![customer.leg, agent.leg]
            }
            State::Transferring {
                customer,
                agent,
                transfer,
            } => [Some(customer.leg), *agent, Some(transfer.leg)]
                .into_iter()
                .flatten()
                .collect(),
            State::RingingBack { customer, transfer } => vec![customer.leg, transfer.leg],
            State::Consulting {
                customer,
                agent,
                transfer,
            } => vec![customer.leg, *agent, transfer.leg],
            State::Conference {
                customer,
                agent,
                third,
                ..
            } => vec![customer.leg, agent.leg, third.0],
            State::Ended => Vec::new(),
        }
    }

    /// Agents engaged in this state, to release when the call ends: the
    /// agent side, the served agent, then any agent being reached.
    pub(crate) fn engaged_agents(&self) -> Vec<String> {
        if let State::CallingAgent { name, .. } = self {
            // Its destination was never dialled (nor its agent engaged).
            return vec![name.clone()];
        }
        let mut v: Vec<String> = self
            .agent()
            .and_then(|a| a.1)
            .map(str::to_string)
            .into_iter()
            .collect();
        v.extend(self.customer().and_then(|c| c.agent.clone()));
        let reached = [
            self.third().map(|t| t.1),
            self.pending().map(|p| p.1),
            self.transfer().map(|t| &t.target),
        ];
        for a in reached.into_iter().flatten().filter_map(agent_name) {
            if !v.contains(&a) {
                v.push(a);
            }
        }
        v
    }

    /// Invariants the types do not enforce (checked by the tests after every step).
    #[cfg(test)]
    pub(crate) fn violations(&self) -> Vec<String> {
        use crate::{TransferKind, TransferPhase};
        let mut v = Vec::new();
        let legs = self.legs();
        for (i, l) in legs.iter().enumerate() {
            if legs[..i].contains(l) {
                v.push(format!("leg {l} twice in {self:?}"));
            }
        }
        match self {
            State::CallingAgent { destination, .. } if legs.contains(&destination.0) => {
                v.push("the destination leg is already a party".into());
            }
            State::Transferring {
                agent, transfer, ..
            } => {
                if transfer.kind != TransferKind::Blind {
                    v.push("a consultative transfer in Transferring".into());
                }
                if agent.is_some() && transfer.phase != TransferPhase::Dialing {
                    v.push("the transferring agent kept once the target rang".into());
                }
                if transfer.phase == TransferPhase::Talking {
                    v.push("a blind transfer talking".into());
                }
            }
            State::RingingBack { transfer, .. }
                if transfer.kind != TransferKind::Blind
                    || transfer.target != Target::Agent(transfer.by_agent.clone())
                    || transfer.phase == TransferPhase::Talking =>
            {
                v.push("ringing back someone else than the transferring agent".into());
            }
            State::Consulting { transfer, .. } => {
                if transfer.kind != TransferKind::Consultative {
                    v.push("a blind transfer in Consulting".into());
                }
                if matches!(transfer.target, Target::Campaign(_)) {
                    v.push("consulting a campaign".into());
                }
            }
            State::Conference { muted, .. } => {
                for (i, m) in muted.iter().enumerate() {
                    if !legs.contains(m) || muted[..i].contains(m) {
                        v.push(format!("muted leg {m} is not a (single) party"));
                    }
                }
            }
            _ => {}
        }
        v
    }
}
