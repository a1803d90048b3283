//! Building responses and the requests a transaction or dialog derives
//! from another message (ACK, CANCEL), plus fresh identifiers.

use rand::Rng;

use crate::{Headers, NameAddr, Request, Response};

/// Magic cookie that marks RFC 3261 branches.
pub const BRANCH_COOKIE: &str = "z9hG4bK";

fn random_token(len: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

/// A fresh Via branch.
pub fn new_branch() -> String {
    format!("{BRANCH_COOKIE}{}", random_token(16))
}

/// A fresh From/To tag.
pub fn new_tag() -> String {
    random_token(12)
}

/// A fresh Call-ID.
pub fn new_call_id() -> String {
    format!("{}@switchboard", random_token(20))
}

/// A response to `req` (copies Via, From, To, Call-ID, CSeq; adds a To tag if given
/// and none present; copies Record-Route on dialog-establishing answers).
pub fn response_to(req: &Request, status: u16, reason: &str, to_tag: Option<&str>) -> Response {
    let mut h = Headers::default();
    for v in req
        .headers
        .0
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("Via"))
    {
        h.push("Via", v.1.clone());
    }
    if let Some(f) = req.header("From") {
        h.push("From", f);
    }
    if let Some(t) = req.header("To") {
        let mut to = t.to_string();
        if let Some(tag) = to_tag {
            if status > 100 {
                if let Ok(na) = NameAddr::parse(t) {
                    if na.tag().is_none() {
                        to = format!("{t};tag={tag}");
                    }
                }
            }
        }
        h.push("To", to);
    }
    if let Some(c) = req.header("Call-ID") {
        h.push("Call-ID", c);
    }
    if let Some(c) = req.header("CSeq") {
        h.push("CSeq", c);
    }
    if (101..300).contains(&status) {
        for v in req
            .headers
            .0
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("Record-Route"))
        {
            h.push("Record-Route", v.1.clone());
        }
    }
    h.push("Server", "Switchboard");
    Response {
        version: "SIP/2.0".into(),
        status,
        reason: reason.into(),
        headers: h,
        body: Vec::new(),
    }
}

/// The ACK a client INVITE transaction sends for a non-2xx final response (RFC 3261 §17.1.1.3).
pub fn ack_for_non_2xx(invite: &Request, resp: &Response) -> Request {
    let mut h = Headers::default();
    if let Some(v) = invite.headers_all("Via").first() {
        h.push("Via", *v);
    }
    for name in ["Route"] {
        for v in invite
            .headers
            .0
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            h.push(name, v.1.clone());
        }
    }
    h.push("Max-Forwards", "70");
    if let Some(f) = invite.header("From") {
        h.push("From", f);
    }
    h.push(
        "To",
        resp.header("To")
            .or(invite.header("To"))
            .unwrap_or_default(),
    );
    h.push("Call-ID", invite.header("Call-ID").unwrap_or_default());
    let seq = invite
        .header("CSeq")
        .and_then(|c| crate::CSeq::parse(c).ok())
        .map(|c| c.seq)
        .unwrap_or(1);
    h.push("CSeq", format!("{seq} ACK"));
    Request {
        method: "ACK".into(),
        uri: invite.uri.clone(),
        version: "SIP/2.0".into(),
        headers: h,
        body: Vec::new(),
    }
}

/// CANCEL for a pending INVITE (RFC 3261 §9.1): same Request-URI, Via branch, From, To, Call-ID, CSeq number.
pub fn cancel_for(invite: &Request) -> Request {
    let mut ack = ack_for_non_2xx(
        invite,
        &Response {
            version: "SIP/2.0".into(),
            status: 487,
            reason: String::new(),
            headers: invite.headers.clone(),
            body: Vec::new(),
        },
    );
    ack.method = "CANCEL".into();
    let seq = invite
        .header("CSeq")
        .and_then(|c| crate::CSeq::parse(c).ok())
        .map(|c| c.seq)
        .unwrap_or(1);
    ack.headers.set("CSeq", format!("{seq} CANCEL"));
    ack
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_message, Message};

    #[test]
    fn response_copies_dialog_headers() {
        let raw = b"INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nVia: SIP/2.0/UDP p;branch=z9hG4bK0\r\nRecord-Route: <sip:p;lr>\r\nFrom: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 5 INVITE\r\nContent-Length: 0\r\n\r\n";
        let Message::Request(req) = parse_message(raw).unwrap() else {
            panic!()
        };
        let r = response_to(&req, 200, "OK", Some("xyz"));
        assert_eq!(r.headers_all("Via").len(), 2);
        assert_eq!(r.header("To"), Some("<sip:b@h>;tag=xyz"));
        assert_eq!(r.header("Record-Route"), Some("<sip:p;lr>"));
        let c = cancel_for(&req);
        assert_eq!(c.header("CSeq"), Some("5 CANCEL"));
        assert_eq!(c.headers_all("Via"), vec!["SIP/2.0/UDP a;branch=z9hG4bK1"]);
    }
}
