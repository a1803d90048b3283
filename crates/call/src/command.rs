//! Agent commands: each is accepted only in the states where it makes sense,
//! otherwise refused with a message saying why (shown to the agent as is).

use crate::call::refuse;
use crate::state::{Party, State};
use crate::{Action, Call, CallState, LegId, Refusal, SupervisorAction, Target, TransferKind};

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
    /// A supervisor starts supervising, changes mode, takes over or stops.
    Supervise {
        /// The supervisor (console user).
        supervisor: String,
        /// The extension to ring when the supervision starts.
        phone: String,
        /// What the supervisor asks for.
        action: SupervisorAction,
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
            Command::Supervise { .. } => "supervise",
        }
    }
}

impl Call {
    /// Apply an agent command. Refused (with the reason) when the state does not allow it;
    /// a refused command leaves the call untouched.
    /// Repeating a command whose effect already holds is accepted and does nothing.
    pub fn command(&mut self, cmd: Command) -> Result<Vec<Action>, Refusal> {
        let mut out = Vec::new();
        let name = cmd.name();
        if self.state() == CallState::Ended {
            return refuse(format!("cannot {name}: the call has ended"));
        }
        match cmd {
            Command::Hangup => {
                // Supervisors' phones are hung up as the call finishes.
                for l in self.state.legs() {
                    out.push(Action::Hangup(l));
                }
                self.finish(&mut out, "hung up by the agent");
                return Ok(out);
            }
            Command::Detach(leg) => {
                self.detach(leg, &mut out)?;
                return Ok(out);
            }
            Command::AdoptAgentSide { leg, target } => {
                self.adopt_agent_side(leg, target, &mut out)?
            }
            Command::Hold => self.hold(true, &mut out)?,
            Command::Unhold => self.hold(false, &mut out)?,
            Command::BlindTransfer(t) => self.start_transfer(TransferKind::Blind, t, &mut out)?,
            Command::ConsultTransfer(t) => {
                self.start_transfer(TransferKind::Consultative, t, &mut out)?
            }
            Command::CompleteTransfer => self.complete_transfer(&mut out)?,
            Command::CancelTransfer => self.cancel_transfer(&mut out)?,
            Command::Confer => self.confer(&mut out)?,
            Command::Mute { leg, muted } => self.mute(leg, muted, &mut out)?,
            Command::Supervise {
                supervisor,
                phone,
                action,
            } => self.supervise(&supervisor, &phone, action, &mut out)?,
        }
        self.push_plan(&mut out);
        Ok(out)
    }

    /// Refusal naming the current state.
    pub(crate) fn refuse_here<T>(&self, what: &str) -> Result<T, Refusal> {
        refuse(format!("{what} while the call is {}", self.state().words()))
    }

    fn detach(&mut self, leg: LegId, out: &mut Vec<Action>) -> Result<(), Refusal> {
        let legs = self.state.legs();
        if !legs.contains(&leg) {
            return refuse(format!("cannot detach leg {leg}: not part of this call"));
        }
        for l in legs {
            if l != leg {
                out.push(Action::Hangup(l));
            }
        }
        Self::log(
            out,
            "LEG_DETACHED",
            format!("leg {leg} moved to another call"),
        );
        self.finish(out, "its party moved to another call");
        Ok(())
    }

    fn adopt_agent_side(
        &mut self,
        leg: LegId,
        target: Target,
        out: &mut Vec<Action>,
    ) -> Result<(), Refusal> {
        let name = "adopt the agent side";
        let (State::Connected { agent, .. } | State::Held { agent, .. }) = &self.state else {
            return self.refuse_here(&format!("cannot {name}"));
        };
        if self.legs().contains(&leg) {
            return refuse(format!(
                "cannot {name}: leg {leg} is already part of this call"
            ));
        }
        if agent.is_agent(&target) {
            return refuse("cannot transfer a call to yourself");
        }
        let new = Party::reached(leg, &target);
        // Checked above: the other states are left as they are.
        self.state = match self.take_state() {
            State::Connected { customer, agent } | State::Held { customer, agent } => {
                out.extend(new.agent.clone().map(Action::AgentEngaged));
                out.push(Action::Hangup(agent.leg));
                out.extend(agent.agent.map(Action::AgentReleased));
                State::Connected {
                    customer,
                    agent: new,
                }
            }
            other => other,
        };
        Self::log(out, "TRANSFER_COMPLETED", format!("to {target} (by phone)"));
        Ok(())
    }

    fn hold(&mut self, hold: bool, out: &mut Vec<Action>) -> Result<(), Refusal> {
        self.state = match (self.take_state(), hold) {
            (State::Connected { customer, agent }, true) => {
                Self::log(out, "HOLD", "");
                State::Held { customer, agent }
            }
            (State::Held { customer, agent }, false) => {
                Self::log(out, "UNHOLD", "");
                State::Connected { customer, agent }
            }
            // Already so.
            (s @ State::Held { .. }, true) | (s @ State::Connected { .. }, false) => s,
            (s, _) => {
                self.state = s;
                let name = if hold { "hold" } else { "unhold" };
                return self.refuse_here(&format!("cannot {name}"));
            }
        };
        Ok(())
    }

    fn mute(&mut self, leg: LegId, mute: bool, out: &mut Vec<Action>) -> Result<(), Refusal> {
        let State::Conference {
            customer,
            agent,
            third,
            muted,
        } = &mut self.state
        else {
            return refuse(format!(
                "cannot mute: only conference parties can be muted (call is {})",
                self.state().words()
            ));
        };
        if ![customer.leg, agent.leg, third.0].contains(&leg) {
            return refuse(format!("leg {leg} is not part of this conference"));
        }
        let already = muted.contains(&leg) == mute;
        muted.retain(|l| *l != leg);
        if mute {
            muted.push(leg);
        }
        if !already {
            Self::log(
                out,
                if mute { "MUTE" } else { "UNMUTE" },
                format!("leg {leg}"),
            );
        }
        Ok(())
    }
}
