//! In-memory test harness for the switch (after quinn-proto's `Pair`): the
//! switch, fake phones and a fake trunk exchange SIP datagrams in virtual
//! time, and a fake media engine records rooms so a test can ask who hears
//! whom. Nothing here opens a socket or reads the clock.
#![allow(dead_code)]

mod media;
mod phone;
pub mod quality;

use std::collections::BTreeMap;
use std::net::SocketAddr;

pub use media::{FakeMedia, MediaState};
pub use phone::{CallState, FakePhone};
use serde_json::Value;
use switchboard_call::{Command, Target};
use switchboard_center::{Actor, ApiError, SipHa1};
use switchboard_sip::{Peer, Transport};
use switchboard_switch::{
    AbuseLimits, AgentInfo, AgentStatus, CampaignInfo, EngineRequest, Output, StoreOp, Switch,
    SwitchConfig, Trunk,
};

/// The switch's SIP address in the harness.
pub const SERVER: &str = "127.0.0.1:5060";
/// The trunk's address (the PSTN side: numbers are called here, customers call from here).
pub const TRUNK: &str = "127.0.0.1:5090";
/// Digest password of every agent phone.
pub const SIP_PASSWORD: &str = "secret";
/// Virtual start time: 2026-12-01 12:00 UTC.
pub const T0: u64 = 1_796_126_400_000;

/// A phone, the trunk or a customer behind it.
pub type Name = &'static str;

/// The switch with its peers in virtual time.
pub struct Harness {
    /// The switch under test.
    pub switch: Switch,
    /// Virtual time (ms since the epoch).
    pub now: u64,
    /// Agent phones by username, and the trunk under "trunk".
    pub phones: BTreeMap<&'static str, FakePhone>,
    /// What the media engine was told.
    pub media: MediaState,
    /// Every storage write, in order.
    pub stored: Vec<StoreOp>,
    /// Every live event, in order.
    pub published: Vec<Value>,
    /// Datagrams to lose: (phone, toward the switch?, how many more).
    losses: Vec<(&'static str, bool, usize)>,
    /// Datagrams the switch sent to addresses no phone holds (raw peers of
    /// [`Harness::send_raw`], scanners), in order.
    pub strays: Vec<(SocketAddr, String)>,
}

/// Builder settings for a harness.
pub struct Setup {
    /// Agent usernames (each gets a registered phone).
    pub agents: Vec<&'static str>,
    /// Campaigns.
    pub campaigns: Vec<CampaignInfo>,
    /// Seconds an unanswered party rings.
    pub ring_timeout_secs: u64,
    /// Request rate and failed-authentication limits.
    pub abuse: AbuseLimits,
    /// Trunks (None: one trunk `pstn` at [`TRUNK`]).
    pub trunks: Option<Vec<Trunk>>,
    /// OPTIONS pings to phones behind a NAT (s; 0: none, the default here).
    pub nat_keepalive_secs: u64,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            agents: vec!["1001", "1002", "1003"],
            campaigns: vec![campaign("support", "inbound", Some("5000"), false)],
            ring_timeout_secs: 20,
            abuse: AbuseLimits::default(),
            trunks: None,
            nat_keepalive_secs: 0,
        }
    }
}

/// A campaign with every agent of the default setup as member.
pub fn campaign(name: &str, kind: &str, did: Option<&str>, auto_recording: bool) -> CampaignInfo {
    CampaignInfo {
        id: format!("id-{name}"),
        name: name.into(),
        kind: kind.into(),
        did: did.map(str::to_string),
        auto_recording,
        music_class: "default".into(),
        strategy: "longest_idle".into(),
        queue_timeout_secs: 300,
        overflow_target: None,
        acw_secs: 0,
        agents: vec!["1001".into(), "1002".into(), "1003".into()],
        dtmf_clear: false,
        calling_hours: None,
        supervision: Default::default(),
        outbound: Default::default(),
    }
}

/// What storage keeps of `password` for agent `user` in the harness's realm.
pub fn sip_ha1(user: &str, password: &str) -> SipHa1 {
    use switchboard_sip::digest::{ha1, Algorithm};
    SipHa1 {
        realm: "switchboard".into(),
        md5: ha1(Algorithm::Md5, user, "switchboard", password),
        sha256: ha1(Algorithm::Sha256, user, "switchboard", password),
    }
}

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("address")
}

impl Harness {
    /// A switch with the default agents (registered, not ready) and campaign `support` (DID 5000).
    pub fn new() -> Harness {
        Harness::with(Setup::default())
    }

