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
//! the reloaded page. Bad input: garbage SDP gets a clear error, and a
//! WebSocket without a session is refused.
//!
//! Needs `chromium chromium-driver baresip sox`. `cargo test --test webphone`

mod actions_common;
mod common;
mod console_driver;

use std::time::{Duration, Instant};

use actions_common::*;
use common::*;
use console_driver::Browser;
use serde_json::Value;

/// The browser's microphone tone.
const BROWSER_HZ: f32 = 700.0;
/// The microphone tone of the agent's second console.
const TAKEOVER_HZ: f32 = 1500.0;

/// An address of this machine that Chromium uses for its own candidates
/// (it skips loopback), so the ICE checks reach our candidate directly.
fn host_ip() -> String {
    let out = std::process::Command::new("hostname")
        .arg("-I")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
    out.split_whitespace()
        .find(|a| {
            a.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| !ip.is_loopback())
        })
        .unwrap_or("127.0.0.1")
        .to_string()
}

fn start(dir: &TestDir) -> (Lab, Browser) {
    let lab = lab(dir, "");
    let b = console(dir, &lab, BROWSER_HZ, true);
    (lab, b)
}

/// The server with browser audio on a free UDP port (and `extra` settings).
fn lab(dir: &TestDir, extra: &str) -> Lab {
    let webrtc_port = free_port();
    let extra = format!(
        "webrtc_addr = \"0.0.0.0:{webrtc_port}\"\nwebrtc_public_ip = \"{}\"\n{extra}",
        host_ip()
    );
    Lab::start_extra(
        dir,
        vec![campaign("support", "5000", &["1001"], false)],
        std::env::var("SB_WEBPHONE_LOG").ok().as_deref(),
        &extra,
    )
}

/// A Chromium whose fake microphone plays `hz` (or, without `allow_mic`,
/// which denies the microphone), logged in as agent 1001.
fn console(dir: &TestDir, lab: &Lab, hz: f32, allow_mic: bool) -> Browser {
    let base = format!("http://127.0.0.1:{}/", lab.server.http_port);
    console_at(dir, &base, hz, allow_mic)
}

/// [`console`] at `base` (`http://…/` or `https://…/`).
fn console_at(dir: &TestDir, base: &str, hz: f32, allow_mic: bool) -> Browser {
    let tone = dir.join(&format!("browser-tone-{hz}.wav"));
    common::baresip::make_tone_wav(&tone, Some(hz), 120);
    let mut flags = vec![
        "--use-fake-device-for-media-stream".to_string(),
        format!("--use-file-for-fake-audio-capture={}", tone.display()),
        // The HTTPS test's certificate is self-signed.
        "--ignore-certificate-errors".to_string(),
    ];
    flags.push(match allow_mic {
        true => "--use-fake-ui-for-media-stream".into(),
        false => "--deny-permission-prompts".into(),
    });
    let b = Browser::start_with_args(dir, 1366, 900, &flags);
    b.goto(base);
    b.wait_visible("#login-username", T);
    b.type_text("#login-username", "1001");
    b.type_text("#login-password", "pw1001");
    b.click("#login-submit");
    b.wait_visible("#app-header", T);
    b.wait_attr("#ws-status", "data-state", "open", T);
    b
}

/// A counter of the page's inbound audio (getStats inbound-rtp), e.g.
/// `packetsReceived` or `totalAudioEnergy`.
fn inbound(b: &Browser, counter: &str) -> f64 {
    b.exec_async(
        r#"
        const done = arguments[arguments.length - 1];
        const counter = arguments[0];
        window.webphone.pc().getStats().then((st) => {
          let n = 0;
          st.forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'audio') n = r[counter] || 0; });
          done(n);
        });
        "#,
        vec![serde_json::json!(counter)],
    )
    .as_f64()
    .unwrap_or(0.0)
}

/// The page's input (`in`) or output (`out`) level meter, 0..1.
fn level(b: &Browser, which: &str) -> f64 {
    b.exec(&format!("return window.webphone.levels.{which}"), vec![])
        .as_f64()
        .unwrap_or(0.0)
}

