//! Media quality of a leg, from both ends: what we receive (RFC 3550
//! Appendix A: extended sequence numbers, expected and lost packets,
//! interarrival jitter) and what the peer reports about our stream in its
//! RTCP (loss, jitter, round-trip time), summed up as an E-model R-factor
//! and a MOS estimate (ITU-T G.107, simplified for G.711).
//!
//! Pure: arrival times and "now" are given by the caller.

use serde::Serialize;

/// Largest forward sequence jump still counted as loss (RFC 3550 A.1).
const MAX_DROPOUT: u16 = 3000;
/// Largest backward jump treated as a reordered packet.
const MAX_MISORDER: u16 = 100;

/// Receive statistics for one source.
#[derive(Debug, Clone, Default)]
pub struct ReceiveStats {
    ssrc: Option<u32>,
    base_seq: u32,
    max_seq: u16,
    cycles: u32,
    received: u64,
    expected_prior: u64,
    received_prior: u64,
    /// Interarrival jitter in timestamp units, scaled by 16 (RFC 3550 A.8).
    jitter_x16: u32,
    last_transit: Option<u32>,
    /// Middle 32 bits of the NTP time of the last SR received, and when (ms).
    last_sr: Option<(u32, u64)>,
}

/// The fields of one RTCP report block about a source we receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportBlock {
    /// The source reported on.
    pub ssrc: u32,
    /// Fraction lost since the previous report, in 1/256.
    pub fraction_lost: u8,
    /// Packets lost since the start (24-bit, clamped).
    pub cumulative_lost: u32,
    /// Highest sequence number received, extended with the cycle count.
    pub extended_max: u32,
    /// Interarrival jitter in timestamp units.
    pub jitter: u32,
    /// Middle bits of the last SR's NTP time (0 if none).
    pub lsr: u32,
    /// Delay since that SR, in 1/65536 s (0 if none).
    pub dlsr: u32,
}

impl ReceiveStats {
    /// Account a packet from `ssrc` with sequence `seq` and timestamp `ts`
    /// arriving at `arrival` (8 kHz units, any origin). A new SSRC starts
    /// the statistics over.
    pub fn on_packet(&mut self, ssrc: u32, seq: u16, ts: u32, arrival: u32) {
        if self.ssrc != Some(ssrc) {
            *self = ReceiveStats {
                ssrc: Some(ssrc),
                base_seq: u32::from(seq),
                max_seq: seq,
                last_sr: self.last_sr,
                ..ReceiveStats::default()
            };
        } else {
            let delta = seq.wrapping_sub(self.max_seq);
            if delta < MAX_DROPOUT {
                if seq < self.max_seq {
                    self.cycles += 1 << 16;
                }
                self.max_seq = seq;
            } else if delta <= u16::MAX - MAX_MISORDER {
                // A big jump: the source restarted; start over from here.
                self.base_seq = u32::from(seq);
                self.max_seq = seq;
                self.cycles = 0;
                self.received = 0;
                self.expected_prior = 0;
                self.received_prior = 0;
            }
        }
        self.received += 1;
        let transit = arrival.wrapping_sub(ts);
        if let Some(last) = self.last_transit.replace(transit) {
            let d = (transit.wrapping_sub(last) as i32)
                .unsigned_abs()
                .min(80_000);
            self.jitter_x16 = (self.jitter_x16 + d).saturating_sub((self.jitter_x16 + 8) / 16);
        }
    }

    /// The source being received, if any.
    pub fn ssrc(&self) -> Option<u32> {
        self.ssrc
    }

    /// Highest sequence number seen, extended with the wrap count.
    pub fn extended_max(&self) -> u32 {
        self.cycles + u32::from(self.max_seq)
    }

    /// Packets received.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Packets expected from the sequence numbers seen.
    pub fn expected(&self) -> u64 {
        if self.ssrc.is_none() {
            return 0;
        }
        u64::from(self.extended_max().wrapping_sub(self.base_seq)) + 1
    }

    /// Packets lost (never negative: duplicates don't make gains).
    pub fn lost(&self) -> u64 {
        self.expected().saturating_sub(self.received)
    }

    /// Interarrival jitter in milliseconds (8 kHz clock).
    pub fn jitter_ms(&self) -> f64 {
        f64::from(self.jitter_x16 / 16) / 8.0
    }

    /// Remember an SR from the source: the middle 32 bits of its NTP time,
    /// received at `now_ms`.
    pub fn on_sender_report(&mut self, ntp: u64, now_ms: u64) {
        self.last_sr = Some(((ntp >> 16) as u32, now_ms));
    }

