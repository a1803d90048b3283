//! Supervision: a supervisor's phone joins a live call to listen, whisper
//! to the agent, barge in, or take the agent's place.
//!
//! A supervision is not a state of its own: it rides on top of whatever
//! state the call is in and follows its agent side (across hold, transfers
//! and conferences). Its modes are who-hears-whom rules added to the media
//! plan of that state (see [`Call::supervised_plan`]): the supervisor hears
//! the room the agent is in (the customer's room when no agent is on the
//! call), and the others hear the supervisor only as the mode allows.

use crate::call::refuse;
use crate::state::{Party, State};
use crate::{Action, Call, LegId, MediaPlan, Refusal, Target};

/// How a supervisor takes part in a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuperviseMode {
    /// The supervisor hears agent and customer; nobody hears the supervisor.
    Listen,
    /// The agent hears the supervisor; the customer does not.
    Whisper,
    /// Everyone hears everyone.
    Barge,
}

impl SuperviseMode {
    /// The mode a supervisor's phone key selects (4 listen, 5 whisper, 6 barge, as ChanSpy).
    pub fn from_digit(digit: char) -> Option<SuperviseMode> {
        match digit {
            '4' => Some(SuperviseMode::Listen),
            '5' => Some(SuperviseMode::Whisper),
            '6' => Some(SuperviseMode::Barge),
            _ => None,
        }
    }

    /// Lower-case name (logs, API).
    pub fn name(self) -> &'static str {
        match self {
            SuperviseMode::Listen => "listen",
            SuperviseMode::Whisper => "whisper",
            SuperviseMode::Barge => "barge",
        }
    }

    /// Does `listener` hear a supervisor in this mode? `agent` is the
    /// call's agent-side leg, if any.
    fn heard_by(self, listener: LegId, agent: Option<LegId>) -> bool {
        match self {
            SuperviseMode::Listen => false,
            SuperviseMode::Whisper => agent == Some(listener),
            SuperviseMode::Barge => true,
        }
    }

    /// Modes that speak to someone (at most one supervisor at a time).
    fn speaks(self) -> bool {
        self != SuperviseMode::Listen
    }
}

/// One supervisor on a call.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Supervision {
    /// The supervisor (console user) who asked.
    pub supervisor: String,
    /// The extension rung for the supervisor's audio.
    pub phone: String,
    /// The leg towards that phone.
    pub leg: LegId,
    /// Current mode.
    pub mode: SuperviseMode,
    /// The phone answered (before that the supervisor hears nothing).
    pub answered: bool,
}

/// What a supervisor asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SupervisorAction {
    /// Start supervising in a mode (ringing `phone`), or change the mode.
    Mode(SuperviseMode),
    /// Replace the agent: the supervisor becomes the agent side, the agent is released.
    TakeOver,
    /// Stop supervising; the call goes on as it was.
    Stop,
}

impl Call {
    /// Supervisors on the call (ringing or answered).
    pub fn supervisions(&self) -> &[Supervision] {
        &self.supervisions
    }

    /// The supervision of `supervisor`, if any.
    pub fn supervision_of(&self, supervisor: &str) -> Option<&Supervision> {
        self.supervisions
            .iter()
            .find(|s| s.supervisor == supervisor)
    }

    /// The supervision on a leg, if that leg is a supervisor's phone.
    pub fn supervision_on(&self, leg: LegId) -> Option<&Supervision> {
        self.supervisions.iter().find(|s| s.leg == leg)
    }

    /// Who the supervisors are following: the agent, or the customer.
    fn whom(&self) -> String {
        match self.state.agent() {
            Some((_, Some(a))) => format!("agent {a}"),
            Some((leg, None)) => format!("the agent side (leg {leg})"),
            None => "the customer".into(),
        }
    }

    fn log_by(out: &mut Vec<Action>, kind: &'static str, by: &str, detail: String) {
        out.push(Action::LogBy {
            kind,
            detail,
            by: by.to_string(),
        });
    }

