//! Target `switch`: a script (see [`crate::script`]) driving the whole
//! switch core in virtual time, with an in-memory media engine (a copy of
//! the fake of `crates/switch/tests/harness/media.rs`, which is not
//! exported).
//!
//! The switch starts with the harness's setup: agents 1001-1003 whose phones
//! (peers 1-3) registered with digest, campaign `support` on DID 5000, and
//! the trunk (peer 0, trusted). Peer 4 is a stranger. Steps:
//! * `sip P` / `raw P` / `tcp P`: peer `P` sends the payload (a sipp template
//!   for `sip`/`tcp`, see [`crate::script::expand`]; bytes as they are for
//!   `raw`);
//! * `answer P S`: peer `P` answers the last request it got from the switch
//!   with status `S` (To tag, Contact and SDP added as a phone would);
//! * `wait MS`: time passes (at most 10 minutes a step), deadlines fire;
//! * `agent A S`: agent `A` sets state offline / ready / paused (`S` = 0-2);
//! * `cmd A C`: agent `A` sends console command `C` on the latest call;
//! * `dial A`: agent `A` clicks to call a number;
//! * `dtmf L D` / `rtptimeout L`: the media engine reports a digit or an RTP
//!   timeout on the `L`-th latest media leg;
//! * `snapshot`, `overload F`: the console snapshot; overload on or off.
//!
//! Asserts that the switch never panics (libFuzzer's panic hook aborts even
//! where the switch's per-call guard would catch the panic; the stable tests
//! install a hook that counts them), that everything it sends parses, and
//! that its next deadline never stalls.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use switchboard_call::{Command, Target};
use switchboard_center::{Actor, SipHa1};
use switchboard_sip::{parse_message, Peer, Transport};
use switchboard_switch::{
    AbuseLimits, AgentInfo, AgentStatus, CampaignInfo, Codec, EngineRequest, LegInfo, MediaControl,
    MediaEvent, MediaLeg, MediaRecording, MediaRoom, Output, StoreOp, Switch, SwitchConfig, Trunk,
};

use crate::script::{expand, steps, PeerState};
use crate::transaction_target::peers;

/// Virtual start time: 2026-12-01 12:00 UTC (ms).
const T0: u64 = 1_796_126_400_000;
/// Digest password of every agent phone.
const SIP_PASSWORD: &str = "secret";

#[derive(Debug, Default)]
struct Inner {
    next: u64,
    legs: HashMap<MediaLeg, Option<MediaRoom>>,
    /// Every leg created, in order (for `dtmf` and `rtptimeout`).
    created: Vec<MediaLeg>,
    rooms: HashMap<MediaRoom, Option<String>>,
    recordings: HashMap<MediaRecording, MediaLeg>,
}

/// The media engine in memory: ids, rooms and recordings, nothing else.
#[derive(Debug, Clone, Default)]
struct FakeMedia(Arc<Mutex<Inner>>);

