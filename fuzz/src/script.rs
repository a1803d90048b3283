//! The input format of the stateful targets ([`crate::transaction`] and
//! [`crate::switch`]): a text script of steps, and the sipp-style template
//! expansion that turns the project's sipp scenarios into messages.
//!
//! A script is a sequence of steps separated by `%%%`. A step's first line
//! is a command with numeric arguments (`sip 0`, `wait 2000`,
//! `answer 1 200`); the lines after it are the step's payload, a SIP message
//! template for `sip`. A text format (rather than `arbitrary`) keeps the
//! seeds readable and lets libFuzzer's mutations land inside the messages;
//! unknown commands are skipped.
//!
//! Templates use sipp's keywords (`[call_id]`, `[branch]`, `[last_Via:]`,
//! `[authentication]`...) so the `<send>` blocks of `tests/scenarios/*.xml`
//! work as they are: each peer remembers the last request it received, the
//! last response and the last digest challenge, which fill
//! `[last_*]`, `[peer_tag_param]`, `[next_url]`, `[routes]` and
//! `[authentication]`.

use std::net::SocketAddr;

use switchboard_sip::{digest, parse_message, Message, NameAddr, Request, Response};

/// One step of a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step<'a> {
    /// Command word (`sip`, `raw`, `wait`...).
    pub cmd: &'a str,
    /// Numeric arguments after the command (missing or unparsable ones are 0).
    pub args: [u64; 3],
    /// The rest of the step after its first line.
    pub payload: &'a [u8],
}

impl Step<'_> {
    /// Argument `i`, as a small index modulo `n` (`n` > 0).
    pub fn idx(&self, i: usize, n: usize) -> usize {
        (self.args[i] % n as u64) as usize
    }
}

