//! Spawning the switchboard binary with a generated TOML config.

use super::{free_port, http, kill_child, rtp_lease, sigterm, tail, wait_child, RtpLease, TestDir};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long to wait for the `switchboard ready ...` line.
pub const READY_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone)]
pub struct AgentCfg {
    pub username: String,
    pub name: String,
    pub password: String,
    pub sip_password: String,
    pub role: String,
    /// `audio = ...` (either | browser | phone) when set.
    pub audio: Option<String>,
}

impl AgentCfg {
    /// Agent with the conventional test credentials: password `pw<user>`,
    /// SIP password `secret<user>`, role `agent`.
    pub fn new(user: &str) -> AgentCfg {
        AgentCfg {
            username: user.to_string(),
            name: format!("Agent {}", user),
            password: format!("pw{}", user),
            sip_password: format!("secret{}", user),
            role: "agent".to_string(),
            audio: None,
        }
    }
    pub fn audio(mut self, audio: &str) -> AgentCfg {
        self.audio = Some(audio.to_string());
        self
    }
    pub fn role(mut self, role: &str) -> AgentCfg {
        self.role = role.to_string();
        self
    }
    pub fn name(mut self, name: &str) -> AgentCfg {
        self.name = name.to_string();
        self
    }
}

#[derive(Debug, Clone)]
pub struct TrunkCfg {
    pub name: String,
    /// "127.0.0.1:PORT" where outbound calls go.
    pub address: String,
    /// Source "ip:port" accepted without auth.
    pub inbound_from: Vec<String>,
    /// Extra raw `key = value` lines inside the [[trunks]] table.
    pub extra: String,
}

