//! Server configuration (TOML), with working defaults so that
//! `switchboard` alone starts a usable server.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use serde::Deserialize;

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Listening addresses, storage, media ports.
    #[serde(default)]
    pub server: ServerConfig,
    /// Agents created at start if absent (login = SIP extension).
    #[serde(default)]
    pub agents: Vec<AgentSeed>,
    /// SIP trunks to the outside world.
    #[serde(default)]
    pub trunks: Vec<TrunkConfig>,
    /// Campaigns created at start if absent.
    #[serde(default)]
    pub campaigns: Vec<CampaignSeed>,
}

/// `[server]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// SIP address (UDP and TCP).
    pub sip_addr: SocketAddr,
    /// HTTP address (API, WebSocket, console).
    pub http_addr: SocketAddr,
    /// Database URL (`sqlite://file.db` or `postgres://...`).
    pub database: String,
    /// Folder for recordings and music.
    pub data_dir: PathBuf,
    /// First RTP port.
    pub rtp_port_min: u16,
    /// Last RTP port.
    pub rtp_port_max: u16,
    /// Digest realm.
    pub realm: String,
    /// Address put in SDP and Contact (defaults to the SIP bind address, or 127.0.0.1 when that is 0.0.0.0).
    pub public_ip: Option<IpAddr>,
    /// Seconds an agent stays in after-call work before becoming ready again (campaigns may override).
    pub acw_secs: u64,
    /// Seconds a ringing agent has to answer.
    pub ring_timeout_secs: u64,
    /// Music-on-hold folder (each subfolder or WAV file is a class); `default` is built in.
    pub music_dir: Option<PathBuf>,
    /// Hang up a leg that sends no RTP for this long (phone crashed or lost the
    /// network without BYE); 0 disables the check.
    pub rtp_timeout_secs: u64,
    /// Digest algorithms challenged, most preferred first (`MD5`, `SHA-256`).
    /// MD5 alone by default: many phones abort on a challenge they cannot answer.
    pub digest_algorithms: Vec<String>,
    /// SIP requests one source IP may send per second before it is banned
    /// (0: no limit). Trunks are never limited.
    pub sip_requests_per_second: u32,
    /// Failed SIP authentications from one source IP per minute before it is banned (0: no limit).
    pub sip_auth_failures_per_source: u32,
    /// Failed SIP authentications for one extension per minute before its
    /// credentials are refused for the rest of the minute (0: no limit).
    pub sip_auth_failures_per_user: u32,
    /// How long a banned source gets no answer at all (seconds).
    pub sip_ban_secs: u64,
    /// DNS servers (`ip` or `ip:port`) for trunk host names; empty: the system's.
    pub dns_servers: Vec<String>,
    /// Seconds between OPTIONS pings to phones registered from behind a NAT
    /// over UDP (keeps the NAT's mapping open; 0: none).
    pub nat_keepalive_secs: u64,
    /// Longest registration granted to a phone behind a NAT (s; 0: no cap).
    pub nat_max_expires_secs: u64,
    /// SIP over TLS for phones (e.g. `0.0.0.0:5061`); needs `tls_cert` and `tls_key`.
    pub tls_addr: Option<SocketAddr>,
    /// PEM certificate chain for TLS (reloaded when the file changes).
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for TLS.
    pub tls_key: Option<PathBuf>,
    /// On SIGTERM or Ctrl-C: how long running calls may go on (new calls
    /// are refused meanwhile) before they are ended with BYE (seconds).
    pub shutdown_grace_secs: u64,
    /// Browser audio (WebRTC) for agents: the one UDP port every browser
    /// sends to (e.g. `0.0.0.0:20000`... any free port); unset: disabled.
    pub webrtc_addr: Option<SocketAddr>,
    /// Address browsers reach the WebRTC port at (our ICE candidate);
    /// default: `public_ip`.
    pub webrtc_public_ip: Option<IpAddr>,
    /// How long a call waits (customer on hold) for an agent whose browser
    /// audio went away mid-call, e.g. a reload (seconds; 0: end at once).
    pub browser_reconnect_secs: u64,
    /// Serve `http_addr` over HTTPS with `tls_cert` and `tls_key` (browsers
    /// give the microphone for browser audio only to secure pages).
    pub https: bool,
    /// TURN relay URLs for browser audio (e.g. `turn:turn.example.com:3478`),
    /// for agents whose network blocks UDP to `webrtc_addr`; empty: none.
    pub turn_urls: Vec<String>,
    /// The relay's shared secret (coturn `static-auth-secret`): agents get
    /// short-lived credentials derived from it, never the secret.
    pub turn_secret: Option<String>,
    /// How long a TURN credential handed to a page stays valid (seconds).
    pub turn_ttl_secs: u64,
    /// Browsers send media only through the relay (no direct UDP).
    pub turn_relay_only: bool,
}

