//! The switch core, sans-IO: the SIP transaction layer, the registrar,
//! every leg and every call, the agents and the queues. It takes inputs (a
//! SIP datagram, an API request, a media event, the time) and returns
//! outputs (datagrams to send, storage writes, live events) through
//! [`Switch::poll_output`], plus the next deadline from
//! [`Switch::poll_timeout`]. The clock is injected with every input; media
//! is driven through the [`MediaControl`] trait. Being one state machine,
//! reserving an agent is atomic by construction.
//!
//! The binary's loop feeds it from sockets and timers; `tests/` drives it
//! with fake phones and trunks in virtual time.

#![warn(missing_docs, rust_2018_idioms)]

mod abuse;
mod actions;
mod agents;
mod api;
mod browser;
mod config;
mod dnc;
mod in_dialog;
mod invite_in;
mod leg;
mod media;
mod nat;
mod notices;
mod output;
mod prack;
mod quality;
mod queue;
mod records;
mod refer;
mod register;
mod registrar;
mod session_timer;
mod shutdown;
mod sip_in;
mod srtp;
mod supervise;
mod trunks;
mod uac;

use std::collections::HashMap;

use switchboard_call::{Call, LegId};
use switchboard_sip::{Message, Peer, TransactionLayer, TxEvent, TxKey};

pub use abuse::{AbuseLimits, AbuseStats};
pub use config::{SwitchConfig, Trunk};
pub use leg::{Leg, LegState, Side};
pub use media::{
    Codec, LegInfo, MediaControl, MediaEvent, MediaLeg, MediaQuality, MediaRecording, MediaRoom,
    SrtpParams,
};
pub use output::{Direction, Output, RegistrationRecord, StoreOp};
pub use prack::Reliable;
pub use quality::{leg_quality, QualitySide};
pub use records::ActiveRecording;
pub use session_timer::{SessionTimer, MIN_SE_SECS};
pub use shutdown::END_WAIT_MS;
pub use srtp::{LegKeys, SrtpMode};
pub use switchboard_center::{AgentInfo, AgentStatus, CampaignInfo, EngineRequest};
pub use trunks::{BadSource, SourceNet};

/// How often expired registrations are swept from the registrar's memory (ms);
/// agents and queues run on their own deadlines.
const HOUSEKEEPING_MS: u64 = 60_000;

/// Sizes of the switch's tables (see [`Switch::stats`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SwitchStats {
    /// Live calls.
    pub calls: usize,
    /// Live legs.
    pub legs: usize,
    /// Calls in the legs-by-call index.
    pub indexed_calls: usize,
    /// Dialogs by (Call-ID, local tag).
    pub dialogs: usize,
    /// Incoming INVITEs by branch (for CANCEL).
    pub invites_by_branch: usize,
    /// Our outstanding requests.
    pub client_requests: usize,
    /// SIP server transactions.
    pub server_transactions: usize,
    /// SIP client transactions.
    pub client_transactions: usize,
    /// Transaction timer entries.
    pub transaction_timers: usize,
    /// Ring deadlines.
    pub ring_timers: usize,
    /// Contacts of dialer/console calls.
    pub contacts_of_calls: usize,
    /// SIP sources banned right now (request rate or failed authentications).
    pub banned_sources: usize,
    /// Datagrams dropped from banned sources since start.
    pub dropped_requests: u64,
    /// Failed digest authentications since start.
    pub auth_failures: u64,
}

/// What an outstanding client transaction is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Invite,
    InDialog,
    Cancel,
    /// A session refresh re-INVITE (RFC 4028).
    Refresh,
}

