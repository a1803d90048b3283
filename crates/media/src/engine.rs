//! The media engine: legs (UDP ports), rooms (who hears whom) and the 20 ms
//! mixing tick, on the tokio runtime.
//!
//! Call control drives it through [`MediaEngine`]: create a leg per SDP
//! offer/answer, put legs in rooms to bridge, hold (music) or conference
//! them, record a leg, and listen for [`MediaEvent`]s (DTMF, first packet,
//! RTP timeout). All methods except `start`/`create_leg` are synchronous and
//! cheap: they only update shared state that the tick and receive tasks read.

mod leg;
mod ports;
mod relay;
mod room;
mod rtcp_loop;
mod secure;
mod tick;

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::time::MissedTickBehavior;
use tracing::{debug, warn};

use crate::g711::Codec;
use crate::music::MusicLibrary;
use crate::recorder::{Recorder, RecordingSummary};
use crate::MediaError;

use leg::{Leg, Route};
use ports::PortAllocator;
use room::Room;

/// Identifier of a call leg.
pub type LegId = u64;
/// Identifier of a room.
pub type RoomId = u64;
/// Identifier of a recording.
pub type RecordingId = u64;

/// Default RTP inactivity timeout.
pub const DEFAULT_RTP_TIMEOUT: Duration = Duration::from_secs(60);

/// Mean time between RTCP reports per leg (RFC 3550's 5 s minimum).
pub const DEFAULT_RTCP_INTERVAL: Duration = Duration::from_secs(5);

/// Tick period: one 20 ms frame.
pub const TICK: Duration = Duration::from_millis(20);

/// Finished recording summaries kept for repeated `stop_recording` calls.
const FINISHED_RECORDINGS_KEPT: usize = 4096;

/// Capacity of the event channel; slow subscribers see `Lagged`.
const EVENT_CAPACITY: usize = 1024;

/// Engine configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaConfig {
    /// Address RTP sockets bind to.
    pub bind_ip: IpAddr,
    /// Lowest RTP/RTCP port to use.
    pub port_min: u16,
    /// Highest RTP/RTCP port to use.
    pub port_max: u16,
    /// Folder of music-on-hold classes (see [`crate::music`]).
    pub music_dir: Option<PathBuf>,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            bind_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port_min: 10000,
            port_max: 20000,
            music_dir: None,
        }
    }
}

/// A newly created leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegInfo {
    /// Its id.
    pub id: LegId,
    /// Local RTP port to put in the SDP.
    pub local_port: u16,
}

/// Things call control wants to know about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// An RFC 4733 digit was received (reported once per key press).
    Dtmf {
        /// Leg that sent it.
        leg: LegId,
        /// One of `0-9 * # A-D`.
        digit: char,
    },
    /// The first RTP packet arrived on the leg.
    FirstPacket {
        /// The leg.
        leg: LegId,
        /// Where it came from.
        from: SocketAddr,
    },
    /// No RTP for the timeout (60 s by default) while the leg has a remote
    /// and sending is enabled. Reported once until packets resume.
    RtpTimeout {
        /// The silent leg.
        leg: LegId,
    },
}

/// Per-leg counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LegStats {
    /// RTP packets accepted.
    pub packets_in: u64,
    /// RTP packets sent.
    pub packets_out: u64,
    /// Bytes of accepted RTP datagrams.
    pub bytes_in: u64,
    /// Source of the last accepted packet.
    pub last_source: Option<SocketAddr>,
    /// What the jitter buffer saw while the leg's audio was mixed.
    pub playout: crate::jitter::JitterStats,
    /// Loss, jitter, round trip and MOS, from our receive statistics and
    /// the phone's RTCP reports.
    pub quality: crate::quality::Quality,
    /// SRTP/SRTCP packets dropped: failed authentication or replayed.
    pub srtp_dropped: u64,
}

/// Handle to the engine; cheap to clone, all clones share one engine.
/// The tick and receive tasks stop when the last handle is dropped.
#[derive(Clone)]
pub struct MediaEngine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for MediaEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = lock(&self.inner.state);
        f.debug_struct("MediaEngine")
            .field("legs", &st.legs.len())
            .field("rooms", &st.rooms.len())
            .finish()
    }
}

/// Shared engine internals.
pub(crate) struct Inner {
    bind_ip: IpAddr,
    ports: PortAllocator,
    music: MusicLibrary,
    pub(crate) events: broadcast::Sender<MediaEvent>,
    pub(crate) state: Mutex<State>,
    next_id: AtomicU64,
    pub(crate) rtp_timeout_ms: AtomicU64,
    rtcp_interval_ms: AtomicU64,
}

