//! Per-leg jitter buffer for the legs whose audio is mixed (music on hold,
//! conferences, recordings); two-party bridges forward packets and never
//! come here (see [`crate::forward`]).
//!
//! Samples are placed by RTP timestamp, not by arrival order, so reordered
//! packets play in order, duplicates are dropped and packets that arrive
//! after their time are counted as late. Playout starts once `target`
//! samples are buffered; the target adapts to the measured interarrival
//! jitter (RFC 3550 §6.4.1) at each (re)start of playout, between 40 and
//! 200 ms, and grows by a frame (one frame of silence played) whenever a
//! packet arrives after its time. A stall of the mixing tick does not lose audio: up to a second
//! stays buffered and the tick catches up. A sender whose clock runs fast
//! is trimmed by 10 ms at a time, only when the buffer stayed above target
//! for a whole 2 s window, and each leg's window is phased by its SSRC, so
//! legs never drop audio all at the same instant.
//!
//! Our own code rather than a crate: the crates that exist buffer whole
//! packets for one codec and one packet size; here any ptime is placed
//! sample by sample, which the 20 ms mixing tick needs.

use crate::{Frame, FRAME_SAMPLES};

/// Samples in one frame, as a timestamp distance.
const FRAME: u32 = FRAME_SAMPLES as u32;
/// Smallest playout target: 40 ms.
pub const MIN_TARGET: u32 = 320;
/// Largest playout target: 200 ms.
pub const MAX_TARGET: u32 = 1600;
/// Ring size in samples (1.024 s); a power of two so timestamps map by mask.
pub const CAPACITY: usize = 8192;
/// Presence is tracked per 10 ms slot.
const SLOT: u32 = 80;
const SLOTS: usize = CAPACITY / SLOT as usize;
/// Samples the presence slots cover: how far ahead of playout a packet may be.
const WINDOW: u32 = SLOTS as u32 * SLOT;
/// Pops per drift window (2 s).
const DRIFT_WINDOW: u32 = 100;
/// Samples dropped when a window shows the buffer persistently too deep.
const DRIFT_STEP: u32 = SLOT;

/// Counters of what the buffer saw; cumulative over the leg's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Packets accepted (including reordered ones).
    pub packets: u64,
    /// Packets that arrived after a later one and were put back in order.
    pub reordered: u64,
    /// Packets already buffered, dropped.
    pub duplicates: u64,
    /// Packets whose time had passed, dropped.
    pub late: u64,
    /// Samples played as silence because their packet never came.
    pub concealed_samples: u64,
    /// Samples dropped to bring a fast sender back to the target depth.
    pub drift_dropped_samples: u64,
    /// Times playout ran dry and re-primed.
    pub underruns: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Playout {
    /// Nothing received yet (or the stream was reset).
    Idle,
    /// Buffering until `target` samples are ahead of `play_ts`.
    Priming { play_ts: u32, has_data: bool },
    /// Popping one frame per tick from `play_ts`.
    Playing { play_ts: u32 },
}

/// A timestamp-ordered playout buffer of one leg's decoded audio.
#[derive(Debug, Clone)]
pub struct JitterBuffer {
    ring: Box<[i16]>,
    present: Box<[bool]>,
    ssrc: Option<u32>,
    /// First timestamp of the stream: positions are relative to it, so
    /// 10 ms packets line up with the 10 ms presence slots.
    base: u32,
    playout: Playout,
    /// Timestamp just past the newest sample received.
    end_ts: u32,
    /// Timestamp up to which audio was played (nothing before it is kept).
    played_until: u32,
    target: u32,
    /// Interarrival jitter in samples, scaled by 16 (RFC 3550 A.8).
    jitter_x16: u32,
    last_transit: Option<u32>,
    window_pops: u32,
    window_min: u32,
    /// Silent frames still to play to deepen the buffer after a late packet.
    grow: u32,
    stats: JitterStats,
}

impl Default for JitterBuffer {
    fn default() -> Self {
        Self::new()
    }
}

/// Signed distance `a - b` between two RTP timestamps.
fn diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

fn slot_of(ts: u32) -> usize {
    (ts / SLOT) as usize % SLOTS
}

