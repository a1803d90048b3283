//! RTCP for a leg (RFC 3550 §6): the compound report we send every few
//! seconds (a sender report while we send media, else a receiver report,
//! with a report block about the phone's stream and our CNAME) and what we
//! read from the phone's reports (its sender report for round-trip
//! timing, its report block about our stream). Wire format by the
//! `rtcp-types` crate.

use std::time::{SystemTime, UNIX_EPOCH};

use rtcp_types::{
    Compound, CompoundBuilder, Packet, ReceiverReport, ReportBlock as WireBlock,
    RtcpPacketWriterExt, Sdes, SdesChunk, SdesItem, SenderReport,
};

use crate::quality::ReportBlock;

/// Seconds between 1900 (NTP) and 1970 (Unix).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

/// Our side of a sender report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderInfo {
    /// NTP time now (64-bit fixed point).
    pub ntp: u64,
    /// The RTP timestamp that corresponds to `ntp` on our stream.
    pub rtp_ts: u32,
    /// Packets sent so far.
    pub packets: u32,
    /// Payload octets sent so far.
    pub octets: u32,
}

/// What a received compound packet says that we use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Received {
    /// The sender's SSRC and NTP time, when it sent a sender report.
    pub sender_report: Option<(u32, u64)>,
    /// Its report block about our stream (SSRC `ours`), if any.
    pub about_us: Option<ReportBlock>,
}

/// NTP time (RFC 5905 64-bit format) of `t`.
pub fn ntp_time(t: SystemTime) -> u64 {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() + NTP_UNIX_OFFSET;
    let frac = (u64::from(d.subsec_nanos()) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

/// Middle 32 bits of an NTP time (the LSR/DLSR unit).
pub fn ntp_middle(ntp: u64) -> u32 {
    (ntp >> 16) as u32
}

/// Write our compound report into `out`: SR (with `sender`) or RR, an
/// optional report block, SDES CNAME. Returns its length.
pub fn build_report(
    ssrc: u32,
    sender: Option<SenderInfo>,
    block: Option<ReportBlock>,
    cname: &str,
    out: &mut [u8],
) -> Option<usize> {
    let wire_block = block.map(|b| {
        WireBlock::builder(b.ssrc)
            .fraction_lost(b.fraction_lost)
            .cumulative_lost(b.cumulative_lost & 0xff_ffff)
            .extended_sequence_number(b.extended_max)
            .interarrival_jitter(b.jitter)
            .last_sender_report_timestamp(b.lsr)
            .delay_since_last_sender_report_timestamp(b.dlsr)
    });
    let sdes = Sdes::builder()
        .add_chunk(SdesChunk::builder(ssrc).add_item(SdesItem::builder(SdesItem::CNAME, cname)));
    let compound = match sender {
        Some(s) => {
            let mut sr = SenderReport::builder(ssrc)
                .ntp_timestamp(s.ntp)
                .rtp_timestamp(s.rtp_ts)
                .packet_count(s.packets)
                .octet_count(s.octets);
            if let Some(b) = wire_block {
                sr = sr.add_report_block(b);
            }
            CompoundBuilder::default().add_packet(sr).add_packet(sdes)
        }
        None => {
            let mut rr = ReceiverReport::builder(ssrc);
            if let Some(b) = wire_block {
                rr = rr.add_report_block(b);
            }
            CompoundBuilder::default().add_packet(rr).add_packet(sdes)
        }
    };
    compound.write_into(out).ok()
}

fn block_of(b: &WireBlock<'_>) -> ReportBlock {
    ReportBlock {
        ssrc: b.ssrc(),
        fraction_lost: b.fraction_lost(),
        cumulative_lost: b.cumulative_lost(),
        extended_max: b.extended_sequence_number(),
        jitter: b.interarrival_jitter(),
        lsr: b.last_sender_report_timestamp(),
        dlsr: b.delay_since_last_sender_report_timestamp(),
    }
}

/// Read a compound RTCP packet; `ours` is our SSRC towards that peer.
/// Malformed input gives `None`, never a panic.
pub fn parse_report(data: &[u8], ours: u32) -> Option<Received> {
    let compound = Compound::parse(data).ok()?;
    let mut r = Received::default();
    for packet in compound {
        match packet.ok()? {
            Packet::Sr(sr) => {
                r.sender_report = Some((sr.ssrc(), sr.ntp_timestamp()));
                if let Some(b) = sr.report_blocks().find(|b| b.ssrc() == ours) {
                    r.about_us = Some(block_of(&b));
                }
            }
            Packet::Rr(rr) => {
                if let Some(b) = rr.report_blocks().find(|b| b.ssrc() == ours) {
                    r.about_us = Some(block_of(&b));
                }
            }
            _ => {}
        }
    }
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block() -> ReportBlock {
        ReportBlock {
            ssrc: 0xabcd,
            fraction_lost: 12,
            cumulative_lost: 34,
            extended_max: 70_000,
            jitter: 56,
            lsr: 0x1111_2222,
            dlsr: 3_000,
        }
    }

    #[test]
    fn sender_and_receiver_reports_round_trip() {
        let mut buf = [0u8; 1500];
        let sender = SenderInfo {
            ntp: 0x0102_0304_0506_0708,
            rtp_ts: 99,
            packets: 10,
            octets: 1600,
        };
        let n = build_report(7, Some(sender), Some(block()), "sb@host", &mut buf).unwrap();
        let r = parse_report(&buf[..n], 0xabcd).unwrap();
        assert_eq!(r.sender_report, Some((7, 0x0102_0304_0506_0708)));
        assert_eq!(r.about_us, Some(block()));
        let n = build_report(8, None, Some(block()), "sb@host", &mut buf).unwrap();
        let r = parse_report(&buf[..n], 0xabcd).unwrap();
        assert_eq!((r.sender_report, r.about_us), (None, Some(block())));
        // A report about another stream says nothing about ours.
        assert_eq!(parse_report(&buf[..n], 1).unwrap().about_us, None);
        let n = build_report(8, None, None, "x", &mut buf).unwrap();
        assert_eq!(parse_report(&buf[..n], 1), Some(Received::default()));
    }

    #[test]
    fn garbage_is_refused_without_panic() {
        assert_eq!(parse_report(&[], 1), None);
        assert_eq!(parse_report(&[0x80, 200, 0, 50], 1), None);
        let mut buf = [0u8; 1500];
        let n = build_report(7, None, Some(block()), "sb", &mut buf).unwrap();
        for cut in 0..n {
            let _ = parse_report(&buf[..cut], 0xabcd);
        }
        let mut x: u32 = 7;
        for _ in 0..2000 {
            let mut b = buf;
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            b[(x as usize) % n] ^= (x >> 8) as u8;
            let _ = parse_report(&b[..n], 0xabcd);
        }
    }

    #[test]
    fn ntp_time_of_the_unix_epoch() {
        assert_eq!(ntp_time(UNIX_EPOCH) >> 32, NTP_UNIX_OFFSET);
        assert_eq!(ntp_middle(0x0001_0002_0003_0004), 0x0002_0003);
    }
}
