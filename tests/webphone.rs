//! The browser webphone end to end: headless Chromium with a fake
//! microphone playing a tone opens browser audio from the agent console
//! (WebRTC to the server's one UDP port, signalled over the console's
//! WebSocket); a customer (baresip, through the trunk and the queue) calls,
//! the call rings in the page, the agent answers there; the customer hears
//! the browser's tone and the page hears the customer's; hold gives the
//! customer music; the keypad's digit reaches the server as RFC 4733.
//! A browser agent records on demand (customer left, browser right in the
//! WAV), consults and confers with a SIP-phone agent, then leaves.
//! A reload mid-call keeps the customer (on hold) and the audio resumes on
//! the reloaded page; a second console takes the audio and the call over.
//! A supervisor listens and whispers from their browser audio.
//! Errors and HTTPS: `tests/webphone_edge.rs`.
//!
//! Needs `chromium chromium-driver baresip sox`. `cargo test --test webphone`

mod actions_common;
mod common;
mod console_driver;
mod webphone_common;

use std::time::{Duration, Instant};

use actions_common::*;
use common::*;
use webphone_common::*;

#[test]
fn browser_agent_answers_in_the_page_and_talks_with_the_customer() {
    let _g = serial();
    let dir = TestDir::new("webphone_call");
    let (lab, b) = start(&dir);
    let long = Duration::from_secs(20);
    let token = lab.server.login("1001", "pw1001");

    b.click("#webphone-connect");
    b.wait_attr("#webphone-state", "data-state", "connected", long);
    b.wait_text("#phone-status", "Browser audio", T);
    // The microphone is listed and its level meter moves with the tone.
    assert!(
        !b.find_all("#webphone-mic option").is_empty(),
        "microphones listed"
    );
    b.wait_until("the input level meter moves", T, |b| level(b, "in") > 0.05);
    b.select("#state-select", "ready");
    b.wait_text("#agent-status", "Ready", T);

    let cust = lab.customer(&dir);
    cust.dial(&format!("sip:5000@127.0.0.1:{}", lab.server.sip_port));
    // It rings in the page, not on a phone.
    b.wait_visible("#webphone-answer", long);
    b.screenshot("webphone-ringing");
    b.click("#webphone-answer");
    b.wait_attr("#call-state", "data-state", "connected", long);
    let id = lab.wait_live_call(&token);
    let t0 = Instant::now();
    sleep(4.0);
    let heard = page_hears(&b);
    eprintln!("the page hears: {heard}");
    assert!(
        level(&b, "out") > 0.05,
        "the output meter shows the customer"
    );
    assert!(
        heard["packets"].as_u64().unwrap_or(0) > 100,
        "the page receives the customer's RTP: {heard}"
    );
    assert!(
        heard["energy"].as_f64().unwrap_or(0.0) > 0.0,
        "with audio energy: {heard}"
    );
    let peak = heard["peak_hz"].as_f64().unwrap_or(0.0);
    assert!(
        (peak - f64::from(CUSTOMER_HZ)).abs() < 30.0,
        "the page hears the customer's {CUSTOMER_HZ} Hz tone: {heard}"
    );
    let t1 = Instant::now();
    // Hold from the console: the customer hears music.
    let held = lab.action(&token, &id, "hold", None);
    assert_eq!(held["state"], "held", "{held}");
    sleep(4.0);
    let t2 = Instant::now();
    lab.action(&token, &id, "unhold", None);
    sleep(3.0);
    let t3 = Instant::now();
    // The on-screen keypad sends RFC 4733: the server detects the digit.
    b.click("#webphone-keypad [data-digit='5']");
    lab.wait_log(&token, &id, "DTMF");
    cust.hangup();
    cust.wait_event("CALL_CLOSED", T);
    lab.wait_ended(&token, &id);
    b.wait_attr("#call-state", "data-state", "idle", long);
    // The browser session stays up for the next call.
    assert_eq!(
        b.attr("#webphone-state", "data-state").as_deref(),
        Some("connected")
    );

    let c = Heard::last_call(&cust, "customer");
    c.hears(BROWSER_HZ, t0, t1, 0.8)
        .music(t1, t2)
        .not_hears(BROWSER_HZ, t1, t2)
        .hears(BROWSER_HZ, t2, t3, 0.8);
}

