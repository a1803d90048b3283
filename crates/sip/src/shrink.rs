//! Giving back the memory of tables that a burst of calls left mostly empty.
//!
//! Hash maps, heaps and queues keep their largest capacity forever: after
//! 800 calls/s for a while, the transaction tables (every transaction lives
//! 32 s after its final response) held tens of megabytes of empty slots once
//! the server was idle again (`switchboard bench memory`). Calling
//! [`Shrink::shrink_idle`] after entries are removed halves such a table
//! whenever less than a quarter of it is used; in steady use it does nothing.

use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::hash::{BuildHasher, Hash};

/// Below this capacity a table is never shrunk (not worth a rehash).
const FLOOR: usize = 1024;

/// True when a table of this capacity holds so few entries that its memory
/// is better given back.
fn mostly_empty(capacity: usize, len: usize) -> bool {
    capacity > FLOOR && capacity / 4 > len
}

/// A collection that can give back capacity it no longer uses.
pub trait Shrink {
    /// Shrink to twice the number of entries if less than a quarter of the
    /// capacity is used. O(1) when nothing is to be done.
    fn shrink_idle(&mut self);
}

impl<K: Hash + Eq, V, S: BuildHasher> Shrink for HashMap<K, V, S> {
    fn shrink_idle(&mut self) {
        if mostly_empty(self.capacity(), self.len()) {
            self.shrink_to(self.len() * 2);
        }
    }
}

impl<T: Ord> Shrink for BinaryHeap<T> {
    fn shrink_idle(&mut self) {
        if mostly_empty(self.capacity(), self.len()) {
            self.shrink_to(self.len() * 2);
        }
    }
}

impl<T> Shrink for VecDeque<T> {
    fn shrink_idle(&mut self) {
        if mostly_empty(self.capacity(), self.len()) {
            self.shrink_to(self.len() * 2);
        }
    }
}

impl<T> Shrink for Vec<T> {
    fn shrink_idle(&mut self) {
        if mostly_empty(self.capacity(), self.len()) {
            self.shrink_to(self.len() * 2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_emptied_after_a_burst_gives_its_memory_back() {
        let mut m: HashMap<u32, [u8; 64]> = (0..10_000).map(|i| (i, [0; 64])).collect();
        let burst = m.capacity();
        m.retain(|k, _| *k < 10);
        m.shrink_idle();
        assert!(m.capacity() < burst / 100, "{} of {burst}", m.capacity());
        assert_eq!(m.len(), 10);
    }

    #[test]
    fn a_table_in_steady_use_is_left_alone() {
        let mut m: HashMap<u32, u32> = (0..4_000).map(|i| (i, i)).collect();
        let cap = m.capacity();
        let keep = (cap / 4 + 1) as u32;
        m.retain(|k, _| *k < keep);
        m.shrink_idle();
        // (Removals leave tombstones, so capacity() drops a little by itself.)
        assert!(m.capacity() > cap / 2, "{} of {cap}", m.capacity());
        let mut v: Vec<u8> = Vec::with_capacity(32);
        v.shrink_idle();
        assert_eq!(v.capacity(), 32, "small tables are never shrunk");
    }

    #[test]
    fn heaps_and_queues_shrink_too() {
        let mut h: BinaryHeap<u64> = (0..5_000).collect();
        h.clear();
        h.shrink_idle();
        assert!(h.capacity() < 64);
        let mut q: VecDeque<u64> = (0..5_000).collect();
        q.truncate(3);
        q.shrink_idle();
        assert!(q.capacity() < 64);
    }
}
