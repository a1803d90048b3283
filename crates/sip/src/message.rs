//! SIP message model, parser and serializer (RFC 3261 §7, §20, §25).
//!
//! We write our own rather than use a crate: the maintained Rust SIP stacks
//! (rsipstack) are tokio-bound and change API often, and rsip is unmaintained;
//! a B2BUA needs a small, panic-free parser that keeps header order and raw
//! values (for Via, Record-Route, Authorization) and is tested against the
//! RFC 4475 torture messages.

use std::fmt::Write as _;

use crate::{ParseError, Uri};

/// Full header names for the compact forms of RFC 3261 §7.3.3 (+ RFC 3515 `r`, RFC 4028 `x`).
const COMPACT: &[(&str, &str)] = &[
    ("i", "Call-ID"),
    ("m", "Contact"),
    ("e", "Content-Encoding"),
    ("l", "Content-Length"),
    ("c", "Content-Type"),
    ("f", "From"),
    ("s", "Subject"),
    ("k", "Supported"),
    ("t", "To"),
    ("v", "Via"),
    ("r", "Refer-To"),
    ("b", "Referred-By"),
    ("o", "Event"),
    ("u", "Allow-Events"),
    ("x", "Session-Expires"),
];

/// Headers whose values are comma-separated lists (split by [`Headers::get_all`]).
const LIST_HEADERS: &[&str] = &[
    "via",
    "contact",
    "route",
    "record-route",
    "allow",
    "supported",
    "require",
    "proxy-require",
    "unsupported",
    "accept",
    "accept-encoding",
    "accept-language",
    "allow-events",
    "content-encoding",
    "in-reply-to",
];

/// Maximum size of a message we accept (UDP datagrams are limited to 64 KiB anyway).
pub const MAX_MESSAGE: usize = 65_535;

/// Ordered header list; names keep their full (non-compact) spelling.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<(String, String)>);

impl Headers {
    /// First value of a header (case-insensitive name, compact forms accepted).
    pub fn get(&self, name: &str) -> Option<&str> {
        let name = expand_compact(name);
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All values of a header; list headers are split on top-level commas.
    pub fn get_all(&self, name: &str) -> Vec<&str> {
        let name = expand_compact(name);
        let split = LIST_HEADERS.contains(&name.to_ascii_lowercase().as_str());
        let mut out = Vec::new();
        for (k, v) in &self.0 {
            if k.eq_ignore_ascii_case(name) {
                if split {
                    out.extend(split_list(v));
                } else {
                    out.push(v.as_str());
                }
            }
        }
        out
    }

    /// Append a header.
    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.0.push((name.to_string(), value.into()));
    }

    /// Replace every occurrence of a header by one value (or add it).
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.remove(name);
        self.push(name, value);
    }

    /// Insert a header before all others of that name (e.g. our own Via).
    pub fn prepend(&mut self, name: &str, value: impl Into<String>) {
        let pos = self
            .0
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case(name))
            .unwrap_or(0);
        self.0.insert(pos, (name.to_string(), value.into()));
    }

    /// Remove every occurrence of a header.
    pub fn remove(&mut self, name: &str) {
        let name = expand_compact(name);
        self.0.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    }
}

fn expand_compact(name: &str) -> &str {
    if name.len() == 1 {
        for (c, full) in COMPACT {
            if c.eq_ignore_ascii_case(name) {
                return full;
            }
        }
    }
    name
}

/// Split a header value on commas that are outside quotes and `<>`.
pub fn split_list(v: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut in_quote, mut in_angle, mut escape) = (false, false, false);
    let mut start = 0;
    for (i, c) in v.char_indices() {
        if escape {
            escape = false;
            continue;
        }
        match c {
            '\\' if in_quote => escape = true,
            '"' => in_quote = !in_quote,
            '<' if !in_quote => in_angle = true,
            '>' if !in_quote => in_angle = false,
            ',' if !in_quote && !in_angle => {
                let part = v[start..i].trim();
                if !part.is_empty() {
                    out.push(part);
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    let part = v[start..].trim();
    if !part.is_empty() {
        out.push(part);
    }
    out
}

/// A SIP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Method token, case preserved (methods are case-sensitive).
    pub method: String,
    /// Request-URI.
    pub uri: Uri,
    /// Protocol version string, normally `SIP/2.0`.
    pub version: String,
    /// Headers in order.
    pub headers: Headers,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// A SIP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Protocol version string.
    pub version: String,
    /// Status code 100..=699.
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// Headers in order.
    pub headers: Headers,
    /// Body bytes.
    pub body: Vec<u8>,
}

/// Either kind of SIP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}

impl Request {
    /// Method as a string slice.
    pub fn method(&self) -> &str {
        &self.method
    }
    /// First value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }
    /// All values of a header (lists split).
    pub fn headers_all(&self, name: &str) -> Vec<&str> {
        self.headers.get_all(name)
    }
    /// Serialize with a correct Content-Length.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = format!("{} {} {}\r\n", self.method, self.uri, self.version);
        write_headers(&mut s, &self.headers, self.body.len());
        let mut out = s.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

impl Response {
    /// First value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }
    /// All values of a header (lists split).
    pub fn headers_all(&self, name: &str) -> Vec<&str> {
        self.headers.get_all(name)
    }
    /// Serialize with a correct Content-Length.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = format!("{} {} {}\r\n", self.version, self.status, self.reason);
        write_headers(&mut s, &self.headers, self.body.len());
        let mut out = s.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

impl Message {
    /// Headers of either kind.
    pub fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => &r.headers,
            Message::Response(r) => &r.headers,
        }
    }
    /// Serialize.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Message::Request(r) => r.to_bytes(),
            Message::Response(r) => r.to_bytes(),
        }
    }
}

