//! SIP dialogs (RFC 3261 §12), sans-IO: the state a UA keeps between the
//! requests of one call (Call-ID, tags, URIs, remote target, route set,
//! CSeq numbers and the peer) and the requests derived from it: in-dialog
//! requests, the ACK of a 2xx, and the retry of a request challenged for
//! digest credentials. Randomness (branches, tags) comes from the caller,
//! usually [`crate::builder::new_branch`] and [`crate::builder::new_tag`].

use std::fmt::Write as _;

use crate::message::split_list;
use crate::{CSeq, Headers, NameAddr, Peer, Request, Response, Uri, Via};

/// One dialog, seen from our side (we may be its UAC or its UAS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    /// Call-ID.
    pub call_id: String,
    /// Our tag.
    pub local_tag: String,
    /// Their tag (once known).
    pub remote_tag: Option<String>,
    /// Our URI, without tag (From of our requests).
    pub local_uri: NameAddr,
    /// Their URI, without tag (To of our requests).
    pub remote_uri: NameAddr,
    /// Their Contact: the Request-URI of our in-dialog requests.
    pub remote_target: Uri,
    /// Route set, in the order of the Route headers of our requests.
    pub route_set: Vec<String>,
    /// CSeq of the last request we built (the next one uses one more).
    pub local_cseq: u32,
    /// Highest CSeq seen in the peer's requests, if any (RFC 3261 §12.2.2).
    pub remote_cseq: Option<u32>,
    /// Where our requests go.
    pub peer: Peer,
}

/// A request or a response, for [`Dialog::refresh_target`].
#[derive(Debug, Clone, Copy)]
pub enum MessageRef<'a> {
    /// A request received in the dialog.
    Request(&'a Request),
    /// A response to one of our requests.
    Response(&'a Response),
}

impl<'a> From<&'a Request> for MessageRef<'a> {
    fn from(r: &'a Request) -> Self {
        MessageRef::Request(r)
    }
}

impl<'a> From<&'a Response> for MessageRef<'a> {
    fn from(r: &'a Response) -> Self {
        MessageRef::Response(r)
    }
}

/// Methods whose requests (and 2xx responses) refresh the remote target.
const TARGET_REFRESH: &[&str] = &["INVITE", "UPDATE"];

impl Dialog {
    /// The dialog a received INVITE creates, with `local_tag` as our To tag
    /// (RFC 3261 §12.1.1): route set from Record-Route in order, remote target
    /// from Contact (the Request-URI when there is none), remote CSeq from the
    /// INVITE. Our first request in it gets CSeq 2.
    pub fn uas(invite: &Request, local_tag: &str, peer: Peer) -> Dialog {
        let from = invite.header("From").and_then(|f| NameAddr::parse(f).ok());
        let to = invite.header("To").and_then(|t| NameAddr::parse(t).ok());
        Dialog {
            call_id: invite.header("Call-ID").unwrap_or_default().to_string(),
            local_tag: local_tag.to_string(),
            remote_tag: from.as_ref().and_then(|n| n.tag().map(str::to_string)),
            local_uri: to
                .map(without_tag)
                .unwrap_or_else(|| NameAddr::new(invite.uri.clone())),
            remote_uri: from
                .map(without_tag)
                .unwrap_or_else(|| NameAddr::new(invite.uri.clone())),
            remote_target: contact_uri(&invite.headers).unwrap_or_else(|| invite.uri.clone()),
            route_set: invite
                .headers_all("Record-Route")
                .into_iter()
                .map(str::to_string)
                .collect(),
            local_cseq: 1,
            remote_cseq: cseq_of(&invite.headers).map(|c| c.seq),
            peer,
        }
    }

    /// The (not yet established) dialog of a request we are about to send:
    /// the first [`Dialog::request`] builds it (CSeq 1, Request-URI `target`,
    /// no route set); [`Dialog::confirm`] completes it from the answer.
    pub fn uac(
        call_id: String,
        local_tag: String,
        local_uri: NameAddr,
        remote_uri: NameAddr,
        target: Uri,
        peer: Peer,
    ) -> Dialog {
        Dialog {
            call_id,
            local_tag,
            remote_tag: None,
            local_uri: without_tag(local_uri),
            remote_uri: without_tag(remote_uri),
            remote_target: target,
            route_set: Vec::new(),
            local_cseq: 0,
            remote_cseq: None,
            peer,
        }
    }

