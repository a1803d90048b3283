//! Digest tests: RFC vectors, the server's checks (replayed `nc`, `uri`
//! against the Request-URI, stale and forged nonces, realm), bad input.

use super::*;

const SECRET: [u8; 32] = [9; 32];
const T: u64 = 1_796_126_400_000;

fn server() -> DigestServer {
    DigestServer::new("switchboard", SECRET)
}

fn uri(s: &str) -> Uri {
    Uri::parse(s).unwrap()
}

/// HA1 lookup for user 1001 with password `pw`.
fn creds(user: &str, alg: Algorithm) -> Option<String> {
    (user == "1001").then(|| ha1(alg, "1001", "switchboard", "pw"))
}

fn register(u: &Uri) -> Challenged<'_> {
    Challenged {
        method: "REGISTER",
        uri: u,
    }
}

/// Replace `nc=00000001` in a client answer (the response is then recomputed by hand).
fn answer_with_nc(challenge: &str, method: &str, u: &str, nc: &str) -> String {
    let c = DigestParams::parse(challenge).unwrap();
    let nonce = c.get("nonce").unwrap();
    let mut p = DigestParams::default();
    p.params.push(("qop".into(), "auth".into()));
    p.params.push(("nc".into(), nc.into()));
    p.params.push(("cnonce".into(), "abc".into()));
    let r = response(
        Algorithm::Md5,
        "1001",
        "switchboard",
        "pw",
        method,
        u,
        nonce,
        &p,
    );
    format!(
        "Digest username=\"1001\", realm=\"switchboard\", nonce=\"{nonce}\", uri=\"{u}\", response=\"{r}\", algorithm=MD5, qop=auth, nc={nc}, cnonce=\"abc\""
    )
}

#[test]
fn rfc2617_style_vector() {
    // RFC 2617 §3.5 example values (MD5, qop=auth).
    let p = DigestParams::parse(
        "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", qop=auth, nc=00000001, cnonce=\"0a4f113b\", response=\"6629fae49393a05397450978507c4ef1\"",
    )
    .unwrap();
    let r = response(
        Algorithm::Md5,
        "Mufasa",
        "testrealm@host.com",
        "Circle Of Life",
        "GET",
        "/dir/index.html",
        "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        &p,
    );
    assert_eq!(r, "6629fae49393a05397450978507c4ef1");
}

#[test]
fn ha1_matches_rfc_7616_definition() {
    // MD5("Mufasa:testrealm@host.com:Circle Of Life"), RFC 2617 §3.5.
    assert_eq!(
        ha1(
            Algorithm::Md5,
            "Mufasa",
            "testrealm@host.com",
            "Circle Of Life"
        ),
        "939e7578ed9e3c518a452acee763bce9"
    );
    assert_eq!(
        ha1(Algorithm::Sha256, "u", "r", "p").len(),
        64,
        "SHA-256 HA1 is 64 hex digits"
    );
}

#[test]
fn server_round_trip_both_algorithms() {
    let mut s = server().with_algorithms(&[Algorithm::Sha256, Algorithm::Md5]);
    let u = uri("sip:127.0.0.1");
    assert_eq!(s.challenges(T, false).len(), 2);
    for i in 0..2 {
        // A client answers one of the challenges (they share their nonce).
        let ch = s.challenges(T, false).remove(i);
        let auth = answer_challenge(&ch, "REGISTER", "sip:127.0.0.1", "1001", "pw").unwrap();
        assert_eq!(s.verify(&auth, register(&u), T + 1, creds), AuthOutcome::Ok);
        assert_eq!(DigestServer::username(&auth).as_deref(), Some("1001"));
        let bad = answer_challenge(&ch, "REGISTER", "sip:127.0.0.1", "1001", "bad").unwrap();
        assert_eq!(
            s.verify(&bad, register(&u), T + 1, creds),
            AuthOutcome::Wrong
        );
    }
    assert_eq!(
        s.verify("Basic abc", register(&u), T, creds),
        AuthOutcome::Missing
    );
}

