//! Shared helpers for the agent call-action end-to-end tests (`tests/actions_*.rs`).
//!
//! Included next to the harness with
//! ```ignore
//! mod common;
//! mod actions_common;
//! ```
//! Every party is a real baresip phone playing its own tone:
//! the customer 1000 Hz, agent A (1001) 440 Hz, agent B (1002) 1500 Hz,
//! the external number (5551234 behind the trunk) 2000 Hz. (Not 700 Hz: the
//! built-in hold music has a 698 Hz note.) What each phone heard is checked
//! per time window: the windows are `Instant`s taken by the test, mapped onto
//! each phone's dump by the dump's end (its last write = the call's end).
#![allow(dead_code)]

use crate::common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

pub const CUSTOMER_HZ: f32 = 1000.0;
pub const A_HZ: f32 = 440.0;
pub const B_HZ: f32 = 1500.0;
pub const EXT_HZ: f32 = 2000.0;
/// Every party's tone (music must be none of these).
pub const PARTY_TONES: [f32; 4] = [CUSTOMER_HZ, A_HZ, B_HZ, EXT_HZ];

/// Default bound for SIP events.
pub const T: Duration = Duration::from_secs(10);
/// The external number behind the trunk.
pub const EXT_NUMBER: &str = "5551234";
/// Ring timeout configured in the server (seconds).
pub const RING_TIMEOUT_SECS: u64 = 4;

/// A running server with agents 1001, 1002, 1003, 1004 (1004 never gets a
/// phone: "not registered"), 9000 (supervisor),
/// a trunk (outbound to `pstn_port`, inbound trusted from `customer_port`)
/// and the given campaigns.
pub struct Lab {
    pub server: Server,
    pub pstn_port: u16,
    pub customer_port: u16,
}

/// Inbound campaign `name` with DID `did`, members, recording on or off.
pub fn campaign(name: &str, did: &str, agents: &[&str], auto_recording: bool) -> CampaignCfg {
    let mut c = CampaignCfg::inbound(name, did, agents);
    c.auto_recording = auto_recording;
    c
}

impl Lab {
    pub fn start(dir: &TestDir, campaigns: Vec<CampaignCfg>) -> Lab {
        Lab::start_with(dir, campaigns, None)
    }

    /// `rust_log`: e.g. Some("debug") to get SIP first lines in server.log.
    pub fn start_with(dir: &TestDir, campaigns: Vec<CampaignCfg>, rust_log: Option<&str>) -> Lab {
        Lab::start_extra(dir, campaigns, rust_log, "")
    }

    /// As [`Lab::start_with`], with raw `key = value` lines added to [server].
    pub fn start_extra(
        dir: &TestDir,
        campaigns: Vec<CampaignCfg>,
        rust_log: Option<&str>,
        extra_server: &str,
    ) -> Lab {
        Lab::start_accounts(dir, campaigns, rust_log, extra_server, Vec::new())
    }

    /// As [`Lab::start_extra`], with more accounts (e.g. an admin).
    pub fn start_accounts(
        dir: &TestDir,
        campaigns: Vec<CampaignCfg>,
        rust_log: Option<&str>,
        extra_server: &str,
        accounts: Vec<AgentCfg>,
    ) -> Lab {
        require_tool("baresip");
        require_tool("sox");
        let pstn_port = free_port_pair();
        let customer_port = free_port_pair();
        let mut opts = ServerOpts::new()
            .with_agents(&["1001", "1002", "1003", "1004"])
            .agent(AgentCfg::new("9000").role("supervisor"))
            .trunk(TrunkCfg::new("pstn", pstn_port, &[customer_port]));
        for c in campaigns {
            opts = opts.campaign(c);
        }
        for a in accounts {
            opts = opts.agent(a);
        }
        opts.extra_server =
            format!("ring_timeout_secs = {RING_TIMEOUT_SECS}\nacw_secs = 0\n{extra_server}");
        opts.rust_log = Some(
            std::env::var("SB_ACTIONS_LOG")
                .ok()
                .or(rust_log.map(str::to_string))
                .unwrap_or_else(|| "info".into()),
        );
        let server = Server::start(dir, opts);
        Lab {
            server,
            pstn_port,
            customer_port,
        }
    }