impl TrunkCfg {
    pub fn new(name: &str, address_port: u16, inbound_from_ports: &[u16]) -> TrunkCfg {
        TrunkCfg {
            name: name.to_string(),
            address: format!("127.0.0.1:{}", address_port),
            inbound_from: inbound_from_ports
                .iter()
                .map(|p| format!("127.0.0.1:{}", p))
                .collect(),
            extra: String::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct CampaignCfg {
    pub name: String,
    pub kind: String,
    pub did: Option<String>,
    pub auto_recording: bool,
    pub music_class: String,
    pub agents: Vec<String>,
    /// Extra raw `key = value` lines inside the [[campaigns]] table.
    pub extra: String,
}

impl CampaignCfg {
    pub fn inbound(name: &str, did: &str, agents: &[&str]) -> CampaignCfg {
        CampaignCfg {
            name: name.to_string(),
            kind: "inbound".to_string(),
            did: Some(did.to_string()),
            auto_recording: true,
            music_class: "default".to_string(),
            agents: agents.iter().map(|s| s.to_string()).collect(),
            extra: String::new(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ServerOpts {
    pub agents: Vec<AgentCfg>,
    pub trunks: Vec<TrunkCfg>,
    pub campaigns: Vec<CampaignCfg>,
    /// Raw TOML appended to the file (extra tables).
    pub extra_toml: String,
    /// Raw `key = value` lines appended inside [server].
    pub extra_server: String,
    /// RTP port range for the server (default: a leased 400-port range).
    pub rtp_range: Option<(u16, u16)>,
    /// Fixed ports instead of 0 (ephemeral).
    pub sip_port: Option<u16>,
    pub http_port: Option<u16>,
    /// RUST_LOG value (default "info").
    pub rust_log: Option<String>,
    /// Database URL (default: a SQLite file in the test directory).
    pub database: Option<String>,
    /// SIP bind address and public_ip (default 127.0.0.1), e.g. an address
    /// reachable from a network namespace.
    pub sip_host: Option<String>,
}

impl ServerOpts {
    pub fn new() -> ServerOpts {
        ServerOpts::default()
    }
    /// Agents with conventional credentials (see [`AgentCfg::new`]).
    pub fn with_agents(mut self, users: &[&str]) -> ServerOpts {
        for u in users {
            self.agents.push(AgentCfg::new(u));
        }
        self
    }
    pub fn agent(mut self, a: AgentCfg) -> ServerOpts {
        self.agents.push(a);
        self
    }
    pub fn trunk(mut self, t: TrunkCfg) -> ServerOpts {
        self.trunks.push(t);
        self
    }
    pub fn campaign(mut self, c: CampaignCfg) -> ServerOpts {
        self.campaigns.push(c);
        self
    }
}

fn q(s: &str) -> String {
    // TOML basic string
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn qlist(v: &[String]) -> String {
    format!(
        "[{}]",
        v.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
    )
}

/// Render the TOML config for `opts` rooted at `dir`.
pub fn render_toml(dir: &Path, opts: &ServerOpts, rtp: (u16, u16)) -> String {
    let mut t = String::new();
    t.push_str("[server]\n");
    t.push_str(&format!(
        "sip_addr = {}\n",
        q(&format!(
            "{}:{}",
            opts.sip_host.as_deref().unwrap_or("127.0.0.1"),
            opts.sip_port.unwrap_or(0)
        ))
    ));
    t.push_str(&format!(
        "http_addr = {}\n",
        q(&format!("127.0.0.1:{}", opts.http_port.unwrap_or(0)))
    ));
    let db = opts
        .database
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/sb.db", dir.display()));
    t.push_str(&format!("database = {}\n", q(&db)));
    t.push_str(&format!(
        "data_dir = {}\n",
        q(&format!("{}/data", dir.display()))
    ));
    t.push_str(&format!(
        "rtp_port_min = {}\nrtp_port_max = {}\n",
        rtp.0, rtp.1
    ));
    t.push_str(&format!(
        "realm = \"switchboard\"\npublic_ip = {}\n",
        q(opts.sip_host.as_deref().unwrap_or("127.0.0.1"))
    ));
    if !opts.extra_server.is_empty() {
        t.push_str(&opts.extra_server);
        t.push('\n');
    }
    for a in &opts.agents {
        t.push_str("\n[[agents]]\n");
        t.push_str(&format!("username = {}\n", q(&a.username)));
        t.push_str(&format!("name = {}\n", q(&a.name)));
        t.push_str(&format!("password = {}\n", q(&a.password)));
        t.push_str(&format!("sip_password = {}\n", q(&a.sip_password)));
        t.push_str(&format!("role = {}\n", q(&a.role)));
        if let Some(audio) = &a.audio {
            t.push_str(&format!("audio = {}\n", q(audio)));
        }
    }
    for tr in &opts.trunks {
        t.push_str("\n[[trunks]]\n");
        t.push_str(&format!("name = {}\n", q(&tr.name)));
        t.push_str(&format!("address = {}\n", q(&tr.address)));
        t.push_str(&format!("inbound_from = {}\n", qlist(&tr.inbound_from)));
        if !tr.extra.is_empty() {
            t.push_str(&tr.extra);
            t.push('\n');
        }
    }
    for c in &opts.campaigns {
        t.push_str("\n[[campaigns]]\n");
        t.push_str(&format!("name = {}\n", q(&c.name)));
        t.push_str(&format!("kind = {}\n", q(&c.kind)));
        if let Some(d) = &c.did {
            t.push_str(&format!("did = {}\n", q(d)));
        }
        t.push_str(&format!("auto_recording = {}\n", c.auto_recording));
        t.push_str(&format!("music_class = {}\n", q(&c.music_class)));
        t.push_str(&format!("agents = {}\n", qlist(&c.agents)));
        if !c.extra.is_empty() {
            t.push_str(&c.extra);
            t.push('\n');
        }
    }
    if !opts.extra_toml.is_empty() {
        t.push('\n');
        t.push_str(&opts.extra_toml);
        t.push('\n');
    }
    t
}

/// Parse `switchboard ready sip=127.0.0.1:PORT http=127.0.0.1:PORT`.
pub fn parse_ready(line: &str) -> Option<(u16, u16)> {
    let line = line.trim();
    let rest = line.strip_prefix("switchboard ready")?;
    let mut sip = None;
    let mut http = None;
    for tok in rest.split_whitespace() {
        if let Some(v) = tok.strip_prefix("sip=") {
            sip = v.rsplit(':').next().and_then(|p| p.parse().ok());
        } else if let Some(v) = tok.strip_prefix("http=") {
            http = v.rsplit(':').next().and_then(|p| p.parse().ok());
        }
    }
    Some((sip?, http?))
}

/// A running switchboard process. Drop kills it (SIGKILL) and reaps it.
pub struct Server {
    pub dir: PathBuf,
    pub config_path: PathBuf,
    pub log_path: PathBuf,
    pub opts: ServerOpts,
    pub rtp: (u16, u16),
    pub sip_port: u16,
    pub http_port: u16,
    child: Option<Child>,
    generation: u32,
    _rtp_lease: Option<RtpLease>,
}

impl Server {
    /// Path of the binary under test.
    pub fn binary() -> PathBuf {
        PathBuf::from(env!("CARGO_BIN_EXE_switchboard"))
    }

    /// Write the config into `dir` and start the server; panics (with the
    /// server log tail) if no ready line appears within 20 s.
    pub fn start(dir: &TestDir, opts: ServerOpts) -> Server {
        let lease = if opts.rtp_range.is_none() {
            Some(rtp_lease(400))
        } else {
            None
        };
        let rtp = opts
            .rtp_range
            .unwrap_or_else(|| lease.as_ref().unwrap().range());
        let d = dir.path().to_path_buf();
        std::fs::create_dir_all(d.join("data")).unwrap();
        let mut s = Server {
            config_path: d.join("switchboard.toml"),
            log_path: d.join("server.log"),
            dir: d,
            opts,
            rtp,
            sip_port: 0,
            http_port: 0,
            child: None,
            generation: 0,
            _rtp_lease: lease,
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let toml = render_toml(&self.dir, &self.opts, self.rtp);
        std::fs::write(&self.config_path, &toml).expect("write config");
        self.generation += 1;
        // server.log for the first run, server.2.log for the 1st restart, ...
        self.log_path = if self.generation == 1 {
            self.dir.join("server.log")
        } else {
            self.dir.join(format!("server.{}.log", self.generation))
        };
        let stdout_path = self.dir.join(format!("server.{}.stdout", self.generation));
        let log = std::fs::File::create(&self.log_path).expect("create server.log");
        let mut child = Command::new(Self::binary())
            .arg("--config")
            .arg(&self.config_path)
            .current_dir(&self.dir)
            .env(
                "RUST_LOG",
                self.opts.rust_log.clone().unwrap_or_else(|| "info".into()),
            )
            .env("RUST_BACKTRACE", "1")
            .env("NO_COLOR", "1") // plain server.log (tracing honours NO_COLOR)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {}", Self::binary().display(), e));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            let mut out = std::fs::File::create(&stdout_path).ok();
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let mut sent = false;
            loop {
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if let Some(f) = out.as_mut() {
                            let _ = f.write_all(line.as_bytes());
                        }
                        if !sent && line.starts_with("switchboard ready") {
                            sent = true;
                            let _ = tx.send(line.clone());
                        }
                    }
                }
            }
        });
        let deadline = std::time::Instant::now() + READY_TIMEOUT;
        let ready = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(l) => break Some(l),
                Err(mpsc::RecvTimeoutError::Disconnected) => break None,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if let Ok(Some(st)) = child.try_wait() {
                // give the reader a moment in case the line raced the exit
                if let Ok(l) = rx.recv_timeout(Duration::from_millis(200)) {
                    break Some(l);
                }
                let msg = format!(
                    "switchboard exited before ready ({}); log {}:\n{}",
                    st,
                    self.log_path.display(),
                    tail(&self.log_path, 40)
                );
                panic!("{}", msg);
            }
            if std::time::Instant::now() >= deadline {
                break None;
            }
        };
        let Some(line) = ready else {
            kill_child(&mut child);
            panic!(
                "switchboard printed no ready line within {:?}; log {}:\n{}",
                READY_TIMEOUT,
                self.log_path.display(),
                tail(&self.log_path, 40)
            );
        };
        let (sip, http) = parse_ready(&line).unwrap_or_else(|| panic!("bad ready line {:?}", line));
        self.sip_port = sip;
        self.http_port = http;
        self.child = Some(child);
        eprintln!(
            "[e2e] switchboard ready sip={} http={} (log {})",
            sip,
            http,
            self.log_path.display()
        );
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Is the process still running?
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// Panic with the log tail unless the process is still running.
    pub fn assert_alive(&mut self, context: &str) {
        if !self.is_alive() {
            panic!(
                "switchboard died ({}); log {}:\n{}",
                context,
                self.log_path.display(),
                tail(&self.log_path, 60)
            );
        }
    }

    /// SIGTERM, wait up to 5 s, then SIGKILL. Returns the exit code if any.
    pub fn stop(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        sigterm(&child);
        let code = wait_child(&mut child, Duration::from_secs(5));
        if code.is_none() {
            kill_child(&mut child);
        }
        code
    }

    /// SIGKILL the process, as a crash or `kill -9` would (nothing is
    /// flushed or closed), and reap it. `restart()` then starts it again.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_child(&mut child);
        }
    }

    /// Stop and start again on the same directory / database.
    /// Keeps the previous SIP and HTTP ports (so registered peers and clients
    /// keep working) unless the options fixed other ports.
    pub fn restart(&mut self) {
        let (sip, http) = (self.sip_port, self.http_port);
        self.stop();
        if self.opts.sip_port.is_none() {
            self.opts.sip_port = Some(sip);
        }
        if self.opts.http_port.is_none() {
            self.opts.http_port = Some(http);
        }
        self.spawn();
    }

    /// Stop and start again with fresh ephemeral ports.
    pub fn restart_new_ports(&mut self) {
        self.stop();
        self.opts.sip_port = None;
        self.opts.http_port = None;
        self.spawn();
    }

    /// Directory where recordings should appear.
    pub fn recordings_dir(&self) -> PathBuf {
        self.dir.join("data").join("recordings")
    }

    /// Full text of the current server log.
    pub fn log(&self) -> String {
        std::fs::read(&self.log_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    pub fn log_tail(&self, n: usize) -> String {
        tail(&self.log_path, n)
    }

    /// Raw HTTP request to the API. `path` starts with `/api/...`.
    /// Returns (status, JSON body; `Value::Null` for an empty body,
    /// `Value::String` for a non-JSON body). Status 0 = connection error.
    pub fn api(
        &self,
        method: &str,
        path: &str,
        json: Option<&Value>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let body = json.map(|j| serde_json::to_vec(j).unwrap());
        let auth = token.map(|t| format!("Bearer {}", t));
        let mut headers: Vec<(&str, &str)> = vec![("Accept", "application/json")];
        if body.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        if let Some(a) = auth.as_deref() {
            headers.push(("Authorization", a));
        }
        match http::request(
            self.http_port,
            method,
            path,
            &headers,
            body.as_deref(),
            Duration::from_secs(10),
        ) {
            Ok(r) => {
                let v = if r.body.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_slice(&r.body).unwrap_or_else(|_| Value::String(r.text()))
                };
                (r.status, v)
            }
            Err(e) => (0, Value::String(e)),
        }
    }

    /// POST /api/login; panics unless 200 with a token.
    pub fn login(&self, user: &str, password: &str) -> String {
        let (st, v) = self.api(
            "POST",
            "/api/login",
            Some(&serde_json::json!({"username": user, "password": password})),
            None,
        );
        assert_eq!(st, 200, "login {} failed: {} {}", user, st, v);
        v.get("token")
            .and_then(|t| t.as_str())
            .unwrap_or_else(|| panic!("login response without token: {}", v))
            .to_string()
    }

    /// `sip:<user>@127.0.0.1:<sip_port>`
    pub fn uri(&self, user: &str) -> String {
        format!("sip:{}@127.0.0.1:{}", user, self.sip_port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            kill_child(&mut c);
        }
        if std::thread::panicking() {
            eprintln!(
                "[e2e] server log {} (tail):\n{}",
                self.log_path.display(),
                tail(&self.log_path, 30)
            );
        }
    }
}

/// Convenience: a fresh free port (for trunk / customer addresses).
pub fn port() -> u16 {
    free_port()
}
