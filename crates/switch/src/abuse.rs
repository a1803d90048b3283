//! Abuse limits, in one place: a per-source SIP request rate limit with a
//! temporary ban list (like Kamailio's pike), and failed-authentication
//! limits per source (which ban it) and per user (which refuse that user's
//! credentials for a while, whatever the source). A banned source's
//! datagrams are dropped without an answer. Trusted sources (trunks) are
//! never limited. Every table is bounded and swept on the clock.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

/// Limits, from the server configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbuseLimits {
    /// SIP requests one source IP may send per `rate_window_ms` before being
    /// banned (0: no rate limit).
    pub requests_per_window: u32,
    /// Sampling window of the rate limit (ms).
    pub rate_window_ms: u64,
    /// Failed authentications from one source IP per `auth_window_ms` before
    /// it is banned (0: no limit).
    pub auth_failures_per_source: u32,
    /// Failed authentications for one user per `auth_window_ms` before that
    /// user's credentials are refused until the window ends (0: no limit).
    pub auth_failures_per_user: u32,
    /// Window of the failed-authentication limits (ms).
    pub auth_window_ms: u64,
    /// How long a ban lasts (ms).
    pub ban_ms: u64,
    /// Sources and users tracked at most per table (memory bound).
    pub max_tracked: usize,
}

impl Default for AbuseLimits {
    fn default() -> Self {
        AbuseLimits {
            requests_per_window: 500,
            rate_window_ms: 1_000,
            auth_failures_per_source: 20,
            auth_failures_per_user: 10,
            auth_window_ms: 60_000,
            ban_ms: 600_000,
            max_tracked: 65_536,
        }
    }
}

/// Why a source was banned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BanReason {
    /// Too many requests in the rate window.
    Rate,
    /// Too many failed authentications.
    AuthFailures,
}

/// Counts in a fixed window.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: u64,
    count: u32,
}

impl Window {
    /// Count one more at `now` in windows of `len` ms; returns the count.
    fn hit(&mut self, now: u64, len: u64) -> u32 {
        if now >= self.start.saturating_add(len) {
            *self = Window {
                start: now,
                count: 0,
            };
        }
        self.count = self.count.saturating_add(1);
        self.count
    }
}

/// Counters of the abuse limits (for [`crate::SwitchStats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AbuseStats {
    /// Sources banned right now.
    pub banned_sources: usize,
    /// Datagrams dropped from banned sources since start.
    pub dropped: u64,
    /// Failed authentications since start.
    pub auth_failures: u64,
}

/// The abuse state: windows per source and user, and the bans.
#[derive(Debug)]
pub struct Abuse {
    limits: AbuseLimits,
    trusted: Vec<crate::SourceNet>,
    rate: HashMap<IpAddr, Window>,
    source_failures: HashMap<IpAddr, Window>,
    user_failures: HashMap<String, Window>,
    /// Banned sources and when their ban ends.
    banned: HashMap<IpAddr, u64>,
    dropped: u64,
    auth_failures: u64,
}

impl Abuse {
    /// Limits for every source but `trusted` (trunks).
    pub fn new(limits: AbuseLimits, trusted: Vec<crate::SourceNet>) -> Abuse {
        Abuse {
            limits,
            trusted,
            rate: HashMap::new(),
            source_failures: HashMap::new(),
            user_failures: HashMap::new(),
            banned: HashMap::new(),
            dropped: 0,
            auth_failures: 0,
        }
    }

    fn is_trusted(&self, from: SocketAddr) -> bool {
        self.trusted.iter().any(|t| t.matches(from))
    }

    /// Replace the trusted sources (a trunk's host name resolved anew).
    pub fn set_trusted(&mut self, trusted: Vec<crate::SourceNet>) {
        self.trusted = trusted;
    }