/// The dominant frequency of what the page receives, and the receiver's
/// counters (getStats inbound-rtp).
fn page_hears(b: &Browser) -> Value {
    b.exec_async(
        r#"
        const done = arguments[arguments.length - 1];
        const ctx = new AudioContext();
        const src = ctx.createMediaStreamSource(window.webphone.remote);
        const an = ctx.createAnalyser();
        an.fftSize = 8192;
        src.connect(an);
        setTimeout(async () => {
          const d = new Float32Array(an.frequencyBinCount);
          an.getFloatFrequencyData(d);
          let best = 10;
          for (let i = 10; i < d.length / 4; i++) if (d[i] > d[best]) best = i;
          let inbound = null;
          (await window.webphone.pc().getStats()).forEach((r) => {
            if (r.type === 'inbound-rtp' && r.kind === 'audio') inbound = r;
          });
          done({
            peak_hz: best * ctx.sampleRate / an.fftSize,
            peak_db: d[best],
            packets: inbound ? inbound.packetsReceived : 0,
            energy: inbound ? inbound.totalAudioEnergy : 0,
          });
        }, 1500);
        "#,
        vec![],
    )
}

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
        .hears(BROWSER_HZ, t2, t3, 0.8);
}

#[test]
fn garbage_sdp_gets_a_clear_error_and_no_session_no_socket() {
    let _g = serial();
    let dir = TestDir::new("webphone_errors");
    let (lab, b) = start(&dir);
    // A second socket of the logged-in page (cookie session) sends garbage.
    let reply = b.exec_async(
        r#"
        const done = arguments[arguments.length - 1];
        const ws = new WebSocket(`ws://${location.host}/api/ws`);
        ws.onmessage = (m) => {
          const msg = JSON.parse(m.data);
          if (msg.type === 'audio_error') { done(msg); ws.close(); }
        };
        ws.onopen = () => ws.send(JSON.stringify({ type: 'audio_offer', sdp: 'not an offer' }));
        setTimeout(() => done({ type: 'timeout' }), 5000);
        "#,
        vec![],
    );
    assert_eq!(reply["type"], "audio_error", "{reply}");
    let msg = reply["message"].as_str().unwrap_or_default();
    assert!(msg.contains("bad SDP offer"), "{reply}");
    // Nothing rings for the agent: answering is refused with a reason.
    let reply = b.exec_async(
        r#"
        const done = arguments[arguments.length - 1];
        const ws = new WebSocket(`ws://${location.host}/api/ws`);
        ws.onmessage = (m) => {
          const msg = JSON.parse(m.data);
          if (msg.type === 'audio_error') { done(msg); ws.close(); }
        };
        ws.onopen = () => ws.send(JSON.stringify({ type: 'answer_call' }));
        setTimeout(() => done({ type: 'timeout' }), 5000);
        "#,
        vec![],
    );
    assert!(
        reply["message"]
            .as_str()
            .unwrap_or_default()
            .contains("no call is ringing"),
        "{reply}"
    );
    // Without a session there is no WebSocket to send an offer on.
    let r = http::request(
        lab.server.http_port,
        "GET",
        "/api/ws",
        &[
            ("Connection", "Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ],
        None,
        T,
    )
    .expect("request");
    assert_eq!(r.status, 401, "{}", r.text());
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
fn a_denied_microphone_gives_a_clear_message() {
    let _g = serial();
    let dir = TestDir::new("webphone_denied");
    let (lab, _allowed) = start(&dir);
    let b = console(&dir, &lab, BROWSER_HZ, false);
    b.click("#webphone-connect");
    b.wait_attr("#webphone-state", "data-state", "failed", T);
    let msg = b.wait_text("#webphone-error", "microphone", T);
    assert!(msg.contains("permission denied"), "{msg}");
}

#[test]
fn browser_audio_works_over_https_served_by_the_binary() {
    let _g = serial();
    require_tool("openssl");
    let dir = TestDir::new("webphone_https");
    let st = std::process::Command::new("openssl")
        .current_dir(dir.path())
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl");
    assert!(st.success(), "openssl made a certificate");
    let extra = format!(
        "https = true\ntls_cert = \"{}\"\ntls_key = \"{}\"",
        dir.join("cert.pem").display(),
        dir.join("key.pem").display()
    );
    let lab = lab(&dir, &extra);
    let long = Duration::from_secs(20);
    let base = format!("https://127.0.0.1:{}/", lab.server.http_port);
    let b = console_at(&dir, &base, BROWSER_HZ, true);
    assert_eq!(b.exec("return location.protocol", vec![]), "https:");
    // The session cookie is for HTTPS only (Secure).
    let login = {
        use std::io::Write;
        let body = r#"{"username":"1001","password":"pw1001"}"#;
        let mut c = std::process::Command::new("openssl")
            .args(["s_client", "-quiet", "-connect"])
            .arg(format!("127.0.0.1:{}", lab.server.http_port))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("openssl s_client");
        let req = format!(
            "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        c.stdin
            .take()
            .expect("stdin")
            .write_all(req.as_bytes())
            .expect("request");
        c.wait_with_output().expect("response")
    };
    let head = String::from_utf8_lossy(&login.stdout).to_ascii_lowercase();
    let cookie = head
        .lines()
        .find(|l| l.starts_with("set-cookie: sb_token="));
    assert!(
        cookie.is_some_and(|c| c.contains("; secure")),
        "the session cookie over HTTPS is Secure: {:?}",
        cookie.map(|c| c.split(';').skip(1).collect::<Vec<_>>())
    );
    b.click("#webphone-auto");
    b.click("#webphone-connect");
    b.wait_attr("#webphone-state", "data-state", "connected", long);
    // Test my audio: the server echoes the microphone back. Between calls
    // the page gets silence; echoed, its own tone (until the browser's echo
    // canceller learns to remove a steady tone played back to its own
    // microphone, so the energy is measured at once).
    let quiet = inbound(&b, "totalAudioEnergy");
    sleep(1.0);
    let idle = inbound(&b, "totalAudioEnergy") - quiet;
    b.click("#webphone-echo");
    let start = inbound(&b, "totalAudioEnergy");
    sleep(1.0);
    let echoed = inbound(&b, "totalAudioEnergy") - start;
    eprintln!("audio energy idle {idle}, echoed {echoed}");
    assert!(idle < 0.001, "between calls the page hears silence: {idle}");
    assert!(
        echoed > 0.01,
        "the echo test plays the microphone back: {echoed}"
    );
    b.click("#webphone-echo");
    b.select("#state-select", "ready");
    b.wait_text("#agent-status", "Ready", T);
    let cust = lab.customer(&dir);
    cust.dial(&format!("sip:5000@127.0.0.1:{}", lab.server.sip_port));
    b.wait_attr("#call-state", "data-state", "connected", long);
    let t0 = Instant::now();
    sleep(3.0);
    let heard = page_hears(&b);
    assert!(
        (heard["peak_hz"].as_f64().unwrap_or(0.0) - f64::from(CUSTOMER_HZ)).abs() < 30.0,
        "the page hears the customer over HTTPS: {heard}"
    );
    let t1 = Instant::now();
    // The agent puts the browser "phone" down: the customer is hung up.
    b.click("#webphone-leave");
    cust.wait_event("CALL_CLOSED", T);
    b.wait_attr("#call-state", "data-state", "idle", long);
    Heard::last_call(&cust, "customer").hears(BROWSER_HZ, t0, t1, 0.8);
    // Plain HTTP on the HTTPS port gets no console.
    let plain = http::request(lab.server.http_port, "GET", "/", &[], None, T);
    assert!(plain.map(|r| r.status != 200).unwrap_or(true));
}

#[test]
fn a_browser_agent_consults_and_confers_with_a_phone_agent_then_leaves() {
    let _g = serial();
    let dir = TestDir::new("webphone_conference");
    let (lab, b) = start(&dir);
    let long = Duration::from_secs(20);
    let ta = lab.server.login("1001", "pw1001");
    let (phone_b, tb) = lab.agent(&dir, "1002", B_HZ, true);
    // The browser's noise suppression and gain control fade a steady test
    // tone within seconds (a voice is what they keep): off for this test.
    b.click("#webphone-processing");
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
    // Conference: each hears the two others (the browser's 700 Hz included).
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
