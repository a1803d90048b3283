//! SRTP with SDES keys against real peers: baresip registered over TLS with
//! `mediaenc=srtp-mand` calls an agent on plain RTP through Switchboard,
//! then is called by it (the server offers it SRTP because its own offer
//! did). Audio is checked both ways by tone detection, so the server both
//! decrypts the SRTP phone's media and encrypts what it sends it; the
//! offer/answer the SRTP phone saw carry `RTP/SAVP` and keys (baresip in
//! mandatory mode would refuse plain RTP anyway). A raw UDP peer offering
//! `RTP/SAVP` with only a suite we do not support gets 488.

mod common;

use common::certs::certificates;
use common::sip::{build_request, UdpClient};
use common::*;
use std::net::UdpSocket;
use std::path::Path;
use std::time::Duration;
use switchboard_media::g711::Codec;
use switchboard_media::srtp::{SrtpContext, SrtpKey, SrtpProfile};
use switchboard_sip::sdes::{CryptoAttribute, CryptoSuite, SdesKey};
use switchboard_sip::sdp::AudioSdp;

const T: Duration = Duration::from_secs(15);

/// The `m=audio` lines and `a=crypto` suites in a baresip log (its SIP trace).
fn savp_evidence(log: &str) -> (usize, usize) {
    let savp = log
        .lines()
        .filter(|l| l.contains("m=audio") && l.contains("RTP/SAVP"))
        .count();
    let crypto = log
        .lines()
        .filter(|l| l.contains("a=crypto:") && l.contains("AES_CM_128_HMAC_SHA1"))
        .count();
    (savp, crypto)
}

#[test]
fn an_srtp_phone_over_tls_talks_to_a_plain_rtp_agent_both_ways() {
    require_tool("openssl");
    require_tool("baresip");
    if !Path::new("/usr/lib/baresip/modules/srtp.so").exists() {
        panic!("baresip's srtp module is missing (/usr/lib/baresip/modules/srtp.so)");
    }
    let _g = serial();
    let dir = TestDir::new("srtp");
    certificates(dir.path(), "srtp");
    let tls_port = free_port();
    let mut opts = ServerOpts::new().with_agents(&["1001", "1002"]);
    // Full SIP traces in the server log: the keys in them must be redacted.
    opts.rust_log = Some("info,switchboard=trace,switchboard_switch=trace".into());
    opts.extra_server = format!(
        "tls_addr = \"127.0.0.1:{tls_port}\"\ntls_cert = \"{}\"\ntls_key = \"{}\"",
        dir.join("server.pem").display(),
        dir.join("server.key").display()
    );
    let s = Server::start(&dir, opts);

    let mut o = BaresipOpts::new("1001")
        .register(tls_port, "secret1001")
        .tone(440.0)
        .auto_answer(true);
    o.transport = Some("tls".into());
    o.extra_account = ";mediaenc=srtp-mand".into();
    o.extra_config = format!(
        "sip_cafile\t{}\nmodule\t\t\tsrtp.so\nsip_trace\t\tyes\n",
        dir.join("ca.pem").display()
    );
    let a = Baresip::with_opts(dir.path(), o);
    a.wait_registered(T);
    let b = start_agent(&dir, &s, "1002", Some(1000.0), true);

    // 1. The SRTP phone calls the plain agent.
    a.dial(&format!("sip:1002@127.0.0.1:{tls_port};transport=tls"));
    b.wait_event("CALL_ESTABLISHED", T);
    a.wait_event("CALL_ESTABLISHED", T);
    std::thread::sleep(Duration::from_secs(4));
    b.hangup();
    b.wait_event("CALL_CLOSED", T);
    a.wait_event("CALL_CLOSED", T);
    std::thread::sleep(Duration::from_millis(300));
    assert_hears(
        &a.received_wav(),
        1000.0,
        3.0,
        "SRTP phone 1001 (decrypts our SRTP)",
    );
    assert_hears(
        &b.received_wav(),
        440.0,
        3.0,
        "plain agent 1002 (we decrypted 1001's SRTP)",
    );
    let log = a.log();
    let (savp, crypto) = savp_evidence(&log);
    assert!(
        savp >= 2 && crypto >= 2,
        "offer and answer carry RTP/SAVP and keys ({savp} m= lines, {crypto} crypto lines)\n{}",
        a.log_tail(120)
    );
    // The plain agent's side stays plain RTP.
    let blog = b.log();
    assert!(
        !blog.contains("RTP/SAVP") && !blog.contains("a=crypto"),
        "agent 1002 saw SRTP"
    );

    assert!(
        log.contains("SRTP is Enabled (cryptosuite=AES_CM_128_HMAC_SHA1_80)"),
        "baresip switched SRTP on\n{}",
        a.log_tail(120)
    );

    // 2. The plain agent calls the SRTP phone: the server offers it SRTP.
    b.dial(&format!("sip:1001@127.0.0.1:{}", s.sip_port));
    a.wait_event("CALL_ESTABLISHED", T);
    b.wait_event("CALL_ESTABLISHED", T);
    std::thread::sleep(Duration::from_secs(4));
    a.hangup();
    a.wait_event("CALL_CLOSED", T);
    b.wait_event("CALL_CLOSED", T);
    std::thread::sleep(Duration::from_millis(300));
    assert_hears(&a.received_wav(), 1000.0, 3.0, "SRTP phone 1001, called");
    assert_hears(&b.received_wav(), 440.0, 3.0, "plain agent 1002, calling");

    let log = a.log();
    assert_eq!(
        log.matches("SRTP is Enabled").count(),
        2,
        "the second call is SRTP too\n{}",
        a.log_tail(120)
    );
    assert!(
        log.contains("a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:"),
        "our offer names both suites"
    );

    // The server never logs the keys.
    let server_log = s.log();
    assert!(
        server_log.contains("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:<redacted>"),
        "the SIP trace is on and shows the crypto lines redacted"
    );
    assert_eq!(
        server_log.matches("inline:").count(),
        server_log.matches("inline:<redacted>").count(),
        "a key in the server log"
    );
}