fn write_headers(s: &mut String, h: &Headers, body_len: usize) {
    for (k, v) in &h.0 {
        if k.eq_ignore_ascii_case("Content-Length") {
            continue;
        }
        let _ = write!(s, "{k}: {v}\r\n");
    }
    let _ = write!(s, "Content-Length: {body_len}\r\n\r\n");
}

fn is_token_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&c)
}

/// Find the end of the header block: returns (header bytes end, body start).
fn find_header_end(buf: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while i < buf.len() {
        if buf[i] == b'\n' {
            // blank line: "\n\n" or "\n\r\n"
            if buf.get(i + 1) == Some(&b'\n') {
                return Some((i + 1, i + 2));
            }
            if buf.get(i + 1) == Some(&b'\r') && buf.get(i + 2) == Some(&b'\n') {
                return Some((i + 1, i + 3));
            }
        }
        i += 1;
    }
    None
}

/// Length of a complete message at the start of a stream buffer (for TCP
/// framing, RFC 3261 §18.3): `Ok(None)` when more bytes are needed.
pub fn stream_frame_len(buf: &[u8]) -> Result<Option<usize>, ParseError> {
    // Skip keep-alive CRLFs (RFC 5626).
    let lead = buf
        .iter()
        .take_while(|b| **b == b'\r' || **b == b'\n')
        .count();
    let rest = &buf[lead..];
    let Some((hend, bstart)) = find_header_end(rest) else {
        if rest.len() > MAX_MESSAGE {
            return Err(ParseError::new("header block too large"));
        }
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&rest[..hend]);
    let mut len = None;
    for line in head.split('\n') {
        if let Some((k, v)) = line.split_once(':') {
            let k = k.trim();
            if k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("l") {
                len = Some(
                    v.trim()
                        .parse::<usize>()
                        .map_err(|_| ParseError::new("invalid Content-Length"))?,
                );
            }
        }
    }
    let len = len.ok_or_else(|| ParseError::new("Content-Length is required on streams"))?;
    if len > MAX_MESSAGE {
        return Err(ParseError::new("body too large"));
    }
    let total = lead + bstart + len;
    Ok(if buf.len() >= total {
        Some(total)
    } else {
        None
    })
}

/// Parse one SIP message from a datagram or a framed stream chunk.
///
/// Never panics; returns a [`ParseError`] saying what is wrong. A body longer
/// than Content-Length is truncated (RFC 3261 §18.3); a shorter one is an error.
pub fn parse_message(buf: &[u8]) -> Result<Message, ParseError> {
    if buf.len() > MAX_MESSAGE {
        return Err(ParseError::new("message too large"));
    }
    // Tolerate leading CRLFs (keep-alives / stray line ends).
    let lead = buf
        .iter()
        .take_while(|b| **b == b'\r' || **b == b'\n')
        .count();
    let buf = &buf[lead..];
    let (hend, bstart) =
        find_header_end(buf).ok_or_else(|| ParseError::new("no blank line after headers"))?;
    let head = std::str::from_utf8(&buf[..hend])
        .map_err(|_| ParseError::new("header block is not valid UTF-8"))?;
    let mut lines = unfold_lines(head)?.into_iter();
    let start = lines
        .next()
        .ok_or_else(|| ParseError::new("empty message"))?;
    let mut headers = Headers::default();
    for line in lines {
        let colon = line
            .find(':')
            .ok_or_else(|| ParseError::new(format!("header line without colon: {line:?}")))?;
        let name = line[..colon].trim_end_matches([' ', '\t']);
        if name.is_empty() || !name.bytes().all(is_token_char) {
            return Err(ParseError::new(format!("invalid header name {name:?}")));
        }
        let value = line[colon + 1..].trim_matches([' ', '\t']);
        headers.push(expand_compact(name), value);
    }
    let rest = &buf[bstart..];
    let body = match headers.get("Content-Length") {
        Some(cl) => {
            let n: usize = cl
                .trim()
                .parse()
                .map_err(|_| ParseError::new(format!("invalid Content-Length {cl:?}")))?;
            if n > rest.len() {
                return Err(ParseError::new(format!(
                    "Content-Length {n} exceeds the {} body bytes received",
                    rest.len()
                )));
            }
            rest[..n].to_vec()
        }
        None => rest.to_vec(),
    };
    if start.starts_with("SIP/") {
        parse_status_line(&start, headers, body).map(Message::Response)
    } else {
        parse_request_line(&start, headers, body).map(Message::Request)
    }
}

