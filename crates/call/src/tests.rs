//! Unit tests of the call state machine, driven only through the public API.
//!
//! Every step goes through [`H`], a small model of the SIP engine: it tracks
//! each leg (incoming/dialing/ringing/up/gone), how many times each agent is
//! engaged, and checks after every step that the actions make sense (no BYE
//! on a dead leg, no release of an agent who is not engaged, the media plan
//! only contains live legs, music only for the held party, a refused command
//! leaves the call untouched, and when the call ends every leg is gone and
//! every agent released).

use crate::{
    Action, Call, CallState, Command, Event, LegId, MediaPlan, Target, TransferKind, TransferPhase,
};
use std::collections::{BTreeMap, HashSet, VecDeque};

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
            Event::Ringing(l) => {
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
                Action::Progress(l) => {
                    assert_eq!(
                        self.legs.get(l),
                        Some(&Leg::Incoming),
                        "progress on leg {l} that is not pending"
                    );
                }
                Action::Media(p) => media.push(p.clone()),
                Action::Log { kind, .. } => assert!(!kind.is_empty()),
                Action::AgentEngaged(a) => {
                    assert!(!a.is_empty(), "engaged an agent with no name");
                    *self.engaged.entry(a.clone()).or_default() += 1;
                }
                Action::AgentReleased(a) => {
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
        self.check_plan();
    }

    /// Invariants of the media plan in every state.
    #[track_caller]
    fn check_plan(&self) {
        let p = self.call.plan();
        let cust = self.call.customer_leg();
        let agent_leg = self.call.agent().map(|a| a.0);
        let mut seen = HashSet::new();
        for g in &p.groups {
            assert!(!g.legs.is_empty(), "empty group");
            for l in &g.legs {
                assert!(seen.insert(*l), "leg {l} in two groups: {p:?}");
                let s = self.legs.get(l).copied();
                let early_media = s == Some(Leg::Incoming) && self.state() == CallState::Ringing;
                assert!(
                    s == Some(Leg::Up) || early_media,
                    "leg {l} ({s:?}) in the plan {p:?}"
                );
            }
            if let Some(m) = &g.music {
                assert_eq!(m, MUSIC);
                assert_eq!(
                    g.legs,
                    vec![cust.unwrap()],
                    "music only for the waiting party alone: {p:?}"
                );
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
            Action::AgentReleased(x) => Some(x.as_str()),
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

// ---------------------------------------------------------------- setup

#[test]
fn incoming_to_agent_rings_then_connects() {
    let (mut h, cust, out) = H::incoming(agent("alice"));
    let (a, t) = dialed(&out);
    assert_eq!(t, agent("alice"));
    assert_eq!(kinds(&out), ["INCOMING"]);
    assert_eq!(engaged(&out), ["alice"]);
    assert_eq!(h.state(), CallState::Ringing);
    assert_eq!(h.call.pending(), Some((a, &agent("alice"))));
    assert_eq!(h.call.customer_leg(), Some(cust));
    assert!(
        h.plan().groups.is_empty(),
        "nobody in a room while an agent rings"
    );
    assert_ne!(a, cust);

    let out = h.ev(Event::Ringing(a));
    assert!(
        out.contains(&Action::Progress(cust)),
        "180 to the caller: {out:?}"
    );
    assert_eq!(kinds(&out), ["RINGING"]);

    let out = h.ev(Event::Answered(a));
    assert!(out.contains(&Action::Answer(cust)));
    assert_eq!(h.state(), CallState::Connected);
    assert_eq!(h.call.agent(), Some((a, Some("alice"))));
    assert_eq!(h.call.controller(), Some("alice"));
    assert_eq!(h.call.pending(), None);
    assert_eq!(sorted(h.call.legs()), sorted(vec![cust, a]));
    assert!(h.plan().connected(cust, a));
    assert!(!hears_music(h.plan(), cust));
    assert_eq!(h.busy(), ["alice"]);

    let out = h.cmd(Command::Hangup);
    assert_eq!(hangups(&out), sorted(vec![cust, a]));
    assert_eq!(released(&out), ["alice"]);
    assert_eq!(out.last(), Some(&Action::Ended));
    assert_eq!(h.state(), CallState::Ended);
    assert_eq!(h.call.customer_leg(), None);
    assert_eq!(h.call.agent(), None);
}

#[test]
fn incoming_not_answered_is_rejected_and_agent_released() {
    for status in [486, 408, 603] {
        let (mut h, cust, out) = H::incoming(agent("alice"));
        let (a, _) = dialed(&out);
        h.ev(Event::Ringing(a));
        let out = h.ev(Event::Failed(a, status));
        assert!(out.contains(&Action::Reject(cust, status)), "{out:?}");
        assert!(hangups(&out).is_empty());
        assert_eq!(released(&out), ["alice"]);
        assert_eq!(h.state(), CallState::Ended);
    }
    // The ringing leg going away without a final status counts as a failure.
    let (mut h, cust, out) = H::incoming(agent("alice"));
    let (a, _) = dialed(&out);
    let out = h.ev(Event::HungUp(a));
    assert!(out.contains(&Action::Reject(cust, 480)));
    assert_eq!(h.state(), CallState::Ended);
}

#[test]
fn caller_gives_up_while_agent_rings() {
    let (mut h, cust, out) = H::incoming(agent("alice"));
    let (a, _) = dialed(&out);
    h.ev(Event::Ringing(a));
    let out = h.ev(Event::HungUp(cust));
    assert_eq!(hangups(&out), [a], "the ringing agent is cancelled");
    assert_eq!(released(&out), ["alice"]);
    assert_eq!(h.state(), CallState::Ended);
}

#[test]
fn hangup_command_while_ringing_ends_both_legs() {
    let (mut h, cust, out) = H::incoming(agent("alice"));
    let (a, _) = dialed(&out);
    h.ev(Event::Ringing(a));
    let out = h.cmd(Command::Hangup);
    assert_eq!(hangups(&out), sorted(vec![cust, a]));
    assert_eq!(released(&out), ["alice"]);
    assert_eq!(h.state(), CallState::Ended);
}

#[test]
fn incoming_to_campaign_waits_with_music_then_assigned_agent_answers() {
    let (mut h, cust, out) = H::incoming(campaign("sales"));
    let (q, _) = dialed(&out);
    assert!(
        engaged(&out).is_empty(),
        "nobody engaged before the queue assigns"
    );
    assert!(hears_music(h.plan(), cust), "queued caller hears music");
    h.ev(Event::Ringing(q));
    let out = h.ev(Event::Assigned(q, "carol".into()));
    assert_eq!(engaged(&out), ["carol"]);
    assert_eq!(kinds(&out), ["QUEUE_ASSIGNED"]);
    assert_eq!(h.call.pending(), Some((q, &agent("carol"))));
    assert!(
        hears_music(h.plan(), cust),
        "the caller keeps the queue music while carol rings"
    );
    // carol did not answer (the engine keeps the caller queued); the queue offers
    // the caller to dave: carol's offer is over.
    let out = h.ev(Event::Assigned(q, "dave".into()));
    assert_eq!(released(&out), ["carol"]);
    assert_eq!(engaged(&out), ["dave"]);
    assert_eq!(h.busy(), ["dave"]);
    // Offered to dave again later: a new offer, dave engaged anew.
    let out = h.ev(Event::Assigned(q, "dave".into()));
    assert_eq!(
        (released(&out), engaged(&out)),
        (vec!["dave"], vec!["dave"])
    );
    assert!(hears_music(h.plan(), cust));
    let out = h.ev(Event::Answered(q));
    assert!(out.contains(&Action::Answer(cust)));
    assert!(!hears_music(h.plan(), cust));
    assert_eq!(h.call.agent(), Some((q, Some("dave"))));
    assert!(h.plan().connected(cust, q));
    assert_eq!(h.busy(), ["dave"]);
    h.ev(Event::HungUp(cust));
    assert!(h.busy().is_empty());
}

#[test]
fn queued_caller_gives_up() {
    let (mut h, cust, out) = H::incoming(campaign("sales"));
    let (q, _) = dialed(&out);
    h.ev(Event::Ringing(q));
    h.ev(Event::Assigned(q, "carol".into()));
    let out = h.ev(Event::HungUp(cust));
    assert_eq!(hangups(&out), [q]);
    assert_eq!(released(&out), ["carol"]);
}

#[test]
fn assignment_of_an_unknown_leg_is_ignored() {
    let (mut h, _c, _a) = connected();
    assert!(h.ev(Event::Assigned(999, "zed".into())).is_empty());
    assert!(h.busy() == ["alice"]);
}

#[test]
fn incoming_to_number_has_no_controlling_agent() {
    let (mut h, cust, out) = H::incoming(number("5551000"));
    let (n, _) = dialed(&out);
    assert!(engaged(&out).is_empty());
    h.ev(Event::Answered(n));
    assert_eq!(h.call.agent(), Some((n, None)));
    assert_eq!(h.call.controller(), None);
    assert!(h.plan().connected(cust, n));
    let msg = h.refused(Command::BlindTransfer(agent("bob")));
    assert!(msg.contains("no agent controls this call"), "{msg}");
    let out = h.ev(Event::HungUp(n));
    assert_eq!(hangups(&out), [cust]);
}

#[test]
fn agent_phone_call_to_number() {
    let (mut h, a, out) = H::from_phone("alice", number("5551000"));
    let (n, _) = dialed(&out);
    assert_eq!(engaged(&out), ["alice"]);
    assert_eq!(kinds(&out), ["DIAL"]);
    let out = h.ev(Event::Ringing(n));
    assert!(out.contains(&Action::Progress(a)));
    let out = h.ev(Event::Answered(n));
    assert!(out.contains(&Action::Answer(a)));
    assert_eq!(
        h.call.customer_leg(),
        Some(n),
        "the called number is the served party"
    );
    assert_eq!(h.call.agent(), Some((a, Some("alice"))));
    assert!(h.plan().connected(a, n));
    // Full agent actions apply to an out-of-campaign call too.
    h.cmd(Command::Hold);
    assert!(hears_music(h.plan(), n) && hears_silence(h.plan(), a));
    h.cmd(Command::Unhold);
    let out = h.ev(Event::HungUp(a));
    assert_eq!(hangups(&out), [n]);
    assert_eq!(released(&out), ["alice"]);
}

#[test]
fn agent_phone_call_not_answered_is_rejected_once() {
    let (mut h, a, out) = H::from_phone("alice", number("5551000"));
    let (n, _) = dialed(&out);
    let out = h.ev(Event::Failed(n, 486));
    assert_eq!(
        out.iter()
            .filter(|x| matches!(x, Action::Reject(..)))
            .count(),
        1
    );
    assert!(out.contains(&Action::Reject(a, 486)));
    assert!(
        hangups(&out).is_empty(),
        "a rejected leg is not also hung up: {out:?}"
    );
    assert_eq!(released(&out), ["alice"]);
}

#[test]
fn agent_phone_call_cancelled_by_the_agent() {
    let (mut h, a, out) = H::from_phone("alice", agent("bob"));
    let (b, _) = dialed(&out);
    h.ev(Event::Ringing(b));
    let out = h.ev(Event::HungUp(a));
    assert_eq!(hangups(&out), [b]);
    assert_eq!(sorted_names(released(&out)), ["alice", "bob"]);
}

fn sorted_names(mut v: Vec<&str>) -> Vec<&str> {
    v.sort();
    v
}

#[test]
fn agent_to_agent_call_releases_both_agents() {
    let (mut h, a, out) = H::from_phone("alice", agent("bob"));
    let (b, _) = dialed(&out);
    assert_eq!(engaged(&out), ["alice", "bob"]);
    h.ev(Event::Answered(b));
    assert_eq!(h.busy(), ["alice", "bob"]);
    let out = h.ev(Event::HungUp(b));
    assert_eq!(hangups(&out), [a]);
    assert_eq!(sorted_names(released(&out)), ["alice", "bob"]);

    // Same, ended by a command.
    let (mut h, _a, out) = H::from_phone("alice", agent("bob"));
    let (b, _) = dialed(&out);
    h.ev(Event::Answered(b));
    let out = h.cmd(Command::Hangup);
    assert_eq!(sorted_names(released(&out)), ["alice", "bob"]);
}

#[test]
fn click_to_call_rings_agent_first_then_destination() {
    let (mut h, out) = H::originated("alice", number("5551000"));
    let (a, t) = dialed(&out);
    assert_eq!(t, agent("alice"), "the agent's own phone rings first");
    assert_eq!(engaged(&out), ["alice"]);
    assert_eq!(h.state(), CallState::Originating);
    assert_eq!(h.call.legs(), vec![a], "the destination is not dialled yet");
    assert!(
        h.ev(Event::Ringing(a)).is_empty(),
        "nothing to do while the agent's phone rings"
    );
    let out = h.ev(Event::Answered(a));
    let (n, t) = dialed(&out);
    assert_eq!(t, number("5551000"));
    assert_eq!(h.state(), CallState::Ringing);
    let out = h.ev(Event::Ringing(n));
    assert!(
        !out.iter().any(|x| matches!(x, Action::Progress(_))),
        "no incoming leg to send 180 on"
    );
    let out = h.ev(Event::Answered(n));
    assert!(!out.iter().any(|x| matches!(x, Action::Answer(_))));
    assert_eq!(h.state(), CallState::Connected);
    assert_eq!(h.call.customer_leg(), Some(n));
    assert_eq!(h.call.agent(), Some((a, Some("alice"))));
    assert!(h.plan().connected(a, n));
}

#[test]
fn click_to_call_destination_fails_hangs_up_agent() {
    let (mut h, out) = H::originated("alice", agent("bob"));
    let (a, _) = dialed(&out);
    let out = h.ev(Event::Answered(a));
    let (b, _) = dialed(&out);
    assert_eq!(
        engaged(&out),
        ["bob"],
        "bob is engaged once his phone is dialled"
    );
    let out = h.ev(Event::Failed(b, 486));
    assert_eq!(hangups(&out), [a]);
    assert!(!out.iter().any(|x| matches!(x, Action::Reject(..))));
    assert_eq!(sorted_names(released(&out)), ["alice", "bob"]);
}

#[test]
fn click_to_call_agent_phone_fails_releases_the_agent() {
    let (mut h, out) = H::originated("alice", agent("bob"));
    let (a, _) = dialed(&out);
    let out = h.ev(Event::Failed(a, 408));
    assert_eq!(
        released(&out),
        ["alice"],
        "bob was never engaged, alice must be released"
    );
    assert!(hangups(&out).is_empty());
    assert_eq!(h.state(), CallState::Ended);
}

#[test]
fn click_to_call_abandoned_while_agent_phone_rings() {
    let (mut h, out) = H::originated("alice", agent("bob"));
    let (a, _) = dialed(&out);
    let out = h.cmd(Command::Hangup);
    assert_eq!(
        hangups(&out),
        [a],
        "only the dialled leg is cancelled: {out:?}"
    );
    assert_eq!(released(&out), ["alice"]);
    assert_eq!(h.state(), CallState::Ended);
}

#[test]
fn click_to_call_agent_hangs_up_while_destination_rings() {
    let (mut h, out) = H::originated("alice", number("5551000"));
    let (a, _) = dialed(&out);
    let out = h.ev(Event::Answered(a));
    let (n, _) = dialed(&out);
    h.ev(Event::Ringing(n));
    let out = h.ev(Event::HungUp(a));
    assert_eq!(hangups(&out), [n]);
    assert_eq!(released(&out), ["alice"]);
}

#[test]
fn dialer_contact_answers_then_queue_then_agent() {
    let (mut h, out) = H::dialer(number("5554000"), campaign("sales"));
    let (c, t) = dialed(&out);
    assert_eq!(t, number("5554000"));
    assert!(
        engaged(&out).is_empty(),
        "no agent before the contact answers"
    );
    assert_eq!(h.state(), CallState::Originating);
    assert_eq!(h.call.customer_leg(), Some(c));
    assert!(h.plan().groups.is_empty());
    assert!(h.ev(Event::Ringing(c)).is_empty());
    let out = h.ev(Event::Answered(c));
    assert_eq!(kinds(&out), ["CONTACT_ANSWERED"]);
    let (q, t) = dialed(&out);
    assert_eq!(t, campaign("sales"));
    assert_eq!(h.state(), CallState::Ringing);
    assert!(
        hears_music(h.plan(), c),
        "the answered contact waits with music"
    );
    let out = h.ev(Event::Ringing(q));
    assert!(!out.iter().any(|x| matches!(x, Action::Progress(_))));
    h.ev(Event::Assigned(q, "carol".into()));
    assert!(hears_music(h.plan(), c), "still music while carol rings");
    let out = h.ev(Event::Answered(q));
    assert!(!out.iter().any(|x| matches!(x, Action::Answer(_))));
    assert_eq!(h.state(), CallState::Connected);
    assert_eq!(h.call.agent(), Some((q, Some("carol"))));
    assert!(h.plan().connected(c, q));
    // carol has the full set of agent actions.
    h.cmd(Command::Hold);
    assert!(hears_music(h.plan(), c) && hears_silence(h.plan(), q));
    let out = h.ev(Event::HungUp(c));
    assert_eq!(hangups(&out), [q]);
    assert_eq!(released(&out), ["carol"]);
}

#[test]
fn dialer_contact_not_reached() {
    let (mut h, out) = H::dialer(number("5554000"), campaign("sales"));
    let (c, _) = dialed(&out);
    let out = h.ev(Event::Failed(c, 486));
    assert!(hangups(&out).is_empty() && released(&out).is_empty());
    assert_eq!(h.state(), CallState::Ended);
    // Abandoned from the console while the contact rings.
    let (mut h, out) = H::dialer(number("5554000"), campaign("sales"));
    let (c, _) = dialed(&out);
    let out = h.cmd(Command::Hangup);
    assert_eq!(hangups(&out), [c]);
}

#[test]
fn dialer_queue_timeout_hangs_up_the_contact() {
    let (mut h, out) = H::dialer(number("5554000"), campaign("sales"));
    let (c, _) = dialed(&out);
    let (q, _) = dialed(&h.ev(Event::Answered(c)));
    h.ev(Event::Ringing(q));
    let out = h.ev(Event::Failed(q, 408));
    assert_eq!(
        hangups(&out),
        [c],
        "the answered contact must not be left up"
    );
    assert!(!out.iter().any(|x| matches!(x, Action::Reject(..))));
    assert_eq!(h.state(), CallState::Ended);
}

#[test]
fn dialer_contact_hangs_up_while_queued() {
    let (mut h, out) = H::dialer(number("5554000"), campaign("sales"));
    let (c, _) = dialed(&out);
    let (q, _) = dialed(&h.ev(Event::Answered(c)));
    h.ev(Event::Assigned(q, "carol".into()));
    let out = h.ev(Event::HungUp(c));
    assert_eq!(hangups(&out), [q]);
    assert_eq!(released(&out), ["carol"]);
}

#[test]
fn leg_ids_are_distinct_across_calls() {
    let (c1, l1, _) = Call::incoming("x", 1, MUSIC, agent("a"));
    let (c2, l2, _) = Call::incoming("y", 2, MUSIC, agent("a"));
    assert_ne!(l1, l2);
    assert!(c1.pending().unwrap().0 != c2.pending().unwrap().0);
    assert_eq!(c1.music(), MUSIC);
    assert_eq!(c1.id, "x");
}

// ---------------------------------------------------------------- hold

#[test]
fn hold_plays_music_to_customer_and_silence_to_agent() {
    let (mut h, c, a) = connected();
    let out = h.cmd(Command::Hold);
    assert_eq!(h.state(), CallState::Held);
    assert_eq!(kinds(&out), ["HOLD"]);
    assert!(matches!(out.last(), Some(Action::Media(_))));
    assert!(hears_music(h.plan(), c));
    assert!(hears_silence(h.plan(), a));
    assert!(!h.plan().connected(c, a));
    assert_eq!(h.plan().group_of(c).unwrap().music.as_deref(), Some(MUSIC));

    let out = h.cmd(Command::Unhold);
    assert_eq!(h.state(), CallState::Connected);
    assert_eq!(kinds(&out), ["UNHOLD"]);
    assert!(h.plan().connected(c, a));
    assert!(!hears_music(h.plan(), c) && !hears_music(h.plan(), a));
}

#[test]
fn hold_and_unhold_are_idempotent() {
    let (mut h, _, _) = connected();
    assert!(h.cmd(Command::Unhold).is_empty(), "unhold when not held");
    h.cmd(Command::Hold);
    let plan = h.plan().clone();
    assert!(h.cmd(Command::Hold).is_empty(), "hold when held");
    assert_eq!(h.plan(), &plan);
    assert_eq!(h.state(), CallState::Held);
    h.cmd(Command::Unhold);
    assert!(h.cmd(Command::Unhold).is_empty());
}

#[test]
fn customer_hangs_up_while_held() {
    let (mut h, c, a) = held();
    let out = h.ev(Event::HungUp(c));
    assert_eq!(hangups(&out), [a]);
    assert_eq!(released(&out), ["alice"]);
}

#[test]
fn agent_hangs_up_while_held_ends_the_call() {
    let (mut h, c, a) = held();
    let out = h.ev(Event::HungUp(a));
    assert_eq!(hangups(&out), [c]);
    assert_eq!(released(&out), ["alice"]);
}

// ---------------------------------------------------------------- blind transfer

#[test]
fn blind_transfer_to_agent_releases_a_only_once_target_rings() {
    let (mut h, c, a) = connected();
    let out = h.cmd(Command::BlindTransfer(agent("bob")));
    let (b, t) = dialed(&out);
    assert_eq!(t, agent("bob"));
    assert_eq!(kinds(&out), ["TRANSFER_BLIND"]);
    assert_eq!(engaged(&out), ["bob"]);
    assert!(
        hangups(&out).is_empty() && released(&out).is_empty(),
        "A stays until the target is reached"
    );
    assert_eq!(h.state(), CallState::Transferring);
    let tr = h.call.transfer().unwrap();
    assert_eq!(
        (tr.kind, tr.phase, tr.leg, tr.by_agent.as_str()),
        (TransferKind::Blind, TransferPhase::Dialing, b, "alice")
    );
    assert!(
        hears_music(h.plan(), c),
        "customer on music while transferred"
    );
    assert!(hears_silence(h.plan(), a));

    let out = h.ev(Event::Ringing(b));
    assert_eq!(hangups(&out), [a]);
    assert_eq!(released(&out), ["alice"]);
    assert_eq!(kinds(&out), ["TRANSFER_RINGING", "AGENT_RELEASED"]);
    assert_eq!(h.call.agent(), None);
    assert_eq!(h.call.transfer().unwrap().phase, TransferPhase::Ringing);
    assert!(hears_music(h.plan(), c));
    assert_eq!(h.plan().groups.len(), 1);
    // A second 180 changes nothing.
    assert!(h.ev(Event::Ringing(b)).is_empty());

    let out = h.ev(Event::Answered(b));
    assert_eq!(kinds(&out), ["TRANSFER_COMPLETED"]);
    assert!(hangups(&out).is_empty() && released(&out).is_empty());
    assert_eq!(h.state(), CallState::Connected);
    assert_eq!(h.call.agent(), Some((b, Some("bob"))));
    assert_eq!(h.call.controller(), Some("bob"));
    assert_eq!(h.call.transfer(), None);
    assert!(h.plan().connected(c, b));
    assert_eq!(h.busy(), ["bob"]);
    let out = h.ev(Event::HungUp(c));
    assert_eq!(released(&out), ["bob"]);
}

#[test]
fn blind_transfer_answered_without_ringing_releases_a() {
    let (mut h, c, a, b) = blind(number("5552000"));
    let out = h.ev(Event::Answered(b));
    assert_eq!(hangups(&out), [a]);
    assert_eq!(released(&out), ["alice"]);
    assert_eq!(h.call.agent(), Some((b, None)));
    assert!(h.plan().connected(c, b));
    assert!(h.busy().is_empty());
}

#[test]
fn blind_transfer_to_number_and_campaign() {
    let (mut h, c, a, b) = blind(number("5552000"));
    assert!(h.busy() == ["alice"], "a number engages nobody");
    h.ev(Event::Ringing(b));
    h.ev(Event::Answered(b));
    assert!(h.busy().is_empty());
    assert_eq!(h.call.controller(), None);
    assert!(h.plan().connected(c, b));
    let _ = a;

    // Campaign: queued (= ringing) releases A; the queue then assigns carol.
    let (mut h, c, a, q) = blind(campaign("support"));
    let out = h.ev(Event::Ringing(q));
    assert_eq!(hangups(&out), [a]);
    let out = h.ev(Event::Assigned(q, "carol".into()));
    assert_eq!(engaged(&out), ["carol"]);
    assert_eq!(h.call.transfer().unwrap().target, agent("carol"));
    assert!(
        hears_music(h.plan(), c),
        "still on music while the assigned agent rings"
    );
    h.ev(Event::Answered(q));
    assert_eq!(h.call.agent(), Some((q, Some("carol"))));
    assert!(h.plan().connected(c, q));
    let out = h.cmd(Command::Hangup);
    assert_eq!(released(&out), ["carol"]);
}

#[test]
fn blind_transfer_failing_before_ringing_returns_to_connected() {
    let (mut h, c, a, b) = blind(agent("bob"));
    let out = h.ev(Event::Failed(b, 486));
    assert_eq!(kinds(&out), ["TRANSFER_FAILED"]);
    assert_eq!(released(&out), ["bob"]);
    assert!(hangups(&out).is_empty());
    assert_eq!(h.state(), CallState::Connected);
    assert_eq!(h.call.agent(), Some((a, Some("alice"))));
    assert!(h.plan().connected(c, a));
    assert_eq!(h.call.transfer(), None);
    // And a new transfer may be started.
    h.cmd(Command::BlindTransfer(agent("carol")));
}

#[test]
fn blind_transfer_failing_after_ringing_rings_a_back() {
    let (mut h, c, a, b) = blind(agent("bob"));
    h.ev(Event::Ringing(b));
    let out = h.ev(Event::Failed(b, 408));
    assert_eq!(kinds(&out), ["TRANSFER_FAILED", "TRANSFER_RETURN"]);
    assert_eq!(released(&out), ["bob"]);
    assert_eq!(engaged(&out), ["alice"]);
    let (back, t) = dialed(&out);
    assert_eq!(t, agent("alice"));
    assert_ne!(back, a);
    assert_eq!(h.state(), CallState::Transferring);
    assert!(
        hears_music(h.plan(), c),
        "the customer is not lost: still on music"
    );

    let out = h.ev(Event::Ringing(back));
    assert!(
        hangups(&out).is_empty() && released(&out).is_empty(),
        "nobody to release while ringing A back"
    );
    let out = h.ev(Event::Answered(back));
    assert_eq!(kinds(&out), ["TRANSFER_RETURNED"]);
    assert_eq!(h.state(), CallState::Connected);
    assert_eq!(h.call.agent(), Some((back, Some("alice"))));
    assert!(h.plan().connected(c, back));
    assert_eq!(h.busy(), ["alice"]);

    // A fresh blind transfer after the return behaves normally (A released on ringing).
    let out = h.cmd(Command::BlindTransfer(agent("carol")));
    let (cl, _) = dialed(&out);
    let out = h.ev(Event::Ringing(cl));
    assert_eq!(hangups(&out), [back]);
    assert_eq!(released(&out), ["alice"]);
}

#[test]
fn blind_transfer_failing_twice_ends_the_call() {
    let (mut h, c, _a, b) = blind(agent("bob"));
    h.ev(Event::Ringing(b));
    let out = h.ev(Event::Failed(b, 486));
    let (back, _) = dialed(&out);
    h.ev(Event::Ringing(back));
    let out = h.ev(Event::Failed(back, 408));
    assert_eq!(hangups(&out), [c]);
    assert_eq!(released(&out), ["alice"]);
    assert_eq!(h.state(), CallState::Ended);
}

#[test]
fn blind_transfer_target_leg_hanging_up_counts_as_failure() {
    // Before ringing: back to A.
    let (mut h, c, a, b) = blind(agent("bob"));
    h.ev(Event::HungUp(b));
    assert_eq!(h.state(), CallState::Connected);
    assert!(h.plan().connected(c, a));
    // After ringing: A rung back.
    let (mut h, _c, _a, b) = blind(agent("bob"));
    h.ev(Event::Ringing(b));
    let out = h.ev(Event::HungUp(b));
    assert_eq!(dialed(&out).1, agent("alice"));
}

#[test]
fn blind_transfer_to_campaign_failing_releases_assigned_agent_and_returns() {
    let (mut h, _c, _a, q) = blind(campaign("support"));
    h.ev(Event::Ringing(q));
    h.ev(Event::Assigned(q, "carol".into()));
    let out = h.ev(Event::Failed(q, 408));
    assert_eq!(released(&out), ["carol"]);
    assert_eq!(dialed(&out).1, agent("alice"));
}

#[test]
fn customer_hangs_up_during_blind_transfer() {
    // Target dialling, A still there.
    let (mut h, c, a, b) = blind(agent("bob"));
    let out = h.ev(Event::HungUp(c));
    assert_eq!(hangups(&out), sorted(vec![a, b]));
    assert_eq!(sorted_names(released(&out)), ["alice", "bob"]);
    // Target ringing, A gone.
    let (mut h, c, _a, b) = blind(agent("bob"));
    h.ev(Event::Ringing(b));
    let out = h.ev(Event::HungUp(c));
    assert_eq!(hangups(&out), [b]);
    assert_eq!(released(&out), ["bob"]);
    // While A is rung back.
    let (mut h, c, _a, b) = blind(agent("bob"));
    h.ev(Event::Ringing(b));
    let back = dialed(&h.ev(Event::Failed(b, 486))).0;
    let out = h.ev(Event::HungUp(c));
    assert_eq!(hangups(&out), [back]);
    assert_eq!(released(&out), ["alice"]);
}

#[test]
fn agent_hangs_up_before_blind_target_rings() {
    let (mut h, c, a, b) = blind(agent("bob"));
    let out = h.ev(Event::HungUp(a));
    assert_eq!(released(&out), ["alice"]);
    assert!(hangups(&out).is_empty(), "the customer stays: {out:?}");
    assert_eq!(h.state(), CallState::Transferring);
    assert!(hears_music(h.plan(), c));
    let out = h.ev(Event::Ringing(b));
    assert!(hangups(&out).is_empty() && released(&out).is_empty());
    h.ev(Event::Answered(b));
    assert!(h.plan().connected(c, b));
    assert_eq!(h.busy(), ["bob"]);
}

#[test]
fn agent_gone_before_ringing_then_failure_rings_a_back() {
    let (mut h, _c, a, b) = blind(agent("bob"));
    h.ev(Event::HungUp(a));
    let out = h.ev(Event::Failed(b, 486));
    assert_eq!(dialed(&out).1, agent("alice"));
    assert_eq!(h.busy(), ["alice"]);
}

#[test]
fn hangup_command_during_blind_transfer() {
    let (mut h, c, a, b) = blind(agent("bob"));
    let out = h.cmd(Command::Hangup);
    assert_eq!(hangups(&out), sorted(vec![c, a, b]));
    assert_eq!(sorted_names(released(&out)), ["alice", "bob"]);
}

#[test]
fn same_blind_transfer_again_is_idempotent_and_other_is_refused() {
    let (mut h, _c, _a, b) = blind(agent("bob"));
    assert!(h.cmd(Command::BlindTransfer(agent("bob"))).is_empty());
    h.ev(Event::Ringing(b));
    assert!(
        h.cmd(Command::BlindTransfer(agent("bob"))).is_empty(),
        "still idempotent after A left"
    );
    let msg = h.refused(Command::BlindTransfer(agent("carol")));
    assert!(msg.contains("already in progress"), "{msg}");
    let msg = h.refused(Command::ConsultTransfer(agent("bob")));
    assert!(msg.contains("already in progress"), "{msg}");
}

#[test]
fn transfer_refusals_on_the_target() {
    for state in ["connected", "held"] {
        let (mut h, _, _) = if state == "held" { held() } else { connected() };
        let msg = h.refused(Command::BlindTransfer(agent("alice")));
        assert!(msg.contains("yourself"), "{msg}");
        let msg = h.refused(Command::ConsultTransfer(agent("alice")));
        assert!(msg.contains("yourself"), "{msg}");
        let msg = h.refused(Command::ConsultTransfer(campaign("sales")));
        assert!(msg.contains("campaign") && msg.contains("blind"), "{msg}");
    }
}

#[test]
fn no_transfer_once_a_number_holds_the_call() {
    let (mut h, _c, _a, n) = blind(number("5552000"));
    h.ev(Event::Answered(n));
    for cmd in [
        Command::BlindTransfer(agent("bob")),
        Command::ConsultTransfer(number("1")),
    ] {
        let msg = h.refused(cmd);
        assert!(msg.contains("no agent controls this call"), "{msg}");
    }
    h.cmd(Command::Hold);
    let msg = h.refused(Command::BlindTransfer(agent("bob")));
    assert!(msg.contains("no agent controls this call"), "{msg}");
}

#[test]
fn blind_transfer_from_hold() {
    let (mut h, c, a) = held();
    let out = h.cmd(Command::BlindTransfer(agent("bob")));
    let (b, _) = dialed(&out);
    assert!(hears_music(h.plan(), c));
    let out = h.ev(Event::Failed(b, 486));
    assert!(hangups(&out).is_empty());
    assert_eq!(
        h.state(),
        CallState::Connected,
        "a failed transfer resumes the conversation"
    );
    assert!(h.plan().connected(c, a));
}

#[test]
fn chained_transfers_keep_agents_balanced() {
    // customer -> alice, blind to bob, bob consults carol, completes, carol blind to a number.
    let (mut h, c, _a, b) = blind(agent("bob"));
    h.ev(Event::Ringing(b));
    h.ev(Event::Answered(b));
    let out = h.cmd(Command::ConsultTransfer(agent("carol")));
    let (cl, _) = dialed(&out);
    assert_eq!(h.call.transfer().unwrap().by_agent, "bob");
    h.ev(Event::Answered(cl));
    let out = h.cmd(Command::CompleteTransfer);
    assert_eq!(hangups(&out), [b]);
    assert_eq!(released(&out), ["bob"]);
    assert_eq!(h.busy(), ["carol"]);
    let out = h.cmd(Command::BlindTransfer(number("5553000")));
    let (n, _) = dialed(&out);
    h.ev(Event::Ringing(n));
    h.ev(Event::Answered(n));
    assert!(h.busy().is_empty());
    assert!(h.plan().connected(c, n));
    h.ev(Event::HungUp(n));
    assert_eq!(h.state(), CallState::Ended);
}

// ---------------------------------------------------------------- consultative transfer

#[test]
fn consultation_puts_customer_on_music_and_a_with_b_once_answered() {
    let (mut h, c, a) = connected();
    let out = h.cmd(Command::ConsultTransfer(agent("bob")));
    let (b, _) = dialed(&out);
    assert_eq!(kinds(&out), ["TRANSFER_CONSULT"]);
    assert_eq!(engaged(&out), ["bob"]);
    assert_eq!(h.state(), CallState::Consulting);
    assert_eq!(h.call.third(), Some((b, &agent("bob"))));
    let tr = h.call.transfer().unwrap();
    assert_eq!(
        (tr.kind, tr.phase),
        (TransferKind::Consultative, TransferPhase::Dialing)
    );
    assert!(hears_music(h.plan(), c));
    assert!(hears_silence(h.plan(), a));

    let out = h.ev(Event::Ringing(b));
    assert_eq!(kinds(&out), ["TRANSFER_RINGING"]);
    assert!(
        hangups(&out).is_empty() && released(&out).is_empty(),
        "no release in a consultation"
    );
    assert!(hears_silence(h.plan(), a));

    let out = h.ev(Event::Answered(b));
    assert_eq!(kinds(&out), ["CONSULT_ANSWERED"]);
    assert!(h.plan().connected(a, b));
    assert!(!h.plan().connected(c, a) && !h.plan().connected(c, b));
    assert!(hears_music(h.plan(), c));
    assert!(!hears_music(h.plan(), a));
    assert_eq!(h.busy(), ["alice", "bob"]);
}

#[test]
fn complete_bridges_customer_to_b_and_releases_a() {
    let (mut h, c, a, b) = consult(agent("bob"), TransferPhase::Talking);
    let out = h.cmd(Command::CompleteTransfer);
    assert_eq!(hangups(&out), [a]);
    assert_eq!(released(&out), ["alice"]);
    assert_eq!(kinds(&out), ["TRANSFER_COMPLETED"]);
    assert_eq!(h.state(), CallState::Connected);
    assert_eq!(h.call.agent(), Some((b, Some("bob"))));
    assert_eq!(h.call.third(), None);
    assert_eq!(h.call.transfer(), None);
    assert!(h.plan().connected(c, b));
    assert!(!hears_music(h.plan(), c));
    assert_eq!(h.busy(), ["bob"]);
    let msg = h.refused(Command::CompleteTransfer);
    assert!(msg.contains("no consultative transfer"), "{msg}");
}

#[test]
fn consultation_to_number_completes() {
    let (mut h, c, a, n) = consult(number("5552000"), TransferPhase::Talking);
    let out = h.cmd(Command::CompleteTransfer);
    assert_eq!(hangups(&out), [a]);
    assert_eq!(h.call.agent(), Some((n, None)));
    assert!(h.plan().connected(c, n));
    assert!(h.busy().is_empty());
}

#[test]
fn cancel_brings_a_back_to_the_customer_in_every_phase() {
    for phase in [
        TransferPhase::Dialing,
        TransferPhase::Ringing,
        TransferPhase::Talking,
    ] {
        let (mut h, c, a, b) = consult(agent("bob"), phase);
        let out = h.cmd(Command::CancelTransfer);
        assert_eq!(hangups(&out), [b], "{phase:?}");
        assert_eq!(released(&out), ["bob"]);
        assert_eq!(kinds(&out), ["TRANSFER_CANCELLED"]);
        assert_eq!(h.state(), CallState::Connected);
        assert_eq!(h.call.third(), None);
        assert_eq!(h.call.transfer(), None);
        assert!(h.plan().connected(c, a));
        assert!(!hears_music(h.plan(), c));
        assert_eq!(h.busy(), ["alice"]);
        let msg = h.refused(Command::CancelTransfer);
        assert!(msg.contains("no consultative transfer"), "{msg}");
    }
}

#[test]
fn b_declining_or_hanging_up_brings_a_back() {
    // Declines while ringing.
    let (mut h, c, a, b) = consult(agent("bob"), TransferPhase::Ringing);
    let out = h.ev(Event::Failed(b, 603));
    assert_eq!(kinds(&out), ["TRANSFER_DECLINED"]);
    assert_eq!(released(&out), ["bob"]);
    assert!(hangups(&out).is_empty());
    assert_eq!(h.state(), CallState::Connected);
    assert!(h.plan().connected(c, a));
    // Hangs up after talking to A.
    let (mut h, c, a, b) = consult(agent("bob"), TransferPhase::Talking);
    let out = h.ev(Event::HungUp(b));
    assert_eq!(kinds(&out), ["TRANSFER_DECLINED"]);
    assert_eq!(released(&out), ["bob"]);
    assert!(hangups(&out).is_empty());
    assert_eq!(h.state(), CallState::Connected);
    assert!(h.plan().connected(c, a));
    assert_eq!(h.busy(), ["alice"]);
}

#[test]
fn customer_hanging_up_mid_consultation_ends_everything() {
    for phase in [
        TransferPhase::Dialing,
        TransferPhase::Ringing,
        TransferPhase::Talking,
    ] {
        let (mut h, c, a, b) = consult(agent("bob"), phase);
        let out = h.ev(Event::HungUp(c));
        assert_eq!(hangups(&out), sorted(vec![a, b]), "{phase:?}");
        assert_eq!(sorted_names(released(&out)), ["alice", "bob"]);
        assert_eq!(out.last(), Some(&Action::Ended));
        assert_eq!(h.state(), CallState::Ended);
    }
}

#[test]
fn a_hanging_up_while_talking_to_b_completes() {
    let (mut h, c, a, b) = consult(agent("bob"), TransferPhase::Talking);
    let out = h.ev(Event::HungUp(a));
    assert_eq!(kinds(&out), ["TRANSFER_COMPLETED"]);
    assert_eq!(released(&out), ["alice"]);
    assert!(hangups(&out).is_empty());
    assert_eq!(h.state(), CallState::Connected);
    assert_eq!(h.call.agent(), Some((b, Some("bob"))));
    assert!(h.plan().connected(c, b));
    assert_eq!(h.busy(), ["bob"]);
}

#[test]
fn a_hanging_up_while_b_rings_continues_as_blind() {
    for phase in [TransferPhase::Dialing, TransferPhase::Ringing] {
        let (mut h, c, a, b) = consult(agent("bob"), phase);
        let out = h.ev(Event::HungUp(a));
        assert_eq!(kinds(&out), ["TRANSFER_BLIND"]);
        assert_eq!(released(&out), ["alice"]);
        assert!(hangups(&out).is_empty(), "B keeps ringing: {out:?}");
        assert_eq!(h.state(), CallState::Transferring);
        assert_eq!(h.call.transfer().unwrap().kind, TransferKind::Blind);
        assert_eq!(h.call.third(), None);
        assert!(hears_music(h.plan(), c));
        if phase == TransferPhase::Dialing {
            let out = h.ev(Event::Ringing(b));
            assert!(hangups(&out).is_empty() && released(&out).is_empty());
        }
        let out = h.ev(Event::Answered(b));
        assert_eq!(kinds(&out), ["TRANSFER_COMPLETED"]);
        assert!(h.plan().connected(c, b));
        assert_eq!(h.busy(), ["bob"]);
    }
    // ... and if B then fails, A is rung back like any blind transfer.
    let (mut h, c, a, b) = consult(agent("bob"), TransferPhase::Ringing);
    h.ev(Event::HungUp(a));
    let out = h.ev(Event::Failed(b, 408));
    let (back, t) = dialed(&out);
    assert_eq!(t, agent("alice"));
    h.ev(Event::Answered(back));
    assert!(h.plan().connected(c, back));
}

#[test]
fn complete_and_confer_need_an_answer() {
    for phase in [TransferPhase::Dialing, TransferPhase::Ringing] {
        let (mut h, _, _, _) = consult(agent("bob"), phase);
        let msg = h.refused(Command::CompleteTransfer);
        assert!(msg.contains("before the target answers"), "{msg}");
        let msg = h.refused(Command::Confer);
        assert!(msg.contains("before the consulted party answers"), "{msg}");
    }
}

#[test]
fn same_consultation_again_is_idempotent() {
    for phase in [
        TransferPhase::Dialing,
        TransferPhase::Ringing,
        TransferPhase::Talking,
    ] {
        let (mut h, _, _, _) = consult(agent("bob"), phase);
        assert!(h.cmd(Command::ConsultTransfer(agent("bob"))).is_empty());
        let msg = h.refused(Command::ConsultTransfer(agent("carol")));
        assert!(msg.contains("already in progress"), "{msg}");
        let msg = h.refused(Command::BlindTransfer(agent("bob")));
        assert!(msg.contains("already in progress"), "{msg}");
    }
}

#[test]
fn consultation_from_hold_then_cancel() {
    let (mut h, c, a) = held();
    let out = h.cmd(Command::ConsultTransfer(agent("bob")));
    let (b, _) = dialed(&out);
    h.ev(Event::Answered(b));
    assert!(h.plan().connected(a, b) && hears_music(h.plan(), c));
    h.cmd(Command::CancelTransfer);
    assert_eq!(h.state(), CallState::Connected);
    assert!(h.plan().connected(c, a));
}

#[test]
fn hangup_command_mid_consultation() {
    let (mut h, c, a, b) = consult(agent("bob"), TransferPhase::Talking);
    let out = h.cmd(Command::Hangup);
    assert_eq!(hangups(&out), sorted(vec![c, a, b]));
    assert_eq!(sorted_names(released(&out)), ["alice", "bob"]);
}

// ---------------------------------------------------------------- conference

#[test]
fn confer_puts_all_three_in_one_room() {
    let (mut h, c, a, b) = consult(agent("bob"), TransferPhase::Talking);
    let out = h.cmd(Command::Confer);
    assert_eq!(kinds(&out), ["CONFERENCE"]);
    assert!(hangups(&out).is_empty() && released(&out).is_empty());
    assert_eq!(h.state(), CallState::Conference);
    assert_eq!(h.plan().groups.len(), 1);
    assert_eq!(
        sorted(h.plan().groups[0].legs.clone()),
        sorted(vec![c, a, b])
    );
    assert!(
        h.plan().groups[0].music.is_none(),
        "no music in the conference"
    );
    assert_eq!(h.call.transfer(), None);
    assert_eq!(h.call.third(), Some((b, &agent("bob"))));
    assert_eq!(h.busy(), ["alice", "bob"]);
    // Idempotent.
    assert!(h.cmd(Command::Confer).is_empty());
}

#[test]
fn customer_leaving_conference_leaves_a_with_b() {
    let (mut h, c, a, b) = conference();
    let out = h.ev(Event::HungUp(c));
    assert_eq!(kinds(&out), ["CONFERENCE_LEFT"]);
    assert!(hangups(&out).is_empty() && released(&out).is_empty());
    assert_eq!(h.state(), CallState::Connected);
    assert!(h.plan().connected(a, b));
    assert_eq!(h.call.agent(), Some((a, Some("alice"))));
    assert_eq!(h.call.customer_leg(), Some(b));
    assert_eq!(h.busy(), ["alice", "bob"]);
    // Bob, now the served party, is released when the call ends.
    let out = h.ev(Event::HungUp(a));
    assert_eq!(hangups(&out), [b]);
    assert_eq!(sorted_names(released(&out)), ["alice", "bob"]);
}

#[test]
fn a_leaving_conference_hands_the_call_to_b() {
    let (mut h, c, a, b) = conference();
    let out = h.ev(Event::HungUp(a));
    assert_eq!(released(&out), ["alice"]);
    assert!(hangups(&out).is_empty());
    assert_eq!(h.state(), CallState::Connected);
    assert_eq!(h.call.agent(), Some((b, Some("bob"))));
    assert_eq!(h.call.controller(), Some("bob"));
    assert!(h.plan().connected(c, b));
    // bob now controls the call.
    h.cmd(Command::Hold);
    assert!(hears_music(h.plan(), c) && hears_silence(h.plan(), b));
    let out = h.ev(Event::HungUp(c));
    assert_eq!(released(&out), ["bob"]);
}

#[test]
fn b_leaving_conference_leaves_customer_with_a() {
    let (mut h, c, a, b) = conference();
    let out = h.ev(Event::HungUp(b));
    assert_eq!(released(&out), ["bob"]);
    assert!(hangups(&out).is_empty());
    assert_eq!(h.state(), CallState::Connected);
    assert_eq!(h.call.third(), None);
    assert!(h.plan().connected(c, a));
    assert_eq!(h.busy(), ["alice"]);
}

#[test]
fn conference_with_an_external_number() {
    let (mut h, c, a, n) = consult(number("5552000"), TransferPhase::Talking);
    h.cmd(Command::Confer);
    assert!(h.plan().connected(c, n) && h.plan().connected(a, n));
    // A leaves: customer and number stay, nobody controls the call.
    h.ev(Event::HungUp(a));
    assert!(h.plan().connected(c, n));
    assert_eq!(h.call.controller(), None);
    assert!(h.busy().is_empty());
}

#[test]
fn mute_in_conference() {
    let (mut h, c, a, b) = conference();
    let out = h.cmd(Command::Mute {
        leg: c,
        muted: true,
    });
    assert_eq!(kinds(&out), ["MUTE"]);
    assert_eq!(h.plan().muted, vec![c]);
    assert!(
        h.plan().connected(c, a),
        "a muted party still hears the others"
    );
    assert!(
        h.cmd(Command::Mute {
            leg: c,
            muted: true
        })
        .is_empty(),
        "idempotent mute"
    );
    h.cmd(Command::Mute {
        leg: b,
        muted: true,
    });
    assert_eq!(sorted(h.plan().muted.clone()), sorted(vec![c, b]));
    let out = h.cmd(Command::Mute {
        leg: c,
        muted: false,
    });
    assert_eq!(kinds(&out), ["UNMUTE"]);
    assert_eq!(h.plan().muted, vec![b]);
    assert!(
        h.cmd(Command::Mute {
            leg: a,
            muted: false
        })
        .is_empty(),
        "idempotent unmute"
    );
    let msg = h.refused(Command::Mute {
        leg: 4242,
        muted: true,
    });
    assert!(msg.contains("not part of this conference"), "{msg}");
    // Mutes end with the conference.
    h.cmd(Command::Mute {
        leg: a,
        muted: true,
    });
    h.ev(Event::HungUp(b));
    assert!(h.plan().muted.is_empty());
    assert!(h.plan().connected(c, a));
}

#[test]
fn hangup_command_ends_the_conference() {
    let (mut h, c, a, b) = conference();
    let out = h.cmd(Command::Hangup);
    assert_eq!(hangups(&out), sorted(vec![c, a, b]));
    assert_eq!(sorted_names(released(&out)), ["alice", "bob"]);
}

#[test]
fn conference_dwindles_to_one_then_ends() {
    let (mut h, c, a, b) = conference();
    h.ev(Event::HungUp(c));
    let out = h.ev(Event::HungUp(b));
    assert_eq!(hangups(&out), [a]);
    assert_eq!(h.state(), CallState::Ended);
}

#[test]
fn agent_to_agent_call_conference_where_callee_leaves() {
    // alice calls bob from her phone, consults carol, confers; bob (the served party) leaves.
    let (mut h, a, out) = H::from_phone("alice", agent("bob"));
    let (b, _) = dialed(&out);
    h.ev(Event::Answered(b));
    let out = h.cmd(Command::ConsultTransfer(agent("carol")));
    let (cl, _) = dialed(&out);
    h.ev(Event::Answered(cl));
    h.cmd(Command::Confer);
    let out = h.ev(Event::HungUp(b));
    assert_eq!(released(&out), ["bob"]);
    assert!(h.plan().connected(a, cl));
    let out = h.cmd(Command::Hangup);
    assert_eq!(sorted_names(released(&out)), ["alice", "carol"]);
}

// ---------------------------------------------------------------- ended

#[test]
fn ended_call_ignores_events_and_refuses_commands() {
    let mut h = ended();
    for l in 0..8u64 {
        let l = (1 << 16) | l;
        for e in [
            Event::Ringing(l),
            Event::Answered(l),
            Event::Failed(l, 486),
            Event::HungUp(l),
            Event::Assigned(l, "x".into()),
        ] {
            assert!(h.call.on_event(e).is_empty());
        }
    }
    for c in all_commands(1 << 16 | 1) {
        let name = c.name();
        let msg = h.refused(c);
        assert_eq!(msg, format!("cannot {name}: the call has ended"));
    }
}

// ---------------------------------------------------------------- refusal matrix

fn all_commands(leg: LegId) -> Vec<Command> {
    vec![
        Command::Hold,
        Command::Unhold,
        Command::BlindTransfer(agent("carol")),
        Command::ConsultTransfer(agent("carol")),
        Command::CompleteTransfer,
        Command::CancelTransfer,
        Command::Confer,
        Command::Mute { leg, muted: true },
        Command::Hangup,
    ]
}

/// Every state the public API can build, with a leg of it (for mute).
fn states() -> Vec<(&'static str, H, LegId)> {
    let mut v = Vec::new();
    let (h, out) = H::originated("alice", number("5551000"));
    let a = dialed(&out).0;
    v.push(("originating", h, a));
    let (h, out) = H::dialer(number("5554000"), campaign("sales"));
    let c = dialed(&out).0;
    v.push(("originating (dialer)", h, c));
    let (h, c, _) = H::incoming(agent("alice"));
    v.push(("ringing", h, c));
    let (h, c, _) = H::incoming(campaign("sales"));
    v.push(("ringing (queued)", h, c));
    let (h, a, _) = H::from_phone("alice", number("5551000"));
    v.push(("ringing (agent phone)", h, a));
    let (mut h, out) = H::originated("alice", number("5551000"));
    let a = dialed(&out).0;
    h.ev(Event::Answered(a));
    v.push(("ringing (click-to-call)", h, a));
    let (mut h, out) = H::dialer(number("5554000"), campaign("sales"));
    let c = dialed(&out).0;
    h.ev(Event::Answered(c));
    v.push(("ringing (dialer queue)", h, c));
    let (h, c, _) = connected();
    v.push(("connected", h, c));
    let (h, c, _) = held();
    v.push(("held", h, c));
    let (h, c, _, _) = blind(agent("bob"));
    v.push(("transferring dialing", h, c));
    let (mut h, c, _, b) = blind(agent("bob"));
    h.ev(Event::Ringing(b));
    v.push(("transferring ringing", h, c));
    let (mut h, c, _, b) = blind(agent("bob"));
    h.ev(Event::Ringing(b));
    h.ev(Event::Failed(b, 486));
    v.push(("transferring back", h, c));
    for (name, phase) in [
        ("consulting dialing", TransferPhase::Dialing),
        ("consulting ringing", TransferPhase::Ringing),
        ("consulting talking", TransferPhase::Talking),
    ] {
        let (h, c, _, _) = consult(agent("bob"), phase);
        v.push((name, h, c));
    }
    let (h, c, _, _) = conference();
    v.push(("conference", h, c));
    v.push(("ended", ended(), 1 << 16 | 1));
    v
}

/// The refusal expected for a command in a state (None = accepted), as a
/// fragment of its message.
fn expected_refusal(state: &str, cmd: &Command) -> Option<&'static str> {
    use Command::*;
    let consult_unanswered = state == "consulting dialing" || state == "consulting ringing";
    match (cmd, state) {
        (_, "ended") => Some("the call has ended"),
        (Hangup, _) => None,
        (Hold | Unhold, "connected" | "held") => None,
        (Hold, _) => Some("cannot hold while the call is"),
        (Unhold, _) => Some("cannot unhold while the call is"),
        (BlindTransfer(_) | ConsultTransfer(_), "connected" | "held") => None,
        (BlindTransfer(_) | ConsultTransfer(_), s)
            if s.starts_with("transferring") || s.starts_with("consulting") =>
        {
            Some("a transfer is already in progress")
        }
        (BlindTransfer(_), _) => Some("cannot start a blind transfer while the call is"),
        (ConsultTransfer(_), _) => Some("cannot start a consultative transfer while the call is"),
        (CompleteTransfer, "consulting talking") => None,
        (CompleteTransfer, _) if consult_unanswered => Some("before the target answers"),
        (CancelTransfer, s) if s.starts_with("consulting") => None,
        (CompleteTransfer | CancelTransfer, _) => Some("no consultative transfer in progress"),
        (Confer, "consulting talking" | "conference") => None,
        (Confer, _) if consult_unanswered => Some("before the consulted party answers"),
        (Confer, _) => Some("cannot confer: no answered consultation"),
        (Mute { .. }, "conference") => None,
        (Mute { .. }, _) => Some("only conference parties can be muted"),
        (AdoptAgentSide { .. }, "connected" | "held") => None,
        (AdoptAgentSide { .. }, _) => Some("cannot adopt the agent side while the call is"),
        (Detach(_), _) => None,
    }
}

/// How the refusal names the state it was refused in.
fn state_words(state: &str) -> &'static str {
    match state.split(' ').next().unwrap() {
        "originating" => "ringing the agent's phone",
        "ringing" => "ringing",
        "connected" => "connected",
        "held" => "on hold",
        "transferring" => "being transferred",
        "consulting" => "in a consultation",
        "conference" => "in a conference",
        _ => "ended",
    }
}

#[test]
fn every_command_in_every_state() {
    let mut refused = 0;
    for (state, h0, leg) in states() {
        // The builder reached the state it is named after.
        let kind = state.split(' ').next().unwrap();
        assert_eq!(
            format!("{:?}", h0.state()).to_lowercase(),
            kind,
            "builder for {state}"
        );
        for cmd in all_commands(leg) {
            let mut h = h0.clone();
            let name = cmd.name();
            match (expected_refusal(state, &cmd), h.try_cmd(cmd.clone())) {
                (None, Ok(_)) => {}
                (None, Err(msg)) => panic!("{name} refused in {state}: {msg}"),
                (Some(frag), Ok(out)) => {
                    panic!("{name} accepted in {state} (expected '{frag}'): {out:?}")
                }
                (Some(frag), Err(msg)) => {
                    refused += 1;
                    assert!(
                        msg.contains(frag),
                        "{name} in {state}: '{msg}' lacks '{frag}'"
                    );
                    let generic = msg.contains("while the call is") || msg.contains("(call is");
                    if generic {
                        assert!(
                            msg.contains(state_words(state)),
                            "{name} in {state}: '{msg}' does not say the state"
                        );
                    }
                    let stem = name.split(' ').next().unwrap();
                    assert!(
                        msg.contains(stem) || msg.contains("transfer") || msg.contains("ended"),
                        "{name} in {state}: '{msg}' does not say what was refused"
                    );
                }
            }
        }
    }
    assert!(refused > 80, "only {refused} refusals checked");
}

#[test]
fn hold_and_unhold_refused_mid_transfer_and_conference() {
    // Spot-check full messages.
    let (mut h, _, _, _) = consult(agent("bob"), TransferPhase::Talking);
    assert_eq!(
        h.refused(Command::Hold),
        "cannot hold while the call is in a consultation"
    );
    let (mut h, _, _, _) = blind(agent("bob"));
    assert_eq!(
        h.refused(Command::Unhold),
        "cannot unhold while the call is being transferred"
    );
    let (mut h, _, _, _) = conference();
    assert_eq!(
        h.refused(Command::Hold),
        "cannot hold while the call is in a conference"
    );
    assert_eq!(
        h.refused(Command::BlindTransfer(agent("carol"))),
        "cannot start a blind transfer while the call is in a conference"
    );
    let (mut h, _, _) = connected();
    assert_eq!(
        h.refused(Command::CompleteTransfer),
        "cannot complete transfer: no consultative transfer in progress (call is connected)"
    );
    assert_eq!(
        h.refused(Command::Mute {
            leg: 1,
            muted: true
        }),
        "cannot mute: only conference parties can be muted (call is connected)"
    );
}

// ---------------------------------------------------------------- exhaustive exploration

#[derive(Debug, Clone)]
enum Input {
    Ev(Event),
    Cmd(Command),
}

/// Plausible engine events and every agent command, given what the engine knows.
fn inputs(h: &H) -> Vec<Input> {
    let mut v = Vec::new();
    for (&l, &s) in &h.legs {
        let queue = matches!(h.targets.get(&l), Some(Target::Campaign(_)));
        match s {
            Leg::Incoming => v.push(Input::Ev(Event::HungUp(l))),
            Leg::Dialing | Leg::Ringing => {
                if s == Leg::Dialing {
                    v.push(Input::Ev(Event::Ringing(l)));
                }
                v.push(Input::Ev(Event::Answered(l)));
                v.push(Input::Ev(Event::Failed(l, 486)));
                if queue {
                    // Like the engine, a queue only offers callers to agents not busy with this call.
                    for q in ["qa", "qb"] {
                        if !h.busy().contains(&q) {
                            v.push(Input::Ev(Event::Assigned(l, q.into())));
                        }
                    }
                }
            }
            Leg::Up => {
                v.push(Input::Ev(Event::HungUp(l)));
                v.push(Input::Cmd(Command::Mute {
                    leg: l,
                    muted: true,
                }));
                v.push(Input::Cmd(Command::Mute {
                    leg: l,
                    muted: false,
                }));
            }
            Leg::Gone => {}
        }
    }
    for c in [
        Command::Hold,
        Command::Unhold,
        Command::BlindTransfer(agent("bob")),
        Command::BlindTransfer(number("5559000")),
        Command::BlindTransfer(campaign("support")),
        Command::BlindTransfer(agent("alice")),
        Command::ConsultTransfer(agent("bob")),
        Command::ConsultTransfer(number("5559000")),
        Command::ConsultTransfer(campaign("support")),
        Command::CompleteTransfer,
        Command::CancelTransfer,
        Command::Confer,
        Command::Hangup,
    ] {
        v.push(Input::Cmd(c));
    }
    v
}

fn explore(start: H, depth: usize) -> usize {
    let mut seen = HashSet::new();
    let mut queue = VecDeque::from([(start, 0usize, Vec::<Input>::new())]);
    let mut count = 0;
    while let Some((h, d, path)) = queue.pop_front() {
        let key = format!("{:?}|{:?}|{:?}", h.call, h.legs, h.engaged);
        if !seen.insert(key) {
            continue;
        }
        count += 1;
        // Whatever happened so far, hanging up ends the call cleanly.
        if !h.ended {
            let mut end = h.clone();
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                end.cmd(Command::Hangup);
            }));
            assert!(r.is_ok(), "hangup after {path:?}");
        }
        if d == depth || h.ended {
            continue;
        }
        for input in inputs(&h) {
            let mut next = h.clone();
            let step = input.clone();
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match step {
                Input::Ev(e) => {
                    next.ev(e);
                }
                Input::Cmd(c) => {
                    let _ = next.try_cmd(c);
                }
            }));
            let mut p = path.clone();
            p.push(input);
            assert!(r.is_ok(), "failed after {p:?}");
            queue.push_back((next, d + 1, p));
        }
    }
    count
}

