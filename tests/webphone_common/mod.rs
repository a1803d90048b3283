//! Shared helpers of the browser webphone end-to-end tests
//! (`tests/webphone*.rs`): the server with browser audio on, a headless
//! Chromium console whose fake microphone plays a tone, and what the page
//! hears (getStats counters, an analyser's peak, the level meters).

#![allow(dead_code)]

use serde_json::Value;

use crate::actions_common::{campaign, Lab, T};
use crate::common::{free_port, AgentCfg, TestDir};
use crate::console_driver::Browser;

/// The browser's microphone tone (not a note of the hold music, whose
/// melody is 392-784 Hz with second harmonics up to 1568 Hz, nor a party's).
pub const BROWSER_HZ: f32 = 1250.0;
/// The microphone tone of the agent's second console.
pub const TAKEOVER_HZ: f32 = 1500.0;

/// An address of this machine that Chromium uses for its own candidates
/// (it skips loopback), so the ICE checks reach our candidate directly.
pub fn host_ip() -> String {
    let out = std::process::Command::new("hostname")
        .arg("-I")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
    out.split_whitespace()
        .find(|a| {
            a.parse::<std::net::Ipv4Addr>()
                .is_ok_and(|ip| !ip.is_loopback())
        })
        .unwrap_or("127.0.0.1")
        .to_string()
}

pub fn start(dir: &TestDir) -> (Lab, Browser) {
    let lab = lab(dir, "");
    let b = console(dir, &lab, BROWSER_HZ, true);
    (lab, b)
}

/// The server with browser audio on a free UDP port (and `extra` settings).
pub fn lab(dir: &TestDir, extra: &str) -> Lab {
    lab_accounts(dir, extra, Vec::new())
}

/// [`lab`] with more accounts (e.g. an admin).
pub fn lab_accounts(dir: &TestDir, extra: &str, accounts: Vec<AgentCfg>) -> Lab {
    let webrtc_port = free_port();
    let extra = format!(
        "webrtc_addr = \"0.0.0.0:{webrtc_port}\"\nwebrtc_public_ip = \"{}\"\n{extra}",
        host_ip()
    );
    Lab::start_accounts(
        dir,
        vec![campaign("support", "5000", &["1001"], false)],
        std::env::var("SB_WEBPHONE_LOG").ok().as_deref(),
        &extra,
        accounts,
    )
}

/// A Chromium whose fake microphone plays `hz` (or, without `allow_mic`,
/// which denies the microphone), logged in as agent 1001.
pub fn console(dir: &TestDir, lab: &Lab, hz: f32, allow_mic: bool) -> Browser {
    let base = format!("http://127.0.0.1:{}/", lab.server.http_port);
    console_at(dir, &base, hz, allow_mic)
}

/// [`console`] at `base` (`http://…/` or `https://…/`).
pub fn console_at(dir: &TestDir, base: &str, hz: f32, allow_mic: bool) -> Browser {
    console_as(dir, base, "1001", hz, allow_mic)
}

/// [`console_at`] logged in as `user` (password `pw<user>`).
pub fn console_as(dir: &TestDir, base: &str, user: &str, hz: f32, allow_mic: bool) -> Browser {
    let tone = dir.join(&format!("browser-tone-{hz}.wav"));
    crate::common::baresip::make_tone_wav(&tone, Some(hz), 120);
    let mut flags = vec![
        "--use-fake-device-for-media-stream".to_string(),
        format!("--use-file-for-fake-audio-capture={}", tone.display()),
        // The HTTPS test's certificate is self-signed.
        "--ignore-certificate-errors".to_string(),
    ];
    flags.push(match allow_mic {
        true => "--use-fake-ui-for-media-stream".into(),
        false => "--deny-permission-prompts".into(),
    });
    let b = Browser::start_with_args(dir, 1366, 900, &flags);
    b.goto(base);
    b.wait_visible("#login-username", T);
    b.type_text("#login-username", user);
    b.type_text("#login-password", &format!("pw{user}"));
    b.click("#login-submit");
    b.wait_visible("#app-header", T);
    b.wait_attr("#ws-status", "data-state", "open", T);
    // Supervisors land on the wall: browser audio is on the agent view.
    b.click("#nav-agent");
    b.wait_visible("#webphone-panel", T);
    // The browser's echo cancellation, noise suppression and gain control
    // are on by default; they fade a steady test tone within seconds (a
    // voice is what they keep), so the tests turn them off.
    assert_eq!(b.prop("#webphone-processing", "checked"), Value::Bool(true));
    b.click("#webphone-processing");
    b
}

/// A counter of the page's inbound audio (getStats inbound-rtp), e.g.
/// `packetsReceived` or `totalAudioEnergy`.
pub fn inbound(b: &Browser, counter: &str) -> f64 {
    b.exec_async(
        r#"
        const done = arguments[arguments.length - 1];
        const counter = arguments[0];
        window.webphone.pc().getStats().then((st) => {
          let n = 0;
          st.forEach((r) => { if (r.type === 'inbound-rtp' && r.kind === 'audio') n = r[counter] || 0; });
          done(n);
        });
        "#,
        vec![serde_json::json!(counter)],
    )
    .as_f64()
    .unwrap_or(0.0)
}

/// The page's input (`in`) or output (`out`) level meter, 0..1.
pub fn level(b: &Browser, which: &str) -> f64 {
    b.exec(&format!("return window.webphone.levels.{which}"), vec![])
        .as_f64()
        .unwrap_or(0.0)
}

/// The dominant frequency of what the page receives, and the receiver's
/// counters (getStats inbound-rtp).
pub fn page_hears(b: &Browser) -> Value {
    b.exec_async(
        r#"
        const done = arguments[arguments.length - 1];
        const ctx = new AudioContext();
        const src = ctx.createMediaStreamSource(window.webphone.remote);
        const an = ctx.createAnalyser();
        an.fftSize = 8192;
        src.connect(an);
        setTimeout(async () => {
          const d = new Float32Array(an.frequencyBinCount);
          an.getFloatFrequencyData(d);
          let best = 10;
          for (let i = 10; i < d.length / 4; i++) if (d[i] > d[best]) best = i;
          let inbound = null;
          (await window.webphone.pc().getStats()).forEach((r) => {
            if (r.type === 'inbound-rtp' && r.kind === 'audio') inbound = r;
          });
          done({
            peak_hz: best * ctx.sampleRate / an.fftSize,
            peak_db: d[best],
            packets: inbound ? inbound.packetsReceived : 0,
            energy: inbound ? inbound.totalAudioEnergy : 0,
          });
        }, 1500);
        "#,
        vec![],
    )
}
