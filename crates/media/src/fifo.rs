//! Per-leg playout buffer between the receive task and the 20 ms tick.
//!
//! Packets arrive with jitter and in any size (10/20/30 ms); the tick takes
//! exactly one 160-sample frame. The buffer primes to 40 ms before playing,
//! re-primes after an underrun, and trims back to 40 ms when more than
//! 120 ms pile up (sender clock faster than ours). Storage is allocated once.

use crate::{Frame, FRAME_SAMPLES};

/// Samples buffered before playout (re)starts: 40 ms.
pub const PRIME_SAMPLES: usize = 320;
/// Above this many buffered samples the oldest are dropped: 120 ms.
pub const MAX_BUFFERED: usize = 960;
/// Ring capacity; larger than `MAX_BUFFERED` plus the largest packet.
pub const CAPACITY: usize = 2048;

/// Fixed-capacity ring buffer of PCM samples with priming.
#[derive(Debug, Clone)]
pub struct PlayoutFifo {
    buf: Box<[i16]>,
    head: usize,
    len: usize,
    primed: bool,
    underruns: u64,
    dropped: u64,
}

impl Default for PlayoutFifo {
    fn default() -> Self {
        Self::new()
    }
}

impl PlayoutFifo {
    /// Empty, unprimed buffer.
    pub fn new() -> PlayoutFifo {
        PlayoutFifo {
            buf: vec![0; CAPACITY].into_boxed_slice(),
            head: 0,
            len: 0,
            primed: false,
            underruns: 0,
            dropped: 0,
        }
    }

    /// Samples currently buffered.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True while playout is running (primed and not yet underrun).
    pub fn is_primed(&self) -> bool {
        self.primed
    }

    /// Times playout ran dry after having started.
    pub fn underruns(&self) -> u64 {
        self.underruns
    }

    /// Samples discarded by overflow trimming.
    pub fn dropped_samples(&self) -> u64 {
        self.dropped
    }

    /// Forget everything buffered and re-prime.
    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
        self.primed = false;
    }

    fn drop_oldest(&mut self, n: usize) {
        let n = n.min(self.len);
        self.head = (self.head + n) % CAPACITY;
        self.len -= n;
        self.dropped += n as u64;
    }

    /// Append decoded samples (any count).
    pub fn push(&mut self, samples: &[i16]) {
        let samples = &samples[samples.len().saturating_sub(CAPACITY)..];
        let n = samples.len();
        if self.len + n > CAPACITY {
            self.drop_oldest(self.len + n - CAPACITY);
        }
        let tail = (self.head + self.len) % CAPACITY;
        let first = n.min(CAPACITY - tail);
        self.buf[tail..tail + first].copy_from_slice(&samples[..first]);
        self.buf[..n - first].copy_from_slice(&samples[first..]);
        self.len += n;
        if self.len > MAX_BUFFERED {
            self.drop_oldest(self.len - PRIME_SAMPLES);
        }
    }

    /// Take one 160-sample frame, or `None` (play silence) while priming or
    /// after an underrun.
    pub fn pop(&mut self) -> Option<Frame> {
        if !self.primed {
            if self.len < PRIME_SAMPLES {
                return None;
            }
            self.primed = true;
        }
        if self.len < FRAME_SAMPLES {
            self.primed = false;
            self.underruns += 1;
            return None;
        }
        let mut out = [0i16; FRAME_SAMPLES];
        let first = FRAME_SAMPLES.min(CAPACITY - self.head);
        out[..first].copy_from_slice(&self.buf[self.head..self.head + first]);
        out[first..].copy_from_slice(&self.buf[..FRAME_SAMPLES - first]);
        self.head = (self.head + FRAME_SAMPLES) % CAPACITY;
        self.len -= FRAME_SAMPLES;
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Push `count` consecutive sample values starting at `start`.
    fn push_ramp(f: &mut PlayoutFifo, start: i16, count: usize) -> i16 {
        let v: Vec<i16> = (0..count).map(|i| start.wrapping_add(i as i16)).collect();
        f.push(&v);
        start.wrapping_add(count as i16)
    }

    #[test]
    fn primes_before_playing() {
        let mut f = PlayoutFifo::new();
        let next = push_ramp(&mut f, 0, 160);
        assert_eq!(f.pop(), None);
        push_ramp(&mut f, next, 160);
        let frame = f.pop().unwrap();
        assert_eq!(frame[0], 0);
        assert_eq!(frame[159], 159);
        // Still primed with 160 left.
        assert_eq!(f.pop().unwrap()[0], 160);
        assert!(f.is_empty());
    }

    #[test]
    fn underrun_reprimes() {
        let mut f = PlayoutFifo::new();
        let mut next = push_ramp(&mut f, 0, 320);
        assert!(f.pop().is_some());
        assert!(f.pop().is_some());
        assert_eq!(f.pop(), None);
        assert_eq!(f.underruns(), 1);
        assert!(!f.is_primed());
        next = push_ramp(&mut f, next, 160);
        assert_eq!(f.pop(), None, "must wait for 320 again");
        push_ramp(&mut f, next, 160);
        assert_eq!(f.pop().unwrap()[0], 320);
    }

    #[test]
    fn any_packet_size_is_continuous() {
        for ptime in [80usize, 160, 240] {
            let mut f = PlayoutFifo::new();
            let (mut next, mut expect, mut frames) = (0i16, 0i16, 0);
            // Simulated time in 10 ms (80-sample) steps.
            for t in (0..80 * 600).step_by(80) {
                if t % ptime == 0 {
                    next = push_ramp(&mut f, next, ptime);
                }
                if t % 160 == 0 {
                    if let Some(frame) = f.pop() {
                        for s in frame {
                            assert_eq!(s, expect);
                            expect = expect.wrapping_add(1);
                        }
                        frames += 1;
                    }
                }
            }
            assert!(frames > 290, "ptime {ptime}: {frames}");
            assert_eq!(f.underruns(), 0, "ptime {ptime}");
            assert_eq!(f.dropped_samples(), 0, "ptime {ptime}");
        }
    }

    #[test]
    fn drift_trims_to_prime_level() {
        let mut f = PlayoutFifo::new();
        let mut next = 0;
        for _ in 0..6 {
            next = push_ramp(&mut f, next, 160);
        }
        assert_eq!(f.len(), 960);
        next = push_ramp(&mut f, next, 160);
        assert_eq!(f.len(), PRIME_SAMPLES);
        // The newest samples are kept.
        let frame = f.pop().unwrap();
        assert_eq!(frame[0], next - 320);
        assert_eq!(f.dropped_samples(), 1120 - 320);
    }

    #[test]
    fn huge_push_and_wraparound() {
        let mut f = PlayoutFifo::new();
        f.push(&vec![1; 5000]);
        assert_eq!(f.len(), PRIME_SAMPLES);
        f.clear();
        assert!(f.is_empty());
        // Exercise wraparound across the ring end many times.
        let mut next = 0i16;
        let mut expect = 0i16;
        next = push_ramp(&mut f, next, 320);
        for _ in 0..100 {
            next = push_ramp(&mut f, next, 240);
            while f.len() >= 320 {
                for s in f.pop().unwrap() {
                    assert_eq!(s, expect);
                    expect = expect.wrapping_add(1);
                }
            }
        }
    }
}
