//! Self-check of the e2e harness WITHOUT the server: real peers talk to each
//! other directly (baresip <-> baresip, sipp <-> sipp). If these fail, the
//! problem is the machine / peers / harness, not switchboard.

mod common;

use common::*;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

fn sine(freq: f32, secs: f32, amp: f32) -> Vec<f32> {
    (0..(8000.0 * secs) as usize)
        .map(|i| amp * (2.0 * std::f32::consts::PI * freq * i as f32 / 8000.0).sin())
        .collect()
}

#[test]
fn oracle_goertzel_on_synthetic_signals() {
    let s = sine(440.0, 1.0, 0.5);
    assert_eq!(dominant_frequency(&s, 8000, TEST_FREQS), 440.0);
    assert!(tone_fraction(&s, 8000, 440.0) > 0.9);
    assert!(tone_fraction(&s, 8000, 1000.0) < 0.05);
    let mut mix = sine(1000.0, 2.0, 0.3);
    mix.extend(vec![0.0; 8000]);
    let w = Wav {
        rate: 8000,
        samples: mix,
    };
    assert!(tone_heard_between(&w, 1000.0, 0.0, 2.0, 0.95));
    assert!(!tone_heard_between(&w, 440.0, 0.0, 2.0, 0.05));
    assert!(mostly_silence(&w, 2.0, 3.0, 0.95));
    assert!((tone_seconds(&w, 1000.0) - 2.0).abs() < 0.15);
}

#[test]
fn oracle_reads_sox_wav() {
    require_tool("sox");
    let dir = TestDir::new("selfcheck_wav");
    let p = dir.join("t.wav");
    common::baresip::make_tone_wav(&p, Some(1000.0), 3);
    let w = read_wav(&p).unwrap();
    assert_eq!(w.rate, 8000);
    assert!((w.duration() - 3.0).abs() < 0.01);
    assert_eq!(dominant_frequency(&w.samples, w.rate, TEST_FREQS), 1000.0);
    assert!(
        tone_heard_between(&w, 1000.0, 0.0, 3.0, 0.99),
        "{}",
        describe(&w)
    );
}

/// Two baresips call each other directly; each hears the other's tone.
#[test]
fn baresip_direct_call_two_way_audio() {
    require_tool("baresip");
    let _g = serial();
    let dir = TestDir::new("selfcheck_baresip_audio");
    let a = Baresip::start_unregistered(dir.path(), "alice", Some(440.0), true);
    let b = Baresip::start_unregistered(dir.path(), "bob", Some(1000.0), true);

    // Both answer OPTIONS: validates the raw SIP helpers on UDP and TCP.
    assert_eq!(
        sip::options_udp_to(b.sip_port, &b.uri(), Duration::from_secs(3)),
        Some(200)
    );
    let tcp_uri = format!("{};transport=tcp", b.uri());
    assert_eq!(
        sip::options_tcp_to(b.sip_port, &tcp_uri, Duration::from_secs(3)),
        Some(200)
    );

    a.dial(&b.uri());
    a.wait_event("CALL_ESTABLISHED", T);
    b.wait_event("CALL_ESTABLISHED", T);
    std::thread::sleep(Duration::from_secs(4));
    a.hangup();
    let ca = a.wait_event("CALL_CLOSED", T);
    let cb = b.wait_event("CALL_CLOSED", T);
    eprintln!("closed: a={:?} b={:?}", ca.param, cb.param);
    std::thread::sleep(Duration::from_millis(300));

    let wa = assert_hears(&a.received_wav(), 1000.0, 3.0, "alice");
    let wb = assert_hears(&b.received_wav(), 440.0, 3.0, "bob");
    assert_not_hears(&a.received_wav(), 440.0, 0.2, "alice");
    assert_not_hears(&b.received_wav(), 1000.0, 0.2, "bob");
    eprintln!(
        "alice heard: {}\nbob heard: {}",
        describe(&wa),
        describe(&wb)
    );
}

