//! Early media and ringback in virtual time: a far end's 183 with SDP is
//! relayed to the agent's phone (183 with our answer) and bridged before the
//! answer; an agent whose phone was rung first (click-to-call) hears the
//! server's ringback while the number rings, or the far end's early media.

mod harness;

use harness::{CallState, Harness};
use switchboard_call::Target;

#[test]
fn a_carriers_announcement_reaches_the_agent_phone_before_the_answer() {
    let mut h = Harness::new();
    h.phone("trunk").behaviour_mut().provisional = vec![100, 183];
    h.phone_dials("1001", "5551234");
    assert_eq!(h.state("trunk", 0), CallState::Early);
    let got = h.phone("1001").received().to_vec();
    assert!(got.contains(&"183".to_string()), "183 relayed: {got:?}");
    assert!(
        h.hears(("1001", 0), ("trunk", 0)),
        "the agent hears the far end's early media"
    );
    let call = h.only_call();
    assert!(h.events(&call).contains(&"EARLY_MEDIA".to_string()));
    h.answer("trunk", 0);
    assert_eq!(h.state("1001", 0), CallState::Confirmed);
    assert!(h.hears(("1001", 0), ("trunk", 0)) && h.hears(("trunk", 0), ("1001", 0)));
    h.hangup("1001", 0);
    h.assert_clean();
}

#[test]
fn a_plain_180_leaves_the_ringback_to_the_agent_phone() {
    let mut h = Harness::new();
    h.phone_dials("1001", "5551234");
    let got = h.phone("1001").received().to_vec();
    assert!(
        got.contains(&"180".to_string()) && !got.contains(&"183".to_string()),
        "{got:?}"
    );
    assert!(!h.hears(("1001", 0), ("trunk", 0)));
    assert_eq!(
        h.music_of(("1001", 0)),
        None,
        "its phone plays its own ringback"
    );
}

#[test]
fn click_to_call_plays_ringback_then_the_far_ends_early_media() {
    let mut h = Harness::new();
    h.phone("trunk").behaviour_mut().provisional = vec![100, 180];
    h.dial("1001", Target::Number("5551234".into()))
        .expect("dial");
    h.answer("1001", 0);
    assert_eq!(h.state("trunk", 0), CallState::Ringing);
    assert_eq!(
        h.music_of(("1001", 0)).as_deref(),
        Some("ringback"),
        "the agent hears ringback, not silence"
    );
    h.answer("trunk", 0);
    assert_eq!(h.music_of(("1001", 0)), None);
    assert!(h.hears(("1001", 0), ("trunk", 0)));
    h.hangup("trunk", 0);

    h.phone("trunk").behaviour_mut().provisional = vec![100, 183];
    h.dial("1001", Target::Number("5559999".into()))
        .expect("dial");
    h.answer("1001", 1);
    assert_eq!(h.music_of(("1001", 1)), None);
    assert!(
        h.hears(("1001", 1), ("trunk", 1)),
        "early media instead of ringback"
    );
}
