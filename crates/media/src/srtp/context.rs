//! One direction of an SRTP session: the session keys derived from one
//! master key and the state of each source (SSRC) seen or sent.

use aes::Aes128;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::kdf::{self, label, AUTH_KEY_LEN, SALT_LEN};
use super::replay::ReplayWindow;
use super::{SrtpError, SrtpKey, SrtpProfile};

type HmacSha1 = Hmac<Sha1>;

/// Sources remembered per context; a new one past this replaces the oldest.
const MAX_SOURCES: usize = 16;

/// Length of the SRTCP trailer's E flag and index.
const SRTCP_INDEX_LEN: usize = 4;

/// Fixed RTP header length.
const RTP_HEADER: usize = 12;

/// Fixed RTCP header length (first header and sender SSRC).
const RTCP_HEADER: usize = 8;

/// Encryption, salt and authentication keys of SRTP or of SRTCP.
#[derive(Clone)]
struct SessionKeys {
    aes: Aes128,
    salt: [u8; SALT_LEN],
    mac: HmacSha1,
}

impl SessionKeys {
    fn derive(master: &SrtpKey, labels: [u8; 3]) -> SessionKeys {
        let (key, salt) = (master.key(), master.salt());
        let mut enc = [0u8; 16];
        let mut auth = [0u8; AUTH_KEY_LEN];
        let mut session_salt = [0u8; SALT_LEN];
        kdf::derive(key, salt, labels[0], &mut enc);
        kdf::derive(key, salt, labels[1], &mut auth);
        kdf::derive(key, salt, labels[2], &mut session_salt);
        SessionKeys {
            aes: kdf::cipher(&enc),
            salt: session_salt,
            mac: <HmacSha1 as Mac>::new_from_slice(&auth).expect("HMAC takes keys of any length"),
        }
    }
}

/// What is known of one source.
#[derive(Debug, Clone, Default)]
struct Source {
    ssrc: u32,
    /// Rollover counter and highest sequence number (s_l), once one packet went through.
    roc: u32,
    s_l: u16,
    started: bool,
    replay: ReplayWindow,
    /// SRTCP: last index sent, and the replay list of indices received.
    rtcp_sent: u32,
    rtcp_replay: ReplayWindow,
}

impl Source {
    fn new(ssrc: u32) -> Source {
        Source {
            ssrc,
            ..Source::default()
        }
    }

    /// The ROC guessed for `seq` (RFC 3711 §3.3.1 and Appendix A).
    fn guess_roc(&self, seq: u16) -> u32 {
        if !self.started {
            return self.roc;
        }
        let (s_l, seq) = (u32::from(self.s_l), u32::from(seq));
        if s_l < 32_768 {
            if seq > s_l + 32_768 {
                self.roc.checked_sub(1).unwrap_or(self.roc)
            } else {
                self.roc
            }
        } else if s_l - 32_768 > seq {
            self.roc.wrapping_add(1)
        } else {
            self.roc
        }
    }

    /// Record that packet (`roc`, `seq`) went through.
    fn update(&mut self, roc: u32, seq: u16) {
        let index = u64::from(roc) << 16 | u64::from(seq);
        let highest = u64::from(self.roc) << 16 | u64::from(self.s_l);
        if !self.started || index > highest {
            self.roc = roc;
            self.s_l = seq;
            self.started = true;
        }
    }
}

/// One direction of SRTP and SRTCP under one master key: ours to protect
/// what we send, or the peer's to check and decrypt what we receive.
#[derive(Clone)]
pub struct SrtpContext {
    profile: SrtpProfile,
    rtp: SessionKeys,
    rtcp: SessionKeys,
    sources: Vec<Source>,
}

impl std::fmt::Debug for SrtpContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrtpContext")
            .field("profile", &self.profile)
            .field("sources", &self.sources.len())
            .finish_non_exhaustive()
    }
}

