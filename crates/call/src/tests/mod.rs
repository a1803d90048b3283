//! Unit tests of the call state machine, driven through the public API (the
//! harness also runs the internal check of the state invariants).
//!
//! Every step goes through [`H`], a small model of the SIP engine: it tracks
//! each leg (incoming/dialing/ringing/up/gone), how many times each agent is
//! engaged, and checks after every step that the actions make sense (no BYE
//! on a dead leg, no release of an agent who is not engaged, the media plan
//! only contains live legs, music only for the held party, a refused command
//! leaves the call untouched, the invariants the state types do not enforce
//! hold, and when the call ends every leg is gone and every agent released).

use crate::{
    Action, Call, CallState, Command, Event, LegId, MediaPlan, Target, TransferKind, TransferPhase,
};
use std::collections::{BTreeMap, HashSet, VecDeque};

mod blind_transfer;
mod consultation;
mod every_state;
mod exploration;
mod setup;
mod supervision;

const MUSIC: &str = "default";

fn agent(a: &str) -> Target {
    Target::Agent(a.to_string())
}
fn number(n: &str) -> Target {
    Target::Number(n.to_string())
}
fn campaign(c: &str) -> Target {
    Target::Campaign(c.to_string())
}

/// What the engine knows of a leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Leg {
    /// Incoming INVITE not answered yet.
    Incoming,
    /// Outgoing, dialled.
    Dialing,
    /// Outgoing, ringing (or queued).
    Ringing,
    /// Established.
    Up,
    /// Over.
    Gone,
}

/// A call under test and the engine model around it.
#[derive(Clone)]
struct H {
    call: Call,
    legs: BTreeMap<LegId, Leg>,
    targets: BTreeMap<LegId, Target>,
    engaged: BTreeMap<String, u32>,
    ended: bool,
}

impl H {
    fn new(call: Call) -> H {
        H {
            call,
            legs: BTreeMap::new(),
            targets: BTreeMap::new(),
            engaged: BTreeMap::new(),
            ended: false,
        }
    }

    /// A customer calls in towards `to`.
    fn incoming(to: Target) -> (H, LegId, Vec<Action>) {
        let (call, cust, out) = Call::incoming("c1", 1, MUSIC, to);
        let mut h = H::new(call);
        h.legs.insert(cust, Leg::Incoming);
        h.apply(&out, &MediaPlan::default());
        (h, cust, out)
    }

    /// `who` dials `to` from their own phone.
    fn from_phone(who: &str, to: Target) -> (H, LegId, Vec<Action>) {
        let (call, a, out) = Call::from_agent_phone("c2", 2, MUSIC, who, to);
        let mut h = H::new(call);
        h.legs.insert(a, Leg::Incoming);
        h.apply(&out, &MediaPlan::default());
        (h, a, out)
    }

    /// Click-to-call from `who`'s console towards `to`.
    fn originated(who: &str, to: Target) -> (H, Vec<Action>) {
        let (call, out) = Call::agent_originated("c3", 3, MUSIC, who, to);
        let mut h = H::new(call);
        h.apply(&out, &MediaPlan::default());
        (h, out)
    }

    /// Dialer: ring a contact, then put the answered contact in a campaign queue.
    fn dialer(contact: Target, then: Target) -> (H, Vec<Action>) {
        let (call, out) = Call::dialer("c4", 4, MUSIC, contact, then);
        let mut h = H::new(call);
        h.apply(&out, &MediaPlan::default());
        (h, out)
    }

    fn ev(&mut self, e: Event) -> Vec<Action> {
        let before = self.call.plan().clone();
        let cust = self.call.customer_leg();
        match &e {
            Event::Ringing(l) | Event::EarlyMedia(l) => {
                if self.legs.get(l) == Some(&Leg::Dialing) {
                    self.legs.insert(*l, Leg::Ringing);
                }
            }
            Event::Answered(l) => {
                self.legs.insert(*l, Leg::Up);
            }
            Event::Failed(l, _) | Event::HungUp(l) => {
                self.legs.insert(*l, Leg::Gone);
            }
            Event::Assigned(..) => {}
        }
        let out = self.call.on_event(e);
        self.apply(&out, &before);
        self.check_supervision();
        self.customer_kept(cust, &out);
        out
    }