/// Reject while ringing (486 reaches the caller), CANCEL while ringing
/// (callee's ringing stops), manual accept.
#[test]
fn baresip_direct_reject_cancel_accept() {
    require_tool("baresip");
    let _g = serial();
    let dir = TestDir::new("selfcheck_baresip_signalling");
    let a = Baresip::start_unregistered(dir.path(), "alice", Some(440.0), true);
    let b = Baresip::start_unregistered(dir.path(), "bob", Some(1000.0), false);

    // 1. callee rejects -> caller sees 486
    a.dial(&b.uri());
    b.wait_event("CALL_INCOMING", T);
    a.wait_event("CALL_RINGING", T);
    b.hangup();
    let c = a.wait_event("CALL_CLOSED", T);
    assert!(
        c.param.starts_with("486"),
        "caller close reason {:?}",
        c.param
    );
    b.wait_event("CALL_CLOSED", T);

    // 2. caller hangs up while ringing (CANCEL) -> callee's call closes
    a.dial(&b.uri());
    b.wait_event("CALL_INCOMING", T);
    a.wait_event("CALL_RINGING", T);
    a.hangup();
    a.wait_event("CALL_CLOSED", T);
    let c = b.wait_event("CALL_CLOSED", T);
    eprintln!("callee close reason after CANCEL: {:?}", c.param);
    assert!(b
        .try_wait_event("CALL_ESTABLISHED", Duration::from_millis(500))
        .is_none());

    // 3. manual accept
    a.dial(&b.uri());
    b.wait_event("CALL_INCOMING", T);
    b.accept();
    a.wait_event("CALL_ESTABLISHED", T);
    b.wait_event("CALL_ESTABLISHED", T);
    b.hangup();
    a.wait_event("CALL_CLOSED", T);
    b.wait_event("CALL_CLOSED", T);

    // 4. unreachable user -> 404 from baresip
    a.dial(&format!("sip:nobody@127.0.0.1:{}", b.sip_port));
    let c = a.wait_event("CALL_CLOSED", T);
    assert!(c.param.starts_with("404"), "close reason {:?}", c.param);
}

/// hold / resume / blind transfer commands work between direct peers.
#[test]
fn baresip_direct_hold_resume_transfer() {
    require_tool("baresip");
    let _g = serial();
    let dir = TestDir::new("selfcheck_baresip_hold_xfer");
    let a = Baresip::start_unregistered(dir.path(), "alice", Some(440.0), true);
    let b = Baresip::start_unregistered(dir.path(), "bob", Some(1000.0), true);
    let c = Baresip::start_unregistered(dir.path(), "carol", Some(600.0), true);

    a.dial(&b.uri());
    a.wait_event("CALL_ESTABLISHED", T);
    b.wait_event("CALL_ESTABLISHED", T);
    a.hold();
    std::thread::sleep(Duration::from_millis(800));
    a.resume();
    std::thread::sleep(Duration::from_millis(800));
    // alice transfers bob to carol: bob INVITEs carol, alice's call ends
    a.transfer(&c.uri());
    c.wait_event("CALL_ESTABLISHED", T);
    a.wait_event("CALL_CLOSED", T);
    let e = b.wait_event("CALL_ESTABLISHED", T);
    assert!(
        e.peeruri.contains("carol"),
        "bob's new call is to {:?}",
        e.peeruri
    );
    std::thread::sleep(Duration::from_secs(3));
    b.hangup();
    c.wait_event("CALL_CLOSED", T);
    std::thread::sleep(Duration::from_millis(300));
    assert_hears(&c.received_wav(), 1000.0, 2.0, "carol");
}

/// sipp UAC -> sipp UAS directly (uac_basic_rr.xml / uas_rr.xml), with RTP echo.
#[test]
fn sipp_uac_to_uas_direct() {
    require_tool("sipp");
    let dir = TestDir::new("selfcheck_sipp_call");
    let uas = Sipp::uas(dir.path(), "uas", None, true, &[]);
    let remote = format!("127.0.0.1:{}", uas.port());
    let run = Sipp::run(
        dir.path(),
        "uac",
        "uac_basic_rr.xml",
        Some(&remote),
        &["-s", "1001", "-m", "3", "-r", "5", "-d", "300"],
        Duration::from_secs(20),
    );
    run.assert_ok();
    assert_eq!(run.successful(), 3, "{}", run.diagnostics());
    // built-in uac against the same UAS
    let run = Sipp::run(
        dir.path(),
        "uac_builtin",
        "uac",
        Some(&remote),
        &["-m", "2"],
        Duration::from_secs(20),
    );
    run.assert_ok();
    assert_eq!(run.successful(), 2);
    let uas_run = uas.stop();
    eprintln!(
        "uas stats: created={:?}",
        uas_run.stats.get("TotalCallCreated")
    );
}

/// The REGISTER-with-digest helper against sipp's fake registrar
/// (reg_uas_auth.xml verifies the digest): good password ok, bad one 403.
#[test]
fn sipp_register_digest_against_fake_registrar() {
    require_tool("sipp");
    let dir = TestDir::new("selfcheck_sipp_register");
    std::fs::write(
        dir.join("users.csv"),
        "SEQUENTIAL\n1001;secret1001\n1002;secret1002\n",
    )
    .unwrap();
    let reg = Sipp::spawn(
        dir.path(),
        "registrar",
        "reg_uas_auth.xml",
        None,
        &["-inf", "users.csv", "-infindex", "users.csv", "0"],
        Duration::from_secs(60),
    );
    let good = Sipp::register(
        dir.path(),
        "reg_good",
        reg.port(),
        &[("1001", "secret1001"), ("1002", "secret1002")],
        "u1",
        Duration::from_secs(15),
    );
    good.assert_ok();
    assert_eq!(good.successful(), 2);
    let bad = Sipp::register(
        dir.path(),
        "reg_bad",
        reg.port(),
        &[("1001", "WRONG")],
        "u1",
        Duration::from_secs(15),
    );
    assert_eq!(bad.code, 1, "{}", bad.diagnostics());
    assert_eq!(bad.failed(), 1);
    assert!(
        bad.messages().contains("SIP/2.0 403"),
        "{}",
        bad.diagnostics()
    );
}

