//! The per-call state machine.

use crate::{Group, LegId, MediaPlan, Target, Transfer, TransferKind, TransferPhase};

/// Where a call stands.
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

/// An agent (or supervisor) action on a live call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Put the other party on hold with music.
    Hold,
    /// Resume.
    Unhold,
    /// Blind transfer.
    BlindTransfer(Target),
    /// Start a consultation with a target.
    ConsultTransfer(Target),
    /// Complete the consultative transfer: customer bridged to the target.
    CompleteTransfer,
    /// Abandon the consultation (target ringing or talking); back with the customer.
    CancelTransfer,
    /// Turn the consultation into a three-way conference.
    Confer,
    /// Mute/unmute one party of a conference.
    Mute {
        /// Leg.
        leg: LegId,
        /// Muted?
        muted: bool,
    },
    /// End the call for everyone.
    Hangup,
    /// Attended transfer done by the agent's phone (REFER with Replaces): an
    /// established leg of another call becomes this call's agent side; the
    /// current agent leg is hung up and its agent released.
    AdoptAgentSide {
        /// The adopted leg (established, taken from another call).
        leg: LegId,
        /// Who is on it.
        target: Target,
    },
    /// The leg moves to another call: drop it WITHOUT hanging it up, and end
    /// this call (the other legs are hung up).
    Detach(LegId),
}

impl Command {
    /// Short name for logs and errors.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Hold => "hold",
            Command::Unhold => "unhold",
            Command::BlindTransfer(_) => "blind transfer",
            Command::ConsultTransfer(_) => "consultative transfer",
            Command::CompleteTransfer => "complete transfer",
            Command::CancelTransfer => "cancel transfer",
            Command::Confer => "confer",
            Command::Mute { .. } => "mute",
            Command::Hangup => "hang up",
            Command::AdoptAgentSide { .. } => "adopt the agent side",
            Command::Detach(_) => "detach",
        }
    }
}

/// What happened on a leg (reported by the SIP engine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The leg's destination is ringing (or the call was queued).
    Ringing(LegId),
    /// The leg answered.
    Answered(LegId),
    /// The leg could not be established (SIP status, 408 for timeout).
    Failed(LegId, u16),
    /// The leg's party hung up.
    HungUp(LegId),
    /// A campaign queue assigned this leg to an agent (it now rings that agent).
    Assigned(LegId, String),
}

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
    /// Tell the caller of a pending incoming leg that the far end rings (180).
    Progress(LegId),
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
    state: CallState,
    /// Incoming leg still waiting for its answer.
    origin: Option<LegId>,
    /// The party the agent serves (customer, called number, called agent).
    customer: Option<LegId>,
    /// Username when the served party is itself an agent (agent-to-agent call,
    /// or the consulted agent left with the controller after a conference).
    customer_agent: Option<String>,
    /// The agent side: leg and, when it is an agent, the username controlling the call.
    agent: Option<(LegId, Option<String>)>,
    /// Consultation target or conference member.
    third: Option<(LegId, Target)>,
    /// Leg being dialled during setup, and its target.
    pending: Option<(LegId, Target)>,
    transfer: Option<Transfer>,
    /// The caller waits in a campaign queue (music until an agent answers).
    queued: bool,
    /// A failed blind transfer is ringing the transferring agent back.
    returning: bool,
    /// Dialer call: where the answered contact goes.
    dialer_then: Option<Target>,
    /// The pending leg's ringing was already reported.
    pending_rang: bool,
    music: String,
    muted: Vec<LegId>,
    plan: MediaPlan,
}

fn refuse<T>(msg: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal(msg.into()))
}

fn agent_name(t: &Target) -> Option<String> {
    match t {
        Target::Agent(a) => Some(a.clone()),
        _ => None,
    }
}

impl Call {
    fn blank(id: &str, number: u64, music: &str) -> Call {
        Call {
            id: id.to_string(),
            leg_base: number << 16,
            next_leg: 1,
            state: CallState::Ringing,
            origin: None,
            customer: None,
            customer_agent: None,
            agent: None,
            third: None,
            pending: None,
            transfer: None,
            queued: false,
            returning: false,
            dialer_then: None,
            pending_rang: false,
            music: music.to_string(),
            muted: Vec::new(),
            plan: MediaPlan::default(),
        }
    }

    fn new_leg(&mut self) -> LegId {
        let l = self.leg_base | self.next_leg;
        self.next_leg += 1;
        l
    }

