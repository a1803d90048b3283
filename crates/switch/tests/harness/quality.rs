//! Media quality in the harness: real receive statistics of the media crate
//! built from a packet pattern, handed to the switch as the binary's
//! sampling does, and the quality the switch stored in CDRs.

use switchboard_media::quality::{Quality, ReceiveStats};
use switchboard_switch::{MediaQuality, StoreOp};

use super::Harness;

/// The media crate's figures for a stream of `sent` 20 ms G.711 packets of
/// which every `lose_every`-th never arrived (0: none lost), with arrival
/// times off by up to `jitter_ms` (alternating).
pub fn stream(sent: u16, lose_every: u16, jitter_ms: u32) -> MediaQuality {
    let mut rx = ReceiveStats::default();
    for seq in 0..sent {
        if lose_every > 0 && seq % lose_every == lose_every - 1 {
            continue;
        }
        let ts = u32::from(seq) * 160;
        let late = if seq % 2 == 0 { 0 } else { jitter_ms * 8 };
        rx.on_packet(0x1234, seq, ts, ts + 8_000 + late);
    }
    Quality::of(&rx, None)
}

impl Harness {
    /// The media leg toward `phone`'s call `i`.
    pub fn media_of(&mut self, phone: &str, i: usize) -> u64 {
        self.media_leg(phone, i)
            .expect("a media leg toward the phone")
    }

    /// The binary's sampling: these legs' figures handed to the switch now.
    pub fn sample_quality(&mut self, samples: &[((&str, usize), MediaQuality)]) {
        let samples: Vec<_> = samples
            .iter()
            .map(|((p, i), q)| (self.media_of(p, *i), *q))
            .collect();
        let now = self.now;
        self.switch.handle_media_quality(now, &samples);
        self.settle();
    }

    /// The media engine reports these figures for `phone`'s call `i` from now on.
    pub fn engine_quality(&mut self, phone: &str, i: usize, q: MediaQuality) {
        let leg = self.media_of(phone, i);
        self.media.set_quality(leg, q);
    }

    /// The quality stored in the CDR of `call`, and whether it was stored
    /// before the CDR was closed.
    pub fn cdr_quality(&self, call: &str) -> Option<(switchboard_center::CallQuality, bool)> {
        let at = self
            .stored
            .iter()
            .position(|o| matches!(o, StoreOp::CallQuality { call: c, .. } if c == call))?;
        let ended = self
            .stored
            .iter()
            .position(|o| matches!(o, StoreOp::CallEnded { call: c, .. } if c == call));
        match &self.stored[at] {
            StoreOp::CallQuality { quality, .. } => {
                Some((**quality, ended.is_some_and(|e| e > at)))
            }
            _ => None,
        }
    }

    /// How many `call` events consoles got for `call` so far.
    pub fn call_updates(&self, call: &str) -> usize {
        self.published
            .iter()
            .filter(|v| v["type"] == "call" && v["call"]["call_id"] == call)
            .count()
    }
}
