//! RFC 4733 telephone-event (out-of-band DTMF) parsing and detection.
//!
//! Phones send a digit as a series of packets sharing one RTP timestamp,
//! the last of which carry the end bit (usually sent three times for
//! robustness). [`DtmfDetector`] turns that into exactly one digit.

use thiserror::Error;

/// Why a telephone-event payload could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum DtmfError {
    /// Fewer than the 4 bytes of an event block.
    #[error("telephone-event payload shorter than 4 bytes")]
    TooShort,
}

/// One RFC 4733 event block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code (0-15 are DTMF digits).
    pub event: u8,
    /// End-of-event bit.
    pub end: bool,
    /// Volume in -dBm0 (0..=63).
    pub volume: u8,
    /// Duration so far, in timestamp units.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parse the first event block of a telephone-event payload.
    pub fn parse(payload: &[u8]) -> Result<TelephoneEvent, DtmfError> {
        if payload.len() < 4 {
            return Err(DtmfError::TooShort);
        }
        Ok(TelephoneEvent {
            event: payload[0],
            end: payload[1] & 0x80 != 0,
            volume: payload[1] & 0x3F,
            duration: u16::from_be_bytes([payload[2], payload[3]]),
        })
    }

    /// Serialize into the first 4 bytes of `out` (used by tests and tools).
    pub fn write(&self, out: &mut [u8; 4]) {
        out[0] = self.event;
        out[1] = (self.volume & 0x3F) | if self.end { 0x80 } else { 0 };
        out[2..4].copy_from_slice(&self.duration.to_be_bytes());
    }

    /// The DTMF character of this event, if it is a DTMF event.
    pub fn digit(&self) -> Option<char> {
        event_to_char(self.event)
    }
}

/// Map an event code to its DTMF character: 0-9, `*`, `#`, A-D.
pub fn event_to_char(event: u8) -> Option<char> {
    match event {
        0..=9 => Some((b'0' + event) as char),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some((b'A' + event - 12) as char),
        _ => None,
    }
}

/// Map a DTMF character to its event code (inverse of [`event_to_char`]).
pub fn char_to_event(digit: char) -> Option<u8> {
    match digit {
        '0'..='9' => Some(digit as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(digit as u8 - b'A' + 12),
        _ => None,
    }
}

/// Reports each digit once, on the first end packet of an event.
#[derive(Debug, Default, Clone)]
pub struct DtmfDetector {
    last_reported: Option<u32>,
}

impl DtmfDetector {
    /// New detector with no history.
    pub fn new() -> DtmfDetector {
        DtmfDetector::default()
    }

    /// Feed one telephone-event packet (its RTP timestamp and payload);
    /// returns the digit the first time an end packet of an event is seen.
    pub fn on_packet(&mut self, rtp_timestamp: u32, payload: &[u8]) -> Option<char> {
        let ev = TelephoneEvent::parse(payload).ok()?;
        if !ev.end || self.last_reported == Some(rtp_timestamp) {
            return None;
        }
        let digit = ev.digit()?;
        self.last_reported = Some(rtp_timestamp);
        Some(digit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(event: u8, end: bool, duration: u16) -> [u8; 4] {
        let mut out = [0; 4];
        TelephoneEvent {
            event,
            end,
            volume: 10,
            duration,
        }
        .write(&mut out);
        out
    }

    #[test]
    fn parse_roundtrip() {
        let p = payload(11, true, 1600);
        let ev = TelephoneEvent::parse(&p).unwrap();
        assert_eq!(ev.event, 11);
        assert!(ev.end);
        assert_eq!(ev.volume, 10);
        assert_eq!(ev.duration, 1600);
        assert_eq!(ev.digit(), Some('#'));
        assert_eq!(TelephoneEvent::parse(&p[..3]), Err(DtmfError::TooShort));
    }

    #[test]
    fn event_chars() {
        let all: String = (0..16).filter_map(event_to_char).collect();
        assert_eq!(all, "0123456789*#ABCD");
        assert_eq!(event_to_char(16), None);
    }

    #[test]
    fn one_digit_per_event() {
        let mut d = DtmfDetector::new();
        let mut got = Vec::new();
        // Digit 5 at ts 1000: 4 progress packets, 3 end packets.
        for i in 1..=4 {
            got.extend(d.on_packet(1000, &payload(5, false, i * 160)));
        }
        for _ in 0..3 {
            got.extend(d.on_packet(1000, &payload(5, true, 800)));
        }
        // Same digit again, new event timestamp.
        got.extend(d.on_packet(3000, &payload(5, false, 160)));
        for _ in 0..3 {
            got.extend(d.on_packet(3000, &payload(5, true, 480)));
        }
        // Then '*'.
        for _ in 0..3 {
            got.extend(d.on_packet(5000, &payload(10, true, 480)));
        }
        assert_eq!(got, vec!['5', '5', '*']);
    }

    #[test]
    fn ignores_garbage_and_non_dtmf() {
        let mut d = DtmfDetector::new();
        assert_eq!(d.on_packet(1, &[1, 2]), None);
        assert_eq!(d.on_packet(1, &payload(16, true, 100)), None);
        // A non-DTMF event must not block a later digit at the same ts.
        assert_eq!(d.on_packet(1, &payload(3, true, 100)), Some('3'));
    }
}
