//! Headless baresip user agent (baresip-core 1.0.0) driven over ctrl_tcp.
//!
//! Audio in = a sox-generated tone WAV played once by `aufile` (60 s, 8 kHz
//! mono S16), audio out = `null` player; the `sndfile` filter dumps what the
//! UA hears to `rec/dump-<time>-dec.wav` (and what it sends to `-enc.wav`).
//! Events (CALL_INCOMING, CALL_RINGING, CALL_ESTABLISHED, CALL_CLOSED, ...)
//! are collected with timestamps by a background reader thread.

use super::{
    free_port, free_port_pair, http, kill_child, rtp_lease, tail, wait_child, wait_until, RtpLease,
};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Event {
    /// Seconds since this baresip was started.
    pub at: f64,
    /// "CALL_ESTABLISHED", ...
    pub kind: String,
    pub class: String,
    pub direction: String,
    pub peeruri: String,
    pub id: String,
    /// For CALL_CLOSED: the reason, e.g. "486 Rejected", "Connection reset by peer".
    pub param: String,
    pub raw: Value,
}

#[derive(Default)]
struct State {
    events: Vec<Event>,
    consumed: Vec<bool>,
    responses: HashMap<String, (bool, String)>,
    eof: bool,
}

type Shared = Arc<(Mutex<State>, Condvar)>;

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, State> {
    s.0.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Debug, Clone)]
pub struct BaresipOpts {
    pub user: String,
    /// Digest password (`auth_pass`), only used when `registrar_port` is set.
    pub sip_password: Option<String>,
    /// Server SIP port: AOR `sip:USER@127.0.0.1:PORT`, registers with `regint`.
    /// None: AOR is the UA's own address, no registration (`regint=0`).
    pub registrar_port: Option<u16>,
    /// Tone played as microphone (None = silence).
    pub tone_hz: Option<f32>,
    pub auto_answer: bool,
    /// Fixed SIP listen port (e.g. to act as the PSTN at a trunk address).
    pub sip_port: Option<u16>,
    /// Safety timeout: baresip quits by itself after this many seconds (`-t`).
    pub max_lifetime_s: u32,
    pub regint: u32,
    /// `call_max_calls` (a UA with 1 answers a 2nd call with 486).
    pub max_calls: u32,
    /// e.g. Some("tcp") -> `;transport=tcp` in the AOR.
    pub transport: Option<String>,
    /// Extra account parameters appended after the `>` (start with `;`).
    pub extra_account: String,
    /// Extra config lines.
    pub extra_config: String,
    /// Tone length in seconds.
    pub tone_secs: u32,
}

impl BaresipOpts {
    pub fn new(user: &str) -> BaresipOpts {
        BaresipOpts {
            user: user.to_string(),
            sip_password: None,
            registrar_port: None,
            tone_hz: None,
            auto_answer: true,
            sip_port: None,
            max_lifetime_s: 180,
            regint: 60,
            max_calls: 4,
            transport: None,
            extra_account: String::new(),
            extra_config: String::new(),
            tone_secs: 60,
        }
    }
    pub fn register(mut self, server_sip_port: u16, sip_password: &str) -> Self {
        self.registrar_port = Some(server_sip_port);
        self.sip_password = Some(sip_password.to_string());
        self
    }
    pub fn tone(mut self, hz: f32) -> Self {
        self.tone_hz = Some(hz);
        self
    }
    pub fn auto_answer(mut self, yes: bool) -> Self {
        self.auto_answer = yes;
        self
    }
    pub fn sip_port(mut self, p: u16) -> Self {
        self.sip_port = Some(p);
        self
    }
    pub fn max_calls(mut self, n: u32) -> Self {
        self.max_calls = n;
        self
    }
}

static TOKEN: AtomicU64 = AtomicU64::new(1);

pub struct Baresip {
    pub user: String,
    pub dir: PathBuf,
    pub rec_dir: PathBuf,
    pub log_path: PathBuf,
    pub sip_port: u16,
    pub http_port: u16,
    pub ctrl_port: u16,
    pub rtp: (u16, u16),
    pub opts: BaresipOpts,
    started: Instant,
    child: Option<Child>,
    ctrl: Mutex<TcpStream>,
    shared: Shared,
    _rtp_lease: RtpLease,
}