impl ServerConfig {
    /// The TURN relay for browser audio, or what is wrong in its settings.
    pub fn turn(&self) -> anyhow::Result<Option<switchboard_web::turn::TurnConfig>> {
        let (urls, secret) = match (&self.turn_urls[..], &self.turn_secret) {
            ([], None) => return Ok(None),
            ([], Some(_)) => {
                anyhow::bail!("server.turn_secret is set but server.turn_urls is empty")
            }
            (_, None) => anyhow::bail!(
                "server.turn_urls needs server.turn_secret (coturn's static-auth-secret)"
            ),
            (urls, Some(secret)) => (urls, secret),
        };
        if let Some(bad) = urls
            .iter()
            .find(|u| !(u.starts_with("turn:") || u.starts_with("turns:")))
        {
            anyhow::bail!("server.turn_urls: {bad:?} is not a turn: or turns: URL");
        }
        if secret.is_empty() {
            anyhow::bail!("server.turn_secret is empty");
        }
        if self.webrtc_addr.is_none() {
            anyhow::bail!("server.turn_urls is for browser audio: set server.webrtc_addr too");
        }
        Ok(Some(switchboard_web::turn::TurnConfig {
            urls: urls.to_vec(),
            secret: secret.clone(),
            ttl_secs: self.turn_ttl_secs.max(60),
            relay_only: self.turn_relay_only,
        }))
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            sip_addr: "0.0.0.0:5060".parse().expect("valid"),
            http_addr: "0.0.0.0:8080".parse().expect("valid"),
            database: "sqlite://switchboard.db".into(),
            data_dir: PathBuf::from("data"),
            rtp_port_min: 20000,
            rtp_port_max: 29999,
            realm: "switchboard".into(),
            public_ip: None,
            acw_secs: 0,
            ring_timeout_secs: 20,
            music_dir: None,
            digest_algorithms: vec!["MD5".into()],
            rtp_timeout_secs: 60,
            sip_requests_per_second: 500,
            sip_auth_failures_per_source: 20,
            sip_auth_failures_per_user: 10,
            sip_ban_secs: 600,
            dns_servers: Vec::new(),
            nat_keepalive_secs: 20,
            nat_max_expires_secs: 300,
            tls_addr: None,
            tls_cert: None,
            tls_key: None,
            shutdown_grace_secs: 30,
            webrtc_addr: None,
            webrtc_public_ip: None,
            browser_reconnect_secs: 30,
            https: false,
            turn_urls: Vec::new(),
            turn_secret: None,
            turn_ttl_secs: 86_400,
            turn_relay_only: false,
        }
    }
}

/// An agent to create at start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSeed {
    /// Login and SIP extension.
    pub username: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Console/API password.
    pub password: String,
    /// SIP digest password of the agent's phone.
    pub sip_password: String,
    /// agent | supervisor | admin.
    #[serde(default = "default_role")]
    pub role: String,
    /// Where the agent's audio may come from: either (default) | browser | phone.
    #[serde(default = "default_audio")]
    pub audio: String,
}

fn default_audio() -> String {
    "either".into()
}

