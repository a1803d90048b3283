//! G.711 µ-law (PCMU) and A-law (PCMA) codecs.
//!
//! Encoding uses the classic segment/mantissa bit algorithms (as in the
//! reference `g711.c`); decoding uses 256-entry tables built at compile time.
//! These are the only codecs the engine speaks, which is enough for SIP
//! phones and trunks and makes transcoding a table lookup.

/// µ-law encoder bias (0x84).
const ULAW_BIAS: i32 = 0x84;
/// µ-law encoder input clip level.
const ULAW_CLIP: i32 = 32635;

/// An audio codec negotiated in SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// G.711 µ-law, static payload type 0.
    Pcmu,
    /// G.711 A-law, static payload type 8.
    Pcma,
}

impl Codec {
    /// RTP static payload type number.
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// Codec for a static payload type, if it is one we decode.
    pub fn from_payload_type(pt: u8) -> Option<Codec> {
        match pt {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            _ => None,
        }
    }

    /// Codec for an SDP `rtpmap` encoding name ("PCMU"/"PCMA", any case).
    pub fn from_name(name: &str) -> Option<Codec> {
        if name.eq_ignore_ascii_case("PCMU") {
            Some(Codec::Pcmu)
        } else if name.eq_ignore_ascii_case("PCMA") {
            Some(Codec::Pcma)
        } else {
            None
        }
    }

    /// SDP encoding name.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    /// Encode one linear sample.
    #[inline]
    pub fn encode_sample(self, sample: i16) -> u8 {
        match self {
            Codec::Pcmu => linear_to_ulaw(sample),
            Codec::Pcma => linear_to_alaw(sample),
        }
    }

    /// Decode one companded byte.
    #[inline]
    pub fn decode_sample(self, byte: u8) -> i16 {
        match self {
            Codec::Pcmu => ULAW_DECODE[byte as usize],
            Codec::Pcma => ALAW_DECODE[byte as usize],
        }
    }

    /// Encode `pcm` into `out`; converts `min(pcm.len(), out.len())` samples
    /// and returns that count.
    pub fn encode(self, pcm: &[i16], out: &mut [u8]) -> usize {
        let n = pcm.len().min(out.len());
        for (o, &s) in out[..n].iter_mut().zip(&pcm[..n]) {
            *o = self.encode_sample(s);
        }
        n
    }

    /// Decode `data` into `out`; converts `min(data.len(), out.len())` bytes
    /// and returns that count.
    pub fn decode(self, data: &[u8], out: &mut [i16]) -> usize {
        let table = match self {
            Codec::Pcmu => &ULAW_DECODE,
            Codec::Pcma => &ALAW_DECODE,
        };
        let n = data.len().min(out.len());
        for (o, &b) in out[..n].iter_mut().zip(&data[..n]) {
            *o = table[b as usize];
        }
        n
    }

    /// The byte that encodes digital silence (positive zero).
    pub fn silence_byte(self) -> u8 {
        self.encode_sample(0)
    }
}

impl std::fmt::Display for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Encode a 16-bit linear sample to µ-law.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let mut pcm = sample as i32;
    let sign = if pcm < 0 {
        pcm = -pcm;
        0x80
    } else {
        0x00
    };
    pcm = pcm.min(ULAW_CLIP) + ULAW_BIAS;
    // Exponent = position of the highest set bit of pcm >> 7 (1..=255).
    let exponent = 31 - ((pcm >> 7) as u32).leading_zeros() as i32;
    let mantissa = (pcm >> (exponent + 3)) & 0x0F;
    !(sign | (exponent << 4) | mantissa) as u8
}