/// The RTP-streaming UAC scenario (uac_basic_rr_rtp.xml) calling a baresip
/// directly: the baresip hears the scenario's 1000 Hz tone.
#[test]
fn sipp_rtp_uac_to_baresip_direct() {
    require_tool("sipp");
    require_tool("baresip");
    let _g = serial();
    let dir = TestDir::new("selfcheck_sipp_rtp_baresip");
    let b = Baresip::start_unregistered(dir.path(), "1001", Some(440.0), true);
    let scn = Sipp::rtp_uac_scenario(dir.path(), 1000.0);
    let run = Sipp::run(
        dir.path(),
        "customer",
        &scn,
        Some(&format!("127.0.0.1:{}", b.sip_port)),
        &["-s", "1001", "-m", "1", "-d", "3000"],
        Duration::from_secs(20),
    );
    run.assert_ok();
    b.wait_event("CALL_CLOSED", T);
    std::thread::sleep(Duration::from_millis(300));
    assert_hears(&b.received_wav(), 1000.0, 2.0, "baresip 1001");
}

/// The raw-SIP INVITE helper completes transactions against a real UA:
/// 2xx -> ACK + BYE (the call closes), 404 -> ACK.
#[test]
fn raw_invite_helper_against_baresip() {
    require_tool("baresip");
    let _g = serial();
    let dir = TestDir::new("selfcheck_raw_invite");
    let b = Baresip::start_unregistered(dir.path(), "bob", Some(1000.0), true);
    let c = sip::UdpClient::new(b.sip_port);
    let r = c
        .invite(
            &b.uri(),
            &[],
            Some("application/sdp"),
            &sip::sdp_offer(rtp_range(10).0),
            T,
        )
        .expect("final response");
    assert_eq!(r.status, 200, "{}", r.raw);
    b.wait_event("CALL_ESTABLISHED", T);
    b.wait_event("CALL_CLOSED", T);
    let r = c
        .invite(
            &format!("sip:nobody@127.0.0.1:{}", b.sip_port),
            &[],
            Some("application/sdp"),
            &sip::sdp_offer(rtp_range(10).0),
            T,
        )
        .expect("final response");
    assert_eq!(r.status, 404);
    // no retransmitted 404 after our ACK
    std::thread::sleep(Duration::from_millis(700));
    let again = c.drain(Duration::from_millis(800));
    assert!(
        again.is_empty(),
        "404 retransmitted: ACK not matched? {:?}",
        again.len()
    );
}

/// uac_cancel.xml against a ringing baresip (manual answer): 200 for the
/// CANCEL, 487 for the INVITE; the baresip's call closes.
#[test]
fn sipp_cancel_scenario_against_baresip() {
    require_tool("sipp");
    require_tool("baresip");
    let _g = serial();
    let dir = TestDir::new("selfcheck_sipp_cancel");
    let b = Baresip::start_unregistered(dir.path(), "1001", Some(440.0), false);
    let run = Sipp::run(
        dir.path(),
        "cancel",
        "uac_cancel.xml",
        Some(&format!("127.0.0.1:{}", b.sip_port)),
        &["-s", "1001", "-m", "1", "-d", "1000"],
        Duration::from_secs(20),
    );
    run.assert_ok();
    b.wait_event("CALL_INCOMING", T);
    b.wait_event("CALL_CLOSED", T);
    assert!(b.events_of("CALL_ESTABLISHED").is_empty());
}

/// uac_wait_bye_rtp.xml: the far end (baresip) hangs up, sipp answers the BYE.
#[test]
fn sipp_wait_bye_scenario_against_baresip() {
    require_tool("sipp");
    require_tool("baresip");
    let _g = serial();
    let dir = TestDir::new("selfcheck_sipp_wait_bye");
    let b = Baresip::start_unregistered(dir.path(), "1001", Some(440.0), true);
    let scn = Sipp::rtp_scenario(dir.path(), "uac_wait_bye_rtp.xml", 1000.0);
    let remote = format!("127.0.0.1:{}", b.sip_port);
    let customer = Sipp::spawn(
        dir.path(),
        "customer",
        &scn,
        Some(&remote),
        &["-s", "1001", "-m", "1"],
        Duration::from_secs(30),
    );
    b.wait_event("CALL_ESTABLISHED", T);
    std::thread::sleep(Duration::from_secs(3));
    b.hangup();
    b.wait_event("CALL_CLOSED", T);
    let run = customer.finish(Duration::from_secs(5));
    run.assert_ok();
    assert_eq!(run.successful(), 1);
    std::thread::sleep(Duration::from_millis(300));
    assert_hears(&b.received_wav(), 1000.0, 2.0, "baresip 1001");
}