/// Split a script into its steps.
pub fn steps(data: &[u8]) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    let mut rest = data;
    loop {
        let (chunk, next) = match find(rest, b"%%%") {
            Some(i) => (&rest[..i], Some(&rest[i + 3..])),
            None => (rest, None),
        };
        let (line, payload) = match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => (&chunk[..i], &chunk[i + 1..]),
            None => (chunk, &b""[..]),
        };
        if let Ok(line) = std::str::from_utf8(line) {
            let mut words = line.split_whitespace();
            if let Some(cmd) = words.next() {
                let mut args = [0u64; 3];
                for (a, w) in args.iter_mut().zip(words) {
                    *a = w.parse().unwrap_or(0);
                }
                out.push(Step { cmd, args, payload });
            }
        }
        match next {
            Some(n) => rest = n,
            None => return out,
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A SIP endpoint of a script and what it remembers of the messages it got.
#[derive(Debug, Clone)]
pub struct PeerState {
    /// Its address.
    pub addr: SocketAddr,
    /// Digest username (and sipp's `[field0]`).
    pub user: &'static str,
    /// Digest password.
    pub password: &'static str,
    /// Last request received (for `[last_*]` and answers).
    pub last_request: Option<Request>,
    /// Last response received (for `[peer_tag_param]`, `[next_url]`, `[routes]`).
    pub last_response: Option<Response>,
    /// Last 401/407 received (for `[authentication]`).
    pub last_challenge: Option<Response>,
    /// Messages sent so far (numbers branches and CSeqs).
    pub sent: u64,
}

impl PeerState {
    /// A peer with nothing received yet.
    pub fn new(addr: &str, user: &'static str, password: &'static str) -> PeerState {
        PeerState {
            addr: addr.parse().expect("static address"),
            user,
            password,
            last_request: None,
            last_response: None,
            last_challenge: None,
            sent: 0,
        }
    }

    /// Remember a message this peer received.
    pub fn receive(&mut self, bytes: &[u8]) {
        match parse_message(bytes) {
            Ok(Message::Request(r)) => {
                if r.method != "ACK" {
                    self.last_request = Some(r);
                }
            }
            Ok(Message::Response(r)) => {
                if r.status == 401 || r.status == 407 {
                    self.last_challenge = Some(r.clone());
                }
                self.last_response = Some(r);
            }
            Err(_) => {}
        }
    }
}

/// Where the peers send to (the server under test).
pub const SERVER: &str = "127.0.0.1:5060";

/// Expand a sipp template sent by `peer` into message bytes.
///
/// Lines lose their indentation and get CRLF ends; a header line that
/// expands to nothing is dropped; `[len]` is the body length.
pub fn expand(template: &[u8], peer: &mut PeerState, service: &str) -> Vec<u8> {
    peer.sent += 1;
    let text = String::from_utf8_lossy(template);
    let text = text.trim_start_matches(['\r', '\n', ' ', '\t']);
    let mut head: Vec<String> = Vec::new();
    let mut body: Vec<String> = Vec::new();
    let mut in_body = false;
    for raw in text.lines() {
        let line = raw.trim_start().trim_end_matches('\r');
        if !in_body && line.is_empty() {
            in_body = true;
            continue;
        }
        let mut out = substitute(line, peer, service);
        if out.contains("[authentication") {
            // Needs the request line's method and URI.
            let auth = authentication(head.first().map_or("", |h| h.as_str()), peer);
            out = replace_keyword(&out, "[authentication", &auth);
        }
        if in_body {
            body.push(out);
        } else if !out.trim().is_empty() {
            head.push(out);
        }
    }
    while body.last().is_some_and(|l| l.trim().is_empty()) {
        body.pop();
    }
    let body = if body.is_empty() {
        String::new()
    } else {
        body.join("\r\n") + "\r\n"
    };
    let head = head.join("\r\n").replace("[len]", &body.len().to_string());
    let mut msg = head.into_bytes();
    msg.extend_from_slice(b"\r\n\r\n");
    msg.extend_from_slice(body.as_bytes());
    msg
}

/// Replace `[keyword ...]` (with any parameters) by `value`.
fn replace_keyword(s: &str, start: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(start) {
        out.push_str(&rest[..i]);
        match rest[i..].find(']') {
            Some(j) => rest = &rest[i + j + 1..],
            None => rest = "",
        }
        out.push_str(value);
    }
    out.push_str(rest);
    out
}

/// The `Authorization` / `Proxy-Authorization` line answering the peer's
/// last challenge for the request whose head is `head` (empty if none).
fn authentication(head: &str, peer: &PeerState) -> String {
    let Some(ch) = &peer.last_challenge else {
        return String::new();
    };
    let mut first = head.lines().next().unwrap_or_default().split(' ');
    let (method, uri) = (
        first.next().unwrap_or_default(),
        first.next().unwrap_or_default(),
    );
    let (asked, reply) = if ch.status == 407 {
        ("Proxy-Authenticate", "Proxy-Authorization")
    } else {
        ("WWW-Authenticate", "Authorization")
    };
    ch.headers_all(asked)
        .into_iter()
        .find_map(|c| digest::answer_challenge(c, method, uri, peer.user, peer.password))
        .map(|a| format!("{reply}: {a}"))
        .unwrap_or_default()
}

fn substitute(line: &str, peer: &PeerState, service: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find('[') {
        out.push_str(&rest[..i]);
        let Some(j) = rest[i..].find(']') else {
            out.push_str(&rest[i..]);
            return out;
        };
        let key = &rest[i + 1..i + j];
        match keyword(key, peer, service) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[i..=i + j]),
        }
        rest = &rest[i + j + 1..];
    }
    out.push_str(rest);
    out
}

