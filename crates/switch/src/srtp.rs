//! SRTP keying of SIP legs with SDES (RFC 4568): which offers get SRTP,
//! our `a=crypto` lines, the keys handed to the media engine (which
//! encrypts and decrypts at the leg's socket, so the other legs of the call
//! stay plain RTP), re-offers that keep or change keys, and the policy of
//! the offers we make (per trunk `srtp`, and for an agent's phone whose own
//! offers asked for SRTP).
//!
//! The keys travel in clear in the SDP, so SDES is only private over SIP
//! over TLS. Nothing here logs a key: the types holding them redact their
//! `Debug` output, and the call log only records that a leg is SRTP.

use switchboard_media::srtp::{SrtpKey, SrtpParams, SrtpProfile};
use switchboard_sip::sdes::{self, CryptoAttribute, CryptoSuite, SdesKey};
use switchboard_sip::sdp::{AudioSdp, Keying};

use crate::Switch;

/// Whether the offers we make carry SRTP keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SrtpMode {
    /// Plain `RTP/AVP`.
    #[default]
    Off,
    /// `RTP/AVP` with our `a=crypto` lines (best effort): SRTP if the
    /// answer accepts a line, plain RTP otherwise.
    Optional,
    /// `RTP/SAVP` with our `a=crypto` lines; an answer without an accepted
    /// line ends the leg (never a call without the encryption asked for).
    Mandatory,
}

/// The SDES keys of one leg.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegKeys {
    /// Our line as the peer knows it: tag, suite and our key.
    pub local: CryptoAttribute,
    /// The peer's key, once its SDP gave one.
    pub remote: Option<SdesKey>,
    /// The m= protocol of our descriptions (`RTP/SAVP`, or the offer's).
    pub proto: String,
    /// Lines of our offer not answered yet (an outgoing leg before its answer).
    pub offered: Vec<CryptoAttribute>,
    /// The offer was mandatory SRTP.
    pub mandatory: bool,
}

/// What an offer asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OfferKeys {
    /// Plain RTP.
    Plain,
    /// SRTP with this line of the offer (the first we support, in order).
    Srtp(CryptoAttribute),
    /// `RTP/SAVP` without any line we support: 488.
    Refused,
}

/// What `offer` asks for. An `RTP/AVP` offer with keys we support (best
/// effort SRTP) gets SRTP too; without usable keys it is plain RTP.
pub(crate) fn offer_keys(offer: &AudioSdp) -> OfferKeys {
    match sdes::choose(&offer.crypto) {
        Some(c) => OfferKeys::Srtp(c.clone()),
        None if offer.audio_secure() => OfferKeys::Refused,
        None => OfferKeys::Plain,
    }
}

/// Reason phrase of the 488 to an SRTP offer we cannot key.
pub(crate) const NO_SUITE: &str = "Not Acceptable Here (no supported SRTP crypto suite)";

fn profile(suite: CryptoSuite) -> SrtpProfile {
    match suite {
        CryptoSuite::AesCm128HmacSha1_80 => SrtpProfile::AesCm128HmacSha1_80,
        CryptoSuite::AesCm128HmacSha1_32 => SrtpProfile::AesCm128HmacSha1_32,
    }
}

fn new_line(tag: u32, suite: CryptoSuite) -> CryptoAttribute {
    CryptoAttribute {
        tag,
        suite,
        key: SdesKey(*SrtpKey::random().as_bytes()),
        lifetime: None,
        mki: None,
    }
}

/// Our lines for an offer: both suites, `_80` first, each with its own key.
pub(crate) fn offer_lines() -> Vec<CryptoAttribute> {
    vec![
        new_line(1, CryptoSuite::AesCm128HmacSha1_80),
        new_line(2, CryptoSuite::AesCm128HmacSha1_32),
    ]
}

impl LegKeys {
    /// The keys of an outgoing leg whose offer carries `lines`.
    pub(crate) fn offering(lines: Vec<CryptoAttribute>, mode: SrtpMode) -> Option<LegKeys> {
        let first = lines.first()?.clone();
        let proto = match mode {
            SrtpMode::Off => return None,
            SrtpMode::Optional => "RTP/AVP",
            SrtpMode::Mandatory => "RTP/SAVP",
        };
        Some(LegKeys {
            local: first,
            remote: None,
            proto: proto.into(),
            offered: lines,
            mandatory: mode == SrtpMode::Mandatory,
        })
    }

