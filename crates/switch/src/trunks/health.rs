//! Trunk upkeep on the switch's clock: OPTIONS health checks of every
//! target (any answer but 503 is up, silence is down), registrations due,
//! the addresses the binary resolved, and routing of the answers to these
//! requests.

use std::net::SocketAddr;

use switchboard_center::TrunkHealth;
use switchboard_sip::{NameAddr, Peer, Response, TxKey, Uri};

use super::TrunkRequest;
use crate::Switch;

impl Switch {
    /// The addresses trunk `name`'s host name resolved to (best first, as
    /// DNS SRV priority and weight order them), or why it did not resolve.
    /// The binary calls this at start and whenever the records' TTL runs
    /// out; addresses already known keep their health. An unknown name is
    /// ignored.
    pub fn set_trunk_targets(
        &mut self,
        now: u64,
        name: &str,
        resolved: Result<Vec<SocketAddr>, String>,
    ) {
        self.set_now(now);
        let Some(i) = self.trunks.index(name) else {
            return;
        };
        let t = &mut self.trunks.list[i];
        match resolved {
            Ok(addrs) if !addrs.is_empty() => {
                let now = self.now;
                t.set_targets(addrs, now);
            }
            Ok(_) => {
                t.resolve_error = Some(format!("{}: no addresses", t.cfg.host));
            }
            Err(e) => {
                tracing::warn!(trunk = t.cfg.name, error = e, "trunk host does not resolve");
                // Known addresses stay usable until DNS answers again.
                t.resolve_error = Some(e);
            }
        }
        let trusted = self.trunks.trusted();
        self.abuse.set_trusted(trusted);
        self.guarded(|s| s.trunks_tick());
    }

    /// Send what is due: registrations (first, refresh, retry) and health checks.
    pub(crate) fn trunks_tick(&mut self) {
        let now = self.now;
        for i in 0..self.trunks.list.len() {
            let t = &self.trunks.list[i];
            let register =
                !t.targets.is_empty() && t.registration.as_ref().is_some_and(|r| r.due(now));
            let checks: Vec<SocketAddr> = t
                .targets
                .iter()
                .filter(|x| x.next_check > 0 && x.next_check <= now && !x.checking)
                .map(|x| x.addr)
                .collect();
            if register {
                self.send_register(i);
            }
            for addr in checks {
                self.send_options(i, addr);
            }
        }
    }

    fn send_options(&mut self, i: usize, addr: SocketAddr) {
        let now = self.now;
        let Some(t) = self.trunks.list.get(i) else {
            return;
        };
        let domain = t.cfg.domain();
        let peer = Peer {
            addr,
            transport: t.cfg.transport,
        };
        let to = NameAddr::new(Uri::sip(None, &domain, None));
        let mut req = self.options_request(to, Uri::sip(None, &domain, t.cfg.port), peer);
        req.headers.push("Accept", "application/sdp");
        let Some(t) = self.trunks.list.get_mut(i) else {
            return;
        };
        let interval = t.cfg.options_interval_secs * 1000;
        let Some(x) = t.targets.iter_mut().find(|x| x.addr == addr) else {
            return;
        };
        x.next_check = now + interval;
        if let Some(key) = self.tl.send_request(req, peer, now) {
            x.checking = true;
            self.trunk_tx.insert(key, TrunkRequest::Options(i, addr));
        }
    }

    /// A response to a trunk's own request (REGISTER or OPTIONS); false
    /// when `key` is not one.
    pub(crate) fn on_trunk_response(&mut self, key: &TxKey, resp: Response) -> bool {
        let Some(&req) = self.trunk_tx.get(key) else {
            return false;
        };
        match req {
            TrunkRequest::Register(i) => self.on_register_response(i, key.clone(), resp),
            TrunkRequest::Options(i, addr) => {
                if resp.status >= 200 {
                    self.trunk_tx.remove(key);
                    self.options_done(i, addr);
                    let why = format!("{} {} to OPTIONS", resp.status, resp.reason);
                    let health = if resp.status == 503 {
                        TrunkHealth::Down
                    } else {
                        TrunkHealth::Up
                    };
                    self.trunks.mark(i, addr, health, &why);
                }
            }
        }
        true
    }

    /// A trunk's request got no answer; false when `key` is not one.
    pub(crate) fn on_trunk_timeout(&mut self, key: &TxKey) -> bool {
        let Some(req) = self.trunk_tx.remove(key) else {
            return false;
        };
        match req {
            TrunkRequest::Register(i) => self.on_register_timeout(i),
            TrunkRequest::Options(i, addr) => {
                self.options_done(i, addr);
                self.trunks
                    .mark(i, addr, TrunkHealth::Down, "no response to OPTIONS");
            }
        }
        true
    }

    fn options_done(&mut self, i: usize, addr: SocketAddr) {
        if let Some(x) = self
            .trunks
            .list
            .get_mut(i)
            .and_then(|t| t.targets.iter_mut().find(|x| x.addr == addr))
        {
            x.checking = false;
        }
    }
}