/// A live call: the state machine plus what the engine keeps around it.
pub struct CallEntry {
    /// The state machine.
    pub call: Call,
    /// Media rooms, by plan group index.
    pub rooms: Vec<u64>,
    /// Campaign, if the call belongs to one.
    pub campaign: Option<String>,
    /// Whether the campaign records automatically.
    pub auto_recording: bool,
    /// The recording segment being written, if any.
    pub recording: Option<ActiveRecording>,
    /// Recording segments so far.
    pub segments: u32,
    /// Direction for the CDR.
    pub direction: &'static str,
    /// Caller and callee for the CDR.
    pub caller: String,
    /// Callee.
    pub callee: String,
    /// Start time.
    pub started_at: u64,
    /// Answer time.
    pub answered_at: Option<u64>,
    /// The agent who last controlled the call (kept for the CDR once the call ends).
    pub last_agent: Option<String>,
    /// Every agent who took part in the call (their consoles keep getting its updates).
    pub participants: Vec<String>,
    /// Why the call ended, for the CDR (`ended` unless the server ended it).
    pub end_reason: &'static str,
    /// Supervisors the agent is shown now (see the campaign's `supervision.notice`).
    pub notices: Vec<switchboard_center::NoticeView>,
    /// Final media quality of the legs that ended so far, by side (for the CDR).
    pub quality: switchboard_center::CallQuality,
    /// The queue an agent answered the caller from, and when (ms): its
    /// average handle time counts this call when it ends.
    pub answered_from_queue: Option<(String, u64)>,
}

impl CallEntry {
    /// A new call's bookkeeping; campaign settings (recording) come from `campaign`.
    pub fn new(
        call: Call,
        direction: &'static str,
        caller: String,
        callee: String,
        campaign: Option<&CampaignInfo>,
        now: u64,
    ) -> CallEntry {
        CallEntry {
            call,
            rooms: Vec::new(),
            campaign: campaign.map(|c| c.name.clone()),
            auto_recording: campaign.is_some_and(|c| c.auto_recording),
            recording: None,
            segments: 0,
            direction,
            caller,
            callee,
            started_at: now,
            answered_at: None,
            last_agent: None,
            participants: Vec::new(),
            end_reason: "ended",
            notices: Vec::new(),
            quality: Default::default(),
            answered_from_queue: None,
        }
    }
}

/// The switch: one state machine for every leg, call, agent and queue.
pub struct Switch {
    cfg: SwitchConfig,
    /// The time of the input being handled (ms since the Unix epoch, injected).
    now: u64,
    tl: TransactionLayer,
    registrar: registrar::Registrar,
    /// Request rate and failed-authentication limits.
    abuse: abuse::Abuse,
    media: Box<dyn MediaControl>,
    legs: HashMap<LegId, Leg>,
    /// Legs of each call (an index over `legs`).
    call_legs: HashMap<String, Vec<LegId>>,
    dialogs: HashMap<(String, String), LegId>,
    invites_by_branch: HashMap<String, LegId>,
    client_tx: HashMap<TxKey, (LegId, Purpose)>,
    calls: HashMap<String, CallEntry>,
    call_counter: u64,
    agents: agents::Agents,
    queue: queue::Queue,
    sink: output::Sink,
    pending_events: Vec<(String, switchboard_call::Event)>,
    campaigns: Vec<CampaignInfo>,
    contact_of_call: HashMap<String, Option<String>>,
    /// Numbers the switch must not call.
    dnc: dnc::DncList,
    /// When the slow housekeeping (agents, queues, registrations) last ran.
    last_housekeeping: u64,
    /// The call whose events or actions are being handled (to end it alone
    /// if handling them panics).
    current_call: Option<String>,
    /// Refusing new calls because inputs queue up (see [`Switch::set_overloaded`]).
    overloaded: bool,
    /// New calls refused since the last overload began (logged when it ends).
    refused: u64,
    /// Ring deadlines of outgoing legs, earliest first (checked against the leg when due).
    ring_timers: std::collections::BTreeSet<(u64, LegId)>,
    /// Trunks: addresses, health, registrations.
    trunks: trunks::Trunks,
    /// Our outstanding requests for trunks (REGISTER, OPTIONS).
    trunk_tx: HashMap<TxKey, trunks::TrunkRequest>,
    /// Deadlines for INVITEs to trunk addresses that have not answered at
    /// all yet (failover to the next address), earliest first.
    failover_timers: std::collections::BTreeSet<(u64, LegId)>,
    /// When phones behind a NAT are pinged next (0: never).
    nat_keepalive_at: u64,
    /// Session-timer deadlines of legs (RFC 4028), earliest first.
    session_timers: session_timer::Timers,
    /// Retransmissions of reliable provisional responses (RFC 3262), earliest first.
    prack_timers: prack::Timers,
    /// Graceful shutdown (see [`Switch::shutdown`]).
    shutdown: shutdown::Shutdown,
    /// Agents' browser audio sessions (see `browser.rs`).
    browser: browser::BrowserSeats,
    /// Agents whose browser went away mid-call, waited for (see `browser.rs`).
    browser_waits: browser::Waits,
    /// Agents whose phone's last offer was SRTP: our calls to it are offered SRTP too.
    srtp_phones: std::collections::HashSet<String>,
    /// Media quality of the calls ended since start (for `/metrics`).
    quality_totals: switchboard_center::QualityTotals,
}

