//! A media engine in memory: legs, rooms, music and mutes as the switch set
//! them, shared with the test so it can ask who hears whom.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use switchboard_switch::{Codec, LegInfo, MediaControl, MediaLeg, MediaRecording, MediaRoom};

/// One leg.
#[derive(Debug, Clone, Default)]
pub struct FakeLeg {
    /// Where its RTP goes.
    pub remote: Option<SocketAddr>,
    /// Sending (not held by the phone).
    pub sending: bool,
    /// Muted toward the room.
    pub muted: bool,
    /// Room.
    pub room: Option<MediaRoom>,
    /// Members of its room it does not hear.
    pub unheard: Vec<MediaLeg>,
    /// SRTP keys, when the switch keyed the leg.
    pub srtp: Option<switchboard_switch::SrtpParams>,
    /// What the engine would report about the leg's media (set by the test).
    pub quality: Option<switchboard_switch::MediaQuality>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Fault injection: `start_recording` panics (a bug in a dependency).
    panic_on_record: bool,
    next: u64,
    legs: HashMap<MediaLeg, FakeLeg>,
    rooms: HashMap<MediaRoom, Option<String>>,
    recordings: HashMap<MediaRecording, (MediaLeg, String, bool)>,
    /// Running recordings that are paused (writing silence).
    paused: HashSet<MediaRecording>,
}

/// Shared state of the fake media engine.
#[derive(Debug, Clone, Default)]
pub struct MediaState(Arc<Mutex<Inner>>);

impl MediaState {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().expect("media state")
    }

    /// The live leg whose RTP goes to `rtp`.
    pub fn leg_sending_to(&self, rtp: SocketAddr) -> Option<MediaLeg> {
        self.lock()
            .legs
            .iter()
            .find(|(_, l)| l.remote == Some(rtp))
            .map(|(id, _)| *id)
    }

    /// The SRTP keys the switch gave leg `a`, if any.
    pub fn srtp_of(&self, a: MediaLeg) -> Option<switchboard_switch::SrtpParams> {
        self.lock().legs.get(&a).and_then(|l| l.srtp.clone())
    }

    /// Make leg `a` report these media figures from now on.
    pub fn set_quality(&self, a: MediaLeg, q: switchboard_switch::MediaQuality) {
        if let Some(l) = self.lock().legs.get_mut(&a) {
            l.quality = Some(q);
        }
    }

    /// `a` hears `b`: same room, `b` not muted, not excluded by `a`.
    pub fn hears(&self, a: MediaLeg, b: MediaLeg) -> bool {
        let st = self.lock();
        match (st.legs.get(&a), st.legs.get(&b)) {
            (Some(x), Some(y)) => {
                a != b
                    && x.room.is_some()
                    && x.room == y.room
                    && !y.muted
                    && !x.unheard.contains(&b)
            }
            _ => false,
        }
    }

    /// `a`'s room plays music.
    /// The music class leg `a`'s room plays, if any.
    pub fn music_of(&self, a: MediaLeg) -> Option<String> {
        let st = self.lock();
        st.legs
            .get(&a)
            .and_then(|l| l.room)
            .and_then(|r| st.rooms.get(&r).cloned().flatten())
    }

    /// Whether leg `a`'s room plays music.
    pub fn hears_music(&self, a: MediaLeg) -> bool {
        let st = self.lock();
        st.legs
            .get(&a)
            .and_then(|l| l.room)
            .and_then(|r| st.rooms.get(&r).cloned().flatten())
            .is_some()
    }

    /// Make `start_recording` panic from now on (fault injection).
    pub fn panic_on_record(&self) {
        self.lock().panic_on_record = true;
    }

    /// Number of live legs.
    pub fn leg_count(&self) -> usize {
        self.lock().legs.len()
    }

    /// Number of rooms.
    pub fn room_count(&self) -> usize {
        self.lock().rooms.len()
    }

    /// Paths of the running recordings that are paused.
    pub fn paused_recordings(&self) -> Vec<String> {
        let st = self.lock();
        let mut v: Vec<_> = st
            .paused
            .iter()
            .filter_map(|id| st.recordings.get(id))
            .filter(|(_, _, running)| *running)
            .map(|(_, p, _)| p.clone())
            .collect();
        v.sort();
        v
    }

    /// Recordings: (path, still running).
    pub fn recordings(&self) -> Vec<(String, bool)> {
        let mut v: Vec<_> = self
            .lock()
            .recordings
            .values()
            .map(|(_, p, running)| (p.clone(), *running))
            .collect();
        v.sort();
        v
    }
}

