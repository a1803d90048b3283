//! AES counter mode as SRTP uses it (RFC 3711 §4.1.1) and the key
//! derivation of session keys from a master key (§4.3), on the RustCrypto
//! AES block cipher.

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes::Aes128;

/// Labels of the six session keys (RFC 3711 §4.3.2, §4.3.3).
pub(crate) mod label {
    pub(crate) const RTP_ENCRYPTION: u8 = 0x00;
    pub(crate) const RTP_AUTH: u8 = 0x01;
    pub(crate) const RTP_SALT: u8 = 0x02;
    pub(crate) const RTCP_ENCRYPTION: u8 = 0x03;
    pub(crate) const RTCP_AUTH: u8 = 0x04;
    pub(crate) const RTCP_SALT: u8 = 0x05;
}

/// Session authentication key length for HMAC-SHA1 (160 bits).
pub(crate) const AUTH_KEY_LEN: usize = 20;
/// Session salt length (112 bits).
pub(crate) const SALT_LEN: usize = 14;

/// An AES-128 key schedule.
pub(crate) fn cipher(key: &[u8]) -> Aes128 {
    // Callers pass 16-octet keys only (SrtpKey and derived keys).
    Aes128::new_from_slice(key).unwrap_or_else(|_| Aes128::new(&[0u8; 16].into()))
}

/// XOR `data` with the AES-CM keystream starting at counter block `iv`
/// (the low 16 bits count the blocks, RFC 3711 §4.1.1).
pub(crate) fn apply_keystream(aes: &Aes128, iv: &[u8; 16], data: &mut [u8]) {
    let mut counter = *iv;
    for chunk in data.chunks_mut(16) {
        let mut block = aes::Block::from(counter);
        aes.encrypt_block(&mut block);
        for (d, k) in chunk.iter_mut().zip(block.iter()) {
            *d ^= k;
        }
        let c = u16::from_be_bytes([counter[14], counter[15]]).wrapping_add(1);
        counter[14..].copy_from_slice(&c.to_be_bytes());
    }
}

/// Derive `out.len()` octets of the session key with `label` from a master
/// key and salt, key derivation rate 0 (RFC 3711 §4.3.1): the AES-CM
/// keystream of the master key at IV = (label << 48 XOR master salt) << 16.
pub(crate) fn derive(master_key: &[u8], master_salt: &[u8], label: u8, out: &mut [u8]) {
    let mut iv = [0u8; 16];
    iv[..SALT_LEN].copy_from_slice(&master_salt[..SALT_LEN]);
    iv[7] ^= label;
    out.fill(0);
    apply_keystream(&cipher(master_key), &iv, out);
}

/// The 16-octet counter-mode IV of a packet: (salt << 16) XOR (SSRC << 64)
/// XOR (index << 16), RFC 3711 §4.1.1 (the SRTCP index goes in the same place).
pub(crate) fn packet_iv(salt: &[u8; SALT_LEN], ssrc: u32, index: u64) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..SALT_LEN].copy_from_slice(salt);
    for (i, b) in ssrc.to_be_bytes().iter().enumerate() {
        iv[4 + i] ^= b;
    }
    let idx = (index & 0xFFFF_FFFF_FFFF).to_be_bytes();
    for i in 0..6 {
        iv[8 + i] ^= idx[2 + i];
    }
    iv
}
