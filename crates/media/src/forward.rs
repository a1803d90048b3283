//! A leg's outgoing RTP stream: one SSRC, one sequence and one timestamp
//! line for the whole life of the leg, whatever it hears.
//!
//! A leg hears either packets forwarded from the one other party of a
//! two-party bridge (payload untouched) or frames mixed by the 20 ms tick
//! (music on hold, conferences, recordings). The phone must see one
//! continuous stream across hold, transfer and re-bridging, so both paths
//! number their packets here: forwarded packets keep their source's spacing
//! (an offset is fixed when a source starts, so gaps and reordering stay
//! visible to the phone's jitter buffer), mixed frames continue the line,
//! and a switch between the two advances the timestamp by the wall-clock
//! time that passed, with the marker bit set on the first packet.

use std::time::Instant;

/// Identity of a forwarded source: the leg it comes from and its SSRC.
pub type Source = (u64, u32);

/// Numbers for one outgoing packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// Sequence number to send.
    pub sequence: u16,
    /// Timestamp to send.
    pub timestamp: u32,
    /// Marker bit: the first packet after a change of what the leg hears.
    pub marker: bool,
}

#[derive(Debug, Clone, Copy)]
struct Anchor {
    source: Source,
    seq_offset: u16,
    ts_offset: u32,
}

/// The outgoing stream of one leg.
#[derive(Debug, Clone)]
pub struct OutStream {
    ssrc: u32,
    /// Sequence number of the next packet that does not follow a source.
    next_seq: u16,
    /// Timestamp just past the last packet sent (or reserved by the tick).
    next_ts: u32,
    /// When `next_ts` was reached, to advance it by the time since.
    at: Option<Instant>,
    anchor: Option<Anchor>,
    /// The next mixed packet starts a talkspurt or follows a switch.
    mixed_marker: bool,
}

/// Packets a source may arrive out of order and still keep its numbering.
const MAX_REORDER: i16 = 50;
/// Forward sequence jump (lost packets) that still keeps the numbering.
const MAX_SEQ_JUMP: i16 = 1000;
/// A source whose timestamps fall this far behind our line (1 s) restarted.
const MAX_TS_BEHIND: i32 = 8000;

/// Sequence distance `a - b`.
fn seq_diff(a: u16, b: u16) -> i16 {
    a.wrapping_sub(b) as i16
}

impl OutStream {
    /// A stream with the given SSRC and initial sequence number/timestamp
    /// (random in production, RFC 3550 §5.1).
    pub fn new(ssrc: u32, seq: u16, ts: u32) -> OutStream {
        OutStream {
            ssrc,
            next_seq: seq,
            next_ts: ts,
            at: None,
            anchor: None,
            mixed_marker: true,
        }
    }

    /// The stream's SSRC.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// Timestamp for the next packet started now: the line advances with
    /// wall-clock time while nothing was sent (never less than `step`).
    fn resume_ts(&self, now: Instant, step: u32) -> u32 {
        let elapsed = self
            .at
            .map(|at| now.saturating_duration_since(at).as_micros() as u64 * 8 / 1000)
            .unwrap_or(0);
        let elapsed = u32::try_from(elapsed).unwrap_or(u32::MAX / 2);
        self.next_ts.wrapping_add(elapsed.max(step))
    }

    /// Number a packet forwarded from `source` with its own sequence number
    /// and timestamp, carrying `samples` of audio (0 for events).
    pub fn forward(
        &mut self,
        now: Instant,
        source: Source,
        seq: u16,
        ts: u32,
        samples: u32,
    ) -> Stamp {
        if let Some(a) = self.anchor.filter(|a| a.source == source) {
            let sequence = seq.wrapping_add(a.seq_offset);
            let jump = seq_diff(sequence, self.next_seq);
            let behind = self.next_ts.wrapping_sub(ts.wrapping_add(a.ts_offset)) as i32;
            if (-MAX_REORDER..=MAX_SEQ_JUMP).contains(&jump) && behind <= MAX_TS_BEHIND {
                return self.number(now, a, seq, ts, samples, false);
            }
            // The source restarted its numbering (a new stream with the same
            // SSRC, as some gateways and recorded prompts do): continue our
            // line from here instead of sending numbers that go back.
        }
        // A new source (or back from mixing): continue our line.
        let out_ts = match self.anchor {
            None if self.at.is_none() => self.next_ts,
            _ => self.resume_ts(now, 0),
        };
        let a = Anchor {
            source,
            seq_offset: self.next_seq.wrapping_sub(seq),
            ts_offset: out_ts.wrapping_sub(ts),
        };
        self.anchor = Some(a);
        self.number(now, a, seq, ts, samples, true)
    }

    fn number(
        &mut self,
        now: Instant,
        anchor: Anchor,
        seq: u16,
        ts: u32,
        samples: u32,
        marker: bool,
    ) -> Stamp {
        let sequence = seq.wrapping_add(anchor.seq_offset);
        let timestamp = ts.wrapping_add(anchor.ts_offset);
        if seq_diff(sequence, self.next_seq) >= 0 {
            self.next_seq = sequence.wrapping_add(1);
            let end = timestamp.wrapping_add(samples);
            if (end.wrapping_sub(self.next_ts) as i32) > 0 || marker {
                self.next_ts = end;
                self.at = Some(now);
            }
        }
        self.mixed_marker = true;
        Stamp {
            sequence,
            timestamp,
            marker,
        }
    }

    /// Number the next mixed frame of `samples`, sent (or skipped when
    /// `sent` is false: silence suppression keeps the clock running).
    /// Returns the stamp to use if sending.
    pub fn mixed(&mut self, now: Instant, samples: u32) -> Stamp {
        let timestamp = if self.anchor.take().is_some() {
            // Back from forwarding: continue after the last forwarded audio.
            self.mixed_marker = true;
            self.resume_ts(now, 0)
        } else {
            self.next_ts
        };
        let stamp = Stamp {
            sequence: self.next_seq,
            timestamp,
            marker: self.mixed_marker,
        };
        self.next_ts = timestamp.wrapping_add(samples);
        self.at = Some(now);
        stamp
    }

    /// Record that the stamp from [`OutStream::mixed`] went out.
    pub fn sent(&mut self) {
        self.next_seq = self.next_seq.wrapping_add(1);
        self.mixed_marker = false;
    }

    /// The next mixed packet sets the marker bit (a talkspurt starts or what
    /// the leg hears changed).
    pub fn mark(&mut self) {
        self.mixed_marker = true;
    }

    /// Number an out-of-band packet sharing the line (an RFC 4733 event the
    /// tick generates) at timestamp `ts`.
    pub fn event(&mut self, ts: u32, marker: bool) -> Stamp {
        let s = Stamp {
            sequence: self.next_seq,
            timestamp: ts,
            marker,
        };
        self.next_seq = self.next_seq.wrapping_add(1);
        s
    }

    /// Timestamp the next mixed frame would carry (start of a generated event).
    pub fn current_ts(&self) -> u32 {
        self.next_ts
    }
}

#[cfg(test)]
mod tests;
