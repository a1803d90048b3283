//! Where a trunk's inbound calls may come from: an exact `ip:port`, any
//! port of one address, or a network in CIDR notation (providers send from
//! pools of addresses). CIDR parsing and matching come from the `ipnet` crate.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use ipnet::IpNet;

/// One trusted source of a trunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceNet {
    /// Exactly this address and port (`203.0.113.5:5060`).
    Exact(SocketAddr),
    /// Any port of this address (`203.0.113.5`).
    Host(IpAddr),
    /// Any address in this network (`203.0.113.0/24`).
    Net(IpNet),
}

impl SourceNet {
    /// Whether a datagram from `addr` comes from this source.
    pub fn matches(&self, addr: SocketAddr) -> bool {
        match self {
            SourceNet::Exact(a) => *a == addr,
            SourceNet::Host(ip) => *ip == addr.ip(),
            SourceNet::Net(n) => n.contains(&addr.ip()),
        }
    }
}

/// A source that is neither `ip`, `ip:port` nor `network/prefix`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an address (203.0.113.5), an address and port (203.0.113.5:5060) or a network (203.0.113.0/24)")]
pub struct BadSource(pub String);

impl FromStr for SourceNet {
    type Err = BadSource;

    fn from_str(s: &str) -> Result<SourceNet, BadSource> {
        let s = s.trim();
        if let Ok(a) = s.parse::<SocketAddr>() {
            return Ok(SourceNet::Exact(a));
        }
        if let Ok(ip) = s.trim_matches(['[', ']']).parse::<IpAddr>() {
            return Ok(SourceNet::Host(ip));
        }
        s.parse::<IpNet>()
            .map(|n| SourceNet::Net(n.trunc()))
            .map_err(|_| BadSource(s.to_string()))
    }
}

impl fmt::Display for SourceNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceNet::Exact(a) => write!(f, "{a}"),
            SourceNet::Host(ip) => write!(f, "{ip}"),
            SourceNet::Net(n) => write!(f, "{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forms_and_matching() {
        let exact: SourceNet = "203.0.113.5:5060".parse().unwrap();
        assert!(exact.matches(a("203.0.113.5:5060")));
        assert!(!exact.matches(a("203.0.113.5:5061")));
        let host: SourceNet = "203.0.113.5".parse().unwrap();
        assert!(host.matches(a("203.0.113.5:40000")));
        assert!(!host.matches(a("203.0.113.6:5060")));
        let net: SourceNet = "203.0.113.9/24".parse().unwrap();
        assert_eq!(net.to_string(), "203.0.113.0/24");
        assert!(net.matches(a("203.0.113.200:5060")));
        assert!(!net.matches(a("203.0.114.1:5060")));
        let v6: SourceNet = "2001:db8::/32".parse().unwrap();
        assert!(v6.matches(a("[2001:db8::1]:5060")));
        let v6host: SourceNet = "[2001:db8::1]".parse().unwrap();
        assert!(v6host.matches(a("[2001:db8::1]:5062")));
    }

    #[test]
    fn bad_sources_are_refused_with_the_forms() {
        for bad in ["", "provider.example", "203.0.113.0/33", "1.2.3.4:99999"] {
            let e = bad.parse::<SourceNet>().unwrap_err();
            assert!(e.to_string().contains("203.0.113.0/24"), "{e}");
        }
    }
}