    /// Apply a supervisor's action (see [`crate::Command::Supervise`]).
    pub(crate) fn supervise(
        &mut self,
        supervisor: &str,
        phone: &str,
        action: SupervisorAction,
        out: &mut Vec<Action>,
    ) -> Result<(), Refusal> {
        let existing = self
            .supervisions
            .iter()
            .position(|s| s.supervisor == supervisor);
        match (action, existing) {
            (SupervisorAction::Stop, Some(i)) => {
                let s = self.supervisions.remove(i);
                out.push(Action::Hangup(s.leg));
                out.push(Action::SupervisorReleased(s.phone));
                let whom = self.whom();
                Self::log_by(
                    out,
                    "SUPERVISE_STOP",
                    supervisor,
                    format!("stopped on {whom}"),
                );
                Ok(())
            }
            (SupervisorAction::Stop | SupervisorAction::TakeOver, None) => {
                refuse(format!("{supervisor} is not supervising this call"))
            }
            (SupervisorAction::TakeOver, Some(i)) => self.take_over(i, out),
            (SupervisorAction::Mode(mode), Some(i)) => {
                let old = self.supervisions[i].mode;
                if old == mode {
                    return Ok(());
                }
                self.check_speaker(supervisor, mode)?;
                self.supervisions[i].mode = mode;
                let whom = self.whom();
                Self::log_by(
                    out,
                    "SUPERVISE_MODE",
                    supervisor,
                    format!("{} -> {} on {whom}", old.name(), mode.name()),
                );
                Ok(())
            }
            (SupervisorAction::Mode(mode), None) => {
                self.start_supervision(supervisor, phone, mode, out)
            }
        }
    }

    /// Only one supervisor whispers or barges at a time (any number listen).
    fn check_speaker(&self, supervisor: &str, mode: SuperviseMode) -> Result<(), Refusal> {
        if !mode.speaks() {
            return Ok(());
        }
        match self
            .supervisions
            .iter()
            .find(|s| s.supervisor != supervisor && s.mode.speaks())
        {
            Some(s) => refuse(format!(
                "cannot {}: supervisor {} is already in {} mode (one supervisor speaks at a time; others may listen)",
                mode.name(),
                s.supervisor,
                s.mode.name()
            )),
            None => Ok(()),
        }
    }

    fn start_supervision(
        &mut self,
        supervisor: &str,
        phone: &str,
        mode: SuperviseMode,
        out: &mut Vec<Action>,
    ) -> Result<(), Refusal> {
        if self.state.customer().is_none() {
            return self.refuse_here("cannot supervise");
        }
        let target = Target::Agent(phone.to_string());
        let on_call = self.state.engaged_agents().iter().any(|a| a == phone)
            || self.supervisions.iter().any(|s| s.phone == phone);
        if on_call {
            return refuse(format!(
                "cannot supervise: extension {phone} is already on this call"
            ));
        }
        self.check_speaker(supervisor, mode)?;
        let leg = self.new_leg();
        self.supervisions.push(Supervision {
            supervisor: supervisor.to_string(),
            phone: phone.to_string(),
            leg,
            mode,
            answered: false,
        });
        out.push(Action::AgentEngaged(phone.to_string()));
        let whom = self.whom();
        Self::log_by(
            out,
            "SUPERVISE_START",
            supervisor,
            format!("{} on {whom} (ringing extension {phone})", mode.name()),
        );
        out.push(Action::Dial { leg, target });
        Ok(())
    }

    /// The supervisor replaces the agent, who is hung up and released.
    fn take_over(&mut self, i: usize, out: &mut Vec<Action>) -> Result<(), Refusal> {
        let s = &self.supervisions[i];
        if !s.answered {
            return refuse(format!(
                "cannot take over before extension {} answers",
                s.phone
            ));
        }
        if !matches!(self.state, State::Connected { .. } | State::Held { .. }) {
            return self.refuse_here("cannot take over");
        }
        let s = self.supervisions.remove(i);
        let new = Party {
            leg: s.leg,
            agent: Some(s.phone.clone()),
        };
        let mut whom = String::new();
        self.state = match self.take_state() {
            State::Connected { customer, agent } => {
                out.push(Action::Hangup(agent.leg));
                whom = match &agent.agent {
                    Some(a) => format!("agent {a}"),
                    None => format!("the agent side (leg {})", agent.leg),
                };
                out.extend(agent.agent.map(Action::AgentReleased));
                State::Connected {
                    customer,
                    agent: new,
                }
            }
            // A held call stays held: the supervisor resumes it.
            State::Held { customer, agent } => {
                out.push(Action::Hangup(agent.leg));
                whom = match &agent.agent {
                    Some(a) => format!("agent {a}"),
                    None => format!("the agent side (leg {})", agent.leg),
                };
                out.extend(agent.agent.map(Action::AgentReleased));
                State::Held {
                    customer,
                    agent: new,
                }
            }
            other => other,
        };
        Self::log_by(
            out,
            "SUPERVISE_TAKEOVER",
            &s.supervisor,
            format!("replaces {whom} (extension {})", s.phone),
        );
        Ok(())
    }