    /// Establish (1xx with a To tag: early) or confirm (2xx) the dialog of our
    /// request from its response (RFC 3261 §12.1.2, §13.2.2.4): remote tag from
    /// To, remote target from Contact, route set from Record-Route reversed.
    /// Returns false, changing nothing, for other responses.
    pub fn confirm(&mut self, resp: &Response) -> bool {
        if !(101..300).contains(&resp.status) {
            return false;
        }
        let tag = resp
            .header("To")
            .and_then(|t| NameAddr::parse(t).ok())
            .and_then(|n| n.tag().map(str::to_string));
        if tag.is_none() && resp.status < 200 {
            return false;
        }
        if tag.is_some() {
            self.remote_tag = tag;
        }
        if let Some(uri) = contact_uri(&resp.headers) {
            self.remote_target = uri;
        }
        self.route_set = resp
            .headers_all("Record-Route")
            .into_iter()
            .rev()
            .map(str::to_string)
            .collect();
        true
    }

    /// The next request of this dialog (the initial INVITE of a dialog built
    /// by [`Dialog::uac`], or an in-dialog BYE, re-INVITE, NOTIFY...), with
    /// Via branch `branch`; bumps our CSeq. An empty `contact` leaves Contact out.
    pub fn request(
        &mut self,
        method: &str,
        via_host: &str,
        contact: &str,
        branch: &str,
    ) -> Request {
        self.local_cseq = self.local_cseq.wrapping_add(1);
        self.build(method, self.local_cseq, via_host, contact, branch)
    }

    /// The ACK of a 2xx to our INVITE with CSeq number `cseq` (RFC 3261
    /// §13.2.2.4): an in-dialog request with that same CSeq and its own
    /// branch; our CSeq counter does not move.
    pub fn ack(&self, cseq: u32, via_host: &str, contact: &str, branch: &str) -> Request {
        self.build("ACK", cseq, via_host, contact, branch)
    }

