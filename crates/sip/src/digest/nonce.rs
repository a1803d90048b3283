//! Server nonces that validate without state, and the nonce-count record
//! that refuses a replayed `nc` (RFC 7616 §3.3, §5.12).
//!
//! A nonce is `TIME-SEQ-MAC`: the issue time (ms, hex), a per-process
//! sequence number (hex, so two challenges in the same millisecond differ)
//! and HMAC-SHA-256 over (time, sequence, realm) keyed with a secret the
//! owner injects, truncated to 128 bits. Checking one needs only the secret.

use std::collections::{BTreeSet, HashMap};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Bytes of the HMAC kept in a nonce.
const MAC_LEN: usize = 16;

/// The issue time and sequence number carried by a nonce whose MAC is valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NonceStamp {
    /// Issue time, ms since the epoch.
    pub issued_ms: u64,
    /// Sequence number of the challenge.
    pub seq: u64,
}

/// Mints and checks nonces with a secret key bound to one realm.
#[derive(Clone)]
pub struct NonceKey {
    secret: [u8; 32],
    realm: String,
}

impl std::fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceKey")
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

impl NonceKey {
    /// A key for `realm` from an injected secret.
    pub fn new(secret: [u8; 32], realm: &str) -> NonceKey {
        NonceKey {
            secret,
            realm: realm.to_string(),
        }
    }

