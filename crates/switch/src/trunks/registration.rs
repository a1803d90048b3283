//! Our registration at a provider (RFC 3261 §10 as a UAC): REGISTER the
//! trunk's account with our contact, answer the digest challenge, refresh at
//! half the granted lifetime, and on refusal or silence retry with back-off
//! (30 s doubling to 10 min, or the provider's Retry-After), moving to the
//! next address of the host. One Call-ID and a growing CSeq across refreshes,
//! as the RFC asks, so the provider sees one binding.

use switchboard_center::{RegistrationState, TrunkHealth, TrunkRegistrationView};
use switchboard_sip::builder::{new_branch, new_call_id, new_tag};
use switchboard_sip::{Dialog, NameAddr, Peer, Request, Response, Transport, TxKey, Uri};

use super::TrunkRequest;
use crate::{Switch, Trunk};

/// First retry delay after a failure (ms); doubles up to [`MAX_BACKOFF_MS`].
const FIRST_BACKOFF_MS: u64 = 30_000;
/// Longest retry delay (ms).
const MAX_BACKOFF_MS: u64 = 600_000;
/// Shortest refresh interval we accept from a provider (ms).
const MIN_REFRESH_MS: u64 = 5_000;

/// Where a registration stands; each state holds what is valid in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RegState {
    /// No address to send to yet (the host name has not resolved).
    Waiting,
    /// A REGISTER is out; `authed` once it carries credentials.
    Registering {
        /// Its client transaction.
        key: TxKey,
        /// Whether it already answers a challenge.
        authed: bool,
    },
    /// Registered until `expires_at`; refreshed at `refresh_at`.
    Registered {
        /// When the provider forgets the binding.
        expires_at: u64,
        /// When the refresh goes out.
        refresh_at: u64,
    },
    /// Refused or unanswered; tried again at `retry_at`.
    Failed {
        /// What went wrong, for the admin.
        reason: String,
        /// Next attempt.
        retry_at: u64,
    },
}

/// A trunk's registration.
#[derive(Debug, Clone)]
pub(crate) struct Registration {
    pub(crate) state: RegState,
    dialog: Dialog,
    /// The REGISTER last sent (the base of an authenticated retry).
    last: Option<Request>,
    /// Failures in a row (back-off).
    failures: u32,
    /// Lifetime we ask for (s); raised by a 423's Min-Expires.
    expires: u32,
    /// Addresses tried since the last success (a 5xx or silence moves on
    /// to the next address at once; back-off starts when all were tried).
    tried: Vec<std::net::SocketAddr>,
}

impl Registration {
    /// A registration not yet sent.
    pub(crate) fn new(cfg: &Trunk, _now: u64) -> Registration {
        let domain = cfg.domain();
        let user = cfg.username.clone().unwrap_or_default();
        let aor = NameAddr::new(Uri::sip(Some(&user), &domain, None));
        let dialog = Dialog::uac(
            new_call_id(),
            new_tag(),
            aor.clone(),
            aor,
            Uri::sip(None, &domain, cfg.port),
            Peer {
                addr: ([0, 0, 0, 0], 0).into(),
                transport: Transport::Udp,
            },
        );
        Registration {
            state: RegState::Waiting,
            dialog,
            last: None,
            failures: 0,
            expires: cfg.register_expires_secs.max(60),
            tried: Vec::new(),
        }
    }

    /// When this registration needs the switch next (a waiting one: as
    /// soon as its trunk has an address).
    pub(crate) fn deadline(&self) -> Option<u64> {
        match &self.state {
            RegState::Registered { refresh_at, .. } => Some(*refresh_at),
            RegState::Failed { retry_at, .. } => Some(*retry_at),
            RegState::Waiting => Some(0),
            RegState::Registering { .. } => None,
        }
    }

    /// Whether a REGISTER is due (or possible for the first time).
    pub(crate) fn due(&self, now: u64) -> bool {
        self.deadline().is_some_and(|d| d <= now)
    }

    /// The admin's view.
    pub(crate) fn view(&self, now: u64) -> TrunkRegistrationView {
        let secs = |t: u64| Some(t.saturating_sub(now) / 1000);
        match &self.state {
            RegState::Waiting => view(RegistrationState::Waiting, None, None, None),
            RegState::Registering { .. } => view(RegistrationState::Registering, None, None, None),
            RegState::Registered { expires_at, .. } => {
                view(RegistrationState::Registered, None, secs(*expires_at), None)
            }
            RegState::Failed { reason, retry_at } => view(
                RegistrationState::Failed,
                Some(reason.clone()),
                None,
                secs(*retry_at),
            ),
        }
    }

    /// The address failed (5xx, no answer): the next untried one gets the
    /// REGISTER at once; once every address was tried, back off.
    fn fail_over(&mut self, reason: String, targets: &[std::net::SocketAddr], now: u64) {
        if targets.iter().any(|t| !self.tried.contains(t)) {
            self.last = None;
            self.state = RegState::Failed {
                reason,
                retry_at: now,
            };
        } else {
            self.fail(reason, None, now);
        }
    }