    /// The customer: unregistered baresip at the trunk's trusted inbound port, 1000 Hz.
    pub fn customer(&self, dir: &TestDir) -> Baresip {
        Baresip::with_opts(
            dir.path(),
            BaresipOpts::new("customer")
                .sip_port(self.customer_port)
                .tone(CUSTOMER_HZ),
        )
    }

    /// The external number: unregistered baresip at the trunk address, 2000 Hz.
    pub fn external(&self, dir: &TestDir, auto_answer: bool) -> Baresip {
        Baresip::with_opts(
            dir.path(),
            BaresipOpts::new(EXT_NUMBER)
                .sip_port(self.pstn_port)
                .tone(EXT_HZ)
                .auto_answer(auto_answer),
        )
    }

    /// An agent's registered phone, logged in through the API and ready.
    /// Returns the phone and the API token.
    pub fn agent(
        &self,
        dir: &TestDir,
        user: &str,
        hz: f32,
        auto_answer: bool,
    ) -> (Baresip, String) {
        let phone = start_agent(dir, &self.server, user, Some(hz), auto_answer);
        let token = self.login_ready(user);
        // The registration reaches the agent table on the next engine tick.
        let ok = wait_until(Duration::from_secs(5), Duration::from_millis(50), || {
            self.presence(&token, user)["registered"]
                .as_bool()
                .filter(|r| *r)
        });
        assert!(ok.is_some(), "agent {user} not shown as registered");
        (phone, token)
    }

    /// Log in `user` (password `pw<user>`) and set the state to ready.
    pub fn login_ready(&self, user: &str) -> String {
        let token = self.server.login(user, &format!("pw{user}"));
        self.ok(
            "PUT",
            "/api/agents/me/state",
            Some(json!({"state": "ready"})),
            &token,
        );
        token
    }

    pub fn uri(&self, user: &str) -> String {
        self.server.uri(user)
    }

    pub fn api(&self, method: &str, path: &str, body: Option<Value>, token: &str) -> (u16, Value) {
        self.server.api(method, path, body.as_ref(), Some(token))
    }

    /// Request that must answer 200; returns the JSON body.
    pub fn ok(&self, method: &str, path: &str, body: Option<Value>, token: &str) -> Value {
        self.expect(200, method, path, body, token)
    }

    /// Request that must answer `status`; returns the JSON body.
    pub fn expect(
        &self,
        status: u16,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: &str,
    ) -> Value {
        let (st, v) = self.api(method, path, body.clone(), token);
        assert_eq!(
            st,
            status,
            "{method} {path} {} -> {st} {v}\nserver log tail:\n{}",
            body.map(|b| b.to_string()).unwrap_or_default(),
            self.server.log_tail(25)
        );
        v
    }

