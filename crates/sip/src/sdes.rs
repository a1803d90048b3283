//! SDES key exchange: the SDP `a=crypto` attribute of RFC 4568 for the two
//! AES-CM suites SIP phones offer. Parsing keeps what an answerer needs
//! (tag, suite, the inline master key and salt, lifetime, MKI) and says why
//! a line cannot be used; formatting writes our own line.
//!
//! The key travels in clear in the SDP: SDES is only as private as the
//! signalling, so it belongs on SIP over TLS. Nothing here logs, and
//! [`SdesKey`]'s `Debug` hides the key.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine as _;

/// Octets of an inline key: 128-bit master key then 112-bit master salt.
pub const SDES_KEY_LEN: usize = 30;

/// A crypto suite we can use (RFC 4568 §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CryptoSuite {
    /// `AES_CM_128_HMAC_SHA1_80`.
    AesCm128HmacSha1_80,
    /// `AES_CM_128_HMAC_SHA1_32`.
    AesCm128HmacSha1_32,
}

impl CryptoSuite {
    /// The name in the attribute.
    pub fn name(self) -> &'static str {
        match self {
            CryptoSuite::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            CryptoSuite::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
        }
    }

    /// The suite with this name, if we implement it.
    pub fn from_name(name: &str) -> Option<CryptoSuite> {
        [
            CryptoSuite::AesCm128HmacSha1_80,
            CryptoSuite::AesCm128HmacSha1_32,
        ]
        .into_iter()
        .find(|s| s.name().eq_ignore_ascii_case(name))
    }
}

/// An inline master key and salt. Its `Debug` output never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct SdesKey(pub [u8; SDES_KEY_LEN]);

impl std::fmt::Debug for SdesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SdesKey(<redacted>)")
    }
}

/// Why an `a=crypto` line cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdesError {
    /// Not `tag suite key-params [session-params]`.
    #[error("malformed crypto attribute")]
    Syntax,
    /// A suite we do not implement (AES-256, GCM, F8...).
    #[error("unsupported crypto suite {0}")]
    UnsupportedSuite(String),
    /// The inline key is not valid base64 of 30 octets.
    #[error("bad inline key")]
    BadKey,
    /// Something valid we do not implement: several keys, session
    /// parameters (KDR, UNENCRYPTED_SRTP...), a malformed lifetime or MKI.
    #[error("unsupported crypto parameter {0}")]
    Unsupported(String),
}

/// One `a=crypto` attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptoAttribute {
    /// Tag: the answer echoes the tag of the line it accepts.
    pub tag: u32,
    /// Suite.
    pub suite: CryptoSuite,
    /// Master key and salt.
    pub key: SdesKey,
    /// Key lifetime in packets, when given (`|2^31` or `|1048576`).
    pub lifetime: Option<u64>,
    /// MKI value and length in octets, when given (`|1:4`).
    pub mki: Option<(u64, u8)>,
}

impl CryptoAttribute {
    /// Parse the value of an attribute (what follows `a=crypto:`).
    pub fn parse(value: &str) -> Result<CryptoAttribute, SdesError> {
        let mut fields = value.split_whitespace();
        let tag = fields
            .next()
            .and_then(|t| t.parse::<u32>().ok())
            .filter(|t| *t < 1_000_000_000)
            .ok_or(SdesError::Syntax)?;
        let suite_name = fields.next().ok_or(SdesError::Syntax)?;
        let key_params = fields.next().ok_or(SdesError::Syntax)?;
        let suite = CryptoSuite::from_name(suite_name)
            .ok_or_else(|| SdesError::UnsupportedSuite(suite_name.to_string()))?;
        if let Some(p) = fields.next() {
            return Err(SdesError::Unsupported(session_param_name(p)));
        }
        if key_params.contains(';') {
            return Err(SdesError::Unsupported("several keys".into()));
        }
        let inline = key_params
            .strip_prefix("inline:")
            .ok_or_else(|| SdesError::Unsupported("key method other than inline".into()))?;
        let mut parts = inline.split('|');
        let b64 = parts.next().unwrap_or_default();
        let key = decode_key(b64)?;
        let (mut lifetime, mut mki) = (None, None);
        for p in parts {
            if let Some((v, len)) = p.split_once(':') {
                let v = v.parse::<u64>().ok();
                let len = len.parse::<u8>().ok().filter(|l| (1..=128).contains(l));
                match (v, len, mki) {
                    (Some(v), Some(len), None) => mki = Some((v, len)),
                    _ => return Err(SdesError::Unsupported("MKI".into())),
                }
            } else {
                let l =
                    parse_lifetime(p).ok_or_else(|| SdesError::Unsupported("lifetime".into()))?;
                if lifetime.replace(l).is_some() {
                    return Err(SdesError::Syntax);
                }
            }
        }
        Ok(CryptoAttribute {
            tag,
            suite,
            key,
            lifetime,
            mki,
        })
    }

    /// The attribute value we send: `tag suite inline:key` (no lifetime, no MKI).
    pub fn value(&self) -> String {
        format!(
            "{} {} inline:{}",
            self.tag,
            self.suite.name(),
            STANDARD.encode(self.key.0)
        )
    }
}

/// Just the name of a session parameter, for the error (never its value).
fn session_param_name(p: &str) -> String {
    p.split('=')
        .next()
        .unwrap_or_default()
        .chars()
        .take(32)
        .collect()
}

