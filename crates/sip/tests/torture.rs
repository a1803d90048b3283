//! RFC 4475 "SIP Torture Test Messages", section 3, run against our parser
//! (`parse_message`) and request validator (`validate_request`).
//!
//! The fixtures in `tests/torture/*.dat` are the exact octets of the 49
//! messages of RFC 4475 §3, produced from the RFC's notation (`<allOneLine>`,
//! `<hex>`, `<repeat>`, CRLF line ends) by `tests/torture/gen_fixtures.py`.
//!
//! Each message gets one `#[test]` (named after its RFC file name) that
//! asserts the outcome the RFC asks of an element like ours (a B2BUA /
//! registrar, i.e. an endpoint, not a proxy), plus a few facts from the RFC
//! text for the messages that must be accepted. Outcomes:
//!
//! * `Valid`          - parses, and `validate_request` accepts it;
//! * `ValidResponse`  - a response that parses and can be matched (CSeq ok);
//! * `ParseError`     - `parse_message` refuses it;
//! * `Reject(n)`      - parses, and `validate_request` answers status `n`;
//! * `Discard`        - a response we drop: it does not parse, or its CSeq
//!   cannot be read (so the transaction layer cannot match it).
//!
//! Where the RFC allows more than one reaction (e.g. "respond 400" is served
//! equally by a parse error, which we answer with 400), every allowed
//! outcome is listed; the first one is the one we aim for.
//!
//! The robustness tests at the end truncate and mutate every fixture and
//! check that parsing, validation and the typed header parsers never panic.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use switchboard_sip::{
    parse_message, validate_request, CSeq, Message, NameAddr, Request, Response, Uri, Via,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Valid,
    ValidResponse,
    ParseError,
    Reject(u16),
    Discard,
}
use Outcome::*;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/torture")
}

