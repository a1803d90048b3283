//! SRTP and SRTCP (RFC 3711) with the AES-CM + HMAC-SHA1 suites that SDES
//! (RFC 4568) phones and trunks offer: `AES_CM_128_HMAC_SHA1_80` and
//! `AES_CM_128_HMAC_SHA1_32`.
//!
//! The transform is sans-IO: a [`SrtpContext`] turns one RTP or RTCP
//! packet into its protected form (or back) in a caller's buffer, and keeps
//! the per-SSRC state RFC 3711 asks for: the rollover counter (ROC) and the
//! highest sequence number of each source (§3.3.1, Appendix A), the SRTCP
//! index, and a 64-packet replay window (§3.3.2). A packet that fails
//! authentication or was already received is refused with an error and
//! never reaches the caller's plaintext; the engine counts and drops it.
//!
//! Why our own small context over the RustCrypto primitives (`aes`,
//! `hmac`, `sha1`, already in the dependency tree through the WebRTC stack)
//! rather than `webrtc-srtp`: that crate brings `webrtc-util`, its own
//! `rtp`/`rtcp` packet types and `bytes` for every packet, and allocates a
//! new buffer per protect/unprotect; str0m has SRTP inside but does not
//! export it. The SRTP logic proper is a key derivation, a counter-mode
//! keystream and an HMAC: about 300 lines here, checked against the RFC
//! 3711 Appendix B vectors and the libsrtp reference packets (see
//! `srtp/tests.rs`). No cipher or MAC is implemented here.
//!
//! Not supported (the SDES layer refuses such offers): MKI, key derivation
//! rates other than 0, AES-256 and AEAD (GCM) suites.

mod context;
mod kdf;
mod replay;
#[cfg(test)]
mod tests;

pub use context::SrtpContext;

/// Length of an SDES master key plus master salt (16 + 14 octets).
pub const MASTER_LEN: usize = 30;

/// A protection profile (crypto suite) this module implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SrtpProfile {
    /// AES-128 counter mode, HMAC-SHA1 with an 80-bit tag (RFC 4568 §6.2.1).
    AesCm128HmacSha1_80,
    /// AES-128 counter mode, HMAC-SHA1 with a 32-bit SRTP tag (SRTCP keeps 80 bits).
    AesCm128HmacSha1_32,
}

impl SrtpProfile {
    /// Authentication tag length of SRTP packets.
    pub fn rtp_tag_len(self) -> usize {
        match self {
            SrtpProfile::AesCm128HmacSha1_80 => 10,
            SrtpProfile::AesCm128HmacSha1_32 => 4,
        }
    }

    /// Authentication tag length of SRTCP packets (80 bits for both suites).
    pub fn rtcp_tag_len(self) -> usize {
        10
    }
}

/// A master key and master salt (RFC 3711 §8.1). Its `Debug` output never
/// shows the key material, so it cannot leak through a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct SrtpKey([u8; MASTER_LEN]);

impl SrtpKey {
    /// From the 30 octets of an SDES `inline:` key (key then salt).
    pub fn from_bytes(bytes: &[u8]) -> Option<SrtpKey> {
        let b: [u8; MASTER_LEN] = bytes.try_into().ok()?;
        Some(SrtpKey(b))
    }

    /// A fresh random key from the operating system's generator.
    pub fn random() -> SrtpKey {
        SrtpKey(rand::random())
    }

    /// The 30 octets (for the SDES attribute we send).
    pub fn as_bytes(&self) -> &[u8; MASTER_LEN] {
        &self.0
    }

    /// The 16-octet master key.
    pub(crate) fn key(&self) -> &[u8] {
        &self.0[..16]
    }

    /// The 14-octet master salt.
    pub(crate) fn salt(&self) -> &[u8] {
        &self.0[16..]
    }
}

impl std::fmt::Debug for SrtpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SrtpKey(<redacted>)")
    }
}

/// The keys of one SRTP leg: the suite, our key (what we send) and the
/// peer's key (what we receive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrtpParams {
    /// Negotiated suite.
    pub profile: SrtpProfile,
    /// Our master key: protects what we send.
    pub local: SrtpKey,
    /// The peer's master key: checks and decrypts what we receive.
    pub remote: SrtpKey,
}

/// Why a packet could not be protected or unprotected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SrtpError {
    /// Shorter than its header plus tag, or a malformed header.
    #[error("packet too short or malformed for SRTP")]
    Malformed,
    /// The output buffer has no room for the tag.
    #[error("no room for the SRTP tag")]
    NoRoom,
    /// The authentication tag does not match (tampered, wrong key, plain RTP).
    #[error("SRTP authentication failed")]
    AuthFailed,
    /// Already received, or older than the replay window.
    #[error("SRTP packet replayed")]
    Replayed,
}
