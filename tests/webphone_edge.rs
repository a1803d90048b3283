//! The browser webphone's edges, in headless Chromium: garbage SDP and
//! answering with nothing ringing get clear errors, no WebSocket without a
//! session, a denied microphone gives a clear message; and browser audio
//! over HTTPS served by the binary (Secure cookie, echo test, a call, leave).
//!
//! Needs `chromium chromium-driver baresip sox openssl`. `cargo test --test webphone_edge`

mod actions_common;
mod common;
mod console_driver;
mod webphone_common;

use std::time::{Duration, Instant};

use serde_json::json;

use actions_common::*;
use common::*;
use webphone_common::*;

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
    common::certs::openssl(
        dir.path(),
        &[
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
        ],
    );
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
    // the page gets silence; echoed, its own tone.
    let quiet = inbound(&b, "totalAudioEnergy");
    sleep(1.0);
    let idle = inbound(&b, "totalAudioEnergy") - quiet;
    b.click("#webphone-echo");
    let start = inbound(&b, "totalAudioEnergy");
    sleep(1.0);
    let echoed = inbound(&b, "totalAudioEnergy") - start;
    let echo = page_hears(&b);
    assert!(idle < 0.001, "between calls the page hears silence: {idle}");
    assert!(
        echoed > 0.01,
        "the echo test plays the microphone back: {echoed}"
    );
    assert!(
        (echo["peak_hz"].as_f64().unwrap_or(0.0) - f64::from(BROWSER_HZ)).abs() < 30.0,
        "the agent hears their own {BROWSER_HZ} Hz through the server: {echo}"
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

/// The admin's per-agent audio setting, from the TOML seed and the admin
/// API to the console: `phone` hides browser audio and the server refuses
/// it even to a hand-made offer; `browser` connects it by itself at login
/// with no way back to a SIP phone; a bad value is a clear 400.
#[test]
fn the_admin_chooses_browser_or_phone_audio_per_agent() {
    let _g = serial();
    let dir = TestDir::new("webphone_policy");
    let lab = lab_accounts(
        &dir,
        "",
        vec![
            AgentCfg::new("9900").role("admin"),
            AgentCfg::new("1005").audio("phone"),
        ],
    );
    let admin = lab.server.login("9900", "pw9900");
    let agents = lab.ok("GET", "/api/admin/agents", None, &admin)["agents"].clone();
    let find = |u: &str| {
        agents
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["username"] == u)
            .cloned()
            .unwrap_or_else(|| panic!("agent {u} in {agents}"))
    };
    assert_eq!(find("1005")["audio"], "phone", "seeded from the config");
    assert_eq!(find("1001")["audio"], "either", "the default");
    let id = find("1001")["id"].as_str().unwrap().to_string();
    let path = format!("/api/admin/agents/{id}");
    let msg = lab.refused(
        400,
        "audio",
        "PUT",
        &path,
        Some(json!({"audio": "desk"})),
        &admin,
    );
    assert!(msg.contains("phone"), "names the valid values: {msg}");

    // Either: the agent's own choice (the console starts with audio off).
    let b = console(&dir, &lab, BROWSER_HZ, true);
    assert!(b.is_displayed("#webphone-connect"));
    assert!(!b.is_displayed("#webphone-policy"));

    // SIP phone only: no browser audio controls, and the server refuses an offer.
    let saved = lab.ok("PUT", &path, Some(json!({"audio": "phone"})), &admin);
    assert_eq!(saved["agent"]["audio"], "phone");
    b.refresh();
    b.wait_visible("#app-header", T);
    b.wait_text("#webphone-policy", "SIP phone", T);
    assert!(!b.is_displayed("#webphone-connect"));
    let reply = b.exec_async(
        r#"
        const done = arguments[arguments.length - 1];
        const pc = new RTCPeerConnection();
        pc.addTransceiver('audio');
        pc.createOffer().then((o) => pc.setLocalDescription(o)).then(() => {
          const ws = new WebSocket(`ws://${location.host}/api/ws`);
          ws.onmessage = (m) => {
            const msg = JSON.parse(m.data);
            if (msg.type === 'audio_error' || msg.type === 'audio_answer') { done(msg); ws.close(); }
          };
          ws.onopen = () => ws.send(JSON.stringify({ type: 'audio_offer', sdp: pc.localDescription.sdp }));
        });
        setTimeout(() => done({ type: 'timeout' }), 5000);
        "#,
        vec![],
    );
    assert_eq!(reply["type"], "audio_error", "{reply}");
    assert!(
        reply["message"]
            .as_str()
            .unwrap_or_default()
            .contains("SIP phone"),
        "{reply}"
    );

    // Browser only: the audio connects at login, without a click.
    lab.ok("PUT", &path, Some(json!({"audio": "browser"})), &admin);
    b.refresh();
    b.wait_visible("#app-header", T);
    b.wait_text("#webphone-policy", "in this page", T);
    b.wait_attr(
        "#webphone-state",
        "data-state",
        "connected",
        Duration::from_secs(15),
    );
    assert!(
        !b.is_displayed("#webphone-disconnect"),
        "no way back to a SIP phone"
    );
}

