//! Incoming SIP requests and responses: dispatch to registration
//! ([`crate::register`]), new INVITEs ([`crate::invite_in`]), in-dialog
//! requests ([`crate::in_dialog`]) and the responses to our own requests
//! ([`crate::uac`]).

use switchboard_sip::builder::{new_tag, response_to};
use switchboard_sip::{NameAddr, Peer, Request, Response, TxKey};

use super::{Purpose, Switch};

/// Methods we answer (the `Allow` header).
pub const ALLOW: &str =
    "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, INFO, UPDATE, NOTIFY, REFER, PRACK";

impl Switch {
    pub(super) fn respond(
        &mut self,
        req: &Request,
        peer: Peer,
        status: u16,
        reason: &str,
        tag: Option<&str>,
    ) {
        let resp = response_to(req, status, reason, tag);
        self.tl.respond(resp, peer, self.now);
    }

    pub(super) fn on_request(&mut self, req: Request, from: Peer) {
        let to_tag = req
            .header("To")
            .and_then(|t| NameAddr::parse(t).ok())
            .and_then(|n| n.tag().map(str::to_string));
        if let Some(tag) = to_tag {
            return self.in_dialog(req, from, tag);
        }
        match req.method.as_str() {
            "ACK" => {}
            "CANCEL" => self.on_cancel(req, from),
            "REGISTER" => self.on_register(req, from),
            "OPTIONS" => {
                let mut r = response_to(&req, 200, "OK", Some(&new_tag()));
                r.headers.push("Allow", ALLOW);
                r.headers.push("Accept", "application/sdp");
                r.headers.push("Supported", "replaces, timer, 100rel");
                self.tl.respond(r, from, self.now);
            }
            "INVITE" => self.on_invite(req, from),
            "BYE" | "INFO" | "UPDATE" | "NOTIFY" | "REFER" | "PRACK" => {
                self.respond(&req, from, 481, "Call/Transaction Does Not Exist", None)
            }
            "SUBSCRIBE" | "PUBLISH" | "MESSAGE" => {
                let mut r = response_to(&req, 405, "Method Not Allowed", Some(&new_tag()));
                r.headers.push("Allow", ALLOW);
                self.tl.respond(r, from, self.now);
            }
            _ => {
                let mut r = response_to(&req, 501, "Not Implemented", Some(&new_tag()));
                r.headers.push("Allow", ALLOW);
                self.tl.respond(r, from, self.now);
            }
        }
    }

    /// Best effort 400 for a request we could not parse but whose headers are readable.
    pub(super) fn bad_request(&mut self, peer: Peer, data: &[u8], why: &str) {
        let text = String::from_utf8_lossy(data);
        let Some(first) = text.lines().next() else {
            return;
        };
        if first.starts_with("SIP/") || first.split(' ').count() != 3 {
            return;
        }
        let mut lines = vec![format!(
            "SIP/2.0 400 Bad Request - {}",
            why.chars()
                .filter(|c| !c.is_control())
                .take(80)
                .collect::<String>()
        )];
        for l in text.lines().skip(1) {
            if l.is_empty() {
                break;
            }
            // Only a well-formed header line (a token name, a colon, no
            // control characters) is copied into the answer.
            let Some((name, _)) = l.split_once(':') else {
                continue;
            };
            if l.chars().any(|c| c.is_control() && c != '\t') {
                continue;
            }
            let name = name.trim_end().to_ascii_lowercase();
            if ["via", "v", "from", "f", "to", "t", "call-id", "i", "cseq"].contains(&name.as_str())
            {
                lines.push(l.to_string());
            }
        }
        if !lines.iter().any(|l| {
            l.to_ascii_lowercase().starts_with("via") || l.to_ascii_lowercase().starts_with("v:")
        }) {
            return;
        }
        lines.push("Content-Length: 0".into());
        let resp = format!("{}\r\n\r\n", lines.join("\r\n"));
        self.sink.send(peer, resp.into_bytes());
    }

    pub(super) fn on_response(&mut self, resp: Response, key: TxKey) {
        if self.trunk_tx.contains_key(&key) {
            self.on_trunk_response(&key, resp);
            return;
        }
        let Some(&(leg_id, purpose)) = self.client_tx.get(&key) else {
            // A 2xx retransmission for a dialog we already ACKed: ACK again.
            if (200..300).contains(&resp.status) {
                self.reack(&resp, &key);
            }
            return;
        };
        match purpose {
            Purpose::Invite => self.on_invite_response(resp, key, leg_id),
            Purpose::Refresh => self.on_refresh_response(resp, key, leg_id),
            Purpose::InDialog | Purpose::Cancel => {
                if resp.status >= 200 {
                    self.client_tx.remove(&key);
                }
            }
        }
    }
}

/// Media codec for a payload type.
pub(super) fn codec(pt: u8) -> crate::Codec {
    crate::Codec::from_payload_type(pt).unwrap_or(crate::Codec::Pcmu)
}
