//! One call: its identity, its [`State`] and the media plan last announced;
//! the ways a call starts and what it shows to the switch.

use crate::state::{Callee, Caller, State};
use crate::{CallState, LegId, MediaPlan, Supervision, Target, Transfer};

/// What the engine must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Create an outgoing leg towards a target.
    Dial {
        /// Leg id to use.
        leg: LegId,
        /// Destination.
        target: Target,
    },
    /// Answer a pending incoming leg (200 OK).
    Answer(LegId),
    /// Refuse a pending incoming leg with a status.
    Reject(LegId, u16),
    /// End a leg: BYE when established, CANCEL when still ringing.
    Hangup(LegId),
    /// Rearrange the media rooms.
    Media(MediaPlan),
    /// Record a call event done by someone else than the controlling agent
    /// (a supervisor).
    LogBy {
        /// Event kind (`SUPERVISE_START`...).
        kind: &'static str,
        /// Detail text.
        detail: String,
        /// Who did it.
        by: String,
    },
    /// Record a call event.
    Log {
        /// Event kind (`HOLD`, `TRANSFER_COMPLETED`...).
        kind: &'static str,
        /// Detail text.
        detail: String,
    },
    /// An agent now handles this call (or is ringing for it).
    AgentEngaged(String),
    /// An agent is done with this call.
    AgentReleased(String),
    /// A supervisor's phone is done with this call (no after-call work:
    /// the supervisor did not handle it).
    SupervisorReleased(String),
    /// Tell the caller of a pending incoming leg that the far end rings (180).
    Progress(LegId),
    /// Open early media toward the caller of a pending incoming leg (183
    /// with our SDP answer): it hears the far end before the answer.
    EarlyMedia(LegId),
    /// The call is over.
    Ended,
}

/// Why a command is not possible now (HTTP 409).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

/// One call: its parties, state and transfer.
#[derive(Debug, Clone)]
pub struct Call {
    /// Call id.
    pub id: String,
    leg_base: u64,
    next_leg: u64,
    pub(crate) state: State,
    music: String,
    plan: MediaPlan,
    /// Supervisors on the call, in the order they came.
    pub(crate) supervisions: Vec<Supervision>,
    /// The agent-side leg supervisors last followed.
    pub(crate) followed: Option<LegId>,
}

pub(crate) fn refuse<T>(msg: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal(msg.into()))
}

impl Call {
    /// A call numbered `number` (its legs are numbered from `number << 16`),
    /// in no state yet.
    fn blank(id: &str, number: u64, music: &str) -> Call {
        Call {
            id: id.to_string(),
            leg_base: number << 16,
            next_leg: 1,
            state: State::Ended,
            music: music.to_string(),
            plan: MediaPlan::default(),
            supervisions: Vec::new(),
            followed: None,
        }
    }

    pub(crate) fn new_leg(&mut self) -> LegId {
        let l = self.leg_base | self.next_leg;
        self.next_leg += 1;
        l
    }

    /// A call arriving on an incoming leg (customer or trunk) towards `to`.
    /// Returns the call, the id for the incoming leg and the first actions.
    pub fn incoming(id: &str, number: u64, music: &str, to: Target) -> (Call, LegId, Vec<Action>) {
        let mut c = Call::blank(id, number, music);
        let (customer, leg) = (c.new_leg(), c.new_leg());
        c.state = State::Ringing {
            caller: Caller::Customer(customer),
            unanswered: true,
            callee: Callee::new(leg, to.clone()),
        };
        let mut out = vec![Action::Log {
            kind: "INCOMING",
            detail: format!("to {to}"),
        }];
        if let Target::Agent(a) = &to {
            out.push(Action::AgentEngaged(a.clone()));
        }
        out.push(Action::Dial { leg, target: to });
        c.push_plan(&mut out);
        (c, customer, out)
    }

    /// A call placed from an agent's own phone (its incoming leg) to `to`.
    pub fn from_agent_phone(
        id: &str,
        number: u64,
        music: &str,
        agent: &str,
        to: Target,
    ) -> (Call, LegId, Vec<Action>) {
        let mut c = Call::blank(id, number, music);
        let (a, leg) = (c.new_leg(), c.new_leg());
        c.state = State::Ringing {
            caller: Caller::Agent(a, agent.to_string()),
            unanswered: true,
            callee: Callee::new(leg, to.clone()),
        };
        let mut out = vec![
            Action::AgentEngaged(agent.to_string()),
            Action::Log {
                kind: "DIAL",
                detail: format!("{agent} dials {to}"),
            },
        ];
        if let Target::Agent(b) = &to {
            out.push(Action::AgentEngaged(b.clone()));
        }
        out.push(Action::Dial { leg, target: to });
        c.push_plan(&mut out);
        (c, a, out)
    }

