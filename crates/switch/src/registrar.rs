//! Registrar (RFC 3261 §10): digest-authenticated bindings of agents'
//! extensions to contacts, with expiry and several contacts per user.
//! Authentication itself is in [`crate::register`].

use std::collections::HashMap;

use switchboard_sip::digest::{Algorithm, DigestServer};
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
    /// The phone is behind a NAT: its Contact is not where its REGISTER
    /// came from. Its registration lifetime is capped and, over UDP, the
    /// switch keeps the NAT's mapping open with OPTIONS pings.
    pub nat: bool,
}

impl Binding {
    /// Whether a phone whose Contact is `contact` and whose REGISTER came
    /// from `peer` is behind a NAT (address or port rewritten on the way).
    pub fn behind_nat(contact: &Uri, peer: &Peer) -> bool {
        let (host, port) = contact.host_port();
        host.parse::<std::net::IpAddr>().ok() != Some(peer.addr.ip()) || port != peer.addr.port()
    }
}

/// Registrar state.
pub struct Registrar {
    /// Digest verifier (nonces and their counts).
    pub digest: DigestServer,
    bindings: HashMap<String, Vec<Binding>>,
}

impl Registrar {
    /// New registrar for a realm, its nonces keyed with `nonce_secret`.
    pub fn new(realm: &str, algorithms: &[Algorithm], nonce_secret: [u8; 32]) -> Registrar {
        Registrar {
            digest: DigestServer::new(realm, nonce_secret).with_algorithms(algorithms),
            bindings: HashMap::new(),
        }
    }

    /// Apply a REGISTER from an authenticated `user`; returns the current bindings
    /// (for the 200's Contact list) or an error status with reason. A phone
    /// behind a NAT gets at most `nat_max_expires` seconds.
    pub fn register(
        &mut self,
        user: &str,
        req: &Request,
        peer: Peer,
        now_ms: u64,
        nat_max_expires: u64,
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
                let nat = Binding::behind_nat(&na.uri, &peer);
                let mut expires = expires.max(30);
                if nat && nat_max_expires > 0 {
                    expires = expires.min(nat_max_expires.max(30));
                }
                list.push(Binding {
                    contact: na.uri,
                    peer,
                    expires_at: now_ms + expires * 1000,
                    nat,
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

    /// Put back a binding saved before a restart.
    pub fn restore(&mut self, user: &str, binding: Binding) {
        let list = self.bindings.entry(user.to_string()).or_default();
        list.retain(|b| b.contact != binding.contact);
        list.push(binding);
    }

    /// Every live binding of a user, oldest first (for persistence).
    pub fn bindings_of(&self, user: &str) -> Vec<Binding> {
        self.bindings.get(user).cloned().unwrap_or_default()
    }

    /// Where to ping phones behind a NAT over UDP (one per source address).
    pub fn nat_peers(&self, now_ms: u64) -> Vec<(String, Uri, Peer)> {
        let mut out: Vec<(String, Uri, Peer)> = Vec::new();
        for (user, list) in &self.bindings {
            for b in list {
                let udp = b.peer.transport == switchboard_sip::Transport::Udp;
                if b.nat && udp && b.expires_at > now_ms && !out.iter().any(|o| o.2 == b.peer) {
                    out.push((user.clone(), b.contact.clone(), b.peer));
                }
            }
        }
        out
    }

    /// Drop expired bindings (and the counts of expired nonces).
    pub fn expire(&mut self, now_ms: u64) {
        for l in self.bindings.values_mut() {
            l.retain(|b| b.expires_at > now_ms);
        }
        self.bindings.retain(|_, l| !l.is_empty());
        self.digest.expire(now_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_sip::{parse_message, Message, Transport};

    fn peer() -> Peer {
        Peer {
            addr: "127.0.0.1:5070".parse().unwrap(),
            transport: Transport::Udp,
        }
    }

    fn register(contacts: &[&str], expires: Option<u32>, auth: Option<&str>) -> Request {
        let mut raw = "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nFrom: <sip:1001@h>;tag=a\r\nTo: <sip:1001@h>\r\nCall-ID: r1\r\nCSeq: 1 REGISTER\r\n".to_string();
        for c in contacts {
            raw.push_str(&format!("Contact: {c}\r\n"));
        }
        if let Some(e) = expires {
            raw.push_str(&format!("Expires: {e}\r\n"));
        }
        if let Some(a) = auth {
            raw.push_str(&format!("Authorization: {a}\r\n"));
        }
        raw.push_str("Content-Length: 0\r\n\r\n");
        match parse_message(raw.as_bytes()).unwrap() {
            Message::Request(r) => r,
            _ => unreachable!(),
        }
    }

    #[test]
    fn bindings_expire_accumulate_and_wildcard_removes_all() {
        let mut r = Registrar::new("switchboard", &[Algorithm::Md5], [0; 32]);
        let req = register(
            &[
                "<sip:1001@10.0.0.1:5060>",
                "<sip:1001@10.0.0.2:5060>;expires=60",
            ],
            Some(120),
            None,
        );
        let b = r.register("1001", &req, peer(), 0, 0).unwrap();
        assert!(
            r.bindings_of("1001").iter().all(|b| b.nat),
            "contacts elsewhere than the source"
        );
        assert_eq!(b.len(), 2);
        assert!(r.is_registered("1001", 59_000));
        assert_eq!(
            r.lookup("1001", 61_000).len(),
            1,
            "the 60 s contact expired"
        );
        assert!(!r.is_registered("1001", 121_000));
        r.register("1001", &req, peer(), 0, 0).unwrap();
        let bad = register(&["*"], Some(10), None);
        assert_eq!(r.register("1001", &bad, peer(), 0, 0).unwrap_err().0, 400);
        let all = register(&["*"], Some(0), None);
        assert!(r.register("1001", &all, peer(), 0, 0).unwrap().is_empty());
        assert!(!r.is_registered("1001", 1));
        // Behind a NAT: the lifetime is capped; a phone whose Contact is its
        // source is not.
        let natted = register(&["<sip:1001@192.168.1.20:5060>"], Some(3600), None);
        let b = r.register("1001", &natted, peer(), 0, 120).unwrap();
        assert_eq!(b[0].1, 120);
        assert_eq!(r.nat_peers(0).len(), 1);
        let direct = register(&["<sip:1001@127.0.0.1:5070>"], Some(3600), None);
        let b = r.register("1001", &direct, peer(), 0, 120).unwrap();
        assert!(b.iter().any(|(u, e)| u.host == "127.0.0.1" && *e == 3600));
        let garbage = register(&["not a uri"], None, None);
        assert_eq!(
            r.register("1001", &garbage, peer(), 0, 0).unwrap_err().0,
            400
        );
    }
}