impl JitterBuffer {
    /// An empty buffer.
    pub fn new() -> JitterBuffer {
        JitterBuffer {
            ring: vec![0; CAPACITY].into_boxed_slice(),
            present: vec![false; SLOTS].into_boxed_slice(),
            ssrc: None,
            base: 0,
            playout: Playout::Idle,
            end_ts: 0,
            played_until: 0,
            target: MIN_TARGET,
            jitter_x16: 0,
            last_transit: None,
            window_pops: 0,
            window_min: 0,
            grow: 0,
            stats: JitterStats::default(),
        }
    }

    /// What the buffer saw so far.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// Interarrival jitter estimate, in samples (8 per ms).
    pub fn jitter_samples(&self) -> u32 {
        self.jitter_x16 / 16
    }

    /// Current playout target in samples.
    pub fn target(&self) -> u32 {
        self.target
    }

    /// Samples buffered ahead of the playout point (0 when idle).
    pub fn depth(&self) -> u32 {
        match self.playout {
            Playout::Idle => 0,
            Playout::Priming { play_ts, .. } | Playout::Playing { play_ts } => {
                diff(self.end_ts, play_ts).max(0) as u32
            }
        }
    }

    /// Forget the stream; the next packet starts a new one.
    pub fn clear(&mut self) {
        self.present.fill(false);
        self.playout = Playout::Idle;
        self.ssrc = None;
        self.last_transit = None;
    }

    fn restart(&mut self, ssrc: u32, ts: u32) {
        self.present.fill(false);
        self.ssrc = Some(ssrc);
        self.base = ts;
        self.playout = Playout::Priming {
            play_ts: 0,
            has_data: false,
        };
        self.end_ts = 0;
        self.played_until = 0;
        self.last_transit = None;
        // Phase each leg's drift window by its SSRC so legs never trim
        // together; the first, partial window only starts the measure.
        self.window_pops = ssrc % DRIFT_WINDOW;
        self.window_min = 0;
        self.grow = 0;
    }

    /// Add a packet's decoded `samples`, stamped `ts` by source `ssrc`, that
    /// arrived at `arrival` (any clock counting 8 kHz samples, wrapping).
    pub fn push(&mut self, ssrc: u32, rtp_ts: u32, arrival: u32, samples: &[i16]) {
        let len = samples.len().min(CAPACITY / 2) as u32;
        if len == 0 {
            return;
        }
        if self.ssrc != Some(ssrc) || self.playout == Playout::Idle {
            self.restart(ssrc, rtp_ts);
        }
        let ts = rtp_ts.wrapping_sub(self.base);
        let play_ts = match self.playout {
            Playout::Idle => ts,
            Playout::Priming { play_ts, has_data } => {
                // Before playout (re)starts, begin at the earliest audio not yet
                // played, skipping a sender's silence gap.
                let begin = if !has_data || diff(ts, play_ts) < 0 {
                    if diff(ts, self.played_until) >= 0 {
                        ts
                    } else {
                        play_ts
                    }
                } else {
                    play_ts
                };
                if !has_data {
                    self.end_ts = begin;
                }
                self.playout = Playout::Priming {
                    play_ts: begin,
                    has_data: true,
                };
                begin
            }
            Playout::Playing { play_ts } => play_ts,
        };
        let ahead = diff(ts, play_ts);
        if i64::from(ahead) + i64::from(len) <= 0 {
            self.stats.late += 1;
            if matches!(self.playout, Playout::Playing { .. }) && self.target < MAX_TARGET {
                // Playout runs too close to arrivals: deepen by one frame now.
                self.target += FRAME;
                self.grow += FRAME;
            }
            return;
        }
        if ahead > (WINDOW - len) as i32 {
            // Far ahead: the sender jumped (or we stalled for over a second).
            self.restart(ssrc, rtp_ts);
            return self.push(ssrc, rtp_ts, arrival, samples);
        }
        let skip = (-ahead).max(0) as u32;
        let (ts, samples) = (ts.wrapping_add(skip), &samples[skip as usize..len as usize]);
        let first_slot = ts / SLOT;
        let last_slot = ts.wrapping_add(samples.len() as u32 - 1) / SLOT;
        let mut all_present = true;
        let mut s = first_slot;
        loop {
            all_present &= self.present[s as usize % SLOTS];
            if s == last_slot {
                break;
            }
            s = s.wrapping_add(1);
        }
        if all_present {
            self.stats.duplicates += 1;
            return;
        }
        if diff(ts, self.end_ts) < 0 {
            self.stats.reordered += 1;
        }
        self.stats.packets += 1;
        let start = ts as usize % CAPACITY;
        let first = samples.len().min(CAPACITY - start);
        self.ring[start..start + first].copy_from_slice(&samples[..first]);
        self.ring[..samples.len() - first].copy_from_slice(&samples[first..]);
        let mut s = first_slot;
        loop {
            self.present[s as usize % SLOTS] = true;
            if s == last_slot {
                break;
            }
            s = s.wrapping_add(1);
        }
        let end = ts.wrapping_add(samples.len() as u32);
        if diff(end, self.end_ts) > 0 {
            self.end_ts = end;
        }
        let transit = arrival.wrapping_sub(rtp_ts);
        if let Some(last) = self.last_transit.replace(transit) {
            let d = diff(transit, last).unsigned_abs().min(8000);
            // J += (|D| - J) / 16, kept scaled by 16.
            self.jitter_x16 = (self.jitter_x16 + d).saturating_sub((self.jitter_x16 + 8) / 16);
        }
    }