#[test]
fn a_reload_mid_call_keeps_the_customer_and_the_audio_resumes() {
    let _g = serial();
    let dir = TestDir::new("webphone_reload");
    let (lab, b) = start(&dir);
    let long = Duration::from_secs(20);
    let token = lab.server.login("1001", "pw1001");

    b.click("#webphone-auto");
    b.click("#webphone-connect");
    b.wait_attr("#webphone-state", "data-state", "connected", long);
    b.select("#state-select", "ready");
    b.wait_text("#agent-status", "Ready", T);
    let cust = lab.customer(&dir);
    cust.dial(&format!("sip:5000@127.0.0.1:{}", lab.server.sip_port));
    // Auto-answer: no click.
    b.wait_attr("#call-state", "data-state", "connected", long);
    let id = lab.wait_live_call(&token);
    let t0 = Instant::now();
    sleep(3.0);
    let t1 = Instant::now();
    b.refresh();
    b.wait_visible("#app-header", long);
    // The page opens browser audio again by itself; the call resumes on it.
    b.wait_attr("#webphone-state", "data-state", "connected", long);
    b.wait_attr("#call-state", "data-state", "connected", long);
    let t2 = Instant::now();
    sleep(4.0);
    let heard = page_hears(&b);
    eprintln!("after the reload the page hears: {heard}");
    let peak = heard["peak_hz"].as_f64().unwrap_or(0.0);
    assert!(
        (peak - f64::from(CUSTOMER_HZ)).abs() < 30.0,
        "the reloaded page hears the customer: {heard}"
    );
    let t3 = Instant::now();
    cust.hangup();
    cust.wait_event("CALL_CLOSED", T);
    lab.wait_ended(&token, &id);
    lab.assert_log_order(
        &token,
        &id,
        &["ANSWERED", "AGENT_AUDIO_LOST", "AGENT_AUDIO_BACK", "HANGUP"],
    );
    let c = Heard::last_call(&cust, "customer");
    c.hears(BROWSER_HZ, t0, t1, 0.8)
        .hears(BROWSER_HZ, t2 + Duration::from_millis(500), t3, 0.7);
    assert!(
        t2 - t1 < Duration::from_secs(15),
        "reconnected in {:?}",
        t2 - t1
    );
}

#[test]
fn a_second_console_takes_the_audio_and_the_call_over() {
    let _g = serial();
    let dir = TestDir::new("webphone_takeover");
    let (lab, first) = start(&dir);
    let long = Duration::from_secs(20);
    let token = lab.server.login("1001", "pw1001");
    first.click("#webphone-auto");
    first.click("#webphone-connect");
    first.wait_attr("#webphone-state", "data-state", "connected", long);
    first.select("#state-select", "ready");
    first.wait_text("#agent-status", "Ready", T);
    let cust = lab.customer(&dir);
    cust.dial(&format!("sip:5000@127.0.0.1:{}", lab.server.sip_port));
    first.wait_attr("#call-state", "data-state", "connected", long);
    let id = lab.wait_live_call(&token);
    let t0 = Instant::now();
    sleep(3.0);
    let t1 = Instant::now();
    // The agent opens the console on another machine (another browser).
    let second = console(&dir, &lab, TAKEOVER_HZ, true);
    second.click("#webphone-connect");
    second.wait_attr("#webphone-state", "data-state", "connected", long);
    let t2 = Instant::now();
    // The older page is told why its audio closed.
    first.wait_attr("#webphone-state", "data-state", "closed", long);
    let why = first.text("#webphone-state");
    assert!(why.contains("another console"), "{why}");
    sleep(4.0);
    let t3 = Instant::now();
    let heard = page_hears(&second);
    assert!(
        (heard["peak_hz"].as_f64().unwrap_or(0.0) - f64::from(CUSTOMER_HZ)).abs() < 30.0,
        "the new console hears the customer: {heard}"
    );
    cust.hangup();
    cust.wait_event("CALL_CLOSED", T);
    lab.wait_ended(&token, &id);
    let c = Heard::last_call(&cust, "customer");
    c.hears(BROWSER_HZ, t0, t1, 0.8)
        .hears(TAKEOVER_HZ, t2 + Duration::from_millis(500), t3, 0.8);
}