impl Switch {
    /// A switch with its agents and campaigns; `now` is the current time (ms since the epoch).
    pub fn new(
        cfg: SwitchConfig,
        media: Box<dyn MediaControl>,
        agents: Vec<AgentInfo>,
        campaigns: Vec<CampaignInfo>,
        now: u64,
    ) -> Switch {
        let algorithms: Vec<_> = cfg
            .digest_algorithms
            .iter()
            .filter_map(|a| switchboard_sip::digest::DigestServer::algorithm(a))
            .collect();
        let trunks = trunks::Trunks::new(&cfg.trunks, now);
        let trusted = trunks.trusted();
        Switch {
            trunks,
            trunk_tx: HashMap::new(),
            failover_timers: Default::default(),
            nat_keepalive_at: match cfg.nat_keepalive_secs {
                0 => 0,
                s => now + s * 1000,
            },
            registrar: registrar::Registrar::new(&cfg.realm, &algorithms, cfg.nonce_secret),
            abuse: abuse::Abuse::new(cfg.abuse.clone(), trusted),
            cfg,
            now,
            tl: TransactionLayer::new(),
            media,
            legs: HashMap::new(),
            call_legs: HashMap::new(),
            dialogs: HashMap::new(),
            invites_by_branch: HashMap::new(),
            client_tx: HashMap::new(),
            calls: HashMap::new(),
            call_counter: 0,
            agents: agents::Agents::new(agents, now),
            queue: queue::Queue::new(&campaigns),
            sink: output::Sink::default(),
            pending_events: Vec::new(),
            campaigns,
            contact_of_call: HashMap::new(),
            dnc: Default::default(),
            last_housekeeping: now,
            ring_timers: Default::default(),
            session_timers: Default::default(),
            prack_timers: Default::default(),
            shutdown: Default::default(),
            browser: Default::default(),
            browser_waits: Default::default(),
            srtp_phones: Default::default(),
            quality_totals: Default::default(),
            current_call: None,
            overloaded: false,
            refused: 0,
        }
    }

    /// Reload the registrations saved before a restart (phones stay reachable).
    pub fn restore_registrations(&mut self, rows: Vec<RegistrationRecord>) {
        for r in rows {
            let (Ok(contact), Ok(addr)) =
                (switchboard_sip::Uri::parse(&r.contact), r.peer_addr.parse())
            else {
                continue;
            };
            let transport = match r.transport.as_str() {
                "TCP" => switchboard_sip::Transport::Tcp,
                "TLS" => switchboard_sip::Transport::Tls,
                _ => switchboard_sip::Transport::Udp,
            };
            let peer = switchboard_sip::Peer { addr, transport };
            self.registrar.restore(
                &r.username,
                registrar::Binding {
                    nat: registrar::Binding::behind_nat(&contact, &peer),
                    contact,
                    peer,
                    expires_at: r.expires_at.max(0) as u64,
                },
            );
            self.registration_restored(&r.username);
        }
    }

    /// Add a leg (and index it under its call).
    fn insert_leg(&mut self, leg: Leg) {
        let ids = self.call_legs.entry(leg.call.clone()).or_default();
        if !ids.contains(&leg.id) {
            ids.push(leg.id);
        }
        self.legs.insert(leg.id, leg);
    }

    /// Remove a leg (and its index entry).
    fn remove_leg(&mut self, id: LegId) -> Option<Leg> {
        let leg = self.legs.remove(&id)?;
        if let Some(ids) = self.call_legs.get_mut(&leg.call) {
            ids.retain(|l| *l != id);
            if ids.is_empty() {
                self.call_legs.remove(&leg.call);
            }
        }
        Some(leg)
    }

