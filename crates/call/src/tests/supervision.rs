//! Supervision: who hears whom in each mode, mode changes, stop, take
//! over, the call moving on (hold, transfers) and ending under a supervisor,
//! and the refusals.

use super::*;
use crate::{SuperviseMode, SupervisorAction};

const BOSS: &str = "boss";

fn sup(who: &str, action: SupervisorAction) -> Command {
    Command::Supervise {
        supervisor: who.into(),
        phone: who.into(),
        action,
    }
}
fn mode(m: SuperviseMode) -> SupervisorAction {
    SupervisorAction::Mode(m)
}
fn logs_by(out: &[Action]) -> Vec<(&'static str, &str)> {
    out.iter()
        .filter_map(|a| match a {
            Action::LogBy { kind, by, .. } => Some((*kind, by.as_str())),
            _ => None,
        })
        .collect()
}

/// `who` starts supervising `h` in `m` and its phone answers; returns its leg.
fn supervising(h: &mut H, who: &str, m: SuperviseMode) -> LegId {
    let out = h.cmd(sup(who, mode(m)));
    let (leg, target) = dialed(&out);
    assert_eq!(target, agent(who));
    assert_eq!(engaged(&out), vec![who]);
    assert_eq!(logs_by(&out), vec![("SUPERVISE_START", who)]);
    assert!(
        h.plan().group_of(leg).is_none(),
        "nothing heard before the phone answers"
    );
    h.ev(Event::Ringing(leg));
    let out = h.ev(Event::Answered(leg));
    assert_eq!(logs_by(&out), vec![("SUPERVISE_ANSWERED", who)]);
    leg
}

#[test]
fn listen_hears_both_and_nobody_hears_the_supervisor() {
    let (mut h, c, a) = connected();
    let s = supervising(&mut h, BOSS, SuperviseMode::Listen);
    let p = h.plan();
    assert!(p.hears(s, c) && p.hears(s, a), "{p:?}");
    assert!(!p.hears(c, s) && !p.hears(a, s), "{p:?}");
    assert!(
        p.hears(c, a) && p.hears(a, c),
        "the call itself is untouched"
    );
}

#[test]
fn whisper_reaches_the_agent_only() {
    let (mut h, c, a) = connected();
    let s = supervising(&mut h, BOSS, SuperviseMode::Whisper);
    let p = h.plan();
    assert!(p.hears(a, s) && !p.hears(c, s), "{p:?}");
    assert!(p.hears(s, c) && p.hears(s, a) && p.hears(c, a));
}

#[test]
fn barge_everyone_hears_everyone() {
    let (mut h, c, a) = connected();
    let s = supervising(&mut h, BOSS, SuperviseMode::Barge);
    let p = h.plan();
    for (x, y) in [(c, a), (c, s), (a, c), (a, s), (s, c), (s, a)] {
        assert!(p.hears(x, y), "{x} hears {y}: {p:?}");
    }
    assert!(p.unheard.is_empty());
}

#[test]
fn the_mode_changes_live_and_stop_leaves_the_call_as_it_was() {
    let (mut h, c, a) = connected();
    let before = h.plan().clone();
    let s = supervising(&mut h, BOSS, SuperviseMode::Listen);
    let out = h.cmd(sup(BOSS, mode(SuperviseMode::Whisper)));
    assert_eq!(logs_by(&out), vec![("SUPERVISE_MODE", BOSS)]);
    assert!(
        out.iter().all(|a| !matches!(a, Action::Dial { .. })),
        "no re-dial"
    );
    assert!(h.plan().hears(a, s) && !h.plan().hears(c, s));
    let out = h.cmd(sup(BOSS, mode(SuperviseMode::Barge)));
    assert_eq!(logs_by(&out), vec![("SUPERVISE_MODE", BOSS)]);
    assert!(h.plan().hears(c, s));
    // The same mode again: nothing to do, nothing logged.
    assert!(h.cmd(sup(BOSS, mode(SuperviseMode::Barge))).is_empty());
    let out = h.cmd(sup(BOSS, SupervisorAction::Stop));
    assert_eq!(hangups(&out), vec![s]);
    assert_eq!(released(&out), vec![BOSS]);
    assert_eq!(logs_by(&out), vec![("SUPERVISE_STOP", BOSS)]);
    assert_eq!(h.plan(), &before);
    assert!(h.call.supervisions().is_empty());
    assert_eq!(h.state(), CallState::Connected);
}