    /// The customer is only hung up by a step that ends the call.
    #[track_caller]
    fn customer_kept(&self, cust: Option<LegId>, out: &[Action]) {
        if let Some(c) = cust {
            if out.contains(&Action::Hangup(c)) {
                assert!(self.ended, "customer hung up but the call goes on: {out:?}");
            }
        }
    }

    fn try_cmd(&mut self, c: Command) -> Result<Vec<Action>, String> {
        let before_dbg = format!("{:?}", self.call);
        let before = self.call.plan().clone();
        let cust = self.call.customer_leg();
        match self.call.command(c) {
            Ok(out) => {
                self.apply(&out, &before);
                self.check_supervision();
                self.customer_kept(cust, &out);
                Ok(out)
            }
            Err(r) => {
                assert_eq!(
                    format!("{:?}", self.call),
                    before_dbg,
                    "a refused command changed the call"
                );
                assert!(!r.0.is_empty(), "empty refusal message");
                assert_eq!(r.to_string(), r.0, "Refusal displays its message");
                Err(r.0)
            }
        }
    }

    #[track_caller]
    fn cmd(&mut self, c: Command) -> Vec<Action> {
        let name = c.name();
        self.try_cmd(c)
            .unwrap_or_else(|r| panic!("{name} refused: {r}"))
    }

    #[track_caller]
    fn refused(&mut self, c: Command) -> String {
        let name = c.name();
        match self.try_cmd(c) {
            Err(msg) => msg,
            Ok(out) => panic!("{name} accepted in {:?}: {out:?}", self.call.state()),
        }
    }

