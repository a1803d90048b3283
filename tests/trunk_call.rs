//! Calls through the SIP trunk: agent -> external number (PSTN peer at the
//! trunk address) and customer from the trunk's inbound address -> agent.

mod common;

use common::*;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

/// Server with agents 1001/1002 and a trunk whose outbound address is
/// `pstn_port` and whose trusted inbound source is `customer_port`.
fn server(dir: &TestDir, pstn_port: u16, customer_port: u16) -> Server {
    Server::start(
        dir,
        ServerOpts::new()
            .with_agents(&["1001", "1002"])
            .trunk(TrunkCfg::new("pstn", pstn_port, &[customer_port])),
    )
}

/// Agent 1001 (440 Hz) dials 5551234: the server routes it to the trunk,
/// where a baresip "PSTN" (user 5551234, 1000 Hz, auto answer) picks up.
/// Two-way audio through the server's media relay.
#[test]
fn agent_calls_external_number_baresip_pstn() {
    let _g = serial();
    let dir = TestDir::new("trunk_out_baresip");
    let pstn_port = free_port_pair();
    let s = server(&dir, pstn_port, free_port());
    let pstn = Baresip::with_opts(
        dir.path(),
        BaresipOpts::new("5551234").sip_port(pstn_port).tone(1000.0),
    );
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);

    a.dial(&s.uri("5551234"));
    let e = pstn.wait_event("CALL_ESTABLISHED", T);
    eprintln!("PSTN got call from {}", e.peeruri);
    a.wait_event("CALL_ESTABLISHED", T);
    std::thread::sleep(Duration::from_secs(4));
    a.hangup();
    a.wait_event("CALL_CLOSED", T);
    pstn.wait_event("CALL_CLOSED", T);
    std::thread::sleep(Duration::from_millis(300));
    assert_hears(&a.received_wav(), 1000.0, 3.0, "agent 1001");
    assert_hears(&pstn.received_wav(), 440.0, 3.0, "PSTN");
    // The trunk INVITE must carry the dialed number.
    let log = pstn.log();
    assert!(
        log.contains("INVITE sip:5551234@"),
        "PSTN did not see INVITE sip:5551234@...; log:\n{}",
        pstn.log_tail(60)
    );
}

/// Same, with a sipp UAS (uas_rr.xml, -rtp_echo) as the PSTN: the agent
/// hears its own tone echoed back through the server, and the far end
/// hangs up cleanly.
#[test]
fn agent_calls_external_number_sipp_echo() {
    let _g = serial();
    let dir = TestDir::new("trunk_out_sipp");
    let pstn_port = free_port();
    let s = server(&dir, pstn_port, free_port());
    let uas = Sipp::uas(dir.path(), "pstn_uas", Some(pstn_port), true, &["-m", "1"]);
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);

    a.dial(&s.uri("5551234"));
    a.wait_event("CALL_ESTABLISHED", T);
    std::thread::sleep(Duration::from_secs(4));
    a.hangup();
    a.wait_event("CALL_CLOSED", T);
    std::thread::sleep(Duration::from_millis(500));
    let msgs = uas.messages();
    let run = uas.finish(Duration::from_secs(8));
    assert!(
        msgs.contains("INVITE sip:5551234@"),
        "trunk INVITE should target the dialed number\n{}",
        run.diagnostics()
    );
    assert_eq!(
        run.successful(),
        1,
        "PSTN UAS call did not complete (INVITE/ACK/BYE)\n{}",
        run.diagnostics()
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_hears(
        &a.received_wav(),
        440.0,
        2.5,
        "agent 1001 (echo of own tone)",
    );
}