/// Split the header block into logical lines, joining folded continuations.
fn unfold_lines(head: &str) -> Result<Vec<String>, ParseError> {
    let mut out: Vec<String> = Vec::new();
    for raw in head.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if out.len() <= 1 {
                return Err(ParseError::new("continuation line before any header"));
            }
            let last = out.last_mut().expect("checked non-empty");
            last.push(' ');
            last.push_str(line.trim_start_matches([' ', '\t']));
        } else {
            out.push(line.to_string());
        }
    }
    Ok(out)
}

fn parse_request_line(line: &str, headers: Headers, body: Vec<u8>) -> Result<Request, ParseError> {
    let mut parts = line.split(' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::new(format!(
            "request line must be 'METHOD SP URI SP VERSION': {line:?}"
        )));
    };
    if method.is_empty() || !method.bytes().all(is_token_char) {
        return Err(ParseError::new(format!("invalid method {method:?}")));
    }
    let uri = Uri::parse(uri)?;
    if !version.starts_with("SIP/") || version.len() < 7 {
        return Err(ParseError::new(format!("invalid version {version:?}")));
    }
    Ok(Request {
        method: method.to_string(),
        uri,
        version: version.to_string(),
        headers,
        body,
    })
}

fn parse_status_line(line: &str, headers: Headers, body: Vec<u8>) -> Result<Response, ParseError> {
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    let reason = parts.next().unwrap_or_default();
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError::new(format!("invalid status code {code:?}")));
    }
    let status: u16 = code.parse().map_err(|_| ParseError::new("bad status"))?;
    if !(100..=699).contains(&status) {
        return Err(ParseError::new(format!(
            "status code {status} out of range"
        )));
    }
    Ok(Response {
        version: version.to_string(),
        status,
        reason: reason.to_string(),
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = "INVITE sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds, SIP/2.0/UDP p2;branch=z9hG4bKx\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@example.com>\r\n\
f: \"Alice, A\" <sip:alice@example.com>;tag=1928301774\r\n\
i: a84b4c76e66710\r\n\
CSeq: 314159 INVITE\r\n\
Subject: folded\r\n  value\r\n\
l: 4\r\n\r\nv=0\r\n";

    #[test]
    fn parses_and_reserializes() {
        let Message::Request(r) = parse_message(INVITE.as_bytes()).unwrap() else {
            panic!("not a request")
        };
        assert_eq!(r.method, "INVITE");
        assert_eq!(r.header("call-id"), Some("a84b4c76e66710"));
        assert_eq!(r.headers_all("v").len(), 2);
        assert_eq!(r.header("Subject"), Some("folded value"));
        assert_eq!(
            r.header("From"),
            Some("\"Alice, A\" <sip:alice@example.com>;tag=1928301774")
        );
        assert_eq!(r.body, b"v=0\r");
        let again = parse_message(&r.to_bytes()).unwrap();
        assert_eq!(again, Message::Request(r));
    }

    #[test]
    fn stream_framing() {
        let b = INVITE.as_bytes();
        assert_eq!(stream_frame_len(&b[..20]).unwrap(), None);
        assert_eq!(stream_frame_len(b).unwrap(), Some(b.len() - 1));
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        for bad in [
            &b""[..],
            b"\r\n\r\n",
            b"hello world\r\n\r\n",
            b"INVITE sip:a@b\r\n\r\n",
            b"SIP/2.0 99 x\r\n\r\n",
        ] {
            assert!(parse_message(bad).is_err());
        }
        let mut x: u32 = 1;
        for _ in 0..2000 {
            let mut b = INVITE.as_bytes().to_vec();
            for _ in 0..4 {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let i = (x as usize >> 8) % b.len();
                b[i] = (x >> 3) as u8;
            }
            let cut = (x as usize >> 4) % b.len();
            let _ = parse_message(&b);
            let _ = parse_message(&b[..cut]);
        }
    }
}
