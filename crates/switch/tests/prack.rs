//! Reliable provisional responses (RFC 3262) in virtual time: a caller from
//! the trunk whose INVITE requires `100rel` gets a 180 with `Require: 100rel`
//! and `RSeq`, retransmitted until its PRACK (answered 200); without a PRACK
//! the INVITE is refused with 500; a PRACK naming nothing gets 481.

mod harness;

use std::net::SocketAddr;

use harness::{CallState, Harness, Setup, TRUNK};

const CALL_ID: &str = "rel-1@customer";

fn trunk() -> SocketAddr {
    TRUNK.parse().expect("address")
}

/// The value of header `name` in a message (first occurrence).
fn header(msg: &str, name: &str) -> Option<String> {
    msg.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

/// A harness where the trunk is a raw peer: what the switch sends it lands
/// in `strays`, and the test writes its requests by hand.
fn raw_trunk() -> Harness {
    // Agents ring long enough for the 64*T1 (32 s) without PRACK.
    let mut h = Harness::with(Setup {
        ring_timeout_secs: 60,
        ..Setup::default()
    });
    h.phones.remove("trunk");
    h
}

/// A customer INVITE to agent 1001 from the trunk with `extra` headers;
/// returns what the switch answered at once.
fn invite(h: &mut Harness, extra: &str) -> Vec<String> {
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
               m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    let msg = format!(
        "INVITE sip:1001@127.0.0.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP {TRUNK};branch=z9hG4bK-rel-inv\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:customer@{TRUNK}>;tag=cust1\r\n\
         To: <sip:1001@127.0.0.1:5060>\r\n\
         Call-ID: {CALL_ID}\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:customer@{TRUNK}>\r\n\
         {extra}\
         Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    );
    h.send_raw(trunk(), &msg)
}

/// A PRACK in the early dialog of the 180 `ringing` for `rseq`.
fn prack(h: &mut Harness, ringing: &str, rseq: u32, branch: &str) -> Vec<String> {
    let to = header(ringing, "To").expect("To");
    let msg = format!(
        "PRACK sip:switchboard@127.0.0.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP {TRUNK};branch={branch}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:customer@{TRUNK}>;tag=cust1\r\n\
         To: {to}\r\n\
         Call-ID: {CALL_ID}\r\n\
         CSeq: 2 PRACK\r\n\
         RAck: {rseq} 1 INVITE\r\n\
         Content-Length: 0\r\n\r\n"
    );
    h.send_raw(trunk(), &msg)
}

/// The 180s the trunk received so far.
fn ringing(h: &Harness) -> Vec<String> {
    h.strays
        .iter()
        .filter(|(to, m)| *to == trunk() && m.starts_with("SIP/2.0 180"))
        .map(|(_, m)| m.clone())
        .collect()
}

#[test]
fn a_reliable_180_is_retransmitted_until_its_prack() {
    let mut h = raw_trunk();
    let first = invite(&mut h, "Supported: timer\r\nRequire: 100rel\r\n");
    assert!(
        !first.iter().any(|m| m.starts_with("SIP/2.0 420")),
        "{first:?}"
    );
    let r180 = ringing(&h);
    assert_eq!(r180.len(), 1, "{first:?}");
    assert_eq!(header(&r180[0], "Require").as_deref(), Some("100rel"));
    let rseq: u32 = header(&r180[0], "RSeq")
        .expect("RSeq")
        .parse()
        .expect("number");
    // Retransmitted at T1, then 2*T1 later.
    h.run_for(600);
    assert_eq!(ringing(&h).len(), 2);
    h.run_for(1_000);
    assert_eq!(ringing(&h).len(), 3);
    assert!(
        ringing(&h).iter().all(|m| *m == r180[0]),
        "the same response"
    );
    let ok = prack(&mut h, &r180[0], rseq, "z9hG4bK-rel-prack");
    assert!(ok.iter().any(|m| m.starts_with("SIP/2.0 200")), "{ok:?}");
    h.run_for(10_000);
    assert_eq!(ringing(&h).len(), 3, "no retransmission after the PRACK");
    // The agent answers: the caller gets its 200 and the call goes on.
    h.answer("1001", 0);
    let answered = h
        .strays
        .iter()
        .any(|(to, m)| *to == trunk() && m.starts_with("SIP/2.0 200") && m.contains("INVITE"));
    assert!(answered);
    assert_eq!(h.state("1001", 0), CallState::Confirmed);
}

#[test]
fn without_a_prack_the_invite_is_refused_with_500() {
    let mut h = raw_trunk();
    invite(&mut h, "Require: 100rel\r\n");
    assert_eq!(ringing(&h).len(), 1);
    h.run_for(31_000);
    assert!(h.live_calls().len() == 1, "still waiting for the PRACK");
    h.run_for(2_000);
    let refused = h
        .strays
        .iter()
        .any(|(to, m)| *to == trunk() && m.starts_with("SIP/2.0 500"));
    assert!(refused, "500 to the INVITE");
    assert_eq!(h.state("1001", 0), CallState::Terminated { status: 487 });
    assert!(h.live_calls().is_empty());
}

#[test]
fn a_prack_that_matches_nothing_gets_481() {
    let mut h = raw_trunk();
    invite(&mut h, "Require: 100rel\r\n");
    let r180 = ringing(&h);
    let rseq: u32 = header(&r180[0], "RSeq").expect("RSeq").parse().expect("n");
    let r = prack(&mut h, &r180[0], rseq.wrapping_add(5), "z9hG4bK-rel-bad");
    assert!(r.iter().any(|m| m.starts_with("SIP/2.0 481")), "{r:?}");
    h.run_for(600);
    assert_eq!(ringing(&h).len(), 2, "still retransmitted");
}

#[test]
fn a_caller_that_only_supports_100rel_gets_plain_provisionals() {
    let mut h = raw_trunk();
    invite(&mut h, "Supported: 100rel\r\n");
    let r180 = ringing(&h);
    assert_eq!(r180.len(), 1);
    assert_eq!(header(&r180[0], "RSeq"), None);
    h.run_for(5_000);
    assert_eq!(ringing(&h).len(), 1, "not retransmitted");
}