/// A customer at the trunk's inbound address (sipp, no auth) calls
/// extension 1001 directly; 1001 (auto answer) hears the customer's 1000 Hz
/// RTP stream; the customer hangs up after 4 s.
#[test]
fn customer_from_trunk_calls_extension() {
    let _g = serial();
    let dir = TestDir::new("trunk_in_customer");
    let customer_port = free_port();
    let s = server(&dir, free_port(), customer_port);
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);
    let scn = Sipp::rtp_uac_scenario(dir.path(), 1000.0);
    let cp = customer_port.to_string();
    let run = Sipp::run(
        dir.path(),
        "customer",
        &scn,
        Some(&format!("127.0.0.1:{}", s.sip_port)),
        &["-p", &cp, "-s", "1001", "-m", "1", "-d", "4000"],
        Duration::from_secs(30),
    );
    run.assert_ok();
    a.wait_event("CALL_ESTABLISHED", T);
    a.wait_event("CALL_CLOSED", T);
    std::thread::sleep(Duration::from_millis(300));
    assert_hears(&a.received_wav(), 1000.0, 3.0, "agent 1001");
}

/// Plain uac_basic_rr.xml (no RTP) from the trunk address: signalling only.
#[test]
fn customer_from_trunk_basic_call_signalling() {
    let _g = serial();
    let dir = TestDir::new("trunk_in_basic");
    let customer_port = free_port();
    let s = server(&dir, free_port(), customer_port);
    let a = start_agent(&dir, &s, "1001", None, true);
    let cp = customer_port.to_string();
    let run = Sipp::run(
        dir.path(),
        "customer_basic",
        "uac_basic_rr.xml",
        Some(&format!("127.0.0.1:{}", s.sip_port)),
        &["-p", &cp, "-s", "1001", "-m", "1", "-d", "1500"],
        Duration::from_secs(30),
    );
    run.assert_ok();
    a.wait_event("CALL_ESTABLISHED", T);
    a.wait_event("CALL_CLOSED", T);
}

/// A customer's phone offering video (before audio) and no telephone-event:
/// the answer keeps the offer's layout with the video stream refused
/// (`m=video 0`) and answers no telephone-event (sipp checks the 200's body).
#[test]
fn customer_offering_video_gets_audio_only_in_the_offer_layout() {
    let _g = serial();
    let dir = TestDir::new("trunk_in_video");
    let customer_port = free_port();
    let s = server(&dir, free_port(), customer_port);
    let a = start_agent(&dir, &s, "1001", None, true);
    let cp = customer_port.to_string();
    let run = Sipp::run(
        dir.path(),
        "customer_video",
        "uac_video_offer.xml",
        Some(&format!("127.0.0.1:{}", s.sip_port)),
        &["-p", &cp, "-s", "1001", "-m", "1", "-d", "1000"],
        Duration::from_secs(30),
    );
    run.assert_ok();
    a.wait_event("CALL_ESTABLISHED", T);
}

/// The same INVITE from an address that is NOT the trunk's inbound_from is
/// not accepted without authentication.
#[test]
fn customer_from_unknown_source_is_not_trusted() {
    let dir = TestDir::new("trunk_in_untrusted");
    let s = server(&dir, free_port(), free_port());
    let c = sip::UdpClient::new(s.sip_port); // random port, not inbound_from
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
        rtp_range(10).0
    );
    let r = c
        .request(
            "INVITE",
            &s.uri("1001"),
            &["Content-Type: application/sdp"],
            &sdp,
            Duration::from_secs(5),
        )
        .expect("no final response");
    assert!(
        matches!(r.status, 401 | 403 | 407),
        "untrusted INVITE got {} {}",
        r.status,
        r.reason
    );
}

/// The customer gives up while the agent's phone rings (CANCEL from the
/// trunk side): sipp gets 200/487, the agent's ringing stops.
#[test]
fn customer_cancels_while_agent_rings() {
    let _g = serial();
    let dir = TestDir::new("trunk_in_cancel");
    let customer_port = free_port();
    let s = server(&dir, free_port(), customer_port);
    let a = start_agent(&dir, &s, "1001", Some(440.0), false);
    let cp = customer_port.to_string();
    let run = Sipp::run(
        dir.path(),
        "customer_cancel",
        "uac_cancel.xml",
        Some(&format!("127.0.0.1:{}", s.sip_port)),
        &["-p", &cp, "-s", "1001", "-m", "1", "-d", "1500"],
        Duration::from_secs(30),
    );
    run.assert_ok();
    a.wait_event("CALL_INCOMING", T);
    let c = a.wait_event("CALL_CLOSED", Duration::from_secs(5));
    eprintln!("agent close reason after customer CANCEL: {:?}", c.param);
    assert!(a.events_of("CALL_ESTABLISHED").is_empty());
}