#[test]
fn a_browser_agent_consults_and_confers_with_a_phone_agent_then_leaves() {
    let _g = serial();
    let dir = TestDir::new("webphone_conference");
    let (lab, b) = start(&dir);
    let long = Duration::from_secs(20);
    let ta = lab.server.login("1001", "pw1001");
    let (phone_b, tb) = lab.agent(&dir, "1002", B_HZ, true);
    b.click("#webphone-auto");
    b.click("#webphone-connect");
    b.wait_attr("#webphone-state", "data-state", "connected", long);
    b.select("#state-select", "ready");
    b.wait_text("#agent-status", "Ready", T);
    let cust = lab.customer(&dir);
    cust.dial(&format!("sip:5000@127.0.0.1:{}", lab.server.sip_port));
    b.wait_attr("#call-state", "data-state", "connected", long);
    let id = lab.wait_live_call(&ta);
    // Recorded on demand: the browser agent is on the right channel.
    sleep(0.5);
    let v = lab.ok(
        "POST",
        &format!("/api/calls/{id}/recording/start"),
        None,
        &ta,
    );
    assert_eq!(v["recording"], true, "{v}");
    sleep(3.0);
    lab.ok(
        "POST",
        &format!("/api/calls/{id}/recording/stop"),
        None,
        &ta,
    );
    // Consult the SIP-phone agent, then confer.
    lab.action(
        &ta,
        &id,
        "transfer",
        Some(serde_json::json!({"mode": "consultative", "agent": "1002"})),
    );
    phone_b.wait_event("CALL_ESTABLISHED", T);
    lab.wait_log(&ta, &id, "CONSULT_ANSWERED");
    sleep(1.0);
    let v = lab.action(&ta, &id, "confer", None);
    assert_eq!(v["state"], "conference", "{v}");
    let t1 = Instant::now();
    sleep(3.0);
    let t2 = Instant::now();
    // The browser agent leaves from the page: the customer and B go on.
    b.click("#webphone-leave");
    lab.wait_state(&tb, &id, "connected");
    let t3 = Instant::now();
    sleep(3.0);
    let t4 = Instant::now();
    cust.hangup();
    cust.wait_event("CALL_CLOSED", T);
    phone_b.wait_event("CALL_CLOSED", T);

    let c = Heard::last_call(&cust, "customer");
    let hb = Heard::last_call(&phone_b, "agent B");
    // Conference: each hears the two others (the browser's tone included).
    c.mix(&[BROWSER_HZ, B_HZ], &[CUSTOMER_HZ], t1, t2);
    hb.mix(&[CUSTOMER_HZ, BROWSER_HZ], &[B_HZ], t1, t2);
    // The browser left: customer and B only.
    c.hears(B_HZ, t3, t4, 0.8).not_hears(BROWSER_HZ, t3, t4);
    // The browser audio stays up for the next call.
    assert_eq!(
        b.attr("#webphone-state", "data-state").as_deref(),
        Some("connected")
    );
    // The recording: the customer left, the browser agent right.
    let list = lab.ok("GET", "/api/recordings", None, &ta);
    let rec = list["recordings"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["call_id"] == id.as_str()).cloned())
        .unwrap_or_else(|| panic!("a recording of {id}: {list}"));
    let rec_id = rec["id"].as_str().expect("recording id").to_string();
    let (st, body) = lab.get_bytes(&format!("/api/recordings/{rec_id}/audio"), &ta);
    assert_eq!(st, 200);
    let path = dir.join("recording.wav");
    std::fs::write(&path, &body).expect("saved");
    let s = read_stereo(&path);
    let d = s.left.duration();
    assert!(
        tone_heard_between(&s.left, CUSTOMER_HZ, 0.3, d - 0.3, 0.8),
        "left is the customer: {}",
        describe(&s.left)
    );
    assert!(
        tone_heard_between(&s.right, BROWSER_HZ, 0.3, d - 0.3, 0.8),
        "right is the browser agent: {}",
        describe(&s.right)
    );
}

