//! Transfers: the [`Transfer`] a call carries while a blind transfer or a
//! consultation is under way, and the transitions that start, complete,
//! cancel or fail one.

use crate::call::refuse;
use crate::state::{agent_name, Party, State};
use crate::{Action, Call, LegId, Refusal, Target};

/// Blind (agent leaves once the target is reached) or consultative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferKind {
    /// Blind transfer.
    Blind,
    /// Consultative (attended) transfer.
    Consultative,
}

/// Where the transfer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferPhase {
    /// Target being dialled, not yet ringing.
    Dialing,
    /// Target ringing (or queued, for a campaign).
    Ringing,
    /// Target answered: the agent talks with the target (consultative only).
    Talking,
}

/// A transfer in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// Kind.
    pub kind: TransferKind,
    /// Destination.
    pub target: Target,
    /// The leg towards the destination.
    pub leg: LegId,
    /// Phase.
    pub phase: TransferPhase,
    /// Agent who started it (gets the call back if a blind transfer fails).
    pub by_agent: String,
}

impl Call {
    /// Blind or consultative transfer from a two-party call.
    pub(crate) fn start_transfer(
        &mut self,
        kind: TransferKind,
        t: Target,
        out: &mut Vec<Action>,
    ) -> Result<(), Refusal> {
        let blind = kind == TransferKind::Blind;
        let name = if blind {
            "blind transfer"
        } else {
            "consultative transfer"
        };
        let (customer, agent) = match &self.state {
            State::Connected { customer, agent } | State::Held { customer, agent } => {
                (customer, agent)
            }
            s => {
                return match s.transfer() {
                    // The same again: it is under way.
                    Some(tr) if tr.target == t && tr.kind == kind => Ok(()),
                    Some(_) => refuse(format!(
                        "cannot start a {name}: a transfer is already in progress"
                    )),
                    None => self.refuse_here(&format!("cannot start a {name}")),
                };
            }
        };
        let Some(by_agent) = agent.agent.clone() else {
            return refuse(format!(
                "cannot start a {name}: no agent controls this call"
            ));
        };
        if agent.is_agent(&t) {
            return refuse("cannot transfer a call to yourself");
        }
        if customer.is_agent(&t) {
            return refuse(format!(
                "cannot transfer the call to {t}: they are already on it"
            ));
        }
        if !blind && matches!(t, Target::Campaign(_)) {
            return refuse("a campaign can only be the target of a blind transfer");
        }
        let leg = self.new_leg();
        let transfer = Transfer {
            kind,
            target: t.clone(),
            leg,
            phase: TransferPhase::Dialing,
            by_agent,
        };
        // Checked above: the other states are left as they are.
        self.state = match self.take_state() {
            State::Connected { customer, agent } | State::Held { customer, agent } if blind => {
                Self::log(out, "TRANSFER_BLIND", format!("to {t}"));
                State::Transferring {
                    customer,
                    agent: Some(agent.leg),
                    transfer,
                }
            }
            State::Connected { customer, agent } | State::Held { customer, agent } => {
                Self::log(out, "TRANSFER_CONSULT", format!("to {t}"));
                State::Consulting {
                    customer,
                    agent: agent.leg,
                    transfer,
                }
            }
            other => other,
        };
        if let Target::Agent(b) = &t {
            out.push(Action::AgentEngaged(b.clone()));
        }
        out.push(Action::Dial { leg, target: t });
        Ok(())
    }

    /// The answered consultation target, or why there is none.
    fn answered_consultation(&self, what: &str, early: &str) -> Result<(), Refusal> {
        match &self.state {
            State::Consulting { transfer, .. } if transfer.phase == TransferPhase::Talking => {
                Ok(())
            }
            State::Consulting { .. } => refuse(early),
            s => refuse(format!("{what} (call is {})", s.kind().words())),
        }
    }

