//! RFC 3711 Appendix B vectors, the libsrtp reference packets for the same
//! master key, round trips, ROC rollover, replay and tampering.

use super::kdf::{self, label};
use super::{SrtpContext, SrtpError, SrtpKey, SrtpProfile};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

const MASTER_KEY: &str = "E1F97A0D3E018BE0D64FA32C06DE4139";
const MASTER_SALT: &str = "0EC675AD498AFEEBB6960B3AABE6";

fn master() -> SrtpKey {
    let mut b = hex(MASTER_KEY);
    b.extend(hex(MASTER_SALT));
    SrtpKey::from_bytes(&b).unwrap()
}

/// RFC 3711 B.2: the AES-CM keystream for a given session key and IV.
#[test]
fn rfc3711_b2_aes_cm_keystream() {
    let aes = kdf::cipher(&hex("2B7E151628AED2A6ABF7158809CF4F3C"));
    let iv: [u8; 16] = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000").try_into().unwrap();
    let mut ks = [0u8; 48];
    kdf::apply_keystream(&aes, &iv, &mut ks);
    assert_eq!(
        ks.to_vec(),
        hex("E03EAD0935C95E80E166B16DD92B4EB4
             D23513162B02D0F72A43A2FE4A5F97AB
             41E95B3BB0A2E8DD477901E4FCA894C0")
    );
    // Blocks 0xFEFF..0xFF01 of the same stream.
    let mut far = [0u8; 16 * 0xFF02];
    kdf::apply_keystream(&aes, &iv, &mut far);
    assert_eq!(
        far[16 * 0xFEFF..].to_vec(),
        hex("EC8CDF7398607CB0F2D21675EA9EA1E4
             362B7C3C6773516318A077D7FC5073AE
             6A2CC3787889374FBEB4C81B17BA6C44")
    );
}

/// RFC 3711 B.3: session keys derived from the master key (rate 0, index 0).
#[test]
fn rfc3711_b3_key_derivation() {
    let (k, s) = (hex(MASTER_KEY), hex(MASTER_SALT));
    let mut enc = [0u8; 16];
    kdf::derive(&k, &s, label::RTP_ENCRYPTION, &mut enc);
    assert_eq!(enc.to_vec(), hex("C61E7A93744F39EE10734AFE3FF7A087"));
    let mut salt = [0u8; 14];
    kdf::derive(&k, &s, label::RTP_SALT, &mut salt);
    assert_eq!(salt.to_vec(), hex("30CBBC08863D8C85D49DB34A9AE1"));
    let mut auth = [0u8; 94];
    kdf::derive(&k, &s, label::RTP_AUTH, &mut auth);
    assert_eq!(
        auth.to_vec(),
        hex(
            "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA48F0A0ACF3C34E2359E6CDBCE
             E049646C43D9327AD175578EF72270986371C10C9A369AC2F94A8C5FBCDDDC25
             6D6E919A48B610EF17C2041E474035766B68642C59BBFC2F34DB60DBDFB2"
        )
    );
}

const RTP_PLAIN: &str = "800f1234decafbadcafebabeabababababababababababababababab";
const SRTP_80: &str =
    "800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb";
const RTCP_PLAIN: &str = "81c8000bcafebabeabababababababababababababababab";
const SRTCP_80: &str =
    "81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c1230798";

/// The libsrtp reference packet (srtp_driver) for the RFC 3711 master key.
#[test]
fn protects_like_libsrtp() {
    let mut ctx = SrtpContext::new(SrtpProfile::AesCm128HmacSha1_80, &master());
    let plain = hex(RTP_PLAIN);
    let mut buf = [0u8; 64];
    buf[..plain.len()].copy_from_slice(&plain);
    let n = ctx.protect_rtp(&mut buf, plain.len()).unwrap();
    assert_eq!(buf[..n].to_vec(), hex(SRTP_80));

    let mut rx = SrtpContext::new(SrtpProfile::AesCm128HmacSha1_80, &master());
    let mut pkt = hex(SRTP_80);
    let n = rx.unprotect_rtp(&mut pkt).unwrap();
    assert_eq!(pkt[..n].to_vec(), plain);

    // _32: same keystream, the first 4 octets of the same tag.
    let mut ctx32 = SrtpContext::new(SrtpProfile::AesCm128HmacSha1_32, &master());
    buf[..plain.len()].copy_from_slice(&plain);
    let n = ctx32.protect_rtp(&mut buf, plain.len()).unwrap();
    assert_eq!(buf[..n].to_vec(), hex(SRTP_80)[..32].to_vec());
}

#[test]
fn protects_rtcp_like_libsrtp() {
    let mut ctx = SrtpContext::new(SrtpProfile::AesCm128HmacSha1_80, &master());
    let plain = hex(RTCP_PLAIN);
    let mut buf = [0u8; 64];
    buf[..plain.len()].copy_from_slice(&plain);
    let n = ctx
        .protect_rtcp_with_index(&mut buf, plain.len(), 1)
        .unwrap();
    assert_eq!(buf[..n].to_vec(), hex(SRTCP_80));

    let mut rx = SrtpContext::new(SrtpProfile::AesCm128HmacSha1_80, &master());
    let mut pkt = hex(SRTCP_80);
    let n = rx.unprotect_rtcp(&mut pkt).unwrap();
    assert_eq!(pkt[..n].to_vec(), plain);
    // The same SRTCP packet again is a replay.
    let mut again = hex(SRTCP_80);
    assert_eq!(rx.unprotect_rtcp(&mut again), Err(SrtpError::Replayed));
}

fn rtp(seq: u16, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, 0, 0, 0, 0, 0, 0, 160, 0, 0, 0, 0];
    p[2..4].copy_from_slice(&seq.to_be_bytes());
    p[8..12].copy_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

fn protect(ctx: &mut SrtpContext, plain: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; plain.len() + 10];
    buf[..plain.len()].copy_from_slice(plain);
    let n = ctx.protect_rtp(&mut buf, plain.len()).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn round_trip_across_the_sequence_wrap() {
    for profile in [
        SrtpProfile::AesCm128HmacSha1_80,
        SrtpProfile::AesCm128HmacSha1_32,
    ] {
        let key = SrtpKey::random();
        let mut tx = SrtpContext::new(profile, &key);
        let mut rx = SrtpContext::new(profile, &key);
        let payload = [0x55u8; 160];
        // 65530..65535 then 0..10: the ROC goes to 1 on both sides.
        for i in 0..16u32 {
            let seq = (65_530 + i) as u16;
            let plain = rtp(seq, 7, &payload);
            let mut pkt = protect(&mut tx, &plain);
            assert_ne!(&pkt[12..172], &payload[..], "payload is encrypted");
            let n = rx.unprotect_rtp(&mut pkt).unwrap();
            assert_eq!(&pkt[..n], &plain[..]);
        }
        // A late packet from before the wrap (ROC 0) still authenticates, once.
        let mut tx2 = SrtpContext::new(profile, &key);
        let early = protect(&mut tx2, &rtp(65_500, 7, &payload));
        assert!(rx.unprotect_rtp(&mut early.clone()).is_ok());
        assert_eq!(
            rx.unprotect_rtp(&mut early.clone()),
            Err(SrtpError::Replayed)
        );
        // Older than the 64-packet window: refused.
        let mut tx3 = SrtpContext::new(profile, &key);
        let ancient = protect(&mut tx3, &rtp(65_400, 7, &payload));
        assert_eq!(
            rx.unprotect_rtp(&mut ancient.clone()),
            Err(SrtpError::Replayed)
        );
    }
}

#[test]
fn replayed_tampered_and_plain_packets_are_refused() {
    let key = SrtpKey::random();
    let mut tx = SrtpContext::new(SrtpProfile::AesCm128HmacSha1_80, &key);
    let mut rx = SrtpContext::new(SrtpProfile::AesCm128HmacSha1_80, &key);
    let plain = rtp(100, 9, &[1u8; 160]);
    let pkt = protect(&mut tx, &plain);

    let mut tampered = pkt.clone();
    tampered[20] ^= 1;
    assert_eq!(rx.unprotect_rtp(&mut tampered), Err(SrtpError::AuthFailed));
    let mut wrong_key = pkt.clone();
    let mut other = SrtpContext::new(SrtpProfile::AesCm128HmacSha1_80, &SrtpKey::random());
    assert_eq!(
        other.unprotect_rtp(&mut wrong_key),
        Err(SrtpError::AuthFailed)
    );
    let mut cleartext = rtp(101, 9, &[1u8; 170]);
    assert_eq!(rx.unprotect_rtp(&mut cleartext), Err(SrtpError::AuthFailed));

    let mut first = pkt.clone();
    assert!(rx.unprotect_rtp(&mut first).is_ok());
    let mut replay = pkt.clone();
    assert_eq!(rx.unprotect_rtp(&mut replay), Err(SrtpError::Replayed));

    // Out of order within the window is fine, once.
    let p102 = protect(&mut tx, &rtp(102, 9, &[2u8; 160]));
    let p101 = protect(&mut tx, &rtp(101, 9, &[3u8; 160]));
    assert!(rx.unprotect_rtp(&mut p102.clone()).is_ok());
    assert!(rx.unprotect_rtp(&mut p101.clone()).is_ok());
    assert_eq!(
        rx.unprotect_rtp(&mut p101.clone()),
        Err(SrtpError::Replayed)
    );

    // Garbage never panics.
    for len in 0..40 {
        let mut junk = vec![0x80u8; len];
        let _ = rx.unprotect_rtp(&mut junk);
        let _ = rx.unprotect_rtcp(&mut junk);
        let mut buf = vec![0x90u8; len + 4];
        let _ = tx.protect_rtp(&mut buf, len);
        let _ = tx.protect_rtcp(&mut buf, len);
    }
}

#[test]
fn srtcp_round_trip_and_tamper() {
    let key = SrtpKey::random();
    let mut tx = SrtpContext::new(SrtpProfile::AesCm128HmacSha1_32, &key);
    let mut rx = SrtpContext::new(SrtpProfile::AesCm128HmacSha1_32, &key);
    let plain = hex(RTCP_PLAIN);
    for _ in 0..3 {
        let mut buf = vec![0u8; plain.len() + 14];
        buf[..plain.len()].copy_from_slice(&plain);
        let n = tx.protect_rtcp(&mut buf, plain.len()).unwrap();
        assert_eq!(n, plain.len() + 14, "SRTCP keeps an 80-bit tag with _32");
        let mut bad = buf.clone();
        bad[10] ^= 0x40;
        assert_eq!(rx.unprotect_rtcp(&mut bad), Err(SrtpError::AuthFailed));
        let m = rx.unprotect_rtcp(&mut buf).unwrap();
        assert_eq!(&buf[..m], &plain[..]);
    }
}

#[test]
fn debug_output_hides_keys() {
    let key = master();
    assert_eq!(format!("{key:?}"), "SrtpKey(<redacted>)");
    let ctx = SrtpContext::new(SrtpProfile::AesCm128HmacSha1_80, &key);
    assert!(!format!("{ctx:?}").to_lowercase().contains("e1f9"));
}