    /// Request that must be refused with `status` and a JSON `{"error": ...}`
    /// message containing `needle` (case-insensitive). Returns the message.
    pub fn refused(
        &self,
        status: u16,
        needle: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: &str,
    ) -> String {
        let v = self.expect(status, method, path, body, token);
        let msg = v["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path}: error body is not {{\"error\": ..}}: {v}"))
            .to_string();
        assert!(
            msg.to_lowercase().contains(&needle.to_lowercase()),
            "{method} {path}: error {msg:?} should mention {needle:?}"
        );
        msg
    }

    /// POST /api/calls/{id}/{action} that must succeed; returns the call JSON.
    pub fn action(&self, token: &str, call: &str, action: &str, body: Option<Value>) -> Value {
        self.ok("POST", &format!("/api/calls/{call}/{action}"), body, token)
    }

    /// The agent's live calls (GET /api/calls).
    pub fn live_calls(&self, token: &str) -> Vec<Value> {
        let v = self.ok("GET", "/api/calls", None, token);
        v["calls"].as_array().cloned().unwrap_or_default()
    }

    /// Wait for a live call visible to `token` and return its id.
    pub fn wait_live_call(&self, token: &str) -> String {
        let id = wait_until(T, Duration::from_millis(100), || {
            self.live_calls(token)
                .first()
                .and_then(|c| c["call_id"].as_str().map(str::to_string))
        });
        id.unwrap_or_else(|| {
            panic!(
                "no live call within {T:?}\nserver log tail:\n{}",
                self.server.log_tail(30)
            )
        })
    }

    /// GET /api/calls/{id}: {"live": bool, "call": ...}.
    pub fn call(&self, token: &str, id: &str) -> Value {
        self.ok("GET", &format!("/api/calls/{id}"), None, token)
    }

    /// Wait until the live call is in `state` ("connected", "held", ...).
    pub fn wait_state(&self, token: &str, id: &str, state: &str) -> Value {
        self.wait_call(token, id, &format!("state {state}"), |c| {
            c["live"] == true && c["call"]["state"] == state
        })
    }

    /// Wait until the call has ended (GET /api/calls/{id} gives the stored record).
    pub fn wait_ended(&self, token: &str, id: &str) -> Value {
        self.wait_call(token, id, "ended", |c| c["live"] == false)
    }

    pub fn wait_call(
        &self,
        token: &str,
        id: &str,
        what: &str,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let mut last = Value::Null;
        let r = wait_until(T, Duration::from_millis(100), || {
            let (st, v) = self.api("GET", &format!("/api/calls/{id}"), None, token);
            let hit = st == 200 && pred(&v);
            last = json!({"status": st, "body": v});
            hit.then_some(())
        });
        if r.is_none() {
            panic!(
                "call {id}: not {what} within {T:?}; last GET: {last}\nevents: {}\nserver log tail:\n{}",
                self.event_kinds(token, id).join(" "),
                self.server.log_tail(30)
            );
        }
        last["body"].clone()
    }

    /// The call's event log.
    pub fn events(&self, token: &str, id: &str) -> Vec<Value> {
        let (st, v) = self.api("GET", &format!("/api/calls/{id}/events"), None, token);
        if st != 200 {
            return Vec::new();
        }
        v["events"].as_array().cloned().unwrap_or_default()
    }

    pub fn event_kinds(&self, token: &str, id: &str) -> Vec<String> {
        self.events(token, id)
            .iter()
            .map(|e| e["kind"].as_str().unwrap_or("?").to_string())
            .collect()
    }

    /// Wait until the event log holds an event of `kind`; returns it.
    pub fn wait_log(&self, token: &str, id: &str, kind: &str) -> Value {
        let r = wait_until(T, Duration::from_millis(100), || {
            self.events(token, id)
                .into_iter()
                .find(|e| e["kind"] == kind)
        });
        r.unwrap_or_else(|| {
            panic!(
                "call {id}: no {kind} event within {T:?}; events: {}\nserver log tail:\n{}",
                self.event_kinds(token, id).join(" "),
                self.server.log_tail(30)
            )
        })
    }

    /// Assert the event log holds these kinds in this order (others may be between).
    pub fn assert_log_order(&self, token: &str, id: &str, kinds: &[&str]) {
        let got = self.event_kinds(token, id);
        let mut it = got.iter();
        for k in kinds {
            assert!(
                it.any(|g| g == k),
                "call {id}: event log should contain {kinds:?} in order; got {got:?}"
            );
        }
    }

    /// One agent's presence from GET /api/agents.
    pub fn presence(&self, token: &str, user: &str) -> Value {
        let v = self.ok("GET", "/api/agents", None, token);
        v["agents"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["username"] == user).cloned())
            .unwrap_or_else(|| panic!("agent {user} missing from GET /api/agents: {v}"))
    }

    /// Wait until `user` is on no call (status neither ringing nor on_call, calls empty).
    pub fn wait_free(&self, token: &str, user: &str) -> Value {
        let mut last = Value::Null;
        let r = wait_until(T, Duration::from_millis(100), || {
            let p = self.presence(token, user);
            let free = p["calls"].as_array().is_some_and(|c| c.is_empty())
                && p["status"] != "on_call"
                && p["status"] != "ringing";
            last = p;
            free.then_some(())
        });
        assert!(
            r.is_some(),
            "agent {user} should be released (no call) but GET /api/agents shows {last}"
        );
        last
    }

    /// Wait until `user` is on a call (status on_call).
    pub fn wait_on_call(&self, token: &str, user: &str) -> Value {
        let mut last = Value::Null;
        let r = wait_until(T, Duration::from_millis(100), || {
            let p = self.presence(token, user);
            let busy = p["status"] == "on_call";
            last = p;
            busy.then_some(())
        });
        assert!(r.is_some(), "agent {user} should be on a call: {last}");
        last
    }

    /// Nobody is left on a call and no call is live (supervisor's view).
    pub fn assert_all_idle(&self, supervisor_token: &str) {
        let r = wait_until(T, Duration::from_millis(100), || {
            self.live_calls(supervisor_token).is_empty().then_some(())
        });
        assert!(
            r.is_some(),
            "live calls remain: {:?}",
            self.live_calls(supervisor_token)
        );
        for u in ["1001", "1002", "1003"] {
            self.wait_free(supervisor_token, u);
        }
    }

    /// Fetch a URL with the token, raw bytes (e.g. a recording's WAV).
    pub fn get_bytes(&self, path: &str, token: &str) -> (u16, Vec<u8>) {
        let auth = format!("Bearer {token}");
        let r = http::request(
            self.server.http_port,
            "GET",
            path,
            &[("Authorization", auth.as_str())],
            None,
            Duration::from_secs(10),
        )
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        (r.status, r.body)
    }

    /// Raw POST with an arbitrary body and content type (for malformed JSON).
    pub fn post_raw(&self, path: &str, body: &str, token: &str) -> (u16, String) {
        let auth = format!("Bearer {token}");
        let r = http::request(
            self.server.http_port,
            "POST",
            path,
            &[
                ("Authorization", auth.as_str()),
                ("Content-Type", "application/json"),
            ],
            Some(body.as_bytes()),
            Duration::from_secs(10),
        )
        .unwrap_or_else(|e| panic!("POST {path}: {e}"));
        (r.status, r.text())
    }
}