    /// How our next description of the leg is keyed.
    pub fn keying(&self) -> Keying<'_> {
        Keying {
            proto: &self.proto,
            crypto: if self.offered.is_empty() {
                std::slice::from_ref(&self.local)
            } else {
                &self.offered
            },
        }
    }

    /// The media engine's parameters, once both keys are known.
    fn params(&self) -> Option<SrtpParams> {
        Some(SrtpParams {
            profile: profile(self.local.suite),
            local: SrtpKey::from_bytes(&self.local.key.0)?,
            remote: SrtpKey::from_bytes(&self.remote.as_ref()?.0)?,
        })
    }
}

impl Switch {
    /// Key a leg from the peer's offer (INVITE or re-INVITE): our line
    /// echoes the chosen tag and suite and keeps our key when the suite
    /// did not change. Err(()) when the offer needs SRTP we cannot do
    /// (the caller answers 488); the leg is then left as it was.
    pub(crate) fn key_from_offer(&mut self, leg: u64, offer: &AudioSdp) -> Result<(), ()> {
        let Some(l) = self.legs.get_mut(&leg) else {
            return Ok(());
        };
        match offer_keys(offer) {
            OfferKeys::Refused => return Err(()),
            OfferKeys::Plain => l.srtp = None,
            OfferKeys::Srtp(c) => {
                let local = match &l.srtp {
                    Some(k) if k.local.suite == c.suite => CryptoAttribute {
                        tag: c.tag,
                        ..k.local.clone()
                    },
                    _ => new_line(c.tag, c.suite),
                };
                l.srtp = Some(LegKeys {
                    local,
                    remote: Some(c.key),
                    proto: offer.audio_proto().to_string(),
                    offered: Vec::new(),
                    mandatory: offer.audio_secure(),
                });
            }
        }
        self.apply_keys(leg);
        Ok(())
    }

    /// Take in the peer's answer to our offer. False when the leg asked
    /// for mandatory SRTP and the answer accepted none of our lines (the
    /// caller ends the leg); an answer to an optional offer without keys
    /// leaves the leg plain.
    pub(crate) fn key_from_answer(&mut self, leg: u64, ans: &AudioSdp) -> bool {
        let Some(l) = self.legs.get_mut(&leg) else {
            return true;
        };
        let Some(keys) = l.srtp.as_mut() else {
            return true;
        };
        let accepted = ans.crypto.iter().find_map(|a| {
            let ours = if keys.offered.is_empty() {
                std::slice::from_ref(&keys.local)
            } else {
                &keys.offered[..]
            };
            ours.iter()
                .find(|o| o.tag == a.tag && o.suite == a.suite)
                .map(|o| (o.clone(), a.key.clone()))
        });
        match accepted {
            Some((local, remote)) => {
                keys.local = local;
                keys.remote = Some(remote);
                keys.offered.clear();
            }
            None if keys.mandatory || keys.remote.is_some() => {
                if keys.remote.is_none() {
                    return false;
                }
                // A re-INVITE answer that dropped its line: keep the keys we have.
            }
            None => l.srtp = None,
        }
        self.apply_keys(leg);
        true
    }

    /// Hand the leg's keys (or plain RTP) to the media engine.
    pub(crate) fn apply_keys(&mut self, leg: u64) {
        let Some(l) = self.legs.get(&leg) else {
            return;
        };
        let params = l.srtp.as_ref().and_then(LegKeys::params);
        if l.srtp.is_some() && params.is_none() {
            return; // the peer's key is not known yet
        }
        self.media.set_srtp(l.media, params);
    }

    /// The SRTP policy of an offer to an agent's phone: SRTP when the
    /// phone's own last offer asked for it.
    pub(crate) fn phone_srtp(&self, agent: Option<&str>) -> SrtpMode {
        match agent {
            Some(a) if self.srtp_phones.contains(a) => SrtpMode::Mandatory,
            _ => SrtpMode::Off,
        }
    }

    /// Remember whether an agent's phone offers SRTP (its next calls from
    /// us are offered the same).
    pub(crate) fn note_phone_srtp(&mut self, agent: &str, offer: &AudioSdp) {
        if offer.audio_secure() && matches!(offer_keys(offer), OfferKeys::Srtp(_)) {
            self.srtp_phones.insert(agent.to_string());
        } else {
            self.srtp_phones.remove(agent);
        }
    }
}
