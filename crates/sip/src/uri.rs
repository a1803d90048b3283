//! SIP and tel URIs (RFC 3261 §19.1, RFC 3966): parsed into parts the
//! registrar and router need (user, host, port, parameters) and printed back.

use std::fmt;

use crate::ParseError;

/// A parsed URI. `sip`/`sips` URIs are fully decomposed; other schemes
/// (`tel`, `mailto`, unknown ones) keep their scheme and the raw rest so that
/// a request for them can be answered with 416 rather than mis-parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uri {
    /// Lower-cased scheme (`sip`, `sips`, `tel`, ...).
    pub scheme: String,
    /// User part, percent-decoded (`None` when absent).
    pub user: Option<String>,
    /// Host (IPv6 without brackets) for sip/sips; empty for other schemes.
    pub host: String,
    /// Explicit port, if any.
    pub port: Option<u16>,
    /// URI parameters (`;transport=tcp;lr`), names lower-cased, in order.
    pub params: Vec<(String, Option<String>)>,
    /// Header part after `?`, raw.
    pub headers: Option<String>,
    /// Everything after `scheme:` for non-SIP schemes.
    pub opaque: Option<String>,
}

impl Uri {
    /// Parse a URI (no surrounding `<>`).
    pub fn parse(s: &str) -> Result<Uri, ParseError> {
        let s = s.trim();
        let colon = s
            .find(':')
            .ok_or_else(|| ParseError::new(format!("URI without scheme: {s:?}")))?;
        let scheme = &s[..colon];
        if scheme.is_empty()
            || !scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            || !scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            return Err(ParseError::new(format!("invalid URI scheme in {s:?}")));
        }
        let scheme = scheme.to_ascii_lowercase();
        let rest = &s[colon + 1..];
        if rest.is_empty() || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ParseError::new(format!("invalid URI {s:?}")));
        }
        if scheme != "sip" && scheme != "sips" {
            return Ok(Uri {
                scheme,
                user: None,
                host: String::new(),
                port: None,
                params: Vec::new(),
                headers: None,
                opaque: Some(rest.to_string()),
            });
        }
        // The userinfo may itself contain ';' and '?' (RFC 3261 `user`
        // allows both, RFC 4475 §3.1.1.2), headers may not contain '@':
        // split the userinfo off at its '@' first, then the headers at '?'.
        let at = match rest.find('?') {
            Some(q) => rest[..q].rfind('@').or_else(|| rest.find('@')),
            None => rest.rfind('@'),
        };
        let (user, hostpart) = match at {
            Some(i) => (Some(&rest[..i]), &rest[i + 1..]),
            None => (None, rest),
        };
        let (hostpart, headers) = match hostpart.find('?') {
            Some(i) => (&hostpart[..i], Some(hostpart[i + 1..].to_string())),
            None => (hostpart, None),
        };
        let user = match user {
            Some(u) => {
                let u = u.split(':').next().unwrap_or_default();
                if u.is_empty() {
                    return Err(ParseError::new("empty user part in URI"));
                }
                Some(percent_decode(u)?)
            }
            None => None,
        };
        let mut parts = hostpart.split(';');
        let hostport = parts.next().unwrap_or_default();
        let (host, port) = split_hostport(hostport)?;
        let mut params = Vec::new();
        for p in parts {
            if p.is_empty() {
                continue;
            }
            match p.split_once('=') {
                Some((k, v)) => params.push((k.to_ascii_lowercase(), Some(v.to_string()))),
                None => params.push((p.to_ascii_lowercase(), None)),
            }
        }
        Ok(Uri {
            scheme,
            user,
            host,
            port,
            params,
            headers,
            opaque: None,
        })
    }

    /// Build a `sip:` URI.
    pub fn sip(user: Option<&str>, host: &str, port: Option<u16>) -> Uri {
        Uri {
            scheme: "sip".into(),
            user: user.map(str::to_string),
            host: host.to_string(),
            port,
            params: Vec::new(),
            headers: None,
            opaque: None,
        }
    }

    /// True for `sip:` and `sips:`.
    pub fn is_sip(&self) -> bool {
        self.opaque.is_none()
    }

    /// Value of a URI parameter (`Some(None)` for a flag like `lr`).
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    /// `host:port` with the scheme's default port filled in.
    pub fn host_port(&self) -> (String, u16) {
        let default = if self.scheme == "sips" { 5061 } else { 5060 };
        (self.host.clone(), self.port.unwrap_or(default))
    }
}