/// The customer calls `dialed` (campaign DID or extension) and the answering
/// agent phone `agent` (auto answer) picks up; returns the live call id as
/// seen by the agent's token.
pub fn customer_calls(
    lab: &Lab,
    customer: &Baresip,
    dialed: &str,
    agent: &Baresip,
    token: &str,
) -> String {
    customer.dial(&lab.uri(dialed));
    agent.wait_event("CALL_ESTABLISHED", T);
    customer.wait_event("CALL_ESTABLISHED", T);
    let id = lab.wait_live_call(token);
    lab.wait_state(token, &id, "connected");
    id
}

pub fn sleep(secs: f64) {
    std::thread::sleep(Duration::from_secs_f64(secs));
}

// ---------------------------------------------------------------------------
// Audio: what a phone heard, per window of test time
// ---------------------------------------------------------------------------

/// Margin cut from both ends of every checked window (signalling and
/// jitter-buffer latency, clock mapping error).
pub const MARGIN: f64 = 0.5;

/// A phone's dump of one call (what it heard) mapped onto test time.
pub struct Heard {
    pub who: String,
    pub path: PathBuf,
    pub wav: Wav,
    /// Test time of the dump's first sample.
    pub start: Instant,
}

impl Heard {
    /// The newest `-dec` dump of `phone` (its last call, which must be over).
    /// Checks the dump spans the call (CALL_ESTABLISHED..CALL_CLOSED): audio
    /// missing from it would shift every window.
    pub fn last_call(phone: &Baresip, who: &str) -> Heard {
        let path = phone.received_wav();
        let h = Heard::from_path(&path, who);
        let est = phone.events_of("CALL_ESTABLISHED").last().map(|e| e.at);
        let closed = phone.events_of("CALL_CLOSED").last().map(|e| e.at);
        if let (Some(a), Some(b)) = (est, closed) {
            let span = b - a;
            assert!(
                h.wav.duration() >= span - 1.2,
                "{who}: the dump holds {:.2}s of audio but the call lasted {:.2}s: the phone \
                 did not receive RTP for {:.1}s (server media stalled, or the machine is \
                 overloaded); {} ({})",
                h.wav.duration(),
                span,
                span - h.wav.duration(),
                describe(&h.wav),
                path.display()
            );
        }
        h
    }

