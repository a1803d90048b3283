//! Leg events reported by the SIP engine: ringing, answers, failures and
//! hang-ups move the call from state to state.

use crate::state::{agent_name, Callee, Caller, Party, State};
use crate::{Action, Call, LegId, Target};

/// What happened on a leg (reported by the SIP engine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The leg's destination is ringing (or the call was queued).
    Ringing(LegId),
    /// The leg's destination sends early media (183 with SDP): a carrier's
    /// announcement or its own ringback, which the caller should hear.
    EarlyMedia(LegId),
    /// The leg answered.
    Answered(LegId),
    /// The leg could not be established (SIP status, 408 for timeout).
    Failed(LegId, u16),
    /// The leg's party hung up.
    HungUp(LegId),
    /// A campaign queue assigned this leg to an agent (it now rings that agent).
    Assigned(LegId, String),
}

impl Call {
    /// Apply a leg event. Events on legs the current state does not expect
    /// (stale, or about a leg already gone) are ignored.
    pub fn on_event(&mut self, ev: Event) -> Vec<Action> {
        let mut out = Vec::new();
        if matches!(self.state, State::Ended) {
            return out;
        }
        if self.supervisor_event(&ev, &mut out) {
            self.push_plan(&mut out);
            return out;
        }
        match ev {
            Event::Assigned(leg, agent) => self.on_assigned(leg, agent, &mut out),
            Event::Ringing(leg) => self.on_ringing(leg, &mut out),
            Event::EarlyMedia(leg) => self.on_early_media(leg, &mut out),
            Event::Answered(leg) => self.on_answered(leg, &mut out),
            Event::Failed(leg, status) => self.on_failed(leg, status, &mut out),
            Event::HungUp(leg) => self.on_hangup(leg, &mut out),
        }
        if !matches!(self.state, State::Ended) {
            self.push_plan(&mut out);
        }
        out
    }

    fn on_assigned(&mut self, leg: LegId, agent: String, out: &mut Vec<Action>) {
        let target = match &mut self.state {
            State::Ringing { callee, .. } if callee.leg == leg => {
                // The caller stays queued (with music) while the offered agent rings.
                callee.queued = true;
                &mut callee.target
            }
            s => match s.transfer_mut() {
                Some(tr) if tr.leg == leg => &mut tr.target,
                // A leg of no queue of this call (stale event): nobody to engage.
                _ => return,
            },
        };
        let previous = std::mem::replace(target, Target::Agent(agent.clone()));
        if let Some(p) = agent_name(&previous) {
            // The queue offers the caller anew: the previous offer is over.
            out.push(Action::AgentReleased(p));
        }
        out.push(Action::AgentEngaged(agent.clone()));
        Self::log(out, "QUEUE_ASSIGNED", format!("to agent {agent}"));
    }

    fn on_ringing(&mut self, leg: LegId, out: &mut Vec<Action>) {
        match &mut self.state {
            State::Ringing {
                caller,
                unanswered,
                callee,
            } if callee.leg == leg => {
                if std::mem::replace(&mut callee.rang, true) {
                    return; // already reported (a queue reports it when the caller is queued)
                }
                Self::log(out, "RINGING", "");
                if *unanswered {
                    out.push(Action::Progress(caller.leg()));
                }
            }
            s if s.transfer().is_some_and(|t| t.leg == leg) => self.transfer_ringing(out),
            _ => {}
        }
    }

    fn on_early_media(&mut self, leg: LegId, out: &mut Vec<Action>) {
        if let State::Ringing {
            caller,
            unanswered,
            callee,
        } = &mut self.state
        {
            // A queued caller keeps its music; early media is for a caller
            // waiting on this one destination.
            if callee.leg != leg || callee.queued || std::mem::replace(&mut callee.early, true) {
                return;
            }
            Self::log(out, "EARLY_MEDIA", "");
            if *unanswered {
                out.push(Action::EarlyMedia(caller.leg()));
            }
        }
    }

