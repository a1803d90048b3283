//! Trunks at run time: the addresses each provider's host name resolved to
//! (fed by the binary, which does the DNS), their health (OPTIONS checks and
//! INVITE timeouts), the registration at the provider, and the choices made
//! from them: which trunk and address an outgoing call tries first and next
//! (priority, dialling prefixes, health), and which trunk an incoming INVITE
//! comes from (trusted networks, or the provider we registered with).

mod health;
mod outbound;
mod registration;
mod source;

use std::net::SocketAddr;

use switchboard_center::{TrunkHealth, TrunkTargetView, TrunkView};

pub(crate) use outbound::fails_over;
pub(crate) use registration::Registration;
pub use source::{BadSource, SourceNet};

use crate::Trunk;

/// Default SIP port when neither the configuration nor DNS gives one.
const SIP_PORT: u16 = 5060;

/// One address of a trunk and what we know of it.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub(crate) addr: SocketAddr,
    pub(crate) health: TrunkHealth,
    pub(crate) reason: Option<String>,
    /// When the next OPTIONS goes out (0: health checks off).
    pub(crate) next_check: u64,
    /// An OPTIONS is out to it.
    pub(crate) checking: bool,
}

/// A trunk's configuration and run-time state.
#[derive(Debug)]
pub(crate) struct TrunkState {
    pub(crate) cfg: Trunk,
    pub(crate) targets: Vec<Target>,
    pub(crate) resolve_error: Option<String>,
    pub(crate) registration: Option<Registration>,
}

/// Every trunk, in configuration order (indexes are stable).
#[derive(Debug, Default)]
pub(crate) struct Trunks {
    pub(crate) list: Vec<TrunkState>,
}

/// A request we sent for a trunk (not for a call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TrunkRequest {
    /// The trunk's REGISTER (or its authenticated retry).
    Register(usize),
    /// An OPTIONS health check to one target.
    Options(usize, SocketAddr),
}

impl Trunks {
    /// The trunks of the configuration; IP literals are targets at once,
    /// host names wait for [`Trunks::set_targets`].
    pub(crate) fn new(cfgs: &[Trunk], now: u64) -> Trunks {
        let list = cfgs
            .iter()
            .map(|cfg| {
                let mut t = TrunkState {
                    registration: cfg.register.then(|| Registration::new(cfg, now)),
                    cfg: cfg.clone(),
                    targets: Vec::new(),
                    resolve_error: None,
                };
                let ip = cfg
                    .host
                    .trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>();
                if let Ok(ip) = ip {
                    let addr = SocketAddr::new(ip, cfg.port.unwrap_or(SIP_PORT));
                    t.set_targets(vec![addr], now);
                }
                t
            })
            .collect();
        Trunks { list }
    }

    /// Whether any trunk is configured.
    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The index of a trunk by name.
    pub(crate) fn index(&self, name: &str) -> Option<usize> {
        self.list.iter().position(|t| t.cfg.name == name)
    }

    /// Where a call to `number` goes, in the order to try: trunks carrying
    /// the number by priority (configuration order among equals), and in
    /// each its targets in DNS order with the ones known down last.
    pub(crate) fn candidates(&self, number: &str) -> Vec<(usize, SocketAddr)> {
        let mut trunks: Vec<usize> = (0..self.list.len())
            .filter(|i| self.list[*i].cfg.carries(number))
            .collect();
        trunks.sort_by_key(|i| (self.list[*i].is_down(), self.list[*i].cfg.priority));
        self.targets_of(trunks)
    }

    /// Where a call of a campaign whose settings name `names` goes: those
    /// trunks in that order (their priority and prefixes do not apply:
    /// the campaign chose them), the ones known down last; names no trunk
    /// has are skipped.
    pub(crate) fn candidates_named(&self, names: &[String]) -> Vec<(usize, SocketAddr)> {
        let mut trunks: Vec<usize> = names.iter().filter_map(|n| self.index(n)).collect();
        trunks.sort_by_key(|i| self.list[*i].is_down());
        self.targets_of(trunks)
    }

    /// The targets of `trunks`, in that order, each's in DNS order with the ones known down last.
    fn targets_of(&self, trunks: Vec<usize>) -> Vec<(usize, SocketAddr)> {
        let mut out = Vec::new();
        for i in trunks {
            let t = &self.list[i];
            let mut targets: Vec<&Target> = t.targets.iter().collect();
            targets.sort_by_key(|x| x.health == TrunkHealth::Down);
            out.extend(targets.into_iter().map(|x| (i, x.addr)));
        }
        out
    }