/// A supervisor with browser audio supervises a SIP-phone agent's call
/// from the page: listening, the page hears the call and nobody hears the
/// supervisor; whispering, the agent hears the supervisor's microphone and
/// the customer does not; no SIP phone of the supervisor is involved.
#[test]
fn a_supervisor_listens_and_whispers_from_the_browser() {
    let _g = serial();
    let dir = TestDir::new("webphone_supervisor");
    let lab = lab(&dir, "");
    let long = Duration::from_secs(20);
    let base = format!("http://127.0.0.1:{}/", lab.server.http_port);
    let sb = console_as(&dir, &base, "9000", BROWSER_HZ, true);
    sb.click("#webphone-auto");
    sb.click("#webphone-connect");
    sb.wait_attr("#webphone-state", "data-state", "connected", long);
    let ts = lab.server.login("9000", "pw9000");
    let (a, ta) = lab.agent(&dir, "1001", A_HZ, true);
    let cust = lab.customer(&dir);
    let id = customer_calls(&lab, &cust, "5000", &a, &ta);
    let sup = format!("/api/calls/{id}/supervise");

    lab.ok(
        "POST",
        &sup,
        Some(serde_json::json!({"mode": "listen"})),
        &ts,
    );
    lab.wait_log(&ts, &id, "SUPERVISE_ANSWERED");
    let t0 = Instant::now();
    sleep(3.0);
    let heard = page_hears(&sb);
    eprintln!("the supervisor's page hears: {heard}");
    assert!(
        heard["packets"].as_u64().unwrap_or(0) > 50,
        "the page receives the call: {heard}"
    );
    let peak = heard["peak_hz"].as_f64().unwrap_or(0.0);
    assert!(
        [CUSTOMER_HZ, A_HZ]
            .iter()
            .any(|hz| (peak - f64::from(*hz)).abs() < 30.0),
        "the page hears the customer or the agent: {heard}"
    );
    let t1 = Instant::now();
    lab.ok(
        "POST",
        &sup,
        Some(serde_json::json!({"mode": "whisper"})),
        &ts,
    );
    sleep(4.0);
    let t2 = Instant::now();
    lab.ok("POST", &sup, Some(serde_json::json!({"mode": "stop"})), &ts);
    sleep(1.0);
    cust.hangup();
    lab.wait_ended(&ts, &id);
    assert_eq!(
        sb.attr("#webphone-state", "data-state").as_deref(),
        Some("connected"),
        "the supervisor's audio stays up"
    );

    let c = Heard::last_call(&cust, "customer");
    c.mix(&[A_HZ], &[BROWSER_HZ, CUSTOMER_HZ], t0, t2);
    let ag = Heard::last_call(&a, "agent");
    ag.mix(&[CUSTOMER_HZ], &[BROWSER_HZ, A_HZ], t0, t1).mix(
        &[CUSTOMER_HZ, BROWSER_HZ],
        &[A_HZ],
        t1 + Duration::from_millis(500),
        t2,
    );
}