    fn state(&self) -> CallState {
        self.call.state()
    }
    fn plan(&self) -> &MediaPlan {
        self.call.plan()
    }
    /// Agents currently engaged on this call (per the actions seen so far).
    fn busy(&self) -> Vec<&str> {
        self.engaged
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(a, _)| a.as_str())
            .collect()
    }

    /// Feed the actions of one step to the engine model and check them.
    #[track_caller]
    fn apply(&mut self, out: &[Action], plan_before: &MediaPlan) {
        let mut media = Vec::new();
        for (i, a) in out.iter().enumerate() {
            match a {
                Action::Dial { leg, target } => {
                    assert!(!self.legs.contains_key(leg), "leg {leg} dialled twice");
                    self.legs.insert(*leg, Leg::Dialing);
                    self.targets.insert(*leg, target.clone());
                }
                Action::Answer(l) => {
                    assert_eq!(
                        self.legs.get(l),
                        Some(&Leg::Incoming),
                        "answering leg {l} that is not a pending incoming leg"
                    );
                    self.legs.insert(*l, Leg::Up);
                }
                Action::Reject(l, status) => {
                    assert!(*status >= 400, "reject with {status}");
                    assert_eq!(
                        self.legs.get(l),
                        Some(&Leg::Incoming),
                        "rejecting leg {l} that is not a pending incoming leg"
                    );
                    self.legs.insert(*l, Leg::Gone);
                }
                Action::Hangup(l) => {
                    // On a pending incoming leg the engine answers 480.
                    let s = self.legs.get(l).copied();
                    assert!(
                        matches!(
                            s,
                            Some(Leg::Incoming | Leg::Dialing | Leg::Ringing | Leg::Up)
                        ),
                        "hangup of leg {l} which is {s:?} (dead legs are left alone)"
                    );
                    self.legs.insert(*l, Leg::Gone);
                }
                Action::Progress(l) | Action::EarlyMedia(l) => {
                    assert_eq!(
                        self.legs.get(l),
                        Some(&Leg::Incoming),
                        "progress on leg {l} that is not pending"
                    );
                }
                Action::Media(p) => media.push(p.clone()),
                Action::Log { kind, .. } => assert!(!kind.is_empty()),
                Action::LogBy { kind, by, .. } => {
                    assert!(
                        !kind.is_empty() && !by.is_empty(),
                        "log without kind or author"
                    )
                }
                Action::AgentEngaged(a) => {
                    assert!(!a.is_empty(), "engaged an agent with no name");
                    *self.engaged.entry(a.clone()).or_default() += 1;
                }
                Action::AgentReleased(a) | Action::SupervisorReleased(a) => {
                    let n = self.engaged.get_mut(a).filter(|n| **n > 0);
                    let n =
                        n.unwrap_or_else(|| panic!("agent {a} released but not engaged: {out:?}"));
                    *n -= 1;
                }
                Action::Ended => {
                    assert!(!self.ended, "ended twice");
                    assert_eq!(i, out.len() - 1, "Ended is the last action");
                    self.ended = true;
                }
            }
        }
        assert!(media.len() <= 1, "several media plans in one step: {out:?}");
        match media.pop() {
            Some(p) => {
                assert_eq!(&p, self.call.plan(), "the Media action is the call's plan");
                assert_ne!(&p, plan_before, "Media action without a change");
            }
            None => assert_eq!(
                self.call.plan(),
                plan_before,
                "plan changed without a Media action"
            ),
        }
        assert_eq!(
            self.ended,
            self.call.state() == CallState::Ended,
            "Ended action iff Ended state: {out:?}"
        );
        if self.ended {
            assert!(
                self.busy().is_empty(),
                "call ended with agents still engaged: {:?}",
                self.busy()
            );
            let live: Vec<_> = self.legs.iter().filter(|(_, s)| **s != Leg::Gone).collect();
            assert!(live.is_empty(), "call ended with live legs {live:?}");
            assert_eq!(self.call.plan(), &MediaPlan::default());
        }
        for l in self.call.legs() {
            let s = self.legs.get(&l).copied();
            assert!(
                !self.ended
                    && matches!(
                        s,
                        Some(Leg::Incoming | Leg::Dialing | Leg::Ringing | Leg::Up)
                    ),
                "the call still counts leg {l} ({s:?}) after {out:?}"
            );
        }
        if !self.ended && !matches!(self.state(), CallState::Originating | CallState::Ringing) {
            let c = self.call.customer_leg().expect("a customer once set up");
            assert_ne!(
                self.legs.get(&c),
                Some(&Leg::Gone),
                "customer leg {c} is gone but the call goes on"
            );
        }
        let broken = self.call.state.violations();
        assert!(
            broken.is_empty(),
            "state invariants broken: {broken:?} after {out:?}"
        );
        self.check_plan();
    }

    /// Supervision invariants: every answered supervisor is in the room of
    /// the agent side (the customer's without an agent) and hears all of
    /// it; the others hear it only as its mode says; one speaks at most.
    #[track_caller]
    fn check_supervision(&self) {
        use crate::SuperviseMode;
        let p = self.call.plan();
        let sups = self.call.supervisions();
        let speaking = sups.iter().filter(|s| s.mode != SuperviseMode::Listen);
        assert!(speaking.count() <= 1, "two supervisors speak: {sups:?}");
        let agent = self.call.agent().map(|a| a.0);
        let anchor = agent.or(self.call.customer_leg());
        for s in sups {
            assert!(
                self.engaged.get(&s.phone).is_some_and(|n| *n > 0),
                "supervisor phone {} not engaged",
                s.phone
            );
            if !s.answered {
                assert!(
                    p.group_of(s.leg).is_none(),
                    "ringing supervisor in the plan"
                );
                continue;
            }
            assert_eq!(self.legs.get(&s.leg), Some(&Leg::Up));
            let Some(g) = anchor.and_then(|a| p.group_of(a)) else {
                continue;
            };
            assert!(
                g.legs.contains(&s.leg),
                "supervisor not with {anchor:?}: {p:?}"
            );
            for &m in g.legs.iter().filter(|m| **m != s.leg) {
                let other_sup = sups.iter().find(|x| x.leg == m);
                if other_sup.is_none() && !p.muted.contains(&m) {
                    assert!(p.hears(s.leg, m), "supervisor does not hear {m}: {p:?}");
                }
                let expected = match s.mode {
                    SuperviseMode::Listen => false,
                    SuperviseMode::Whisper => Some(m) == agent,
                    SuperviseMode::Barge => true,
                };
                assert_eq!(p.hears(m, s.leg), expected, "{m} hears {s:?}? {p:?}");
            }
        }
    }

    /// Invariants of the media plan in every state (supervisors aside:
    /// [`supervision`] checks them).
    #[track_caller]
    fn check_plan(&self) {
        let sup: Vec<LegId> = self.call.supervisions().iter().map(|s| s.leg).collect();
        for (l, s) in &self.call.plan().unheard {
            assert!(
                sup.contains(s),
                "leg {l} does not hear {s}, not a supervisor"
            );
        }
        let mut p = self.call.plan().clone();
        for g in &mut p.groups {
            g.legs.retain(|l| !sup.contains(l));
        }
        p.groups.retain(|g| !g.legs.is_empty());
        let p = &p;
        let cust = self.call.customer_leg();
        let agent_leg = self.call.agent().map(|a| a.0);
        let mut seen = HashSet::new();
        for g in &p.groups {
            assert!(!g.legs.is_empty(), "empty group");
            for l in &g.legs {
                assert!(seen.insert(*l), "leg {l} in two groups: {p:?}");
                assert!(!sup.contains(l));
                let s = self.legs.get(l).copied();
                // Early media: the caller's INVITE still pending, or the
                // callee ringing with its 183's media.
                let early_media = matches!(s, Some(Leg::Incoming | Leg::Ringing))
                    && self.state() == CallState::Ringing;
                assert!(
                    s == Some(Leg::Up) || early_media,
                    "leg {l} ({s:?}) in the plan {p:?}"
                );
            }
            if let Some(m) = &g.music {
                if m == crate::RINGBACK {
                    assert_eq!(
                        self.state(),
                        CallState::Ringing,
                        "ringback only while ringing"
                    );
                    assert_eq!(g.legs.len(), 1, "ringback for the caller alone: {p:?}");
                } else {
                    assert_eq!(m, MUSIC);
                    assert_eq!(
                        g.legs,
                        vec![cust.unwrap()],
                        "music only for the waiting party alone: {p:?}"
                    );
                }
            }
        }
        for m in &p.muted {
            assert_eq!(
                self.state(),
                CallState::Conference,
                "muted legs outside a conference"
            );
            assert!(seen.contains(m));
        }
        match self.state() {
            CallState::Originating | CallState::Ended => assert!(p.groups.is_empty()),
            CallState::Ringing => assert!(p.groups.len() <= 1),
            CallState::Connected => {
                let (c, a) = (cust.unwrap(), agent_leg.unwrap());
                assert_eq!(p.groups.len(), 1);
                assert!(
                    p.connected(c, a) && p.groups[0].legs.len() == 2 && p.groups[0].music.is_none(),
                    "{p:?}"
                );
            }
            CallState::Held | CallState::Transferring | CallState::Consulting => {
                let c = cust.unwrap();
                assert!(hears_music(p, c), "the waiting party hears music: {p:?}");
            }
            CallState::Conference => {
                let (c, a, t) = (
                    cust.unwrap(),
                    agent_leg.unwrap(),
                    self.call.third().unwrap().0,
                );
                assert_eq!(p.groups.len(), 1);
                assert!(
                    p.connected(c, a)
                        && p.connected(c, t)
                        && p.connected(a, t)
                        && p.groups[0].music.is_none()
                );
            }
        }
    }
}