    /// The customer is bridged to the consulted party; the agent leaves.
    pub(crate) fn complete_transfer(&mut self, out: &mut Vec<Action>) -> Result<(), Refusal> {
        self.answered_consultation(
            "cannot complete transfer: no consultative transfer in progress",
            "cannot complete the transfer before the target answers (cancel it instead)",
        )?;
        self.state = match self.take_state() {
            State::Consulting {
                customer,
                agent,
                transfer,
            } => {
                out.push(Action::Hangup(agent));
                out.push(Action::AgentReleased(transfer.by_agent));
                Self::log(out, "TRANSFER_COMPLETED", format!("to {}", transfer.target));
                State::Connected {
                    customer,
                    agent: Party::reached(transfer.leg, &transfer.target),
                }
            }
            other => other,
        };
        Ok(())
    }

    /// The consultation is abandoned: the agent is back with the customer.
    pub(crate) fn cancel_transfer(&mut self, out: &mut Vec<Action>) -> Result<(), Refusal> {
        if !matches!(self.state, State::Consulting { .. }) {
            return refuse(format!(
                "cannot cancel transfer: no consultative transfer in progress (call is {})",
                self.state().words()
            ));
        }
        if let Some(tr) = self.state.transfer() {
            out.push(Action::Hangup(tr.leg));
        }
        self.end_consultation(out, "TRANSFER_CANCELLED", |t| format!("to {t}"));
        Ok(())
    }

    /// The consultation turns into a three-way conference.
    pub(crate) fn confer(&mut self, out: &mut Vec<Action>) -> Result<(), Refusal> {
        if matches!(self.state, State::Conference { .. }) {
            return Ok(());
        }
        self.answered_consultation(
            "cannot confer: no answered consultation",
            "cannot confer before the consulted party answers",
        )?;
        self.state = match self.take_state() {
            State::Consulting {
                customer,
                agent,
                transfer,
            } => {
                Self::log(out, "CONFERENCE", format!("with {}", transfer.target));
                State::Conference {
                    customer,
                    agent: Party {
                        leg: agent,
                        agent: Some(transfer.by_agent),
                    },
                    third: (transfer.leg, transfer.target),
                    muted: Vec::new(),
                }
            }
            other => other,
        };
        Ok(())
    }

    /// The consultation is over without a transfer (cancelled, declined or
    /// hung up by the target): its target is released, the agent is back
    /// with the customer.
    pub(crate) fn end_consultation(
        &mut self,
        out: &mut Vec<Action>,
        kind: &'static str,
        detail: impl FnOnce(&Target) -> String,
    ) {
        self.state = match self.take_state() {
            State::Consulting {
                customer,
                agent,
                transfer,
            } => {
                out.extend(agent_name(&transfer.target).map(Action::AgentReleased));
                Self::log(out, kind, detail(&transfer.target));
                State::Connected {
                    customer,
                    agent: Party {
                        leg: agent,
                        agent: Some(transfer.by_agent),
                    },
                }
            }
            other => other,
        };
    }

    /// The agent hung up mid-consultation: once the target talks this
    /// completes the transfer, before that it goes on as a blind transfer.
    pub(crate) fn consultant_left(&mut self, out: &mut Vec<Action>) {
        self.state = match self.take_state() {
            State::Consulting {
                customer, transfer, ..
            } if transfer.phase == TransferPhase::Talking => {
                out.push(Action::AgentReleased(transfer.by_agent));
                Self::log(
                    out,
                    "TRANSFER_COMPLETED",
                    format!("to {} (agent hung up)", transfer.target),
                );
                State::Connected {
                    customer,
                    agent: Party::reached(transfer.leg, &transfer.target),
                }
            }
            State::Consulting {
                customer,
                mut transfer,
                ..
            } => {
                out.push(Action::AgentReleased(transfer.by_agent.clone()));
                transfer.kind = TransferKind::Blind;
                Self::log(
                    out,
                    "TRANSFER_BLIND",
                    format!("to {} (agent hung up while it rang)", transfer.target),
                );
                State::Transferring {
                    customer,
                    agent: None,
                    transfer,
                }
            }
            other => other,
        };
    }