    /// A call arriving on an incoming leg (customer or trunk) towards `to`.
    /// Returns the call, the id for the incoming leg and the first actions.
    pub fn incoming(id: &str, number: u64, music: &str, to: Target) -> (Call, LegId, Vec<Action>) {
        let mut c = Call::blank(id, number, music);
        let customer = c.new_leg();
        c.customer = Some(customer);
        c.origin = Some(customer);
        let leg = c.new_leg();
        c.pending = Some((leg, to.clone()));
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
        let a = c.new_leg();
        c.agent = Some((a, Some(agent.to_string())));
        c.origin = Some(a);
        let leg = c.new_leg();
        c.pending = Some((leg, to.clone()));
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
        c.state = CallState::Originating;
        let a = c.new_leg();
        c.agent = Some((a, Some(agent.to_string())));
        let leg = c.new_leg();
        c.pending = Some((leg, to.clone()));
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
        c.state = CallState::Originating;
        let customer = c.new_leg();
        c.customer = Some(customer);
        c.dialer_then = Some(then);
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
        self.state
    }
    /// The served party's leg.
    pub fn customer_leg(&self) -> Option<LegId> {
        self.customer
    }
    /// The agent side's leg and the controlling agent's username (None for an external party).
    pub fn agent(&self) -> Option<(LegId, Option<&str>)> {
        self.agent.as_ref().map(|(l, a)| (*l, a.as_deref()))
    }
    /// Username of the agent controlling the call.
    pub fn controller(&self) -> Option<&str> {
        self.agent.as_ref().and_then(|(_, a)| a.as_deref())
    }
    /// Transfer in progress.
    pub fn transfer(&self) -> Option<&Transfer> {
        self.transfer.as_ref()
    }
    /// Third party (consultation target / conference member).
    pub fn third(&self) -> Option<(LegId, &Target)> {
        self.third.as_ref().map(|(l, t)| (*l, t))
    }
    /// Leg being set up and its target.
    pub fn pending(&self) -> Option<(LegId, &Target)> {
        self.pending.as_ref().map(|(l, t)| (*l, t))
    }
    /// Current media plan.
    pub fn plan(&self) -> &MediaPlan {
        &self.plan
    }
    /// Music class.
    pub fn music(&self) -> &str {
        &self.music
    }
    /// Every live leg of the call.
    pub fn legs(&self) -> Vec<LegId> {
        let mut v: Vec<LegId> = Vec::new();
        let cands = [
            self.customer,
            self.agent.as_ref().map(|a| a.0),
            self.third.as_ref().map(|t| t.0),
            // While the agent's phone rings first, the destination is not dialled yet.
            self.pending
                .as_ref()
                .filter(|_| self.state != CallState::Originating)
                .map(|p| p.0),
            self.transfer.as_ref().map(|t| t.leg),
        ];
        for l in cands.into_iter().flatten() {
            if !v.contains(&l) {
                v.push(l);
            }
        }
        v
    }

    fn compute_plan(&self) -> MediaPlan {
        let music = Some(self.music.clone());
        let agent = self.agent.as_ref().map(|a| a.0);
        let one = |l: Option<LegId>| l.map(|l| vec![l]).unwrap_or_default();
        let mut groups = Vec::new();
        match self.state {
            CallState::Originating | CallState::Ended => {}
            CallState::Ringing => {
                // Still queued even once an agent is offered the call (it rings).
                if self.queued || matches!(self.pending, Some((_, Target::Campaign(_)))) {
                    groups.push(Group {
                        legs: one(self.customer),
                        music,
                    });
                }
            }
            CallState::Connected => {
                groups.push(Group {
                    legs: [self.customer, agent].into_iter().flatten().collect(),
                    music: None,
                });
            }
            CallState::Held | CallState::Transferring => {
                groups.push(Group {
                    legs: one(self.customer),
                    music,
                });
                groups.push(Group {
                    legs: one(agent),
                    music: None,
                });
            }
            CallState::Consulting => {
                groups.push(Group {
                    legs: one(self.customer),
                    music,
                });
                let mut legs = one(agent);
                if let (Some((l, _)), Some(t)) = (&self.third, &self.transfer) {
                    if t.phase == TransferPhase::Talking {
                        legs.push(*l);
                    }
                }
                groups.push(Group { legs, music: None });
            }
            CallState::Conference => {
                let legs = [self.customer, agent, self.third.as_ref().map(|t| t.0)]
                    .into_iter()
                    .flatten()
                    .collect();
                groups.push(Group { legs, music: None });
            }
        }
        groups.retain(|g| !g.legs.is_empty());
        MediaPlan {
            groups,
            muted: self.muted.clone(),
        }
    }