/// The agent hangs up a customer call: the customer (sipp) receives the BYE;
/// the agent heard the customer's 1000 Hz stream.
#[test]
fn agent_hangs_up_customer_call() {
    let _g = serial();
    let dir = TestDir::new("trunk_in_agent_bye");
    let customer_port = free_port();
    let s = server(&dir, free_port(), customer_port);
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);
    let scn = Sipp::rtp_scenario(dir.path(), "uac_wait_bye_rtp.xml", 1000.0);
    let cp = customer_port.to_string();
    let customer = Sipp::spawn(
        dir.path(),
        "customer",
        &scn,
        Some(&format!("127.0.0.1:{}", s.sip_port)),
        &["-p", &cp, "-s", "1001", "-m", "1"],
        Duration::from_secs(40),
    );
    a.wait_event("CALL_ESTABLISHED", T);
    std::thread::sleep(Duration::from_secs(4));
    a.hangup();
    a.wait_event("CALL_CLOSED", T);
    let run = customer.finish(Duration::from_secs(8));
    run.assert_ok();
    std::thread::sleep(Duration::from_millis(300));
    assert_hears(&a.received_wav(), 1000.0, 3.0, "agent 1001");
}

/// The far end of the trunk rejects (baresip PSTN in manual mode hangs up
/// while ringing -> 486): the agent's call closes with 486.
#[test]
fn external_number_rejects() {
    let _g = serial();
    let dir = TestDir::new("trunk_out_reject");
    let pstn_port = free_port_pair();
    let s = server(&dir, pstn_port, free_port());
    let pstn = Baresip::with_opts(
        dir.path(),
        BaresipOpts::new("5551234")
            .sip_port(pstn_port)
            .tone(1000.0)
            .auto_answer(false),
    );
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);
    a.dial(&s.uri("5551234"));
    pstn.wait_event("CALL_INCOMING", T);
    a.wait_event("CALL_RINGING", T);
    pstn.hangup();
    let c = a.wait_event("CALL_CLOSED", T);
    assert_close_reason(&c, &["486", "603"], "external number rejected");
}

/// Nothing listens at the trunk address: the agent's call must end with an
/// error (408/503/480/...) within Timer B (32 s) plus slack, not hang forever.
#[test]
fn external_trunk_unreachable() {
    let _g = serial();
    let dir = TestDir::new("trunk_out_unreachable");
    let s = server(&dir, free_port(), free_port());
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);
    let t0 = std::time::Instant::now();
    a.dial(&s.uri("5551234"));
    let c = a.wait_event("CALL_CLOSED", Duration::from_secs(45));
    eprintln!(
        "unreachable trunk: closed after {:?} with {:?}",
        t0.elapsed(),
        c.param
    );
    assert_close_reason(
        &c,
        &["408", "480", "500", "502", "503", "504"],
        "unreachable trunk",
    );
    assert!(a.events_of("CALL_ESTABLISHED").is_empty());
}