fn load(name: &str) -> Vec<u8> {
    let path = fixture_dir().join(format!("{name}.dat"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// What our stack does with a message, plus a human-readable detail.
fn observe(bytes: &[u8]) -> (Outcome, String, Option<Message>) {
    match parse_message(bytes) {
        Err(e) => (ParseError, e.to_string(), None),
        Ok(Message::Request(r)) => match validate_request(&r) {
            Ok(()) => (Valid, String::new(), Some(Message::Request(r))),
            Err(rej) => (
                Reject(rej.status),
                rej.reason.clone(),
                Some(Message::Request(r)),
            ),
        },
        Ok(Message::Response(r)) => match r.header("CSeq").map(CSeq::parse) {
            Some(Ok(_)) => (ValidResponse, String::new(), Some(Message::Response(r))),
            Some(Err(e)) => (Discard, e.to_string(), Some(Message::Response(r))),
            None => (Discard, "no CSeq".into(), Some(Message::Response(r))),
        },
    }
}

fn run(name: &str, section: &str, allowed: &[Outcome], facts: Option<fn(&Message)>) {
    let bytes = load(name);
    let (got, detail, msg) = observe(&bytes);
    eprintln!("{section:9} {name:11} -> {got:?} {detail}");
    // A response that does not parse is dropped, which is what `Discard` asks.
    let ok = allowed.contains(&got) || (got == ParseError && allowed.contains(&Discard));
    assert!(
        ok,
        "RFC 4475 §{section} {name}: expected one of {allowed:?}, got {got:?} ({detail})"
    );
    if let (Some(facts), Some(msg)) = (facts, msg.as_ref()) {
        if matches!(got, Valid | ValidResponse) || allowed.first() == Some(&got) {
            facts(msg);
        }
    }
}

// ------------------------------------------------------------------ helpers

fn req(m: &Message) -> &Request {
    match m {
        Message::Request(r) => r,
        Message::Response(_) => panic!("expected a request"),
    }
}

fn resp(m: &Message) -> &Response {
    match m {
        Message::Response(r) => r,
        Message::Request(_) => panic!("expected a response"),
    }
}

/// Collapse every run of linear white space (incl. folding) to one SP.
fn lws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn vias(r: &Request) -> Vec<Via> {
    r.headers_all("Via")
        .into_iter()
        .map(|v| Via::parse(v).unwrap_or_else(|e| panic!("Via {v:?}: {e}")))
        .collect()
}

fn name_addr(v: Option<&str>) -> NameAddr {
    let v = v.expect("header present");
    NameAddr::parse(v).unwrap_or_else(|e| panic!("name-addr {v:?}: {e}"))
}

fn cseq(v: Option<&str>) -> CSeq {
    CSeq::parse(v.expect("CSeq present")).expect("CSeq parses")
}

/// Common facts for an accepted request: method, Call-ID, number of Vias,
/// Content-Length == body length.
fn basics(r: &Request, method: &str, call_id: &str, n_via: usize, body_len: usize) {
    assert_eq!(r.method(), method);
    assert_eq!(r.header("Call-ID"), Some(call_id));
    assert_eq!(r.headers_all("Via").len(), n_via, "number of Via values");
    assert_eq!(r.body.len(), body_len, "body length");
    if let Some(cl) = r.header("Content-Length") {
        assert_eq!(
            cl.trim().parse::<usize>().ok(),
            Some(body_len),
            "Content-Length"
        );
    }
    let cs = cseq(r.header("CSeq"));
    assert_eq!(cs.method, method, "CSeq method");
}

// -------------------------------------------------------------- the table

macro_rules! torture {
    ($( $name:ident, $section:literal, [$($outcome:expr),+ $(,)?] $(, $facts:expr)? ; )*) => {
        $(
            #[test]
            fn $name() {
                #[allow(unused_mut, unused_assignments)]
                let mut facts: Option<fn(&Message)> = None;
                $( facts = Some($facts); )?
                run(stringify!($name), $section, &[$($outcome),+], facts);
            }
        )*
        const ALL: &[&str] = &[$(stringify!($name)),*];
    };
}

torture! {
    // ================================================= 3.1.1 Valid Messages

    // 3.1.1.1 A Short Tortuous INVITE: "All elements should treat this as a
    // well-formed request."
    wsinv, "3.1.1.1", [Valid], |m| {
        let r = req(m);
        basics(r, "INVITE", "wsinv.ndaksdj@192.0.2.1", 3, 150);
        assert_eq!(r.uri.to_string(), "sip:vivekg@chair-dnrc.example.com;unknownparam");
        assert_eq!(r.uri.param("unknownparam"), Some(None));
        assert_eq!(r.header("Max-Forwards").map(|v| v.trim().parse::<u32>().ok()), Some(Some(68)));
        assert_eq!(cseq(r.header("CSeq")).seq, 9);
        let v = vias(r);
        let got: Vec<_> = v.iter().map(|v| (v.transport.as_str(), v.host.as_str(), v.branch())).collect();
        assert_eq!(got, [
            ("UDP", "192.0.2.2", Some("390skdjuw")),
            ("TCP", "spindle.example.com", Some("z9hG4bK9ikj8")),
            ("UDP", "192.168.255.111", Some("z9hG4bK30239")),
        ]);
        assert_eq!(r.header("Subject").map(lws), Some(String::new()), "empty Subject");
        assert_eq!(r.header("NewFangledHeader").map(lws).as_deref(),
            Some("newfangled value continued newfangled value"));
        assert_eq!(r.header("UnknownHeaderWithUnusualValue"), Some(";;,,;;,;"));
        assert_eq!(name_addr(r.header("To")).tag(), Some("1918181833n"));
        let from = name_addr(r.header("From"));
        assert_eq!(from.tag(), Some("98asjd8"));
        assert_eq!(from.display.as_deref(), Some("J Rosenberg \\\""));
        assert_eq!(r.headers_all("Route").len(), 1);
        let contacts = r.headers_all("Contact");
        assert_eq!(contacts.len(), 1);
        let c = name_addr(Some(contacts[0]));
        assert_eq!(c.display.as_deref(), Some("Quoted string \"\""));
        assert_eq!(c.param("newparam"), Some("newvalue"));
        assert!(c.params.iter().any(|(k, v)| k == "secondparam" && v.is_none()));
        assert_eq!(c.param("q"), Some("0.33"));
        assert!(r.body.starts_with(b"v=0\r\n"));
    };

    // 3.1.1.2 Wide Range of Valid Characters: "If this unusual URI has been
    // defined at a proxy, the proxy will forward this request normally.
    // [...] Endpoints will generate a 501 listing the methods they understand."
    intmeth, "3.1.1.2", [Valid, Reject(501)], |m| {
        let r = req(m);
        basics(r, "!interesting-Method0123456789_*+`.%indeed'~",
            "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{", 1, 0);
        assert_eq!(r.uri.user.as_deref(), Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"));
        assert_eq!(r.uri.host, "example.com");
        assert_eq!(cseq(r.header("CSeq")).seq, 139122385);
        assert_eq!(vias(r)[0].branch(), Some("z9hG4bK-.!%66*_+`'~"));
        let to = name_addr(r.header("To"));
        assert_eq!(to.display.as_deref(), Some("BEL:\u{7} NUL:\u{0} DEL:\u{7f}"), "quoted-pairs unescaped");
        assert_eq!(to.uri.user.as_deref(), Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"));
        let from = name_addr(r.header("From"));
        assert_eq!(from.display.as_deref(), Some("token1~` token2'+_ token3*%!.-"));
        assert_eq!(from.tag(), Some("_token~1'+`*%!-."));
        assert_eq!(from.param("fromParam''~+*_!.-%"), Some("работающий"));
        assert_eq!(r.header("extensionHeader-!.%*+_`'~"), Some("\u{feff}大停電"));
    };

    // 3.1.1.3 Valid Use of the % Escaping Mechanism: "A parser must accept
    // this as a well-formed message."
    esc01, "3.1.1.3", [Valid], |m| {
        let r = req(m);
        basics(r, "INVITE", "esc01.239409asdfakjkn23onasd0-3234", 1, 150);
        assert_eq!(r.uri.user.as_deref(), Some("sips:user@example.com"));
        assert_eq!(r.uri.host, "example.net");
        assert_eq!(name_addr(r.header("To")).uri.user.as_deref(), Some("user"));
        assert_eq!(name_addr(r.header("From")).uri.user.as_deref(), Some("I have spaces"));
        assert_eq!(r.header("Content-Type"), Some("application/sdp"));
        let c = name_addr(r.headers_all("Contact").first().copied());
        assert_eq!(c.uri.user.as_deref(), Some("caller"));
        assert_eq!(c.uri.params.len(), 2);
    };

    // 3.1.1.4 Escaped Nulls in URIs: "The message is well formed - parsers
    // must accept this message. [...] This request registers two distinct
    // contact URIs."
    escnull, "3.1.1.4", [Valid], |m| {
        let r = req(m);
        basics(r, "REGISTER", "escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd", 1, 0);
        assert_eq!(name_addr(r.header("To")).uri.user.as_deref(), Some("null-\0-null"));
        assert_eq!(name_addr(r.header("From")).uri.user.as_deref(), Some("null-\0-null"));
        let users: Vec<_> = r.headers_all("Contact").into_iter()
            .map(|c| name_addr(Some(c)).uri.user.unwrap_or_default()).collect();
        assert_eq!(users, ["\0", "\0\0"]);
    };

    // 3.1.1.5 Use of % When It Is Not an Escape: "A parser should accept this
    // message as well formed. [...] An endpoint would reject this message
    // with a 501."
    esc02, "3.1.1.5", [Valid, Reject(501)], |m| {
        let r = req(m);
        basics(r, "RE%47IST%45R", "esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf", 1, 0);
        assert_eq!(name_addr(r.header("To")).display.as_deref(), Some("%Z%45"));
        assert_eq!(name_addr(r.header("From")).display.as_deref(), Some("%Z%45"));
        assert_eq!(vias(r)[0].branch(), Some("z9hG4bK209%fzsnel234"));
        assert_eq!(r.headers_all("Contact").len(), 2, "two Contact values, not three");
        assert_eq!(r.header("C%6Fntact"), Some("<sip:alias2@host2.example.com>"));
    };

    // 3.1.1.6 Message with No LWS between Display Name and <: "Elements should
    // accept this request as well formed."
    lwsdisp, "3.1.1.6", [Valid], |m| {
        let r = req(m);
        basics(r, "OPTIONS", "lwsdisp.1234abcd@funky.example.com", 1, 0);
        let from = name_addr(r.header("From"));
        assert_eq!(from.display.as_deref(), Some("caller"));
        assert_eq!(from.tag(), Some("323"));
    };

    // 3.1.1.7 Long Values in Header Fields: "This well-formed request contains
    // header fields with many values and values that are very long."
    longreq, "3.1.1.7", [Valid], |m| {
        let r = req(m);
        let call_id = format!("longreq.one{}longcallid", "really".repeat(20));
        basics(r, "INVITE", &call_id, 34, 150);
        let to = name_addr(r.header("To"));
        assert_eq!(to.display, Some(format!("I have a user name of {} proportion", "extreme".repeat(10))));
        assert_eq!(to.uri.port, Some(6000));
        let p1 = format!("very{}value", "long".repeat(20));
        assert_eq!(to.uri.param("unknownparam1"), Some(Some(p1.as_str())));
        let from = name_addr(r.header("From"));
        let tag = format!("12{}424", "982".repeat(50));
        assert_eq!(from.tag(), Some(tag.as_str()));
        assert_eq!(from.uri.user, Some("amazinglylongcallername".repeat(5)));
        let v = vias(r);
        for (i, via) in v.iter().take(33).enumerate() {
            assert_eq!(via.host, format!("sip{}.example.com", 33 - i));
        }
        let branch = format!("very{}branchvalue", "long".repeat(50));
        assert_eq!(v[33].branch(), Some(branch.as_str()));
        assert_eq!(v[33].param("received"), Some("192.0.2.5"));
        let name = format!("Unknown-{}-Name", "Long".repeat(20));
        assert!(r.header(&name).is_some());
        let c = name_addr(r.headers_all("Contact").first().copied());
        assert_eq!(c.uri.user, Some("amazinglylongcallername".repeat(5)));
    };

    // 3.1.1.8 Extra Trailing Octets in a UDP Datagram: "A SIP element
    // receiving this datagram would handle the REGISTER request normally and
    // ignore the extra bits that look like an INVITE request."
    dblreq, "3.1.1.8", [Valid], |m| {
        let r = req(m);
        basics(r, "REGISTER", "dblreq.0ha0isndaksdj99sdfafnl3lk233412", 1, 0);
        assert!(r.header("Content-Type").is_none(), "INVITE octets are not headers");
    };

    // 3.1.1.9 Semicolon-Separated Parameters in URI User Part: "Receiving
    // elements will accept this as a well-formed message. The Request-URI will
    // parse so that the user part is "user;par=u@example.net"."
    semiuri, "3.1.1.9", [Valid], |m| {
        let r = req(m);
        basics(r, "OPTIONS", "semiuri.0ha0isndaksdj", 1, 0);
        assert_eq!(r.uri.user.as_deref(), Some("user;par=u@example.net"));
        assert_eq!(r.uri.host, "example.com");
        assert!(r.uri.params.is_empty());
        assert_eq!(r.headers_all("Accept"), [
            "application/sdp", "application/pkcs7-mime", "multipart/mixed",
            "multipart/signed", "message/sip", "message/sipfrag",
        ]);
    };

    // 3.1.1.10 Varied and Unknown Transport Types: "Parsers must accept this
    // message as well formed."
    transports, "3.1.1.10", [Valid], |m| {
        let r = req(m);
        basics(r, "OPTIONS", "transports.kijh4akdnaqjkwendsasfdj", 5, 0);
        let t: Vec<_> = vias(r).into_iter().map(|v| v.transport).collect();
        assert_eq!(t, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
    };

    // 3.1.1.11 Multipart MIME Message: "Receivers must take care to frame the
    // received message properly. Parsers must accept this message as well
    // formed, even if the application above the parser does not support
    // multipart/signed."
    mpart01, "3.1.1.11", [Valid], |m| {
        let r = req(m);
        basics(r, "MESSAGE", "3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..", 1, 553);
        assert!(r.body.contains(&0), "binary part with NUL octets kept");
        assert!(r.body.ends_with(b"--7a9cbec02ceef655--\r\n"));
        assert!(r.header("Content-Type").unwrap_or_default().starts_with("multipart/mixed"));
        let v = &vias(r)[0];
        assert_eq!((v.host.as_str(), v.port), ("127.0.0.1", Some(5070)));
        assert!(v.has_param("rport"));
    };

    // 3.1.1.12 Unusual Reason Phrase: "This response is well formed. A parser
    // must accept this message."
    unreason, "3.1.1.12", [ValidResponse], |m| {
        let r = resp(m);
        assert_eq!(r.status, 200);
        assert_eq!(r.reason, "= 2**3 * 5**2 но сто девяносто девять - простое");
        assert_eq!(r.body.len(), 154);
        assert_eq!(r.header("Call-ID"), Some("unreason.1234ksdfak3j2erwedfsASdf"));
    };

    // 3.1.1.13 Empty Reason Phrase: "This well-formed response contains no
    // reason phrase. A parser must accept this message."
    noreason, "3.1.1.13", [ValidResponse], |m| {
        let r = resp(m);
        assert_eq!(r.status, 100);
        assert_eq!(r.reason, "");
        assert_eq!(r.header("Call-ID"), Some("noreason.asndj203insdf99223ndf"));
    };

    // =============================================== 3.1.2 Invalid Messages

    // 3.1.2.1 Extraneous Header Field Separators: "This message is
    // syntactically invalid. An element receiving this request should respond
    // with a 400 Bad Request error."
    badinv01, "3.1.2.1", [ParseError, Reject(400)];

    // 3.1.2.2 Content Length Larger Than Message: "When sent over UDP (as this
    // message ostensibly was), the receiving element should respond with a 400
    // Bad Request error."
    clerr, "3.1.2.2", [ParseError, Reject(400)];

    // 3.1.2.3 Negative Content-Length: "An element receiving this message
    // should respond with an error."
    ncl, "3.1.2.3", [ParseError, Reject(400)];

    // 3.1.2.4 Request Scalar Fields with Overlarge Values: "An element
    // receiving this request should respond with a 400 Bad Request due to the
    // CSeq error."
    scalar02, "3.1.2.4", [Reject(400), ParseError];

    // 3.1.2.5 Response Scalar Fields with Overlarge Values: "An element
    // receiving this response will simply discard it."
    scalarlg, "3.1.2.5", [Discard];

    // 3.1.2.6 Unterminated Quoted String in Display Name: "An element
    // receiving this request should return a 400 Bad Request error."
    quotbal, "3.1.2.6", [Reject(400), ParseError];

    // 3.1.2.7 <> Enclosing Request-URI: "It is reasonable always to reject a
    // request with this error with a 400 Bad Request."
    ltgtruri, "3.1.2.7", [ParseError, Reject(400)];

    // 3.1.2.8 Malformed SIP Request-URI (embedded LWS): "An element receiving
    // this request should respond with a 400 Bad Request."
    lwsruri, "3.1.2.8", [ParseError, Reject(400)];

    // 3.1.2.9 Multiple SP Separating Request-Line Elements: "It is acceptable
    // to reject this request as malformed." (We do: single SP is the grammar.)
    lwsstart, "3.1.2.9", [ParseError, Reject(400)];

    // 3.1.2.10 SP Characters at End of Request-Line: "It is acceptable to
    // reject this request as malformed."
    trws, "3.1.2.10", [ParseError, Reject(400)];

    // 3.1.2.11 Escaped Headers in SIP Request-URI: "It is acceptable for an
    // element to reject this request with a 400 Bad Request."
    escruri, "3.1.2.11", [Reject(400), ParseError];

    // 3.1.2.12 Invalid Time Zone in Date Header Field: "It is acceptable to
    // reject this request as malformed (though an element shouldn't do that
    // unless the contents of the Date header field were actually important to
    // its processing)." We don't use Date, so we accept it.
    baddate, "3.1.2.12", [Valid, Reject(400)];

    // 3.1.2.13 Failure to Enclose name-addr URI in <>: "It is reasonable for
    // an element receiving this request to respond with a 400 Bad Request."
    regbadct, "3.1.2.13", [Reject(400), ParseError];

    // 3.1.2.14 Spaces within addr-spec: "Parsers receiving this request must
    // not break. It is reasonable to reject this request with a 400 Bad
    // Request response."
    badaspec, "3.1.2.14", [Reject(400), ParseError];

    // 3.1.2.15 Non-token Characters in Display Name: "It is reasonable always
    // to reject this kind of error with a 400 Bad Request response."
    baddn, "3.1.2.15", [Reject(400), ParseError];

    // 3.1.2.16 Unknown Protocol Version: "The element should respond to the
    // request with a 505 Version Not Supported error."
    badvers, "3.1.2.16", [Reject(505)];

    // 3.1.2.17 Start Line and CSeq Method Mismatch: "Any element receiving
    // this request will respond with a 400 Bad Request."
    mismatch01, "3.1.2.17", [Reject(400)];

    // 3.1.2.18 Unknown Method with CSeq Method Mismatch: "Any element
    // receiving this response should respond with a 501 Not Implemented. A
    // 400 Bad Request is also acceptable."
    mismatch02, "3.1.2.18", [Reject(501), Reject(400)];

    // 3.1.2.19 Overlarge Response Code: "An element receiving this response
    // should simply drop it."
    bigcode, "3.1.2.19", [Discard];

    // ======================================= 3.2 Transaction Layer Semantics

    // 3.2.1 Missing Transaction Identifier: "A parser must not break when
    // receiving this message. An element receiving this request could reject
    // the request with a 400 Response [...] or it could fall back to the RFC
    // 2543-style transaction identifier."
    badbranch, "3.2.1", [Valid, Reject(400)], |m| {
        let r = req(m);
        basics(r, "OPTIONS", "badbranch.sadonfo23i420jv0as0derf3j3n", 1, 0);
        assert_eq!(vias(r)[0].branch(), Some("z9hG4bK"));
    };

    // ================================== 3.3 Application-Layer Semantics

    // 3.3.1 Missing Required Header Fields: "An element receiving this message
    // must not break because of the missing information. Ideally, it will
    // respond with a 400 Bad Request error."
    insuf, "3.3.1", [Reject(400)];

    // 3.3.2 Request-URI with Unknown Scheme: "A parser must accept this as a
    // well-formed SIP request. An element receiving this request will reject
    // it with a 416 Unsupported URI Scheme response."
    unkscm, "3.3.2", [Reject(416)], |m| {
        assert_eq!(req(m).uri.scheme, "nobodyknowsthisscheme");
    };

    // 3.3.3 Request-URI with Known but Atypical Scheme: "If an element will
    // never accept this scheme as meaningful in a Request-URI, it is
    // appropriate to treat it as unknown and return a 416 Unsupported URI
    // Scheme response."
    novelsc, "3.3.3", [Reject(416)];

    // 3.3.4 Unknown URI Schemes in Header Fields: "Parsers must not fail when
    // receiving this message. [...] A registrar would reject this request with
    // a 400 Bad Request response, since the To: header field is required to
    // contain a SIP or SIPS URI as an AOR."
    unksm2, "3.3.4", [Reject(400)];

    // 3.3.5 Proxy-Require and Require: "Any element receiving this request
    // will respond with a 420 Bad Extension response."
    bext01, "3.3.5", [Reject(420)];

    // 3.3.6 Unknown Content-Type: "A parser must not fail when receiving it.
    // [...] An endpoint receiving this request would reject it with a 415
    // Unsupported Media Type error."
    invut, "3.3.6", [Reject(415)];

    // 3.3.7 Unknown Authorization Scheme: "A parser must not break when it
    // receives this request. [...] A registrar that does care about
    // challenge-response authentication will reject this request with a 401"
    // (that is the registrar's authentication step, not request validation).
    regaut01, "3.3.7", [Valid], |m| {
        let r = req(m);
        basics(r, "REGISTER", "regaut01.0ha0isndaksdj", 1, 0);
        assert_eq!(r.header("Authorization"), Some("NoOneKnowsThisScheme opaque-data=here"));
    };

    // 3.3.8 Multiple Values in Single Value Required Fields: "An element
    // receiving this request would respond with a 400 Bad Request."
    multi01, "3.3.8", [Reject(400)];

    // 3.3.9 Multiple Content-Length Values: "An element receiving this
    // message should respond with an error."
    mcl01, "3.3.9", [ParseError, Reject(400)];

    // 3.3.10 200 OK Response with Broadcast Via Header Field Value: "The
    // message is well formed; parsers must not fail when receiving it."
    bcast, "3.3.10", [ValidResponse], |m| {
        let r = resp(m);
        assert_eq!(r.status, 200);
        assert_eq!(r.headers_all("Via").len(), 2);
        assert_eq!(r.body.len(), 154);
    };

    // 3.3.11 Max-Forwards of Zero: "A proxy should not forward the request and
    // should respond 483 (Too Many Hops). An endpoint should process the
    // request as if the Max-Forwards field value were still positive."
    zeromf, "3.3.11", [Valid], |m| {
        let r = req(m);
        basics(r, "OPTIONS", "zeromf.jfasdlfnm2o2l43r5u0asdfas", 1, 0);
        assert_eq!(r.header("Max-Forwards"), Some("0"));
    };

    // 3.3.12 REGISTER with a Contact Header Parameter: "the 'unknownparam'
    // parameter must be interpreted as a contact-param and not a url-param."
    cparam01, "3.3.12", [Valid], |m| {
        let r = req(m);
        basics(r, "REGISTER", "cparam01.70710@saturn.example.com", 1, 0);
        let c = name_addr(r.headers_all("Contact").first().copied());
        assert!(c.uri.params.is_empty(), "no url-parameter");
        assert!(c.params.iter().any(|(k, _)| k == "unknownparam"), "contact-param");
    };

    // 3.3.13 REGISTER with a url-parameter: "The register should succeed, and
    // a subsequent retrieval of the registration must include 'unknownparam'
    // as a url-parameter."
    cparam02, "3.3.13", [Valid], |m| {
        let r = req(m);
        basics(r, "REGISTER", "cparam02.70710@saturn.example.com", 1, 0);
        let c = name_addr(r.headers_all("Contact").first().copied());
        assert_eq!(c.uri.param("unknownparam"), Some(None), "url-parameter");
        assert!(c.params.is_empty());
    };

    // 3.3.14 REGISTER with a URL Escaped Header: "The register should succeed,
    // and a subsequent retrieval of the registration must include the escaped
    // Route header in the contact URI for this binding."
    regescrt, "3.3.14", [Valid], |m| {
        let r = req(m);
        basics(r, "REGISTER", "regescrt.k345asrl3fdbv@192.0.2.1", 1, 0);
        let c = name_addr(r.headers_all("Contact").first().copied());
        assert_eq!(c.uri.user.as_deref(), Some("user"));
        assert_eq!(c.uri.host, "example.com");
        assert_eq!(c.uri.headers.as_deref(), Some("Route=%3Csip:sip.example.com%3E"));
        assert!(c.to_string().contains("?Route=%3Csip:sip.example.com%3E"), "kept on output");
    };

    // 3.3.15 Unacceptable Accept Offering: "since the Accept header field does
    // not contain application/sdp, the response may not contain an SDP body.
    // The recipient of this request could respond with a 406 Not Acceptable".
    sdp01, "3.3.15", [Reject(406), Valid];

    // ===================================== 3.4 Backward Compatibility

    // 3.4.1 INVITE with RFC 2543 Syntax: "This is a legal message per RFC 2543
    // (and several bis versions) that should be accepted by RFC 3261 elements
    // that want to maintain backwards compatibility." (no branch, no From
    // tag, no Content-Length, no Max-Forwards)
    inv2543, "3.4.1", [Valid], |m| {
        let r = req(m);
        basics(r, "INVITE", "inv2543.1717@ift.client.example.com", 1, 105);
        assert!(r.header("Content-Length").is_none());
        assert!(r.body.ends_with(b"m=audio 49217 RTP/AVP 0\r\n"));
        assert_eq!(vias(r)[0].branch(), None);
        assert_eq!(name_addr(r.header("From")).tag(), None);
    };
}

// ---------------------------------------------------------- manifest checks

#[test]
fn manifest_covers_every_fixture() {
    let mut on_disk: Vec<String> = std::fs::read_dir(fixture_dir())
        .expect("fixture dir")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".dat").map(str::to_string)
        })
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = ALL.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "every fixture has exactly one manifest entry"
    );
    assert_eq!(listed.len(), 49, "RFC 4475 section 3 has 49 messages");
}

/// Every message we accept must survive serialize -> parse unchanged (what a
/// B2BUA does when it relays), apart from the Content-Length we recompute.
#[test]
fn accepted_messages_reserialize_identically() {
    let strip_cl = |m: &Message| -> Message {
        let mut m = m.clone();
        let h = match &mut m {
            Message::Request(r) => &mut r.headers,
            Message::Response(r) => &mut r.headers,
        };
        h.remove("Content-Length");
        m
    };
    for name in ALL {
        let (outcome, _, msg) = observe(&load(name));
        let Some(msg) = msg else { continue };
        if !matches!(outcome, Valid | ValidResponse) {
            continue;
        }
        let wire = msg.to_bytes();
        let again = parse_message(&wire).unwrap_or_else(|e| {
            panic!(
                "{name}: our own serialization does not parse: {e}\n{}",
                String::from_utf8_lossy(&wire)
            )
        });
        assert_eq!(
            strip_cl(&again),
            strip_cl(&msg),
            "{name}: changed by a serialize/parse round trip"
        );
    }
}

// ------------------------------------------------------------ robustness

/// Parse, validate and run every typed header parser over `bytes`; used on
/// damaged inputs, where only "no panic" matters.
fn exercise(bytes: &[u8]) {
    let Ok(msg) = parse_message(bytes) else {
        return;
    };
    if let Message::Request(r) = &msg {
        let _ = validate_request(r);
        let _ = r.uri.to_string();
    }
    for (_, v) in &msg.headers().0 {
        let _ = Via::parse(v);
        let _ = NameAddr::parse(v);
        let _ = CSeq::parse(v);
        let _ = Uri::parse(v);
    }
    for name in ["Via", "Contact", "Route", "Accept", "Require"] {
        for v in msg.headers().get_all(name) {
            let _ = Via::parse(v);
            let _ = NameAddr::parse(v).map(|n| n.to_string());
        }
    }
    let _ = parse_message(&msg.to_bytes());
}

fn guarded(name: &str, what: &str, bytes: &[u8]) {
    if catch_unwind(AssertUnwindSafe(|| exercise(bytes))).is_err() {
        panic!(
            "{name}: panic on {what}; input ({} bytes):\n{:?}",
            bytes.len(),
            String::from_utf8_lossy(bytes)
        );
    }
}

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn truncation_at_every_offset_never_panics() {
    for name in ALL {
        let bytes = load(name);
        for cut in 0..=bytes.len() {
            guarded(name, &format!("truncation at {cut}"), &bytes[..cut]);
        }
    }
}

#[test]
fn random_mutations_never_panic() {
    const INTERESTING: &[u8] = b"\r\n \t:;,=\"<>@%?\\/\0\x7f\xff\xc3\xa9[]";
    for (i, name) in ALL.iter().enumerate() {
        let orig = load(name);
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (i as u64 + 1));
        for round in 0..1500 {
            let mut b = orig.clone();
            for _ in 0..1 + rng.below(4) {
                if b.is_empty() {
                    break;
                }
                let at = rng.below(b.len());
                match rng.below(5) {
                    0 => b[at] = rng.next() as u8,
                    1 => b[at] = INTERESTING[rng.below(INTERESTING.len())],
                    2 => b.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
                    3 => {
                        b.remove(at);
                    }
                    _ => {
                        let len = rng.below(16).min(b.len() - at);
                        let chunk = b[at..at + len].to_vec();
                        let to = rng.below(b.len());
                        b.splice(to..to, chunk);
                    }
                }
            }
            guarded(name, &format!("mutation round {round}"), &b);
        }
    }
}