    fn push_plan(&mut self, out: &mut Vec<Action>) {
        let p = self.compute_plan();
        if p != self.plan {
            self.plan = p.clone();
            out.push(Action::Media(p));
        }
    }

    fn log(out: &mut Vec<Action>, kind: &'static str, detail: impl Into<String>) {
        out.push(Action::Log {
            kind,
            detail: detail.into(),
        });
    }

    /// Apply an agent command. Refused (with the reason) when the state does not allow it.
    /// Repeating a command whose effect already holds is accepted and does nothing.
    pub fn command(&mut self, cmd: Command) -> Result<Vec<Action>, Refusal> {
        let mut out = Vec::new();
        let state = self.state;
        let name = cmd.name();
        match (&cmd, state) {
            (_, CallState::Ended) => return refuse(format!("cannot {name}: the call has ended")),
            (Command::Hangup, _) => {
                for l in self.legs() {
                    out.push(Action::Hangup(l));
                }
                self.finish(&mut out, "hung up by the agent");
                return Ok(out);
            }
            (Command::Detach(leg), _) => {
                if !self.legs().contains(leg) {
                    return refuse(format!("cannot detach leg {leg}: not part of this call"));
                }
                for l in self.legs() {
                    if l != *leg {
                        out.push(Action::Hangup(l));
                    }
                }
                Self::log(
                    &mut out,
                    "LEG_DETACHED",
                    format!("leg {leg} moved to another call"),
                );
                self.finish(&mut out, "its party moved to another call");
                return Ok(out);
            }
            (Command::AdoptAgentSide { leg, target }, CallState::Connected | CallState::Held) => {
                if self.legs().contains(leg) {
                    return refuse(format!(
                        "cannot {name}: leg {leg} is already part of this call"
                    ));
                }
                if self.customer.is_none() {
                    return refuse(format!("cannot {name}: there is nobody to transfer"));
                }
                let Some((old, old_agent)) = self.agent.take() else {
                    return refuse(format!("cannot {name}: the call has no agent side"));
                };
                if old_agent.is_some() && agent_name(target) == old_agent {
                    self.agent = Some((old, old_agent));
                    return refuse("cannot transfer a call to yourself");
                }
                if let Some(b) = agent_name(target) {
                    out.push(Action::AgentEngaged(b));
                }
                out.push(Action::Hangup(old));
                if let Some(a) = old_agent {
                    out.push(Action::AgentReleased(a));
                }
                self.agent = Some((*leg, agent_name(target)));
                self.state = CallState::Connected;
                Self::log(
                    &mut out,
                    "TRANSFER_COMPLETED",
                    format!("to {target} (by phone)"),
                );
            }
            (Command::AdoptAgentSide { .. }, s) => {
                return refuse(format!("cannot {name} while the call is {}", state_name(s)));
            }
            (Command::Hold, CallState::Held) | (Command::Unhold, CallState::Connected) => {
                return Ok(out)
            }
            (Command::Hold, CallState::Connected) => {
                self.state = CallState::Held;
                Self::log(&mut out, "HOLD", "");
            }
            (Command::Unhold, CallState::Held) => {
                self.state = CallState::Connected;
                Self::log(&mut out, "UNHOLD", "");
            }
            (Command::Hold | Command::Unhold, s) => {
                return refuse(format!("cannot {name} while the call is {}", state_name(s)));
            }
            (
                Command::BlindTransfer(t) | Command::ConsultTransfer(t),
                CallState::Transferring | CallState::Consulting,
            ) => {
                let blind = matches!(cmd, Command::BlindTransfer(_));
                let same = self
                    .transfer
                    .as_ref()
                    .is_some_and(|tr| &tr.target == t && (tr.kind == TransferKind::Blind) == blind);
                if same {
                    return Ok(out);
                }
                return refuse(format!(
                    "cannot start a {name}: a transfer is already in progress"
                ));
            }
            (
                Command::BlindTransfer(t) | Command::ConsultTransfer(t),
                CallState::Connected | CallState::Held,
            ) => {
                let blind = matches!(cmd, Command::BlindTransfer(_));
                let Some(agent) = self.controller().map(str::to_string) else {
                    return refuse(format!(
                        "cannot start a {name}: no agent controls this call"
                    ));
                };
                if self.customer.is_none() {
                    return refuse(format!(
                        "cannot start a {name}: there is nobody to transfer"
                    ));
                }
                if *t == Target::Agent(agent.clone()) {
                    return refuse("cannot transfer a call to yourself");
                }
                if self
                    .customer_agent
                    .as_ref()
                    .is_some_and(|c| *t == Target::Agent(c.clone()))
                {
                    return refuse(format!(
                        "cannot transfer the call to {t}: they are already on it"
                    ));
                }
                if !blind && matches!(t, Target::Campaign(_)) {
                    return refuse("a campaign can only be the target of a blind transfer");
                }
                let leg = self.new_leg();
                let kind = if blind {
                    TransferKind::Blind
                } else {
                    TransferKind::Consultative
                };
                self.transfer = Some(Transfer {
                    kind,
                    target: t.clone(),
                    leg,
                    phase: TransferPhase::Dialing,
                    by_agent: agent,
                });
                if blind {
                    self.state = CallState::Transferring;
                    Self::log(&mut out, "TRANSFER_BLIND", format!("to {t}"));
                } else {
                    self.third = Some((leg, t.clone()));
                    self.state = CallState::Consulting;
                    Self::log(&mut out, "TRANSFER_CONSULT", format!("to {t}"));
                }
                if let Target::Agent(b) = t {
                    out.push(Action::AgentEngaged(b.clone()));
                }
                out.push(Action::Dial {
                    leg,
                    target: t.clone(),
                });
            }
            (Command::BlindTransfer(_) | Command::ConsultTransfer(_), s) => {
                return refuse(format!(
                    "cannot start a {name} while the call is {}",
                    state_name(s)
                ));
            }
            (Command::CompleteTransfer, CallState::Consulting) => {
                let tr = self.transfer.clone().expect("consulting has a transfer");
                if tr.phase != TransferPhase::Talking {
                    return refuse("cannot complete the transfer before the target answers (cancel it instead)");
                }
                self.complete_consult(&mut out, tr);
            }
            (Command::CancelTransfer, CallState::Consulting) => {
                let tr = self.transfer.take().expect("consulting has a transfer");
                self.third = None;
                out.push(Action::Hangup(tr.leg));
                if let Some(b) = agent_name(&tr.target) {
                    out.push(Action::AgentReleased(b));
                }
                self.state = CallState::Connected;
                Self::log(&mut out, "TRANSFER_CANCELLED", format!("to {}", tr.target));
            }
            (Command::CompleteTransfer | Command::CancelTransfer, s) => {
                return refuse(format!(
                    "cannot {name}: no consultative transfer in progress (call is {})",
                    state_name(s)
                ));
            }
            (Command::Confer, CallState::Conference) => return Ok(out),
            (Command::Confer, CallState::Consulting) => {
                let tr = self.transfer.clone().expect("consulting has a transfer");
                if tr.phase != TransferPhase::Talking {
                    return refuse("cannot confer before the consulted party answers");
                }
                self.transfer = None;
                self.state = CallState::Conference;
                Self::log(&mut out, "CONFERENCE", format!("with {}", tr.target));
            }
            (Command::Confer, s) => {
                return refuse(format!(
                    "cannot confer: no answered consultation (call is {})",
                    state_name(s)
                ));
            }
            (Command::Mute { leg, muted }, CallState::Conference) => {
                if !self.legs().contains(leg) {
                    return refuse(format!("leg {leg} is not part of this conference"));
                }
                let already = self.muted.contains(leg) == *muted;
                self.muted.retain(|l| l != leg);
                if *muted {
                    self.muted.push(*leg);
                }
                if !already {
                    Self::log(
                        &mut out,
                        if *muted { "MUTE" } else { "UNMUTE" },
                        format!("leg {leg}"),
                    );
                }
            }
            (Command::Mute { .. }, s) => {
                return refuse(format!(
                    "cannot mute: only conference parties can be muted (call is {})",
                    state_name(s)
                ));
            }
        }
        self.push_plan(&mut out);
        Ok(out)
    }

