//! HTTP digest authentication for SIP (RFC 3261 §22, RFC 7616 for SHA-256,
//! RFC 8760 for its use in SIP): server-side challenges and verification,
//! and the client-side answer used towards trunks that challenge us.
//!
//! The server checks answers against stored HA1s (never passwords), with
//! nonces that carry their issue time under an HMAC ([`NonceKey`]), `qop=auth`
//! nonce counts that refuse a replayed header ([`NonceCounts`]), the `uri`
//! parameter against the Request-URI, and the realm.

mod nonce;

use md5::{Digest as _, Md5};
use sha2::Sha256;

pub use nonce::{CountCheck, NonceCounts, NonceKey, NonceStamp};

use crate::Uri;

/// Digest hash algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// MD5 (what every phone supports).
    Md5,
    /// SHA-256 (RFC 8760), offered first to peers that support it.
    Sha256,
}

impl Algorithm {
    /// Token used in the header.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }
    fn from_name(s: &str) -> Option<Algorithm> {
        if s.eq_ignore_ascii_case("MD5") {
            Some(Algorithm::Md5)
        } else if s.eq_ignore_ascii_case("SHA-256") {
            Some(Algorithm::Sha256)
        } else {
            None
        }
    }
    fn hash(self, data: &str) -> String {
        match self {
            Algorithm::Md5 => hex(&Md5::digest(data.as_bytes())),
            Algorithm::Sha256 => hex(&Sha256::digest(data.as_bytes())),
        }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Parsed `Authorization` / `Proxy-Authorization` / `WWW-Authenticate` parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DigestParams {
    /// All `k=v` pairs, keys lower-cased, quotes removed.
    pub params: Vec<(String, String)>,
}

impl DigestParams {
    /// Parse a header value starting with `Digest `.
    pub fn parse(v: &str) -> Option<DigestParams> {
        let v = v.trim();
        v.get(..6).filter(|s| s.eq_ignore_ascii_case("digest"))?;
        let body = &v[6..];
        let mut params = Vec::new();
        for part in crate::message::split_list(body) {
            let (k, val) = part.split_once('=')?;
            params.push((
                k.trim().to_ascii_lowercase(),
                val.trim().trim_matches('"').to_string(),
            ));
        }
        Some(DigestParams { params })
    }
    /// A parameter's value.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }
}

/// Nonces the server tracks at most (see [`NonceCounts`]).
pub const MAX_TRACKED_NONCES: usize = 65_536;

/// How long a nonce is accepted before `stale=true` (ms).
pub const NONCE_TTL_MS: u64 = 300_000;

/// Server-side challenges and verification. Nonces carry their issue time
/// and an HMAC ([`NonceKey`]), so validating one needs no state; the only
/// state is the highest nonce count seen per live nonce, which refuses a
/// replayed `Authorization` header.
#[derive(Debug)]
pub struct DigestServer {
    realm: String,
    algorithms: Vec<Algorithm>,
    key: NonceKey,
    nonce_ttl_ms: u64,
    issued: u64,
    counts: NonceCounts,
}

/// Outcome of checking credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthOutcome {
    /// Valid credentials for this user.
    Ok,
    /// No usable credentials (absent, malformed, another realm, a nonce we
    /// did not issue): challenge again with 401/407.
    Missing,
    /// Nonce too old (or forgotten): challenge again with `stale=true`.
    Stale,
    /// Wrong password, unknown user or tampered response: answer 403.
    Wrong,
    /// Right credentials for another Request-URI (`uri` parameter differs).
    UriMismatch,
    /// A nonce count already used with this nonce: a replayed header.
    Replayed,
}

/// The request a digest answer must be for.
#[derive(Debug, Clone, Copy)]
pub struct Challenged<'a> {
    /// Method of the request.
    pub method: &'a str,
    /// Its Request-URI.
    pub uri: &'a Uri,
}