    /// A report block for our next RTCP report (resets the interval's loss).
    pub fn report_block(&mut self, now_ms: u64) -> Option<ReportBlock> {
        let ssrc = self.ssrc?;
        let expected = self.expected();
        let expected_interval = expected.saturating_sub(self.expected_prior);
        let received_interval = self.received.saturating_sub(self.received_prior);
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval.saturating_sub(received_interval);
        let fraction_lost = (lost_interval << 8)
            .checked_div(expected_interval)
            .map_or(0, |f| f.min(255) as u8);
        let (lsr, dlsr) = match self.last_sr {
            Some((lsr, at)) => (lsr, (now_ms.saturating_sub(at) * 65_536 / 1000) as u32),
            None => (0, 0),
        };
        Some(ReportBlock {
            ssrc,
            fraction_lost,
            cumulative_lost: self.lost().min(0x7f_ffff) as u32,
            extended_max: self.extended_max(),
            jitter: self.jitter_x16 / 16,
            lsr,
            dlsr,
        })
    }
}

/// What the peer says about our stream, from its last RTCP report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct RemoteReport {
    /// Share of our packets it lost in its last interval (0..1).
    pub fraction_lost: f64,
    /// Our packets it lost in all.
    pub cumulative_lost: u32,
    /// The jitter it sees on our stream, ms.
    pub jitter_ms: f64,
    /// Round-trip time from its LSR/DLSR, ms (None before it saw our SR).
    pub rtt_ms: Option<f64>,
}

impl RemoteReport {
    /// Read a report block about our stream, received at `now_ntp_middle`
    /// (the middle 32 bits of our NTP clock now).
    pub fn from_block(b: &ReportBlock, now_ntp_middle: u32) -> RemoteReport {
        let rtt_ms = (b.lsr != 0).then(|| {
            let rtt = now_ntp_middle.wrapping_sub(b.lsr).wrapping_sub(b.dlsr);
            f64::from(rtt) * 1000.0 / 65_536.0
        });
        RemoteReport {
            fraction_lost: f64::from(b.fraction_lost) / 256.0,
            cumulative_lost: b.cumulative_lost,
            jitter_ms: f64::from(b.jitter) / 8.0,
            rtt_ms: rtt_ms.filter(|r| *r < 10_000.0),
        }
    }
}

/// A leg's quality as shown in call views, CDRs and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Quality {
    /// Packets received from the phone.
    pub packets_received: u64,
    /// Packets from the phone that never came.
    pub packets_lost: u64,
    /// Lost share of the phone's packets, percent.
    pub loss_percent: f64,
    /// Interarrival jitter of the phone's packets, ms.
    pub jitter_ms: f64,
    /// What the phone reported about our stream, if it sends RTCP.
    pub remote: Option<RemoteReport>,
    /// E-model R-factor (0-100; 93 is a perfect G.711 call).
    pub r_factor: f64,
    /// Mean opinion score estimated from the R-factor (1-4.4 for G.711).
    pub mos: f64,
}

impl Quality {
    /// Sum up the receive side and the peer's report.
    pub fn of(rx: &ReceiveStats, remote: Option<RemoteReport>) -> Quality {
        let expected = rx.expected();
        let lost = rx.lost();
        let loss = if expected == 0 {
            0.0
        } else {
            lost as f64 / expected as f64
        };
        // The worse direction decides what the call sounds like.
        let remote_loss = remote.map_or(0.0, |r| r.fraction_lost);
        let delay = remote.and_then(|r| r.rtt_ms).map_or(0.0, |rtt| rtt / 2.0)
            + 2.0 * rx.jitter_ms().max(remote.map_or(0.0, |r| r.jitter_ms));
        let r = r_factor(loss.max(remote_loss), delay);
        Quality {
            packets_received: rx.received(),
            packets_lost: lost,
            loss_percent: 100.0 * loss,
            jitter_ms: rx.jitter_ms(),
            remote,
            r_factor: r,
            mos: mos(r),
        }
    }
}

/// E-model R-factor for G.711 without packet loss concealment (ITU-T
/// G.107, Ie = 0, Bpl = 4.3, random loss) at `loss` (0..1) and one-way
/// `delay_ms` (Cole and Rosenbluth's approximation of the delay term).
pub fn r_factor(loss: f64, delay_ms: f64) -> f64 {
    let ppl = 100.0 * loss.clamp(0.0, 1.0);
    let ie_eff = 95.0 * ppl / (ppl + 4.3);
    let d = delay_ms.max(0.0);
    let id = 0.024 * d + if d > 177.3 { 0.11 * (d - 177.3) } else { 0.0 };
    (93.2 - id - ie_eff).clamp(0.0, 100.0)
}

/// MOS from an R-factor (ITU-T G.107 Annex B).
pub fn mos(r: f64) -> f64 {
    if r <= 0.0 {
        1.0
    } else if r >= 100.0 {
        4.5
    } else {
        1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6
    }
}

#[cfg(test)]
mod tests;
