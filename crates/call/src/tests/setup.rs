//! Call setup: incoming calls, calls from an agent's phone, click-to-call, dialer.

use super::*;

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
fn click_to_call_destination_is_no_party_before_it_is_dialled() {
    // Its leg id is reserved (and shown as pending) but nothing was sent to
    // it: events about it are stale and change nothing.
    let (mut h, out) = H::originated("alice", agent("bob"));
    let (a, _) = dialed(&out);
    let (b, t) = h.call.pending().map(|(l, t)| (l, t.clone())).unwrap();
    assert_eq!(t, agent("bob"));
    for e in [
        Event::Ringing(b),
        Event::Answered(b),
        Event::Failed(b, 486),
        Event::HungUp(b),
        Event::Assigned(b, "carol".into()),
    ] {
        assert!(h.call.on_event(e.clone()).is_empty(), "{e:?}");
        assert_eq!(h.state(), CallState::Originating);
    }
    assert_eq!(
        h.refused(Command::Detach(b)),
        format!("cannot detach leg {b}: not part of this call")
    );
    let out = h.ev(Event::Answered(a));
    assert_eq!(dialed(&out), (b, agent("bob")));
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

// ---------------------------------------------------------------- early media

#[test]
fn agent_phone_hears_the_far_ends_early_media_through_183() {
    let (mut h, a, out) = H::from_phone("alice", number("5551000"));
    let (n, _) = dialed(&out);
    h.ev(Event::Ringing(n));
    assert!(
        h.plan().groups.is_empty(),
        "180: the phone plays its own ringback"
    );
    let out = h.ev(Event::EarlyMedia(n));
    assert!(
        out.contains(&Action::EarlyMedia(a)),
        "183 with SDP to the phone: {out:?}"
    );
    assert_eq!(kinds(&out), ["EARLY_MEDIA"]);
    assert!(h.plan().hears(a, n), "the announcement reaches the agent");
    assert!(
        h.ev(Event::EarlyMedia(n)).is_empty(),
        "a second 183 changes nothing"
    );
    let out = h.ev(Event::Answered(n));
    assert!(out.contains(&Action::Answer(a)));
    assert!(h.plan().connected(a, n));
}

#[test]
fn click_to_call_agent_hears_ringback_then_early_media() {
    let (mut h, out) = H::originated("alice", number("5551000"));
    let (a, _) = dialed(&out);
    let out = h.ev(Event::Answered(a));
    let (n, _) = dialed(&out);
    h.ev(Event::Ringing(n));
    let g = h
        .plan()
        .group_of(a)
        .expect("the agent is in a room")
        .clone();
    assert_eq!(g.legs, [a]);
    assert_eq!(
        g.music.as_deref(),
        Some(crate::RINGBACK),
        "ringback, not silence"
    );
    let out = h.ev(Event::EarlyMedia(n));
    assert!(
        !out.iter().any(|x| matches!(x, Action::EarlyMedia(_))),
        "the agent's leg is answered already: no 183"
    );
    assert!(h.plan().hears(a, n) && !hears_music(h.plan(), a));
    h.ev(Event::Answered(n));
    assert_eq!(h.state(), CallState::Connected);
}

#[test]
fn a_queued_caller_keeps_its_music_when_the_agent_phone_sends_183() {
    let (mut h, cust, out) = H::incoming(Target::Campaign("support".into()));
    let (q, _) = dialed(&out);
    h.ev(Event::Assigned(q, "alice".into()));
    h.ev(Event::Ringing(q));
    let out = h.ev(Event::EarlyMedia(q));
    assert!(out.is_empty(), "{out:?}");
    assert!(hears_music(h.plan(), cust));
}