#[test]
fn exhaustive_sequences_keep_invariants() {
    // Breadth-first over every plausible sequence (deduplicated by resulting
    // state); SWITCHBOARD_CALL_DEPTH raises the depth for a longer hunt.
    let depth = std::env::var("SWITCHBOARD_CALL_DEPTH")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(8);
    assert!(depth > 0);
    let starts = vec![
        H::incoming(agent("alice")).0,
        H::incoming(campaign("sales")).0,
        H::incoming(number("5551000")).0,
        H::from_phone("alice", agent("dave")).0,
        H::originated("alice", number("5551000")).0,
        H::originated("alice", agent("dave")).0,
        H::dialer(number("5554000"), campaign("sales")).0,
        connected().0,
        blind(campaign("support")).0,
        consult(agent("bob"), TransferPhase::Talking).0,
        conference().0,
    ];
    let total: usize = starts.into_iter().map(|h| explore(h, depth)).sum();
    assert!(total > 10_000, "explored only {total} states");
}

// ---------------------------------------------------------------- attended transfer by phone

/// alice (call 1 with a customer, on hold) dialled bob from her phone (call 2),
/// then her phone sends REFER with Replaces: bob's leg moves to call 1.
#[test]
fn phone_attended_transfer_adopts_and_detaches() {
    let (mut h1, cust, a1) = held();
    let (mut h2, a2, out) = H::from_phone("alice", agent("bob"));
    let (b, _) = dialed(&out);
    h2.ev(Event::Ringing(b));
    h2.ev(Event::Answered(b));
    assert_eq!(h2.state(), CallState::Connected);
    assert_eq!(h2.busy(), vec!["alice", "bob"]);

    // Call 1 adopts bob's leg as its agent side.
    h1.legs.insert(b, Leg::Up);
    let out = h1.cmd(Command::AdoptAgentSide {
        leg: b,
        target: agent("bob"),
    });
    assert!(out.contains(&Action::Hangup(a1)));
    assert!(out.contains(&Action::AgentReleased("alice".into())));
    assert!(out.contains(&Action::AgentEngaged("bob".into())));
    assert!(kinds(&out).contains(&"TRANSFER_COMPLETED"));
    assert_eq!(h1.state(), CallState::Connected);
    assert_eq!(h1.call.agent(), Some((b, Some("bob"))));
    assert_eq!(h1.call.customer_leg(), Some(cust));
    assert_eq!(h1.plan().groups.len(), 1);
    assert_eq!(h1.plan().groups[0].legs, vec![cust, b]);
    assert_eq!(h1.plan().groups[0].music, None);
    assert_eq!(h1.busy(), vec!["bob"]);

    // Call 2 lets bob's leg go without hanging it up, and ends.
    h2.legs.insert(b, Leg::Gone);
    let out = h2.cmd(Command::Detach(b));
    assert!(!out.contains(&Action::Hangup(b)), "{out:?}");
    assert!(out.contains(&Action::Hangup(a2)));
    assert!(out.contains(&Action::AgentReleased("alice".into())));
    assert!(out.contains(&Action::AgentReleased("bob".into())));
    assert_eq!(out.last(), Some(&Action::Ended));
    assert_eq!(h2.state(), CallState::Ended);

    // Call 1 goes on normally with bob: he hangs up, the call ends.
    h1.ev(Event::HungUp(b));
    assert_eq!(h1.state(), CallState::Ended);
}