/// A sipp "agent phone" (digest auth as 1001, uac_auth_rr.xml) places 20
/// sequential calls to an external number; the trunk side is a sipp UAS with
/// RTP echo. Every call must complete (INVITE/407/INVITE/200/ACK/BYE on
/// the agent side, INVITE/200/ACK/BYE on the trunk side): no state leaks
/// between calls.
#[test]
fn agent_sipp_repeated_calls_to_trunk() {
    let dir = TestDir::new("trunk_out_repeated");
    let pstn_port = free_port();
    let s = server(&dir, pstn_port, free_port());
    let uas = Sipp::uas(dir.path(), "pstn_uas", Some(pstn_port), true, &["-m", "20"]);
    let run = Sipp::run(
        dir.path(),
        "agent_uac",
        "uac_auth_rr.xml",
        Some(&format!("127.0.0.1:{}", s.sip_port)),
        &[
            "-s",
            "5551234",
            "-set",
            "user",
            "1001",
            "-au",
            "1001",
            "-ap",
            "secret1001",
            // The digest `uri` must be the Request-URI (sipp defaults to host:port; it adds `sip:`).
            "-auth_uri",
            &format!("5551234@127.0.0.1:{}", s.sip_port),
            "-m",
            "20",
            "-l",
            "1",
            "-r",
            "5",
            "-d",
            "300",
        ],
        Duration::from_secs(60),
    );
    run.assert_ok();
    assert_eq!(run.successful(), 20, "{}", run.diagnostics());
    let uas_run = uas.finish(Duration::from_secs(8));
    assert_eq!(
        uas_run.successful(),
        20,
        "trunk side completed {} calls\n{}",
        uas_run.successful(),
        uas_run.diagnostics()
    );
}

/// A provider that challenges INVITEs (401; sipp verifyauth reads only
/// Authorization, 407 is handled the same way): the server answers with the
/// trunk's digest credentials (checked by sipp's verifyauth) and the call goes
/// up; with a wrong trunk password the provider's 403 reaches the agent.
#[test]
fn trunk_with_digest_credentials() {
    let _g = serial();
    for (password, expect_up) in [("trunkpass", true), ("wrong", false)] {
        let dir = TestDir::new("trunk_auth");
        let pstn_port = free_port();
        let mut trunk = TrunkCfg::new("provider", pstn_port, &[]);
        trunk.extra = format!("username = \"trunkuser\"\npassword = \"{password}\"");
        let s = Server::start(&dir, ServerOpts::new().with_agents(&["1001"]).trunk(trunk));
        let provider = Sipp::spawn(
            dir.path(),
            "provider",
            "uas_auth_invite.xml",
            None,
            &["-p", &pstn_port.to_string(), "-m", "1"],
            Duration::from_secs(40),
        );
        let a = start_agent(&dir, &s, "1001", Some(440.0), true);
        a.dial(&s.uri("5551234"));
        if expect_up {
            a.wait_event("CALL_ESTABLISHED", T);
            std::thread::sleep(Duration::from_secs(1));
            a.hangup();
            a.wait_event("CALL_CLOSED", T);
            provider.finish(Duration::from_secs(10)).assert_ok();
        } else {
            let c = a.wait_event("CALL_CLOSED", T);
            assert_close_reason(&c, &["403"], "provider refused the wrong credentials");
        }
    }
}

/// A customer whose phone stops sending media without hanging up (crash,
/// lost network) is hung up after `rtp_timeout_secs`, and so is the agent.
#[test]
fn silent_party_is_hung_up_after_the_rtp_timeout() {
    let _g = serial();
    let dir = TestDir::new("rtp_timeout");
    let customer_port = free_port();
    let mut opts = ServerOpts::new()
        .with_agents(&["1001"])
        .trunk(TrunkCfg::new("pstn", free_port(), &[customer_port]));
    opts.extra_server = "rtp_timeout_secs = 3".into();
    let s = Server::start(&dir, opts);
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);
    // sipp sends no RTP at all and would keep the call for 20 s.
    let customer = Sipp::spawn(
        dir.path(),
        "silent",
        "uac_basic_rr.xml",
        Some(&format!("127.0.0.1:{}", s.sip_port)),
        &[
            "-s",
            "1001",
            "-p",
            &customer_port.to_string(),
            "-m",
            "1",
            "-d",
            "20000",
        ],
        Duration::from_secs(40),
    );
    a.wait_event("CALL_ESTABLISHED", T);
    let t0 = std::time::Instant::now();
    a.wait_event("CALL_CLOSED", Duration::from_secs(12));
    assert!(
        t0.elapsed() < Duration::from_secs(9),
        "hung up {:?} after answer",
        t0.elapsed()
    );
    drop(customer);
    let tok = s.login("1001", "pw1001");
    let (_, h) = s.api("GET", "/api/history", None, Some(&tok));
    let id = h["calls"][0]["id"].as_str().expect("call").to_string();
    let (_, ev) = s.api("GET", &format!("/api/calls/{id}/events"), None, Some(&tok));
    assert!(
        ev["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "RTP_TIMEOUT"),
        "{ev}"
    );
}