/// Value of one sipp keyword (`None`: left as it is).
fn keyword(key: &str, peer: &PeerState, service: &str) -> Option<String> {
    let ip = peer.addr.ip().to_string();
    let port = peer.addr.port().to_string();
    let v = match key {
        "service" => service.to_string(),
        "remote_ip" => "127.0.0.1".into(),
        "remote_port" => "5060".into(),
        "local_ip" | "media_ip" => ip,
        "local_port" => port,
        "transport" => "UDP".into(),
        "media_port" => "40000".into(),
        "local_ip_type" | "media_ip_type" => "4".into(),
        "pid" => "42".into(),
        "call_number" => "1".into(),
        "call_id" => format!("1-42@{}", peer.addr.ip()),
        // Unique per peer: the transaction layer keys on the branch alone.
        "branch" => format!(
            "z9hG4bK-fz{}-{}",
            peer.addr.ip().to_string().replace(['.', ':'], ""),
            peer.sent
        ),
        "cseq" => peer.sent.to_string(),
        "field0" => peer.user.to_string(),
        "field1" => "[authentication]".into(),
        "peer_tag_param" => peer
            .last_response
            .as_ref()
            .and_then(|r| r.header("To"))
            .and_then(|t| NameAddr::parse(t).ok())
            .and_then(|n| n.tag().map(|t| format!(";tag={t}")))
            .unwrap_or_default(),
        "next_url" => peer
            .last_response
            .as_ref()
            .and_then(|r| r.headers_all("Contact").first().map(|c| c.to_string()))
            .and_then(|c| NameAddr::parse(&c).ok())
            .map(|n| n.uri.to_string())
            .unwrap_or_else(|| format!("sip:{service}@127.0.0.1:5060")),
        "routes" => peer
            .last_response
            .as_ref()
            .map(|r| {
                let mut rr = r.headers_all("Record-Route");
                rr.reverse();
                if rr.is_empty() {
                    String::new()
                } else {
                    format!("Route: {}", rr.join(", "))
                }
            })
            .unwrap_or_default(),
        k if k.starts_with("last_") && k.ends_with(':') => {
            let name = &k[5..k.len() - 1];
            let Some(r) = &peer.last_request else {
                return Some(String::new());
            };
            r.headers
                .0
                .iter()
                .filter(|(h, _)| h.eq_ignore_ascii_case(name))
                .map(|(h, v)| format!("{h}: {v}"))
                .collect::<Vec<_>>()
                .join("\r\n")
        }
        _ => return None,
    };
    Some(v)
}

/// A response from `peer` to the last request it received: status `status`,
/// a To tag, a Contact and (for 183/2xx to INVITE) an SDP answer.
pub fn answer(peer: &PeerState, status: u16) -> Option<Vec<u8>> {
    let req = peer.last_request.as_ref()?;
    let reason = match status {
        100 => "Trying",
        180 => "Ringing",
        183 => "Session Progress",
        200..=299 => "OK",
        486 => "Busy Here",
        _ => "Fuzz",
    };
    let tag = format!("fz{}", peer.addr.ip());
    let mut resp = switchboard_sip::builder::response_to(req, status, reason, Some(&tag));
    if req.method == "INVITE" && status > 100 && status < 300 {
        resp.headers
            .push("Contact", format!("<sip:{}@{}>", peer.user, peer.addr));
        if status == 183 || status >= 200 {
            resp.headers.push("Content-Type", "application/sdp");
            resp.body = switchboard_sip::sdp::build(
                peer.addr.ip(),
                40_000,
                1,
                1,
                &[0, 8],
                Some(101),
                switchboard_sip::sdp::Direction::SendRecv,
            );
        }
    }
    Some(resp.to_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_steps() {
        let s = steps(b"wait 20\n%%%sip 1\nOPTIONS x\n%%% answer 2 200 9\n%%%\n");
        assert_eq!(s.len(), 3);
        assert_eq!((s[0].cmd, s[0].args[0]), ("wait", 20));
        assert_eq!((s[1].cmd, s[1].payload), ("sip", &b"OPTIONS x\n"[..]));
        assert_eq!(s[2].args, [2, 200, 9]);
    }

    #[test]
    fn expands_templates() {
        let mut p = PeerState::new("127.0.1.1:5060", "1001", "secret");
        let t = b"\n  INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n  Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n  [routes]\n  Content-Length: [len]\n\n  v=0\n";
        let m = String::from_utf8(expand(t, &mut p, "5000")).unwrap();
        assert_eq!(
            m,
            "INVITE sip:5000@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.1.1:5060;branch=z9hG4bK-fz127011-1\r\nContent-Length: 5\r\n\r\nv=0\r\n"
        );
        assert!(parse_message(m.as_bytes()).is_ok());
    }
}