#[test]
fn replayed_nonce_count_is_refused() {
    let mut s = server();
    let u = uri("sip:127.0.0.1");
    let ch = s.challenges(T, false).remove(0);
    let first = answer_with_nc(&ch, "REGISTER", "sip:127.0.0.1", "00000001");
    assert_eq!(
        s.verify(&first, register(&u), T + 10, creds),
        AuthOutcome::Ok
    );
    assert_eq!(
        s.verify(&first, register(&u), T + 20, creds),
        AuthOutcome::Replayed,
        "the same header twice"
    );
    let second = answer_with_nc(&ch, "REGISTER", "sip:127.0.0.1", "00000002");
    assert_eq!(
        s.verify(&second, register(&u), T + 30, creds),
        AuthOutcome::Ok
    );
    assert_eq!(
        s.verify(&first, register(&u), T + 40, creds),
        AuthOutcome::Replayed,
        "a lower count after a higher one"
    );
    assert_eq!(s.tracked_nonces(), 1);
    // Without qop (RFC 2069 clients) a nonce answers one request only.
    let ch = s.challenges(T, false).remove(0);
    let c = DigestParams::parse(&ch).unwrap();
    let nonce = c.get("nonce").unwrap();
    let r = response(
        Algorithm::Md5,
        "1001",
        "switchboard",
        "pw",
        "REGISTER",
        "sip:127.0.0.1",
        nonce,
        &DigestParams::default(),
    );
    let plain = format!("Digest username=\"1001\", realm=\"switchboard\", nonce=\"{nonce}\", uri=\"sip:127.0.0.1\", response=\"{r}\"");
    assert_eq!(
        s.verify(&plain, register(&u), T + 1, creds),
        AuthOutcome::Ok
    );
    assert_eq!(
        s.verify(&plain, register(&u), T + 2, creds),
        AuthOutcome::Replayed
    );
    // Counts are dropped once their nonce expired.
    s.expire(T + NONCE_TTL_MS + 1);
    assert_eq!(s.tracked_nonces(), 0);
}

#[test]
fn uri_other_than_the_request_uri_is_refused() {
    let mut s = server();
    let ch = s.challenges(T, false).remove(0);
    let auth = answer_challenge(&ch, "INVITE", "sip:1002@127.0.0.1", "1001", "pw").unwrap();
    let other = uri("sip:900555123@127.0.0.1");
    let req = Challenged {
        method: "INVITE",
        uri: &other,
    };
    assert_eq!(s.verify(&auth, req, T, creds), AuthOutcome::UriMismatch);
    let right = uri("sip:1002@127.0.0.1");
    let req = Challenged {
        method: "INVITE",
        uri: &right,
    };
    assert_eq!(
        s.verify(&auth, req, T, creds),
        AuthOutcome::Ok,
        "the refused attempt did not use up the count"
    );
    // Same URI written differently (scheme case) is the same URI.
    let ch = s.challenges(T, false).remove(0);
    let auth = answer_challenge(&ch, "INVITE", "SIP:1002@127.0.0.1", "1001", "pw").unwrap();
    assert_eq!(s.verify(&auth, req, T, creds), AuthOutcome::Ok);
    // The method is part of the response: a REGISTER answer is no INVITE answer.
    let ch = s.challenges(T, false).remove(0);
    let reg = answer_challenge(&ch, "REGISTER", "sip:1002@127.0.0.1", "1001", "pw").unwrap();
    assert_eq!(s.verify(&reg, req, T, creds), AuthOutcome::Wrong);
}

#[test]
fn expired_nonce_is_stale() {
    let mut s = server();
    let u = uri("sip:127.0.0.1");
    let ch = s.challenges(T, false).remove(0);
    let auth = answer_challenge(&ch, "REGISTER", "sip:127.0.0.1", "1001", "pw").unwrap();
    assert_eq!(
        s.verify(&auth, register(&u), T + NONCE_TTL_MS + 1, creds),
        AuthOutcome::Stale
    );
    assert!(s.challenges(T, true)[0].ends_with(", stale=true"));
    assert!(!s.challenges(T, false)[0].contains("stale"));
    // A nonce whose count record was dropped to bound memory is stale too.
    let mut s = server().with_max_tracked_nonces(1);
    let a = s.challenges(T, false).remove(0);
    let b = s.challenges(T + 1, false).remove(0);
    let a = answer_challenge(&a, "REGISTER", "sip:127.0.0.1", "1001", "pw").unwrap();
    let b = answer_challenge(&b, "REGISTER", "sip:127.0.0.1", "1001", "pw").unwrap();
    assert_eq!(s.verify(&a, register(&u), T + 2, creds), AuthOutcome::Ok);
    assert_eq!(s.verify(&b, register(&u), T + 2, creds), AuthOutcome::Ok);
    assert_eq!(s.verify(&a, register(&u), T + 3, creds), AuthOutcome::Stale);
}