    /// Is `from` banned at `now`? Counts the datagram as dropped when it is.
    pub fn drop_datagram(&mut self, from: SocketAddr, now: u64) -> bool {
        match self.banned.get(&from.ip()) {
            Some(until) if *until > now => {
                self.dropped += 1;
                true
            }
            Some(_) => {
                self.banned.remove(&from.ip());
                false
            }
            None => false,
        }
    }

    /// Count a request from `from`; `true` when it went over the rate and the
    /// source is now banned (the request is then dropped).
    pub fn over_rate(&mut self, from: SocketAddr, now: u64) -> bool {
        let max = self.limits.requests_per_window;
        if max == 0 || self.is_trusted(from) {
            return false;
        }
        let ip = from.ip();
        let len = self.limits.rate_window_ms;
        let Some(n) = hit(&mut self.rate, ip, now, len, self.limits.max_tracked) else {
            return false;
        };
        if n > max {
            self.ban(ip, now, BanReason::Rate);
            self.dropped += 1;
            return true;
        }
        false
    }

    /// Are `user`'s credentials refused right now (too many failures)?
    pub fn user_locked(&self, user: &str, now: u64) -> bool {
        let max = self.limits.auth_failures_per_user;
        max != 0
            && self.user_failures.get(user).is_some_and(|w| {
                w.count >= max && now < w.start.saturating_add(self.limits.auth_window_ms)
            })
    }

    /// Record a failed authentication of `user` from `from`; `true` when the
    /// source is banned by it.
    pub fn auth_failed(&mut self, from: SocketAddr, user: &str, now: u64) -> bool {
        self.auth_failures += 1;
        if self.is_trusted(from) {
            return false;
        }
        let (len, cap) = (self.limits.auth_window_ms, self.limits.max_tracked);
        if self.limits.auth_failures_per_user != 0 {
            hit(&mut self.user_failures, user.to_string(), now, len, cap);
        }
        let max = self.limits.auth_failures_per_source;
        let ip = from.ip();
        match hit(&mut self.source_failures, ip, now, len, cap) {
            Some(n) if max != 0 && n >= max => {
                self.ban(ip, now, BanReason::AuthFailures);
                true
            }
            _ => false,
        }
    }

    fn ban(&mut self, ip: IpAddr, now: u64, reason: BanReason) {
        if self.banned.len() >= self.limits.max_tracked {
            self.banned.retain(|_, until| *until > now);
        }
        let until = now.saturating_add(self.limits.ban_ms);
        if self.banned.insert(ip, until).is_none() {
            tracing::warn!(source = %ip, ?reason, ban_ms = self.limits.ban_ms, "banning SIP source");
        }
        self.rate.remove(&ip);
        self.source_failures.remove(&ip);
    }

    /// Drop ended windows and bans.
    pub fn sweep(&mut self, now: u64) {
        let (rate, auth) = (self.limits.rate_window_ms, self.limits.auth_window_ms);
        self.rate.retain(|_, w| now < w.start.saturating_add(rate));
        self.source_failures
            .retain(|_, w| now < w.start.saturating_add(auth));
        self.user_failures
            .retain(|_, w| now < w.start.saturating_add(auth));
        self.banned.retain(|_, until| *until > now);
    }

    /// Counters for the switch's stats.
    pub fn stats(&self, now: u64) -> AbuseStats {
        AbuseStats {
            banned_sources: self.banned.values().filter(|u| **u > now).count(),
            dropped: self.dropped,
            auth_failures: self.auth_failures,
        }
    }

    /// Entries held in the tables (sources, users, bans).
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.rate.len() + self.source_failures.len() + self.user_failures.len() + self.banned.len()
    }
}