#[test]
fn an_savp_offer_without_a_supported_suite_gets_488() {
    let _g = serial();
    let dir = TestDir::new("srtp-488");
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let opts = ServerOpts::new()
        .with_agents(&["1001"])
        .trunk(TrunkCfg::new("pstn", free_port(), &[port]));
    let s = Server::start(&dir, opts);
    let client = UdpClient::from_socket(sock, s.sip_port);
    let rtp = free_port();
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {rtp} RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n\
         a=crypto:1 AES_256_CM_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzWVNfX19zZW1jdGwgKCkgewkyMjA7fQ==\r\n"
    );
    let r = client
        .invite(
            &format!("sip:1001@127.0.0.1:{}", s.sip_port),
            &[],
            Some("application/sdp"),
            &sdp,
            T,
        )
        .expect("a final response");
    assert_eq!(r.status, 488, "{}", r.raw);
    assert!(
        r.raw.contains("no supported SRTP crypto suite"),
        "the reason says why: {}",
        r.raw
    );
}

/// Samples (as the tone helpers take them) of PCMU payloads.
fn pcmu_wav(payloads: &[Vec<u8>]) -> Wav {
    let mut samples = Vec::new();
    for p in payloads {
        for b in p {
            let s = Codec::Pcmu.decode_sample(*b);
            samples.push(f32::from(s) / 32768.0);
        }
    }
    Wav {
        rate: 8000,
        samples,
    }
}

/// A header line of a raw SIP message.
fn raw_header(raw: &str, name: &str) -> String {
    raw.split("\r\n")
        .find(|l| {
            l.split_once(':')
                .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case(name))
        })
        .unwrap_or_default()
        .to_string()
}