    /// The target for the next playout start: three times the jitter plus
    /// a frame, within [`MIN_TARGET`, `MAX_TARGET`], whole frames.
    fn adapt_target(&mut self) {
        let want = 3 * self.jitter_samples() + FRAME;
        self.target = want
            .div_ceil(FRAME)
            .saturating_mul(FRAME)
            .clamp(MIN_TARGET, MAX_TARGET);
    }

    /// Take the next 20 ms frame, or `None` (play silence) while priming or
    /// after an underrun.
    pub fn pop(&mut self) -> Option<Frame> {
        let play_ts = match self.playout {
            Playout::Idle => return None,
            Playout::Priming { play_ts, has_data } => {
                if !has_data || diff(self.end_ts, play_ts) < self.target as i32 {
                    return None;
                }
                play_ts
            }
            Playout::Playing { play_ts } => {
                if self.grow > 0 {
                    self.grow = self.grow.saturating_sub(FRAME);
                    return None;
                }
                if diff(self.end_ts, play_ts) <= 0 {
                    self.stats.underruns += 1;
                    self.adapt_target();
                    self.playout = Playout::Priming {
                        play_ts,
                        has_data: false,
                    };
                    return None;
                }
                play_ts
            }
        };
        let mut out = [0i16; FRAME_SAMPLES];
        for half in 0..(FRAME / SLOT) {
            let ts = play_ts.wrapping_add(half * SLOT);
            let slot = slot_of(ts);
            let range = half as usize * SLOT as usize..(half + 1) as usize * SLOT as usize;
            if std::mem::replace(&mut self.present[slot], false) {
                let start = ts as usize % CAPACITY;
                let first = (SLOT as usize).min(CAPACITY - start);
                let out = &mut out[range];
                out[..first].copy_from_slice(&self.ring[start..start + first]);
                out[first..].copy_from_slice(&self.ring[..SLOT as usize - first]);
            } else {
                self.stats.concealed_samples += u64::from(SLOT);
            }
        }
        let mut next = play_ts.wrapping_add(FRAME);
        let depth = diff(self.end_ts, next).max(0) as u32;
        self.window_min = self.window_min.min(depth);
        self.window_pops += 1;
        if self.window_pops >= DRIFT_WINDOW {
            if self.window_min >= self.target + FRAME {
                self.present[slot_of(next)] = false;
                next = next.wrapping_add(DRIFT_STEP);
                self.stats.drift_dropped_samples += u64::from(DRIFT_STEP);
            }
            self.window_pops = 0;
            self.window_min = u32::MAX;
        }
        self.played_until = next;
        self.playout = Playout::Playing { play_ts: next };
        Some(out)
    }
}

#[cfg(test)]
mod tests;