impl FakeMedia {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while locked is already a finding; carry on with the data.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl MediaControl for FakeMedia {
    fn set_srtp(&mut self, _leg: MediaLeg, _params: Option<switchboard_switch::SrtpParams>) {}
    fn create_leg(&mut self) -> Result<LegInfo, String> {
        let mut st = self.lock();
        st.next += 1;
        let id = st.next;
        st.legs.insert(id, None);
        st.created.push(id);
        Ok(LegInfo {
            id,
            local_port: 20_000u16.wrapping_add(2 * id as u16),
        })
    }
    fn set_remote(&mut self, _: MediaLeg, _: SocketAddr, _: Codec, _: Option<u8>) {}
    fn set_sending(&mut self, _: MediaLeg, _: bool) {}
    fn create_room(&mut self) -> MediaRoom {
        let mut st = self.lock();
        st.next += 1;
        let id = st.next;
        st.rooms.insert(id, None);
        id
    }
    fn join(&mut self, room: MediaRoom, leg: MediaLeg) {
        let mut st = self.lock();
        if st.rooms.contains_key(&room) {
            if let Some(l) = st.legs.get_mut(&leg) {
                *l = Some(room);
            }
        }
    }
    fn leave(&mut self, leg: MediaLeg) {
        if let Some(l) = self.lock().legs.get_mut(&leg) {
            *l = None;
        }
    }
    fn set_music(&mut self, room: MediaRoom, class: Option<&str>) {
        if let Some(r) = self.lock().rooms.get_mut(&room) {
            *r = class.map(str::to_string);
        }
    }
    fn set_muted(&mut self, _: MediaLeg, _: bool) {}
    fn set_unheard(&mut self, _: MediaLeg, _: &[MediaLeg]) {}
    fn destroy_leg(&mut self, leg: MediaLeg) {
        self.lock().legs.remove(&leg);
    }
    fn destroy_room(&mut self, room: MediaRoom) {
        let mut st = self.lock();
        st.rooms.remove(&room);
        for l in st.legs.values_mut() {
            if *l == Some(room) {
                *l = None;
            }
        }
    }
    fn start_recording(&mut self, leg: MediaLeg, _: &Path) -> Result<MediaRecording, String> {
        let mut st = self.lock();
        if !st.legs.contains_key(&leg) {
            return Err(format!("unknown leg {leg}"));
        }
        st.next += 1;
        let id = st.next;
        st.recordings.insert(id, leg);
        Ok(id)
    }
    fn set_recording_paused(&mut self, rec: MediaRecording, _: bool) -> bool {
        self.lock().recordings.contains_key(&rec)
    }
    fn stop_recording(&mut self, rec: MediaRecording) -> Option<u64> {
        self.lock().recordings.remove(&rec).map(|_| 1000)
    }
    fn music_classes(&self) -> Vec<String> {
        vec!["default".into()]
    }
    fn quality(&self, _leg: MediaLeg) -> Option<switchboard_switch::MediaQuality> {
        None
    }
}

fn campaign(name: &str, kind: &str, did: Option<&str>, auto_recording: bool) -> CampaignInfo {
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

fn sip_ha1(user: &str) -> SipHa1 {
    use switchboard_sip::digest::{ha1, Algorithm};
    SipHa1 {
        realm: "switchboard".into(),
        md5: ha1(Algorithm::Md5, user, "switchboard", SIP_PASSWORD),
        sha256: ha1(Algorithm::Sha256, user, "switchboard", SIP_PASSWORD),
    }
}

struct Driver {
    switch: Switch,
    media: FakeMedia,
    now: u64,
    peers: Vec<PeerState>,
    calls: Vec<String>,
}

const AGENTS: [&str; 3] = ["1001", "1002", "1003"];

const REGISTER: &[u8] = b"REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/UDP [local_ip]:[local_port];branch=[branch]
From: <sip:[field0]@[remote_ip]>;tag=reg[cseq]
To: <sip:[field0]@[remote_ip]>
Call-ID: reg-[field0]@[local_ip]
CSeq: [cseq] REGISTER
Contact: <sip:[field0]@[local_ip]:[local_port]>
Expires: 3600
Max-Forwards: 70
[authentication]
Content-Length: 0

";

impl Driver {
    fn new() -> Driver {
        let cfg = SwitchConfig {
            public_ip: "127.0.0.1".parse().expect("ip"),
            sip_port: 5060,
            tls_port: None,
            realm: "switchboard".into(),
            digest_algorithms: vec!["MD5".into()],
            acw_secs: 0,
            ring_timeout_secs: 20,
            recordings_dir: "recordings".into(),
            trunks: vec![Trunk::at("pstn", "127.0.0.1:5090".parse().expect("addr"))],
            nonce_secret: [7; 32],
            abuse: AbuseLimits::default(),
            nat_keepalive_secs: 20,
            nat_max_expires_secs: 300,
            browser_reconnect_secs: 30,
        };
        let agents = AGENTS
            .iter()
            .map(|u| AgentInfo {
                id: format!("id-{u}"),
                username: u.to_string(),
                name: format!("Agent {u}"),
                sip_ha1: sip_ha1(u),
                role: "agent".into(),
                audio: Default::default(),
            })
            .collect();
        let campaigns = vec![
            campaign("support", "inbound", Some("5000"), false),
            campaign("sales", "inbound", Some("5001"), true),
        ];
        let media = FakeMedia::default();
        let switch = Switch::new(cfg, Box::new(media.clone()), agents, campaigns, T0);
        let mut d = Driver {
            switch,
            media,
            now: T0,
            peers: peers(),
            calls: Vec::new(),
        };
        for p in 1..=3 {
            // REGISTER, 401, REGISTER with credentials.
            d.send_template(p, REGISTER, Transport::Udp);
            d.send_template(p, REGISTER, Transport::Udp);
        }
        d
    }

    fn send_template(&mut self, p: usize, template: &[u8], transport: Transport) {
        let bytes = expand(template, &mut self.peers[p], "5000");
        self.send(p, &bytes, transport);
    }

    fn send(&mut self, p: usize, bytes: &[u8], transport: Transport) {
        let peer = Peer {
            addr: self.peers[p].addr,
            transport,
        };
        self.switch.handle_datagram(self.now, peer, bytes);
        self.drain();
    }

    fn drain(&mut self) {
        while let Some(o) = self.switch.poll_output() {
            match o {
                Output::Send { peer, bytes } => {
                    let parsed = parse_message(&bytes);
                    assert!(
                        parsed.is_ok(),
                        "the switch sent what does not parse: {parsed:?}\n{}",
                        String::from_utf8_lossy(&bytes)
                    );
                    if let Some(p) = self.peers.iter_mut().find(|p| p.addr == peer.addr) {
                        p.receive(&bytes);
                    }
                }
                Output::Store(StoreOp::CallStarted { call, .. }) => self.calls.push(call),
                Output::Store(_) | Output::Publish(_) => {}
            }
        }
    }

    fn advance(&mut self, ms: u64) {
        let end = self.now + ms;
        let mut stalled = 0;
        loop {
            let next = self.switch.poll_timeout();
            if next > end {
                break;
            }
            if next <= self.now {
                stalled += 1;
                assert!(
                    stalled < 1_000,
                    "the switch's deadline never moves (busy loop)"
                );
            } else {
                stalled = 0;
            }
            self.now = self.now.max(next);
            self.switch.handle_timeout(self.now);
            self.drain();
        }
        self.now = end;
        self.switch.handle_timeout(self.now);
        self.drain();
    }

    fn api(&mut self, make: impl FnOnce() -> EngineRequest) {
        self.switch.handle_request(self.now, make());
        self.drain();
    }

    fn media_leg(&self, i: usize) -> Option<MediaLeg> {
        let st = self.media.lock();
        let n = st.created.len();
        (n > 0).then(|| st.created[n - 1 - i % n])
    }
}

fn actor(agent: &str) -> Actor {
    Actor {
        username: agent.into(),
        supervisor: agent == "1003",
        campaigns: None,
    }
}

/// Target `switch` (see the module doc).
pub fn switch(data: &[u8]) {
    let mut d = Driver::new();
    for step in steps(data).into_iter().take(64) {
        match step.cmd {
            "sip" | "tcp" => {
                let p = step.idx(0, d.peers.len());
                let transport = if step.cmd == "tcp" {
                    Transport::Tcp
                } else {
                    Transport::Udp
                };
                d.send_template(p, step.payload, transport);
            }
            "raw" => {
                let p = step.idx(0, d.peers.len());
                d.send(p, step.payload, Transport::Udp);
            }
            "answer" => {
                let p = step.idx(0, d.peers.len());
                let status = (step.args[1] % 700).max(100) as u16;
                if let Some(bytes) = crate::script::answer(&d.peers[p], status) {
                    d.send(p, &bytes, Transport::Udp);
                }
            }
            "wait" => d.advance(step.args[0].min(600_000)),
            "agent" => {
                let agent = AGENTS[step.idx(0, 3)].to_string();
                let state = [
                    AgentStatus::Offline,
                    AgentStatus::Ready,
                    AgentStatus::Paused,
                ][step.idx(1, 3)];
                let reason = (state == AgentStatus::Paused).then(|| "Break".to_string());
                // Set by the agent, or by a supervisor.
                let by = (step.idx(2, 2) == 1).then(|| "2000".to_string());
                d.api(|| {
                    let (reply, _) = tokio::sync::oneshot::channel();
                    EngineRequest::SetAgentState {
                        agent,
                        state,
                        reason,
                        by,
                        reply,
                    }
                });
            }
            "cmd" => {
                let agent = AGENTS[step.idx(0, 3)];
                let Some(call) = d.calls.last().cloned() else {
                    continue;
                };
                let leg = d.media_leg(step.idx(2, 8)).unwrap_or(1);
                let command = match step.args[1] % 12 {
                    0 => Command::Hold,
                    1 => Command::Unhold,
                    2 => Command::BlindTransfer(Target::Agent("1002".into())),
                    3 => Command::BlindTransfer(Target::Number("0123456789".into())),
                    4 => Command::ConsultTransfer(Target::Agent("1003".into())),
                    5 => Command::ConsultTransfer(Target::Campaign("support".into())),
                    6 => Command::CompleteTransfer,
                    7 => Command::CancelTransfer,
                    8 => Command::Confer,
                    9 => Command::Mute { leg, muted: true },
                    10 => Command::Detach(leg),
                    _ => Command::Hangup,
                };
                d.api(|| {
                    let (reply, _) = tokio::sync::oneshot::channel();
                    EngineRequest::CallCommand {
                        actor: actor(agent),
                        call,
                        command,
                        reply,
                    }
                });
            }
            "dial" => {
                let agent = AGENTS[step.idx(0, 3)];
                let target = match step.args[1] % 3 {
                    0 => Target::Number("0123456789".into()),
                    1 => Target::Agent("1002".into()),
                    _ => Target::Campaign("support".into()),
                };
                d.api(|| {
                    let (reply, _) = tokio::sync::oneshot::channel();
                    EngineRequest::Dial {
                        actor: actor(agent),
                        target,
                        campaign: None,
                        contact_id: None,
                        timezone: None,
                        reply,
                    }
                });
            }
            "dtmf" | "rtptimeout" => {
                let Some(leg) = d.media_leg(step.idx(0, 8)) else {
                    continue;
                };
                let event = if step.cmd == "dtmf" {
                    let digit = "0123456789*#ABCD".as_bytes()[step.idx(1, 16)] as char;
                    MediaEvent::Dtmf { leg, digit }
                } else {
                    MediaEvent::RtpTimeout { leg }
                };
                d.switch.handle_media_event(d.now, event);
                d.drain();
            }
            "snapshot" => d.api(|| {
                let (reply, _) = tokio::sync::oneshot::channel();
                EngineRequest::Snapshot(reply)
            }),
            "overload" => {
                d.switch.set_overloaded(step.args[0] % 2 == 1);
            }
            _ => {}
        }
    }
    d.advance(120_000);
    let _ = d.switch.stats();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_registers_the_phones() {
        // The target is only useful if the phones' digest registration worked.
        let d = Driver::new();
        for p in &d.peers[1..=3] {
            let status = p.last_response.as_ref().map(|r| r.status);
            assert_eq!(status, Some(200), "{} registered", p.user);
        }
    }

    #[test]
    fn a_trunk_call_reaches_a_ready_agent() {
        let script = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/seeds/switch/trunk_call_answered.txt"
        ))
        .expect("seed");
        let mut d = Driver::new();
        // Same as `switch(&script)` but keeps the driver to look at it.
        for step in steps(&script).into_iter().take(64) {
            if step.cmd == "agent" {
                let agent = AGENTS[step.idx(0, 3)].to_string();
                d.api(|| {
                    let (reply, _) = tokio::sync::oneshot::channel();
                    EngineRequest::SetAgentState {
                        agent,
                        state: AgentStatus::Ready,
                        reason: None,
                        by: None,
                        reply,
                    }
                });
            } else if step.cmd == "sip" {
                let p = step.idx(0, d.peers.len());
                d.send_template(p, step.payload, Transport::Udp);
                break;
            }
        }
        assert!(!d.calls.is_empty(), "the trunk's INVITE made a call");
        let invited = d.peers[1..=3].iter().any(|p| {
            p.last_request
                .as_ref()
                .is_some_and(|r| r.method == "INVITE")
        });
        assert!(invited, "an agent phone was rung");
    }
}