/// Topology, guarded by one mutex; never held across I/O or `.await`.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) legs: HashMap<LegId, LegEntry>,
    pub(crate) rooms: HashMap<RoomId, Room>,
    recordings: HashMap<RecordingId, RecState>,
    finished: VecDeque<RecordingId>,
}

/// A leg and the room it is in.
pub(crate) struct LegEntry {
    pub(crate) leg: Arc<Leg>,
    pub(crate) room: Option<RoomId>,
    /// Legs this one does not hear even when they share its room
    /// (supervision); a room with any such exclusion mixes.
    pub(crate) unheard: Vec<LegId>,
}

enum RecState {
    Active(LegId),
    Finished(RecordingSummary),
}

/// Lock a mutex, recovering the data if a panicking thread poisoned it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Drop for Inner {
    fn drop(&mut self) {
        let st = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        for entry in st.legs.values() {
            entry.leg.abort_task();
        }
    }
}

impl State {
    fn remove_from_room(&mut self, leg: LegId) {
        if let Some(entry) = self.legs.get_mut(&leg) {
            if let Some(room) = entry.room.take() {
                entry.leg.set_route(Route::Mix);
                if let Some(r) = self.rooms.get_mut(&room) {
                    r.remove(leg);
                }
                self.refresh_room(room);
            }
        }
    }

    /// Decide how the room's audio flows after a change: a two-party bridge
    /// without music forwards packets (recorded or not); anything else mixes.
    fn refresh_room(&mut self, room: RoomId) {
        let Some(r) = self.rooms.get_mut(&room) else {
            return;
        };
        let legs: Vec<Arc<Leg>> = r
            .members
            .iter()
            .filter_map(|m| self.legs.get(m).map(|e| e.leg.clone()))
            .collect();
        let excluded = r.members.iter().any(|m| {
            self.legs
                .get(m)
                .is_some_and(|e| e.unheard.iter().any(|u| r.members.contains(u)))
        });
        let forward = legs.len() == 2 && r.music.is_none() && !excluded;
        r.forwarding = forward;
        for (i, leg) in legs.iter().enumerate() {
            leg.set_route(if forward {
                Route::Forward(Arc::downgrade(&legs[1 - i]))
            } else {
                Route::Mix
            });
        }
    }

    fn refresh_leg_room(&mut self, leg: LegId) {
        if let Some(room) = self.legs.get(&leg).and_then(|e| e.room) {
            self.refresh_room(room);
        }
    }

    fn finish_recording(&mut self, id: RecordingId, summary: Option<RecordingSummary>) {
        match summary {
            Some(s) => {
                self.recordings.insert(id, RecState::Finished(s));
                self.finished.push_back(id);
                while self.finished.len() > FINISHED_RECORDINGS_KEPT {
                    if let Some(old) = self.finished.pop_front() {
                        self.recordings.remove(&old);
                    }
                }
            }
            None => {
                self.recordings.remove(&id);
            }
        }
    }
}

fn stop_recorder(id: RecordingId, r: Recorder) -> Option<RecordingSummary> {
    match r.stop() {
        Ok(s) => Some(s),
        Err(e) => {
            warn!(recording = id, error = %e, "recording failed");
            None
        }
    }
}