fn hears_music(p: &MediaPlan, l: LegId) -> bool {
    p.group_of(l).is_some_and(|g| g.music.is_some())
}
/// Alone, no music (or not in any room).
fn hears_silence(p: &MediaPlan, l: LegId) -> bool {
    p.group_of(l)
        .is_none_or(|g| g.music.is_none() && g.legs == vec![l])
}

/// The single Dial of a step.
#[track_caller]
fn dialed(out: &[Action]) -> (LegId, Target) {
    let d: Vec<_> = out
        .iter()
        .filter_map(|a| match a {
            Action::Dial { leg, target } => Some((*leg, target.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(d.len(), 1, "expected one Dial in {out:?}");
    d[0].clone()
}
fn kinds(out: &[Action]) -> Vec<&'static str> {
    out.iter()
        .filter_map(|a| match a {
            Action::Log { kind, .. } => Some(*kind),
            _ => None,
        })
        .collect()
}
fn hangups(out: &[Action]) -> Vec<LegId> {
    let mut v: Vec<_> = out
        .iter()
        .filter_map(|a| match a {
            Action::Hangup(l) => Some(*l),
            _ => None,
        })
        .collect();
    v.sort();
    v
}
fn released(out: &[Action]) -> Vec<&str> {
    out.iter()
        .filter_map(|a| match a {
            Action::AgentReleased(x) | Action::SupervisorReleased(x) => Some(x.as_str()),
            _ => None,
        })
        .collect()
}
fn engaged(out: &[Action]) -> Vec<&str> {
    out.iter()
        .filter_map(|a| match a {
            Action::AgentEngaged(x) => Some(x.as_str()),
            _ => None,
        })
        .collect()
}
fn sorted(mut v: Vec<LegId>) -> Vec<LegId> {
    v.sort();
    v
}

fn sorted_names(mut v: Vec<&str>) -> Vec<&str> {
    v.sort();
    v
}

// ---------------------------------------------------------------- builders

/// Customer calls alice, alice answers. Returns (h, customer, alice).
fn connected() -> (H, LegId, LegId) {
    let (mut h, cust, out) = H::incoming(agent("alice"));
    let (a, _) = dialed(&out);
    h.ev(Event::Ringing(a));
    h.ev(Event::Answered(a));
    assert_eq!(h.state(), CallState::Connected);
    (h, cust, a)
}

fn held() -> (H, LegId, LegId) {
    let (mut h, c, a) = connected();
    h.cmd(Command::Hold);
    (h, c, a)
}

/// alice blind-transfers the customer to `to`; target just dialled. Returns (h, customer, alice, target leg).
fn blind(to: Target) -> (H, LegId, LegId, LegId) {
    let (mut h, c, a) = connected();
    let out = h.cmd(Command::BlindTransfer(to));
    let (b, _) = dialed(&out);
    (h, c, a, b)
}

/// alice consults `to`, brought to `phase`. Returns (h, customer, alice, target leg).
fn consult(to: Target, phase: TransferPhase) -> (H, LegId, LegId, LegId) {
    let (mut h, c, a) = connected();
    let out = h.cmd(Command::ConsultTransfer(to));
    let (b, _) = dialed(&out);
    if phase != TransferPhase::Dialing {
        h.ev(Event::Ringing(b));
    }
    if phase == TransferPhase::Talking {
        h.ev(Event::Answered(b));
    }
    assert_eq!(h.call.transfer().unwrap().phase, phase);
    (h, c, a, b)
}

/// Customer, alice and bob in conference.
fn conference() -> (H, LegId, LegId, LegId) {
    let (mut h, c, a, b) = consult(agent("bob"), TransferPhase::Talking);
    h.cmd(Command::Confer);
    assert_eq!(h.state(), CallState::Conference);
    (h, c, a, b)
}

fn ended() -> H {
    let (mut h, c, _) = connected();
    h.ev(Event::HungUp(c));
    h
}