    /// Apply a leg event.
    pub fn on_event(&mut self, ev: Event) -> Vec<Action> {
        let mut out = Vec::new();
        if self.state == CallState::Ended {
            return out;
        }
        match ev {
            Event::Assigned(leg, agent) => {
                if self.pending.as_ref().is_some_and(|p| p.0 == leg) {
                    // The caller stays queued (with music) while the offered agent rings.
                    self.queued = true;
                }
                let slot = match self.transfer.as_mut().filter(|t| t.leg == leg) {
                    Some(tr) => Some(&mut tr.target),
                    None => self
                        .pending
                        .as_mut()
                        .filter(|p| p.0 == leg)
                        .map(|p| &mut p.1),
                };
                // A leg of no queue of this call (stale event): nobody to engage.
                if let Some(target) = slot {
                    let previous = std::mem::replace(target, Target::Agent(agent.clone()));
                    if let Some(p) = agent_name(&previous) {
                        // The queue offers the caller anew: the previous offer is over.
                        out.push(Action::AgentReleased(p));
                    }
                    out.push(Action::AgentEngaged(agent.clone()));
                    Self::log(&mut out, "QUEUE_ASSIGNED", format!("to agent {agent}"));
                }
            }
            Event::Ringing(leg) => self.on_ringing(leg, &mut out),
            Event::Answered(leg) => self.on_answered(leg, &mut out),
            Event::Failed(leg, status) => self.on_failed(leg, status, &mut out),
            Event::HungUp(leg) => self.on_hangup(leg, &mut out),
        }
        if self.state != CallState::Ended {
            self.push_plan(&mut out);
        }
        out
    }