/// Generate an 8 kHz mono S16 WAV with sox (`hz` None = digital silence).
pub fn make_tone_wav(path: &Path, hz: Option<f32>, secs: u32) {
    let mut cmd = Command::new("sox");
    cmd.args([
        "-n",
        "-r",
        "8000",
        "-c",
        "1",
        "-b",
        "16",
        "-e",
        "signed-integer",
    ])
    .arg(path);
    match hz {
        Some(f) => cmd.args([
            "synth",
            &secs.to_string(),
            "sine",
            &format!("{}", f),
            "vol",
            "0.5",
        ]),
        None => cmd.args(["synth", &secs.to_string(), "sine", "440", "vol", "0"]),
    };
    let st = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run sox");
    assert!(st.success(), "sox failed to create {}", path.display());
}

impl Baresip {
    /// The contract helper: a UA registering to the server with digest.
    pub fn start(
        dir: &Path,
        user: &str,
        sip_password: &str,
        server_sip_port: u16,
        tone_hz: Option<f32>,
        auto_answer: bool,
    ) -> Baresip {
        let mut o = BaresipOpts::new(user)
            .register(server_sip_port, sip_password)
            .auto_answer(auto_answer);
        o.tone_hz = tone_hz;
        Baresip::with_opts(dir, o)
    }

    /// A UA without registration (AOR = its own address); reachable directly
    /// at `sip:USER@127.0.0.1:<sip_port>`.
    pub fn start_unregistered(
        dir: &Path,
        user: &str,
        tone_hz: Option<f32>,
        auto_answer: bool,
    ) -> Baresip {
        let mut o = BaresipOpts::new(user).auto_answer(auto_answer);
        o.tone_hz = tone_hz;
        Baresip::with_opts(dir, o)
    }

    /// Start with full options. `dir` is a parent directory; the UA uses
    /// `dir/baresip-<user>[-n]`.
    pub fn with_opts(parent: &Path, opts: BaresipOpts) -> Baresip {
        Baresip::with_opts_attempt(parent, opts, 1)
    }

    fn with_opts_attempt(parent: &Path, opts: BaresipOpts, attempt: u32) -> Baresip {
        let mut dir = parent.join(format!("baresip-{}", opts.user));
        let mut n = 1;
        while dir.exists() {
            n += 1;
            dir = parent.join(format!("baresip-{}-{}", opts.user, n));
        }
        let rec_dir = dir.join("rec");
        std::fs::create_dir_all(&rec_dir).expect("create baresip dir");
        let sip_port = opts.sip_port.unwrap_or_else(free_port_pair);
        let http_port = free_port();
        let ctrl_port = free_port();
        let rtp_lease = rtp_lease(40);
        let rtp = rtp_lease.range();
        let tone = dir.join("tone.wav");
        make_tone_wav(&tone, opts.tone_hz, opts.tone_secs);

        let config = format!(
            "poll_method\t\tepoll\n\
             sip_listen\t\t127.0.0.1:{sip_port}\n\
             call_local_timeout\t120\n\
             call_max_calls\t\t{max_calls}\n\
             audio_player\t\taubridge,play-{sip_port}\n\
             audio_source\t\taufile,{tone}\n\
             audio_alert\t\taubridge,alert-{sip_port}\n\
             ausrc_srate\t\t8000\n\
             auplay_srate\t\t8000\n\
             ausrc_channels\t\t1\n\
             auplay_channels\t\t1\n\
             audio_level\t\tno\n\
             rtp_ports\t\t{rtp_lo}-{rtp_hi}\n\
             rtp_stats\t\tyes\n\
             jitter_buffer_delay\t5-10\n\
             module_path\t\t/usr/lib/baresip/modules\n\
             module\t\t\thttpd.so\n\
             module\t\t\tg711.so\n\
             module\t\t\taufile.so\n\
             module\t\t\taubridge.so\n\
             module\t\t\tsndfile.so\n\
             module_tmp\t\tuuid.so\n\
             module_tmp\t\taccount.so\n\
             module_app\t\tmenu.so\n\
             module_app\t\tctrl_tcp.so\n\
             http_listen\t\t127.0.0.1:{http_port}\n\
             ctrl_tcp_listen\t\t127.0.0.1:{ctrl_port}\n\
             snd_path\t\t{rec}\n\
             net_interface\t\t127.0.0.1\n\
             {extra}\n",
            sip_port = sip_port,
            max_calls = opts.max_calls,
            tone = tone.display(),
            rtp_lo = rtp.0,
            rtp_hi = rtp.1,
            http_port = http_port,
            ctrl_port = ctrl_port,
            rec = rec_dir.display(),
            extra = opts.extra_config,
        );
        std::fs::write(dir.join("config"), config).unwrap();

        let transport = opts
            .transport
            .as_ref()
            .map(|t| format!(";transport={}", t))
            .unwrap_or_default();
        let answermode = if opts.auto_answer { "auto" } else { "manual" };
        let account = match opts.registrar_port {
            Some(p) => format!(
                "<sip:{user}@127.0.0.1:{p}{transport}>;auth_pass={pw};regint={regint};answermode={am};audio_codecs=PCMU,PCMA{extra}\n",
                user = opts.user,
                p = p,
                transport = transport,
                pw = opts.sip_password.clone().unwrap_or_default(),
                regint = opts.regint,
                am = answermode,
                extra = opts.extra_account,
            ),
            None => format!(
                "<sip:{user}@127.0.0.1:{p}{transport}>;regint=0;answermode={am};audio_codecs=PCMU,PCMA{extra}\n",
                user = opts.user,
                p = sip_port,
                transport = transport,
                am = answermode,
                extra = opts.extra_account,
            ),
        };
        std::fs::write(dir.join("accounts"), account).unwrap();

        let log_path = dir.join("baresip.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let log2 = log.try_clone().unwrap();
        let started = Instant::now();
        let mut child = Command::new("baresip")
            .arg("-f")
            .arg(&dir)
            .arg("-t")
            .arg(opts.max_lifetime_s.to_string())
            .arg("-s") // SIP trace into the log
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log2))
            .spawn()
            .expect("spawn baresip (apt-get install baresip-core)");

