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
            } else if d.starts_with('"') {
                Some(unquote(d)?)
            } else if d
                .chars()
                .all(|c| !c.is_ascii() || c == ' ' || c == '\t' || is_token_char(c))
            {
                // `*(token LWS)`; non-ASCII tolerated (common in the field).
                Some(d.to_string())
            } else {
                // RFC 4475 §3.1.2.15: e.g. `Bell, Alexander <sip:...>`.
                return Err(ParseError::new(format!(
                    "unquoted display name {d:?} is not a token list"
                )));
            };
            let uri_str = &v[lt + 1..gt];
            if uri_str.starts_with([' ', '\t']) || uri_str.ends_with([' ', '\t']) {
                // RFC 4475 §3.1.2.14: no LWS inside `<addr-spec>`.
                return Err(ParseError::new(format!("white space inside <> in {v:?}")));
            }
            (display, uri_str, &v[gt + 1..])
        } else {
            // addr-spec form: parameters after the URI belong to the header.
            let (uri, params) = match v.find(';') {
                Some(i) => (&v[..i], &v[i..]),
                None => (v, ""),
            };
            if uri.contains('?') {
                // RFC 3261 §20.10, RFC 4475 §3.1.2.13: needs name-addr form.
                return Err(ParseError::new(format!(
                    "URI with headers must be in <>: {v:?}"
                )));
            }
            (None, uri, params)
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
            f.write_str("\"")?;
            for c in d.chars() {
                match c {
                    // LF/CR cannot be quoted (RFC 3261 quoted-pair).
                    '\r' | '\n' => f.write_str(" ")?,
                    '"' | '\\' => write!(f, "\\{c}")?,
                    c if c.is_ascii_control() && c != '\t' => write!(f, "\\{c}")?,
                    c => write!(f, "{c}")?,
                }
            }
            f.write_str("\" ")?;
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

/// RFC 3261 `token` characters.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-.!%*_+`'~".contains(c)
}

/// Contents of a quoted-string (which must make up all of `d`), with the
/// quoted-pairs (`\x`) resolved.
fn unquote(d: &str) -> Result<String, ParseError> {
    let mut chars = d.strip_prefix('"').unwrap_or(d).chars();
    let mut out = String::new();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e) => out.push(e),
                None => break,
            },
            '"' if chars.as_str().is_empty() => return Ok(out),
            '"' => {
                return Err(ParseError::new(format!(
                    "junk after quoted display name {d:?}"
                )))
            }
            c => out.push(c),
        }
    }
    Err(ParseError::new("unterminated quoted display name"))
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
        let bad = || ParseError::new(format!("invalid Via protocol in {v:?}"));
        // sent-protocol = name SLASH version SLASH transport, where SLASH may
        // be surrounded by LWS (RFC 3261 §25.1, RFC 4475 §3.1.1.1).
        let mut fields = [""; 3];
        let mut rest = v;
        for (i, field) in fields.iter_mut().enumerate() {
            if i > 0 {
                rest = rest.trim_start().strip_prefix('/').ok_or_else(bad)?;
            }
            rest = rest.trim_start();
            let end = rest.find(['/', ' ', '\t']).unwrap_or(rest.len());
            *field = &rest[..end];
            rest = &rest[end..];
        }
        let [name, ver, transport] = fields;
        if !name.eq_ignore_ascii_case("SIP")
            || ver != "2.0"
            || transport.is_empty()
            || !rest.starts_with([' ', '\t'])
        {
            return Err(bad());
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
