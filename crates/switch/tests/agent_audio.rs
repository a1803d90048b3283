//! The admin's per-agent audio setting in virtual time: `browser` agents
//! are reached only through the console's browser audio (their registered
//! SIP phone is never rung, and without browser audio they are not
//! offered calls); `phone` agents cannot open browser audio.

mod harness;

use harness::{campaign, sip_ha1, FakeMedia, Harness, Setup, SIP_PASSWORD};
use switchboard_call::Target;
use switchboard_center::{AgentAudio, AgentInfo, EngineRequest};
use switchboard_switch::{AgentStatus, MediaControl};

/// Agents 1001 and 1002 in queue `support` (DID 5000), ready, phones registered.
fn setup() -> Harness {
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
    h
}

/// What an admin saving the agent form sends to the switch.
fn set_audio(h: &mut Harness, agent: &str, audio: AgentAudio) {
    let info = AgentInfo {
        id: format!("id-{agent}"),
        username: agent.into(),
        name: format!("Agent {agent}"),
        sip_ha1: sip_ha1(agent, SIP_PASSWORD),
        role: "agent".into(),
        audio,
    };
    h.switch
        .handle_request(h.now, EngineRequest::UpsertAgent(info));
    h.settle();
}

fn attach(h: &mut Harness, agent: &str) -> Result<u64, switchboard_center::ApiError> {
    let leg = FakeMedia(h.media.clone()).create_leg().expect("leg").id;
    let agent = agent.to_string();
    h.api(|reply| EngineRequest::BrowserAudio {
        agent,
        media_leg: leg,
        auto_answer: true,
        reply,
    })
    .map(|_| leg)
}

fn registered(h: &mut Harness, agent: &str) -> bool {
    h.snapshot()["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|a| a["username"] == agent)
        .expect("agent in the snapshot")["registered"]
        .as_bool()
        .expect("registered flag")
}

#[test]
fn a_browser_only_agent_is_never_rung_on_the_sip_phone() {
    let mut h = setup();
    assert!(registered(&mut h, "1001"), "the SIP phone is registered");
    set_audio(&mut h, "1001", AgentAudio::Browser);
    assert!(
        !registered(&mut h, "1001"),
        "browser only and no browser audio: not reachable"
    );
    // A queue call waits instead of ringing the registered phone.
    let c = h.customer_calls("5000");
    h.run_for(2000);
    assert!(h.phone("1001").calls().is_empty(), "the phone is not rung");
    assert_eq!(h.status("1001"), "ready");
    // A colleague calling the agent is told why, and the phone is not rung.
    let err = h
        .dial("1002", Target::Agent("1001".into()))
        .expect_err("unreachable");
    assert_eq!(err.status, 409);
    assert!(err.message.contains("browser"), "{}", err.message);
    assert!(h.phone("1001").calls().is_empty(), "still not rung");
    // Browser audio connects: the waiting caller is bridged to it.
    let browser = attach(&mut h, "1001").expect("browser audio allowed");
    assert!(registered(&mut h, "1001"));
    h.run_for(1000);
    assert!(
        h.hears_leg(("trunk", c), browser),
        "caller bridged to the page"
    );
    assert!(h.phone("1001").calls().is_empty());
}

#[test]
fn a_phone_only_agent_cannot_open_browser_audio() {
    let mut h = setup();
    set_audio(&mut h, "1001", AgentAudio::Phone);
    let err = attach(&mut h, "1001").expect_err("refused");
    assert_eq!(err.status, 403);
    assert!(err.message.contains("SIP phone"), "{}", err.message);
    // Calls still ring the SIP phone.
    h.customer_calls("5000");
    h.run_for(1000);
    assert_eq!(h.phone("1001").calls().len(), 1, "the phone rings");
}

#[test]
fn changing_the_setting_back_restores_the_sip_phone() {
    let mut h = setup();
    set_audio(&mut h, "1001", AgentAudio::Browser);
    assert!(!registered(&mut h, "1001"));
    set_audio(&mut h, "1001", AgentAudio::Either);
    assert!(
        registered(&mut h, "1001"),
        "the phone's registration counts again"
    );
    h.customer_calls("5000");
    h.run_for(1000);
    assert_eq!(h.phone("1001").calls().len(), 1, "the phone rings");
}
