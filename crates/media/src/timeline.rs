//! A recording's timeline: places the audio of its two channels by time,
//! so a call recorded while its packets are forwarded (each direction's
//! packets arriving on their own, in any order) and while it is mixed
//! (20 ms stereo frames from the tick) makes one continuous WAV.
//!
//! Each channel follows its current source: a source is anchored at the
//! wall-clock position of its first packet and then placed by its RTP
//! timestamps, so network jitter does not move audio around. A new source
//! (another SSRC, the switch between forwarding and mixing) or one that
//! drifted more than [`MAX_DRIFT`] from the wall clock is anchored anew.
//! Audio is written out [`DELAY`] behind the wall clock, with silence
//! where nothing arrived; audio older than what was written is dropped.
//!
//! Pure and clock-free: positions are sample counts since the recording
//! started, given by the caller.

use std::collections::VecDeque;

/// Audio is written this many samples (500 ms) behind the wall clock: the
/// recorder batches forwarded packets up to 100 ms and the tick flushes
/// quiet calls' batches every 200 ms, so everything has arrived by then.
pub const DELAY: u64 = 4000;
/// Largest distance (samples, 1 s) between a source's timestamps and the
/// wall clock before it is anchored anew.
pub const MAX_DRIFT: i64 = 8000;
/// Samples kept in memory ahead of what was written (4 s).
const WINDOW: usize = 32_000;

/// One of the two channels of a recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// What the recorded leg sends.
    Left,
    /// What it hears.
    Right,
}

#[derive(Debug, Clone, Copy)]
struct Anchor {
    source: u64,
    ts: u32,
    pos: u64,
}

/// The timeline of one stereo recording.
#[derive(Debug, Default)]
pub struct Timeline {
    /// Samples (per channel) already written out.
    written: u64,
    /// Pending stereo samples from `written` on.
    pending: VecDeque<(i16, i16)>,
    anchors: [Option<Anchor>; 2],
    /// Samples dropped because they arrived after their place was written.
    late: u64,
}

impl Timeline {
    /// An empty timeline at position 0.
    pub fn new() -> Timeline {
        Timeline::default()
    }

    /// Samples per channel written out so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Samples dropped because they came after their place was written.
    pub fn late_samples(&self) -> u64 {
        self.late
    }

    /// Where `source`'s audio stamped `ts`, arriving at wall-clock position
    /// `now`, belongs on `channel`.
    pub fn position(&mut self, channel: Channel, source: u64, ts: u32, now: u64) -> u64 {
        let slot = &mut self.anchors[channel as usize];
        if let Some(a) = slot.filter(|a| a.source == source) {
            let pos = a.pos as i64 + i64::from(ts.wrapping_sub(a.ts) as i32);
            if (pos - now as i64).abs() <= MAX_DRIFT && pos >= 0 {
                return pos as u64;
            }
        }
        *slot = Some(Anchor {
            source,
            ts,
            pos: now,
        });
        now
    }

    /// Put `samples` of `channel` at `pos`; may write out the oldest audio
    /// through `out` to make room.
    pub fn place(
        &mut self,
        channel: Channel,
        pos: u64,
        samples: &[i16],
        out: &mut impl FnMut(&[(i16, i16)]),
    ) {
        let mut pos = pos;
        let mut samples = samples;
        if pos < self.written {
            let skip = ((self.written - pos) as usize).min(samples.len());
            self.late += skip as u64;
            samples = &samples[skip..];
            pos = self.written;
        }
        if samples.is_empty() {
            return;
        }
        let end = pos + samples.len() as u64;
        if end > self.written + WINDOW as u64 {
            self.write_until(end - WINDOW as u64, out);
        }
        let offset = (pos - self.written) as usize;
        if self.pending.len() < offset + samples.len() {
            self.pending.resize(offset + samples.len(), (0, 0));
        }
        for (i, &s) in samples.iter().enumerate() {
            let slot = &mut self.pending[offset + i];
            match channel {
                Channel::Left => slot.0 = s,
                Channel::Right => slot.1 = s,
            }
        }
    }

    /// Write out everything before position `pos` (silence where nothing
    /// was placed).
    pub fn write_until(&mut self, pos: u64, out: &mut impl FnMut(&[(i16, i16)])) {
        if pos <= self.written {
            return;
        }
        let n = (pos - self.written) as usize;
        let have = n.min(self.pending.len());
        let (a, b) = self.pending.as_slices();
        let first = have.min(a.len());
        if first > 0 {
            out(&a[..first]);
        }
        if have > first {
            out(&b[..have - first]);
        }
        self.pending.drain(..have);
        if n > have {
            let silence = [(0i16, 0i16); 160];
            let mut left = n - have;
            while left > 0 {
                let k = left.min(silence.len());
                out(&silence[..k]);
                left -= k;
            }
        }
        self.written = pos;
    }

    /// Write out what is due at wall-clock position `now`.
    pub fn tick(&mut self, now: u64, out: &mut impl FnMut(&[(i16, i16)])) {
        self.write_until(now.saturating_sub(DELAY), out);
    }

    /// Write out everything placed (at the end of the recording).
    pub fn finish(&mut self, out: &mut impl FnMut(&[(i16, i16)])) {
        let end = self.written + self.pending.len() as u64;
        self.write_until(end, out);
    }
}

#[cfg(test)]
mod tests;
