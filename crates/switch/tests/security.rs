//! Security of the switch in virtual time: a replayed `Proxy-Authorization`
//! places no call, unknown and known extensions get the same answers, a
//! password guesser locks the user and gets banned, a flood gets banned,
//! banned sources get no answer at all, and keyed digits are masked for
//! consoles and the call log unless the campaign allows them.

mod harness;

use std::net::SocketAddr;

use harness::{campaign, Harness, Setup, SIP_PASSWORD};
use switchboard_sip::digest::answer_challenge;
use switchboard_switch::AbuseLimits;
use switchboard_switch::StoreOp;

/// An attacker (or a peer that is not one of the harness's phones).
fn peer(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.2.1\r\ns=-\r\nc=IN IP4 127.0.2.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

/// A request from `from` as `user` (REGISTER gets Contact and Expires,
/// INVITE an SDP offer), with an optional `(header, value)` credential.
fn request(
    method: &str,
    uri: &str,
    user: &str,
    from: SocketAddr,
    call_id: &str,
    auth: Option<(&str, &str)>,
) -> String {
    let to = if method == "REGISTER" {
        format!("<sip:{user}@127.0.0.1>")
    } else {
        format!("<{uri}>")
    };
    let mut m = format!(
        "{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {from};branch=z9hG4bK{call_id}{n}\r\nFrom: <sip:{user}@127.0.0.1>;tag=t{call_id}\r\nTo: {to}\r\nCall-ID: {call_id}\r\nCSeq: {n} {method}\r\nContact: <sip:{user}@{from}>\r\nMax-Forwards: 70\r\n",
        n = auth.map_or(1, |_| 2),
    );
    if method == "REGISTER" {
        m.push_str("Expires: 3600\r\n");
    }
    if let Some((h, v)) = auth {
        m.push_str(&format!("{h}: {v}\r\n"));
    }
    let body = if method == "INVITE" { SDP } else { "" };
    if !body.is_empty() {
        m.push_str("Content-Type: application/sdp\r\n");
    }
    m.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    m
}

/// Status line of the final answer among `answers`.
fn final_status(answers: &[String]) -> String {
    answers
        .iter()
        .map(|a| a.lines().next().unwrap_or_default().to_string())
        .rfind(|l| !l.starts_with("SIP/2.0 1"))
        .unwrap_or_else(|| format!("no final answer in {answers:?}"))
}

/// The value of `name` in a SIP message.
fn header<'a>(msg: &'a str, name: &str) -> Option<&'a str> {
    msg.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Header names of a message, in order, without their values.
fn shape(msg: &str) -> Vec<String> {
    let mut lines = msg.lines();
    let first = lines.next().unwrap_or_default().to_string();
    std::iter::once(first)
        .chain(
            lines
                .take_while(|l| !l.is_empty())
                .filter_map(|l| l.split_once(':').map(|(n, _)| n.to_ascii_lowercase())),
        )
        .collect()
}

/// Challenge `user`'s request from `from`, then answer it with `password`.
fn authenticated(
    h: &mut Harness,
    method: &str,
    uri: &str,
    user: &str,
    password: &str,
    from: SocketAddr,
    call_id: &str,
) -> (String, Vec<String>) {
    let answers = h.send_raw(from, &request(method, uri, user, from, call_id, None));
    let (challenge, auth) = if method == "INVITE" {
        ("Proxy-Authenticate", "Proxy-Authorization")
    } else {
        ("WWW-Authenticate", "Authorization")
    };
    let ch = answers
        .iter()
        .find_map(|a| header(a, challenge))
        .unwrap_or_else(|| panic!("a challenge in {answers:?}"));
    let value = answer_challenge(ch, method, uri, user, password).expect("answer");
    let req = request(
        method,
        uri,
        user,
        from,
        &format!("{call_id}b"),
        Some((auth, &value)),
    );
    let answers = h.send_raw(from, &req);
    (value, answers)
}