    fn on_ringing(&mut self, leg: LegId, out: &mut Vec<Action>) {
        if self.pending.as_ref().is_some_and(|p| p.0 == leg) {
            if std::mem::replace(&mut self.pending_rang, true) {
                return; // already reported (a queue reports it when the caller is queued)
            }
            Self::log(out, "RINGING", "");
            if let Some(o) = self.origin {
                out.push(Action::Progress(o));
            }
            return;
        }
        let Some(tr) = self.transfer.as_mut().filter(|t| t.leg == leg) else {
            return;
        };
        if tr.phase != TransferPhase::Dialing {
            return;
        }
        tr.phase = TransferPhase::Ringing;
        let blind = tr.kind == TransferKind::Blind;
        Self::log(out, "TRANSFER_RINGING", "");
        if blind && !self.returning {
            // The target is reached: release the transferring agent now.
            if let Some((l, a)) = self.agent.take() {
                out.push(Action::Hangup(l));
                if let Some(a) = a {
                    out.push(Action::AgentReleased(a.clone()));
                    Self::log(out, "AGENT_RELEASED", a);
                }
            }
        }
    }

    fn on_answered(&mut self, leg: LegId, out: &mut Vec<Action>) {
        if self.state == CallState::Originating && self.customer == Some(leg) {
            if let Some(then) = self.dialer_then.take() {
                self.state = CallState::Ringing;
                Self::log(out, "CONTACT_ANSWERED", "");
                let l = self.new_leg();
                self.pending = Some((l, then.clone()));
                self.pending_rang = false;
                out.push(Action::Dial {
                    leg: l,
                    target: then,
                });
                return;
            }
        }
        if self.state == CallState::Originating && self.agent.as_ref().is_some_and(|a| a.0 == leg) {
            self.state = CallState::Ringing;
            Self::log(out, "AGENT_ANSWERED", "");
            if let Some((l, t)) = self.pending.clone() {
                if let Target::Agent(b) = &t {
                    out.push(Action::AgentEngaged(b.clone()));
                }
                out.push(Action::Dial { leg: l, target: t });
            }
            return;
        }
        if let Some((l, t)) = self.pending.clone().filter(|p| p.0 == leg) {
            self.pending = None;
            if self.customer.is_some() {
                // Customer called in (or was dialled): the answering side is the agent side.
                self.agent = Some((l, agent_name(&t)));
            } else {
                self.customer = Some(l);
                self.customer_agent = agent_name(&t);
            }
            if let Some(o) = self.origin.take() {
                out.push(Action::Answer(o));
            }
            self.state = CallState::Connected;
            Self::log(out, "ANSWERED", format!("by {t}"));
            return;
        }
        let Some(tr) = self.transfer.clone().filter(|t| t.leg == leg) else {
            return;
        };
        match tr.kind {
            TransferKind::Blind => {
                if let Some((l, a)) = self.agent.take() {
                    out.push(Action::Hangup(l));
                    if let Some(a) = a {
                        out.push(Action::AgentReleased(a));
                    }
                }
                self.agent = Some((leg, agent_name(&tr.target)));
                self.transfer = None;
                self.state = CallState::Connected;
                Self::log(
                    out,
                    if self.returning {
                        "TRANSFER_RETURNED"
                    } else {
                        "TRANSFER_COMPLETED"
                    },
                    format!("to {}", tr.target),
                );
                self.returning = false;
            }
            TransferKind::Consultative => {
                if let Some(t) = self.transfer.as_mut() {
                    t.phase = TransferPhase::Talking;
                }
                Self::log(out, "CONSULT_ANSWERED", format!("by {}", tr.target));
            }
        }
    }

