//! SRTP with SDES keys (RFC 4568) in virtual time: an `RTP/SAVP` offer
//! gets an `RTP/SAVP` answer with our own key for the first suite we
//! support (tag echoed) and the leg's media is keyed; an offer whose suites
//! we do not support gets 488, never a call in clear; re-INVITEs keep or
//! change keys; a trunk set to mandatory SRTP is offered `RTP/SAVP` and a
//! plain answer ends that leg. Keys never reach the call log or the API.

mod harness;

use std::net::SocketAddr;

use harness::{Harness, Setup, TRUNK};
use switchboard_media::srtp::SrtpProfile;
use switchboard_switch::{SrtpMode, Trunk};

const CALL_ID: &str = "srtp-1@customer";
/// RFC 4568's example key, and another one.
const KEY_A: &str = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";
const KEY_B: &str = "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR";

fn trunk() -> SocketAddr {
    TRUNK.parse().expect("address")
}

fn raw_trunk(trunks: Option<Vec<Trunk>>) -> Harness {
    let mut h = Harness::with(Setup {
        trunks,
        ..Setup::default()
    });
    h.phones.remove("trunk");
    h
}

fn header(msg: &str, name: &str) -> Option<String> {
    msg.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

fn sdp(proto: &str, crypto: &[&str], dir: &str) -> String {
    let mut s = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio 40000 {proto} 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na={dir}\r\n"
    );
    for c in crypto {
        s.push_str(&format!("a=crypto:{c}\r\n"));
    }
    s
}