#[test]
fn a_replayed_proxy_authorization_places_no_call() {
    let mut h = Harness::new();
    let a = peer("127.0.2.1:5060");
    let (auth, answers) = authenticated(
        &mut h,
        "INVITE",
        "sip:1002@127.0.0.1",
        "1001",
        SIP_PASSWORD,
        a,
        "c1",
    );
    assert!(
        !answers.iter().any(|r| r.starts_with("SIP/2.0 4")),
        "the first use is accepted: {answers:?}"
    );
    assert_eq!(h.live_calls().len(), 1, "1001 calls 1002");
    let trunk_calls = h.phone("trunk").calls().len();

    // The sniffed header again, for the same Request-URI: challenged afresh.
    let same = request(
        "INVITE",
        "sip:1002@127.0.0.1",
        "1001",
        a,
        "c2",
        Some(("Proxy-Authorization", &auth)),
    );
    let answers = h.send_raw(a, &same);
    assert_eq!(
        final_status(&answers),
        "SIP/2.0 407 Proxy Authentication Required"
    );
    assert!(
        answers.iter().any(|r| r.contains("stale=true")),
        "{answers:?}"
    );
    // ... and for a number out through the trunk (toll fraud): refused.
    let fraud = request(
        "INVITE",
        "sip:900555123@127.0.0.1",
        "1001",
        a,
        "c3",
        Some(("Proxy-Authorization", &auth)),
    );
    let answers = h.send_raw(a, &fraud);
    assert_eq!(final_status(&answers), "SIP/2.0 403 Forbidden");
    h.run_for(1_000);
    assert_eq!(h.live_calls().len(), 1, "no second call");
    assert_eq!(
        h.phone("trunk").calls().len(),
        trunk_calls,
        "nothing reached the trunk"
    );
    assert_eq!(h.switch.stats().auth_failures, 1);
}