#[test]
fn mode_can_change_while_the_phone_rings() {
    let (mut h, c, a) = connected();
    let out = h.cmd(sup(BOSS, mode(SuperviseMode::Listen)));
    let (s, _) = dialed(&out);
    h.cmd(sup(BOSS, mode(SuperviseMode::Whisper)));
    h.ev(Event::Answered(s));
    assert!(h.plan().hears(a, s) && !h.plan().hears(c, s));
}

#[test]
fn call_ending_hangs_up_the_supervisor() {
    for who_leaves in ["customer", "agent"] {
        let (mut h, c, a) = connected();
        let s = supervising(&mut h, BOSS, SuperviseMode::Listen);
        let leaving = if who_leaves == "customer" { c } else { a };
        let out = h.ev(Event::HungUp(leaving));
        assert!(hangups(&out).contains(&s), "{who_leaves}: {out:?}");
        assert!(released(&out).contains(&BOSS));
        assert!(logs_by(&out).contains(&("SUPERVISE_STOP", BOSS)));
        assert_eq!(h.state(), CallState::Ended);
    }
    let (mut h, _, _) = connected();
    let s = supervising(&mut h, BOSS, SuperviseMode::Barge);
    let out = h.cmd(Command::Hangup);
    assert_eq!(hangups(&out).iter().filter(|l| **l == s).count(), 1);
}

#[test]
fn supervisor_hanging_up_ends_only_the_supervision() {
    let (mut h, _, _) = connected();
    let before = h.plan().clone();
    let s = supervising(&mut h, BOSS, SuperviseMode::Barge);
    let out = h.ev(Event::HungUp(s));
    assert_eq!(logs_by(&out), vec![("SUPERVISE_STOP", BOSS)]);
    assert_eq!(released(&out), vec![BOSS]);
    assert!(hangups(&out).is_empty());
    assert_eq!(h.plan(), &before);
    assert_eq!(h.state(), CallState::Connected);
}

#[test]
fn supervisor_phone_not_answering() {
    let (mut h, _, _) = connected();
    let out = h.cmd(sup(BOSS, mode(SuperviseMode::Listen)));
    let (s, _) = dialed(&out);
    let out = h.ev(Event::Failed(s, 486));
    assert_eq!(logs_by(&out), vec![("SUPERVISE_FAILED", BOSS)]);
    assert_eq!(released(&out), vec![BOSS]);
    assert!(h.call.supervisions().is_empty());
}

#[test]
fn two_supervisors_listen_and_one_speaks_at_a_time() {
    let (mut h, c, a) = connected();
    let s1 = supervising(&mut h, "boss1", SuperviseMode::Listen);
    let s2 = supervising(&mut h, "boss2", SuperviseMode::Listen);
    let p = h.plan();
    assert!(p.hears(s1, c) && p.hears(s2, a) && !p.hears(c, s2));
    h.cmd(sup("boss1", mode(SuperviseMode::Whisper)));
    let msg = h.refused(sup("boss2", mode(SuperviseMode::Barge)));
    assert!(msg.contains("boss1") && msg.contains("whisper"), "{msg}");
    // A third one may still come in to listen, not to barge.
    let msg = h.refused(sup("boss3", mode(SuperviseMode::Barge)));
    assert!(msg.contains("one supervisor speaks at a time"), "{msg}");
    supervising(&mut h, "boss3", SuperviseMode::Listen);
    h.cmd(sup("boss1", SupervisorAction::Stop));
    h.cmd(sup("boss2", mode(SuperviseMode::Barge)));
    assert!(h.plan().hears(c, s2));
}

#[test]
fn supervision_follows_hold() {
    let (mut h, c, a) = connected();
    let s = supervising(&mut h, BOSS, SuperviseMode::Whisper);
    h.cmd(Command::Hold);
    let p = h.plan();
    assert!(p.hears(s, a) && p.hears(a, s), "with the agent: {p:?}");
    assert!(!p.connected(s, c) && hears_music(p, c));
    h.cmd(Command::Unhold);
    assert!(h.plan().hears(s, c) && !h.plan().hears(c, s));
}