/// Length of an RTP header (fixed part, CSRCs, extension), checked against `pkt`.
fn rtp_header_len(pkt: &[u8]) -> Result<usize, SrtpError> {
    if pkt.len() < RTP_HEADER || pkt[0] >> 6 != 2 {
        return Err(SrtpError::Malformed);
    }
    let mut len = RTP_HEADER + 4 * usize::from(pkt[0] & 0x0F);
    if pkt[0] & 0x10 != 0 {
        let ext = pkt.get(len + 2..len + 4).ok_or(SrtpError::Malformed)?;
        len += 4 + 4 * usize::from(u16::from_be_bytes([ext[0], ext[1]]));
    }
    if len > pkt.len() {
        return Err(SrtpError::Malformed);
    }
    Ok(len)
}

fn ssrc_at(pkt: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([pkt[at], pkt[at + 1], pkt[at + 2], pkt[at + 3]])
}

impl SrtpContext {
    /// A context for `profile` keyed by `master` (key derivation rate 0).
    pub fn new(profile: SrtpProfile, master: &SrtpKey) -> SrtpContext {
        SrtpContext {
            profile,
            rtp: SessionKeys::derive(
                master,
                [label::RTP_ENCRYPTION, label::RTP_AUTH, label::RTP_SALT],
            ),
            rtcp: SessionKeys::derive(
                master,
                [label::RTCP_ENCRYPTION, label::RTCP_AUTH, label::RTCP_SALT],
            ),
            sources: Vec::new(),
        }
    }

    /// The suite.
    pub fn profile(&self) -> SrtpProfile {
        self.profile
    }

    fn source(&self, ssrc: u32) -> Option<&Source> {
        self.sources.iter().find(|s| s.ssrc == ssrc)
    }

    fn source_mut(&mut self, ssrc: u32) -> &mut Source {
        let pos = match self.sources.iter().position(|s| s.ssrc == ssrc) {
            Some(p) => p,
            None => {
                if self.sources.len() >= MAX_SOURCES {
                    self.sources.remove(0);
                }
                self.sources.push(Source::new(ssrc));
                self.sources.len() - 1
            }
        };
        &mut self.sources[pos]
    }

    /// Protect the RTP packet in `buf[..len]` in place: encrypt its payload
    /// and append the tag. Returns the SRTP packet's length.
    pub fn protect_rtp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, SrtpError> {
        let tag_len = self.profile.rtp_tag_len();
        let pkt = buf.get(..len).ok_or(SrtpError::Malformed)?;
        let header = rtp_header_len(pkt)?;
        if buf.len() < len + tag_len {
            return Err(SrtpError::NoRoom);
        }
        let seq = u16::from_be_bytes([buf[2], buf[3]]);
        let ssrc = ssrc_at(buf, 8);
        let source = self.source_mut(ssrc);
        let roc = source.guess_roc(seq);
        source.update(roc, seq);
        let index = u64::from(roc) << 16 | u64::from(seq);
        let iv = kdf::packet_iv(&self.rtp.salt, ssrc, index);
        kdf::apply_keystream(&self.rtp.aes, &iv, &mut buf[header..len]);
        let mut mac = self.rtp.mac.clone();
        mac.update(&buf[..len]);
        mac.update(&roc.to_be_bytes());
        let tag = mac.finalize().into_bytes();
        buf[len..len + tag_len].copy_from_slice(&tag[..tag_len]);
        Ok(len + tag_len)
    }

    /// Check and decrypt the SRTP packet in `buf` in place. Returns the
    /// length of the RTP packet at the start of `buf`. A tampered, unkeyed
    /// (plain RTP) or replayed packet is an error and leaves no plaintext.
    pub fn unprotect_rtp(&mut self, buf: &mut [u8]) -> Result<usize, SrtpError> {
        let tag_len = self.profile.rtp_tag_len();
        let n = buf.len().checked_sub(tag_len).ok_or(SrtpError::Malformed)?;
        let header = rtp_header_len(&buf[..n])?;
        let seq = u16::from_be_bytes([buf[2], buf[3]]);
        let ssrc = ssrc_at(buf, 8);
        let known = self
            .source(ssrc)
            .cloned()
            .unwrap_or_else(|| Source::new(ssrc));
        let roc = known.guess_roc(seq);
        let index = u64::from(roc) << 16 | u64::from(seq);
        if !known.replay.check(index) {
            return Err(SrtpError::Replayed);
        }
        let mut mac = self.rtp.mac.clone();
        mac.update(&buf[..n]);
        mac.update(&roc.to_be_bytes());
        mac.verify_truncated_left(&buf[n..])
            .map_err(|_| SrtpError::AuthFailed)?;
        let iv = kdf::packet_iv(&self.rtp.salt, ssrc, index);
        kdf::apply_keystream(&self.rtp.aes, &iv, &mut buf[header..n]);
        let source = self.source_mut(ssrc);
        source.replay.accept(index);
        source.update(roc, seq);
        Ok(n)
    }