fn default_role() -> String {
    "agent".into()
}

/// A SIP trunk (see the README's "Trunks" section).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkConfig {
    /// Name.
    pub name: String,
    /// The provider: `host` (DNS SRV `_sip._udp.host`, then A/AAAA, port
    /// 5060), `host:port` (A/AAAA only), `ip:port` or `[v6]:port`.
    pub address: String,
    /// Sources of inbound calls accepted without authentication: `ip:port`,
    /// `ip` (any port) or a network `203.0.113.0/24`.
    #[serde(default)]
    pub inbound_from: Vec<String>,
    /// Digest credentials for providers that challenge our requests (401/407).
    #[serde(default)]
    pub username: Option<String>,
    /// Password for `username`.
    #[serde(default)]
    pub password: Option<String>,
    /// Register `username` at the provider and keep it registered.
    #[serde(default)]
    pub register: bool,
    /// Registration lifetime asked for (s).
    #[serde(default = "default_register_expires")]
    pub register_expires_secs: u32,
    /// Lower tries first (failover order); equal keeps file order.
    #[serde(default)]
    pub priority: u32,
    /// Numbers this trunk carries (prefixes); empty = any.
    #[serde(default)]
    pub prefixes: Vec<String>,
    /// Caller ID presented (From user and P-Asserted-Identity).
    #[serde(default)]
    pub caller_id: Option<String>,
    /// Withhold the caller ID (anonymous From, `Privacy: id`).
    #[serde(default)]
    pub privacy: bool,
    /// Seconds between OPTIONS health checks of each address (0 = off).
    #[serde(default)]
    pub options_interval_secs: u64,
    /// Try the next address when one sends nothing at all (not even 100
    /// Trying) for this long (ms).
    #[serde(default = "default_failover_ms")]
    pub failover_ms: u64,
    /// `udp` (default) or `tcp`.
    #[serde(default)]
    pub transport: Option<String>,
    /// SRTP (SDES) in our offers to this trunk: `off` (default),
    /// `optional` (RTP/AVP with keys) or `mandatory` (RTP/SAVP).
    #[serde(default)]
    pub srtp: Option<String>,
}

fn default_register_expires() -> u32 {
    600
}
fn default_failover_ms() -> u64 {
    4_000
}

impl TrunkConfig {
    /// The switch's trunk, or what is wrong with this one.
    pub fn to_trunk(&self) -> Result<switchboard_switch::Trunk, String> {
        let name = &self.name;
        if name.trim().is_empty() {
            return Err("a trunk has an empty name".into());
        }
        let (host, port) = split_host_port(&self.address).ok_or_else(|| {
            format!(
                "trunk {name}: address `{}` is not host, host:port or ip:port",
                self.address
            )
        })?;
        let inbound_from = self
            .inbound_from
            .iter()
            .map(|s| {
                s.parse()
                    .map_err(|e| format!("trunk {name}: inbound_from: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let transport = match self.transport.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("udp") => switchboard_sip::Transport::Udp,
            Some("tcp") => switchboard_sip::Transport::Tcp,
            Some(other) => {
                return Err(format!(
                    "trunk {name}: transport `{other}` is not udp or tcp (TLS toward trunks is not supported yet)"
                ))
            }
        };
        let srtp = match self.srtp.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("off") => switchboard_switch::SrtpMode::Off,
            Some("optional") => switchboard_switch::SrtpMode::Optional,
            Some("mandatory") => switchboard_switch::SrtpMode::Mandatory,
            Some(other) => {
                return Err(format!(
                    "trunk {name}: srtp `{other}` is not off, optional or mandatory"
                ))
            }
        };
        if self.register && (self.username.is_none() || self.password.is_none()) {
            return Err(format!(
                "trunk {name}: register = true needs username and password"
            ));
        }
        Ok(switchboard_switch::Trunk {
            name: name.clone(),
            host,
            port,
            inbound_from,
            username: self.username.clone(),
            password: self.password.clone(),
            register: self.register,
            register_expires_secs: self.register_expires_secs,
            priority: self.priority,
            prefixes: self.prefixes.clone(),
            caller_id: self.caller_id.clone(),
            privacy: self.privacy,
            options_interval_secs: self.options_interval_secs,
            failover_ms: self.failover_ms,
            transport,
            srtp,
        })
    }
}

/// `host`, `host:port`, `ip:port`, `[v6]` or `[v6]:port` -> (host, port).
fn split_host_port(s: &str) -> Option<(String, Option<u16>)> {
    let s = s.trim();
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Some((a.ip().to_string(), Some(a.port())));
    }
    if let Ok(ip) = s.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Some((ip.to_string(), None));
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p.parse::<u16>().ok().filter(|p| *p > 0)?)),
        None => (s, None),
    };
    let valid = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    valid.then(|| (host.to_ascii_lowercase(), port))
}