    /// A finished dump: its end (last write = call end) anchors the timeline.
    pub fn from_path(path: &Path, who: &str) -> Heard {
        // Wait until the file stops growing (baresip closes it at the call's end).
        let mut last = 0u64;
        for _ in 0..20 {
            let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            if len == last && len > 0 {
                break;
            }
            last = len;
            std::thread::sleep(Duration::from_millis(100));
        }
        let wav = read_wav(path).unwrap_or_else(|e| panic!("{who}: {e}"));
        let mtime = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .unwrap_or_else(|e| panic!("{who}: mtime of {}: {e}", path.display()));
        let age = SystemTime::now()
            .duration_since(mtime)
            .unwrap_or(Duration::ZERO);
        let end = Instant::now() - age;
        let start = end - Duration::from_secs_f64(wav.duration());
        eprintln!(
            "[actions] {who} heard: {} ({})",
            describe(&wav),
            path.display()
        );
        Heard {
            who: who.to_string(),
            path: path.to_path_buf(),
            wav,
            start,
        }
    }

    /// Seconds into the dump of a test instant.
    pub fn t(&self, at: Instant) -> f64 {
        if at >= self.start {
            (at - self.start).as_secs_f64()
        } else {
            -(self.start - at).as_secs_f64()
        }
    }

    /// The window [a, b] in dump seconds, shrunk by MARGIN on both sides.
    pub fn win(&self, a: Instant, b: Instant) -> (f64, f64) {
        let (t1, t2) = (self.t(a) + MARGIN, self.t(b) - MARGIN);
        eprintln!("[actions] {}: checking {t1:.2}-{t2:.2}s", self.who);
        assert!(
            t2 - t1 >= 0.5,
            "{}: window {:.2}-{:.2}s too short to judge (dump {:.2}s, {})",
            self.who,
            t1,
            t2,
            self.wav.duration(),
            self.path.display()
        );
        assert!(
            t1 >= -0.3 && t2 <= self.wav.duration() + 0.3,
            "{}: window {:.2}-{:.2}s is outside the dump (0-{:.2}s): the phone's call did not span it; {} ({})",
            self.who,
            t1,
            t2,
            self.wav.duration(),
            describe(&self.wav),
            self.path.display()
        );
        (t1, t2)
    }

    fn ctx(&self, what: &str, t1: f64, t2: f64) -> String {
        format!(
            "{} {what} in {:.1}-{:.1}s of its dump; heard: {} ({})",
            self.who,
            t1,
            t2,
            describe(&self.wav),
            self.path.display()
        )
    }

    /// `hz` is heard (alone, dominant) for at least `coverage` of [a, b].
    pub fn hears(&self, hz: f32, a: Instant, b: Instant, coverage: f64) -> &Self {
        let (t1, t2) = self.win(a, b);
        let c = tone_coverage(&self.wav, hz, t1, t2);
        assert!(
            c >= coverage,
            "{}",
            self.ctx(
                &format!(
                    "should hear {hz} Hz (coverage {:.0}% < {:.0}%)",
                    c * 100.0,
                    coverage * 100.0
                ),
                t1,
                t2
            )
        );
        self
    }

    /// `hz` is (almost) never dominant in [a, b].
    pub fn not_hears(&self, hz: f32, a: Instant, b: Instant) -> &Self {
        let (t1, t2) = self.win(a, b);
        let c = tone_coverage(&self.wav, hz, t1, t2);
        assert!(
            c <= 0.05,
            "{}",
            self.ctx(
                &format!("should not hear {hz} Hz (coverage {:.0}%)", c * 100.0),
                t1,
                t2
            )
        );
        self
    }

    /// No gap in [a, b]: no run of silent 10 ms frames longer than
    /// `max_ms` (a tone that stops for a moment while the server changes
    /// who hears whom would show as one).
    pub fn no_gap(&self, a: Instant, b: Instant, max_ms: u32) -> &Self {
        let (t1, t2) = self.win(a, b);
        let w = self.wav.window(t1, t2);
        let frame = (self.wav.rate / 100) as usize;
        let (mut run, mut longest, mut at) = (0u32, 0u32, 0usize);
        for (i, f) in w.chunks_exact(frame).enumerate() {
            let rms = (f.iter().map(|x| x * x).sum::<f32>() / f.len() as f32).sqrt();
            if rms < 0.02 {
                run += 10;
                if run > longest {
                    longest = run;
                    at = i;
                }
            } else {
                run = 0;
            }
        }
        assert!(
            longest <= max_ms,
            "{}",
            self.ctx(
                &format!(
                    "a gap of {longest} ms ending {:.2}s into the window (max {max_ms} ms)",
                    at as f64 / 100.0
                ),
                t1,
                t2
            )
        );
        self
    }