/// [`MediaControl`] over [`MediaState`].
pub struct FakeMedia(pub MediaState);

impl MediaControl for FakeMedia {
    fn create_leg(&mut self) -> Result<LegInfo, String> {
        let mut st = self.0.lock();
        st.next += 1;
        let id = st.next;
        st.legs.insert(id, FakeLeg::default());
        Ok(LegInfo {
            id,
            local_port: 20000 + 2 * id as u16,
        })
    }
    fn set_remote(&mut self, leg: MediaLeg, addr: SocketAddr, _: Codec, _: Option<u8>) {
        if let Some(l) = self.0.lock().legs.get_mut(&leg) {
            l.remote = Some(addr);
        }
    }
    fn set_srtp(&mut self, leg: MediaLeg, params: Option<switchboard_switch::SrtpParams>) {
        if let Some(l) = self.0.lock().legs.get_mut(&leg) {
            l.srtp = params;
        }
    }
    fn set_sending(&mut self, leg: MediaLeg, send: bool) {
        if let Some(l) = self.0.lock().legs.get_mut(&leg) {
            l.sending = send;
        }
    }
    fn create_room(&mut self) -> MediaRoom {
        let mut st = self.0.lock();
        st.next += 1;
        let id = st.next;
        st.rooms.insert(id, None);
        id
    }
    fn join(&mut self, room: MediaRoom, leg: MediaLeg) {
        let mut st = self.0.lock();
        if st.rooms.contains_key(&room) {
            if let Some(l) = st.legs.get_mut(&leg) {
                l.room = Some(room);
            }
        }
    }
    fn leave(&mut self, leg: MediaLeg) {
        if let Some(l) = self.0.lock().legs.get_mut(&leg) {
            l.room = None;
        }
    }
    fn set_music(&mut self, room: MediaRoom, class: Option<&str>) {
        if let Some(r) = self.0.lock().rooms.get_mut(&room) {
            *r = class.map(str::to_string);
        }
    }
    fn set_muted(&mut self, leg: MediaLeg, muted: bool) {
        if let Some(l) = self.0.lock().legs.get_mut(&leg) {
            l.muted = muted;
        }
    }
    fn set_unheard(&mut self, leg: MediaLeg, sources: &[MediaLeg]) {
        if let Some(l) = self.0.lock().legs.get_mut(&leg) {
            l.unheard = sources.to_vec();
        }
    }
    fn quality(&self, leg: MediaLeg) -> Option<switchboard_switch::MediaQuality> {
        self.0.lock().legs.get(&leg).and_then(|l| l.quality)
    }
    fn destroy_leg(&mut self, leg: MediaLeg) {
        let mut st = self.0.lock();
        st.legs.remove(&leg);
        for r in st.recordings.values_mut() {
            if r.0 == leg {
                r.2 = false;
            }
        }
    }
    fn destroy_room(&mut self, room: MediaRoom) {
        let mut st = self.0.lock();
        st.rooms.remove(&room);
        for l in st.legs.values_mut() {
            if l.room == Some(room) {
                l.room = None;
            }
        }
    }
    fn start_recording(&mut self, leg: MediaLeg, path: &Path) -> Result<MediaRecording, String> {
        let mut st = self.0.lock();
        if st.panic_on_record {
            drop(st);
            panic!("injected fault: start_recording");
        }
        if !st.legs.contains_key(&leg) {
            return Err(format!("unknown leg {leg}"));
        }
        st.next += 1;
        let id = st.next;
        st.recordings
            .insert(id, (leg, path.display().to_string(), true));
        Ok(id)
    }
    fn set_recording_paused(&mut self, rec: MediaRecording, paused: bool) -> bool {
        let mut st = self.0.lock();
        if !st.recordings.get(&rec).is_some_and(|r| r.2) {
            return false;
        }
        if paused {
            st.paused.insert(rec);
        } else {
            st.paused.remove(&rec);
        }
        true
    }
    fn stop_recording(&mut self, rec: MediaRecording) -> Option<u64> {
        let mut st = self.0.lock();
        let r = st.recordings.get_mut(&rec)?;
        r.2 = false;
        Some(1000)
    }
    fn music_classes(&self) -> Vec<String> {
        vec!["default".into()]
    }
}