/// A campaign to create at start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignSeed {
    /// Unique name.
    pub name: String,
    /// inbound | manual | preview | dialer.
    #[serde(default = "default_kind")]
    pub kind: String,
    /// Number routed to the campaign's queue.
    #[serde(default)]
    pub did: Option<String>,
    /// Record every call automatically.
    #[serde(default)]
    pub auto_recording: bool,
    /// Music class for hold and queue.
    #[serde(default = "default_music")]
    pub music_class: String,
    /// Member agents.
    #[serde(default)]
    pub agents: Vec<String>,
    /// Disposition names.
    #[serde(default)]
    pub dispositions: Vec<String>,
    /// Queue strategy: longest_idle | round_robin | ring_all.
    #[serde(default)]
    pub strategy: Option<String>,
    /// Queue timeout (s).
    #[serde(default)]
    pub queue_timeout_secs: Option<i64>,
    /// Where callers go on queue timeout (`agent:X`, `number:N`, `campaign:C`).
    #[serde(default)]
    pub overflow_target: Option<String>,
    /// After-call work (s).
    #[serde(default)]
    pub acw_secs: Option<i64>,
    /// Dialer: calls in flight per ready agent.
    #[serde(default)]
    pub dialer_ratio: Option<f64>,
    /// Dialer: attempts per contact.
    #[serde(default)]
    pub max_attempts: Option<i64>,
    /// ISO 3166 country (e.g. `ES`) for national numbers of imported contacts.
    #[serde(default)]
    pub default_country: Option<String>,
    /// When contacts may be called, in their local time (see `CallingHours`).
    #[serde(default)]
    pub calling_hours: Option<serde_json::Value>,
    /// Dialer: seconds before retrying an unanswered contact.
    #[serde(default)]
    pub retry_delay_secs: Option<i64>,
    /// Show the digits customers key (DTMF) to consoles and logs; masked by default (PCI DSS).
    #[serde(default)]
    pub dtmf_clear: bool,
    /// Supervision settings (`[campaigns.supervision]`: notice, service_level_secs,
    /// alert_service_level_below, alert_longest_wait_secs); default when absent.
    #[serde(default)]
    pub supervision: Option<switchboard_center::SupervisionSettings>,
    /// Trunks (by name, in order) and caller ID of the campaign's calls to
    /// numbers (`[campaigns.outbound]`); default: the trunks' own rules.
    #[serde(default)]
    pub outbound: Option<switchboard_center::CampaignOutbound>,
}

fn default_kind() -> String {
    "inbound".into()
}
fn default_music() -> String {
    "default".into()
}

/// The sample configuration shipped for first runs.
pub const SAMPLE: &str = include_str!("../switchboard.sample.toml");

impl Config {
    /// Parse TOML text.
    pub fn parse(text: &str) -> Result<Config, toml::de::Error> {
        toml::from_str(text)
    }

