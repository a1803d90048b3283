//! HTTP digest authentication for SIP (RFC 3261 §22, RFC 7616 for SHA-256,
//! RFC 8760 for its use in SIP): server-side challenges and verification,
//! and the client-side answer used towards trunks that challenge us.

use md5::{Digest as _, Md5};
use sha2::Sha256;

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

/// Server-side nonce issuing and response verification. Nonces are
/// stateless: `timestamp:hash(secret:timestamp)`, valid for `nonce_ttl_secs`.
#[derive(Debug, Clone)]
pub struct DigestServer {
    realm: String,
    algorithms: Vec<Algorithm>,
    secret: String,
    nonce_ttl_secs: u64,
}

/// Outcome of checking credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// Valid credentials for this user.
    Ok,
    /// No (usable) credentials: challenge again with 401/407.
    Missing,
    /// Nonce too old: challenge again with `stale=true`.
    Stale,
    /// Wrong password (or tampered response): answer 403.
    Wrong,
}

impl DigestServer {
    /// A verifier for `realm` using a random secret.
    pub fn new(realm: &str) -> DigestServer {
        use rand::Rng;
        let secret: u128 = rand::thread_rng().gen();
        DigestServer {
            realm: realm.to_string(),
            algorithms: vec![Algorithm::Md5],
            secret: format!("{secret:032x}"),
            nonce_ttl_secs: 300,
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

    /// Parse an algorithm name (`MD5`, `SHA-256`).
    pub fn algorithm(name: &str) -> Option<Algorithm> {
        Algorithm::from_name(name)
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    fn nonce_at(&self, ts: u64) -> String {
        format!(
            "{ts:x}.{}",
            &Algorithm::Md5.hash(&format!("{}:{ts}", self.secret))[..16]
        )
    }

    /// `WWW-Authenticate` values, one per algorithm offered (RFC 8760: most
    /// preferred first). By default only MD5 is offered: common phones
    /// (baresip/libre 1.0, older desk phones) abort on any challenge whose
    /// algorithm they do not know, even when an MD5 one is also present.
    pub fn challenges(&self, now_secs: u64, stale: bool) -> Vec<String> {
        let nonce = self.nonce_at(now_secs);
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

    /// Verify an Authorization header for `method` against the user's password.
    pub fn verify(&self, header: &str, method: &str, password: &str, now_secs: u64) -> AuthOutcome {
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
        let alg = match p.get("algorithm") {
            None => Algorithm::Md5,
            Some(a) => match Algorithm::from_name(a) {
                Some(a) => a,
                None => return AuthOutcome::Missing,
            },
        };
        let Some(ts) = nonce
            .split_once('.')
            .and_then(|(t, _)| u64::from_str_radix(t, 16).ok())
        else {
            return AuthOutcome::Missing;
        };
        if self.nonce_at(ts) != nonce {
            return AuthOutcome::Missing;
        }
        let expected = response(alg, user, &self.realm, password, method, uri, nonce, &p);
        if !expected.eq_ignore_ascii_case(resp) {
            return AuthOutcome::Wrong;
        }
        if now_secs.saturating_sub(ts) > self.nonce_ttl_secs {
            return AuthOutcome::Stale;
        }
        AuthOutcome::Ok
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
    let ha1 = alg.hash(&format!("{user}:{realm}:{password}"));
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
mod tests {
    use super::*;

    #[test]
    fn rfc2617_style_vector() {
        // RFC 2617 §3.5 example values (MD5, qop=auth).
        let p = DigestParams::parse(
            "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", qop=auth, nc=00000001, cnonce=\"0a4f113b\", response=\"6629fae49393a05397450978507c4ef1\"",
        )
        .unwrap();
        let r = response(
            Algorithm::Md5,
            "Mufasa",
            "testrealm@host.com",
            "Circle Of Life",
            "GET",
            "/dir/index.html",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            &p,
        );
        assert_eq!(r, "6629fae49393a05397450978507c4ef1");
    }

    #[test]
    fn server_round_trip_both_algorithms() {
        let s =
            DigestServer::new("switchboard").with_algorithms(&[Algorithm::Sha256, Algorithm::Md5]);
        assert_eq!(s.challenges(1000, false).len(), 2);
        for ch in s.challenges(1000, false) {
            let auth = answer_challenge(&ch, "REGISTER", "sip:127.0.0.1", "1001", "pw").unwrap();
            assert_eq!(s.verify(&auth, "REGISTER", "pw", 1001), AuthOutcome::Ok);
            assert_eq!(s.verify(&auth, "REGISTER", "bad", 1001), AuthOutcome::Wrong);
            assert_eq!(
                s.verify(&auth, "REGISTER", "pw", 99_999),
                AuthOutcome::Stale
            );
            assert_eq!(DigestServer::username(&auth).as_deref(), Some("1001"));
        }
        assert_eq!(
            s.verify("Basic abc", "REGISTER", "pw", 1),
            AuthOutcome::Missing
        );
        let forged = DigestServer::new("switchboard")
            .challenges(1000, false)
            .remove(0);
        let auth = answer_challenge(&forged, "REGISTER", "sip:x", "1001", "pw").unwrap();
        assert_eq!(
            s.verify(&auth, "REGISTER", "pw", 1000),
            AuthOutcome::Missing
        );
    }
}