    /// The transfer target rings.
    pub(crate) fn transfer_ringing(&mut self, out: &mut Vec<Action>) {
        let Some(tr) = self.state.transfer_mut() else {
            return;
        };
        if tr.phase != TransferPhase::Dialing {
            return;
        }
        tr.phase = TransferPhase::Ringing;
        Self::log(out, "TRANSFER_RINGING", "");
        if let State::Transferring {
            agent, transfer, ..
        } = &mut self.state
        {
            // The target is reached: release the transferring agent now.
            if let Some(l) = agent.take() {
                out.push(Action::Hangup(l));
                out.push(Action::AgentReleased(transfer.by_agent.clone()));
                Self::log(out, "AGENT_RELEASED", transfer.by_agent.clone());
            }
        }
    }

    /// The transfer target answered.
    pub(crate) fn transfer_answered(&mut self, out: &mut Vec<Action>) {
        self.state = match self.take_state() {
            State::Transferring {
                customer,
                agent,
                transfer,
            } => {
                if let Some(l) = agent {
                    out.push(Action::Hangup(l));
                    out.push(Action::AgentReleased(transfer.by_agent));
                }
                Self::log(out, "TRANSFER_COMPLETED", format!("to {}", transfer.target));
                State::Connected {
                    customer,
                    agent: Party::reached(transfer.leg, &transfer.target),
                }
            }
            State::RingingBack { customer, transfer } => {
                Self::log(out, "TRANSFER_RETURNED", format!("to {}", transfer.target));
                State::Connected {
                    customer,
                    agent: Party::reached(transfer.leg, &transfer.target),
                }
            }
            State::Consulting {
                customer,
                agent,
                mut transfer,
            } => {
                transfer.phase = TransferPhase::Talking;
                Self::log(out, "CONSULT_ANSWERED", format!("by {}", transfer.target));
                State::Consulting {
                    customer,
                    agent,
                    transfer,
                }
            }
            other => other,
        };
    }

    /// The transfer target could not be reached (or hung up before answering).
    pub(crate) fn transfer_failed(&mut self, status: u16, out: &mut Vec<Action>) {
        if let Some(tr) = self.state.transfer() {
            out.extend(agent_name(&tr.target).map(Action::AgentReleased));
        }
        let failed = |t: &Target| format!("{t} answered {status}");
        self.state = match self.take_state() {
            State::Consulting {
                customer,
                agent,
                transfer,
            } => {
                Self::log(out, "TRANSFER_DECLINED", failed(&transfer.target));
                State::Connected {
                    customer,
                    agent: Party {
                        leg: agent,
                        agent: Some(transfer.by_agent),
                    },
                }
            }
            State::Transferring {
                customer,
                agent,
                transfer,
            } => {
                Self::log(out, "TRANSFER_FAILED", failed(&transfer.target));
                match agent {
                    // Failed before it rang: the agent never left, back with the customer.
                    Some(l) => State::Connected {
                        customer,
                        agent: Party {
                            leg: l,
                            agent: Some(transfer.by_agent),
                        },
                    },
                    // The customer is not lost: ring the transferring agent back.
                    None => {
                        let back = self.new_leg();
                        let target = Target::Agent(transfer.by_agent.clone());
                        out.push(Action::AgentEngaged(transfer.by_agent.clone()));
                        Self::log(out, "TRANSFER_RETURN", format!("ringing {target} back"));
                        out.push(Action::Dial {
                            leg: back,
                            target: target.clone(),
                        });
                        State::RingingBack {
                            customer,
                            transfer: Transfer {
                                kind: TransferKind::Blind,
                                target,
                                leg: back,
                                phase: TransferPhase::Dialing,
                                by_agent: transfer.by_agent,
                            },
                        }
                    }
                }
            }
            State::RingingBack { customer, transfer } => {
                // Its target (the transferring agent) was released above.
                Self::log(out, "TRANSFER_FAILED", failed(&transfer.target));
                out.push(Action::Hangup(customer.leg));
                self.finish_releasing(
                    out,
                    customer.agent.into_iter().collect(),
                    "transfer failed and the agent could not be reached back",
                );
                State::Ended
            }
            other => other,
        };
    }
}