    /// Click-to-call from the console: ring the agent's phone, then `to`.
    pub fn agent_originated(
        id: &str,
        number: u64,
        music: &str,
        agent: &str,
        to: Target,
    ) -> (Call, Vec<Action>) {
        let mut c = Call::blank(id, number, music);
        let (a, leg) = (c.new_leg(), c.new_leg());
        c.state = State::CallingAgent {
            agent: a,
            name: agent.to_string(),
            destination: (leg, to.clone()),
        };
        let out = vec![
            Action::AgentEngaged(agent.to_string()),
            Action::Log {
                kind: "DIAL",
                detail: format!("{agent} dials {to} from the console"),
            },
            Action::Dial {
                leg: a,
                target: Target::Agent(agent.to_string()),
            },
        ];
        (c, out)
    }

    /// Dialer call: ring the contact's number first; once answered, send it to `then`
    /// (a campaign queue) which finds an agent.
    pub fn dialer(
        id: &str,
        number: u64,
        music: &str,
        contact: Target,
        then: Target,
    ) -> (Call, Vec<Action>) {
        let mut c = Call::blank(id, number, music);
        let customer = c.new_leg();
        c.state = State::CallingContact {
            contact: customer,
            then,
        };
        let out = vec![
            Action::Log {
                kind: "DIALER",
                detail: format!("dialing {contact}"),
            },
            Action::Dial {
                leg: customer,
                target: contact,
            },
        ];
        (c, out)
    }

    /// Current state.
    pub fn state(&self) -> CallState {
        self.state.kind()
    }
    /// The served party's leg.
    pub fn customer_leg(&self) -> Option<LegId> {
        self.state.customer_leg()
    }
    /// The agent side's leg and the controlling agent's username (None for an external party).
    pub fn agent(&self) -> Option<(LegId, Option<&str>)> {
        self.state.agent()
    }
    /// Username of the agent controlling the call.
    pub fn controller(&self) -> Option<&str> {
        self.state.agent().and_then(|a| a.1)
    }
    /// Transfer in progress.
    pub fn transfer(&self) -> Option<&Transfer> {
        self.state.transfer()
    }
    /// Third party (consultation target / conference member).
    pub fn third(&self) -> Option<(LegId, &Target)> {
        self.state.third()
    }
    /// Leg being set up and its target.
    pub fn pending(&self) -> Option<(LegId, &Target)> {
        self.state.pending()
    }
    /// Current media plan.
    pub fn plan(&self) -> &MediaPlan {
        &self.plan
    }
    /// Music class.
    pub fn music(&self) -> &str {
        &self.music
    }
    /// Every live leg of the call (supervisors' phones last).
    pub fn legs(&self) -> Vec<LegId> {
        let mut v = self.state.legs();
        v.extend(self.supervisions.iter().map(|s| s.leg));
        v
    }

    /// Announce the media plan of the current state if it changed.
    pub(crate) fn push_plan(&mut self, out: &mut Vec<Action>) {
        self.follow_agent(out);
        let p = self.supervised_plan(self.state.media_plan(&self.music));
        if p != self.plan {
            self.plan = p.clone();
            out.push(Action::Media(p));
        }
    }

    pub(crate) fn log(out: &mut Vec<Action>, kind: &'static str, detail: impl Into<String>) {
        out.push(Action::Log {
            kind,
            detail: detail.into(),
        });
    }

    /// Move out the state to build the next one from its data.
    pub(crate) fn take_state(&mut self) -> State {
        std::mem::replace(&mut self.state, State::Ended)
    }

    /// End the call, releasing every agent engaged in the current state.
    pub(crate) fn finish(&mut self, out: &mut Vec<Action>, why: &str) {
        let engaged = self.state.engaged_agents();
        self.finish_releasing(out, engaged, why);
    }

    /// End the call, releasing these agents.
    pub(crate) fn finish_releasing(
        &mut self,
        out: &mut Vec<Action>,
        engaged: Vec<String>,
        why: &str,
    ) {
        self.end_supervisions(out);
        for a in engaged {
            out.push(Action::AgentReleased(a));
        }
        self.state = State::Ended;
        Self::log(out, "HANGUP", why);
        self.push_plan(out);
        out.push(Action::Ended);
    }
}