#[test]
fn the_srtp_legs_packets_on_the_wire_are_authenticated_srtp_not_pcmu() {
    require_tool("baresip");
    let _g = serial();
    let dir = TestDir::new("srtp-wire");
    let sip = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sip_port = sip.local_addr().unwrap().port();
    let rtp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rtp_port = rtp.local_addr().unwrap().port();
    let opts = ServerOpts::new()
        .with_agents(&["1002"])
        .trunk(TrunkCfg::new("pstn", free_port(), &[sip_port]));
    let s = Server::start(&dir, opts);
    let b = start_agent(&dir, &s, "1002", Some(1000.0), true);
    let client = UdpClient::from_socket(sip, s.sip_port);

    // A trunk caller offering RTP/SAVP with its key.
    let ours = SrtpKey::random();
    let line = CryptoAttribute {
        tag: 1,
        suite: CryptoSuite::AesCm128HmacSha1_80,
        key: SdesKey(*ours.as_bytes()),
        lifetime: None,
        mki: None,
    };
    let sdp = format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {rtp_port} RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=crypto:{}\r\n",
        line.value()
    );
    let ruri = format!("sip:1002@127.0.0.1:{}", s.sip_port);
    let invite = build_request(
        "INVITE",
        &ruri,
        "UDP",
        sip_port,
        &["Content-Type: application/sdp"],
        &sdp,
    );
    client.send(invite.as_bytes()).unwrap();
    let ok = client.recv_final(T).expect("answer");
    assert_eq!(ok.status, 200, "{}", ok.raw);
    let body = ok.raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    let answer = AudioSdp::parse(body.as_bytes()).expect("SDP answer");
    assert_eq!(answer.audio_proto(), "RTP/SAVP", "{body}");
    let theirs = SrtpKey::from_bytes(&answer.crypto.first().expect("a key").key.0).unwrap();
    let server_rtp = answer.socket_addr();
    let (via, from, call_id) = (
        raw_header(&invite, "Via"),
        raw_header(&invite, "From"),
        raw_header(&invite, "Call-ID"),
    );
    let to = raw_header(&ok.raw, "To");
    let dialog = |method: &str, cseq: u32, branch: &str| {
        let via = via.replace("branch=z9hG4bK", &format!("branch=z9hG4bK{branch}"));
        format!(
            "{method} {ruri} SIP/2.0\r\n{via}\r\nMax-Forwards: 70\r\n{from}\r\n{to}\r\n{call_id}\r\nCSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n"
        )
    };
    client.send(dialog("ACK", 1, "ack").as_bytes()).unwrap();

    // 3 s: send a 440 Hz tone as SRTP, collect what the server sends us.
    let mut tx = SrtpContext::new(SrtpProfile::AesCm128HmacSha1_80, &ours);
    rtp.set_nonblocking(true).unwrap();
    let mut received = Vec::new();
    let mut buf = [0u8; 1500];
    for i in 0..150u32 {
        let mut pkt = vec![0x80u8, 0];
        pkt.extend_from_slice(&(i as u16).to_be_bytes());
        pkt.extend_from_slice(&(i * 160).to_be_bytes());
        pkt.extend_from_slice(&0x5eed_u32.to_be_bytes());
        let pcm: Vec<i16> = (0..160)
            .map(|n| {
                let t = f64::from(i * 160 + n) / 8000.0;
                (12_000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16
            })
            .collect();
        let mut payload = [0u8; 160];
        Codec::Pcmu.encode(&pcm, &mut payload);
        pkt.extend_from_slice(&payload);
        let len = pkt.len();
        pkt.resize(len + 10, 0);
        let n = tx.protect_rtp(&mut pkt, len).unwrap();
        rtp.send_to(&pkt[..n], server_rtp).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        while let Ok((n, _)) = rtp.recv_from(&mut buf) {
            received.push(buf[..n].to_vec());
        }
    }
    client.send(dialog("BYE", 2, "bye").as_bytes()).unwrap();
    let _ = client.recv_final(Duration::from_secs(2));
    b.wait_event("CALL_CLOSED", T);
    std::thread::sleep(Duration::from_millis(300));

    // What the server sent on the SRTP leg: not PCMU a listener could play...
    assert!(received.len() >= 100, "{} packets", received.len());
    let raw: Vec<Vec<u8>> = received
        .iter()
        .map(|p| p[12..p.len() - 10].to_vec())
        .collect();
    let raw_tone = tone_seconds(&pcmu_wav(&raw), 1000.0);
    assert!(
        raw_tone < 0.5,
        "the tone is audible in the raw payloads ({raw_tone:.1} s)"
    );
    // ...but SRTP under the key of the server's answer, carrying the agent's tone.
    let mut rx = SrtpContext::new(SrtpProfile::AesCm128HmacSha1_80, &theirs);
    let mut plain = Vec::new();
    for p in &received {
        let mut p = p.clone();
        let n = rx
            .unprotect_rtp(&mut p)
            .expect("authenticates under the answer's key");
        plain.push(p[12..n].to_vec());
    }
    let tone = tone_seconds(&pcmu_wav(&plain), 1000.0);
    assert!(
        tone >= 2.0,
        "decrypted, the agent's tone is there ({tone:.1} s)"
    );
    // And the agent heard our SRTP, decrypted by the server.
    assert_hears(
        &b.received_wav(),
        440.0,
        2.0,
        "plain agent 1002 hears the SRTP caller",
    );
}