    /// The trunk an INVITE from `addr` comes from: one that trusts the
    /// source, or one we register with whose address (ip and port: other
    /// ports of the host may be phones) it is.
    pub(crate) fn inbound(&self, addr: SocketAddr) -> Option<usize> {
        self.list
            .iter()
            .position(|t| t.cfg.inbound_from.iter().any(|s| s.matches(addr)))
            .or_else(|| {
                self.list.iter().position(|t| {
                    t.registration.is_some() && t.targets.iter().any(|x| x.addr == addr)
                })
            })
    }

    /// Sources never rate-limited: every trunk's trusted networks and the
    /// addresses its host resolved to.
    pub(crate) fn trusted(&self) -> Vec<SourceNet> {
        self.list
            .iter()
            .flat_map(|t| {
                t.cfg
                    .inbound_from
                    .iter()
                    .copied()
                    .chain(t.targets.iter().map(|x| SourceNet::Exact(x.addr)))
            })
            .collect()
    }

    /// Record what a target's answer (or silence) says about it.
    pub(crate) fn mark(&mut self, trunk: usize, addr: SocketAddr, health: TrunkHealth, why: &str) {
        let Some(t) = self.list.get_mut(trunk) else {
            return;
        };
        if let Some(x) = t.targets.iter_mut().find(|x| x.addr == addr) {
            if x.health != health {
                tracing::info!(trunk = t.cfg.name, target = %addr, ?health, why, "trunk target health");
            }
            x.health = health;
            x.reason = (health == TrunkHealth::Down).then(|| why.to_string());
        }
    }

    /// The admin's view of every trunk at `now`.
    pub(crate) fn views(&self, now: u64) -> Vec<TrunkView> {
        self.list
            .iter()
            .map(|t| TrunkView {
                name: t.cfg.name.clone(),
                host: t.cfg.host.clone(),
                priority: t.cfg.priority,
                health: t.health(),
                targets: t
                    .targets
                    .iter()
                    .map(|x| TrunkTargetView {
                        address: x.addr.to_string(),
                        health: x.health,
                        reason: x.reason.clone(),
                    })
                    .collect(),
                resolve_error: t.resolve_error.clone(),
                registration: t.registration.as_ref().map(|r| r.view(now)),
            })
            .collect()
    }

    /// The earliest deadline of any trunk (registration refresh or retry, health check).
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.list
            .iter()
            .flat_map(|t| {
                let checks = t
                    .targets
                    .iter()
                    .filter(|x| x.next_check > 0 && !x.checking)
                    .map(|x| x.next_check);
                let reg = t.registration.as_ref().filter(|_| !t.targets.is_empty());
                checks.chain(reg.and_then(|r| r.deadline()))
            })
            .min()
    }
}

impl TrunkState {
    /// Overall health: up if a target is up, down if all are, unknown otherwise.
    pub(crate) fn health(&self) -> TrunkHealth {
        if self.targets.iter().any(|x| x.health == TrunkHealth::Up) {
            TrunkHealth::Up
        } else if !self.targets.is_empty()
            && self.targets.iter().all(|x| x.health == TrunkHealth::Down)
        {
            TrunkHealth::Down
        } else {
            TrunkHealth::Unknown
        }
    }

    fn is_down(&self) -> bool {
        self.targets.is_empty() || self.health() == TrunkHealth::Down
    }