#[test]
fn unknown_and_known_extensions_get_the_same_answers() {
    let mut h = Harness::new();
    let scanner = peer("127.0.2.2:5060");
    let mut shapes = Vec::new();
    for user in ["1001", "7777"] {
        // svwar: REGISTER and INVITE without credentials.
        let reg = h.send_raw(
            scanner,
            &request(
                "REGISTER",
                "sip:127.0.0.1",
                user,
                scanner,
                &format!("r{user}"),
                None,
            ),
        );
        let inv = h.send_raw(
            scanner,
            &request(
                "INVITE",
                &format!("sip:{user}@127.0.0.1"),
                user,
                scanner,
                &format!("i{user}"),
                None,
            ),
        );
        // svcrack: a guessed password.
        let (_, guess) = authenticated(
            &mut h,
            "REGISTER",
            "sip:127.0.0.1",
            user,
            "guess",
            scanner,
            &format!("g{user}"),
        );
        assert_eq!(final_status(&reg), "SIP/2.0 401 Unauthorized", "{user}");
        assert_eq!(
            final_status(&inv),
            "SIP/2.0 407 Proxy Authentication Required",
            "{user}"
        );
        assert_eq!(final_status(&guess), "SIP/2.0 403 Forbidden", "{user}");
        shapes.push(
            [&reg, &inv, &guess]
                .iter()
                .map(|a| a.iter().map(|m| shape(m)).collect::<Vec<_>>())
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(
        shapes[0], shapes[1],
        "same statuses and headers for 1001 and 7777"
    );
}

#[test]
fn password_guessing_locks_the_user_then_bans_the_source() {
    let mut h = Harness::new();
    let limits = AbuseLimits::default();
    let (attacker, other) = (peer("127.0.2.3:5060"), peer("127.0.2.4:5060"));
    for i in 0..limits.auth_failures_per_user {
        let (_, a) = authenticated(
            &mut h,
            "REGISTER",
            "sip:127.0.0.1",
            "1003",
            &format!("pw{i}"),
            attacker,
            &format!("g{i}"),
        );
        assert_eq!(final_status(&a), "SIP/2.0 403 Forbidden");
    }
    // 1003 is locked: even the right password is refused, from anywhere.
    let (_, a) = authenticated(
        &mut h,
        "REGISTER",
        "sip:127.0.0.1",
        "1003",
        SIP_PASSWORD,
        other,
        "right",
    );
    assert_eq!(final_status(&a), "SIP/2.0 403 Forbidden");
    // More guesses (other users) until the source's limit: banned.
    for i in limits.auth_failures_per_user..limits.auth_failures_per_source {
        let (_, a) = authenticated(
            &mut h,
            "REGISTER",
            "sip:127.0.0.1",
            "1002",
            &format!("pw{i}"),
            attacker,
            &format!("h{i}"),
        );
        assert_eq!(final_status(&a), "SIP/2.0 403 Forbidden", "guess {i}");
    }
    assert_eq!(h.switch.stats().banned_sources, 1);
    let options = "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.2.3:5060;branch=z9hG4bKo1\r\nFrom: <sip:x@127.0.2.3>;tag=o\r\nTo: <sip:127.0.0.1>\r\nCall-ID: o1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    assert!(
        h.send_raw(attacker, options).is_empty(),
        "a banned source gets nothing"
    );
    let dropped = h.switch.stats().dropped_requests;
    assert!(dropped >= 1, "{dropped}");
    // The real phone kept its binding: a call to 1003 rings it.
    h.phone_dials("1001", "1003");
    assert_eq!(h.phone("1003").calls().len(), 1);
    // Once the window is over, the right password works again; the ban lasts longer.
    h.run_for(limits.auth_window_ms);
    let (_, a) = authenticated(
        &mut h,
        "REGISTER",
        "sip:127.0.0.1",
        "1003",
        SIP_PASSWORD,
        other,
        "later",
    );
    assert_eq!(final_status(&a), "SIP/2.0 200 OK");
    assert!(h.send_raw(attacker, options).is_empty(), "still banned");
    h.run_for(limits.ban_ms);
    assert_eq!(
        final_status(&h.send_raw(attacker, options)),
        "SIP/2.0 200 OK",
        "ban over"
    );
    assert_eq!(h.switch.stats().banned_sources, 0);
}

#[test]
fn a_request_flood_is_banned_but_trunks_and_phones_go_on() {
    let mut h = Harness::with(Setup {
        abuse: AbuseLimits {
            requests_per_window: 50,
            ..AbuseLimits::default()
        },
        ..Setup::default()
    });
    let flood = peer("127.0.2.5:5060");
    let options = |from: SocketAddr, i: usize| {
        format!("OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {from};branch=z9hG4bKf{i}\r\nFrom: <sip:x@{from}>;tag=f\r\nTo: <sip:127.0.0.1>\r\nCall-ID: f{i}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
    };
    let answered = (0..200)
        .filter(|i| !h.send_raw(flood, &options(flood, *i)).is_empty())
        .count();
    assert_eq!(answered, 50, "answers stop at the limit");
    // Garbage counts too, and gets nothing.
    assert!(h.send_raw(flood, "\u{1}\u{2} not SIP").is_empty());
    let stats = h.switch.stats();
    assert_eq!(stats.banned_sources, 1);
    assert_eq!(stats.dropped_requests, 151);
    // Supervisors see the counters (snapshot, `/metrics`).
    let sec = &h.snapshot()["sip_security"];
    assert_eq!(sec["banned_sources"], 1, "{sec}");
    assert_eq!(sec["dropped_requests"], 151, "{sec}");
    // The trunk (a trusted source) is never limited.
    let trunk = peer(harness::TRUNK);
    let before = h.phone("trunk").received().len();
    for i in 0..200 {
        h.send_raw(trunk, &options(trunk, 1000 + i));
    }
    assert_eq!(
        h.phone("trunk").received().len() - before,
        200,
        "every OPTIONS answered"
    );
    // Phones still call each other.
    h.phone_dials("1001", "1002");
    h.answer("1002", 0);
    assert!(h.hears(("1001", 0), ("1002", 0)));
}

#[test]
fn an_expired_nonce_gets_a_stale_challenge_and_garbage_no_panic() {
    let mut h = Harness::new();
    let a = peer("127.0.2.6:5060");
    let answers = h.send_raw(
        a,
        &request("REGISTER", "sip:127.0.0.1", "1001", a, "s1", None),
    );
    let ch = header(&answers[0], "WWW-Authenticate").unwrap().to_string();
    h.run_for(301_000);
    let value = answer_challenge(&ch, "REGISTER", "sip:127.0.0.1", "1001", SIP_PASSWORD).unwrap();
    let answers = h.send_raw(
        a,
        &request(
            "REGISTER",
            "sip:127.0.0.1",
            "1001",
            a,
            "s2",
            Some(("Authorization", &value)),
        ),
    );
    assert_eq!(final_status(&answers), "SIP/2.0 401 Unauthorized");
    assert!(answers[0].contains("stale=true"), "{answers:?}");
    // Malformed credentials get a challenge (or 403), never a panic or a binding.
    for (i, bad) in [
        "Digest",
        "Digest username=\"1001\"",
        "Digest username=\"1001\", realm=\"switchboard\", nonce=\"1-1-00\", uri=\"sip:127.0.0.1\", response=\"00\"",
        "Basic MTAwMTpzZWNyZXQ=",
        "Digest username=\"\u{e9}\u{e9}\", nonce=\"\u{e9}-\u{e9}-\u{e9}\"",
    ]
    .iter()
    .enumerate()
    {
        let answers = h.send_raw(
            a,
            &request("REGISTER", "sip:127.0.0.1", "1001", a, &format!("m{i}"), Some(("Authorization", bad))),
        );
        let st = final_status(&answers);
        assert!(st.starts_with("SIP/2.0 401") || st.starts_with("SIP/2.0 403"), "{bad}: {st}");
    }
}

/// The DTMF details stored in the call log and published to consoles.
fn dtmf_seen(h: &Harness) -> (String, String) {
    let stored = h
        .stored
        .iter()
        .filter_map(|o| match o {
            StoreOp::CallEvent { kind, detail, .. } if kind == "DTMF" => Some(detail.clone()),
            _ => None,
        })
        .collect();
    let published = h
        .published
        .iter()
        .filter(|e| e["type"] == "call_event" && e["kind"] == "DTMF")
        .filter_map(|e| e["detail"].as_str().map(str::to_string))
        .collect();
    (stored, published)
}

#[test]
fn keyed_digits_are_masked_unless_the_campaign_allows_them() {
    let mut clear = campaign("survey", "inbound", Some("6000"), false);
    clear.dtmf_clear = true;
    let mut h = Harness::with(Setup {
        campaigns: vec![campaign("support", "inbound", Some("5000"), false), clear],
        ..Setup::default()
    });
    h.set_state("1001", switchboard_switch::AgentStatus::Ready);
    // A customer in the support queue keys a card number: masked everywhere.
    let t = h.customer_calls("5000");
    h.answer("1001", 0);
    assert!(h.hears(("trunk", t), ("1001", 0)));
    for d in "4111#".chars() {
        h.press("trunk", t, d);
    }
    assert_eq!(dtmf_seen(&h), ("*****".into(), "*****".into()));
    let now = h.now;
    h.phone("trunk").hangup(t, now);
    h.run_for(1_000);
    // A call outside any campaign: masked too.
    h.phone_dials("1002", "1003");
    h.answer("1003", 0);
    h.press("1002", 0, '7');
    assert_eq!(dtmf_seen(&h).0, "******");
    h.hangup("1002", 0);
    // The survey campaign allows clear digits.
    let t = h.customer_calls("6000");
    h.answer("1001", 1);
    for d in "12".chars() {
        h.press("trunk", t, d);
    }
    assert_eq!(dtmf_seen(&h), ("******12".into(), "******12".into()));
}
