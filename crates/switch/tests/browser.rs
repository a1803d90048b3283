//! Browser audio agent legs in virtual time: a queue call for an agent
//! whose console has a browser audio session is bridged to that session's
//! media leg (no INVITE to the agent's phone), rings in the page until the
//! agent answers (or is answered at once), hears hold music like any leg,
//! and leaves the session's media leg alive when the call ends.

mod harness;

use harness::{campaign, CallState, FakeMedia, Harness, Setup};
use switchboard_call::{Command, Target};
use switchboard_center::EngineRequest;
use switchboard_switch::{AgentStatus, MediaControl};

/// Agent 1001 in queue `support` (DID 5000), ready.
fn setup() -> Harness {
    let mut c = campaign("support", "inbound", Some("5000"), false);
    c.agents = vec!["1001".into()];
    let mut h = Harness::with(Setup {
        agents: vec!["1001"],
        campaigns: vec![c],
        ring_timeout_secs: 20,
        ..Setup::default()
    });
    h.set_state("1001", AgentStatus::Ready);
    h
}

/// A media leg standing for a browser session, attached for `agent`.
fn attach(h: &mut Harness, agent: &str, auto_answer: bool) -> u64 {
    let leg = FakeMedia(h.media.clone()).create_leg().expect("leg").id;
    let agent = agent.to_string();
    h.api(|reply| EngineRequest::BrowserAudio {
        agent,
        media_leg: leg,
        auto_answer,
        reply,
    })
    .expect("attached");
    leg
}

fn answer_in_page(
    h: &mut Harness,
    agent: &str,
) -> Result<serde_json::Value, switchboard_center::ApiError> {
    let agent = agent.to_string();
    h.api(|reply| EngineRequest::BrowserAnswer { agent, reply })
}

#[test]
fn a_queue_call_rings_in_the_page_and_is_bridged_to_the_browser_session() {
    let mut h = setup();
    let browser = attach(&mut h, "1001", false);
    let c = h.customer_calls("5000");
    h.run_for(1000);
    // No INVITE to the agent's SIP phone: the call rings in the page.
    assert!(h.phone("1001").calls().is_empty(), "the phone is not rung");
    assert_eq!(h.status("1001"), "ringing");
    assert!(!h.hears_leg(("trunk", c), browser));
    let call = answer_in_page(&mut h, "1001").expect("answered");
    assert_eq!(h.state("trunk", c), CallState::Confirmed);
    assert_eq!(h.status("1001"), "on_call");
    assert!(
        h.hears_leg(("trunk", c), browser),
        "customer and browser bridged"
    );
    // Hold: the customer hears music, not the agent.
    let call = call.as_str().expect("call id").to_string();
    h.command("1001", &call, Command::Hold).expect("hold");
    assert!(h.hears_music(("trunk", c)));
    assert!(!h.hears_leg(("trunk", c), browser));
    h.command("1001", &call, Command::Unhold).expect("unhold");
    assert!(h.hears_leg(("trunk", c), browser));
    // The customer hangs up: the browser session's leg stays for the next call.
    h.hangup("trunk", c);
    h.run_for(1000);
    assert!(h.live_calls().is_empty());
    assert!(
        h.media.leg_count() >= 1,
        "the browser leg outlives the call"
    );
    let c2 = h.customer_calls("5000");
    h.run_for(1000);
    answer_in_page(&mut h, "1001").expect("second call answered");
    assert!(
        h.hears_leg(("trunk", c2), browser),
        "same session, next call"
    );
}

#[test]
fn auto_answer_bridges_at_once_and_the_agent_hangs_up_from_the_console() {
    let mut h = setup();
    let browser = attach(&mut h, "1001", true);
    let c = h.customer_calls("5000");
    h.run_for(500);
    assert!(h.hears_leg(("trunk", c), browser));
    let call = h.only_call();
    h.command("1001", &call, Command::Hangup).expect("hangup");
    h.run_for(500);
    assert!(matches!(h.state("trunk", c), CallState::Terminated { .. }));
    assert!(h.live_calls().is_empty());
}