    fn on_failed(&mut self, leg: LegId, status: u16, out: &mut Vec<Action>) {
        if self.state == CallState::Originating && self.customer == Some(leg) {
            self.customer = None;
            self.finish(out, &format!("contact not reached ({status})"));
            return;
        }
        if self.state == CallState::Originating && self.agent.as_ref().is_some_and(|a| a.0 == leg) {
            self.finish(out, &format!("agent's phone did not answer ({status})"));
            return;
        }
        if self.pending.as_ref().is_some_and(|p| p.0 == leg) {
            let origin = self.origin.take();
            if let Some(o) = origin {
                out.push(Action::Reject(o, status));
            }
            // Whoever already answered (the agent's phone in click-to-call, the
            // contact in a dialer call) is hung up; the origin was rejected.
            for l in self.legs() {
                if l != leg && Some(l) != origin {
                    out.push(Action::Hangup(l));
                }
            }
            self.finish(out, &format!("not answered ({status})"));
            return;
        }
        let Some(tr) = self.transfer.clone().filter(|t| t.leg == leg) else {
            return;
        };
        if let Some(b) = agent_name(&tr.target) {
            out.push(Action::AgentReleased(b));
        }
        self.transfer = None;
        if tr.kind == TransferKind::Consultative {
            self.third = None;
            self.state = CallState::Connected;
            Self::log(
                out,
                "TRANSFER_DECLINED",
                format!("{} answered {status}", tr.target),
            );
            return;
        }
        Self::log(
            out,
            "TRANSFER_FAILED",
            format!("{} answered {status}", tr.target),
        );
        if self.agent.is_some() {
            // Failed before it rang: the agent never left, back with the customer.
            self.state = CallState::Connected;
        } else if !self.returning {
            // The customer is not lost: ring the transferring agent back.
            self.returning = true;
            let back = self.new_leg();
            let target = Target::Agent(tr.by_agent.clone());
            self.transfer = Some(Transfer {
                kind: TransferKind::Blind,
                target: target.clone(),
                leg: back,
                phase: TransferPhase::Dialing,
                by_agent: tr.by_agent,
            });
            out.push(Action::AgentEngaged(
                agent_name(&target).unwrap_or_default(),
            ));
            Self::log(out, "TRANSFER_RETURN", format!("ringing {target} back"));
            out.push(Action::Dial { leg: back, target });
        } else {
            if let Some(c) = self.customer {
                out.push(Action::Hangup(c));
            }
            self.finish(
                out,
                "transfer failed and the agent could not be reached back",
            );
        }
    }