/// Early media: the carrier (a sipp UAS) answers 183 with SDP and plays a
/// 1,000 Hz announcement for 4 s before its 200 OK, then sends no more
/// audio. The agent's baresip gets 183 with SDP from the server and hears
/// the announcement: every 1,000 Hz it records came before the answer.
#[test]
fn agent_hears_the_carriers_early_media_announcement() {
    let _g = serial();
    let dir = TestDir::new("trunk_early_media");
    let pstn_port = free_port();
    let s = server(&dir, pstn_port, free_port());
    let scenario = Sipp::rtp_scenario(dir.path(), "uas_early_media_rtp.xml", 1000.0);
    let uas = Sipp::spawn(
        dir.path(),
        "carrier",
        &scenario,
        None,
        &["-p", &pstn_port.to_string(), "-m", "1"],
        Duration::from_secs(60),
    );
    let a = start_agent(&dir, &s, "1001", None, true);
    let dialled = std::time::Instant::now();
    a.dial(&s.uri("5551234"));
    a.wait_event("CALL_ESTABLISHED", T);
    let answered_after = dialled.elapsed();
    assert!(
        answered_after >= Duration::from_millis(3500),
        "the carrier answers after its announcement ({answered_after:?})"
    );
    std::thread::sleep(Duration::from_secs(1));
    a.hangup();
    a.wait_event("CALL_CLOSED", T);
    let run = uas.finish(Duration::from_secs(8));
    assert!(run.code == 0, "carrier scenario: {}", run.diagnostics());
    std::thread::sleep(Duration::from_millis(300));
    let heard = a.received_wav();
    assert_hears(&heard, 1000.0, 2.5, "agent (early media before the answer)");
    let log = a.log();
    assert!(
        log.contains("SIP/2.0 183 Session Progress"),
        "the agent's phone got 183 with SDP\n{}",
        a.log_tail(60)
    );
}

/// A trunk over TCP (`transport = "tcp"`): the server opens a TCP
/// connection to the sipp PSTN (`-t t1`, echoing RTP) and the whole call's
/// signalling goes over it; the agent hears its own tone echoed back.
#[test]
fn agent_calls_a_number_through_a_tcp_trunk() {
    let _g = serial();
    let dir = TestDir::new("trunk_out_tcp");
    let pstn_port = free_port();
    let mut trunk = TrunkCfg::new("pstn", pstn_port, &[]);
    trunk.extra = "transport = \"tcp\"".into();
    let s = Server::start(&dir, ServerOpts::new().with_agents(&["1001"]).trunk(trunk));
    let uas = Sipp::uas(
        dir.path(),
        "pstn_tcp",
        Some(pstn_port),
        true,
        &["-m", "1", "-t", "t1"],
    );
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);
    a.dial(&s.uri("5551234"));
    a.wait_event("CALL_ESTABLISHED", T);
    std::thread::sleep(Duration::from_secs(3));
    a.hangup();
    a.wait_event("CALL_CLOSED", T);
    std::thread::sleep(Duration::from_millis(500));
    let msgs = uas.messages();
    let run = uas.finish(Duration::from_secs(8));
    assert_eq!(run.successful(), 1, "TCP PSTN call\n{}", run.diagnostics());
    assert!(
        msgs.contains("Via: SIP/2.0/TCP"),
        "the INVITE came over TCP\n{}",
        run.diagnostics()
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_hears(
        &a.received_wav(),
        440.0,
        1.5,
        "agent (echo over the TCP trunk's call)",
    );
}