    /// The legs of a call.
    fn legs_of(&self, call: &str) -> Vec<LegId> {
        self.call_legs.get(call).cloned().unwrap_or_default()
    }

    /// Our host:port for the Via of a request over `t` (TLS has its own port).
    fn via_host_for(&self, t: switchboard_sip::Transport) -> String {
        let port = match (t, self.cfg.tls_port) {
            (switchboard_sip::Transport::Tls, Some(p)) => p,
            _ => self.cfg.sip_port,
        };
        match self.cfg.public_ip() {
            std::net::IpAddr::V6(ip) => format!("[{ip}]:{port}"),
            ip => format!("{ip}:{port}"),
        }
    }

    /// Our Contact for a dialog over `t`: a TLS peer's in-dialog requests
    /// must come back over TLS, to our TLS port.
    fn contact_for(&self, t: switchboard_sip::Transport) -> String {
        let host = self.via_host_for(t);
        match t {
            switchboard_sip::Transport::Tls => format!("<sip:switchboard@{host};transport=tls>"),
            _ => format!("<sip:switchboard@{host}>"),
        }
    }

    fn set_now(&mut self, now: u64) {
        // The clock never goes backwards inside the switch.
        self.now = self.now.max(now);
    }

    /// A SIP message (one datagram or one framed stream message) from a peer.
    pub fn handle_datagram(&mut self, now: u64, peer: Peer, data: &[u8]) {
        self.set_now(now);
        self.guarded(|s| s.on_inbound(peer, data));
    }

    /// A request from the HTTP API (answered on its reply channel).
    pub fn handle_request(&mut self, now: u64, request: EngineRequest) {
        self.set_now(now);
        self.guarded(|s| s.on_api(request));
    }

    /// An event from the media engine (DTMF, RTP timeout).
    pub fn handle_media_event(&mut self, now: u64, event: MediaEvent) {
        self.set_now(now);
        self.guarded(|s| s.on_media_event(event));
    }

    /// Time passed: retransmissions, ring timeouts, housekeeping.
    pub fn handle_timeout(&mut self, now: u64) {
        self.set_now(now);
        self.guarded(|s| s.on_tick());
    }

    /// Handle one input and everything it triggers. A bug that panics while
    /// a call's events or actions are handled ends that call alone (BYE or
    /// CANCEL to its parties, agents released, CDR closed); the switch and
    /// every other call go on.
    fn guarded(&mut self, input: impl FnOnce(&mut Switch)) {
        use std::panic::{catch_unwind, AssertUnwindSafe};
        self.current_call = None;
        let ok = catch_unwind(AssertUnwindSafe(|| {
            input(self);
            self.drain();
        }))
        .is_ok();
        if ok {
            return;
        }
        match self.current_call.take() {
            Some(call) => {
                tracing::error!(call, "internal error while handling the call: ending it");
                if catch_unwind(AssertUnwindSafe(|| self.abort_call(&call))).is_err() {
                    tracing::error!(call, "ending the call after an internal error failed too");
                    self.calls.remove(&call);
                }
            }
            None => tracing::error!("internal error while handling an input (no call affected)"),
        }
        self.current_call = None;
        if catch_unwind(AssertUnwindSafe(|| self.drain())).is_err() {
            tracing::error!("internal error while finishing an input");
            self.pending_events.clear();
        }
    }

    /// Tell the switch it is falling behind (its inputs wait too long) or has
    /// caught up. While overloaded, new INVITEs are answered `503 Service
    /// Unavailable` with `Retry-After` without any state kept, so the calls
    /// already established, and the ones being set up, keep all the capacity.
    pub fn set_overloaded(&mut self, overloaded: bool) {
        if overloaded == self.overloaded {
            return;
        }
        self.overloaded = overloaded;
        if overloaded {
            tracing::warn!("overloaded: refusing new calls with 503");
        } else {
            tracing::warn!(
                refused = self.refused,
                "caught up: accepting new calls again"
            );
            self.refused = 0;
        }
    }

    /// Whether new calls are being refused.
    pub fn is_overloaded(&self) -> bool {
        self.overloaded
    }

