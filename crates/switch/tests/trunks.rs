//! Trunks in virtual time: failover to the next trunk on 503 or silence,
//! caller ID and privacy, registration at a provider (challenge, refresh,
//! refusal with back-off), calls from the registered provider, and OPTIONS
//! health checks.

mod harness;

use std::net::SocketAddr;

use harness::{CallState, FakePhone, Harness, Setup, SERVER};
use switchboard_sip::builder::response_to;
use switchboard_sip::{parse_message, Message, Request};
use switchboard_switch::Trunk;

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// A harness whose trunks are `trunks`; a fake phone answers at every
/// address in `phones` (the others stay silent: what the switch sends them
/// lands in `strays`).
fn harness(trunks: Vec<Trunk>, phones: &[(&'static str, &str)]) -> Harness {
    let mut h = Harness::with(Setup {
        trunks: Some(trunks),
        ..Setup::default()
    });
    for (name, a) in phones {
        h.phones
            .insert(name, FakePhone::new(name, "", addr(a), addr(SERVER)));
    }
    h
}

fn trunk(name: &str, a: &str, priority: u32) -> Trunk {
    let mut t = Trunk::at(name, addr(a));
    t.priority = priority;
    t
}

/// The requests the switch sent to `to` that no phone holds, parsed.
fn sent_to(h: &Harness, to: &str, method: &str) -> Vec<Request> {
    h.strays
        .iter()
        .filter(|(a, _)| *a == addr(to))
        .filter_map(|(_, t)| match parse_message(t.as_bytes()) {
            Ok(Message::Request(r)) if r.method == method => Some(r),
            _ => None,
        })
        .collect()
}

/// Answer `req` from `from` with `status` and extra header lines.
fn reply(h: &mut Harness, from: &str, req: &Request, status: u16, extra: &[(&str, &str)]) {
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        _ => "Error",
    };
    let mut resp = response_to(req, status, reason, Some("prov"));
    for (k, v) in extra {
        resp.headers.push(k, v.to_string());
    }
    let text = String::from_utf8(resp.to_bytes()).unwrap();
    h.send_raw(addr(from), &text);
}

fn trunk_view(h: &mut Harness, name: &str) -> serde_json::Value {
    let snap = h.snapshot();
    snap["trunks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .cloned()
        .unwrap()
}

#[test]
fn a_503_fails_over_to_the_next_trunk_and_the_agent_never_sees_it() {
    let mut h = harness(
        vec![
            trunk("backup", "127.0.0.1:5091", 2),
            trunk("main", "127.0.0.1:5090", 1),
        ],
        &[("backup", "127.0.0.1:5091")],
    );
    h.phone("trunk").behaviour_mut().auto_decline = Some(503);
    h.phone_dials("1001", "5551234");
    assert_eq!(
        h.state("trunk", 0),
        CallState::Terminated { status: 503 },
        "main (priority 1) tried first and refused"
    );
    assert_eq!(h.state("backup", 0), CallState::Ringing);
    assert_eq!(h.state("1001", 0), CallState::Ringing);
    h.answer("backup", 0);
    assert_eq!(h.state("1001", 0), CallState::Confirmed);
    assert!(h.hears(("1001", 0), ("backup", 0)));
    assert!(h.hears(("backup", 0), ("1001", 0)));
    let call = h.only_call();
    assert!(h.events(&call).contains(&"TRUNK_FAILOVER".to_string()));
    let detail = h.stored.iter().find_map(|o| match o {
        switchboard_switch::StoreOp::CallEvent { kind, detail, .. } if kind == "TRUNK_FAILOVER" => {
            Some(detail.clone())
        }
        _ => None,
    });
    let detail = detail.unwrap_or_default();
    assert!(detail.starts_with("main (127.0.0.1:5090): 503"), "{detail}");
    h.hangup("1001", 0);
    assert!(h.cdr_ended(&call));
    h.assert_clean();
}

#[test]
fn a_busy_number_is_not_retried_on_another_trunk() {
    let mut h = harness(
        vec![
            trunk("main", "127.0.0.1:5090", 1),
            trunk("backup", "127.0.0.1:5091", 2),
        ],
        &[("backup", "127.0.0.1:5091")],
    );
    h.phone("trunk").behaviour_mut().auto_decline = Some(486);
    h.phone_dials("1001", "5551234");
    assert_eq!(h.state("1001", 0), CallState::Terminated { status: 486 });
    assert!(
        h.phone("backup").calls().is_empty(),
        "486 is the number's answer"
    );
    h.assert_clean();
}

#[test]
fn a_silent_host_is_given_up_after_failover_ms_and_marked_down() {
    let mut h = harness(
        vec![
            trunk("dead", "127.0.0.1:5095", 1),
            trunk("main", "127.0.0.1:5090", 2),
        ],
        &[],
    );
    h.phone_dials("1001", "5551234");
    assert_eq!(sent_to(&h, "127.0.0.1:5095", "INVITE").len(), 1);
    assert!(h.phone("trunk").calls().is_empty());
    h.run_for(3_900);
    assert!(h.phone("trunk").calls().is_empty(), "still waiting");
    let retransmitted = sent_to(&h, "127.0.0.1:5095", "INVITE").len();
    assert!(retransmitted > 1, "UDP retransmissions meanwhile");
    h.run_for(200);
    assert_eq!(
        h.state("trunk", 0),
        CallState::Ringing,
        "next trunk after 4 s"
    );
    h.run_for(40_000);
    assert_eq!(
        sent_to(&h, "127.0.0.1:5095", "INVITE").len(),
        retransmitted,
        "the silent host gets no more retransmissions"
    );
    let dead = trunk_view(&mut h, "dead");
    assert_eq!(dead["health"], "down", "{dead}");
    assert_eq!(dead["targets"][0]["reason"], "no response to INVITE");
    // The next call goes to the healthy trunk first.
    h.hangup("1001", 0);
    h.phone_dials("1001", "5559999");
    assert_eq!(h.state("trunk", 1), CallState::Ringing);
    assert_eq!(sent_to(&h, "127.0.0.1:5095", "INVITE").len(), retransmitted);
}

#[test]
fn caller_id_goes_in_from_and_p_asserted_identity_or_is_withheld() {
    let mut shown = trunk("shown", "127.0.0.1:5096", 1);
    shown.caller_id = Some("+34911000000".into());
    let mut h = harness(vec![shown], &[]);
    h.phone_dials("1001", "+34600111222");
    let inv = &sent_to(&h, "127.0.0.1:5096", "INVITE")[0];
    assert!(inv
        .uri
        .to_string()
        .starts_with("sip:+34600111222@127.0.0.1:5096"));
    assert!(inv.header("From").unwrap().contains("sip:+34911000000@"));
    assert!(inv
        .header("P-Asserted-Identity")
        .unwrap()
        .contains("+34911000000"));

    let mut hidden = trunk("hidden", "127.0.0.1:5096", 1);
    hidden.caller_id = Some("+34911000000".into());
    hidden.privacy = true;
    let mut h = harness(vec![hidden], &[]);
    h.phone_dials("1001", "+34600111222");
    let inv = &sent_to(&h, "127.0.0.1:5096", "INVITE")[0];
    assert!(inv
        .header("From")
        .unwrap()
        .contains("sip:anonymous@anonymous.invalid"));
    assert_eq!(inv.header("Privacy"), Some("id"));
    assert!(inv
        .header("P-Asserted-Identity")
        .unwrap()
        .contains("+34911000000"));
}

fn provider(register: bool) -> Trunk {
    let mut t = trunk("provider", "127.0.0.1:5097", 1);
    t.host = "127.0.0.1".into();
    t.inbound_from.clear();
    t.username = Some("acme".into());
    t.password = Some("s3cret".into());
    t.register = register;
    t.register_expires_secs = 600;
    t
}

const PROVIDER: &str = "127.0.0.1:5097";
const CHALLENGE: &str = r#"Digest realm="provider", nonce="abc123", algorithm=MD5, qop="auth""#;

#[test]
fn registers_with_digest_refreshes_and_backs_off_when_refused() {
    let mut h = harness(vec![provider(true)], &[]);
    h.run_for(10);
    let regs = sent_to(&h, PROVIDER, "REGISTER");
    assert_eq!(regs.len(), 1);
    let first = regs[0].clone();
    assert_eq!(first.uri.to_string(), "sip:127.0.0.1:5097");
    assert!(first.header("To").unwrap().contains("sip:acme@127.0.0.1"));
    assert!(first
        .header("Contact")
        .unwrap()
        .contains("sip:acme@127.0.0.1:5060"));
    assert_eq!(first.header("Expires"), Some("600"));
    assert_eq!(
        trunk_view(&mut h, "provider")["registration"]["state"],
        "registering"
    );

    reply(
        &mut h,
        PROVIDER,
        &first,
        401,
        &[("WWW-Authenticate", CHALLENGE)],
    );
    let authed = sent_to(&h, PROVIDER, "REGISTER")[1].clone();
    let auth = authed.header("Authorization").unwrap();
    assert!(auth.contains(r#"username="acme""#) && auth.contains(r#"realm="provider""#));
    assert!(auth.contains("nc=00000001"), "{auth}");
    assert_eq!(authed.header("Call-ID"), first.header("Call-ID"));

    reply(
        &mut h,
        PROVIDER,
        &authed,
        200,
        &[("Contact", "<sip:acme@127.0.0.1:5060>;expires=120")],
    );
    let reg = trunk_view(&mut h, "provider")["registration"].clone();
    assert_eq!(reg["state"], "registered", "{reg}");
    assert_eq!(reg["expires_in_secs"], 120);

    // Refreshed at half the granted lifetime, same Call-ID, higher CSeq.
    h.run_for(59_000);
    assert_eq!(sent_to(&h, PROVIDER, "REGISTER").len(), 2);
    h.run_for(1_000);
    let refresh = sent_to(&h, PROVIDER, "REGISTER")[2].clone();
    assert_eq!(refresh.header("Call-ID"), first.header("Call-ID"));
    let cseq = |r: &Request| {
        r.header("CSeq")
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse::<u32>()
            .unwrap()
    };
    assert!(cseq(&refresh) > cseq(&authed));

    // The provider now refuses: the admin sees why, and the retry backs off.
    reply(&mut h, PROVIDER, &refresh, 403, &[]);
    let reg = trunk_view(&mut h, "provider")["registration"].clone();
    assert_eq!(reg["state"], "failed", "{reg}");
    assert_eq!(reg["reason"], "403 Forbidden");
    assert_eq!(reg["retry_in_secs"], 30);
    h.run_for(29_000);
    assert_eq!(sent_to(&h, PROVIDER, "REGISTER").len(), 3);
    h.run_for(1_000);
    assert_eq!(
        sent_to(&h, PROVIDER, "REGISTER").len(),
        4,
        "retried after 30 s"
    );
}

#[test]
fn wrong_credentials_are_reported_not_retried_in_a_loop() {
    let mut h = harness(vec![provider(true)], &[]);
    h.run_for(10);
    let first = sent_to(&h, PROVIDER, "REGISTER")[0].clone();
    reply(
        &mut h,
        PROVIDER,
        &first,
        401,
        &[("WWW-Authenticate", CHALLENGE)],
    );
    let authed = sent_to(&h, PROVIDER, "REGISTER")[1].clone();
    reply(
        &mut h,
        PROVIDER,
        &authed,
        401,
        &[("WWW-Authenticate", CHALLENGE)],
    );
    let reg = trunk_view(&mut h, "provider")["registration"].clone();
    assert_eq!(reg["state"], "failed");
    assert!(reg["reason"]
        .as_str()
        .unwrap()
        .contains("refused the username or password"));
    assert_eq!(
        sent_to(&h, PROVIDER, "REGISTER").len(),
        2,
        "no third try at once"
    );
}

#[test]
fn a_silent_registrar_is_reported_and_marked_down() {
    let mut h = harness(vec![provider(true)], &[]);
    h.run_for(33_000);
    let t = trunk_view(&mut h, "provider");
    assert_eq!(t["registration"]["state"], "failed", "{t}");
    assert_eq!(
        t["registration"]["reason"],
        "no response from 127.0.0.1:5097"
    );
    assert_eq!(t["health"], "down");
}

#[test]
fn a_call_from_the_registered_provider_reaches_the_did_in_to() {
    let mut h = harness(vec![provider(true)], &[]);
    h.set_state("1001", switchboard_switch::AgentStatus::Ready);
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
               m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
               a=rtpmap:101 telephone-event/8000\r\n";
    let invite = format!(
        "INVITE sip:acme@127.0.0.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5097;branch=z9hG4bKprov1\r\n\
         From: <sip:+34600111222@provider>;tag=p1\r\n\
         To: <sip:5000@provider>\r\n\
         Call-ID: inbound-1\r\nCSeq: 1 INVITE\r\n\
         Contact: <sip:gw@127.0.0.1:5097>\r\nMax-Forwards: 69\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    // A stranger sending the same is challenged...
    let stranger = h.send_raw(
        addr("127.0.0.2:5097"),
        &invite
            .replace("prov1", "prov0")
            .replace("inbound-1", "inbound-0"),
    );
    assert!(
        stranger.iter().any(|r| r.starts_with("SIP/2.0 407")),
        "{stranger:?}"
    );
    // ...while the provider we register with is the trunk, and the call is
    // routed by To.
    h.run_for(10);
    let answers = h.send_raw(addr(PROVIDER), &invite);
    assert!(
        answers.iter().any(|r| r.starts_with("SIP/2.0 200")),
        "{answers:?}"
    );
    assert_eq!(
        h.state("1001", 0),
        CallState::Ringing,
        "the support queue offers it"
    );
}

#[test]
fn options_checks_mark_targets_up_and_down() {
    let mut t = trunk("checked", "127.0.0.1:5098", 1);
    t.options_interval_secs = 30;
    let mut h = harness(vec![t], &[]);
    h.run_for(10);
    let opts = sent_to(&h, "127.0.0.1:5098", "OPTIONS");
    assert_eq!(opts.len(), 1);
    reply(&mut h, "127.0.0.1:5098", &opts[0], 200, &[]);
    assert_eq!(trunk_view(&mut h, "checked")["health"], "up");
    h.run_for(30_000);
    let opts = sent_to(&h, "127.0.0.1:5098", "OPTIONS");
    let last = opts.last().unwrap().clone();
    assert_ne!(last.header("Call-ID"), opts[0].header("Call-ID"));
    h.run_for(33_000);
    let v = trunk_view(&mut h, "checked");
    assert_eq!(v["health"], "down", "{v}");
    assert_eq!(v["targets"][0]["reason"], "no response to OPTIONS");
    let n = sent_to(&h, "127.0.0.1:5098", "OPTIONS").len();
    let again = sent_to(&h, "127.0.0.1:5098", "OPTIONS")[n - 1].clone();
    reply(&mut h, "127.0.0.1:5098", &again, 404, &[]);
    assert_eq!(
        trunk_view(&mut h, "checked")["health"],
        "up",
        "any answer is alive"
    );
}

#[test]
fn a_named_host_waits_for_dns_then_registers_failing_over_across_its_addresses() {
    let mut t = provider(true);
    t.host = "provider.test".into();
    t.port = None;
    let mut h = harness(vec![t], &[]);
    h.run_for(1_000);
    assert_eq!(
        trunk_view(&mut h, "provider")["registration"]["state"],
        "waiting"
    );
    // No address yet: a call to a number fails at once, with the reason logged.
    h.phone_dials("1001", "5551234");
    assert_eq!(h.state("1001", 0), CallState::Terminated { status: 503 });
    let now = h.now;
    h.switch
        .set_trunk_targets(now, "provider", Err("provider.test: no such host".into()));
    assert_eq!(
        trunk_view(&mut h, "provider")["resolve_error"],
        "provider.test: no such host"
    );
    let busy = "127.0.0.1:5101";
    h.switch
        .set_trunk_targets(now, "provider", Ok(vec![addr(busy), addr(PROVIDER)]));
    h.settle();
    let v = trunk_view(&mut h, "provider");
    assert_eq!(v["resolve_error"], serde_json::Value::Null);
    assert_eq!(v["targets"].as_array().unwrap().len(), 2);
    let first = sent_to(&h, busy, "REGISTER")[0].clone();
    assert!(
        first.uri.to_string().starts_with("sip:provider.test"),
        "{}",
        first.uri
    );
    reply(&mut h, busy, &first, 503, &[]);
    h.run_for(10);
    let second = sent_to(&h, PROVIDER, "REGISTER");
    assert_eq!(second.len(), 1, "the next address at once");
    reply(&mut h, PROVIDER, &second[0], 200, &[("Expires", "300")]);
    assert_eq!(
        trunk_view(&mut h, "provider")["registration"]["state"],
        "registered"
    );
}

#[test]
fn a_tcp_trunk_gets_its_requests_over_tcp() {
    let mut t = trunk("tcp", "127.0.0.1:5110", 1);
    t.transport = switchboard_sip::Transport::Tcp;
    t.register = true;
    t.username = Some("acme".into());
    t.password = Some("s3cret".into());
    let mut h = harness(vec![t], &[]);
    h.run_for(10);
    let reg = &sent_to(&h, "127.0.0.1:5110", "REGISTER")[0];
    assert!(
        reg.header("Via").unwrap().starts_with("SIP/2.0/TCP "),
        "{reg:?}"
    );
    assert!(reg.header("Contact").unwrap().contains(";transport=tcp"));
    h.phone_dials("1001", "5551234");
    h.run_for(2_000);
    let inv = &sent_to(&h, "127.0.0.1:5110", "INVITE")[0];
    assert!(inv.header("Via").unwrap().starts_with("SIP/2.0/TCP "));
    assert_eq!(
        sent_to(&h, "127.0.0.1:5110", "INVITE").len(),
        1,
        "no retransmission over a reliable transport"
    );
}
