//! Registrar (RFC 3261 §10): digest-authenticated bindings of agents'
//! extensions to contacts, with expiry, several contacts per user, and a
//! per-source limit on failed authentications.

use std::collections::HashMap;
use std::net::IpAddr;

use switchboard_sip::digest::{AuthOutcome, DigestServer};
use switchboard_sip::{NameAddr, Peer, Request, Uri};

/// One contact of a registered user.
#[derive(Debug, Clone)]
pub struct Binding {
    /// Contact URI the phone gave.
    pub contact: Uri,
    /// Where the REGISTER came from: requests go there (NAT-friendly, and the TCP connection).
    pub peer: Peer,
    /// Expiry, ms since epoch.
    pub expires_at: u64,
}

/// Failed attempts allowed per source IP per minute before refusing outright.
pub const MAX_FAILURES_PER_MINUTE: u32 = 20;

/// Outcome of authenticating a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Auth {
    /// Authenticated as this user.
    Ok(String),
    /// Send a challenge (stale nonce when the flag is set).
    Challenge(bool),
    /// Wrong credentials: 403.
    Forbidden,
    /// Too many failures from this source: 403 without checking.
    RateLimited,
}

/// Registrar state.
pub struct Registrar {
    /// Digest verifier.
    pub digest: DigestServer,
    bindings: HashMap<String, Vec<Binding>>,
    failures: HashMap<IpAddr, (u64, u32)>,
}

impl Registrar {
    /// New registrar for a realm.
    pub fn new(realm: &str, algorithms: &[switchboard_sip::digest::Algorithm]) -> Registrar {
        Registrar {
            digest: DigestServer::new(realm).with_algorithms(algorithms),
            bindings: HashMap::new(),
            failures: HashMap::new(),
        }
    }

    /// Authenticate a request from `peer`; `password_of` gives a user's SIP password.
    pub fn authenticate(
        &mut self,
        req: &Request,
        peer: &Peer,
        header: &str,
        now_ms: u64,
        password_of: impl Fn(&str) -> Option<String>,
    ) -> Auth {
        let ip = peer.addr.ip();
        let window = now_ms / 60_000;
        if let Some((w, n)) = self.failures.get(&ip) {
            if *w == window && *n >= MAX_FAILURES_PER_MINUTE {
                return Auth::RateLimited;
            }
        }
        let Some(value) = req.header(header) else {
            return Auth::Challenge(false);
        };
        let Some(user) = DigestServer::username(value) else {
            return Auth::Challenge(false);
        };
        let outcome = match password_of(&user) {
            Some(pw) => self.digest.verify(value, &req.method, &pw, now_ms / 1000),
            None => AuthOutcome::Wrong,
        };
        match outcome {
            AuthOutcome::Ok => Auth::Ok(user),
            AuthOutcome::Missing => Auth::Challenge(false),
            AuthOutcome::Stale => Auth::Challenge(true),
            AuthOutcome::Wrong => {
                let e = self.failures.entry(ip).or_insert((window, 0));
                if e.0 != window {
                    *e = (window, 0);
                }
                e.1 += 1;
                Auth::Forbidden
            }
        }
    }

    /// Apply a REGISTER from an authenticated `user`; returns the current bindings
    /// (for the 200's Contact list) or an error status with reason.
    pub fn register(
        &mut self,
        user: &str,
        req: &Request,
        peer: Peer,
        now_ms: u64,
    ) -> Result<Vec<(Uri, u64)>, (u16, String)> {
        let default_expires: u64 = req
            .header("Expires")
            .and_then(|e| e.trim().parse().ok())
            .unwrap_or(3600);
        let contacts = req.headers_all("Contact");
        let list = self.bindings.entry(user.to_string()).or_default();
        if contacts.iter().any(|c| c.trim() == "*") {
            if contacts.len() != 1 || default_expires != 0 {
                return Err((400, "Wildcard Contact requires Expires: 0".into()));
            }
            list.clear();
        }
        for c in contacts.iter().filter(|c| c.trim() != "*") {
            let na = NameAddr::parse(c).map_err(|e| (400, format!("Bad Contact: {e}")))?;
            let expires: u64 = na
                .param("expires")
                .and_then(|e| e.parse().ok())
                .unwrap_or(default_expires)
                .min(86_400);
            list.retain(|b| b.contact != na.uri);
            if expires > 0 {
                let expires = expires.max(30);
                list.push(Binding {
                    contact: na.uri,
                    peer,
                    expires_at: now_ms + expires * 1000,
                });
            }
        }
        list.retain(|b| b.expires_at > now_ms);
        Ok(list
            .iter()
            .map(|b| (b.contact.clone(), (b.expires_at - now_ms) / 1000))
            .collect())
    }

    /// Live bindings of a user, newest first.
    pub fn lookup(&self, user: &str, now_ms: u64) -> Vec<Binding> {
        let mut v: Vec<Binding> = self
            .bindings
            .get(user)
            .map(|l| {
                l.iter()
                    .filter(|b| b.expires_at > now_ms)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        v.reverse();
        v
    }

    /// Is the user reachable?
    pub fn is_registered(&self, user: &str, now_ms: u64) -> bool {
        !self.lookup(user, now_ms).is_empty()
    }

    /// Drop expired bindings.
    pub fn expire(&mut self, now_ms: u64) {
        for l in self.bindings.values_mut() {
            l.retain(|b| b.expires_at > now_ms);
        }
    }
}