    /// Sizes of the switch's tables, for metrics and for tests that check
    /// nothing is kept once calls are over.
    pub fn stats(&self) -> SwitchStats {
        let (server_transactions, client_transactions) = self.tl.len();
        let abuse = self.abuse.stats(self.now);
        SwitchStats {
            calls: self.calls.len(),
            legs: self.legs.len(),
            indexed_calls: self.call_legs.len(),
            dialogs: self.dialogs.len(),
            invites_by_branch: self.invites_by_branch.len(),
            client_requests: self.client_tx.len(),
            server_transactions,
            client_transactions,
            transaction_timers: self.tl.timer_count(),
            ring_timers: self.ring_timers.len(),
            contacts_of_calls: self.contact_of_call.len(),
            banned_sources: abuse.banned_sources,
            dropped_requests: abuse.dropped,
            auth_failures: abuse.auth_failures,
        }
    }

    /// The next output to carry out, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.sink.pop()
    }

    /// When [`Switch::handle_timeout`] should be called next (ms since the epoch).
    pub fn poll_timeout(&self) -> u64 {
        let mut next = self.last_housekeeping + HOUSEKEEPING_MS;
        if let Some(t) = self.tl.next_timeout() {
            next = next.min(t);
        }
        if let Some((d, _)) = self.ring_timers.first() {
            next = next.min(*d);
        }
        for d in [
            self.center_deadline(),
            self.session_timers.next(),
            self.prack_timers.next(),
            self.shutdown_deadline(),
            self.browser_deadline(),
        ] {
            next = next.min(d.unwrap_or(u64::MAX));
        }
        if let Some(d) = self.trunks.next_deadline() {
            next = next.min(d);
        }
        if let Some((d, _)) = self.failover_timers.first() {
            next = next.min(*d);
        }
        if self.nat_keepalive_at > 0 {
            next = next.min(self.nat_keepalive_at);
        }
        next.max(self.now)
    }

    fn on_inbound(&mut self, peer: Peer, data: &[u8]) {
        let now = self.now;
        if self.abuse.drop_datagram(peer.addr, now) {
            return; // banned: no answer at all
        }
        if tracing::enabled!(tracing::Level::TRACE) {
            use switchboard_sip::sdes::redact_keys;
            tracing::trace!(from = %peer.addr, "SIP in:\n{}", redact_keys(&String::from_utf8_lossy(data)));
        }
        let looks_like_request = !data.starts_with(b"SIP/");
        if looks_like_request
            && !data.iter().all(|b| *b == b'\r' || *b == b'\n')
            && self.abuse.over_rate(peer.addr, now)
        {
            return; // over the request rate: banned from now on
        }
        match switchboard_sip::parse_message(data) {
            Ok(Message::Request(req)) => {
                if let Err(rej) = switchboard_sip::validate_request(&req) {
                    tracing::info!(from = %peer.addr, status = rej.status, reason = %rej.reason, "rejecting request");
                    if req.method != "ACK" {
                        let mut resp = switchboard_sip::builder::response_to(
                            &req,
                            rej.status,
                            &rej.reason,
                            None,
                        );
                        if rej.status == 420 {
                            resp.headers.push(
                                "Unsupported",
                                rej.reason.trim_start_matches("Bad Extension: "),
                            );
                        }
                        self.tl.respond(resp, peer, now);
                    }
                    return;
                }
                if (self.overloaded || self.is_shutting_down())
                    && req.method == "INVITE"
                    && !self.tl.has_server_transaction(&req)
                    && !req
                        .header("To")
                        .is_some_and(|t| t.to_ascii_lowercase().contains("tag="))
                {
                    self.refuse_new_call(&req, peer);
                    return;
                }
                self.tl.on_message(Message::Request(req), peer, now);
            }
            Ok(resp @ Message::Response(_)) => self.tl.on_message(resp, peer, now),
            Err(e) => {
                if data.iter().all(|b| *b == b'\r' || *b == b'\n') {
                    return; // keep-alive
                }
                tracing::info!(from = %peer.addr, error = %e, len = data.len(), "dropping unparseable SIP message");
                self.bad_request(peer, data, &e.0);
            }
        }
    }

    fn drain(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(ev) = self.tl.poll_event() {
                progressed = true;
                match ev {
                    TxEvent::Send { peer, bytes } => {
                        if tracing::enabled!(tracing::Level::TRACE) {
                            use switchboard_sip::sdes::redact_keys;
                            tracing::trace!(to = %peer.addr, "SIP out:\n{}", redact_keys(&String::from_utf8_lossy(&bytes)));
                        } else {
                            let first = bytes.split(|b| *b == b'\r').next().unwrap_or_default();
                            tracing::debug!(to = %peer.addr, "SIP out: {}", String::from_utf8_lossy(first));
                        }
                        self.sink.send(peer, bytes)
                    }
                    TxEvent::Request { req, from } => self.on_request(req, from),
                    TxEvent::Response { resp, key } => self.on_response(resp, key),
                    TxEvent::Timeout { key } => self.on_tx_timeout(key),
                    TxEvent::AckTimeout { call_id } => self.on_ack_timeout(&call_id),
                }
            }
            let evs = std::mem::take(&mut self.pending_events);
            for (call, ev) in evs {
                progressed = true;
                self.call_event(&call, ev);
            }
            // Queue offers and timeouts, once the events above settled.
            progressed |= self.run_queues();
            if !progressed {
                break;
            }
        }
    }

    fn on_tick(&mut self) {
        let now = self.now;
        self.tl.on_timeout(now);
        self.shrink_tables();
        // Ring timeouts of outgoing legs.
        let mut expired: Vec<(String, LegId)> = Vec::new();
        while let Some(&(d, leg)) = self.ring_timers.first() {
            if d > now {
                break;
            }
            self.ring_timers.pop_first();
            if let Some(l) = self.legs.get(&leg) {
                if l.state == LegState::Setup && l.ring_deadline == Some(d) {
                    expired.push((l.call.clone(), leg));
                }
            }
        }
        for (call, leg) in expired {
            tracing::info!(leg, "ring timeout");
            self.end_leg_signalling(leg);
            self.pending_events
                .push((call, switchboard_call::Event::Failed(leg, 408)));
        }
        self.failover_tick();
        self.trunks_tick();
        self.nat_keepalive_tick();
        self.session_timers_tick(now);
        self.prack_tick(now);
        self.shutdown_tick();
        self.browser_tick();
        // After-call work and registration expiry deadlines (queue deadlines run in `drain`).
        self.agents_tick(now);
        if now.saturating_sub(self.last_housekeeping) >= HOUSEKEEPING_MS {
            self.last_housekeeping = now;
            self.registrar.expire(now);
            self.abuse.sweep(now);
        }
    }

    /// Tables sized for a past burst of calls give their memory back.
    fn shrink_tables(&mut self) {
        use switchboard_sip::Shrink;
        self.legs.shrink_idle();
        self.call_legs.shrink_idle();
        self.dialogs.shrink_idle();
        self.invites_by_branch.shrink_idle();
        self.client_tx.shrink_idle();
        self.calls.shrink_idle();
        self.contact_of_call.shrink_idle();
        self.trunk_tx.shrink_idle();
    }

    fn on_tx_timeout(&mut self, key: TxKey) {
        if self.on_trunk_timeout(&key) {
            return;
        }
        let tx = self.client_tx.remove(&key);
        if let Some((leg, Purpose::Refresh)) = tx {
            self.refresh_failed(leg, 408);
        }
        if let Some((leg, Purpose::Invite)) = tx {
            if self.failover(leg, "no response") {
                return;
            }
            if let Some(l) = self.legs.get_mut(&leg) {
                l.state = LegState::Terminated;
                let call = l.call.clone();
                self.release_leg_media(leg);
                self.pending_events
                    .push((call, switchboard_call::Event::Failed(leg, 408)));
            }
        }
    }

    fn on_ack_timeout(&mut self, call_id: &str) {
        let leg = self
            .legs
            .values()
            .find(|l| l.dialog.call_id == call_id && matches!(l.side, Side::Incoming { .. }))
            .map(|l| l.id);
        if let Some(leg) = leg {
            tracing::warn!(leg, "no ACK for our 2xx: ending the leg");
            let call = self.legs[&leg].call.clone();
            self.hangup_leg(leg);
            self.pending_events
                .push((call, switchboard_call::Event::HungUp(leg)));
        }
    }
}