    /// When `public_ip` is not set and SIP listens on all interfaces, use the
    /// address of the interface that routes outwards (found by connecting a UDP
    /// socket, which sends nothing), so phones on other hosts get a reachable
    /// address in SDP and Contact. Falls back to 127.0.0.1 without a route.
    pub fn resolve_public_ip(&mut self) {
        if self.server.public_ip.is_some() || !self.server.sip_addr.ip().is_unspecified() {
            return;
        }
        let probe = || -> std::io::Result<IpAddr> {
            let s = std::net::UdpSocket::bind("0.0.0.0:0")?;
            s.connect("192.0.2.1:9")?; // TEST-NET-1: routing lookup only
            Ok(s.local_addr()?.ip())
        };
        if let Ok(ip) = probe() {
            if !ip.is_unspecified() {
                self.server.public_ip = Some(ip);
            }
        }
    }

    /// Address for SDP and Contact headers.
    pub fn public_ip(&self) -> IpAddr {
        self.server.public_ip.unwrap_or_else(|| {
            let ip = self.server.sip_addr.ip();
            if ip.is_unspecified() {
                IpAddr::from([127, 0, 0, 1])
            } else {
                ip
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_settings_are_checked() {
        let turn = |extra: &str| {
            Config::parse(&format!(
                "[server]\nwebrtc_addr = \"0.0.0.0:20000\"\n{extra}"
            ))
            .unwrap()
            .server
            .turn()
            .map_err(|e| e.to_string())
        };
        assert!(turn("").unwrap().is_none(), "none configured");
        let t = turn("turn_urls = [\"turn:relay.example:3478\"]\nturn_secret = \"s\"")
            .unwrap()
            .expect("configured");
        assert_eq!(t.urls, vec!["turn:relay.example:3478".to_string()]);
        assert!(!t.relay_only);
        let err = turn("turn_urls = [\"turn:relay.example:3478\"]").unwrap_err();
        assert!(err.contains("needs server.turn_secret"), "{err}");
        let err = turn("turn_secret = \"s\"").unwrap_err();
        assert!(err.contains("turn_urls is empty"), "{err}");
        let err = turn("turn_urls = [\"http://relay\"]\nturn_secret = \"s\"").unwrap_err();
        assert!(err.contains("not a turn: or turns: URL"), "{err}");
        let no_webrtc =
            Config::parse("[server]\nturn_urls = [\"turn:r:3478\"]\nturn_secret = \"s\"")
                .unwrap()
                .server
                .turn()
                .unwrap_err()
                .to_string();
        assert!(no_webrtc.contains("set server.webrtc_addr"), "{no_webrtc}");
    }

    #[test]
    fn campaign_supervision_settings_parse_and_bad_ones_are_named() {
        let base = "[[campaigns]]\nname = \"support\"\n";
        let c = Config::parse(&format!(
            "{base}supervision = {{ notice = \"always\", alert_longest_wait_secs = 60 }}"
        ))
        .unwrap();
        let s = c.campaigns[0].supervision.expect("set");
        assert_eq!(s.notice, switchboard_center::SupervisionNotice::Always);
        assert_eq!(s.alert_longest_wait_secs, Some(60));
        assert_eq!(s.service_level_secs, 20, "the default for what is left out");
        let err = Config::parse(&format!("{base}supervision = {{ notice = \"sometimes\" }}"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("sometimes"), "{err}");
        let err = Config::parse(&format!("{base}supervision = {{ notise = \"always\" }}"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("notise"), "{err}");
    }

    #[test]
    fn sample_config_parses() {
        let c = Config::parse(SAMPLE).unwrap();
        assert!(c.agents.len() >= 2);
        assert_eq!(c.trunks.len(), 1);
    }

    #[test]
    fn trunk_addresses_and_sources() {
        assert_eq!(
            split_host_port("sip.Provider.example"),
            Some(("sip.provider.example".into(), None))
        );
        assert_eq!(
            split_host_port("sip.provider.example:5070"),
            Some(("sip.provider.example".into(), Some(5070)))
        );
        assert_eq!(
            split_host_port("192.0.2.1:5090"),
            Some(("192.0.2.1".into(), Some(5090)))
        );
        assert_eq!(
            split_host_port("[2001:db8::1]:5060"),
            Some(("2001:db8::1".into(), Some(5060)))
        );
        assert_eq!(
            split_host_port("[2001:db8::1]"),
            Some(("2001:db8::1".into(), None))
        );
        for bad in [
            "",
            "bad host",
            "host:0",
            "host:99999",
            "a..b",
            "sip.example:port",
        ] {
            assert_eq!(split_host_port(bad), None, "{bad}");
        }
        let c = Config::parse(
            "[[trunks]]\nname = \"p\"\naddress = \"sip.example\"\ninbound_from = [\"203.0.113.0/24\", \"198.51.100.7\"]\n",
        )
        .unwrap();
        let t = c.trunks[0].to_trunk().unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.inbound_from.len()),
            ("sip.example", None, 2)
        );
        let c = Config::parse(
            "[[trunks]]\nname = \"p\"\naddress = \"sip.example\"\ninbound_from = [\"nowhere\"]\n",
        )
        .unwrap();
        let e = c.trunks[0].to_trunk().unwrap_err();
        assert!(e.contains("trunk p: inbound_from: `nowhere`"), "{e}");
        let c =
            Config::parse("[[trunks]]\nname = \"p\"\naddress = \"sip.example\"\nregister = true\n")
                .unwrap();
        assert!(c.trunks[0]
            .to_trunk()
            .unwrap_err()
            .contains("needs username and password"));
        let tcp = "[[trunks]]\nname = \"p\"\naddress = \"sip.example\"\ntransport = \"TCP\"\n";
        let c = Config::parse(tcp).unwrap();
        assert_eq!(
            c.trunks[0].to_trunk().unwrap().transport,
            switchboard_sip::Transport::Tcp
        );
        let c = Config::parse(&tcp.replace("TCP", "sctp")).unwrap();
        assert!(c.trunks[0]
            .to_trunk()
            .unwrap_err()
            .contains("not udp or tcp"));
        let plain = Config::parse("[[trunks]]\nname = \"p\"\naddress = \"sip.example\"\n").unwrap();
        assert_eq!(
            plain.trunks[0].to_trunk().unwrap().srtp,
            switchboard_switch::SrtpMode::Off
        );
        let srtp = "[[trunks]]\nname = \"p\"\naddress = \"sip.example\"\nsrtp = \"mandatory\"\n";
        let c = Config::parse(srtp).unwrap();
        assert_eq!(
            c.trunks[0].to_trunk().unwrap().srtp,
            switchboard_switch::SrtpMode::Mandatory
        );
        let c = Config::parse(&srtp.replace("mandatory", "Optional")).unwrap();
        assert_eq!(
            c.trunks[0].to_trunk().unwrap().srtp,
            switchboard_switch::SrtpMode::Optional
        );
        let c = Config::parse(&srtp.replace("mandatory", "always")).unwrap();
        assert!(c.trunks[0]
            .to_trunk()
            .unwrap_err()
            .contains("srtp `always` is not off, optional or mandatory"));
    }

    #[test]
    fn public_ip_resolution() {
        let mut c = Config::parse("[server]\nsip_addr = \"127.0.0.1:5060\"").unwrap();
        c.resolve_public_ip();
        assert_eq!(
            c.public_ip().to_string(),
            "127.0.0.1",
            "a specific bind address is used as is"
        );
        let mut c = Config::parse("[server]\npublic_ip = \"198.51.100.7\"").unwrap();
        c.resolve_public_ip();
        assert_eq!(
            c.public_ip().to_string(),
            "198.51.100.7",
            "an explicit public_ip wins"
        );
        let mut c = Config::parse("").unwrap();
        c.resolve_public_ip();
        assert!(!c.public_ip().is_unspecified(), "never 0.0.0.0 in SDP");
    }

    #[test]
    fn unknown_keys_are_errors() {
        assert!(Config::parse("[server]\nsip_adr = \"x\"").is_err());
    }
}