/// Browser audio through a TURN relay (coturn with a shared secret, the
/// server set to relay only): the page gets short-lived credentials (never
/// the secret), its connection's selected candidate is a relayed one, and
/// audio flows through the relay (the echo test comes back).
#[test]
fn browser_audio_goes_through_a_turn_relay() {
    let _g = serial();
    require_tool("turnserver");
    let dir = TestDir::new("webphone_turn");
    let ip = host_ip();
    let port = free_port();
    let relay = std::process::Command::new("turnserver")
        .args([
            "-n",
            "--no-cli",
            "--no-tls",
            "--no-dtls",
            "--listening-ip",
            &ip,
            "--relay-ip",
            &ip,
            "--listening-port",
            &port.to_string(),
            "--min-port",
            "21000",
            "--max-port",
            "21999",
            "--use-auth-secret",
            "--static-auth-secret",
            "turn-test-secret",
            "--realm",
            "switchboard.test",
            "--simple-log",
            "--log-file",
        ])
        .arg(dir.join("turnserver.log"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("turnserver starts");
    let _relay = Stopped(relay);
    let extra = format!(
        "turn_urls = [\"turn:{ip}:{port}?transport=udp\"]\nturn_secret = \"turn-test-secret\"\nturn_relay_only = true"
    );
    let lab = lab(&dir, &extra);
    let token = lab.server.login("1001", "pw1001");
    let ice = lab.ok("GET", "/api/webphone/ice", None, &token);
    assert_eq!(ice["ice_transport_policy"], "relay", "{ice}");
    let server0 = &ice["ice_servers"][0];
    assert!(
        server0["username"]
            .as_str()
            .unwrap_or_default()
            .ends_with(":1001"),
        "{ice}"
    );
    assert!(!ice.to_string().contains("turn-test-secret"), "{ice}");

    let b = console(&dir, &lab, BROWSER_HZ, true);
    b.click("#webphone-connect");
    b.wait_attr(
        "#webphone-state",
        "data-state",
        "connected",
        Duration::from_secs(20),
    );
    let local = b.exec_async(
        r#"
        const done = arguments[arguments.length - 1];
        window.webphone.pc().getStats().then((st) => {
          let pair = null;
          st.forEach((r) => { if (r.type === 'transport' && r.selectedCandidatePairId) pair = st.get(r.selectedCandidatePairId); });
          const local = pair ? st.get(pair.localCandidateId) : null;
          done(local ? local.candidateType : 'none');
        });
        "#,
        vec![],
    );
    assert_eq!(local, "relay", "the media goes through the TURN relay");
    b.click("#webphone-echo");
    let before = inbound(&b, "packetsReceived");
    sleep(3.0);
    let after = inbound(&b, "packetsReceived");
    assert!(
        after - before > 50.0,
        "the echo comes back through the relay: {before} -> {after}"
    );
}

/// A child process killed when the test ends, passed or not.
struct Stopped(std::process::Child);

impl Drop for Stopped {
    fn drop(&mut self) {
        kill_child(&mut self.0);
    }
}