    /// Protect the RTCP compound packet in `buf[..len]` in place: encrypt
    /// all but its first 8 octets, append the E flag and SRTCP index, then
    /// the tag. Returns the SRTCP packet's length.
    pub fn protect_rtcp(&mut self, buf: &mut [u8], len: usize) -> Result<usize, SrtpError> {
        let ssrc = match buf.get(..len) {
            Some(p) if len >= RTCP_HEADER && p[0] >> 6 == 2 => ssrc_at(p, 4),
            _ => return Err(SrtpError::Malformed),
        };
        let source = self.source_mut(ssrc);
        let index = source.rtcp_sent.wrapping_add(1) & 0x7FFF_FFFF;
        source.rtcp_sent = index;
        self.protect_rtcp_with_index(buf, len, index)
    }

    /// [`SrtpContext::protect_rtcp`] with a given SRTCP index.
    pub(crate) fn protect_rtcp_with_index(
        &mut self,
        buf: &mut [u8],
        len: usize,
        index: u32,
    ) -> Result<usize, SrtpError> {
        let tag_len = self.profile.rtcp_tag_len();
        if len < RTCP_HEADER || buf.len() < len + SRTCP_INDEX_LEN + tag_len {
            return Err(if len < RTCP_HEADER {
                SrtpError::Malformed
            } else {
                SrtpError::NoRoom
            });
        }
        let ssrc = ssrc_at(buf, 4);
        let iv = kdf::packet_iv(&self.rtcp.salt, ssrc, u64::from(index));
        kdf::apply_keystream(&self.rtcp.aes, &iv, &mut buf[RTCP_HEADER..len]);
        let e_index = 0x8000_0000 | (index & 0x7FFF_FFFF);
        buf[len..len + SRTCP_INDEX_LEN].copy_from_slice(&e_index.to_be_bytes());
        let end = len + SRTCP_INDEX_LEN;
        let mut mac = self.rtcp.mac.clone();
        mac.update(&buf[..end]);
        let tag = mac.finalize().into_bytes();
        buf[end..end + tag_len].copy_from_slice(&tag[..tag_len]);
        Ok(end + tag_len)
    }

    /// Check and decrypt the SRTCP packet in `buf` in place. Returns the
    /// length of the RTCP compound packet at the start of `buf`.
    pub fn unprotect_rtcp(&mut self, buf: &mut [u8]) -> Result<usize, SrtpError> {
        let tag_len = self.profile.rtcp_tag_len();
        let end = buf.len().checked_sub(tag_len).ok_or(SrtpError::Malformed)?;
        let n = end
            .checked_sub(SRTCP_INDEX_LEN)
            .filter(|n| *n >= RTCP_HEADER)
            .ok_or(SrtpError::Malformed)?;
        if buf[0] >> 6 != 2 {
            return Err(SrtpError::Malformed);
        }
        let ssrc = ssrc_at(buf, 4);
        let e_index = ssrc_at(buf, n);
        let (encrypted, index) = (e_index & 0x8000_0000 != 0, e_index & 0x7FFF_FFFF);
        let replay_ok = self
            .source(ssrc)
            .is_none_or(|s| s.rtcp_replay.check(u64::from(index)));
        if !replay_ok {
            return Err(SrtpError::Replayed);
        }
        let mut mac = self.rtcp.mac.clone();
        mac.update(&buf[..end]);
        mac.verify_truncated_left(&buf[end..])
            .map_err(|_| SrtpError::AuthFailed)?;
        if encrypted {
            let iv = kdf::packet_iv(&self.rtcp.salt, ssrc, u64::from(index));
            kdf::apply_keystream(&self.rtcp.aes, &iv, &mut buf[RTCP_HEADER..n]);
        }
        self.source_mut(ssrc).rtcp_replay.accept(u64::from(index));
        Ok(n)
    }
}