    /// [a, b] is silence (>= 90% of 100 ms blocks).
    pub fn silence(&self, a: Instant, b: Instant) -> &Self {
        let (t1, t2) = self.win(a, b);
        let c = silence_coverage(&self.wav, t1, t2);
        assert!(
            c >= 0.9,
            "{}",
            self.ctx(
                &format!("should hear silence (silent {:.0}%)", c * 100.0),
                t1,
                t2
            )
        );
        self
    }

    /// [a, b] is music: mostly not silent, and no party's tone.
    pub fn music(&self, a: Instant, b: Instant) -> &Self {
        let (t1, t2) = self.win(a, b);
        let s = silence_coverage(&self.wav, t1, t2);
        assert!(
            s <= 0.3,
            "{}",
            self.ctx(
                &format!("should hear music (but silent {:.0}%)", s * 100.0),
                t1,
                t2
            )
        );
        for hz in PARTY_TONES {
            let c = tone_coverage(&self.wav, hz, t1, t2);
            assert!(
                c <= 0.05,
                "{}",
                self.ctx(
                    &format!(
                        "should hear music, not a party's {hz} Hz tone ({:.0}%)",
                        c * 100.0
                    ),
                    t1,
                    t2
                )
            );
        }
        self
    }

    /// A mix: each of `present` carries >= 15% of the energy in at least 80%
    /// of 200 ms blocks of [a, b]; each of `absent` < 3% in 90% of them.
    pub fn mix(&self, present: &[f32], absent: &[f32], a: Instant, b: Instant) -> &Self {
        let (t1, t2) = self.win(a, b);
        let w = self.wav.window(t1, t2);
        let block = (self.wav.rate / 5) as usize;
        let blocks: Vec<&[f32]> = w.chunks_exact(block).collect();
        assert!(!blocks.is_empty());
        let n = blocks.len() as f64;
        let frac = |hz: f32, pred: &dyn Fn(f64) -> bool| {
            blocks
                .iter()
                .filter(|b| pred(tone_fraction(b, self.wav.rate, hz)))
                .count() as f64
                / n
        };
        let mut report = String::new();
        for hz in PARTY_TONES {
            let mean = blocks
                .iter()
                .map(|b| tone_fraction(b, self.wav.rate, hz))
                .sum::<f64>()
                / n;
            report.push_str(&format!(" {hz}Hz={:.0}%", mean * 100.0));
        }
        for &hz in present {
            let c = frac(hz, &|f| f >= 0.15);
            assert!(
                c >= 0.8,
                "{}",
                self.ctx(
                    &format!(
                        "should hear {hz} Hz in the mix ({:.0}% of blocks; mean energy shares:{report})",
                        c * 100.0
                    ),
                    t1,
                    t2
                )
            );
        }
        for &hz in absent {
            let c = frac(hz, &|f| f < 0.03);
            assert!(
                c >= 0.9,
                "{}",
                self.ctx(
                    &format!(
                        "should NOT hear {hz} Hz in the mix (absent in only {:.0}% of blocks; mean energy shares:{report})",
                        c * 100.0
                    ),
                    t1,
                    t2
                )
            );
        }
        self
    }
}

/// A stereo recording: left and right channels.
pub struct Stereo {
    pub rate: u32,
    pub channels: u16,
    pub left: Wav,
    pub right: Wav,
}

pub fn read_stereo(path: &Path) -> Stereo {
    let mut r = hound::WavReader::open(path)
        .unwrap_or_else(|e| panic!("recording {} is not a WAV: {e}", path.display()));
    let spec = r.spec();
    let ch = spec.channels.max(1) as usize;
    let all: Vec<i16> = r
        .samples::<i16>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("recording {}: {e}", path.display()));
    let chan = |k: usize| Wav {
        rate: spec.sample_rate,
        samples: all
            .iter()
            .skip(k.min(ch - 1))
            .step_by(ch)
            .map(|&s| s as f32 / 32768.0)
            .collect(),
    };
    Stereo {
        rate: spec.sample_rate,
        channels: spec.channels,
        left: chan(0),
        right: chan(1),
    }
}