    fn mac(&self, issued_ms: u64, seq: u64) -> Hmac<Sha256> {
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret)
            .expect("HMAC takes keys of any length");
        m.update(&issued_ms.to_be_bytes());
        m.update(&seq.to_be_bytes());
        m.update(self.realm.as_bytes());
        m
    }

    /// The nonce for a challenge issued at `issued_ms` with sequence `seq`.
    pub fn mint(&self, issued_ms: u64, seq: u64) -> String {
        let tag = self.mac(issued_ms, seq).finalize().into_bytes();
        let mut s = format!("{issued_ms:x}-{seq:x}-");
        for b in &tag[..MAC_LEN] {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }

    /// The stamp of a nonce we minted, or `None` for anything else (forged,
    /// minted with another secret or realm, malformed).
    pub fn check(&self, nonce: &str) -> Option<NonceStamp> {
        let mut parts = nonce.split('-');
        let (t, s, m) = (parts.next()?, parts.next()?, parts.next()?);
        let hex =
            |x: &str| !x.is_empty() && x.len() <= 16 && x.bytes().all(|b| b.is_ascii_hexdigit());
        if parts.next().is_some() || !hex(t) || !hex(s) || m.len() != MAC_LEN * 2 {
            return None;
        }
        let issued_ms = u64::from_str_radix(t, 16).ok()?;
        let seq = u64::from_str_radix(s, 16).ok()?;
        let tag = unhex(m)?;
        self.mac(issued_ms, seq).verify_truncated_left(&tag).ok()?;
        Some(NonceStamp { issued_ms, seq })
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// What the record says about a nonce count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountCheck {
    /// Higher than any count seen for this nonce: accepted and recorded.
    Fresh,
    /// Already used (or lower than one used): a replay.
    Replayed,
    /// The nonce's record was dropped to bound memory: treat it as stale.
    Forgotten,
}

/// Highest `nc` seen per nonce, for nonces that have not expired. Memory is
/// bounded: past `capacity` entries the oldest nonce is forgotten, and every
/// nonce issued no later than it is refused as stale from then on (so a
/// forgotten nonce can never be replayed).
#[derive(Debug)]
pub struct NonceCounts {
    /// Keyed by the stamp (unique per nonce we minted), not the nonce text.
    highest: HashMap<NonceStamp, u32>,
    by_issue: BTreeSet<NonceStamp>,
    /// Nonces issued at or before this time without a record are refused.
    floor_ms: Option<u64>,
    capacity: usize,
}

impl NonceCounts {
    /// An empty record holding at most `capacity` nonces.
    pub fn new(capacity: usize) -> NonceCounts {
        NonceCounts {
            highest: HashMap::new(),
            by_issue: BTreeSet::new(),
            floor_ms: None,
            capacity: capacity.max(1),
        }
    }

    /// Check `nc` for the nonce stamped `stamp` and record it when fresh.
    pub fn accept(&mut self, stamp: NonceStamp, nc: u32) -> CountCheck {
        let issued_ms = stamp.issued_ms;
        if let Some(h) = self.highest.get_mut(&stamp) {
            if nc <= *h {
                return CountCheck::Replayed;
            }
            *h = nc;
            return CountCheck::Fresh;
        }
        if self.floor_ms.is_some_and(|f| issued_ms <= f) {
            return CountCheck::Forgotten;
        }
        if nc == 0 {
            return CountCheck::Replayed;
        }
        while self.highest.len() >= self.capacity {
            let Some(old) = self.by_issue.pop_first() else {
                break;
            };
            self.highest.remove(&old);
            let t = old.issued_ms;
            self.floor_ms = Some(self.floor_ms.map_or(t, |f| f.max(t)));
        }
        if self.floor_ms.is_some_and(|f| issued_ms <= f) {
            return CountCheck::Forgotten;
        }
        self.highest.insert(stamp, nc);
        self.by_issue.insert(stamp);
        CountCheck::Fresh
    }

    /// Forget nonces issued before `issued_before_ms` (they are stale anyway).
    pub fn expire(&mut self, issued_before_ms: u64) {
        while let Some(first) = self.by_issue.first() {
            if first.issued_ms >= issued_before_ms {
                break;
            }
            if let Some(old) = self.by_issue.pop_first() {
                self.highest.remove(&old);
            }
        }
    }

    /// Nonces currently recorded.
    pub fn len(&self) -> usize {
        self.highest.len()
    }

    /// Whether no nonce is recorded.
    pub fn is_empty(&self) -> bool {
        self.highest.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_nonces_check_and_forgeries_do_not() {
        let k = NonceKey::new([1; 32], "switchboard");
        let n = k.mint(1_000, 7);
        assert_eq!(
            k.check(&n),
            Some(NonceStamp {
                issued_ms: 1_000,
                seq: 7
            })
        );
        assert_ne!(k.mint(1_000, 8), n, "same millisecond, different nonce");
        // Another secret, another realm, a changed time or a flipped MAC bit.
        assert_eq!(NonceKey::new([2; 32], "switchboard").check(&n), None);
        assert_eq!(NonceKey::new([1; 32], "other").check(&n), None);
        let later = n.replacen("3e8-", "ffff-", 1);
        assert_eq!(k.check(&later), None);
        let mut flipped = n.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        assert_eq!(k.check(std::str::from_utf8(&flipped).unwrap()), None);
        for junk in [
            "",
            "-",
            "--",
            "x-y-z",
            "1-2-3-4",
            "é-é-éé",
            "3e8-7-",
            &n.replacen("3e8-", "+3e8-", 1),
            &"f".repeat(10_000),
        ] {
            assert_eq!(k.check(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn counts_refuse_replays_and_stay_bounded() {
        let st = |issued_ms, seq| NonceStamp { issued_ms, seq };
        let (a, b, c2, old) = (st(10, 1), st(20, 2), st(30, 3), st(5, 0));
        let mut c = NonceCounts::new(2);
        assert_eq!(c.accept(a, 1), CountCheck::Fresh);
        assert_eq!(c.accept(a, 1), CountCheck::Replayed);
        assert_eq!(c.accept(a, 2), CountCheck::Fresh);
        assert_eq!(c.accept(a, 1), CountCheck::Replayed);
        assert_eq!(c.accept(b, 0), CountCheck::Replayed, "nc starts at 1");
        assert_eq!(c.accept(b, 1), CountCheck::Fresh);
        // Full: "a" (oldest) is forgotten, and with it every nonce issued by then.
        assert_eq!(c.accept(c2, 1), CountCheck::Fresh);
        assert_eq!(c.len(), 2);
        assert_eq!(c.accept(a, 3), CountCheck::Forgotten);
        assert_eq!(c.accept(old, 1), CountCheck::Forgotten);
        assert_eq!(c.accept(b, 1), CountCheck::Replayed);
        c.expire(25);
        assert_eq!(c.len(), 1, "b expired");
        c.expire(u64::MAX);
        assert!(c.is_empty());
    }
}
