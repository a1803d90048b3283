//! A room: the set of legs that hear each other, plus optional music.
//!
//! Rooms are pure bookkeeping owned by the engine state; the tick reads
//! them to decide who hears whom. `epoch` changes whenever what members
//! hear changes, so each leg can set the RTP marker bit on the next packet.

use crate::music::MusicPlayer;

use super::LegId;

/// Members and music of one room.
#[derive(Debug, Default)]
pub(crate) struct Room {
    /// Legs in join order.
    pub(crate) members: Vec<LegId>,
    /// Playing music, if any.
    pub(crate) music: Option<MusicPlayer>,
    /// Name of the playing music class.
    pub(crate) music_class: Option<String>,
    /// Bumped on every change of what members hear.
    pub(crate) epoch: u64,
    /// Members forward packets to each other instead of being mixed.
    pub(crate) forwarding: bool,
}

impl Room {
    /// Add a member (no-op if present).
    pub(crate) fn add(&mut self, leg: LegId) {
        if !self.members.contains(&leg) {
            self.members.push(leg);
            self.epoch += 1;
        }
    }

    /// Remove a member (no-op if absent).
    pub(crate) fn remove(&mut self, leg: LegId) {
        let before = self.members.len();
        self.members.retain(|&m| m != leg);
        if self.members.len() != before {
            self.epoch += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership_bumps_epoch() {
        let mut r = Room::default();
        r.add(1);
        r.add(2);
        r.add(1);
        assert_eq!(r.members, vec![1, 2]);
        assert_eq!(r.epoch, 2);
        r.remove(3);
        assert_eq!(r.epoch, 2);
        r.remove(1);
        assert_eq!(r.members, vec![2]);
        assert_eq!(r.epoch, 3);
    }
}
