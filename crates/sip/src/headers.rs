//! Typed views of the headers a B2BUA reads: name-addr (From/To/Contact/Route),
//! Via, CSeq. Parsed on demand from the raw values kept in [`crate::Headers`].

use std::fmt;

use crate::{ParseError, Uri};

/// `display-name <uri>;params` (or a bare addr-spec).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// Display name without quotes, if any.
    pub display: Option<String>,
    /// The URI.
    pub uri: Uri,
    /// Header parameters (`tag`, `expires`, `q`...), names lower-cased.
    pub params: Vec<(String, Option<String>)>,
}

impl NameAddr {
    /// Parse a From/To/Contact/Route value. `*` (wildcard Contact) is an error here.
    pub fn parse(v: &str) -> Result<NameAddr, ParseError> {
        let v = v.trim();
        let (display, uri_str, rest) = if let Some(lt) = find_unquoted(v, '<') {
            let gt = v[lt..]
                .find('>')
                .map(|i| i + lt)
                .ok_or_else(|| ParseError::new(format!("missing '>' in {v:?}")))?;
            let d = v[..lt].trim();
            let display = if d.is_empty() {
                None
            } else if let Some(q) = d.strip_prefix('"') {
                let q = q
                    .strip_suffix('"')
                    .ok_or_else(|| ParseError::new("unterminated quoted display name"))?;
                Some(q.replace("\\\"", "\"").replace("\\\\", "\\"))
            } else {
                Some(d.to_string())
            };
            (display, &v[lt + 1..gt], &v[gt + 1..])
        } else {
            // addr-spec form: parameters after the URI belong to the header.
            match v.find(';') {
                Some(i) => (None, &v[..i], &v[i..]),
                None => (None, v, ""),
            }
        };
        let uri = Uri::parse(uri_str)?;
        let params = parse_params(rest);
        Ok(NameAddr {
            display,
            uri,
            params,
        })
    }

    /// Build from a URI with no display name.
    pub fn new(uri: Uri) -> NameAddr {
        NameAddr {
            display: None,
            uri,
            params: Vec::new(),
        }
    }

    /// Value of a header parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_deref())
    }

    /// The `tag` parameter.
    pub fn tag(&self) -> Option<&str> {
        self.param("tag")
    }

    /// Set (or replace) a parameter.
    pub fn set_param(&mut self, name: &str, value: Option<&str>) {
        self.params.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.params
            .push((name.to_ascii_lowercase(), value.map(str::to_string)));
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display {
            write!(f, "\"{}\" ", d.replace('\\', "\\\\").replace('"', "\\\""))?;
        }
        write!(f, "<{}>", self.uri)?;
        for (k, v) in &self.params {
            match v {
                Some(v) => write!(f, ";{k}={v}")?,
                None => write!(f, ";{k}")?,
            }
        }
        Ok(())
    }
}

fn find_unquoted(s: &str, needle: char) -> Option<usize> {
    let mut in_quote = false;
    let mut escape = false;
    for (i, c) in s.char_indices() {
        if escape {
            escape = false;
            continue;
        }
        match c {
            '\\' if in_quote => escape = true,
            '"' => in_quote = !in_quote,
            c if c == needle && !in_quote => return Some(i),
            _ => {}
        }
    }
    None
}

/// Parse `;a=b;c` parameters.
pub fn parse_params(s: &str) -> Vec<(String, Option<String>)> {
    s.split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (
                k.trim().to_ascii_lowercase(),
                Some(v.trim().trim_matches('"').to_string()),
            ),
            None => (p.to_ascii_lowercase(), None),
        })
        .collect()
}

/// One Via value: `SIP/2.0/UDP host:port;branch=...;rport;received=...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// Transport, upper-cased (`UDP`, `TCP`...).
    pub transport: String,
    /// Sent-by host.
    pub host: String,
    /// Sent-by port.
    pub port: Option<u16>,
    /// Parameters.
    pub params: Vec<(String, Option<String>)>,
}

impl Via {
    /// Parse one Via value.
    pub fn parse(v: &str) -> Result<Via, ParseError> {
        let v = v.trim();
        let (proto, rest) = v
            .split_once([' ', '\t'])
            .ok_or_else(|| ParseError::new(format!("invalid Via {v:?}")))?;
        let mut p = proto.split('/').map(str::trim);
        let (Some(name), Some(ver), Some(transport)) = (p.next(), p.next(), p.next()) else {
            return Err(ParseError::new(format!("invalid Via protocol {proto:?}")));
        };
        if !name.eq_ignore_ascii_case("SIP") || ver != "2.0" || transport.is_empty() {
            return Err(ParseError::new(format!("invalid Via protocol {proto:?}")));
        }
        let rest = rest.trim();
        let (sent_by, params) = match rest.find(';') {
            Some(i) => (rest[..i].trim(), &rest[i..]),
            None => (rest, ""),
        };
        let probe = Uri::parse(&format!("sip:{}", sent_by.replace(' ', "")))?;
        Ok(Via {
            transport: transport.to_ascii_uppercase(),
            host: probe.host,
            port: probe.port,
            params: parse_params(params),
        })
    }

    /// The branch parameter.
    pub fn branch(&self) -> Option<&str> {
        self.param("branch")
    }

    /// A parameter's value.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.as_deref())
    }

    /// True when the parameter is present (with or without value).
    pub fn has_param(&self, name: &str) -> bool {
        self.params.iter().any(|(k, _)| k == name)
    }
}

/// CSeq: sequence number and method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// Sequence number (32-bit per RFC 3261).
    pub seq: u32,
    /// Method.
    pub method: String,
}

impl CSeq {
    /// Parse `314159 INVITE`.
    pub fn parse(v: &str) -> Result<CSeq, ParseError> {
        let mut it = v.split_whitespace();
        let (Some(n), Some(m), None) = (it.next(), it.next(), it.next()) else {
            return Err(ParseError::new(format!("invalid CSeq {v:?}")));
        };
        let seq = n
            .parse::<u32>()
            .map_err(|_| ParseError::new(format!("invalid CSeq number {n:?}")))?;
        Ok(CSeq {
            seq,
            method: m.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_addr_forms() {
        let a = NameAddr::parse("\"Bob \\\"B\\\"\" <sip:bob@h;lr>;tag=abc;expires=30").unwrap();
        assert_eq!(a.display.as_deref(), Some("Bob \"B\""));
        assert_eq!(a.uri.param("lr"), Some(None));
        assert_eq!(a.tag(), Some("abc"));
        let b = NameAddr::parse("sip:bob@h;tag=x").unwrap();
        assert_eq!(b.tag(), Some("x"));
        assert!(b.uri.params.is_empty());
        assert!(NameAddr::parse("<sip:bob@h").is_err());
    }

    #[test]
    fn via_and_cseq() {
        let v = Via::parse("SIP/2.0/udp 10.0.0.1:5070;branch=z9hG4bK1;rport").unwrap();
        assert_eq!((v.transport.as_str(), v.port), ("UDP", Some(5070)));
        assert_eq!(v.branch(), Some("z9hG4bK1"));
        assert!(v.has_param("rport"));
        assert_eq!(CSeq::parse("12 INVITE").unwrap().seq, 12);
        assert!(CSeq::parse("99999999999 INVITE").is_err());
        assert!(CSeq::parse("1").is_err());
    }
}