#[test]
fn wrong_realm_is_refused() {
    let mut s = server();
    let u = uri("sip:127.0.0.1");
    let ch = s.challenges(T, false).remove(0);
    let auth = answer_challenge(&ch, "REGISTER", "sip:127.0.0.1", "1001", "pw").unwrap();
    let moved = auth.replace("realm=\"switchboard\"", "realm=\"elsewhere\"");
    assert_eq!(
        s.verify(&moved, register(&u), T, creds),
        AuthOutcome::Missing
    );
    // A nonce from a server of another realm, even with the same secret.
    let ch = DigestServer::new("elsewhere", SECRET)
        .challenges(T, false)
        .remove(0);
    let auth = answer_challenge(&ch, "REGISTER", "sip:127.0.0.1", "1001", "pw").unwrap();
    let relabelled = auth.replace("realm=\"elsewhere\"", "realm=\"switchboard\"");
    assert_eq!(
        s.verify(&relabelled, register(&u), T, creds),
        AuthOutcome::Missing
    );
    // HA1 stored for another realm does not match.
    let ch = s.challenges(T, false).remove(0);
    let auth = answer_challenge(&ch, "REGISTER", "sip:127.0.0.1", "1001", "pw").unwrap();
    let other_realm = |_: &str, a| Some(ha1(a, "1001", "elsewhere", "pw"));
    assert_eq!(
        s.verify(&auth, register(&u), T, other_realm),
        AuthOutcome::Wrong
    );
}

#[test]
fn forged_nonce_is_refused() {
    let mut s = server();
    let u = uri("sip:127.0.0.1");
    // Minted by a server with another secret.
    let ch = DigestServer::new("switchboard", [1; 32])
        .challenges(T, false)
        .remove(0);
    let auth = answer_challenge(&ch, "REGISTER", "sip:127.0.0.1", "1001", "pw").unwrap();
    assert_eq!(
        s.verify(&auth, register(&u), T, creds),
        AuthOutcome::Missing
    );
    // Our nonce with its time pushed forward (to live longer): the MAC no longer fits.
    let ch = s.challenges(T, false).remove(0);
    let nonce = DigestParams::parse(&ch)
        .unwrap()
        .get("nonce")
        .unwrap()
        .to_string();
    let (_, rest) = nonce.split_once('-').unwrap();
    let forged = format!("{:x}-{rest}", T + 3_600_000);
    let ch = ch.replace(&nonce, &forged);
    let auth = answer_challenge(&ch, "REGISTER", "sip:127.0.0.1", "1001", "pw").unwrap();
    assert_eq!(
        s.verify(&auth, register(&u), T + 3_600_000, creds),
        AuthOutcome::Missing
    );
}

#[test]
fn unknown_user_and_bad_input_never_pass_or_panic() {
    let mut s = server();
    let u = uri("sip:127.0.0.1");
    let ch = s.challenges(T, false).remove(0);
    let auth = answer_challenge(&ch, "REGISTER", "sip:127.0.0.1", "9999", "pw").unwrap();
    assert_eq!(s.verify(&auth, register(&u), T, creds), AuthOutcome::Wrong);
    let good = answer_challenge(&ch, "REGISTER", "sip:127.0.0.1", "1001", "pw").unwrap();
    let mut inputs = vec![
        String::new(),
        "Digest".into(),
        "Digest ".into(),
        "Digest username".into(),
        "Digest =,=,=".into(),
        "Digestusername=\"1001\"".into(),
        "digest username=\"é\", realm=\"switchboard\", nonce=\"é-é-é\", uri=\"é\", response=\"é\""
            .into(),
        good.replace("nc=00000001", "nc=zz"),
        good.replace("nc=00000001", "nc=1"),
        good.replace("qop=auth", "qop=auth-int"),
        good.replace("algorithm=MD5", "algorithm=SHA-512-256"),
        good.replace(", cnonce=", ", xcnonce="),
        "x".repeat(100_000),
    ];
    // Every truncation but the one that only drops the closing quote.
    for cut in 0..good.len() - 1 {
        if good.is_char_boundary(cut) {
            inputs.push(good[..cut].to_string());
        }
    }
    for i in &inputs {
        assert_ne!(
            s.verify(i, register(&u), T, creds),
            AuthOutcome::Ok,
            "{i:?}"
        );
    }
}

#[test]
fn client_answers_a_challenge_with_qop() {
    let mut s = server();
    let ch = s.challenges(T, false).remove(0);
    assert!(ch.contains("qop=\"auth\""));
    let a = answer_challenge(&ch, "REGISTER", "sip:h", "1001", "pw").unwrap();
    let p = DigestParams::parse(&a).unwrap();
    assert_eq!(p.get("qop"), Some("auth"));
    assert_eq!(p.get("nc"), Some("00000001"));
    assert!(p.get("cnonce").is_some());
}
