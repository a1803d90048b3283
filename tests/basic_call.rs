//! Agent-to-agent calls through the B2BUA with real baresip phones and an
//! audio oracle (each phone plays a distinct tone and records what it hears).

mod common;

use common::*;
use std::time::Duration;

const T: Duration = Duration::from_secs(10);

fn server(dir: &TestDir) -> Server {
    Server::start(
        dir,
        ServerOpts::new().with_agents(&["1001", "1002", "1003"]),
    )
}

/// 1001 (440 Hz) calls 1002 (1000 Hz, auto answer); after ~4 s each hears
/// the other; caller hangs up -> both calls close.
#[test]
fn agent_to_agent_two_way_audio() {
    let _g = serial();
    let dir = TestDir::new("call_audio");
    let s = server(&dir);
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);
    let b = start_agent(&dir, &s, "1002", Some(1000.0), true);

    a.dial(&s.uri("1002"));
    b.wait_event("CALL_ESTABLISHED", T);
    a.wait_event("CALL_ESTABLISHED", T);
    std::thread::sleep(Duration::from_secs(4));
    a.hangup();
    a.wait_event("CALL_CLOSED", T);
    let cb = b.wait_event("CALL_CLOSED", T);
    eprintln!("callee close reason: {:?}", cb.param);
    std::thread::sleep(Duration::from_millis(300));

    let wa = assert_hears(&a.received_wav(), 1000.0, 3.0, "caller 1001");
    let wb = assert_hears(&b.received_wav(), 440.0, 3.0, "callee 1002");
    // nobody hears their own tone (no echo / loopback in the B2BUA)
    assert_not_hears(&a.received_wav(), 440.0, 0.3, "caller 1001");
    assert_not_hears(&b.received_wav(), 1000.0, 0.3, "callee 1002");
    eprintln!(
        "1001 heard: {}\n1002 heard: {}",
        describe(&wa),
        describe(&wb)
    );
}

/// The callee hangs up: BYE in the other direction closes the caller.
#[test]
fn callee_hangs_up() {
    let _g = serial();
    let dir = TestDir::new("call_callee_bye");
    let s = server(&dir);
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);
    let b = start_agent(&dir, &s, "1002", Some(1000.0), true);
    a.dial(&s.uri("1002"));
    b.wait_event("CALL_ESTABLISHED", T);
    a.wait_event("CALL_ESTABLISHED", T);
    std::thread::sleep(Duration::from_secs(1));
    b.hangup();
    b.wait_event("CALL_CLOSED", T);
    a.wait_event("CALL_CLOSED", T);
}

/// Calling a configured but unregistered extension fails with 480 (or 404).
#[test]
fn call_unregistered_extension_fails() {
    let _g = serial();
    let dir = TestDir::new("call_unregistered");
    let s = server(&dir);
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);
    a.dial(&s.uri("1003"));
    let c = a.wait_event("CALL_CLOSED", T);
    assert_close_reason(&c, &["480", "404"], "call to unregistered 1003");
    assert!(a.events_of("CALL_ESTABLISHED").is_empty());
}

/// The callee rejects while ringing (baresip answers 486) -> caller sees 486.
#[test]
fn callee_rejects_486() {
    let _g = serial();
    let dir = TestDir::new("call_reject");
    let s = server(&dir);
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);
    let b = start_agent(&dir, &s, "1002", Some(1000.0), false);
    a.dial(&s.uri("1002"));
    b.wait_event("CALL_INCOMING", T);
    a.wait_event("CALL_RINGING", T);
    b.hangup();
    let c = a.wait_event("CALL_CLOSED", T);
    assert_close_reason(&c, &["486", "603"], "callee rejected");
    b.wait_event("CALL_CLOSED", T);
}

/// Busy: 1002 accepts one call at a time (call_max_calls 1) and is talking
/// to 1001; 1003 calls 1002 and gets 486; the first call is unaffected.
#[test]
fn busy_callee_486() {
    let _g = serial();
    let dir = TestDir::new("call_busy");
    let s = server(&dir);
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);
    let b = Baresip::with_opts(
        dir.path(),
        BaresipOpts::new("1002")
            .register(s.sip_port, "secret1002")
            .tone(1000.0)
            .max_calls(1),
    );
    b.wait_registered(T);
    let c = start_agent(&dir, &s, "1003", Some(600.0), true);

    a.dial(&s.uri("1002"));
    b.wait_event("CALL_ESTABLISHED", T);
    a.wait_event("CALL_ESTABLISHED", T);

    c.dial(&s.uri("1002"));
    let closed = c.wait_event("CALL_CLOSED", T);
    assert_close_reason(&closed, &["486", "600"], "call to busy 1002");
    assert!(c.events_of("CALL_ESTABLISHED").is_empty());
    // the established call is still up
    assert!(
        a.no_event_within("CALL_CLOSED", Duration::from_secs(1)),
        "1001's call dropped: {}",
        a.event_summary()
    );
    a.hangup();
    a.wait_event("CALL_CLOSED", T);
    b.wait_event("CALL_CLOSED", T);
}