impl DigestServer {
    /// A verifier for `realm` whose nonces are keyed with `secret` (inject a
    /// random secret per process; tests pass a fixed one).
    pub fn new(realm: &str, secret: [u8; 32]) -> DigestServer {
        DigestServer {
            realm: realm.to_string(),
            algorithms: vec![Algorithm::Md5],
            key: NonceKey::new(secret, realm),
            nonce_ttl_ms: NONCE_TTL_MS,
            issued: 0,
            counts: NonceCounts::new(MAX_TRACKED_NONCES),
        }
    }

    /// Choose the challenged algorithms, most preferred first (empty = MD5).
    pub fn with_algorithms(mut self, algorithms: &[Algorithm]) -> DigestServer {
        self.algorithms = if algorithms.is_empty() {
            vec![Algorithm::Md5]
        } else {
            algorithms.to_vec()
        };
        self
    }

    /// Bound the nonce-count record to `n` nonces (default [`MAX_TRACKED_NONCES`]).
    pub fn with_max_tracked_nonces(mut self, n: usize) -> DigestServer {
        self.counts = NonceCounts::new(n);
        self
    }

    /// Parse an algorithm name (`MD5`, `SHA-256`).
    pub fn algorithm(name: &str) -> Option<Algorithm> {
        Algorithm::from_name(name)
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// `WWW-Authenticate` values, one per algorithm offered (RFC 8760: most
    /// preferred first), sharing one fresh nonce. By default only MD5 is
    /// offered: common phones (baresip/libre 1.0, older desk phones) abort
    /// on any challenge whose algorithm they do not know.
    pub fn challenges(&mut self, now_ms: u64, stale: bool) -> Vec<String> {
        self.issued += 1;
        let nonce = self.key.mint(now_ms, self.issued);
        self.algorithms
            .iter()
            .map(|a| {
                format!(
                    "Digest realm=\"{}\", nonce=\"{nonce}\", algorithm={}, qop=\"auth\"{}",
                    self.realm,
                    a.name(),
                    if stale { ", stale=true" } else { "" }
                )
            })
            .collect()
    }

    /// Username claimed in an Authorization header, if any.
    pub fn username(header: &str) -> Option<String> {
        DigestParams::parse(header).and_then(|p| p.get("username").map(str::to_string))
    }

    /// Verify an `Authorization` header for `req`; `ha1_of` gives the stored
    /// HA1 of a user for an algorithm (`None`: unknown user). A valid answer
    /// records its nonce count, so the same header is refused the next time.
    pub fn verify(
        &mut self,
        header: &str,
        req: Challenged<'_>,
        now_ms: u64,
        ha1_of: impl FnOnce(&str, Algorithm) -> Option<String>,
    ) -> AuthOutcome {
        let Some(p) = DigestParams::parse(header) else {
            return AuthOutcome::Missing;
        };
        let (Some(user), Some(nonce), Some(uri), Some(resp)) = (
            p.get("username"),
            p.get("nonce"),
            p.get("uri"),
            p.get("response"),
        ) else {
            return AuthOutcome::Missing;
        };
        if p.get("realm") != Some(self.realm.as_str()) {
            return AuthOutcome::Missing;
        }
        let Some(alg) = Algorithm::from_name(p.get("algorithm").unwrap_or("MD5")) else {
            return AuthOutcome::Missing;
        };
        let Some(stamp) = self.key.check(nonce) else {
            return AuthOutcome::Missing;
        };
        let nc = match p.get("qop") {
            None => 1, // RFC 2069 style: the nonce is good for one request
            Some(q) if q.eq_ignore_ascii_case("auth") => {
                match p
                    .get("nc")
                    .filter(|n| n.len() == 8)
                    .and_then(|n| u32::from_str_radix(n, 16).ok())
                {
                    Some(nc) if p.get("cnonce").is_some() => nc,
                    _ => return AuthOutcome::Missing,
                }
            }
            Some(_) => return AuthOutcome::Missing,
        };
        // An unknown user costs the same work as a wrong password (no timing hint).
        let ha1 = ha1_of(user, alg).filter(|h| !h.is_empty());
        let expected = response_from_ha1(
            alg,
            ha1.as_deref().unwrap_or("unknown-user"),
            req.method,
            uri,
            nonce,
            &p,
        );
        let matches = eq_constant_time(expected.as_bytes(), resp.to_ascii_lowercase().as_bytes());
        if ha1.is_none() || !matches {
            return AuthOutcome::Wrong;
        }
        if !same_uri(uri, req.uri) {
            return AuthOutcome::UriMismatch;
        }
        if now_ms.saturating_sub(stamp.issued_ms) > self.nonce_ttl_ms {
            return AuthOutcome::Stale;
        }
        self.expire(now_ms);
        match self.counts.accept(stamp, nc) {
            CountCheck::Fresh => AuthOutcome::Ok,
            CountCheck::Replayed => AuthOutcome::Replayed,
            CountCheck::Forgotten => AuthOutcome::Stale,
        }
    }

    /// Forget the nonce counts of nonces that have expired.
    pub fn expire(&mut self, now_ms: u64) {
        self.counts.expire(now_ms.saturating_sub(self.nonce_ttl_ms));
    }

    /// Nonces whose counts are being tracked.
    pub fn tracked_nonces(&self) -> usize {
        self.counts.len()
    }
}

/// HA1 of RFC 7616 §3.4.2: `H(username:realm:password)`, what the server
/// stores instead of the password.
pub fn ha1(alg: Algorithm, user: &str, realm: &str, password: &str) -> String {
    alg.hash(&format!("{user}:{realm}:{password}"))
}

/// Does the digest's `uri` name the Request-URI? Compared as URIs (so
/// `sip:a@h` and `sip:a@h:5060` differ, but case in the scheme does not).
fn same_uri(digest_uri: &str, request_uri: &Uri) -> bool {
    digest_uri == request_uri.to_string() || Uri::parse(digest_uri).is_ok_and(|u| &u == request_uri)
}

fn eq_constant_time(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn response_from_ha1(
    alg: Algorithm,
    ha1: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    p: &DigestParams,
) -> String {
    let ha2 = alg.hash(&format!("{method}:{uri}"));
    match p.get("qop") {
        Some(qop) if qop.eq_ignore_ascii_case("auth") => {
            let nc = p.get("nc").unwrap_or("");
            let cnonce = p.get("cnonce").unwrap_or("");
            alg.hash(&format!("{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}"))
        }
        _ => alg.hash(&format!("{ha1}:{nonce}:{ha2}")),
    }
}

#[allow(clippy::too_many_arguments)]
fn response(
    alg: Algorithm,
    user: &str,
    realm: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    p: &DigestParams,
) -> String {
    response_from_ha1(alg, &ha1(alg, user, realm, password), method, uri, nonce, p)
}

/// Client side: answer a `WWW-Authenticate`/`Proxy-Authenticate` challenge.
pub fn answer_challenge(
    challenge: &str,
    method: &str,
    uri: &str,
    user: &str,
    password: &str,
) -> Option<String> {
    let c = DigestParams::parse(challenge)?;
    let realm = c.get("realm")?;
    let nonce = c.get("nonce")?;
    let alg = Algorithm::from_name(c.get("algorithm").unwrap_or("MD5"))?;
    let qop_auth = c
        .get("qop")
        .map(|q| q.split(',').any(|x| x.trim().eq_ignore_ascii_case("auth")))
        .unwrap_or(false);
    let cnonce = format!("{:016x}", rand::random::<u64>());
    let mut p = DigestParams::default();
    if qop_auth {
        p.params.push(("qop".into(), "auth".into()));
        p.params.push(("nc".into(), "00000001".into()));
        p.params.push(("cnonce".into(), cnonce.clone()));
    }
    let resp = response(alg, user, realm, password, method, uri, nonce, &p);
    let mut h = format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{resp}\", algorithm={}",
        alg.name()
    );
    if qop_auth {
        h.push_str(&format!(", qop=auth, nc=00000001, cnonce=\"{cnonce}\""));
    }
    if let Some(o) = c.get("opaque") {
        h.push_str(&format!(", opaque=\"{o}\""));
    }
    Some(h)
}

#[cfg(test)]
mod tests;
