//! RTP (RFC 3550) framing: a zero-copy parser and a header writer.
//!
//! The parser borrows the received datagram and validates every length it
//! reads, so malformed input yields an [`RtpError`] instead of a panic.
//! The writer fills a caller-provided buffer so the send path never
//! allocates.

use thiserror::Error;

/// Size of the fixed RTP header (no CSRCs, no extension).
pub const HEADER_LEN: usize = 12;

/// Size of a 20 ms G.711 packet: header + 160 payload bytes.
pub const G711_PACKET_LEN: usize = HEADER_LEN + crate::FRAME_SAMPLES;

/// Why a datagram is not a usable RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtpError {
    /// Shorter than the fixed header.
    #[error("packet shorter than the RTP header")]
    TooShort,
    /// Version field is not 2.
    #[error("unsupported RTP version {0}")]
    BadVersion(u8),
    /// CSRC list or header extension runs past the end of the packet.
    #[error("CSRC list or header extension truncated")]
    Truncated,
    /// Padding count is zero or larger than the payload.
    #[error("invalid padding length")]
    BadPadding,
    /// Output buffer too small for header plus payload.
    #[error("output buffer too small")]
    BufferTooSmall,
}

/// A parsed view of an RTP packet borrowing the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// Payload type (7 bits).
    pub payload_type: u8,
    /// Marker bit.
    pub marker: bool,
    /// Sequence number.
    pub sequence: u16,
    /// Media timestamp.
    pub timestamp: u32,
    /// Synchronization source.
    pub ssrc: u32,
    /// Payload without header, CSRCs, extension or padding.
    pub payload: &'a [u8],
}

impl<'a> RtpPacket<'a> {
    /// Parse and validate `buf` as an RTP packet.
    pub fn parse(buf: &'a [u8]) -> Result<RtpPacket<'a>, RtpError> {
        if buf.len() < HEADER_LEN {
            return Err(RtpError::TooShort);
        }
        let version = buf[0] >> 6;
        if version != 2 {
            return Err(RtpError::BadVersion(version));
        }
        let padding = buf[0] & 0x20 != 0;
        let extension = buf[0] & 0x10 != 0;
        let csrc_count = (buf[0] & 0x0F) as usize;
        let mut offset = HEADER_LEN + 4 * csrc_count;
        if buf.len() < offset {
            return Err(RtpError::Truncated);
        }
        if extension {
            if buf.len() < offset + 4 {
                return Err(RtpError::Truncated);
            }
            let words = u16::from_be_bytes([buf[offset + 2], buf[offset + 3]]) as usize;
            offset += 4 + 4 * words;
            if buf.len() < offset {
                return Err(RtpError::Truncated);
            }
        }
        let mut end = buf.len();
        if padding {
            let pad = buf[end - 1] as usize;
            if pad == 0 || pad > end - offset {
                return Err(RtpError::BadPadding);
            }
            end -= pad;
        }
        Ok(RtpPacket {
            payload_type: buf[1] & 0x7F,
            marker: buf[1] & 0x80 != 0,
            sequence: u16::from_be_bytes([buf[2], buf[3]]),
            timestamp: u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]),
            ssrc: u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]),
            payload: &buf[offset..end],
        })
    }

    /// True if this looks like RTCP multiplexed on the RTP port (RFC 5761:
    /// second byte 200..=204 reads as marker + PT 72..=76).
    pub fn is_rtcp(&self) -> bool {
        (72..=76).contains(&self.payload_type)
    }
}

/// Fields of an outgoing RTP header (no CSRCs, no extension, no padding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    /// Payload type (7 bits).
    pub payload_type: u8,
    /// Marker bit.
    pub marker: bool,
    /// Sequence number.
    pub sequence: u16,
    /// Media timestamp.
    pub timestamp: u32,
    /// Synchronization source.
    pub ssrc: u32,
}