/// Caller hangs up while the callee is ringing (CANCEL): the callee's
/// ringing stops and nobody gets CALL_ESTABLISHED.
#[test]
fn cancel_before_answer() {
    let _g = serial();
    let dir = TestDir::new("call_cancel");
    let s = server(&dir);
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);
    let b = start_agent(&dir, &s, "1002", Some(1000.0), false);
    a.dial(&s.uri("1002"));
    b.wait_event("CALL_INCOMING", T);
    a.wait_event("CALL_RINGING", T);
    std::thread::sleep(Duration::from_millis(500));
    a.hangup();
    a.wait_event("CALL_CLOSED", T);
    let c = b.wait_event("CALL_CLOSED", Duration::from_secs(5));
    eprintln!("callee close reason after CANCEL: {:?}", c.param);
    assert!(b.events_of("CALL_ESTABLISHED").is_empty());
    assert!(a.events_of("CALL_ESTABLISHED").is_empty());
    // and the callee can be called again afterwards
    a.dial(&s.uri("1002"));
    b.wait_event("CALL_INCOMING", T);
    b.accept();
    a.wait_event("CALL_ESTABLISHED", T);
    b.wait_event("CALL_ESTABLISHED", T);
    a.hangup();
    b.wait_event("CALL_CLOSED", T);
}

/// Manual answer after a few seconds of ringing: audio flows both ways.
#[test]
fn manual_answer_after_ringing() {
    let _g = serial();
    let dir = TestDir::new("call_manual_answer");
    let s = server(&dir);
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);
    let b = start_agent(&dir, &s, "1002", Some(1000.0), false);
    a.dial(&s.uri("1002"));
    b.wait_event("CALL_INCOMING", T);
    std::thread::sleep(Duration::from_secs(2));
    b.accept();
    a.wait_event("CALL_ESTABLISHED", T);
    b.wait_event("CALL_ESTABLISHED", T);
    std::thread::sleep(Duration::from_secs(3));
    b.hangup();
    a.wait_event("CALL_CLOSED", T);
    b.wait_event("CALL_CLOSED", T);
    std::thread::sleep(Duration::from_millis(300));
    assert_hears(&a.received_wav(), 1000.0, 2.0, "caller 1001");
    assert_hears(&b.received_wav(), 440.0, 2.0, "callee 1002");
}

/// An INVITE without credentials from an address that is not a trunk is
/// challenged (401/407), never connected.
#[test]
fn invite_without_credentials_is_challenged() {
    let dir = TestDir::new("call_noauth");
    let s = server(&dir);
    let c = sip::UdpClient::new(s.sip_port);
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
        rtp_range(10).0
    );
    let r = c
        .request(
            "INVITE",
            &s.uri("1002"),
            &["Content-Type: application/sdp"],
            &sdp,
            Duration::from_secs(5),
        )
        .expect("no final response to unauthenticated INVITE");
    assert!(
        matches!(r.status, 401 | 407 | 403),
        "unauthenticated INVITE got {} {}",
        r.status,
        r.reason
    );
}

/// Two simultaneous calls (1001<->1002, 1003<->1004) with four distinct
/// tones: each party hears exactly its own peer (no cross-talk in the relay).
#[test]
fn two_concurrent_calls_no_crosstalk() {
    let _g = serial();
    let dir = TestDir::new("call_concurrent");
    let s = Server::start(
        &dir,
        ServerOpts::new().with_agents(&["1001", "1002", "1003", "1004"]),
    );
    let tones = [
        ("1001", 440.0),
        ("1002", 1000.0),
        ("1003", 600.0),
        ("1004", 1500.0),
    ];
    let p: Vec<Baresip> = tones
        .iter()
        .map(|(u, f)| start_agent(&dir, &s, u, Some(*f), true))
        .collect();
    p[0].dial(&s.uri("1002"));
    p[2].dial(&s.uri("1004"));
    for b in &p {
        b.wait_event("CALL_ESTABLISHED", T);
    }
    std::thread::sleep(Duration::from_secs(4));
    p[0].hangup();
    p[2].hangup();
    for b in &p {
        b.wait_event("CALL_CLOSED", T);
    }
    std::thread::sleep(Duration::from_millis(300));
    let peer = [1usize, 0, 3, 2];
    for (i, b) in p.iter().enumerate() {
        let who = format!("agent {}", tones[i].0);
        assert_hears(&b.received_wav(), tones[peer[i]].1, 3.0, &who);
        for (j, (_, f)) in tones.iter().enumerate() {
            if j != peer[i] {
                assert_not_hears(&b.received_wav(), *f, 0.3, &who);
            }
        }
    }
}

