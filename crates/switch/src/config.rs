//! What the switch needs to know from the server configuration: addresses it
//! announces, digest realm, timers and trunks. The binary builds it from its
//! TOML file; tests build it directly.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

/// Settings of the switch core.
#[derive(Debug, Clone)]
pub struct SwitchConfig {
    /// Address put in SDP, Via and Contact.
    pub public_ip: IpAddr,
    /// Our SIP port (Via and Contact).
    pub sip_port: u16,
    /// Digest realm.
    pub realm: String,
    /// Digest algorithms challenged, most preferred first (`MD5`, `SHA-256`).
    pub digest_algorithms: Vec<String>,
    /// Seconds of after-call work when the call's campaign does not say.
    pub acw_secs: u64,
    /// Seconds a ringing party has to answer.
    pub ring_timeout_secs: u64,
    /// Folder under which recordings go (`YYYY-MM-DD/CALL-SEGMENT.wav`).
    pub recordings_dir: PathBuf,
    /// Trunks to the outside world; numbers go out through the first one.
    pub trunks: Vec<Trunk>,
    /// Secret keying the digest nonces' HMAC (the binary draws a random one
    /// per process; the switch never reads randomness itself for it).
    pub nonce_secret: [u8; 32],
    /// Request rate and failed-authentication limits.
    pub abuse: crate::AbuseLimits,
}

impl SwitchConfig {
    /// The address phones reach us at.
    pub fn public_ip(&self) -> IpAddr {
        self.public_ip
    }
}

/// A SIP trunk.
#[derive(Debug, Clone)]
pub struct Trunk {
    /// Name.
    pub name: String,
    /// Where calls to numbers go.
    pub address: SocketAddr,
    /// Sources trusted for incoming calls without authentication.
    pub inbound_from: Vec<SocketAddr>,
    /// Digest user for providers that challenge our INVITEs.
    pub username: Option<String>,
    /// Digest password for `username`.
    pub password: Option<String>,
}