    fn on_answered(&mut self, leg: LegId, out: &mut Vec<Action>) {
        self.state = match self.take_state() {
            State::CallingContact { contact, then } if contact == leg => {
                Self::log(out, "CONTACT_ANSWERED", "");
                let l = self.new_leg();
                out.push(Action::Dial {
                    leg: l,
                    target: then.clone(),
                });
                State::Ringing {
                    caller: Caller::Customer(contact),
                    unanswered: false,
                    callee: Callee::new(l, then),
                }
            }
            State::CallingAgent {
                agent,
                name,
                destination: (l, t),
            } if agent == leg => {
                Self::log(out, "AGENT_ANSWERED", "");
                if let Target::Agent(b) = &t {
                    out.push(Action::AgentEngaged(b.clone()));
                }
                out.push(Action::Dial {
                    leg: l,
                    target: t.clone(),
                });
                State::Ringing {
                    caller: Caller::Agent(agent, name),
                    unanswered: false,
                    callee: Callee::new(l, t),
                }
            }
            State::Ringing {
                caller,
                unanswered,
                callee,
            } if callee.leg == leg => {
                if unanswered {
                    out.push(Action::Answer(caller.leg()));
                }
                Self::log(out, "ANSWERED", format!("by {}", callee.target));
                let answering = Party::reached(leg, &callee.target);
                match caller {
                    // Customer called in (or was dialled): the answering side is the agent side.
                    Caller::Customer(c) => State::Connected {
                        customer: Party {
                            leg: c,
                            agent: None,
                        },
                        agent: answering,
                    },
                    Caller::Agent(a, name) => State::Connected {
                        customer: answering,
                        agent: Party {
                            leg: a,
                            agent: Some(name),
                        },
                    },
                }
            }
            s if s.transfer().is_some_and(|t| t.leg == leg) => {
                self.state = s;
                self.transfer_answered(out);
                return;
            }
            other => other,
        };
    }

    fn on_failed(&mut self, leg: LegId, status: u16, out: &mut Vec<Action>) {
        match &self.state {
            State::CallingContact { contact, .. } if *contact == leg => {
                self.finish(out, &format!("contact not reached ({status})"))
            }
            State::CallingAgent { agent, .. } if *agent == leg => {
                self.finish(out, &format!("agent's phone did not answer ({status})"))
            }
            State::Ringing {
                caller,
                unanswered,
                callee,
            } if callee.leg == leg => {
                // The caller's INVITE is refused; whoever already answered (the
                // agent's phone in click-to-call, the contact in a dialer call)
                // is hung up.
                out.push(if *unanswered {
                    Action::Reject(caller.leg(), status)
                } else {
                    Action::Hangup(caller.leg())
                });
                self.finish(out, &format!("not answered ({status})"));
            }
            s if s.transfer().is_some_and(|t| t.leg == leg) => self.transfer_failed(status, out),
            _ => {}
        }
    }

    fn on_hangup(&mut self, leg: LegId, out: &mut Vec<Action>) {
        match &mut self.state {
            s @ State::Conference { .. } if s.legs().contains(&leg) => {
                self.conference_left(leg, out)
            }
            State::Consulting { agent, .. } if *agent == leg => self.consultant_left(out),
            State::Consulting { transfer, .. } if transfer.leg == leg => {
                self.end_consultation(out, "TRANSFER_DECLINED", |t| format!("{t} hung up"))
            }
            State::Transferring {
                agent, transfer, ..
            } if *agent == Some(leg) => {
                // The agent left before the target rang: the transfer goes on.
                *agent = None;
                out.push(Action::AgentReleased(transfer.by_agent.clone()));
            }
            State::Transferring { transfer, .. } | State::RingingBack { transfer, .. }
                if transfer.leg == leg =>
            {
                self.transfer_failed(480, out)
            }
            State::Ringing { callee, .. } if callee.leg == leg => self.on_failed(leg, 480, out),
            s if s.legs().contains(&leg) => {
                let who = if s.customer_leg() == Some(leg) {
                    "customer"
                } else {
                    "agent side"
                };
                for l in s.legs() {
                    if l != leg {
                        out.push(Action::Hangup(l));
                    }
                }
                self.finish(out, &format!("{who} hung up"));
            }
            _ => {}
        }
    }

    /// Any party leaving a conference leaves the other two connected.
    fn conference_left(&mut self, leg: LegId, out: &mut Vec<Action>) {
        self.state = match self.take_state() {
            State::Conference {
                customer,
                agent,
                third: (third, target),
                ..
            } => {
                let third = Party::reached(third, &target);
                if customer.leg == leg {
                    out.extend(customer.agent.map(Action::AgentReleased));
                    Self::log(out, "CONFERENCE_LEFT", "customer");
                    State::Connected {
                        customer: third,
                        agent,
                    }
                } else if agent.leg == leg {
                    if let Some(a) = agent.agent {
                        out.push(Action::AgentReleased(a.clone()));
                        Self::log(out, "CONFERENCE_LEFT", a);
                    }
                    State::Connected {
                        customer,
                        agent: third,
                    }
                } else {
                    out.extend(third.agent.map(Action::AgentReleased));
                    Self::log(out, "CONFERENCE_LEFT", target.to_string());
                    State::Connected { customer, agent }
                }
            }
            other => other,
        };
    }
}