    fn on_hangup(&mut self, leg: LegId, out: &mut Vec<Action>) {
        let is_customer = self.customer == Some(leg);
        let is_agent = self.agent.as_ref().is_some_and(|a| a.0 == leg);
        let is_third = self.third.as_ref().is_some_and(|t| t.0 == leg);
        let is_transfer = self.transfer.as_ref().is_some_and(|t| t.leg == leg);
        match self.state {
            CallState::Conference if is_customer || is_agent || is_third => {
                // Any party leaving leaves the other two connected.
                let third = self.third.take().expect("conference has a third party");
                if is_customer {
                    if let Some(c) = self.customer_agent.take() {
                        out.push(Action::AgentReleased(c));
                    }
                    self.customer = Some(third.0);
                    self.customer_agent = agent_name(&third.1);
                    Self::log(out, "CONFERENCE_LEFT", "customer");
                } else if is_agent {
                    if let Some(a) = self.agent.take().and_then(|a| a.1) {
                        out.push(Action::AgentReleased(a.clone()));
                        Self::log(out, "CONFERENCE_LEFT", a);
                    }
                    self.agent = Some((third.0, agent_name(&third.1)));
                } else {
                    if let Some(b) = agent_name(&third.1) {
                        out.push(Action::AgentReleased(b));
                    }
                    Self::log(out, "CONFERENCE_LEFT", third.1.to_string());
                }
                self.muted.clear();
                self.state = CallState::Connected;
            }
            CallState::Consulting if is_agent => {
                let tr = self.transfer.clone().expect("consulting has a transfer");
                if tr.phase == TransferPhase::Talking {
                    // Agent hanging up mid-consultation completes the transfer.
                    out.push(Action::AgentReleased(tr.by_agent.clone()));
                    self.transfer = None;
                    self.third = None;
                    self.agent = Some((tr.leg, agent_name(&tr.target)));
                    self.state = CallState::Connected;
                    Self::log(
                        out,
                        "TRANSFER_COMPLETED",
                        format!("to {} (agent hung up)", tr.target),
                    );
                } else {
                    // Still ringing: carry on as a blind transfer.
                    self.agent = None;
                    out.push(Action::AgentReleased(tr.by_agent.clone()));
                    self.third = None;
                    if let Some(t) = self.transfer.as_mut() {
                        t.kind = TransferKind::Blind;
                    }
                    self.state = CallState::Transferring;
                    Self::log(
                        out,
                        "TRANSFER_BLIND",
                        format!("to {} (agent hung up while it rang)", tr.target),
                    );
                }
            }
            CallState::Consulting if is_third || is_transfer => {
                let tr = self.transfer.take().expect("consulting has a transfer");
                self.third = None;
                if let Some(b) = agent_name(&tr.target) {
                    out.push(Action::AgentReleased(b));
                }
                self.state = CallState::Connected;
                Self::log(out, "TRANSFER_DECLINED", format!("{} hung up", tr.target));
            }
            CallState::Transferring if is_agent => {
                // The agent left before the target rang: the transfer goes on.
                if let Some(a) = self.agent.take().and_then(|a| a.1) {
                    out.push(Action::AgentReleased(a));
                }
            }
            CallState::Transferring if is_transfer => self.on_failed(leg, 480, out),
            CallState::Ringing | CallState::Originating
                if self.pending.as_ref().is_some_and(|p| p.0 == leg) =>
            {
                self.on_failed(leg, 480, out)
            }
            _ if is_customer || is_agent || is_third || is_transfer => {
                for l in self.legs() {
                    if l != leg {
                        out.push(Action::Hangup(l));
                    }
                }
                let who = if is_customer {
                    "customer"
                } else {
                    "agent side"
                };
                self.finish(out, &format!("{who} hung up"));
            }
            _ => {}
        }
    }

    fn complete_consult(&mut self, out: &mut Vec<Action>, tr: Transfer) {
        if let Some((agent_leg, agent)) = self.agent.take() {
            out.push(Action::Hangup(agent_leg));
            if let Some(a) = agent {
                out.push(Action::AgentReleased(a));
            }
        }
        self.transfer = None;
        self.third = None;
        self.agent = Some((tr.leg, agent_name(&tr.target)));
        self.state = CallState::Connected;
        Self::log(out, "TRANSFER_COMPLETED", format!("to {}", tr.target));
    }

    fn finish(&mut self, out: &mut Vec<Action>, why: &str) {
        if self.state == CallState::Originating {
            // The destination was never dialled (nor its agent engaged).
            self.pending = None;
        }
        let mut released = Vec::new();
        if let Some((_, Some(a))) = self.agent.take() {
            released.push(a);
        }
        released.extend(self.customer_agent.take());
        for t in [
            self.third.take().map(|t| t.1),
            self.pending.take().map(|p| p.1),
            self.transfer.take().map(|t| t.target),
        ]
        .into_iter()
        .flatten()
        {
            if let Some(a) = agent_name(&t) {
                if !released.contains(&a) {
                    released.push(a);
                }
            }
        }
        for a in released {
            out.push(Action::AgentReleased(a));
        }
        self.customer = None;
        self.origin = None;
        self.muted.clear();
        self.state = CallState::Ended;
        Self::log(out, "HANGUP", why);
        self.push_plan(out);
        out.push(Action::Ended);
    }
}

fn state_name(s: CallState) -> &'static str {
    match s {
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