/// An INVITE from the trunk to campaign DID 5000 (answered at once: queue
/// music) or, with `to_tag`, a re-INVITE in that dialog.
fn invite(h: &mut Harness, body: &str, to_tag: Option<&str>, cseq: u32) -> Vec<String> {
    let to = match to_tag {
        Some(t) => format!("<sip:5000@127.0.0.1:5060>;tag={t}"),
        None => "<sip:5000@127.0.0.1:5060>".into(),
    };
    let msg = format!(
        "INVITE sip:5000@127.0.0.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP {TRUNK};branch=z9hG4bK-srtp-{cseq}\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:customer@{TRUNK}>;tag=cust1\r\n\
         To: {to}\r\n\
         Call-ID: {CALL_ID}\r\n\
         CSeq: {cseq} INVITE\r\n\
         Contact: <sip:customer@{TRUNK}>\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    h.send_raw(trunk(), &msg)
}

fn final_response(answers: &[String]) -> String {
    answers
        .iter()
        .find(|m| m.starts_with("SIP/2.0 2") || m.starts_with("SIP/2.0 4"))
        .cloned()
        .unwrap_or_else(|| panic!("no final response in {answers:?}"))
}

fn crypto_lines(msg: &str) -> Vec<String> {
    msg.lines()
        .filter_map(|l| l.strip_prefix("a=crypto:"))
        .map(str::to_string)
        .collect()
}

fn b64(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("base64")
}

#[test]
fn a_savp_offer_gets_a_savp_answer_with_our_key_and_keyed_media() {
    let mut h = raw_trunk(None);
    let offer = sdp(
        "RTP/SAVP",
        &[
            &format!("1 AES_256_CM_HMAC_SHA1_80 inline:{KEY_A}{KEY_A}"),
            &format!("2 AES_CM_128_HMAC_SHA1_32 inline:{KEY_A}|2^31"),
            &format!("3 AES_CM_128_HMAC_SHA1_80 inline:{KEY_B}"),
        ],
        "sendrecv",
    );
    let ok = final_response(&invite(&mut h, &offer, None, 1));
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    assert!(ok.contains(" RTP/SAVP 0 101\r\n"), "answered in SRTP: {ok}");
    let ours = crypto_lines(&ok);
    assert_eq!(ours.len(), 1, "{ours:?}");
    let (head, key) = ours[0].split_once(" inline:").expect("inline key");
    assert_eq!(
        head, "2 AES_CM_128_HMAC_SHA1_32",
        "first supported suite, tag echoed"
    );
    assert_ne!(key, KEY_A, "our own key");
    assert_eq!(b64(key).len(), 30);

    let leg = h
        .media
        .leg_sending_to("127.0.0.1:40000".parse().unwrap())
        .expect("the caller's media leg");
    let keys = h.media.srtp_of(leg).expect("the leg is SRTP");
    assert_eq!(keys.profile, SrtpProfile::AesCm128HmacSha1_32);
    assert_eq!(keys.remote.as_bytes().to_vec(), b64(KEY_A));
    assert_eq!(keys.local.as_bytes().to_vec(), b64(key));

    // Hold with the same keys: same answer line, same media keys.
    let tag = header(&ok, "To")
        .and_then(|t| t.split(";tag=").nth(1).map(str::to_string))
        .expect("To tag");
    let hold = sdp(
        "RTP/SAVP",
        &[&format!("2 AES_CM_128_HMAC_SHA1_32 inline:{KEY_A}")],
        "sendonly",
    );
    let ok2 = final_response(&invite(&mut h, &hold, Some(&tag), 2));
    assert!(
        ok2.starts_with("SIP/2.0 200") && ok2.contains("a=recvonly"),
        "{ok2}"
    );
    assert_eq!(crypto_lines(&ok2), ours, "our key is kept");
    assert_eq!(h.media.srtp_of(leg), Some(keys.clone()));

    // Unhold with a new key of the other suite under a new tag: taken.
    let rekey = sdp(
        "RTP/SAVP",
        &[&format!("7 AES_CM_128_HMAC_SHA1_80 inline:{KEY_B}")],
        "sendrecv",
    );
    let ok3 = final_response(&invite(&mut h, &rekey, Some(&tag), 3));
    let lines = crypto_lines(&ok3);
    assert!(
        lines[0].starts_with("7 AES_CM_128_HMAC_SHA1_80 inline:"),
        "{lines:?}"
    );
    let now = h.media.srtp_of(leg).expect("still SRTP");
    assert_eq!(now.profile, SrtpProfile::AesCm128HmacSha1_80);
    assert_eq!(now.remote.as_bytes().to_vec(), b64(KEY_B));

    // A re-INVITE with no suite we support is refused; the keys stay.
    let bad = sdp(
        "RTP/SAVP",
        &[&format!("8 AES_256_CM_HMAC_SHA1_80 inline:{KEY_A}{KEY_A}")],
        "sendrecv",
    );
    let r = final_response(&invite(&mut h, &bad, Some(&tag), 4));
    assert!(r.starts_with("SIP/2.0 488"), "{r}");
    assert_eq!(h.media.srtp_of(leg), Some(now));

    // Keys never reach the call log, the stored records or the API.
    let call = h.only_call();
    let snapshot = h.snapshot();
    let seen = format!(
        "{:?} {:?} {:?} {:?}",
        h.events(&call),
        h.stored,
        h.published,
        snapshot
    );
    for secret in [KEY_A, KEY_B, key] {
        assert!(!seen.contains(secret), "a key leaked");
    }
    assert!(!seen.contains("inline:"));
}

#[test]
fn an_offer_without_a_supported_suite_gets_488_never_clear_media() {
    for crypto in [
        vec![format!("1 AES_256_CM_HMAC_SHA1_80 inline:{KEY_A}{KEY_A}")],
        vec![format!("1 AES_CM_128_HMAC_SHA1_80 inline:not-base64!")],
        vec![],
    ] {
        let mut h = raw_trunk(None);
        let refs: Vec<&str> = crypto.iter().map(String::as_str).collect();
        let r = final_response(&invite(
            &mut h,
            &sdp("RTP/SAVP", &refs, "sendrecv"),
            None,
            1,
        ));
        assert!(
            r.starts_with("SIP/2.0 488 Not Acceptable Here (no supported SRTP crypto suite)"),
            "{r}"
        );
        assert!(h.live_calls().is_empty());
        assert_eq!(h.media.leg_count(), 0, "no media leg left");
    }
    // Plain RTP stays plain.
    let mut h = raw_trunk(None);
    let ok = final_response(&invite(&mut h, &sdp("RTP/AVP", &[], "sendrecv"), None, 1));
    assert!(
        ok.contains(" RTP/AVP 0 101\r\n") && crypto_lines(&ok).is_empty(),
        "{ok}"
    );
    let leg = h
        .media
        .leg_sending_to("127.0.0.1:40000".parse().unwrap())
        .unwrap();
    assert_eq!(h.media.srtp_of(leg), None);
}

fn srtp_trunk(mode: SrtpMode) -> Vec<Trunk> {
    let mut t = Trunk::at("pstn", trunk());
    t.srtp = mode;
    vec![t]
}

#[test]
fn a_mandatory_trunk_is_offered_savp_and_a_plain_answer_ends_the_leg() {
    let mut h = Harness::with(Setup {
        trunks: Some(srtp_trunk(SrtpMode::Mandatory)),
        ..Setup::default()
    });
    h.phone_dials("1001", "5551234");
    let offer = h
        .phone("trunk")
        .messages()
        .iter()
        .find(|m| m.starts_with("INVITE "))
        .cloned()
        .expect("INVITE to the trunk");
    assert!(offer.contains(" RTP/SAVP 0 8 101\r\n"), "{offer}");
    let lines = crypto_lines(&offer);
    assert!(
        lines[0].starts_with("1 AES_CM_128_HMAC_SHA1_80 inline:"),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("2 AES_CM_128_HMAC_SHA1_32 inline:"),
        "{lines:?}"
    );
    // The fake trunk answers plain RTP: the leg is hung up, the agent's call fails.
    h.answer("trunk", 0);
    h.run_for(2_000);
    assert!(
        h.phone("trunk").received().contains(&"BYE".to_string()),
        "{:?}",
        h.phone("trunk").received()
    );
    assert!(h.live_calls().is_empty(), "{:?}", h.live_calls());
}

#[test]
fn an_optional_trunk_offer_falls_back_to_plain_rtp() {
    let mut h = Harness::with(Setup {
        trunks: Some(srtp_trunk(SrtpMode::Optional)),
        ..Setup::default()
    });
    h.phone_dials("1001", "5551234");
    let offer = h
        .phone("trunk")
        .messages()
        .iter()
        .find(|m| m.starts_with("INVITE "))
        .cloned()
        .expect("INVITE to the trunk");
    assert!(
        offer.contains(" RTP/AVP 0 8 101\r\n") && crypto_lines(&offer).len() == 2,
        "{offer}"
    );
    h.answer("trunk", 0);
    assert!(h.hears(("1001", 0), ("trunk", 0)), "a plain call");
}