/// Decode a µ-law byte to a 16-bit linear sample.
pub const fn ulaw_to_linear(byte: u8) -> i16 {
    let u = !byte;
    let exponent = ((u >> 4) & 0x07) as i32;
    let mantissa = (u & 0x0F) as i32;
    let magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
    if u & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

/// Encode a 16-bit linear sample to A-law.
pub fn linear_to_alaw(sample: i16) -> u8 {
    let mut pcm = (sample as i32) >> 3; // 13-bit magnitude domain
    let mask: i32 = if pcm >= 0 {
        0xD5
    } else {
        pcm = -pcm - 1;
        0x55
    };
    // Segment = number of bits above the 5-bit floor (0..=7), 8 = overflow.
    let seg = (32 - (pcm as u32 >> 5).leading_zeros()) as i32;
    if seg >= 8 {
        return (0x7F ^ mask) as u8;
    }
    let shift = if seg < 2 { 1 } else { seg };
    let aval = (seg << 4) | ((pcm >> shift) & 0x0F);
    (aval ^ mask) as u8
}

/// Decode an A-law byte to a 16-bit linear sample.
pub const fn alaw_to_linear(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let mut t = ((a & 0x0F) as i32) << 4;
    let seg = ((a & 0x70) >> 4) as i32;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    if a & 0x80 != 0 {
        t as i16
    } else {
        -t as i16
    }
}

const fn build_table(alaw: bool) -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = if alaw {
            alaw_to_linear(i as u8)
        } else {
            ulaw_to_linear(i as u8)
        };
        i += 1;
    }
    table
}

/// µ-law byte -> linear sample.
static ULAW_DECODE: [i16; 256] = build_table(false);
/// A-law byte -> linear sample.
static ALAW_DECODE: [i16; 256] = build_table(true);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_types_and_names() {
        assert_eq!(Codec::Pcmu.payload_type(), 0);
        assert_eq!(Codec::Pcma.payload_type(), 8);
        assert_eq!(Codec::from_payload_type(0), Some(Codec::Pcmu));
        assert_eq!(Codec::from_payload_type(8), Some(Codec::Pcma));
        assert_eq!(Codec::from_payload_type(18), None);
        assert_eq!(Codec::from_name("PCMU"), Some(Codec::Pcmu));
        assert_eq!(Codec::from_name("pcma"), Some(Codec::Pcma));
        assert_eq!(Codec::from_name("G729"), None);
        assert_eq!(Codec::Pcma.to_string(), "PCMA");
    }

    #[test]
    fn known_vectors() {
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_ulaw(-1), 0x7F);
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x7F), 0);
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(linear_to_alaw(-1), 0x55);
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        // Extremes.
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        assert_eq!(alaw_to_linear(0xAA), 32256);
        assert_eq!(alaw_to_linear(0x2A), -32256);
        assert_eq!(linear_to_alaw(i16::MAX), 0xAA);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2A);
        assert_eq!(Codec::Pcmu.silence_byte(), 0xFF);
        assert_eq!(Codec::Pcma.silence_byte(), 0xD5);
    }

    #[test]
    fn round_trip_error_bounds() {
        for codec in [Codec::Pcmu, Codec::Pcma] {
            for x in i16::MIN..=i16::MAX {
                let y = codec.decode_sample(codec.encode_sample(x));
                let err = (x as i32 - y as i32).abs();
                // Logarithmic quantizer: error grows with magnitude (~3%),
                // plus a small floor near zero and clipping at full scale.
                let bound = (x as i32).abs() / 16 + 16;
                assert!(err <= bound, "{codec}: {x} -> {y} (err {err})");
            }
        }
    }

    #[test]
    fn bytes_round_trip_exactly() {
        // Decoded values are fixed points of encode+decode (µ-law has two
        // zero code words, so compare decoded values there).
        for b in 0..=255u8 {
            let u = ulaw_to_linear(b);
            assert_eq!(ulaw_to_linear(linear_to_ulaw(u)), u, "ulaw {b:#x}");
            let a = alaw_to_linear(b);
            assert_eq!(linear_to_alaw(a), b, "alaw {b:#x}");
        }
    }

    #[test]
    fn slice_helpers_and_monotonic() {
        let pcm: Vec<i16> = (-100..100).map(|i| i * 300).collect();
        for codec in [Codec::Pcmu, Codec::Pcma] {
            let mut enc = vec![0u8; pcm.len()];
            assert_eq!(codec.encode(&pcm, &mut enc), pcm.len());
            let mut dec = vec![0i16; pcm.len()];
            assert_eq!(codec.decode(&enc, &mut dec), pcm.len());
            assert!(
                dec.windows(2).all(|w| w[0] <= w[1]),
                "{codec} not monotonic"
            );
        }
    }
}