/// An agent registered over TCP calls and is called by a UDP agent.
#[test]
fn tcp_agent_and_udp_agent() {
    let _g = serial();
    let dir = TestDir::new("call_tcp");
    let s = server(&dir);
    let mut o = BaresipOpts::new("1001")
        .register(s.sip_port, "secret1001")
        .tone(440.0);
    o.transport = Some("tcp".into());
    let a = Baresip::with_opts(dir.path(), o);
    a.wait_registered(T);
    let b = start_agent(&dir, &s, "1002", Some(1000.0), true);

    // UDP -> TCP
    b.dial(&s.uri("1001"));
    a.wait_event("CALL_ESTABLISHED", T);
    b.wait_event("CALL_ESTABLISHED", T);
    std::thread::sleep(Duration::from_secs(3));
    b.hangup();
    a.wait_event("CALL_CLOSED", T);
    b.wait_event("CALL_CLOSED", T);
    std::thread::sleep(Duration::from_millis(300));
    assert_hears(&a.received_wav(), 1000.0, 2.0, "TCP agent 1001");
    assert_hears(&b.received_wav(), 440.0, 2.0, "UDP agent 1002");

    // TCP -> UDP
    std::thread::sleep(Duration::from_millis(1100)); // new dump file name (per second)
    a.dial(&format!("sip:1002@127.0.0.1:{};transport=tcp", s.sip_port));
    a.wait_event("CALL_ESTABLISHED", T);
    b.wait_event("CALL_ESTABLISHED", T);
    std::thread::sleep(Duration::from_secs(3));
    a.hangup();
    a.wait_event("CALL_CLOSED", T);
    b.wait_event("CALL_CLOSED", T);
    std::thread::sleep(Duration::from_millis(300));
    assert_hears(&a.received_wav(), 1000.0, 2.0, "TCP agent 1001 (2nd call)");
    assert_hears(&b.received_wav(), 440.0, 2.0, "UDP agent 1002 (2nd call)");
}

/// After a phone unregisters (baresip quit sends REGISTER Expires: 0), calls
/// to it fail with 480/404 instead of ringing a stale contact.
#[test]
fn call_after_unregister_fails() {
    let _g = serial();
    let dir = TestDir::new("call_after_unregister");
    let s = server(&dir);
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);
    let mut b = start_agent(&dir, &s, "1002", Some(1000.0), true);
    b.quit();
    assert!(
        b.log().contains("Expires: 0") || b.log().contains("expires=0"),
        "baresip did not unregister:\n{}",
        b.log_tail(30)
    );
    a.dial(&s.uri("1002"));
    let c = a.wait_event("CALL_CLOSED", Duration::from_secs(40));
    assert_close_reason(&c, &["480", "404"], "call to unregistered 1002");
}

/// Caller holds and resumes (re-INVITE sendonly / sendrecv through the
/// B2BUA); after resume both directions carry the tones again.
#[test]
fn hold_and_resume_audio_returns() {
    let _g = serial();
    let dir = TestDir::new("call_hold_resume");
    let s = server(&dir);
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);
    let b = start_agent(&dir, &s, "1002", Some(1000.0), true);
    a.dial(&s.uri("1002"));
    a.wait_event("CALL_ESTABLISHED", T);
    b.wait_event("CALL_ESTABLISHED", T);
    std::thread::sleep(Duration::from_secs(2));
    a.hold();
    std::thread::sleep(Duration::from_secs(2));
    a.resume();
    std::thread::sleep(Duration::from_secs(4));
    a.hangup();
    a.wait_event("CALL_CLOSED", T);
    b.wait_event("CALL_CLOSED", T);
    std::thread::sleep(Duration::from_millis(300));
    // the newest dumps cover the time after the last (re-)INVITE; check the
    // last 2 s before the hangup
    for (p, f, who) in [(&a, 1000.0f32, "caller 1001"), (&b, 440.0, "callee 1002")] {
        let path = p.received_wav();
        let w = read_wav(&path).unwrap();
        let d = w.duration();
        assert!(
            tone_heard_between(&w, f, d - 2.2, d - 0.2, 0.8),
            "{} should hear {} Hz after resume; {} ({}); all dumps {:?}",
            who,
            f,
            describe(&w),
            path.display(),
            p.received_wavs()
        );
    }
}