    /// A switch from `setup`; every agent's phone registers.
    pub fn with(setup: Setup) -> Harness {
        let cfg = SwitchConfig {
            public_ip: "127.0.0.1".parse().expect("ip"),
            sip_port: 5060,
            tls_port: None,
            realm: "switchboard".into(),
            digest_algorithms: vec!["MD5".into()],
            acw_secs: 0,
            ring_timeout_secs: setup.ring_timeout_secs,
            recordings_dir: "recordings".into(),
            trunks: setup
                .trunks
                .unwrap_or_else(|| vec![Trunk::at("pstn", addr(TRUNK))]),
            nonce_secret: [7; 32],
            abuse: setup.abuse,
            nat_keepalive_secs: setup.nat_keepalive_secs,
            nat_max_expires_secs: 300,
            browser_reconnect_secs: 30,
        };
        let agents = setup
            .agents
            .iter()
            .map(|u| AgentInfo {
                id: format!("id-{u}"),
                username: u.to_string(),
                name: format!("Agent {u}"),
                sip_ha1: sip_ha1(u, SIP_PASSWORD),
                role: "agent".into(),
                audio: Default::default(),
            })
            .collect();
        let media = MediaState::default();
        let switch = Switch::new(
            cfg,
            Box::new(FakeMedia(media.clone())),
            agents,
            setup.campaigns,
            T0,
        );
        let mut h = Harness {
            switch,
            now: T0,
            phones: BTreeMap::new(),
            media,
            stored: Vec::new(),
            published: Vec::new(),
            losses: Vec::new(),
            strays: Vec::new(),
        };
        for (i, u) in setup.agents.iter().enumerate() {
            let a = addr(&format!("127.0.1.{}:5060", i + 1));
            let mut p = FakePhone::new(u, SIP_PASSWORD, a, addr(SERVER));
            p.register(h.now);
            h.phones.insert(u, p);
        }
        h.phones.insert(
            "trunk",
            FakePhone::new("pstn", "", addr(TRUNK), addr(SERVER)),
        );
        h.settle();
        for u in &setup.agents {
            assert!(h.phone(u).is_registered(), "{u} registered");
        }
        h
    }

    /// A phone by name.
    pub fn phone(&mut self, name: &str) -> &mut FakePhone {
        self.phones.get_mut(name).expect("known phone")
    }

    /// Lose the next `n` datagrams `phone` sends to the switch (`from_phone`)
    /// or the switch sends to `phone` (as UDP may): retransmissions must recover.
    pub fn lose(&mut self, phone: &'static str, from_phone: bool, n: usize) {
        self.losses.push((phone, from_phone, n));
    }

    /// Whether a datagram between the switch and the phone at `addr` is lost.
    fn lost(&mut self, addr: SocketAddr, from_phone: bool) -> bool {
        let Some(name) = self
            .phones
            .iter()
            .find(|(_, p)| p.addr() == addr)
            .map(|(n, _)| *n)
        else {
            return false;
        };
        for l in &mut self.losses {
            if l.0 == name && l.1 == from_phone && l.2 > 0 {
                l.2 -= 1;
                return true;
            }
        }
        false
    }

