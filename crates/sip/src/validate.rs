//! Semantic checks a UAS applies after parsing (RFC 3261 §8.2, §16.3):
//! each failure maps to the status code the RFC (and RFC 4475) expects.

use crate::{CSeq, NameAddr, Request, Via};

/// Why a parsed request is refused, with the SIP status to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Status code (400, 416, 420, 483, 505...).
    pub status: u16,
    /// Human-readable reason (used as the reason phrase / Warning text).
    pub reason: String,
}

impl Rejection {
    fn new(status: u16, reason: impl Into<String>) -> Rejection {
        Rejection {
            status,
            reason: reason.into(),
        }
    }
}

/// SIP extensions this server implements (for `Require` checks and `Supported`).
pub const SUPPORTED_EXTENSIONS: &[&str] = &["replaces", "norefersub", "timer", "100rel"];

/// Check a request before acting on it.
pub fn validate_request(req: &Request) -> Result<(), Rejection> {
    if req.version != "SIP/2.0" {
        return Err(Rejection::new(505, "Version Not Supported"));
    }
    for name in ["To", "From", "Call-ID", "CSeq", "Via"] {
        if req.header(name).is_none() {
            return Err(Rejection::new(400, format!("Missing {name} header")));
        }
    }
    for name in [
        "To",
        "From",
        "Call-ID",
        "CSeq",
        "Max-Forwards",
        "Content-Length",
        "Content-Type",
    ] {
        if req
            .headers
            .0
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .count()
            > 1
        {
            return Err(Rejection::new(400, format!("Multiple {name} headers")));
        }
    }
    let cseq = CSeq::parse(req.header("CSeq").unwrap_or_default())
        .map_err(|e| Rejection::new(400, format!("Bad CSeq: {e}")))?;
    if cseq.method != req.method {
        return Err(Rejection::new(
            400,
            "CSeq method does not match request method",
        ));
    }
    for name in ["To", "From"] {
        NameAddr::parse(req.header(name).unwrap_or_default())
            .map_err(|e| Rejection::new(400, format!("Bad {name} header: {e}")))?;
    }
    for c in req.headers_all("Contact") {
        if c != "*" {
            NameAddr::parse(c)
                .map_err(|e| Rejection::new(400, format!("Bad Contact header: {e}")))?;
        }
    }
    if req.method == "REGISTER" {
        // The To of a REGISTER is the address-of-record (RFC 4475 §3.3.4).
        let to = NameAddr::parse(req.header("To").unwrap_or_default())
            .map_err(|e| Rejection::new(400, format!("Bad To header: {e}")))?;
        if !to.uri.is_sip() {
            return Err(Rejection::new(400, "REGISTER To must be a SIP or SIPS URI"));
        }
    }
    for v in req.headers_all("Via") {
        let via = Via::parse(v).map_err(|e| Rejection::new(400, format!("Bad Via header: {e}")))?;
        if via.transport == "UDP" || via.transport == "TCP" {
            if let Some(b) = via.branch() {
                if b.is_empty() {
                    return Err(Rejection::new(400, "Empty Via branch"));
                }
            }
        }
    }
    if let Some(mf) = req.header("Max-Forwards") {
        let n: u32 = mf
            .trim()
            .parse()
            .map_err(|_| Rejection::new(400, "Bad Max-Forwards"))?;
        if n > 255 {
            return Err(Rejection::new(400, "Max-Forwards out of range"));
        }
        if n == 0 && req.method != "OPTIONS" && req.method != "REGISTER" {
            return Err(Rejection::new(483, "Too Many Hops"));
        }
    }
    if let Some(exp) = req.header("Expires") {
        exp.trim()
            .parse::<u32>()
            .map_err(|_| Rejection::new(400, "Bad Expires"))?;
    }
    if let Some(cl) = req.header("Content-Length") {
        let n: usize = cl
            .trim()
            .parse()
            .map_err(|_| Rejection::new(400, "Bad Content-Length"))?;
        if n != req.body.len() {
            return Err(Rejection::new(400, "Content-Length mismatch"));
        }
    }
    if req.uri.headers.is_some() {
        // RFC 3261 §19.1.1: headers are not allowed in a Request-URI (RFC 4475 §3.1.2.11).
        return Err(Rejection::new(400, "Request-URI must not contain headers"));
    }
    if !req.uri.is_sip() && req.uri.scheme != "tel" {
        return Err(Rejection::new(416, "Unsupported URI Scheme"));
    }
    if req.method != "ACK" && req.method != "CANCEL" {
        let unknown: Vec<&str> = req
            .headers_all("Require")
            .into_iter()
            .filter(|o| {
                !SUPPORTED_EXTENSIONS
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(o))
            })
            .collect();
        if !unknown.is_empty() {
            return Err(Rejection::new(
                420,
                format!("Bad Extension: {}", unknown.join(", ")),
            ));
        }
    }
    if req.method == "INVITE" && !req.body.is_empty() {
        // Content processing (RFC 3261 §8.2.3, RFC 4475 §3.3.6): we only
        // understand SDP, possibly inside a multipart body.
        let ct = req
            .header("Content-Type")
            .ok_or_else(|| Rejection::new(400, "Body without Content-Type"))?;
        let mime = ct
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if mime != "application/sdp" && !mime.starts_with("multipart/") {
            return Err(Rejection::new(415, "Unsupported Media Type"));
        }
    }
    Ok(())
}