    /// Apply a target refresh (RFC 3261 §12.2): a received INVITE or UPDATE, or
    /// a 2xx to ours, replaces the remote target with its Contact. Returns
    /// whether the remote target changed.
    pub fn refresh_target<'a>(&mut self, msg: impl Into<MessageRef<'a>>) -> bool {
        let headers = match msg.into() {
            MessageRef::Request(r) if TARGET_REFRESH.contains(&r.method.as_str()) => &r.headers,
            MessageRef::Response(r)
                if (200..300).contains(&r.status)
                    && cseq_of(&r.headers)
                        .is_some_and(|c| TARGET_REFRESH.contains(&c.method.as_str())) =>
            {
                &r.headers
            }
            _ => return false,
        };
        match contact_uri(headers) {
            Some(uri) if uri != self.remote_target => {
                self.remote_target = uri;
                true
            }
            _ => false,
        }
    }

    /// Check and record the CSeq of a request received in this dialog
    /// (RFC 3261 §12.2.2). Returns false when it is lower than one already
    /// seen: the request is out of order and should be answered 500. ACK and
    /// CANCEL (which reuse their INVITE's number) and requests without a
    /// readable CSeq are neither checked nor recorded.
    pub fn check_remote_cseq(&mut self, req: &Request) -> bool {
        if req.method == "ACK" || req.method == "CANCEL" {
            return true;
        }
        let Some(seq) = cseq_of(&req.headers).map(|c| c.seq) else {
            return true;
        };
        match self.remote_cseq {
            Some(seen) if seq < seen => false,
            _ => {
                self.remote_cseq = Some(seq);
                true
            }
        }
    }

    /// Answer a 401/407 challenge to `original` (a request of this dialog):
    /// a new request, copy of the original with a new Via branch, the next CSeq
    /// and the Authorization (401) or Proxy-Authorization (407) header for
    /// `user`/`password` (RFC 3261 §22.2). None when `challenge` is not a
    /// 401/407 or none of its challenges can be answered.
    pub fn auth_retry(
        &mut self,
        original: &Request,
        challenge: &Response,
        user: &str,
        password: &str,
        branch: &str,
    ) -> Option<Request> {
        let (asked, reply) = match challenge.status {
            401 => ("WWW-Authenticate", "Authorization"),
            407 => ("Proxy-Authenticate", "Proxy-Authorization"),
            _ => return None,
        };
        let uri = original.uri.to_string();
        let auth = challenge.headers_all(asked).into_iter().find_map(|c| {
            crate::digest::answer_challenge(c, &original.method, &uri, user, password)
        })?;
        let mut req = original.clone();
        let top = req
            .headers
            .0
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case("Via") || k.eq_ignore_ascii_case("v"))?;
        let vias = split_list(&top.1);
        let first = via_with_branch(vias.first()?, branch)?;
        let rest = vias[1..]
            .iter()
            .map(|v| format!(", {v}"))
            .collect::<String>();
        top.1 = format!("{first}{rest}");
        let seq = cseq_of(&original.headers).map_or(0, |c| c.seq);
        self.local_cseq = self.local_cseq.max(seq).wrapping_add(1);
        req.headers
            .set("CSeq", format!("{} {}", self.local_cseq, original.method));
        req.headers.set(reply, auth);
        Some(req)
    }

    fn build(
        &self,
        method: &str,
        cseq: u32,
        via_host: &str,
        contact: &str,
        branch: &str,
    ) -> Request {
        let mut h = Headers::default();
        h.push(
            "Via",
            format!(
                "SIP/2.0/{} {via_host};branch={branch};rport",
                self.peer.transport.as_str()
            ),
        );
        for r in &self.route_set {
            h.push("Route", r.clone());
        }
        h.push("Max-Forwards", "70");
        let mut from = self.local_uri.clone();
        from.set_param("tag", Some(&self.local_tag));
        h.push("From", from.to_string());
        let mut to = self.remote_uri.clone();
        if let Some(t) = &self.remote_tag {
            to.set_param("tag", Some(t));
        }
        h.push("To", to.to_string());
        h.push("Call-ID", self.call_id.clone());
        h.push("CSeq", format!("{cseq} {method}"));
        if !contact.is_empty() {
            h.push("Contact", contact.to_string());
        }
        h.push("User-Agent", "Switchboard");
        Request {
            method: method.into(),
            uri: self.remote_target.clone(),
            version: "SIP/2.0".into(),
            headers: h,
            body: Vec::new(),
        }
    }
}

fn without_tag(mut n: NameAddr) -> NameAddr {
    n.params.retain(|(k, _)| !k.eq_ignore_ascii_case("tag"));
    n
}

fn contact_uri(h: &Headers) -> Option<Uri> {
    h.get("Contact")
        .and_then(|c| NameAddr::parse(c).ok())
        .map(|n| n.uri)
}

fn cseq_of(h: &Headers) -> Option<CSeq> {
    h.get("CSeq").and_then(|c| CSeq::parse(c).ok())
}