#[test]
fn a_session_lost_while_ringing_puts_the_caller_back_in_the_queue() {
    let mut h = setup();
    let browser = attach(&mut h, "1001", false);
    let c = h.customer_calls("5000");
    h.run_for(500);
    assert_eq!(h.status("1001"), "ringing");
    // A stale detach (an older session) changes nothing.
    let agent = "1001".to_string();
    let was = h
        .api(|reply| EngineRequest::BrowserDetach {
            agent,
            media_leg: browser + 1000,
            reply,
        })
        .expect("stale detach");
    assert_eq!(was, serde_json::json!(false));
    assert_eq!(h.status("1001"), "ringing");
    detach(&mut h, "1001", browser);
    h.run_for(500);
    // Still waiting in the queue (the agent's SIP phone may now take it).
    assert_eq!(h.state("trunk", c), CallState::Confirmed);
    assert_eq!(h.live_calls().len(), 1);
    assert!(answer_in_page(&mut h, "1001").is_err());
}

#[test]
fn bad_browser_requests_are_refused() {
    let mut h = setup();
    let err = answer_in_page(&mut h, "1001").expect_err("nothing rings");
    assert_eq!(err.status, 409);
    let err = h
        .api(|reply| EngineRequest::BrowserAudio {
            agent: "nobody".into(),
            media_leg: 1,
            auto_answer: false,
            reply,
        })
        .expect_err("unknown agent");
    assert_eq!(err.status, 404);
}

/// Attach, take a queue call with auto-answer; returns (customer call index, browser leg).
fn on_call(h: &mut Harness) -> (usize, u64) {
    let browser = attach(h, "1001", true);
    let c = h.customer_calls("5000");
    h.run_for(500);
    assert!(h.hears_leg(("trunk", c), browser));
    (c, browser)
}

/// The agent's attached browser session (media leg `media_leg`) closes.
fn detach(h: &mut Harness, agent: &str, media_leg: u64) {
    let agent = agent.to_string();
    let was = h
        .api(|reply| EngineRequest::BrowserDetach {
            agent,
            media_leg,
            reply,
        })
        .expect("detached");
    assert_eq!(was, serde_json::json!(true));
}

#[test]
fn a_reload_mid_call_keeps_the_customer_on_hold_until_the_browser_is_back() {
    let mut h = setup();
    let (c, old) = on_call(&mut h);
    detach(&mut h, "1001", old);
    h.run_for(10_000);
    // The customer waits with music; the call and the agent stay on it.
    assert_eq!(h.state("trunk", c), CallState::Confirmed);
    assert!(h.hears_music(("trunk", c)), "music while the agent is away");
    assert!(!h.hears_leg(("trunk", c), old));
    assert_eq!(h.status("1001"), "on_call");
    // The reloaded console opens a new session: audio resumes on it.
    let new = attach(&mut h, "1001", true);
    assert!(h.hears_leg(("trunk", c), new), "bridged to the new session");
    assert!(!h.hears_music(("trunk", c)));
    let call = h.only_call();
    let kinds = h.events(&call);
    assert!(kinds.contains(&"AGENT_AUDIO_LOST".to_string()), "{kinds:?}");
    assert!(kinds.contains(&"AGENT_AUDIO_BACK".to_string()), "{kinds:?}");
}

#[test]
fn the_wait_for_a_lost_browser_is_bounded() {
    let mut h = setup();
    let (c, old) = on_call(&mut h);
    detach(&mut h, "1001", old);
    h.run_for(29_000);
    assert_eq!(h.state("trunk", c), CallState::Confirmed, "still waiting");
    h.run_for(2_000);
    assert!(
        matches!(h.state("trunk", c), CallState::Terminated { .. }),
        "ended after browser_reconnect_secs"
    );
    assert!(h.live_calls().is_empty());
}

#[test]
fn a_second_console_takes_the_call_over_without_a_gap() {
    let mut h = setup();
    let (c, first) = on_call(&mut h);
    let second = attach(&mut h, "1001", true);
    assert!(
        h.hears_leg(("trunk", c), second),
        "the newest session has the call"
    );
    assert!(!h.hears_leg(("trunk", c), first));
    assert!(!h.hears_music(("trunk", c)));
}