/// The callee sends REFER (baresip blind transfer) to a third agent.
/// Either the server performs the transfer (caller and target end up
/// talking, the transferor's call ends) or it refuses the REFER with a final
/// error (switchboard: "501 ... use the API to transfer") - then the target
/// must not ring and, when the transferor hangs up, the caller's leg closes.
#[test]
fn refer_from_phone_transfer_or_clean_reject() {
    let _g = serial();
    let dir = TestDir::new("call_refer");
    let s = server(&dir);
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);
    let b = start_agent(&dir, &s, "1002", Some(1000.0), true);
    let c = start_agent(&dir, &s, "1003", Some(600.0), true);
    a.dial(&s.uri("1002"));
    a.wait_event("CALL_ESTABLISHED", T);
    b.wait_event("CALL_ESTABLISHED", T);
    std::thread::sleep(Duration::from_secs(1));
    b.transfer(&s.uri("1003"));
    let refused = wait_until(Duration::from_secs(5), Duration::from_millis(100), || {
        b.log()
            .lines()
            .find(|l| l.contains("transfer failed"))
            .map(|l| l.to_string())
    });
    if let Some(line) = refused {
        eprintln!("REFER refused by the server: {}", line);
        let r = b
            .log()
            .lines()
            .skip_while(|l| !l.starts_with("REFER "))
            .find(|l| l.starts_with("SIP/2.0 "))
            .unwrap_or_default()
            .to_string();
        let code: u16 = r
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        assert!(code >= 400, "REFER final response {:?}", r);
        // baresip 1.0.0 hangs up by itself after a failed transfer (BYE, but
        // no CALL_CLOSED event); hang up ourselves if it did not.
        let ended = wait_until(Duration::from_secs(3), Duration::from_millis(100), || {
            (b.log().contains("terminated (duration") || !b.events_of("CALL_CLOSED").is_empty())
                .then_some(())
        });
        if ended.is_none() {
            b.hangup();
        }
        a.wait_event("CALL_CLOSED", T);
        assert!(
            c.events_of("CALL_INCOMING").is_empty() && c.events_of("CALL_ESTABLISHED").is_empty(),
            "target rang although the REFER was refused: {}",
            c.event_summary()
        );
        return;
    }
    c.wait_event("CALL_ESTABLISHED", T);
    b.wait_event("CALL_CLOSED", T);
    std::thread::sleep(Duration::from_secs(4));
    c.hangup();
    c.wait_event("CALL_CLOSED", T);
    std::thread::sleep(Duration::from_millis(300));
    assert_hears(&c.received_wav(), 440.0, 3.0, "transfer target 1003");
    let w = read_wav(&a.received_wav()).unwrap();
    let d = w.duration();
    assert!(
        tone_heard_between(&w, 600.0, d - 3.2, d - 0.2, 0.8),
        "caller 1001 should hear the target's 600 Hz at the end: {} (dumps {:?}); events: {}",
        describe(&w),
        a.received_wavs(),
        a.event_summary()
    );
    a.wait_event("CALL_CLOSED", T);
}

/// A call lasting longer than 64*T1 (32 s): if either side's 2xx is not
/// ACKed (B2BUA forgets to ACK the callee, or does not absorb the caller's
/// ACK), the UAs tear the call down around 32 s. Audio must still flow.
#[test]
fn call_survives_past_32_seconds() {
    let _g = serial();
    let dir = TestDir::new("call_long");
    let s = server(&dir);
    let a = start_agent(&dir, &s, "1001", Some(440.0), true);
    let b = start_agent(&dir, &s, "1002", Some(1000.0), true);
    a.dial(&s.uri("1002"));
    a.wait_event("CALL_ESTABLISHED", T);
    b.wait_event("CALL_ESTABLISHED", T);
    assert!(
        a.no_event_within("CALL_CLOSED", Duration::from_secs(36)),
        "caller's call dropped: {}",
        a.event_summary()
    );
    assert!(
        b.no_event_within("CALL_CLOSED", Duration::from_millis(10)),
        "callee's call dropped: {}",
        b.event_summary()
    );
    a.hangup();
    a.wait_event("CALL_CLOSED", T);
    b.wait_event("CALL_CLOSED", T);
    std::thread::sleep(Duration::from_millis(300));
    let w = read_wav(&a.received_wav()).unwrap();
    let d = w.duration();
    assert!(d > 35.0, "caller dump only {:.1}s", d);
    assert!(
        tone_heard_between(&w, 1000.0, d - 5.0, d - 0.5, 0.9),
        "{}",
        describe(&w)
    );
    let w = read_wav(&b.received_wav()).unwrap();
    let d = w.duration();
    assert!(
        tone_heard_between(&w, 440.0, d - 5.0, d - 0.5, 0.9),
        "{}",
        describe(&w)
    );
}