    /// A leg event on a supervisor's phone; false when `leg` is not one.
    pub(crate) fn supervisor_event(&mut self, ev: &crate::Event, out: &mut Vec<Action>) -> bool {
        use crate::Event;
        let leg = match ev {
            Event::Ringing(l)
            | Event::EarlyMedia(l)
            | Event::Answered(l)
            | Event::Failed(l, _)
            | Event::HungUp(l) => *l,
            Event::Assigned(..) => return false,
        };
        let Some(i) = self.supervisions.iter().position(|s| s.leg == leg) else {
            return false;
        };
        match ev {
            Event::Answered(_) => {
                let s = &mut self.supervisions[i];
                if !std::mem::replace(&mut s.answered, true) {
                    let (by, mode) = (s.supervisor.clone(), s.mode);
                    let whom = self.whom();
                    Self::log_by(
                        out,
                        "SUPERVISE_ANSWERED",
                        &by,
                        format!("{} on {whom}", mode.name()),
                    );
                }
            }
            Event::Failed(_, status) => {
                let s = self.supervisions.remove(i);
                out.push(Action::SupervisorReleased(s.phone.clone()));
                Self::log_by(
                    out,
                    "SUPERVISE_FAILED",
                    &s.supervisor,
                    format!("extension {} did not answer ({status})", s.phone),
                );
            }
            Event::HungUp(_) => {
                let s = self.supervisions.remove(i);
                out.push(Action::SupervisorReleased(s.phone.clone()));
                let whom = self.whom();
                Self::log_by(
                    out,
                    "SUPERVISE_STOP",
                    &s.supervisor,
                    format!("supervisor hung up on {whom}"),
                );
            }
            _ => {}
        }
        true
    }

    /// The call ends: every supervisor's phone is hung up and released.
    pub(crate) fn end_supervisions(&mut self, out: &mut Vec<Action>) {
        for s in std::mem::take(&mut self.supervisions) {
            out.push(Action::Hangup(s.leg));
            out.push(Action::SupervisorReleased(s.phone));
            Self::log_by(
                out,
                "SUPERVISE_STOP",
                &s.supervisor,
                "the call ended".into(),
            );
        }
    }

    /// Tell the supervisors when the agent they follow changes (a transfer
    /// completed, the agent left a conference, a blind transfer took the
    /// agent away).
    pub(crate) fn follow_agent(&mut self, out: &mut Vec<Action>) {
        let now = self.state.agent().map(|a| a.0);
        if self.followed == now {
            return;
        }
        self.followed = now;
        let whom = self.whom();
        let by: Vec<String> = self
            .supervisions
            .iter()
            .map(|s| s.supervisor.clone())
            .collect();
        for s in by {
            Self::log_by(out, "SUPERVISE_FOLLOW", &s, format!("now on {whom}"));
        }
    }

    /// `plan` (the state's own) with the answered supervisors added to the
    /// agent's room (the customer's when no agent is on the call) and the
    /// exclusions their modes imply.
    pub(crate) fn supervised_plan(&self, mut plan: MediaPlan) -> MediaPlan {
        let agent = self.state.agent().map(|a| a.0);
        let Some(anchor) = agent.or(self.state.customer().map(|c| c.leg)) else {
            return plan;
        };
        let Some(g) = plan.groups.iter().position(|g| g.legs.contains(&anchor)) else {
            return plan;
        };
        let present: Vec<&Supervision> = self.supervisions.iter().filter(|s| s.answered).collect();
        plan.groups[g].legs.extend(present.iter().map(|s| s.leg));
        let members = plan.groups[g].legs.clone();
        for s in present {
            for &m in members.iter().filter(|m| **m != s.leg) {
                if !s.mode.heard_by(m, agent) {
                    plan.unheard.push((m, s.leg));
                }
            }
        }
        plan
    }
}