impl RtpHeader {
    /// Write the 12-byte header to the start of `buf`.
    pub fn write(&self, buf: &mut [u8]) -> Result<usize, RtpError> {
        let out = buf.get_mut(..HEADER_LEN).ok_or(RtpError::BufferTooSmall)?;
        out[0] = 0x80;
        out[1] = (self.payload_type & 0x7F) | if self.marker { 0x80 } else { 0 };
        out[2..4].copy_from_slice(&self.sequence.to_be_bytes());
        out[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        out[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
        Ok(HEADER_LEN)
    }

    /// Write header and `payload` into `buf`; returns the packet length.
    pub fn write_packet(&self, buf: &mut [u8], payload: &[u8]) -> Result<usize, RtpError> {
        let len = HEADER_LEN + payload.len();
        if buf.len() < len {
            return Err(RtpError::BufferTooSmall);
        }
        self.write(buf)?;
        buf[HEADER_LEN..len].copy_from_slice(payload);
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn header() -> RtpHeader {
        RtpHeader {
            payload_type: 8,
            marker: true,
            sequence: 0xBEEF,
            timestamp: 0xDEAD_BEEF,
            ssrc: 0x1234_5678,
        }
    }

    #[test]
    fn write_then_parse() {
        let mut buf = [0u8; G711_PACKET_LEN];
        let payload = [0xD5u8; 160];
        let n = header().write_packet(&mut buf, &payload).unwrap();
        assert_eq!(n, G711_PACKET_LEN);
        let p = RtpPacket::parse(&buf[..n]).unwrap();
        assert_eq!(p.payload_type, 8);
        assert!(p.marker);
        assert_eq!(p.sequence, 0xBEEF);
        assert_eq!(p.timestamp, 0xDEAD_BEEF);
        assert_eq!(p.ssrc, 0x1234_5678);
        assert_eq!(p.payload, &payload[..]);
        assert!(!p.is_rtcp());
    }

    #[test]
    fn buffer_too_small() {
        let mut small = [0u8; 20];
        assert_eq!(
            header().write_packet(&mut small, &[0; 160]),
            Err(RtpError::BufferTooSmall)
        );
        assert_eq!(
            header().write(&mut small[..4]),
            Err(RtpError::BufferTooSmall)
        );
    }

    #[test]
    fn csrc_extension_padding() {
        let mut pkt = vec![0xB2u8, 0x00]; // V=2, P=1, X=1, CC=2
        pkt.extend_from_slice(&[0, 1, 0, 0, 0, 2, 0, 0, 0, 3]);
        pkt.extend_from_slice(&[0; 8]); // two CSRCs
        pkt.extend_from_slice(&[0xBE, 0xDE, 0, 1, 1, 2, 3, 4]); // ext, 1 word
        pkt.extend_from_slice(&[9, 9, 9]); // payload
        pkt.extend_from_slice(&[0, 0, 3]); // 3 bytes padding
        let p = RtpPacket::parse(&pkt).unwrap();
        assert_eq!(p.payload, &[9, 9, 9]);
        assert_eq!(p.sequence, 1);
        assert_eq!(p.timestamp, 2);
        assert_eq!(p.ssrc, 3);
    }

    #[test]
    fn bad_packets() {
        assert_eq!(RtpPacket::parse(&[0x80; 11]), Err(RtpError::TooShort));
        let mut p = [0u8; 12];
        p[0] = 0x40;
        assert_eq!(RtpPacket::parse(&p), Err(RtpError::BadVersion(1)));
        p[0] = 0x81; // one CSRC missing
        assert_eq!(RtpPacket::parse(&p), Err(RtpError::Truncated));
        p[0] = 0x90; // extension header missing
        assert_eq!(RtpPacket::parse(&p), Err(RtpError::Truncated));
        let mut q = [0u8; 16];
        q[0] = 0x90;
        q[15] = 0; // extension length 0 words is fine
        assert!(RtpPacket::parse(&q).is_ok());
        q[14] = 1; // 256 words: runs past the end
        assert_eq!(RtpPacket::parse(&q), Err(RtpError::Truncated));
        let mut r = [0u8; 14];
        r[0] = 0xA0;
        r[13] = 0;
        assert_eq!(RtpPacket::parse(&r), Err(RtpError::BadPadding));
        r[13] = 3;
        assert_eq!(RtpPacket::parse(&r), Err(RtpError::BadPadding));
        r[13] = 2;
        assert_eq!(RtpPacket::parse(&r).unwrap().payload.len(), 0);
    }

    #[test]
    fn rtcp_detection() {
        let mut p = [0u8; 12];
        p[0] = 0x80;
        p[1] = 200; // sender report
        assert!(RtpPacket::parse(&p).unwrap().is_rtcp());
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
        let mut buf = [0u8; 300];
        for i in 0..200_000 {
            let len = rng.gen_range(0..buf.len());
            rng.fill(&mut buf[..len]);
            if i % 2 == 0 && len > 0 {
                buf[0] = (buf[0] & 0x3F) | 0x80; // make most of them version 2
            }
            if let Ok(p) = RtpPacket::parse(&buf[..len]) {
                assert!(p.payload.len() <= len.saturating_sub(HEADER_LEN));
            }
        }
    }
}