#[test]
fn supervision_follows_a_completed_transfer_and_says_so() {
    let (mut h, c, a, b) = consult(agent("bob"), TransferPhase::Talking);
    let s = supervising(&mut h, BOSS, SuperviseMode::Listen);
    assert!(
        h.plan().hears(s, a) && h.plan().hears(s, b),
        "hears the consultation"
    );
    let out = h.cmd(Command::CompleteTransfer);
    let follow: Vec<_> = out
        .iter()
        .filter_map(|x| match x {
            Action::LogBy {
                kind: "SUPERVISE_FOLLOW",
                detail,
                ..
            } => Some(detail.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(follow, vec!["now on agent bob".to_string()]);
    assert!(h.plan().hears(s, c) && h.plan().hears(s, b) && !h.plan().hears(b, s));
}

#[test]
fn supervision_stays_with_the_customer_when_the_agent_leaves() {
    let (mut h, c, _, b) = blind(agent("bob"));
    let s = supervising(&mut h, BOSS, SuperviseMode::Whisper);
    let out = h.ev(Event::Ringing(b));
    assert!(logs_by(&out).contains(&("SUPERVISE_FOLLOW", BOSS)));
    let p = h.plan();
    assert!(p.hears(s, c) && !p.hears(c, s), "{p:?}");
    h.ev(Event::Answered(b));
    assert!(h.plan().hears(b, s), "whispers to the new agent");
}

#[test]
fn takeover_replaces_the_agent() {
    let (mut h, c, a) = connected();
    let s = supervising(&mut h, BOSS, SuperviseMode::Listen);
    let out = h.cmd(sup(BOSS, SupervisorAction::TakeOver));
    assert_eq!(hangups(&out), vec![a]);
    assert_eq!(released(&out), vec!["alice"]);
    assert_eq!(logs_by(&out), vec![("SUPERVISE_TAKEOVER", BOSS)]);
    assert_eq!(h.call.controller(), Some(BOSS));
    assert!(h.call.supervisions().is_empty());
    assert!(h.plan().hears(c, s) && h.plan().hears(s, c));
    // The supervisor now handles the call like an agent.
    h.cmd(Command::Hold);
    h.cmd(Command::Unhold);
    let out = h.ev(Event::HungUp(c));
    assert_eq!(released(&out), vec![BOSS]);
}

#[test]
fn takeover_of_a_held_call_keeps_it_held() {
    let (mut h, c, _) = connected();
    let s = supervising(&mut h, BOSS, SuperviseMode::Listen);
    h.cmd(Command::Hold);
    h.cmd(sup(BOSS, SupervisorAction::TakeOver));
    assert_eq!(h.state(), CallState::Held);
    h.cmd(Command::Unhold);
    assert!(h.plan().hears(c, s));
}

#[test]
fn refusals() {
    let (mut h, _, _) = connected();
    let msg = h.refused(sup(BOSS, SupervisorAction::Stop));
    assert_eq!(msg, "boss is not supervising this call");
    let msg = h.refused(sup(BOSS, SupervisorAction::TakeOver));
    assert_eq!(msg, "boss is not supervising this call");
    let msg = h.refused(sup("alice", mode(SuperviseMode::Listen)));
    assert!(msg.contains("already on this call"), "{msg}");
    h.cmd(sup(BOSS, mode(SuperviseMode::Listen)));
    let msg = h.refused(sup(BOSS, SupervisorAction::TakeOver));
    assert!(msg.contains("before extension boss answers"), "{msg}");

    let (mut h, _, _) = H::incoming(agent("alice"));
    let msg = h.refused(sup(BOSS, mode(SuperviseMode::Listen)));
    assert_eq!(msg, "cannot supervise while the call is ringing");

    let (mut h, _, _, _) = consult(agent("bob"), TransferPhase::Talking);
    supervising(&mut h, BOSS, SuperviseMode::Listen);
    let msg = h.refused(sup(BOSS, SupervisorAction::TakeOver));
    assert_eq!(msg, "cannot take over while the call is in a consultation");

    let mut h = ended();
    let msg = h.refused(sup(BOSS, mode(SuperviseMode::Listen)));
    assert_eq!(msg, "cannot supervise: the call has ended");
}

#[test]
fn supervision_in_a_conference() {
    let (mut h, c, a, b) = conference();
    let s = supervising(&mut h, BOSS, SuperviseMode::Whisper);
    let p = h.plan();
    assert!(p.hears(a, s) && !p.hears(c, s) && !p.hears(b, s));
    // The agent leaves: the supervisor follows the one who is left on the agent side.
    h.ev(Event::HungUp(a));
    assert!(h.plan().hears(b, s) && !h.plan().hears(c, s));
}

#[test]
fn phone_keys_select_modes() {
    assert_eq!(SuperviseMode::from_digit('4'), Some(SuperviseMode::Listen));
    assert_eq!(SuperviseMode::from_digit('5'), Some(SuperviseMode::Whisper));
    assert_eq!(SuperviseMode::from_digit('6'), Some(SuperviseMode::Barge));
    assert_eq!(SuperviseMode::from_digit('7'), None);
}