fn split_hostport(hp: &str) -> Result<(String, Option<u16>), ParseError> {
    let (host, port) = if let Some(rest) = hp.strip_prefix('[') {
        let end = rest
            .find(']')
            .ok_or_else(|| ParseError::new("unterminated IPv6 reference"))?;
        let host = &rest[..end];
        host.parse::<std::net::Ipv6Addr>()
            .map_err(|_| ParseError::new(format!("invalid IPv6 address {host:?}")))?;
        let after = &rest[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(ParseError::new("junk after IPv6 reference")),
        };
        (host.to_string(), port)
    } else {
        match hp.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (hp.to_string(), None),
        }
    };
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._:".contains(c))
    {
        return Err(ParseError::new(format!("invalid host {host:?}")));
    }
    let port = match port {
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| ParseError::new(format!("invalid port {p:?}")))?,
        ),
        None => None,
    };
    Ok((host.to_ascii_lowercase(), port))
}

fn percent_decode(s: &str) -> Result<String, ParseError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .ok_or_else(|| ParseError::new("truncated escape in URI"))?;
            let v = u8::from_str_radix(hex, 16)
                .map_err(|_| ParseError::new("invalid escape in URI"))?;
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ParseError::new("URI user is not UTF-8"))
}

fn percent_encode_user(u: &str) -> String {
    let mut out = String::with_capacity(u.len());
    for c in u.chars() {
        if c.is_ascii_alphanumeric() || "-_.!~*'()&=+$,;?/".contains(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(o) = &self.opaque {
            return write!(f, "{}:{}", self.scheme, o);
        }
        write!(f, "{}:", self.scheme)?;
        if let Some(u) = &self.user {
            write!(f, "{}@", percent_encode_user(u))?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            write!(f, "{}", self.host)?;
        }
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        for (k, v) in &self.params {
            match v {
                Some(v) => write!(f, ";{k}={v}")?,
                None => write!(f, ";{k}")?,
            }
        }
        if let Some(h) = &self.headers {
            write!(f, "?{h}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_sip_uri() {
        let u = Uri::parse("sip:alice%20x@Example.COM:5070;transport=tcp;lr?subject=hi").unwrap();
        assert_eq!(u.user.as_deref(), Some("alice x"));
        assert_eq!(u.host, "example.com");
        assert_eq!(u.port, Some(5070));
        assert_eq!(u.param("transport"), Some(Some("tcp")));
        assert_eq!(u.param("lr"), Some(None));
        assert_eq!(u.headers.as_deref(), Some("subject=hi"));
    }

    #[test]
    fn parses_ipv6_and_other_schemes() {
        let u = Uri::parse("sip:[2001:db8::10]:5070").unwrap();
        assert_eq!(u.host, "2001:db8::10");
        assert_eq!(u.to_string(), "sip:[2001:db8::10]:5070");
        let t = Uri::parse("tel:+1-555-1234").unwrap();
        assert!(!t.is_sip());
        assert_eq!(t.to_string(), "tel:+1-555-1234");
    }

    #[test]
    fn rejects_bad_uris() {
        for bad in [
            "alice",
            "sip:",
            "sip:a@",
            "sip:host:99999",
            "sip:[::1",
            "sip:a b@c",
            "1sip:x",
        ] {
            assert!(Uri::parse(bad).is_err(), "{bad}");
        }
    }
}