        // Connect to ctrl_tcp (bounded).
        let ctrl = wait_until(Duration::from_secs(10), Duration::from_millis(50), || {
            if let Ok(Some(_)) = child.try_wait() {
                return Some(Err(()));
            }
            TcpStream::connect(("127.0.0.1", ctrl_port)).ok().map(Ok)
        });
        let ctrl = match ctrl {
            Some(Ok(s)) => s,
            _ => {
                kill_child(&mut child);
                // baresip's TLS transport binds the SIP port + 1, which another
                // process (a browser's connections, say) can take between our
                // probe and baresip's bind: start again on another pair.
                if opts.sip_port.is_none()
                    && attempt < 4
                    && tail(&log_path, 30).contains("Address already in use")
                {
                    return Baresip::with_opts_attempt(parent, opts, attempt + 1);
                }
                panic!(
                    "baresip {} did not open ctrl_tcp port {}; log {}:\n{}",
                    opts.user,
                    ctrl_port,
                    log_path.display(),
                    tail(&log_path, 30)
                );
            }
        };
        let shared: Shared = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let reader = ctrl.try_clone().unwrap();
        let sh = shared.clone();
        std::thread::spawn(move || reader_loop(reader, sh, started));

        let b = Baresip {
            user: opts.user.clone(),
            dir,
            rec_dir,
            log_path,
            sip_port,
            http_port,
            ctrl_port,
            rtp,
            opts,
            started,
            child: Some(child),
            ctrl: Mutex::new(ctrl),
            shared,
            _rtp_lease: rtp_lease,
        };
        // httpd must answer too (used by reginfo).
        let ok = wait_until(Duration::from_secs(5), Duration::from_millis(50), || {
            http::request(
                b.http_port,
                "GET",
                "/?/reginfo",
                &[],
                None,
                Duration::from_secs(2),
            )
            .ok()
        });
        assert!(
            ok.is_some(),
            "baresip {} httpd not answering; log:\n{}",
            b.user,
            b.log_tail(30)
        );
        b
    }

    /// Own address: `sip:USER@127.0.0.1:<sip_port>` (for direct calls).
    pub fn uri(&self) -> String {
        format!("sip:{}@127.0.0.1:{}", self.user, self.sip_port)
    }

    /// Seconds since start (same clock as [`Event::at`]).
    pub fn now(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Send a ctrl_tcp command, wait (bounded, 10 s) for its response.
    /// Ok(data) if baresip answered ok=true, Err(data) otherwise.
    pub fn command(&self, cmd: &str, params: &str) -> Result<String, String> {
        let token = format!("t{}", TOKEN.fetch_add(1, Ordering::SeqCst));
        let msg = serde_json::json!({"command": cmd, "params": params, "token": token}).to_string();
        let frame = format!("{}:{},", msg.len(), msg);
        {
            let mut s = self.ctrl.lock().unwrap_or_else(|e| e.into_inner());
            s.write_all(frame.as_bytes())
                .map_err(|e| format!("ctrl write: {}", e))?;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut st = lock(&self.shared);
        loop {
            if let Some((ok, data)) = st.responses.remove(&token) {
                return if ok { Ok(data) } else { Err(data) };
            }
            if st.eof {
                return Err("ctrl connection closed".into());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(format!("no response to {} within 10 s", cmd));
            }
            st = self
                .shared
                .1
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn must(&self, cmd: &str, params: &str) -> String {
        self.command(cmd, params).unwrap_or_else(|e| {
            panic!(
                "baresip {}: `{} {}` failed: {}\nlog:\n{}",
                self.user,
                cmd,
                params,
                e,
                self.log_tail(30)
            )
        })
    }

    pub fn dial(&self, uri: &str) {
        self.must("dial", uri);
    }
    pub fn accept(&self) {
        self.must("accept", "");
    }
    pub fn hangup(&self) {
        self.must("hangup", "");
    }
    pub fn hold(&self) {
        self.must("hold", "");
    }
    pub fn resume(&self) {
        self.must("resume", "");
    }
    /// Blind transfer (REFER) of the current call.
    pub fn transfer(&self, uri: &str) {
        self.must("transfer", uri);
    }
    pub fn listcalls(&self) -> String {
        self.command("listcalls", "").unwrap_or_else(|e| e)
    }

    /// `/?/reginfo` through httpd (HTML text), e.g. "sip:1001@127.0.0.1:5080 OK Expires 60s".
    pub fn reginfo(&self) -> String {
        http::request(
            self.http_port,
            "GET",
            "/?/reginfo",
            &[],
            None,
            Duration::from_secs(3),
        )
        .map(|r| strip_ansi(&r.text()))
        .unwrap_or_default()
    }

    /// Poll reginfo until it shows "OK" (bounded); panics with the log otherwise.
    pub fn wait_registered(&self, timeout: Duration) {
        let ok = wait_until(timeout, Duration::from_millis(100), || {
            let r = self.reginfo();
            if is_registered(&r) {
                Some(r)
            } else {
                None
            }
        });
        if ok.is_none() {
            panic!(
                "baresip {} not registered within {:?}; reginfo: {:?}\nlog:\n{}",
                self.user,
                timeout,
                self.reginfo(),
                self.log_tail(60)
            );
        }
    }

    /// All events so far.
    pub fn events(&self) -> Vec<Event> {
        lock(&self.shared).events.clone()
    }

    /// Events of one kind so far (consumed or not).
    pub fn events_of(&self, kind: &str) -> Vec<Event> {
        self.events()
            .into_iter()
            .filter(|e| e.kind == kind)
            .collect()
    }

    /// Wait for the earliest not-yet-consumed event of `kind`, mark it consumed.
    pub fn try_wait_event(&self, kind: &str, timeout: Duration) -> Option<Event> {
        let deadline = Instant::now() + timeout;
        let mut st = lock(&self.shared);
        loop {
            let idx = (0..st.events.len()).find(|&i| !st.consumed[i] && st.events[i].kind == kind);
            if let Some(i) = idx {
                st.consumed[i] = true;
                return Some(st.events[i].clone());
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            st = self
                .shared
                .1
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Like [`try_wait_event`] but panics with the event list and log on timeout.
    pub fn wait_event(&self, kind: &str, timeout: Duration) -> Event {
        match self.try_wait_event(kind, timeout) {
            Some(e) => e,
            None => panic!(
                "baresip {}: no {} within {:?}; events: {}\nlog tail:\n{}",
                self.user,
                kind,
                timeout,
                self.event_summary(),
                self.log_tail(60)
            ),
        }
    }

    /// True if no (unconsumed) event of `kind` arrives within `dur`.
    pub fn no_event_within(&self, kind: &str, dur: Duration) -> bool {
        let deadline = Instant::now() + dur;
        let mut st = lock(&self.shared);
        loop {
            if (0..st.events.len()).any(|i| !st.consumed[i] && st.events[i].kind == kind) {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            st = self
                .shared
                .1
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// One line per call event: "t=1.23 CALL_ESTABLISHED sip:... (param)".
    pub fn event_summary(&self) -> String {
        let st = lock(&self.shared);
        st.events
            .iter()
            .filter(|e| e.class == "call" && e.kind != "CALL_RTCP")
            .map(|e| format!("\n  t={:.2} {} {} ({})", e.at, e.kind, e.peeruri, e.param))
            .collect()
    }

    fn newest(&self, suffix: &str) -> Option<PathBuf> {
        let mut v: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&self.rec_dir)
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .map(|n| n.starts_with("dump-") && n.ends_with(suffix))
                    .unwrap_or(false)
            })
            .filter_map(|p| {
                std::fs::metadata(&p)
                    .and_then(|m| m.modified())
                    .ok()
                    .map(|t| (t, p))
            })
            .collect();
        v.sort();
        v.pop().map(|(_, p)| p)
    }

    /// Newest `dump-*-dec.wav` (what this UA heard). Panics if none.
    pub fn received_wav(&self) -> PathBuf {
        self.newest("-dec.wav").unwrap_or_else(|| {
            panic!(
                "baresip {}: no dump-*-dec.wav in {}",
                self.user,
                self.rec_dir.display()
            )
        })
    }

    /// Newest `dump-*-enc.wav` (what this UA sent).
    pub fn sent_wav(&self) -> PathBuf {
        self.newest("-enc.wav").unwrap_or_else(|| {
            panic!(
                "baresip {}: no dump-*-enc.wav in {}",
                self.user,
                self.rec_dir.display()
            )
        })
    }

    /// All `dump-*-dec.wav` files, oldest first.
    pub fn received_wavs(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&self.rec_dir)
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        v.retain(|p| p.to_string_lossy().ends_with("-dec.wav"));
        v.sort();
        v
    }

    pub fn log(&self) -> String {
        std::fs::read(&self.log_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    pub fn log_tail(&self, n: usize) -> String {
        tail(&self.log_path, n)
    }

    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// Quit gracefully (unregisters, closes the WAV dumps), bounded; then kill.
    pub fn quit(&mut self) {
        if let Some(mut c) = self.child.take() {
            if let Ok(mut s) = self.ctrl.lock() {
                let msg = r#"{"command":"quit","params":"","token":"quit"}"#;
                let _ = s.set_write_timeout(Some(Duration::from_secs(1)));
                let _ = s.write_all(format!("{}:{},", msg.len(), msg).as_bytes());
            }
            if wait_child(&mut c, Duration::from_secs(3)).is_none() {
                kill_child(&mut c);
            }
        }
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        self.quit();
        if let Ok(s) = self.ctrl.lock() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        if std::thread::panicking() {
            eprintln!(
                "[e2e] baresip {} events:{}\n  log {}",
                self.user,
                self.event_summary(),
                self.log_path.display()
            );
        }
    }
}

/// Remove ANSI escape sequences (baresip colours its menu output).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\u{1b}' {
            if it.peek() == Some(&'[') {
                it.next();
                // parameters and intermediates, then one final byte 0x40..0x7e
                for d in it.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// reginfo text shows a UA line with the word OK (e.g. "> sip:1001@127.0.0.1:5080 OK Expires 60s").
pub fn is_registered(reginfo: &str) -> bool {
    reginfo
        .lines()
        .any(|l| l.trim_start().starts_with('>') && l.split_whitespace().any(|w| w == "OK"))
}

fn reader_loop(mut s: TcpStream, shared: Shared, started: Instant) {
    let mut buf: Vec<u8> = Vec::new();
    let mut tmp = [0u8; 8192];
    loop {
        match s.read(&mut tmp) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
        // netstrings: <len>:<payload>,
        while let Some(colon) = buf.iter().position(|&b| b == b':') {
            let Ok(len) = std::str::from_utf8(&buf[..colon])
                .unwrap_or("x")
                .trim()
                .parse::<usize>()
            else {
                // desync: drop one byte and retry
                buf.remove(0);
                continue;
            };
            if buf.len() < colon + 1 + len + 1 {
                break;
            }
            let payload = buf[colon + 1..colon + 1 + len].to_vec();
            buf.drain(..colon + 1 + len + 1);
            let Ok(v) = serde_json::from_slice::<Value>(&payload) else {
                continue;
            };
            let mut st = lock(&shared);
            if v.get("response").and_then(|x| x.as_bool()) == Some(true) {
                let token = v
                    .get("token")
                    .and_then(|x| x.as_str())
                    .unwrap_or("")
                    .to_string();
                let ok = v.get("ok").and_then(|x| x.as_bool()).unwrap_or(false);
                let data = v
                    .get("data")
                    .and_then(|x| x.as_str())
                    .unwrap_or("")
                    .to_string();
                st.responses.insert(token, (ok, data));
            } else if v.get("event").and_then(|x| x.as_bool()) == Some(true) {
                let g = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
                let e = Event {
                    at: started.elapsed().as_secs_f64(),
                    kind: g("type"),
                    class: g("class"),
                    direction: g("direction"),
                    peeruri: g("peeruri"),
                    id: g("id"),
                    param: g("param"),
                    raw: v.clone(),
                };
                st.events.push(e);
                st.consumed.push(false);
            }
            drop(st);
            shared.1.notify_all();
        }
    }
    lock(&shared).eof = true;
    shared.1.notify_all();
}