#[test]
fn adopt_agent_side_works_from_connected_and_refuses_otherwise() {
    let (mut h, _, _) = connected();
    h.legs.insert(9, Leg::Up);
    h.cmd(Command::AdoptAgentSide {
        leg: 9,
        target: number("5551000"),
    });
    assert_eq!(h.call.agent(), Some((9, None)));
    assert_eq!(h.busy(), Vec::<&str>::new());

    let (mut h, c, _) = connected();
    let msg = h.refused(Command::AdoptAgentSide {
        leg: c,
        target: agent("bob"),
    });
    assert!(msg.contains("already part of this call"), "{msg}");
    let msg = h.refused(Command::AdoptAgentSide {
        leg: 9,
        target: agent("alice"),
    });
    assert!(msg.contains("yourself"), "{msg}");

    let (mut h, _, _, _) = consult(agent("bob"), TransferPhase::Talking);
    let msg = h.refused(Command::AdoptAgentSide {
        leg: 9,
        target: agent("carol"),
    });
    assert!(msg.contains("while the call is in a consultation"), "{msg}");

    let mut h = ended();
    h.refused(Command::AdoptAgentSide {
        leg: 9,
        target: agent("carol"),
    });
}

#[test]
fn detach_refuses_foreign_legs_and_ends_mid_consultation() {
    let (mut h, _, _) = connected();
    let msg = h.refused(Command::Detach(12345));
    assert!(msg.contains("not part of this call"), "{msg}");

    let (mut h, c, a, b) = consult(agent("bob"), TransferPhase::Talking);
    h.legs.insert(a, Leg::Gone);
    let out = h.cmd(Command::Detach(a));
    assert!(out.contains(&Action::Hangup(c)));
    assert!(out.contains(&Action::Hangup(b)));
    assert!(!out.contains(&Action::Hangup(a)));
    assert_eq!(h.state(), CallState::Ended);
}