    fn fail(&mut self, reason: String, retry_after_ms: Option<u64>, now: u64) {
        self.tried.clear();
        self.failures += 1;
        let backoff = FIRST_BACKOFF_MS
            .saturating_mul(1 << (self.failures - 1).min(5))
            .min(MAX_BACKOFF_MS);
        let retry_at = now + retry_after_ms.unwrap_or(backoff);
        self.last = None;
        self.state = RegState::Failed { reason, retry_at };
    }
}

fn view(
    state: RegistrationState,
    reason: Option<String>,
    expires_in_secs: Option<u64>,
    retry_in_secs: Option<u64>,
) -> TrunkRegistrationView {
    TrunkRegistrationView {
        state,
        reason,
        expires_in_secs,
        retry_in_secs,
    }
}

/// The lifetime a 2xx to our REGISTER grants our contact (s): its Contact's
/// `expires` parameter, else the Expires header, else what we asked.
fn granted(resp: &Response, contact_user: &str, asked: u32) -> u32 {
    let ours = resp
        .headers_all("Contact")
        .into_iter()
        .filter_map(|c| NameAddr::parse(c.trim()).ok())
        .find(|c| c.uri.user.as_deref() == Some(contact_user))
        .and_then(|c| c.param("expires").and_then(|e| e.parse().ok()));
    ours.or_else(|| resp.header("Expires").and_then(|e| e.trim().parse().ok()))
        .unwrap_or(asked)
}

impl Switch {
    /// Send the REGISTER of trunk `i` (first try or refresh) to its best address.
    pub(crate) fn send_register(&mut self, i: usize) {
        let now = self.now;
        let Some(transport) = self.trunks.list.get(i).map(|t| t.cfg.transport) else {
            return;
        };
        let via = self.via_host_for(transport);
        let contact_host = via.clone();
        let Some(t) = self.trunks.list.get_mut(i) else {
            return;
        };
        let Some(reg) = t.registration.as_mut() else {
            return;
        };
        let untried: Vec<_> = t
            .targets
            .iter()
            .filter(|x| !reg.tried.contains(&x.addr))
            .collect();
        let Some(target) = untried
            .iter()
            .find(|x| x.health != TrunkHealth::Down)
            .or(untried.first())
            .or(t.targets.first().as_ref())
            .map(|x| x.addr)
        else {
            return;
        };
        reg.tried.push(target);
        let user = t.cfg.username.clone().unwrap_or_default();
        let transport = t.cfg.transport;
        reg.dialog.peer = Peer {
            addr: target,
            transport,
        };
        // Over TCP the provider's calls must come back over TCP.
        let contact = match transport {
            Transport::Udp => format!("<sip:{user}@{contact_host}>"),
            t => format!(
                "<sip:{user}@{contact_host};transport={}>",
                t.as_str().to_ascii_lowercase()
            ),
        };
        let mut req = reg
            .dialog
            .request("REGISTER", &via, &contact, &new_branch());
        req.headers.push("Expires", reg.expires.to_string());
        req.headers.push("Allow", crate::sip_in::ALLOW);
        let peer = reg.dialog.peer;
        reg.last = Some(req.clone());
        tracing::info!(trunk = t.cfg.name, to = %target, "registering");
        match self.tl.send_request(req, peer, now) {
            Some(key) => {
                reg.state = RegState::Registering {
                    key: key.clone(),
                    authed: false,
                };
                self.trunk_tx.insert(key, TrunkRequest::Register(i));
            }
            None => reg.fail("the REGISTER could not be built".into(), None, now),
        }
    }