impl MediaEngine {
    /// Load music, validate the port range and spawn the 20 ms tick task.
    pub async fn start(cfg: MediaConfig) -> Result<MediaEngine, MediaError> {
        let ports = PortAllocator::new(cfg.port_min, cfg.port_max)?;
        let dir = cfg.music_dir.clone();
        let music = tokio::task::spawn_blocking(move || MusicLibrary::load(dir.as_deref()))
            .await
            .unwrap_or_else(|_| MusicLibrary::load(None));
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let inner = Arc::new(Inner {
            bind_ip: cfg.bind_ip,
            ports,
            music,
            events,
            state: Mutex::new(State::default()),
            next_id: AtomicU64::new(1),
            rtp_timeout_ms: AtomicU64::new(DEFAULT_RTP_TIMEOUT.as_millis() as u64),
            rtcp_interval_ms: AtomicU64::new(DEFAULT_RTCP_INTERVAL.as_millis() as u64),
        });
        // One tick task per core, each mixing its share of the rooms, so
        // mixing (music, conferences) uses every core.
        let shards = std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_SHARDS));
        // The shards tick at the same instants, so a leg that moves to a
        // room of another shard keeps one packet per tick.
        let start = tokio::time::Instant::now() + TICK;
        for shard in 0..shards {
            let scratch = tick::Scratch::new(tick::Shard {
                index: shard as u64,
                count: shards as u64,
            });
            tokio::spawn(tick_loop(Arc::downgrade(&inner), scratch, start));
        }
        Ok(MediaEngine { inner })
    }

    fn next_id(&self) -> u64 {
        self.inner.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn leg(&self, leg: LegId) -> Option<Arc<Leg>> {
        lock(&self.inner.state)
            .legs
            .get(&leg)
            .map(|e| e.leg.clone())
    }

    /// Bind an even RTP port (and RTCP on port+1, read and ignored) in the
    /// configured range and start receiving on it.
    pub async fn create_leg(&self) -> Result<LegInfo, MediaError> {
        self.create_leg_now()
    }

    /// Same as [`MediaEngine::create_leg`] without awaiting, for callers
    /// that cannot await (binding a UDP socket never blocks). Must be called
    /// from within the tokio runtime.
    pub fn create_leg_now(&self) -> Result<LegInfo, MediaError> {
        let (rtp, rtcp) = self.inner.ports.bind_pair(self.inner.bind_ip)?;
        let id = self.next_id();
        let leg = Arc::new(Leg::new(id, rtp)?);
        let interval = Duration::from_millis(self.inner.rtcp_interval_ms.load(Ordering::Relaxed));
        let task = tokio::spawn(leg::receive_loop(
            leg.clone(),
            rtcp,
            interval,
            self.inner.events.clone(),
        ));
        leg.set_task(task);
        let local_port = leg.local_port;
        lock(&self.inner.state).legs.insert(
            id,
            LegEntry {
                leg,
                room: None,
                unheard: Vec::new(),
            },
        );
        debug!(leg = id, port = local_port, "leg created");
        Ok(LegInfo { id, local_port })
    }

    /// Set where to send (from SDP), the codec to send and the DTMF payload
    /// type. Received packets latch the destination to their real source
    /// (symmetric RTP); a new address here forgets the latch.
    pub fn set_remote(&self, leg: LegId, addr: SocketAddr, codec: Codec, dtmf_pt: Option<u8>) {
        let Some(leg) = self.leg(leg) else {
            warn!(leg, "set_remote on unknown leg");
            return;
        };
        let mut rx = lock(&leg.rx);
        if rx.remote != Some(addr) {
            rx.latched = None;
        }
        rx.remote = Some(addr);
        rx.codec = codec;
        rx.dtmf_pt = dtmf_pt;
        rx.last_activity = std::time::Instant::now();
        rx.timeout_reported = false;
    }

    /// Protect the leg with SRTP (our key for what we send, the peer's for
    /// what we receive), change its keys, or go back to plain RTP with
    /// `None`. Unchanged keys keep their state (ROC, replay list).
    pub fn set_srtp(&self, leg: LegId, params: Option<crate::srtp::SrtpParams>) {
        let Some(leg) = self.leg(leg) else {
            warn!(leg, "set_srtp on unknown leg");
            return;
        };
        leg.set_srtp(params);
    }

    /// Enable or stop sending RTP to the leg (false while the phone holds
    /// us with sendonly/inactive). Receiving continues either way.
    pub fn set_sending(&self, leg: LegId, send: bool) {
        let Some(leg) = self.leg(leg) else {
            warn!(leg, "set_sending on unknown leg");
            return;
        };
        let mut rx = lock(&leg.rx);
        if send && !rx.sending {
            rx.last_activity = std::time::Instant::now();
            rx.timeout_reported = false;
        }
        rx.sending = send;
    }

    /// Create an empty room.
    pub fn create_room(&self) -> RoomId {
        let id = self.next_id();
        lock(&self.inner.state).rooms.insert(id, Room::default());
        id
    }

    /// Put a leg in a room, moving it out of its previous room. The leg's
    /// playout buffer is kept, so others hear no glitch.
    pub fn join(&self, room: RoomId, leg: LegId) {
        let mut st = lock(&self.inner.state);
        if !st.rooms.contains_key(&room) || !st.legs.contains_key(&leg) {
            warn!(room, leg, "join with unknown room or leg");
            return;
        }
        if st.legs[&leg].room == Some(room) {
            return;
        }
        st.remove_from_room(leg);
        if let Some(r) = st.rooms.get_mut(&room) {
            r.add(leg);
        }
        if let Some(e) = st.legs.get_mut(&leg) {
            e.room = Some(room);
        }
        st.refresh_room(room);
    }

    /// Take a leg out of its room; it then hears silence.
    pub fn leave(&self, leg: LegId) {
        lock(&self.inner.state).remove_from_room(leg);
    }

    /// Play a music class to every member of the room on top of the others
    /// (unknown class -> `default`); `None` stops the music.
    pub fn set_music(&self, room: RoomId, class: Option<&str>) {
        let mut st = lock(&self.inner.state);
        let Some(r) = st.rooms.get_mut(&room) else {
            warn!(room, "set_music on unknown room");
            return;
        };
        let class = class.map(|c| {
            if self.inner.music.contains(c) {
                c
            } else {
                warn!(class = c, "unknown music class, playing default");
                crate::music::DEFAULT_CLASS
            }
        });
        if r.music_class.as_deref() == class {
            return;
        }
        r.music = class.map(|c| self.inner.music.player(c));
        r.music_class = class.map(str::to_string);
        r.epoch += 1;
        st.refresh_room(room);
    }

    /// Echo a leg's audio back to it (a phone's "test your audio"), or stop.
    /// Only for a leg in no room: returns false (and changes nothing) when
    /// the leg is unknown or in a room; joining a room ends the echo.
    pub fn set_echo(&self, leg: LegId, on: bool) -> bool {
        let st = lock(&self.inner.state);
        let Some(entry) = st.legs.get(&leg) else {
            return false;
        };
        if entry.room.is_some() {
            return false;
        }
        entry.leg.set_route(if on {
            Route::Forward(Arc::downgrade(&entry.leg))
        } else {
            Route::Mix
        });
        true
    }

    /// Mute or unmute a leg towards the others in its room.
    pub fn set_muted(&self, leg: LegId, muted: bool) {
        let mut guard = lock(&self.inner.state);
        let st = &mut *guard;
        let Some(entry) = st.legs.get(&leg) else {
            warn!(leg, "set_muted on unknown leg");
            return;
        };
        let changed = {
            let mut rx = lock(&entry.leg.rx);
            std::mem::replace(&mut rx.muted, muted) != muted
        };
        if changed {
            if let Some(r) = entry.room.and_then(|r| st.rooms.get_mut(&r)) {
                r.epoch += 1;
            }
        }
    }

    /// The legs `leg` must not hear even when they share its room (a
    /// supervisor nobody but the agent hears, say); empty hears everyone.
    /// A room with such an exclusion mixes instead of forwarding.
    pub fn set_unheard(&self, leg: LegId, sources: &[LegId]) {
        let mut st = lock(&self.inner.state);
        let Some(entry) = st.legs.get_mut(&leg) else {
            warn!(leg, "set_unheard on unknown leg");
            return;
        };
        if entry.unheard == sources {
            return;
        }
        entry.unheard = sources.to_vec();
        if let Some(room) = entry.room {
            if let Some(r) = st.rooms.get_mut(&room) {
                r.epoch += 1;
            }
            st.refresh_room(room);
        }
    }

    /// Close the leg's sockets, stop its recordings and remove it from its
    /// room. Summaries stay available through `stop_recording`.
    pub fn destroy_leg(&self, leg: LegId) {
        let entry = {
            let mut st = lock(&self.inner.state);
            st.remove_from_room(leg);
            st.legs.remove(&leg)
        };
        let Some(entry) = entry else {
            return;
        };
        entry.leg.abort_task();
        let dropped = entry.leg.srtp_dropped();
        if dropped > 0 {
            warn!(
                leg,
                dropped, "SRTP packets dropped (failed authentication or replayed)"
            );
        }
        for (id, r) in entry.leg.take_recorders() {
            let summary = stop_recorder(id, r);
            lock(&self.inner.state).finish_recording(id, summary);
        }
        debug!(leg, "leg destroyed");
    }

    /// Remove a room; its members stay alive outside any room.
    pub fn destroy_room(&self, room: RoomId) {
        let mut st = lock(&self.inner.state);
        if let Some(r) = st.rooms.remove(&room) {
            for m in r.members {
                if let Some(e) = st.legs.get_mut(&m) {
                    e.room = None;
                    e.leg.set_route(Route::Mix);
                }
            }
        }
    }

    /// Legs in the room, in join order (empty if unknown).
    pub fn room_members(&self, room: RoomId) -> Vec<LegId> {
        lock(&self.inner.state)
            .rooms
            .get(&room)
            .map(|r| r.members.clone())
            .unwrap_or_default()
    }

    /// Room the leg is in, if any.
    pub fn leg_room(&self, leg: LegId) -> Option<RoomId> {
        lock(&self.inner.state).legs.get(&leg).and_then(|e| e.room)
    }

    /// Start recording a leg to a stereo WAV at `path` (parent folders are
    /// created): left = what the leg sends, right = what it hears from the
    /// other room members (not music).
    pub fn start_recording(&self, leg: LegId, path: &Path) -> Result<RecordingId, MediaError> {
        if self.leg(leg).is_none() {
            return Err(MediaError::UnknownLeg(leg));
        }
        let recorder = Recorder::start(path)?;
        let id = self.next_id();
        let mut st = lock(&self.inner.state);
        let Some(entry) = st.legs.get(&leg) else {
            drop(st);
            let _ = recorder.stop();
            return Err(MediaError::UnknownLeg(leg));
        };
        entry.leg.add_recorder(id, recorder);
        st.recordings.insert(id, RecState::Active(leg));
        st.refresh_leg_room(leg);
        Ok(id)
    }

    /// Pause or resume a running recording (while a customer keys a card
    /// number): the paused time is silence in the file. Returns false for
    /// an unknown or finished recording.
    pub fn set_recording_paused(&self, rec: RecordingId, paused: bool) -> bool {
        let leg = {
            let st = lock(&self.inner.state);
            match st.recordings.get(&rec) {
                Some(RecState::Active(leg)) => match st.legs.get(leg) {
                    Some(e) => e.leg.clone(),
                    None => return false,
                },
                _ => return false,
            }
        };
        let mut tx = lock(&leg.tx);
        match tx.recorders.iter_mut().find(|(id, _)| *id == rec) {
            Some((_, r)) => {
                r.set_paused(paused);
                true
            }
            None => false,
        }
    }

    /// Stop a recording, finalize its WAV and return where and how long it
    /// is. Idempotent: later calls (and calls after `destroy_leg` stopped
    /// it) return the same summary; unknown ids return `None`.
    pub fn stop_recording(&self, rec: RecordingId) -> Option<RecordingSummary> {
        let leg = {
            let st = lock(&self.inner.state);
            match st.recordings.get(&rec)? {
                RecState::Finished(s) => return Some(s.clone()),
                RecState::Active(leg) => st.legs.get(leg)?.leg.clone(),
            }
        };
        let recorder = leg.remove_recorder(rec)?;
        let summary = stop_recorder(rec, recorder);
        let mut st = lock(&self.inner.state);
        st.finish_recording(rec, summary.clone());
        st.refresh_leg_room(leg.id);
        summary
    }

    /// Receive engine events; each subscriber gets every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<MediaEvent> {
        self.inner.events.subscribe()
    }

    /// Counters of a leg, `None` if unknown.
    pub fn stats(&self, leg: LegId) -> Option<LegStats> {
        self.leg(leg).map(|l| l.stats())
    }

    /// Names of the available music classes (always includes `default`).
    pub fn music_classes(&self) -> Vec<String> {
        self.inner.music.class_names()
    }

    /// Change the RTP inactivity timeout (default 60 s; zero disables).
    pub fn set_rtp_timeout(&self, timeout: Duration) {
        self.inner
            .rtp_timeout_ms
            .store(timeout.as_millis() as u64, Ordering::Relaxed);
    }

    /// Mean interval between RTCP reports of legs created from now on
    /// (default 5 s; each report is sent after 0.5-1.5 times it).
    pub fn set_rtcp_interval(&self, interval: Duration) {
        self.inner
            .rtcp_interval_ms
            .store(interval.as_millis().max(1) as u64, Ordering::Relaxed);
    }

    /// Number of live legs.
    pub fn leg_count(&self) -> usize {
        lock(&self.inner.state).legs.len()
    }
}

/// Most tick tasks started (one per core up to this).
const MAX_SHARDS: usize = 8;

/// The 20 ms tick of one shard of the rooms; ends when the engine is dropped.
async fn tick_loop(inner: Weak<Inner>, mut scratch: tick::Scratch, start: tokio::time::Instant) {
    let mut interval = tokio::time::interval_at(start, TICK);
    interval.set_missed_tick_behavior(MissedTickBehavior::Burst);
    loop {
        let scheduled = interval.tick().await;
        if scheduled.elapsed() > TICK * 50 {
            // A stall shorter than the jitter buffers' second is caught up
            // (missed ticks run at once, nothing buffered is lost); after a
            // longer one don't blast a burst of packets at phones.
            debug!(
                late_ms = scheduled.elapsed().as_millis() as u64,
                "media tick stalled"
            );
            interval.reset();
        }
        let Some(inner) = inner.upgrade() else {
            break;
        };
        let clock = tick::begin(&inner, &mut scratch);
        while tick::run_slice(&inner, &mut scratch, clock) {
            // Let the signalling tasks queued on this worker run between
            // slices of a large tick.
            tokio::task::yield_now().await;
        }
        tick::finish(&mut scratch);
    }
}