    /// New addresses from DNS, best first; known ones keep their health.
    pub(crate) fn set_targets(&mut self, addrs: Vec<SocketAddr>, now: u64) {
        let interval = self.cfg.options_interval_secs * 1000;
        let old = std::mem::take(&mut self.targets);
        let mut seen = Vec::new();
        for addr in addrs {
            if seen.contains(&addr) {
                continue;
            }
            seen.push(addr);
            let kept = old.iter().find(|x| x.addr == addr).cloned();
            self.targets.push(kept.unwrap_or(Target {
                addr,
                health: TrunkHealth::Unknown,
                reason: None,
                next_check: if interval > 0 { now } else { 0 },
                checking: false,
            }));
        }
        self.resolve_error = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trunk(name: &str, addr: &str, priority: u32, prefixes: &[&str]) -> Trunk {
        let mut t = Trunk::at(name, addr.parse().unwrap());
        t.priority = priority;
        t.prefixes = prefixes.iter().map(|p| p.to_string()).collect();
        t
    }

    #[test]
    fn candidates_by_priority_prefix_and_health() {
        let cfgs = vec![
            trunk("backup", "10.0.0.2:5060", 2, &[]),
            trunk("main", "10.0.0.1:5060", 1, &[]),
            trunk("spain", "10.0.0.3:5060", 0, &["+34"]),
        ];
        let mut t = Trunks::new(&cfgs, 0);
        let names = |t: &Trunks, n: &str| -> Vec<String> {
            t.candidates(n)
                .into_iter()
                .map(|(i, _)| t.list[i].cfg.name.clone())
                .collect()
        };
        assert_eq!(names(&t, "+4420"), ["main", "backup"]);
        assert_eq!(names(&t, "+3491"), ["spain", "main", "backup"]);
        let main = "10.0.0.1:5060".parse().unwrap();
        t.mark(1, main, TrunkHealth::Down, "no response");
        assert_eq!(
            names(&t, "+4420"),
            ["backup", "main"],
            "a down trunk goes last"
        );
        t.mark(1, main, TrunkHealth::Up, "");
        assert_eq!(names(&t, "+4420"), ["main", "backup"]);
    }

    #[test]
    fn campaign_trunks_in_their_order_whatever_priority_and_prefix() {
        let cfgs = vec![
            trunk("main", "10.0.0.1:5060", 1, &[]),
            trunk("spain", "10.0.0.3:5060", 0, &["+34"]),
            trunk("backup", "10.0.0.2:5060", 2, &[]),
        ];
        let mut t = Trunks::new(&cfgs, 0);
        let names = |t: &Trunks, list: &[&str]| -> Vec<String> {
            let list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
            t.candidates_named(&list)
                .into_iter()
                .map(|(i, _)| t.list[i].cfg.name.clone())
                .collect()
        };
        assert_eq!(names(&t, &["backup", "spain"]), ["backup", "spain"]);
        assert_eq!(
            names(&t, &["gone", "main"]),
            ["main"],
            "unknown names skipped"
        );
        t.mark(
            2,
            "10.0.0.2:5060".parse().unwrap(),
            TrunkHealth::Down,
            "503",
        );
        assert_eq!(names(&t, &["backup", "spain"]), ["spain", "backup"]);
        assert!(names(&t, &["gone"]).is_empty());
    }

    #[test]
    fn targets_keep_dns_order_and_health_and_down_ones_go_last() {
        let mut cfg = Trunk::at("p", "10.0.0.1:5060".parse().unwrap());
        cfg.host = "sip.provider.test".into();
        cfg.port = None;
        let mut t = Trunks::new(&[cfg], 0);
        assert!(t.candidates("1").is_empty(), "nothing until DNS answers");
        let (a, b): (SocketAddr, SocketAddr) = (
            "10.0.0.7:5070".parse().unwrap(),
            "10.0.0.8:5080".parse().unwrap(),
        );
        t.list[0].set_targets(vec![a, b, a], 0);
        assert_eq!(t.candidates("1"), [(0, a), (0, b)]);
        t.mark(0, a, TrunkHealth::Down, "no response");
        assert_eq!(t.candidates("1"), [(0, b), (0, a)]);
        t.list[0].set_targets(vec![a, b], 0);
        assert_eq!(
            t.list[0].targets[0].health,
            TrunkHealth::Down,
            "kept across refreshes"
        );
    }

    #[test]
    fn inbound_by_network_or_by_registration() {
        let mut net = trunk("net", "10.0.0.1:5060", 0, &[]);
        net.inbound_from = vec!["192.0.2.0/24".parse().unwrap()];
        let mut reg = trunk("reg", "10.0.0.9:5060", 0, &[]);
        reg.inbound_from.clear();
        reg.register = true;
        reg.username = Some("acme".into());
        let t = Trunks::new(&[net, reg], 0);
        assert_eq!(t.inbound("192.0.2.77:5060".parse().unwrap()), Some(0));
        assert_eq!(t.inbound("10.0.0.9:5060".parse().unwrap()), Some(1));
        assert_eq!(
            t.inbound("10.0.0.9:5099".parse().unwrap()),
            None,
            "another port: a phone"
        );
        assert_eq!(t.inbound("10.0.0.1:5060".parse().unwrap()), None);
    }
}