    /// Move every datagram and output until nothing moves (no time passes).
    pub fn settle(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            while let Some(o) = self.switch.poll_output() {
                moved = true;
                match o {
                    Output::Send { peer, bytes } => {
                        if self.lost(peer.addr, false) {
                            continue;
                        }
                        if let Some(p) = self.phones.values_mut().find(|p| p.addr() == peer.addr) {
                            p.receive(&bytes, self.now);
                        } else {
                            let text = String::from_utf8_lossy(&bytes).into_owned();
                            self.strays.push((peer.addr, text));
                        }
                    }
                    Output::Store(op) => self.stored.push(op),
                    Output::Publish(v) => self.published.push(v),
                }
            }
            let mut sent = Vec::new();
            for p in self.phones.values_mut() {
                while let Some(b) = p.poll_transmit() {
                    sent.push((p.addr(), b));
                }
            }
            for (from, b) in sent {
                moved = true;
                if self.lost(from, true) {
                    continue;
                }
                let peer = Peer {
                    addr: from,
                    transport: Transport::Udp,
                };
                self.switch.handle_datagram(self.now, peer, &b);
            }
            if !moved {
                return;
            }
        }
        panic!("the switch and the phones never settled (message loop)");
    }

    /// Let `ms` of virtual time pass, firing every deadline on the way.
    pub fn run_for(&mut self, ms: u64) {
        let end = self.now + ms;
        self.settle();
        loop {
            let mut next = self.switch.poll_timeout();
            for p in self.phones.values() {
                if let Some(t) = p.poll_timeout() {
                    next = next.min(t);
                }
            }
            if next > end {
                break;
            }
            self.now = self.now.max(next);
            self.switch.handle_timeout(self.now);
            let now = self.now;
            for p in self.phones.values_mut() {
                if p.poll_timeout().is_some_and(|t| t <= now) {
                    p.handle_timeout(now);
                }
            }
            self.settle();
        }
        self.now = end;
        self.switch.handle_timeout(self.now);
        self.settle();
    }

    /// Send `text` (CRLF line ends added) to the switch from `from`, a peer
    /// that is not a phone, and return what the switch answered it.
    pub fn send_raw(&mut self, from: SocketAddr, text: &str) -> Vec<String> {
        let before = self.strays.len();
        let bytes = text.replace("\r\n", "\n").replace('\n', "\r\n");
        let peer = Peer {
            addr: from,
            transport: Transport::Udp,
        };
        self.switch
            .handle_datagram(self.now, peer, bytes.as_bytes());
        self.settle();
        self.strays[before..]
            .iter()
            .filter(|(to, _)| *to == from)
            .map(|(_, t)| t.clone())
            .collect()
    }

    /// Send an API request and return its answer.
    pub fn api<T: serde::Serialize>(
        &mut self,
        make: impl FnOnce(switchboard_center::Reply<T>) -> EngineRequest,
    ) -> Result<Value, ApiError> {
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        self.switch.handle_request(self.now, make(tx));
        self.settle();
        rx.try_recv()
            .expect("the switch answers every request at once")
            .map(|v| serde_json::to_value(v).expect("views serialize"))
    }

    /// Set an agent's chosen state.
    pub fn set_state(&mut self, agent: &str, state: AgentStatus) {
        let agent = agent.to_string();
        let reason = (state == AgentStatus::Paused).then(|| "Break".to_string());
        self.api(|reply| EngineRequest::SetAgentState {
            agent,
            state,
            reason,
            by: None,
            reply,
        })
        .expect("state set");
    }

    /// A call action by `agent` on `call`.
    pub fn command(
        &mut self,
        agent: &str,
        call: &str,
        command: Command,
    ) -> Result<Value, ApiError> {
        let actor = actor(agent);
        let call = call.to_string();
        self.api(|reply| EngineRequest::CallCommand {
            actor,
            call,
            command,
            reply,
        })
    }

    /// Click-to-call from the console.
    pub fn dial(&mut self, agent: &str, target: Target) -> Result<Value, ApiError> {
        let actor = actor(agent);
        self.api(|reply| EngineRequest::Dial {
            actor,
            target,
            campaign: None,
            contact_id: None,
            timezone: None,
            reply,
        })
    }

    /// The snapshot the consoles get.
    pub fn snapshot(&mut self) -> Value {
        self.api(EngineRequest::Snapshot).expect("snapshot")
    }

    /// An agent's effective status.
    pub fn status(&mut self, agent: &str) -> String {
        let s = self.snapshot();
        s["agents"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["username"] == agent))
            .map(|a| a["status"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    }

    /// Live calls as the consoles see them.
    pub fn live_calls(&mut self) -> Vec<Value> {
        self.snapshot()["calls"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// The only live call's id.
    pub fn only_call(&mut self) -> String {
        let calls = self.live_calls();
        assert_eq!(calls.len(), 1, "one live call: {calls:?}");
        calls[0]["call_id"].as_str().expect("id").to_string()
    }

    /// The call state of `phone`'s call number `i`.
    pub fn state(&mut self, phone: &str, i: usize) -> CallState {
        self.phone(phone)
            .calls()
            .get(i)
            .map(|c| c.state)
            .unwrap_or_else(|| panic!("{phone} has no call {i}"))
    }

    /// The media leg the switch uses toward `phone`'s call `i` (matched by its RTP address).
    pub fn media_leg(&mut self, phone: &str, i: usize) -> Option<u64> {
        let p = self.phone(phone);
        let rtp = SocketAddr::new(p.addr().ip(), p.calls().get(i)?.local_port);
        self.media.leg_sending_to(rtp)
    }

    /// Does `a`'s call `ai` hear `b`'s call `bi` through the switch?
    pub fn hears(&mut self, a: (&str, usize), b: (&str, usize)) -> bool {
        match (self.media_leg(a.0, a.1), self.media_leg(b.0, b.1)) {
            (Some(x), Some(y)) => self.media.hears(x, y),
            _ => false,
        }
    }

    /// The music class `a` hears (`default`, `ringback`...), if any.
    pub fn music_of(&mut self, a: (&str, usize)) -> Option<String> {
        self.media_leg(a.0, a.1)
            .and_then(|x| self.media.music_of(x))
    }

    /// Do `a`'s call and the media leg `leg` (a browser session's) hear each other?
    pub fn hears_leg(&mut self, a: (&str, usize), leg: u64) -> bool {
        self.media_leg(a.0, a.1)
            .is_some_and(|x| self.media.hears(x, leg) && self.media.hears(leg, x))
    }

    /// Does `a`'s call `ai` hear music on hold?
    pub fn hears_music(&mut self, a: (&str, usize)) -> bool {
        self.media_leg(a.0, a.1)
            .is_some_and(|x| self.media.hears_music(x))
    }

    /// Kinds of the call's event log, in order.
    pub fn events(&self, call: &str) -> Vec<String> {
        self.stored
            .iter()
            .filter_map(|o| match o {
                StoreOp::CallEvent { call: c, kind, .. } if c == call => Some(kind.clone()),
                _ => None,
            })
            .collect()
    }

    /// The reason the CDR of `call` was closed with, if it was.
    pub fn cdr_reason(&self, call: &str) -> Option<String> {
        self.stored.iter().find_map(|o| match o {
            StoreOp::CallEnded {
                call: c, reason, ..
            } if c == call => Some(reason.clone()),
            _ => None,
        })
    }

    /// Whether the CDR of `call` was closed.
    pub fn cdr_ended(&self, call: &str) -> bool {
        self.stored
            .iter()
            .any(|o| matches!(o, StoreOp::CallEnded { call: c, .. } if c == call))
    }

    /// Nothing left once every call ended: no live call, media leg or room.
    pub fn assert_clean(&mut self) {
        assert!(self.live_calls().is_empty(), "no live call left");
        assert_eq!(self.media.leg_count(), 0, "every media leg released");
        assert_eq!(self.media.room_count(), 0, "every room destroyed");
    }

    /// `phone` dials `number` and everything settles; returns the phone's call index.
    pub fn phone_dials(&mut self, phone: &str, number: &str) -> usize {
        let now = self.now;
        let i = self.phone(phone).dial(number, now);
        self.settle();
        i
    }

    /// `phone` answers its call `i` and everything settles.
    pub fn answer(&mut self, phone: &str, i: usize) {
        let now = self.now;
        self.phone(phone).answer(i, now);
        self.settle();
    }

    /// `phone` hangs up (BYE, or CANCEL while ringing) its call `i` and everything settles.
    pub fn hangup(&mut self, phone: &str, i: usize) {
        let now = self.now;
        self.phone(phone).hangup(i, now);
        self.settle();
    }

    /// `phone` declines its ringing call `i` with `status` and everything settles.
    pub fn decline(&mut self, phone: &str, i: usize, status: u16) {
        let now = self.now;
        self.phone(phone).decline(i, status, now);
        self.settle();
    }

    /// `phone` keys `digit` in its call `i` (the media engine reports it).
    pub fn press(&mut self, phone: &str, i: usize, digit: char) {
        let leg = self
            .media_leg(phone, i)
            .expect("a media leg toward the phone");
        let now = self.now;
        self.switch
            .handle_media_event(now, switchboard_switch::MediaEvent::Dtmf { leg, digit });
        self.settle();
    }

    /// A customer calls `number` from the trunk; returns the trunk's call index.
    pub fn customer_calls(&mut self, number: &str) -> usize {
        self.phone_dials("trunk", number)
    }
}

impl Harness {
    /// A supervisor's request on `call` (`campaigns`: the supervisor's
    /// assignment, None for every campaign), ringing their own extension.
    pub fn supervise(
        &mut self,
        supervisor: &str,
        campaigns: Option<&[&str]>,
        call: &str,
        action: switchboard_call::SupervisorAction,
    ) -> Result<Value, ApiError> {
        let actor = Actor {
            username: supervisor.into(),
            supervisor: true,
            campaigns: campaigns.map(|c| c.iter().map(|s| s.to_string()).collect()),
        };
        let call = call.to_string();
        self.api(|reply| EngineRequest::Supervise {
            actor,
            call,
            action,
            phone: None,
            reply,
        })
    }
}

/// An agent acting from the console.
pub fn actor(agent: &str) -> Actor {
    Actor {
        username: agent.into(),
        supervisor: false,
        campaigns: None,
    }
}
