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
    /// Our SIP-over-TLS port, when TLS is on (Via and Contact toward TLS peers).
    pub tls_port: Option<u16>,
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
    /// Seconds between OPTIONS pings to each phone registered from behind
    /// a NAT over UDP, keeping its mapping open (0: none).
    pub nat_keepalive_secs: u64,
    /// Longest registration granted to a phone behind a NAT (s; 0: no cap).
    pub nat_max_expires_secs: u64,
    /// How long a call waits, the customer on hold, for an agent whose
    /// browser audio went away mid-call (a reload, a network blip) before
    /// it ends as if the agent hung up (s; 0: it ends at once).
    pub browser_reconnect_secs: u64,
}

impl SwitchConfig {
    /// The address phones reach us at.
    pub fn public_ip(&self) -> IpAddr {
        self.public_ip
    }
}

/// A SIP trunk: a provider reached by host name (DNS SRV, then A/AAAA) or
/// address, with optional registration, health checks and dialling rules.
#[derive(Debug, Clone)]
pub struct Trunk {
    /// Name (logs, metrics, the admin page).
    pub name: String,
    /// Host name or IP literal of the provider. A name is resolved by the
    /// binary (see [`crate::Switch::set_trunk_targets`]); an IP is used as is.
    pub host: String,
    /// Port, when the configuration gives one (RFC 3263: an explicit port
    /// means A/AAAA only, no SRV). Default 5060.
    pub port: Option<u16>,
    /// Sources whose INVITEs come from this trunk (no digest asked).
    pub inbound_from: Vec<crate::SourceNet>,
    /// Digest user for providers that challenge our requests, and the
    /// account registered when `register` is on.
    pub username: Option<String>,
    /// Digest password for `username`.
    pub password: Option<String>,
    /// Register `username` at the provider and keep it registered (most
    /// providers send inbound calls only to a registered contact).
    pub register: bool,
    /// Registration lifetime asked for (s); refreshed at half of what the
    /// provider grants.
    pub register_expires_secs: u32,
    /// Lower tries first; equal priorities keep the configuration order.
    pub priority: u32,
    /// Numbers this trunk carries (prefixes of the dialled number, e.g. `+34`);
    /// empty: any number.
    pub prefixes: Vec<String>,
    /// Caller ID presented on calls out (From user and P-Asserted-Identity).
    pub caller_id: Option<String>,
    /// Withhold the caller ID (anonymous From, `Privacy: id`).
    pub privacy: bool,
    /// Seconds between OPTIONS health checks of each target (0: off).
    pub options_interval_secs: u64,
    /// Give up on a target that sends no response at all (not even
    /// `100 Trying`) to an INVITE after this long and try the next (ms).
    pub failover_ms: u64,
    /// UDP or TCP (the connection is opened on demand and reused).
    pub transport: switchboard_sip::Transport,
    /// SRTP (SDES keys) in our offers to this trunk. Offers from it get
    /// SRTP whenever they ask for it, whatever this says.
    pub srtp: crate::SrtpMode,
}

impl Trunk {
    /// A trunk at `addr` with the defaults: no registration, no health
    /// checks, any number, inbound calls trusted from `addr` itself.
    pub fn at(name: &str, addr: SocketAddr) -> Trunk {
        Trunk {
            name: name.to_string(),
            host: addr.ip().to_string(),
            port: Some(addr.port()),
            inbound_from: vec![crate::SourceNet::Exact(addr)],
            username: None,
            password: None,
            register: false,
            register_expires_secs: 600,
            priority: 0,
            prefixes: Vec::new(),
            caller_id: None,
            privacy: false,
            options_interval_secs: 0,
            failover_ms: 4_000,
            transport: switchboard_sip::Transport::Udp,
            srtp: crate::SrtpMode::Off,
        }
    }

    /// The SIP domain of the provider: the host name, or the IP (bracketed if v6).
    pub fn domain(&self) -> String {
        match self.host.parse::<IpAddr>() {
            Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
            _ => self.host.clone(),
        }
    }

    /// Whether this trunk carries `number` under its dialling rules.
    pub fn carries(&self, number: &str) -> bool {
        self.prefixes.is_empty() || self.prefixes.iter().any(|p| number.starts_with(p.as_str()))
    }
}
