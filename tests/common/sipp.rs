//! SIPp (sip-tester 3.6.1) helpers: bounded foreground runs with parsed
//! statistics, background UAS processes, REGISTER-with-digest runs.

use super::{
    free_port, kill_child, rtp_lease, scenarios_dir, signal, tail, wait_child, wait_until, RtpLease,
};
use std::collections::HashMap;
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Result of one sipp run.
#[derive(Debug, Clone)]
pub struct SippRun {
    pub label: String,
    /// sipp exit code: 0 = all calls OK, 1 = some failed, 97/99/-1/-2 see README;
    /// -9 when we had to kill it at the timeout.
    pub code: i32,
    pub timed_out: bool,
    /// Last row of the `-trace_stat` CSV, header -> value.
    pub stats: HashMap<String, String>,
    pub stat_path: PathBuf,
    pub msg_path: PathBuf,
    pub err_path: PathBuf,
    pub screen_path: PathBuf,
    pub out_path: PathBuf,
    pub local_port: u16,
}

impl SippRun {
    pub fn stat(&self, key: &str) -> Option<u64> {
        self.stats
            .get(key)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .map(|f| f as u64)
    }
    pub fn successful(&self) -> u64 {
        self.stat("SuccessfulCall(C)").unwrap_or(0)
    }
    pub fn failed(&self) -> u64 {
        self.stat("FailedCall(C)").unwrap_or(0)
    }
    /// Message trace (`-trace_msg`), for failure reports.
    pub fn messages(&self) -> String {
        std::fs::read(&self.msg_path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }
    pub fn diagnostics(&self) -> String {
        format!(
            "sipp `{}` exit={} timed_out={} successful={} failed={}\n--- errors ({}):\n{}\n--- messages ({}) tail:\n{}\n--- stdout tail:\n{}",
            self.label,
            self.code,
            self.timed_out,
            self.successful(),
            self.failed(),
            self.err_path.display(),
            tail(&self.err_path, 20),
            self.msg_path.display(),
            tail(&self.msg_path, 80),
            tail(&self.out_path, 20),
        )
    }
    /// Panic with diagnostics unless exit code 0 and no failed calls.
    pub fn assert_ok(&self) {
        assert!(
            self.code == 0 && self.failed() == 0 && !self.timed_out,
            "sipp run failed:\n{}",
            self.diagnostics()
        );
    }
}

/// Parse a sipp `-trace_stat` CSV (';'-separated); returns the last row.
pub fn parse_stat_csv(path: &Path) -> HashMap<String, String> {
    let s = std::fs::read_to_string(path).unwrap_or_default();
    let mut lines = s.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return HashMap::new();
    };
    let Some(last) = lines.next_back() else {
        return HashMap::new();
    };
    header
        .split(';')
        .zip(last.split(';'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// `uas_rr.xml` -> tests/scenarios/uas_rr.xml; absolute paths kept;
/// anything without ".xml" is a built-in scenario name (`-sn`).
fn scenario_args(scenario: &str) -> Vec<String> {
    if scenario.ends_with(".xml") {
        let p = Path::new(scenario);
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            scenarios_dir().join(scenario)
        };
        assert!(p.exists(), "scenario {} not found", p.display());
        vec!["-sf".into(), p.display().to_string()]
    } else {
        vec!["-sn".into(), scenario.into()]
    }
}

fn has(args: &[String], flag: &str) -> bool {
    args.iter().any(|a| a == flag)
}

fn value_of(args: &[String], flag: &str) -> Option<String> {
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

struct Prepared {
    cmd: Command,
    run: SippRun,
    lease: Option<RtpLease>,
}

fn prepare(
    dir: &Path,
    label: &str,
    scenario: &str,
    remote: Option<&str>,
    args: &[String],
    timeout: Duration,
) -> Prepared {
    let mut all: Vec<String> = scenario_args(scenario);
    if let Some(r) = remote {
        all.push(r.to_string());
    }
    all.extend(args.iter().cloned());
    let local_port = match value_of(&all, "-p") {
        Some(p) => p.parse().expect("-p port"),
        None => {
            let p = free_port();
            all.push("-p".into());
            all.push(p.to_string());
            p
        }
    };
    if !has(&all, "-i") {
        all.extend(["-i".into(), "127.0.0.1".into()]);
    }
    if !has(&all, "-mi") {
        all.extend(["-mi".into(), "127.0.0.1".into()]);
    }
    let mut lease = None;
    if !has(&all, "-mp") {
        // sipp binds -mp, -mp+1 (RTCP) and -mp+2, -mp+3 (video) at start
        let l = rtp_lease(10);
        all.extend(["-mp".into(), l.lo.to_string()]);
        lease = Some(l);
    }
    if !has(&all, "-timeout") {
        let secs = timeout.as_secs().saturating_sub(1).max(1);
        all.extend(["-timeout".into(), format!("{}s", secs)]);
    }
    let stat_path = dir.join(format!("{}_stat.csv", label));
    let msg_path = dir.join(format!("{}_msg.log", label));
    let err_path = dir.join(format!("{}_err.log", label));
    let screen_path = dir.join(format!("{}_screen.log", label));
    let out_path = dir.join(format!("{}_out.log", label));
    all.extend([
        "-nostdin".into(),
        "-trace_stat".into(),
        "-stf".into(),
        stat_path.display().to_string(),
        "-fd".into(),
        "1".into(),
        "-trace_msg".into(),
        "-message_file".into(),
        msg_path.display().to_string(),
        "-trace_err".into(),
        "-error_file".into(),
        err_path.display().to_string(),
        "-trace_screen".into(),
        "-screen_file".into(),
        screen_path.display().to_string(),
    ]);
    std::fs::write(
        dir.join(format!("{}_cmd.txt", label)),
        format!("sipp {}\n", all.join(" ")),
    )
    .ok();
    let out = std::fs::File::create(&out_path).expect("create sipp out");
    let out2 = out.try_clone().unwrap();
    let mut cmd = Command::new("sipp");
    cmd.args(&all)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(out2));
    Prepared {
        cmd,
        run: SippRun {
            label: label.to_string(),
            code: -999,
            timed_out: false,
            stats: HashMap::new(),
            stat_path,
            msg_path,
            err_path,
            screen_path,
            out_path,
            local_port,
        },
        lease,
    }
}

pub struct Sipp;

/// Did sipp fail because a socket could not be bound?
fn bind_failed(run: &SippRun) -> bool {
    let text = format!(
        "{}\n{}",
        std::fs::read_to_string(&run.err_path).unwrap_or_default(),
        std::fs::read_to_string(&run.out_path).unwrap_or_default()
    );
    text.contains("Unable to bind") || text.contains("Address already in use")
}

/// Raw A-law (no header) tone file for sipp's `rtp_stream` (8 kHz mono).
pub fn make_alaw_tone(path: &Path, hz: f32, secs: u32) {
    let st = Command::new("sox")
        .args(["-n", "-r", "8000", "-c", "1", "-t", "al"])
        .arg(path)
        .args([
            "synth",
            &secs.to_string(),
            "sine",
            &format!("{}", hz),
            "vol",
            "0.5",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run sox");
    assert!(st.success(), "sox failed to create {}", path.display());
}

impl Sipp {
    /// Copy tests/scenarios/`name` into `dir`, replacing each `(placeholder, value)`;
    /// returns the absolute path of the copy (pass it as the scenario).
    pub fn scenario_with(dir: &Path, name: &str, subst: &[(&str, &str)]) -> String {
        let mut s = std::fs::read_to_string(scenarios_dir().join(name)).expect("read scenario");
        for (k, v) in subst {
            s = s.replace(k, v);
        }
        let out = dir.join(name);
        std::fs::write(&out, s).unwrap();
        out.display().to_string()
    }

    /// uac_basic_rr_rtp.xml with a generated `hz` A-law tone streamed as RTP
    /// (the UAC hangs up after -d ms).
    pub fn rtp_uac_scenario(dir: &Path, hz: f32) -> String {
        Sipp::rtp_scenario(dir, "uac_basic_rr_rtp.xml", hz)
    }

    /// Copy of an RTP-streaming scenario (`@ALAW_FILE@` placeholder) with a
    /// generated `hz` A-law tone, e.g. "uac_wait_bye_rtp.xml".
    pub fn rtp_scenario(dir: &Path, name: &str, hz: f32) -> String {
        let alaw = dir.join(format!("tone{}.alaw", hz as u32));
        make_alaw_tone(&alaw, hz, 5);
        Sipp::scenario_with(dir, name, &[("@ALAW_FILE@", &alaw.display().to_string())])
    }

    /// Run sipp in the foreground, bounded by `timeout` (killed after it).
    /// `scenario`: "uac_basic_rr.xml" (from tests/scenarios), an absolute path,
    /// or a built-in name ("uac", "uas"). `remote`: "127.0.0.1:PORT".
    /// Adds -i/-p/-mi/-mp/-timeout unless given, plus trace files named
    /// `<label>_{stat.csv,msg.log,err.log,screen.log,out.log}` in `dir`.
    pub fn run(
        dir: &Path,
        label: &str,
        scenario: &str,
        remote: Option<&str>,
        args: &[&str],
        timeout: Duration,
    ) -> SippRun {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut p = prepare(dir, label, scenario, remote, &args, timeout);
            let mut child = p
                .cmd
                .spawn()
                .expect("spawn sipp (apt-get install sip-tester)");
            match wait_child(&mut child, timeout) {
                Some(code) => p.run.code = code,
                None => {
                    p.run.timed_out = true;
                    kill_child(&mut child);
                    p.run.code = -9;
                }
            }
            p.run.stats = parse_stat_csv(&p.run.stat_path);
            drop(p.lease);
            // A port taken by another process between our probe and sipp's
            // bind is a harness race, not a test result: retry (new ports).
            if p.run.code != 0 && attempt < 3 && bind_failed(&p.run) {
                eprintln!("[e2e] sipp {}: port already in use, retrying", label);
                continue;
            }
            return p.run;
        }
    }

    /// REGISTER with digest for each (user, password) pair using
    /// reg_uac_auth.xml; one call per user. `transport`: "u1" or "t1".
    pub fn register(
        dir: &Path,
        label: &str,
        server_sip_port: u16,
        users: &[(&str, &str)],
        transport: &str,
        timeout: Duration,
    ) -> SippRun {
        let csv = dir.join(format!("{}_users.csv", label));
        let mut s = String::from("SEQUENTIAL\n");
        for (u, pw) in users {
            s.push_str(&format!(
                "{u};[authentication username={u} password={pw}]\n",
                u = u,
                pw = pw
            ));
        }
        std::fs::write(&csv, s).unwrap();
        let m = users.len().to_string();
        let csv_s = csv.display().to_string();
        Sipp::run(
            dir,
            label,
            "reg_uac_auth.xml",
            Some(&format!("127.0.0.1:{}", server_sip_port)),
            &["-inf", &csv_s, "-m", &m, "-r", "10", "-t", transport],
            timeout,
        )
    }

    /// Start sipp in the background (e.g. a UAS). If `-p` is not in `args` a
    /// free port is chosen. Waits (bounded, 5 s) until it has bound its UDP port.
    pub fn spawn(
        dir: &Path,
        label: &str,
        scenario: &str,
        remote: Option<&str>,
        args: &[&str],
        max_lifetime: Duration,
    ) -> SippProc {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let p = prepare(dir, label, scenario, remote, &args, max_lifetime);
            let mut cmd = p.cmd;
            let mut child = cmd.spawn().expect("spawn sipp");
            let port = p.run.local_port;
            let bound = wait_until(Duration::from_secs(5), Duration::from_millis(25), || {
                if let Ok(Some(_)) = child.try_wait() {
                    return Some(false);
                }
                // The port is taken once sipp has bound it (TCP with `-t t1`).
                let tcp = args.windows(2).any(|w| w[0] == "-t" && w[1] == "t1");
                let taken = if tcp {
                    std::net::TcpListener::bind(("127.0.0.1", port)).is_err()
                } else {
                    UdpSocket::bind(("127.0.0.1", port)).is_err()
                };
                if taken {
                    Some(true)
                } else {
                    None
                }
            });
            // sipp binds its media sockets around the same time: make sure it
            // is still running a moment later.
            let alive = bound == Some(true) && {
                std::thread::sleep(Duration::from_millis(150));
                matches!(child.try_wait(), Ok(None))
            };
            if !alive {
                kill_child(&mut child);
                if attempt < 3 && bind_failed(&p.run) {
                    eprintln!("[e2e] sipp {}: port already in use, retrying", label);
                    continue;
                }
                panic!(
                    "sipp {} did not start (port {}):\n{}\n{}",
                    label,
                    port,
                    tail(&p.run.out_path, 30),
                    tail(&p.run.err_path, 10)
                );
            }
            return SippProc {
                child: Some(child),
                run: p.run,
                started: Instant::now(),
                _lease: p.lease,
            };
        }
    }

    /// Background UAS answering every INVITE (uas_rr.xml: mirrors Record-Route).
    /// `port`: fixed SIP port (e.g. the trunk address) or None.
    /// `rtp_echo`: echo received RTP back (`-rtp_echo`).
    pub fn uas(
        dir: &Path,
        label: &str,
        port: Option<u16>,
        rtp_echo: bool,
        extra: &[&str],
    ) -> SippProc {
        let mut args: Vec<String> = Vec::new();
        if let Some(p) = port {
            args.push("-p".into());
            args.push(p.to_string());
        }
        if rtp_echo {
            args.push("-rtp_echo".into());
        }
        args.extend(extra.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        Sipp::spawn(
            dir,
            label,
            "uas_rr.xml",
            None,
            &refs,
            Duration::from_secs(300),
        )
    }
}

/// A background sipp. Drop kills it.
pub struct SippProc {
    child: Option<Child>,
    pub run: SippRun,
    started: Instant,
    _lease: Option<RtpLease>,
}

impl SippProc {
    pub fn port(&self) -> u16 {
        self.run.local_port
    }

    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// Current statistics (from the per-second CSV dump).
    pub fn stats_now(&self) -> HashMap<String, String> {
        parse_stat_csv(&self.run.stat_path)
    }

    /// Number of calls this sipp has seen so far (from the stats CSV).
    pub fn total_calls(&self) -> u64 {
        self.stats_now()
            .get("TotalCallCreated")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// Wait for the process to end by itself (bounded), else SIGUSR1 (soft
    /// exit) then kill. Returns the final run with parsed stats.
    pub fn finish(mut self, timeout: Duration) -> SippRun {
        let mut run = self.run.clone();
        if let Some(mut c) = self.child.take() {
            match wait_child(&mut c, timeout) {
                Some(code) => run.code = code,
                None => {
                    signal(&c, "USR1");
                    match wait_child(&mut c, Duration::from_secs(3)) {
                        Some(code) => run.code = code,
                        None => {
                            run.timed_out = true;
                            kill_child(&mut c);
                            run.code = -9;
                        }
                    }
                }
            }
        }
        run.stats = parse_stat_csv(&run.stat_path);
        run
    }

    /// Stop now: SIGUSR1, short wait, kill.
    pub fn stop(self) -> SippRun {
        self.finish(Duration::from_millis(0))
    }

    /// Message trace so far.
    pub fn messages(&self) -> String {
        self.run.messages()
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }
}

impl Drop for SippProc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            kill_child(&mut c);
        }
    }
}