    /// A response to trunk `i`'s REGISTER.
    pub(crate) fn on_register_response(&mut self, i: usize, key: TxKey, resp: Response) {
        if resp.status < 200 {
            return;
        }
        self.trunk_tx.remove(&key);
        let now = self.now;
        let Some(t) = self.trunks.list.get_mut(i) else {
            return;
        };
        let name = t.cfg.name.clone();
        let target = t.registration.as_ref().map(|r| r.dialog.peer.addr);
        let Some(reg) = t.registration.as_mut() else {
            return;
        };
        let RegState::Registering { key: k, authed } = &reg.state else {
            return;
        };
        if *k != key {
            return; // an older attempt's late answer
        }
        let authed = *authed;
        let user = t.cfg.username.clone().unwrap_or_default();
        let status = resp.status;
        let reason = format!("{} {}", status, resp.reason);
        if let Some(addr) = target {
            // Any answer shows the host is alive.
            if let Some(x) = t.targets.iter_mut().find(|x| x.addr == addr) {
                x.health = TrunkHealth::Up;
                x.reason = None;
            }
        }
        match status {
            200..=299 => {
                let secs = granted(&resp, &user, reg.expires) as u64;
                if secs == 0 {
                    reg.fail(format!("{reason} without a lifetime"), None, now);
                    return;
                }
                let expires_at = now + secs * 1000;
                let refresh_at = now + (secs * 1000 / 2).max(MIN_REFRESH_MS);
                tracing::info!(trunk = name, expires = secs, "registered");
                reg.failures = 0;
                reg.tried.clear();
                reg.state = RegState::Registered {
                    expires_at,
                    refresh_at,
                };
            }
            401 | 407 => {
                let stale = resp
                    .headers_all(if status == 401 {
                        "WWW-Authenticate"
                    } else {
                        "Proxy-Authenticate"
                    })
                    .iter()
                    .any(|c| c.to_ascii_lowercase().contains("stale=true"));
                let pw = t.cfg.password.clone().unwrap_or_default();
                let retry = match (&reg.last, authed && !stale) {
                    (Some(last), false) => {
                        let last = last.clone();
                        reg.dialog
                            .auth_retry(&last, &resp, &user, &pw, &new_branch())
                    }
                    _ => None,
                };
                let Some(req) = retry else {
                    let why = if authed {
                        format!("{reason}: the provider refused the username or password")
                    } else {
                        format!("{reason}: no challenge we can answer (no credentials?)")
                    };
                    tracing::warn!(trunk = name, reason = why, "registration refused");
                    reg.fail(why, None, now);
                    return;
                };
                let peer = reg.dialog.peer;
                reg.last = Some(req.clone());
                match self.tl.send_request(req, peer, now) {
                    Some(k) => {
                        reg.state = RegState::Registering {
                            key: k.clone(),
                            authed: true,
                        };
                        self.trunk_tx.insert(k, TrunkRequest::Register(i));
                    }
                    None => reg.fail(reason, None, now),
                }
            }
            423 => {
                // Interval Too Brief: ask again at once with the provider's minimum.
                let min = resp
                    .header("Min-Expires")
                    .and_then(|m| m.trim().parse::<u32>().ok());
                match min {
                    Some(m) if m > reg.expires && m <= 86_400 => {
                        reg.expires = m;
                        reg.state = RegState::Failed {
                            reason,
                            retry_at: now,
                        };
                    }
                    _ => reg.fail(reason, None, now),
                }
            }
            408 | 500 | 502 | 503 | 504 => {
                tracing::warn!(
                    trunk = name,
                    reason,
                    "registration refused: trying the next address"
                );
                let targets: Vec<_> = t.targets.iter().map(|x| x.addr).collect();
                reg.fail_over(reason, &targets, now);
            }
            _ => {
                let retry_after = resp
                    .header("Retry-After")
                    .and_then(|r| r.split(';').next()?.trim().parse::<u64>().ok())
                    .map(|s| s.clamp(5, 3600) * 1000);
                tracing::warn!(trunk = name, reason, "registration refused");
                reg.fail(reason, retry_after, now);
            }
        }
    }

    /// Trunk `i`'s REGISTER got no answer at all: the address is down and
    /// the next attempt goes to the next one.
    pub(crate) fn on_register_timeout(&mut self, i: usize) {
        let now = self.now;
        let Some(t) = self.trunks.list.get_mut(i) else {
            return;
        };
        let Some(reg) = t.registration.as_mut() else {
            return;
        };
        let addr = reg.dialog.peer.addr;
        let targets: Vec<_> = t.targets.iter().map(|x| x.addr).collect();
        reg.fail_over(format!("no response from {addr}"), &targets, now);
        self.trunks
            .mark(i, addr, TrunkHealth::Down, "no response to REGISTER");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_ten_minutes_and_honours_retry_after() {
        let cfg = Trunk::at("p", "10.0.0.1:5060".parse().unwrap());
        let mut r = Registration::new(&cfg, 0);
        let mut waits = Vec::new();
        for _ in 0..8 {
            r.fail("503".into(), None, 0);
            waits.push(r.deadline().unwrap());
        }
        assert_eq!(
            waits,
            [30_000, 60_000, 120_000, 240_000, 480_000, 600_000, 600_000, 600_000]
        );
        r.fail("503".into(), Some(7_000), 0);
        assert_eq!(r.deadline(), Some(7_000));
    }

    fn response(extra: &str) -> Response {
        let text = format!(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\r\n\
             From: <sip:acme@p>;tag=a\r\nTo: <sip:acme@p>;tag=b\r\nCall-ID: c\r\n\
             CSeq: 1 REGISTER\r\n{extra}Content-Length: 0\r\n\r\n"
        );
        match switchboard_sip::parse_message(text.as_bytes()) {
            Ok(switchboard_sip::Message::Response(r)) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn granted_lifetime_from_our_contact_then_expires() {
        let resp = response(
            "Contact: <sip:other@10.0.0.5>;expires=30, <sip:acme@127.0.0.1:5060>;expires=120\r\n\
             Expires: 3600\r\n",
        );
        assert_eq!(granted(&resp, "acme", 600), 120);
        assert_eq!(granted(&resp, "nobody", 600), 3600);
        assert_eq!(granted(&response(""), "acme", 600), 600);
    }
}