/// A Via value with its branch replaced (or added), other fields kept.
fn via_with_branch(via: &str, branch: &str) -> Option<String> {
    let v = Via::parse(via).ok()?;
    let mut s = if v.host.contains(':') {
        format!("SIP/2.0/{} [{}]", v.transport, v.host)
    } else {
        format!("SIP/2.0/{} {}", v.transport, v.host)
    };
    if let Some(p) = v.port {
        let _ = write!(s, ":{p}");
    }
    let mut replaced = false;
    for (k, val) in &v.params {
        let val = if k == "branch" {
            replaced = true;
            Some(branch)
        } else {
            val.as_deref()
        };
        match val {
            Some(x) => {
                let _ = write!(s, ";{k}={x}");
            }
            None => {
                let _ = write!(s, ";{k}");
            }
        }
    }
    if !replaced {
        let _ = write!(s, ";branch={branch}");
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_message, Message, Transport};

    fn peer() -> Peer {
        Peer {
            addr: "192.0.2.7:5060".parse().unwrap(),
            transport: Transport::Udp,
        }
    }

    fn req(raw: &str) -> Request {
        match parse_message(raw.replace('\n', "\r\n").as_bytes()).unwrap() {
            Message::Request(r) => r,
            _ => panic!("not a request"),
        }
    }

    fn resp(raw: &str) -> Response {
        match parse_message(raw.replace('\n', "\r\n").as_bytes()).unwrap() {
            Message::Response(r) => r,
            _ => panic!("not a response"),
        }
    }

    const INVITE: &str = "INVITE sip:1001@sb.example SIP/2.0
Via: SIP/2.0/UDP p2.example;branch=z9hG4bKp2
Via: SIP/2.0/UDP p1.example;branch=z9hG4bKp1
Via: SIP/2.0/UDP phone.example:5062;branch=z9hG4bKa
Record-Route: <sip:p2.example;lr>
Record-Route: <sip:p1.example;lr>
From: \"Alice\" <sip:alice@example.com>;tag=from1
To: <sip:1001@sb.example>
Call-ID: c1@phone
CSeq: 7 INVITE
Contact: <sip:alice@198.51.100.3:5062>
Content-Length: 0

";

    fn uac() -> Dialog {
        Dialog::uac(
            "c2@switchboard".into(),
            "ours".into(),
            NameAddr::new(Uri::sip(Some("sb"), "203.0.113.1", None)),
            NameAddr::new(Uri::sip(Some("bob"), "192.0.2.7", Some(5060))),
            Uri::parse("sip:bob@192.0.2.7:5060").unwrap(),
            peer(),
        )
    }

    fn ok_from_bob() -> Response {
        resp(
            "SIP/2.0 200 OK
Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKx;rport
Record-Route: <sip:near.example;lr>
Record-Route: <sip:far.example;lr>
From: <sip:sb@203.0.113.1>;tag=ours
To: <sip:bob@192.0.2.7:5060>;tag=theirs
Call-ID: c2@switchboard
CSeq: 1 INVITE
Contact: <sip:bob@10.0.0.9:5070>
Content-Length: 0

",
        )
    }

    #[test]
    fn uas_dialog_from_invite() {
        let d = Dialog::uas(&req(INVITE), "tagus", peer());
        assert_eq!(d.call_id, "c1@phone");
        assert_eq!(d.remote_tag.as_deref(), Some("from1"));
        assert_eq!(d.remote_uri.tag(), None);
        assert_eq!(d.remote_target.to_string(), "sip:alice@198.51.100.3:5062");
        // Route set in Record-Route order for the UAS.
        assert_eq!(d.route_set, ["<sip:p2.example;lr>", "<sip:p1.example;lr>"]);
        assert_eq!(d.remote_cseq, Some(7));
        let mut d = d;
        let bye = d.request(
            "BYE",
            "203.0.113.1:5060",
            "<sip:sb@203.0.113.1>",
            "z9hG4bKb1",
        );
        assert_eq!(bye.uri.to_string(), "sip:alice@198.51.100.3:5062");
        assert_eq!(
            bye.headers_all("Route"),
            ["<sip:p2.example;lr>", "<sip:p1.example;lr>"]
        );
        assert_eq!(bye.header("CSeq"), Some("2 BYE"));
        assert!(bye.header("From").unwrap().contains("tag=tagus"));
        assert!(bye.header("To").unwrap().contains("tag=from1"));
        assert_eq!(
            bye.header("Via"),
            Some("SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKb1;rport")
        );
    }

    #[test]
    fn uac_dialog_route_set_reversed_and_cseq() {
        let mut d = uac();
        let inv = d.request(
            "INVITE",
            "203.0.113.1:5060",
            "<sip:sb@203.0.113.1>",
            "z9hG4bK1",
        );
        assert_eq!(inv.header("CSeq"), Some("1 INVITE"));
        assert_eq!(inv.uri.to_string(), "sip:bob@192.0.2.7:5060");
        assert!(!inv.header("To").unwrap().contains("tag="));
        assert!(d.confirm(&ok_from_bob()));
        assert_eq!(d.remote_tag.as_deref(), Some("theirs"));
        assert_eq!(d.remote_target.to_string(), "sip:bob@10.0.0.9:5070");
        // Route set from Record-Route reversed for the UAC.
        assert_eq!(
            d.route_set,
            ["<sip:far.example;lr>", "<sip:near.example;lr>"]
        );
        let info = d.request("INFO", "h", "", "z9hG4bK2");
        let bye = d.request("BYE", "h", "", "z9hG4bK3");
        assert_eq!(info.header("CSeq"), Some("2 INFO"));
        assert_eq!(bye.header("CSeq"), Some("3 BYE"));
        assert_eq!(bye.header("Contact"), None);
        assert!(bye.header("To").unwrap().contains("tag=theirs"));
        assert_eq!(bye.uri.to_string(), "sip:bob@10.0.0.9:5070");
    }

    #[test]
    fn confirm_ignores_1xx_without_tag_and_errors() {
        let mut d = uac();
        let mut trying = ok_from_bob();
        trying.status = 100;
        assert!(!d.confirm(&trying));
        let mut ringing = ok_from_bob();
        ringing.status = 180;
        ringing.headers.set("To", "<sip:bob@192.0.2.7:5060>");
        assert!(!d.confirm(&ringing));
        let mut busy = ok_from_bob();
        busy.status = 486;
        assert!(!d.confirm(&busy));
        assert_eq!(d.remote_tag, None);
        assert!(d.route_set.is_empty());
        ringing
            .headers
            .set("To", "<sip:bob@192.0.2.7:5060>;tag=early");
        assert!(d.confirm(&ringing));
        assert_eq!(d.remote_tag.as_deref(), Some("early"));
    }

    #[test]
    fn ack_keeps_the_invite_cseq() {
        let mut d = uac();
        d.request("INVITE", "h", "<sip:sb@h>", "z9hG4bK1");
        d.confirm(&ok_from_bob());
        let ack = d.ack(1, "h", "<sip:sb@h>", "z9hG4bKack");
        assert_eq!(ack.method, "ACK");
        assert_eq!(ack.header("CSeq"), Some("1 ACK"));
        assert!(ack.header("Via").unwrap().contains("branch=z9hG4bKack"));
        assert_eq!(ack.headers_all("Route").len(), 2);
        assert_eq!(d.local_cseq, 1);
        let bye = d.request("BYE", "h", "", "z9hG4bK2");
        assert_eq!(bye.header("CSeq"), Some("2 BYE"));
    }

    #[test]
    fn auth_retry_new_branch_next_cseq_and_credentials() {
        let mut d = uac();
        let mut inv = d.request("INVITE", "203.0.113.1:5060", "<sip:sb@h>", "z9hG4bKfirst");
        inv.body = b"v=0\r\n".to_vec();
        let mut challenge = resp(
            "SIP/2.0 407 Proxy Authentication Required
Via: SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKfirst;rport
From: <sip:sb@203.0.113.1>;tag=ours
To: <sip:bob@192.0.2.7:5060>;tag=t407
Call-ID: c2@switchboard
CSeq: 1 INVITE
Proxy-Authenticate: Digest realm=\"trunk\", nonce=\"abc\", algorithm=MD5, qop=\"auth\"
Content-Length: 0

",
        );
        let retry = d
            .auth_retry(&inv, &challenge, "acct", "secret", "z9hG4bKsecond")
            .unwrap();
        assert_eq!(
            retry.header("Via"),
            Some("SIP/2.0/UDP 203.0.113.1:5060;branch=z9hG4bKsecond;rport")
        );
        assert_eq!(retry.header("CSeq"), Some("2 INVITE"));
        assert_eq!(d.local_cseq, 2);
        let auth = retry.header("Proxy-Authorization").unwrap();
        assert!(auth.contains("username=\"acct\""));
        assert!(auth.contains("realm=\"trunk\""));
        assert!(auth.contains("uri=\"sip:bob@192.0.2.7:5060\""));
        assert_eq!(retry.header("Authorization"), None);
        // Everything else is the original's.
        assert_eq!(retry.header("Call-ID"), inv.header("Call-ID"));
        assert_eq!(retry.header("From"), inv.header("From"));
        assert_eq!(retry.header("To"), inv.header("To"));
        assert_eq!(retry.uri, inv.uri);
        assert_eq!(retry.body, inv.body);
        // A 401 answers with Authorization.
        challenge.status = 401;
        challenge.headers.0.iter_mut().for_each(|(k, _)| {
            if k == "Proxy-Authenticate" {
                *k = "WWW-Authenticate".into();
            }
        });
        let again = d
            .auth_retry(&retry, &challenge, "acct", "secret", "z9hG4bKthird")
            .unwrap();
        assert_eq!(again.header("CSeq"), Some("3 INVITE"));
        assert!(again.header("Authorization").is_some());
        // Not a challenge: nothing to retry.
        challenge.status = 403;
        assert!(d
            .auth_retry(&inv, &challenge, "a", "b", "z9hG4bK4")
            .is_none());
        assert_eq!(d.local_cseq, 3);
    }

    #[test]
    fn via_branch_replacement_keeps_other_fields() {
        assert_eq!(
            via_with_branch(
                "SIP/2.0/TCP [2001:db8::1]:5061;rport;branch=z9hG4bKold;x=1",
                "z9hG4bKnew"
            )
            .as_deref(),
            Some("SIP/2.0/TCP [2001:db8::1]:5061;rport;branch=z9hG4bKnew;x=1")
        );
        assert_eq!(
            via_with_branch("SIP/2.0/UDP h", "z9hG4bKn").as_deref(),
            Some("SIP/2.0/UDP h;branch=z9hG4bKn")
        );
    }

    #[test]
    fn target_refresh_on_reinvite_and_update_only() {
        let mut d = Dialog::uas(&req(INVITE), "tagus", peer());
        let mut reinvite = req(INVITE);
        reinvite
            .headers
            .set("Contact", "<sip:alice@198.51.100.3:6000>");
        let mut info = reinvite.clone();
        info.method = "INFO".into();
        assert!(!d.refresh_target(&info));
        assert_eq!(d.remote_target.to_string(), "sip:alice@198.51.100.3:5062");
        assert!(d.refresh_target(&reinvite));
        assert_eq!(d.remote_target.to_string(), "sip:alice@198.51.100.3:6000");
        assert!(!d.refresh_target(&reinvite));
        // A 2xx to our re-INVITE refreshes too; a 2xx to a BYE does not.
        let mut ok = ok_from_bob();
        ok.headers.set("Contact", "<sip:alice@198.51.100.4>");
        ok.headers.set("CSeq", "3 BYE");
        assert!(!d.refresh_target(&ok));
        ok.headers.set("CSeq", "3 INVITE");
        assert!(d.refresh_target(&ok));
        assert_eq!(d.remote_target.to_string(), "sip:alice@198.51.100.4");
    }

    #[test]
    fn remote_cseq_must_not_go_backwards() {
        let mut d = Dialog::uas(&req(INVITE), "tagus", peer());
        let mut r = req(INVITE);
        r.method = "ACK".into();
        r.headers.set("CSeq", "7 ACK");
        assert!(d.check_remote_cseq(&r));
        r.method = "BYE".into();
        r.headers.set("CSeq", "9 BYE");
        assert!(d.check_remote_cseq(&r));
        assert_eq!(d.remote_cseq, Some(9));
        r.method = "INFO".into();
        r.headers.set("CSeq", "8 INFO");
        assert!(!d.check_remote_cseq(&r));
        assert_eq!(d.remote_cseq, Some(9));
        // A UAC dialog learns the peer's first number.
        let mut u = uac();
        r.headers.set("CSeq", "3 INFO");
        assert!(u.check_remote_cseq(&r));
        assert_eq!(u.remote_cseq, Some(3));
    }
}
