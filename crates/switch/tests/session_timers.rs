//! Session timers (RFC 4028) in virtual time: 422 below our Min-SE, the
//! 2xx's Session-Expires/Require, refreshes by us or by the peer, the expiry
//! that ends a call nobody refreshes, and the same on our outgoing INVITEs.

mod harness;

use harness::{CallState, Harness};

/// Every message `phone` received whose first line starts with `start`.
fn messages(h: &mut Harness, phone: &str, start: &str) -> Vec<String> {
    h.phone(phone)
        .messages()
        .iter()
        .filter(|m| m.starts_with(start))
        .cloned()
        .collect()
}

/// The value of header `name` in a message (first occurrence).
fn header(msg: &str, name: &str) -> Option<String> {
    msg.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

/// The trunk sends these headers on its INVITEs; a customer calls agent 1001
/// who answers. Returns (trunk call index, call id).
fn customer_call_with(h: &mut Harness, headers: &[(&'static str, &str)]) -> (usize, String) {
    h.phone("trunk").behaviour_mut().extra_headers =
        headers.iter().map(|(k, v)| (*k, v.to_string())).collect();
    let t = h.customer_calls("1001");
    h.answer("1001", 0);
    assert_eq!(h.state("trunk", t), CallState::Confirmed);
    (t, h.only_call())
}

/// The 2xx the trunk received to its initial INVITE.
fn ok_to_invite(h: &mut Harness) -> String {
    messages(h, "trunk", "SIP/2.0 200")
        .into_iter()
        .find(|m| header(m, "CSeq").is_some_and(|c| c.ends_with("INVITE")))
        .expect("a 200 to the INVITE")
}

fn count(h: &mut Harness, phone: &str, what: &str) -> usize {
    h.phone(phone)
        .received()
        .iter()
        .filter(|m| *m == what)
        .count()
}

#[test]
fn an_interval_below_min_se_gets_422() {
    let mut h = Harness::new();
    h.phone("trunk").behaviour_mut().extra_headers = vec![
        ("Supported", "timer".into()),
        ("Session-Expires", "60".into()),
    ];
    let t = h.customer_calls("1001");
    assert_eq!(h.state("trunk", t), CallState::Terminated { status: 422 });
    let r = messages(&mut h, "trunk", "SIP/2.0 422");
    assert_eq!(header(&r[0], "Min-SE").as_deref(), Some("90"));
    assert!(h.phone("1001").calls().is_empty(), "the agent never rang");
    assert!(h.live_calls().is_empty());
}

#[test]
fn require_timer_is_accepted_and_the_2xx_names_the_peer_as_refresher() {
    let mut h = Harness::new();
    customer_call_with(
        &mut h,
        &[
            ("Require", "timer"),
            ("Supported", "timer"),
            ("Session-Expires", "120;refresher=uac"),
        ],
    );
    let ok = ok_to_invite(&mut h);
    assert_eq!(
        header(&ok, "Session-Expires").as_deref(),
        Some("120;refresher=uac")
    );
    assert_eq!(header(&ok, "Require").as_deref(), Some("timer"));
}

#[test]
fn refreshes_from_the_peer_keep_the_call_up() {
    let mut h = Harness::new();
    let (t, id) = customer_call_with(
        &mut h,
        &[
            ("Supported", "timer"),
            ("Session-Expires", "120;refresher=uac"),
        ],
    );
    // Expiry would be at 120 - 32 = 88 s: refresh every 60 s for 5 minutes.
    for _ in 0..5 {
        h.run_for(60_000);
        let now = h.now;
        h.phone("trunk").unhold(t, now);
        h.settle();
    }
    assert_eq!(h.state("trunk", t), CallState::Confirmed);
    assert_eq!(h.state("1001", 0), CallState::Confirmed);
    let refreshes = messages(&mut h, "trunk", "SIP/2.0 200");
    let last = refreshes.last().expect("answers");
    assert_eq!(
        header(last, "Session-Expires").as_deref(),
        Some("120;refresher=uac"),
        "every refresh answer carries the timer"
    );
    assert_eq!(count(&mut h, "trunk", "INVITE"), 0, "we never refresh");
    assert!(!h.events(&id).contains(&"SESSION_EXPIRED".to_string()));
}

#[test]
fn without_a_refresh_the_call_ends_with_bye_before_the_session_expires() {
    let mut h = Harness::new();
    let (t, id) = customer_call_with(
        &mut h,
        &[
            ("Supported", "timer"),
            ("Session-Expires", "120;refresher=uac"),
        ],
    );
    h.run_for(87_000);
    assert_eq!(h.state("trunk", t), CallState::Confirmed);
    h.run_for(2_000);
    assert_eq!(count(&mut h, "trunk", "BYE"), 1);
    assert_eq!(h.state("trunk", t), CallState::Terminated { status: 200 });
    assert_eq!(h.state("1001", 0), CallState::Terminated { status: 200 });
    assert!(h.events(&id).contains(&"SESSION_EXPIRED".to_string()));
    assert!(h.cdr_ended(&id));
    h.assert_clean();
}

#[test]
fn an_update_refresh_restarts_the_timer_too() {
    let mut h = Harness::new();
    let (t, _) = customer_call_with(
        &mut h,
        &[
            ("Supported", "timer"),
            ("Session-Expires", "90;refresher=uac"),
        ],
    );
    // Expiry at 90 - 30 = 60 s; the re-INVITE at 50 s moves it to 110 s.
    h.run_for(50_000);
    let now = h.now;
    h.phone("trunk").unhold(t, now);
    h.settle();
    h.run_for(55_000);
    assert_eq!(h.state("trunk", t), CallState::Confirmed);
    h.run_for(10_000);
    assert_eq!(h.state("trunk", t), CallState::Terminated { status: 200 });
}

#[test]
fn when_the_peer_asks_us_to_refresh_we_send_re_invites_at_half_the_interval() {
    let mut h = Harness::new();
    let (t, _) = customer_call_with(
        &mut h,
        &[
            ("Supported", "timer"),
            ("Session-Expires", "100;refresher=uas"),
        ],
    );
    let ok = ok_to_invite(&mut h);
    assert_eq!(
        header(&ok, "Session-Expires").as_deref(),
        Some("100;refresher=uas")
    );
    // As an RFC 4028 UAS, the trunk answers our refreshes naming us (their UAC) refresher.
    h.phone("trunk").behaviour_mut().extra_headers = vec![
        ("Require", "timer".into()),
        ("Session-Expires", "100;refresher=uac".into()),
    ];
    h.run_for(49_000);
    assert_eq!(count(&mut h, "trunk", "INVITE"), 0);
    h.run_for(2_000);
    let reinvites = messages(&mut h, "trunk", "INVITE ");
    assert_eq!(reinvites.len(), 1, "one refresh at 50 s");
    assert_eq!(
        header(&reinvites[0], "Session-Expires").as_deref(),
        Some("100;refresher=uac"),
        "we are the UAC of the refresh and its refresher"
    );
    let answer = ok.split("\r\n\r\n").nth(1).expect("sdp");
    let refresh = reinvites[0].split("\r\n\r\n").nth(1).expect("sdp");
    let version = |sdp: &str| {
        let o = sdp.lines().find(|l| l.starts_with("o=")).expect("o=");
        o.split(' ')
            .nth(2)
            .expect("version")
            .parse::<u64>()
            .expect("n")
    };
    assert_eq!(
        version(refresh),
        version(answer) + 1,
        "same SDP, version + 1"
    );
    h.run_for(300_000);
    assert_eq!(
        h.state("trunk", t),
        CallState::Confirmed,
        "refreshed, still up"
    );
    assert_eq!(h.state("1001", 0), CallState::Confirmed);
    assert!(count(&mut h, "trunk", "INVITE") >= 6);
    assert!(
        count(&mut h, "trunk", "ACK") >= 6,
        "every refresh 2xx ACKed"
    );
}

#[test]
fn a_peer_without_timer_support_gets_us_as_refresher_and_no_require() {
    let mut h = Harness::new();
    customer_call_with(&mut h, &[("Session-Expires", "100")]);
    let ok = ok_to_invite(&mut h);
    assert_eq!(
        header(&ok, "Session-Expires").as_deref(),
        Some("100;refresher=uas")
    );
    assert_eq!(header(&ok, "Require"), None);
    h.run_for(51_000);
    assert_eq!(count(&mut h, "trunk", "INVITE"), 1);
}

#[test]
fn a_refresh_below_min_se_gets_422_and_the_call_goes_on() {
    let mut h = Harness::new();
    let (t, _) = customer_call_with(
        &mut h,
        &[
            ("Supported", "timer"),
            ("Session-Expires", "120;refresher=uac"),
        ],
    );
    h.phone("trunk").behaviour_mut().extra_headers = vec![
        ("Supported", "timer".into()),
        ("Session-Expires", "30".into()),
    ];
    let now = h.now;
    h.phone("trunk").unhold(t, now);
    h.settle();
    assert_eq!(messages(&mut h, "trunk", "SIP/2.0 422").len(), 1);
    assert_eq!(h.state("trunk", t), CallState::Confirmed);
}

#[test]
fn our_invites_advertise_timers_and_honour_the_answer_when_we_refresh() {
    let mut h = Harness::new();
    h.phone("1001").behaviour_mut().extra_headers =
        vec![("Session-Expires", "90;refresher=uac".into())];
    let t = h.customer_calls("1001");
    let invite = messages(&mut h, "1001", "INVITE ");
    assert!(header(&invite[0], "Supported").is_some_and(|s| s.contains("timer")));
    h.answer("1001", 0);
    h.run_for(44_000);
    assert_eq!(
        count(&mut h, "1001", "INVITE"),
        1,
        "only the initial INVITE"
    );
    h.run_for(2_000);
    assert_eq!(count(&mut h, "1001", "INVITE"), 2, "our refresh at 45 s");
    h.run_for(200_000);
    assert_eq!(h.state("1001", 0), CallState::Confirmed);
    assert_eq!(h.state("trunk", t), CallState::Confirmed);
}

#[test]
fn our_invites_honour_the_answer_when_the_callee_refreshes() {
    let mut h = Harness::new();
    h.phone("1001").behaviour_mut().extra_headers =
        vec![("Session-Expires", "90;refresher=uas".into())];
    let t = h.customer_calls("1001");
    h.answer("1001", 0);
    let id = h.only_call();
    // The agent's phone never refreshes: BYE at 90 - 30 = 60 s.
    h.run_for(59_000);
    assert_eq!(h.state("1001", 0), CallState::Confirmed);
    h.run_for(2_000);
    assert_eq!(h.state("1001", 0), CallState::Terminated { status: 200 });
    assert_eq!(h.state("trunk", t), CallState::Terminated { status: 200 });
    assert!(h.events(&id).contains(&"SESSION_EXPIRED".to_string()));
}

#[test]
fn the_2xx_to_our_refresh_may_hand_the_refreshing_to_the_peer() {
    let mut h = Harness::new();
    // The trunk keeps answering `refresher=uas`: in the 2xx to our
    // refresh, that names the trunk (the refresh's UAS) as refresher.
    let (t, _) = customer_call_with(
        &mut h,
        &[
            ("Supported", "timer"),
            ("Session-Expires", "100;refresher=uas"),
        ],
    );
    h.run_for(51_000);
    assert_eq!(count(&mut h, "trunk", "INVITE"), 1, "our refresh at 50 s");
    // From 50 s the trunk refreshes; it does not: BYE at 50 + 100 - 32 = 118 s.
    h.run_for(66_000);
    assert_eq!(h.state("trunk", t), CallState::Confirmed);
    assert_eq!(
        count(&mut h, "trunk", "INVITE"),
        1,
        "no more refreshes of ours"
    );
    h.run_for(2_000);
    assert_eq!(h.state("trunk", t), CallState::Terminated { status: 200 });
}

#[test]
fn a_ring_all_answer_keeps_its_session_timer() {
    // The answering fork of a ring-all queue becomes the call's leg (a new
    // id): its refresh deadline goes with it.
    let mut c = harness::campaign("support", "inbound", Some("5000"), false);
    c.strategy = "ring_all".into();
    let mut h = Harness::with(harness::Setup {
        campaigns: vec![c],
        ..harness::Setup::default()
    });
    for a in ["1001", "1002"] {
        h.set_state(a, switchboard_switch::AgentStatus::Ready);
    }
    h.phone("1002").behaviour_mut().extra_headers =
        vec![("Session-Expires", "90;refresher=uac".into())];
    let t = h.customer_calls("5000");
    assert_eq!(h.state("1002", 0), CallState::Ringing);
    h.answer("1002", 0);
    assert_eq!(h.state("1002", 0), CallState::Confirmed);
    h.run_for(46_000);
    assert_eq!(count(&mut h, "1002", "INVITE"), 2, "our refresh at 45 s");
    h.run_for(200_000);
    assert_eq!(h.state("1002", 0), CallState::Confirmed);
    assert_eq!(h.state("trunk", t), CallState::Confirmed);
}