/// Agents 1001 (browser, auto-answer) and 1002 (SIP phone) in `support`,
/// both ready; a customer's queue call answered by 1001's browser.
fn browser_and_phone_agents() -> (Harness, String, usize, u64) {
    let mut c = campaign("support", "inbound", Some("5000"), false);
    c.agents = vec!["1001".into()];
    let mut h = Harness::with(Setup {
        agents: vec!["1001", "1002"],
        campaigns: vec![c],
        ring_timeout_secs: 20,
        ..Setup::default()
    });
    h.set_state("1001", AgentStatus::Ready);
    h.set_state("1002", AgentStatus::Ready);
    let (c, browser) = on_call(&mut h);
    let call = h.only_call();
    (h, call, c, browser)
}

/// Only the browser session's leg is left (it outlives calls), no room.
fn assert_only_the_browser_leg_left(h: &mut Harness) {
    assert!(h.live_calls().is_empty(), "no live call left");
    assert_eq!(h.media.leg_count(), 1, "only the browser session's leg");
    assert_eq!(h.media.room_count(), 0, "every room destroyed");
}

#[test]
fn consultative_transfer_from_a_browser_agent_to_a_phone_agent() {
    let (mut h, call, c, browser) = browser_and_phone_agents();
    h.command(
        "1001",
        &call,
        Command::ConsultTransfer(Target::Agent("1002".into())),
    )
    .expect("consult");
    assert!(h.hears_music(("trunk", c)));
    h.answer("1002", 0);
    assert!(
        h.hears_leg(("1002", 0), browser),
        "browser agent consults B"
    );
    assert!(!h.hears_leg(("trunk", c), browser));
    h.command("1001", &call, Command::CompleteTransfer)
        .expect("complete");
    assert!(h.hears(("trunk", c), ("1002", 0)));
    assert!(
        !h.hears_leg(("trunk", c), browser),
        "the browser left the call"
    );
    assert_eq!(h.status("1001"), "ready");
    h.hangup("1002", 0);
    h.run_for(500);
    assert_only_the_browser_leg_left(&mut h);
}

#[test]
fn conference_of_a_browser_agent_a_phone_agent_and_the_customer() {
    let (mut h, call, c, browser) = browser_and_phone_agents();
    h.command(
        "1001",
        &call,
        Command::ConsultTransfer(Target::Agent("1002".into())),
    )
    .expect("consult");
    h.answer("1002", 0);
    h.command("1001", &call, Command::Confer).expect("confer");
    assert!(h.hears(("trunk", c), ("1002", 0)));
    assert!(h.hears_leg(("trunk", c), browser));
    assert!(h.hears_leg(("1002", 0), browser));
    // The browser agent leaves (puts the "phone" down): the other two go on.
    let agent = "1001".to_string();
    h.api(|reply| EngineRequest::BrowserHangup { agent, reply })
        .expect("left");
    assert!(h.hears(("trunk", c), ("1002", 0)));
    assert!(!h.hears_leg(("trunk", c), browser));
    assert_eq!(h.status("1001"), "ready");
    // Leaving again: on no call.
    let agent = "1001".to_string();
    let err = h
        .api(|reply| EngineRequest::BrowserHangup { agent, reply })
        .expect_err("no call");
    assert_eq!(err.status, 409);
    // The console's hang up ends the call for everyone.
    h.command("1002", &call, Command::Hangup).expect("hang up");
    h.run_for(500);
    assert!(matches!(h.state("1002", 0), CallState::Terminated { .. }));
    assert!(matches!(h.state("trunk", c), CallState::Terminated { .. }));
    assert_only_the_browser_leg_left(&mut h);
}

#[test]
fn a_browser_agent_calls_a_phone_agent_from_the_console() {
    let mut c = campaign("support", "inbound", Some("5000"), false);
    c.agents = vec!["1001".into()];
    let mut h = Harness::with(Setup {
        agents: vec!["1001", "1002"],
        campaigns: vec![c],
        ring_timeout_secs: 20,
        ..Setup::default()
    });
    let browser = attach(&mut h, "1001", false);
    h.dial("1001", Target::Agent("1002".into()))
        .expect("call placed");
    // The caller's own leg rings in the page first.
    assert!(h.phone("1002").calls().is_empty(), "B not rung yet");
    answer_in_page(&mut h, "1001").expect("answered in the page");
    assert_eq!(h.state("1002", 0), CallState::Ringing);
    h.answer("1002", 0);
    assert!(h.hears_leg(("1002", 0), browser));
    h.hangup("1002", 0);
    h.run_for(500);
    assert_only_the_browser_leg_left(&mut h);
}