/// Count a hit for `key` in `map` (windows of `len` ms, at most `cap` keys:
/// when full, ended windows are swept; if still full the key is not counted).
fn hit<K: std::hash::Hash + Eq>(
    map: &mut HashMap<K, Window>,
    key: K,
    now: u64,
    len: u64,
    cap: usize,
) -> Option<u32> {
    if !map.contains_key(&key) && map.len() >= cap {
        map.retain(|_, w| now < w.start.saturating_add(len));
        if map.len() >= cap {
            return None;
        }
    }
    Some(
        map.entry(key)
            .or_insert(Window {
                start: now,
                count: 0,
            })
            .hit(now, len),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn limits() -> AbuseLimits {
        AbuseLimits {
            requests_per_window: 5,
            rate_window_ms: 1_000,
            auth_failures_per_source: 3,
            auth_failures_per_user: 2,
            auth_window_ms: 60_000,
            ban_ms: 10_000,
            max_tracked: 4,
        }
    }

    #[test]
    fn rate_over_the_limit_bans_the_source_until_the_ban_ends() {
        let mut a = Abuse::new(
            limits(),
            vec![crate::SourceNet::Exact(addr("10.0.0.9:5090"))],
        );
        let src = addr("10.0.0.1:5060");
        for _ in 0..5 {
            assert!(!a.over_rate(src, 0));
        }
        assert!(a.over_rate(src, 10), "sixth request in the window");
        assert!(
            a.drop_datagram(addr("10.0.0.1:9999"), 20),
            "any port of the IP"
        );
        assert_eq!(a.stats(20).banned_sources, 1);
        assert!(!a.drop_datagram(addr("10.0.0.2:5060"), 20));
        assert!(!a.drop_datagram(src, 10_010), "ban over");
        // A new window forgives, and trusted trunks are never limited.
        for t in 0..100 {
            assert!(!a.over_rate(addr("10.0.0.9:5090"), t));
        }
        for t in 0..5 {
            assert!(!a.over_rate(addr("10.0.0.3:5060"), t));
        }
        assert!(!a.over_rate(addr("10.0.0.3:5060"), 1_000));
        assert_eq!(a.stats(20_000).dropped, 2);
    }

    #[test]
    fn failed_authentications_lock_the_user_and_ban_the_source() {
        let mut a = Abuse::new(limits(), vec![]);
        let (s1, s2) = (addr("10.0.0.1:5060"), addr("10.0.0.2:5060"));
        assert!(!a.user_locked("1001", 0));
        assert!(!a.auth_failed(s1, "1001", 0));
        assert!(!a.user_locked("1001", 0));
        assert!(!a.auth_failed(s2, "1001", 1));
        assert!(a.user_locked("1001", 2), "two failures, two sources");
        assert!(!a.user_locked("1002", 2));
        assert!(!a.user_locked("1001", 60_001), "window over");
        assert!(!a.auth_failed(s1, "1002", 3));
        assert!(
            a.auth_failed(s1, "1003", 4),
            "third failure from s1 bans it"
        );
        assert!(a.drop_datagram(s1, 5));
        assert_eq!(a.stats(5).auth_failures, 4);
    }

    #[test]
    fn tables_stay_bounded_and_sweep_empties_them() {
        let mut a = Abuse::new(limits(), vec![]);
        for i in 0..100u8 {
            a.over_rate(addr(&format!("10.1.0.{i}:5060")), 0);
            a.auth_failed(addr(&format!("10.2.0.{i}:5060")), &format!("u{i}"), 0);
        }
        assert!(a.tracked() <= 4 * 4, "{}", a.tracked());
        a.sweep(1_000_000);
        assert_eq!(a.tracked(), 0);
        // Zero limits disable the checks.
        let mut off = Abuse::new(
            AbuseLimits {
                requests_per_window: 0,
                auth_failures_per_source: 0,
                auth_failures_per_user: 0,
                ..limits()
            },
            vec![],
        );
        for t in 0..100 {
            assert!(!off.over_rate(addr("10.0.0.1:1"), t));
            assert!(!off.auth_failed(addr("10.0.0.1:1"), "u", t));
        }
        assert!(!off.user_locked("u", 100));
    }
}