fn decode_key(b64: &str) -> Result<SdesKey, SdesError> {
    // RFC 4568 keys are padded base64; tolerate phones that drop the padding.
    let bytes = STANDARD
        .decode(b64)
        .or_else(|_| STANDARD_NO_PAD.decode(b64))
        .map_err(|_| SdesError::BadKey)?;
    let key: [u8; SDES_KEY_LEN] = bytes.try_into().map_err(|_| SdesError::BadKey)?;
    Ok(SdesKey(key))
}

/// `2^n` or a decimal number of packets.
fn parse_lifetime(s: &str) -> Option<u64> {
    match s.strip_prefix("2^") {
        Some(exp) => exp
            .parse::<u32>()
            .ok()
            .filter(|e| *e < 64)
            .map(|e| 1u64 << e),
        None => s.parse().ok(),
    }
}

/// The first line of `offered` we can use, in the offer's order (tag
/// echoed by the answer). Lines with an MKI are skipped: we send no MKI.
pub fn choose(offered: &[CryptoAttribute]) -> Option<&CryptoAttribute> {
    offered.iter().find(|c| c.mki.is_none())
}

/// `text` (a SIP message for a log line) with the key of every `a=crypto`
/// line replaced by `<redacted>`; borrowed unchanged when it has none.
pub fn redact_keys(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("inline:") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        match line.find("inline:") {
            Some(i) => {
                out.push_str(&line[..i]);
                out.push_str("inline:<redacted>");
                if line.ends_with('\n') {
                    out.push_str(if line.ends_with("\r\n") { "\r\n" } else { "\n" });
                }
            }
            None => out.push_str(line),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";

    #[test]
    fn parses_lines_phones_send() {
        let c = CryptoAttribute::parse(&format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}|2^20|1:4"))
            .unwrap();
        assert_eq!(c.tag, 1);
        assert_eq!(c.suite, CryptoSuite::AesCm128HmacSha1_80);
        assert_eq!(c.lifetime, Some(1 << 20));
        assert_eq!(c.mki, Some((1, 4)));
        assert_eq!(&c.key.0[..2], b"YS");
        let c = CryptoAttribute::parse(&format!("2 AES_CM_128_HMAC_SHA1_32 inline:{KEY}|1048576"))
            .unwrap();
        assert_eq!(
            (c.tag, c.suite, c.lifetime, c.mki),
            (2, CryptoSuite::AesCm128HmacSha1_32, Some(1_048_576), None)
        );
        // Our own line parses back to the same key.
        let back = CryptoAttribute::parse(&c.value()).unwrap();
        assert_eq!(back.key, c.key);
        assert_eq!(c.value(), format!("2 AES_CM_128_HMAC_SHA1_32 inline:{KEY}"));
    }

    #[test]
    fn says_why_a_line_is_unusable() {
        let p = CryptoAttribute::parse;
        assert_eq!(
            p(&format!("1 AES_256_CM_HMAC_SHA1_80 inline:{KEY}")),
            Err(SdesError::UnsupportedSuite(
                "AES_256_CM_HMAC_SHA1_80".into()
            ))
        );
        assert_eq!(
            p("1 AES_CM_128_HMAC_SHA1_80 inline:!!notbase64!!"),
            Err(SdesError::BadKey)
        );
        assert_eq!(
            p("1 AES_CM_128_HMAC_SHA1_80 inline:c2hvcnQ="),
            Err(SdesError::BadKey)
        );
        assert_eq!(
            p("x AES_CM_128_HMAC_SHA1_80 inline:a"),
            Err(SdesError::Syntax)
        );
        assert_eq!(p("1 AES_CM_128_HMAC_SHA1_80"), Err(SdesError::Syntax));
        assert!(matches!(
            p(&format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY} KDR=1")),
            Err(SdesError::Unsupported(n)) if n == "KDR"
        ));
        assert!(p(&format!(
            "1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}|2^20|1:4;inline:{KEY}|2^20|2:4"
        ))
        .is_err());
        assert!(p(&format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}|2^99")).is_err());
        // Errors never carry the key.
        let e = p(&format!(
            "1 AES_CM_128_HMAC_SHA1_80 inline:{KEY} FEC_ORDER={KEY}"
        ))
        .unwrap_err();
        assert!(!e.to_string().contains(KEY) && !format!("{e:?}").contains(KEY));
    }

    #[test]
    fn choose_takes_the_first_usable_line() {
        let a = CryptoAttribute::parse(&format!("1 AES_CM_128_HMAC_SHA1_32 inline:{KEY}|2^20|1:4"))
            .unwrap();
        let b = CryptoAttribute::parse(&format!("2 AES_CM_128_HMAC_SHA1_32 inline:{KEY}")).unwrap();
        let c = CryptoAttribute::parse(&format!("3 AES_CM_128_HMAC_SHA1_80 inline:{KEY}")).unwrap();
        assert_eq!(choose(&[a.clone(), b, c]).map(|c| c.tag), Some(2));
        assert_eq!(choose(&[a]), None);
        assert!(!format!("{:?}", choose(&[]).cloned()).contains(KEY));
    }

    #[test]
    fn keys_are_redacted_for_logs() {
        let msg = format!("SIP/2.0 200 OK\r\nm=audio 1 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}|2^20\r\na=sendrecv\r\n");
        let r = redact_keys(&msg);
        assert!(!r.contains(KEY));
        assert!(
            r.contains("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:<redacted>\r\na=sendrecv\r\n")
        );
        assert!(matches!(
            redact_keys("INVITE x"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
