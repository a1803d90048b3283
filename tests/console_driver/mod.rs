//! Minimal W3C WebDriver client for the web-console tests: starts
//! `chromedriver` on a free port with headless Debian `chromium`, and drives
//! it over plain HTTP/JSON (using the std-only client in `tests/common/http.rs`,
//! so no extra crate is needed).
//!
//! Use from an integration test after `mod common;`:
//!
//! ```ignore
//! mod common;
//! mod console_driver;
//! let b = console_driver::Browser::start(&dir);          // 1366x900
//! b.goto(&format!("http://127.0.0.1:{}/", server.http_port));
//! b.type_text("#login-username", "1001");
//! b.click("#login-submit");
//! b.wait_text("#agent-status", "Offline", T);
//! b.screenshot("agent-console");                         // target/screenshots/agent-console.png
//! ```
//!
//! Every wait is bounded; failures panic with the page URL, the console's
//! error region, the visible text and the browser console log. Dropping the
//! `Browser` ends the session (closing chromium) and kills chromedriver.
//! `SB_CHROMIUM` / `SB_CHROMEDRIVER` override the binaries.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::{free_port, http, kill_child, repo_root, TestDir};

/// W3C element reference key.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// Default timeout of the waits.
pub const WAIT: Duration = Duration::from_secs(10);

/// WebDriver special keys.
pub mod keys {
    pub const ESCAPE: &str = "\u{E00C}";
    pub const ENTER: &str = "\u{E007}";
    pub const TAB: &str = "\u{E004}";
    pub const SHIFT: &str = "\u{E008}";
    pub const ARROW_DOWN: &str = "\u{E015}";
    pub const ARROW_UP: &str = "\u{E013}";
    pub const SPACE: &str = "\u{E00D}";
    pub const BACKSPACE: &str = "\u{E003}";
}

/// A WebDriver error answer.
#[derive(Debug, Clone)]
pub struct WdError {
    pub status: u16,
    pub error: String,
    pub message: String,
}

impl std::fmt::Display for WdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.error, self.message)
    }
}

/// A found element (its WebDriver reference) and the selector that found it.
#[derive(Debug, Clone)]
pub struct Element {
    pub id: String,
    pub css: String,
}

/// Paths of the browser binaries (env overrides, else Debian's).
pub fn chromium_path() -> PathBuf {
    std::env::var_os("SB_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}
pub fn chromedriver_path() -> PathBuf {
    std::env::var_os("SB_CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"))
}

/// Panic with install instructions unless chromium and chromedriver exist.
pub fn require_browser() {
    for p in [chromium_path(), chromedriver_path()] {
        assert!(
            p.exists(),
            "{} is missing: install it with `DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver` \
             (or set SB_CHROMIUM / SB_CHROMEDRIVER)",
            p.display()
        );
    }
}

/// Folder for screenshots: `target/screenshots/`.
pub fn screenshots_dir() -> PathBuf {
    let d = repo_root().join("target").join("screenshots");
    std::fs::create_dir_all(&d).expect("create target/screenshots");
    d
}

/// A headless chromium session driven through chromedriver.
pub struct Browser {
    driver: Option<Child>,
    port: u16,
    session: String,
    log_path: PathBuf,
    /// Timeout of `wait_*` helpers that take none.
    pub timeout: Duration,
}

impl Browser {
    /// Start chromedriver + headless chromium with a 1366x900 window.
    pub fn start(dir: &TestDir) -> Browser {
        Browser::start_sized(dir, 1366, 900)
    }

    /// Start with a given window size.
    pub fn start_sized(dir: &TestDir, width: u32, height: u32) -> Browser {
        Browser::start_with_args(dir, width, height, &[])
    }

    /// Start with extra chromium flags (e.g. a fake microphone).
    pub fn start_with_args(dir: &TestDir, width: u32, height: u32, extra: &[String]) -> Browser {
        require_browser();
        let port = free_port();
        let log_path = dir.join(&format!("chromedriver-{port}.log"));
        let profile = dir.subdir(&format!("chromium-profile-{port}"));
        let log = std::fs::File::create(&log_path).expect("create chromedriver log");
        let child = Command::new(chromedriver_path())
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log_path.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", chromedriver_path().display()));
        let mut b = Browser {
            driver: Some(child),
            port,
            session: String::new(),
            log_path,
            timeout: WAIT,
        };
        // chromedriver ready?
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(v) = b.raw("GET", "/status", None, Duration::from_secs(2)) {
                if v["ready"] == true {
                    break;
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "chromedriver on port {port} not ready in 20 s; log:\n{}",
                    crate::common::tail(&b.log_path, 30)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut args: Vec<String> = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            "--autoplay-policy=no-user-gesture-required",
            "--lang=en-US",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.push(format!("--window-size={width},{height}"));
        args.push(format!("--user-data-dir={}", profile.display()));
        args.extend(extra.iter().cloned());
        let caps = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "pageLoadStrategy": "normal",
                    "unhandledPromptBehavior": "dismiss",
                    "goog:loggingPrefs": {"browser": "ALL"},
                    "goog:chromeOptions": {
                        "binary": chromium_path().to_string_lossy(),
                        "args": args
                    }
                }
            }
        });
        let v = b
            .raw("POST", "/session", Some(&caps), Duration::from_secs(60))
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start chromium: {e}\nchromedriver log:\n{}",
                    crate::common::tail(&b.log_path, 40)
                )
            });
        b.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no sessionId in {v}"))
            .to_string();
        b.set_window_size(width, height);
        b
    }

    // -----------------------------------------------------------------------
    // Protocol
    // -----------------------------------------------------------------------

    fn raw(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        timeout: Duration,
    ) -> Result<Value, WdError> {
        let bytes = body.map(|b| serde_json::to_vec(b).expect("json"));
        let mut headers = vec![("Accept", "application/json")];
        if bytes.is_some() {
            headers.push(("Content-Type", "application/json; charset=utf-8"));
        }
        let r = http::request(self.port, method, path, &headers, bytes.as_deref(), timeout)
            .map_err(|e| WdError {
                status: 0,
                error: "transport".into(),
                message: e,
            })?;
        let v: Value =
            serde_json::from_slice(&r.body).unwrap_or_else(|_| json!({"value": r.text()}));
        let value = v.get("value").cloned().unwrap_or(Value::Null);
        if r.status >= 400 {
            return Err(WdError {
                status: r.status,
                error: value["error"].as_str().unwrap_or("unknown").to_string(),
                message: value["message"]
                    .as_str()
                    .unwrap_or_default()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            });
        }
        Ok(value)
    }

    /// A session command: `cmd("POST", "/url", Some(json!({...})))`.
    pub fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, WdError> {
        let body = match (method, body) {
            ("POST", None) => Some(json!({})),
            (_, b) => b,
        };
        self.raw(
            method,
            &format!("/session/{}{}", self.session, path),
            body.as_ref(),
            Duration::from_secs(60),
        )
    }

    fn must(&self, what: &str, r: Result<Value, WdError>) -> Value {
        r.unwrap_or_else(|e| panic!("{what}: {e}\n{}", self.diagnostics()))
    }

    // -----------------------------------------------------------------------
    // Navigation, window, scripts
    // -----------------------------------------------------------------------

    pub fn goto(&self, url: &str) {
        let r = self.cmd("POST", "/url", Some(json!({ "url": url })));
        self.must(&format!("navigate to {url}"), r);
    }

    pub fn url(&self) -> String {
        self.cmd("GET", "/url", None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    pub fn refresh(&self) {
        let r = self.cmd("POST", "/refresh", None);
        self.must("refresh", r);
    }

    pub fn set_window_size(&self, width: u32, height: u32) {
        let r = self.cmd(
            "POST",
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        );
        self.must("set window size", r);
    }

    /// Run a synchronous script (`return ...;`) with JSON arguments.
    pub fn exec(&self, script: &str, args: Vec<Value>) -> Value {
        let r = self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        );
        self.must(&format!("script {script:?}"), r)
    }

    /// Like `exec`, without panicking.
    pub fn try_exec(&self, script: &str, args: Vec<Value>) -> Result<Value, WdError> {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Run an async script: the last argument is the callback to call with the result.
    pub fn exec_async(&self, script: &str, args: Vec<Value>) -> Value {
        let r = self.cmd(
            "POST",
            "/execute/async",
            Some(json!({"script": script, "args": args})),
        );
        self.must("async script", r)
    }

    // -----------------------------------------------------------------------
    // Elements
    // -----------------------------------------------------------------------

    /// First element matching `css`, if any (no waiting).
    pub fn find(&self, css: &str) -> Option<Element> {
        self.cmd(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        )
        .ok()
        .and_then(|v| v[ELEMENT_KEY].as_str().map(str::to_string))
        .map(|id| Element {
            id,
            css: css.to_string(),
        })
    }

    /// Every element matching `css`.
    pub fn find_all(&self, css: &str) -> Vec<Element> {
        self.cmd(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        )
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| e[ELEMENT_KEY].as_str().map(str::to_string))
        .map(|id| Element {
            id,
            css: css.to_string(),
        })
        .collect()
    }

    pub fn exists(&self, css: &str) -> bool {
        self.find(css).is_some()
    }

    /// Wait until `f` holds (polled every 100 ms); panics with `what` and diagnostics.
    pub fn wait_until(&self, what: &str, timeout: Duration, mut f: impl FnMut(&Browser) -> bool) {
        let deadline = Instant::now() + timeout;
        loop {
            if f(self) {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "timed out after {timeout:?} waiting for {what}\n{}",
                    self.diagnostics()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Wait for an element to exist.
    pub fn wait_for(&self, css: &str, timeout: Duration) -> Element {
        let mut found = None;
        self.wait_until(&format!("element {css}"), timeout, |b| {
            found = b.find(css);
            found.is_some()
        });
        found.expect("found")
    }

    /// Wait for an element to exist and be displayed.
    pub fn wait_visible(&self, css: &str, timeout: Duration) -> Element {
        let mut found = None;
        self.wait_until(&format!("visible element {css}"), timeout, |b| {
            found = b.find(css).filter(|e| b.el_displayed(e));
            found.is_some()
        });
        found.expect("found")
    }

    /// Wait for no displayed element to match.
    pub fn wait_hidden(&self, css: &str, timeout: Duration) {
        self.wait_until(&format!("{css} hidden"), timeout, |b| {
            b.find(css).is_none_or(|e| !b.el_displayed(&e))
        });
    }

    /// Wait until the element's visible text contains `needle`; returns the text.
    pub fn wait_text(&self, css: &str, needle: &str, timeout: Duration) -> String {
        let mut last = String::new();
        self.wait_until(&format!("{css} to contain {needle:?}"), timeout, |b| {
            last = b.find(css).map(|e| b.el_text(&e)).unwrap_or_default();
            last.contains(needle)
        });
        last
    }

    /// Wait until an attribute of the element equals `want`.
    pub fn wait_attr(&self, css: &str, name: &str, want: &str, timeout: Duration) {
        self.wait_until(&format!("{css}[{name}={want:?}]"), timeout, |b| {
            b.attr(css, name).as_deref() == Some(want)
        });
    }

    /// Wait until the element is enabled (or disabled).
    pub fn wait_enabled(&self, css: &str, enabled: bool, timeout: Duration) {
        let what = format!(
            "{css} to be {}",
            if enabled { "enabled" } else { "disabled" }
        );
        self.wait_until(&what, timeout, |b| {
            b.find(css).is_some() && b.is_enabled(css) == enabled
        });
    }

    fn el_text(&self, e: &Element) -> String {
        self.cmd("GET", &format!("/element/{}/text", e.id), None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    fn el_displayed(&self, e: &Element) -> bool {
        self.cmd("GET", &format!("/element/{}/displayed", e.id), None)
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    }

    /// Visible text of the first match ("" if none).
    pub fn text(&self, css: &str) -> String {
        self.find(css).map(|e| self.el_text(&e)).unwrap_or_default()
    }

    /// An attribute (`None` if absent or no element).
    pub fn attr(&self, css: &str, name: &str) -> Option<String> {
        let e = self.find(css)?;
        self.cmd("GET", &format!("/element/{}/attribute/{name}", e.id), None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
    }

    /// A DOM property (e.g. "value", "checked", "open").
    pub fn prop(&self, css: &str, name: &str) -> Value {
        match self.find(css) {
            Some(e) => self
                .cmd("GET", &format!("/element/{}/property/{name}", e.id), None)
                .unwrap_or(Value::Null),
            None => Value::Null,
        }
    }

    /// The value of an input / select / textarea.
    pub fn value(&self, css: &str) -> String {
        self.prop(css, "value")
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn is_enabled(&self, css: &str) -> bool {
        self.find(css)
            .and_then(|e| {
                self.cmd("GET", &format!("/element/{}/enabled", e.id), None)
                    .ok()
            })
            .and_then(|v| v.as_bool())
            .unwrap_or(false)
    }

    pub fn is_displayed(&self, css: &str) -> bool {
        self.find(css).is_some_and(|e| self.el_displayed(&e))
    }

    /// Click an element (waits until it exists, is displayed and is clickable).
    pub fn click(&self, css: &str) {
        let mut last_err = String::new();
        self.wait_until(&format!("click on {css}"), self.timeout, |b| {
            let Some(e) = b.find(css).filter(|e| b.el_displayed(e)) else {
                last_err = "not found or not displayed".into();
                return false;
            };
            match b.cmd("POST", &format!("/element/{}/click", e.id), None) {
                Ok(_) => true,
                Err(err) => {
                    last_err = err.to_string();
                    false
                }
            }
        });
    }

    /// Clear a field then type `text` into it (like a user).
    pub fn type_text(&self, css: &str, text: &str) {
        let e = self.wait_visible(css, self.timeout);
        let r = self.cmd("POST", &format!("/element/{}/clear", e.id), None);
        self.must(&format!("clear {css}"), r);
        self.send_keys(css, text);
    }

    /// Type keys into an element without clearing it (`keys::ENTER` etc. allowed).
    pub fn send_keys(&self, css: &str, keys_: &str) {
        let e = self.wait_visible(css, self.timeout);
        let r = self.cmd(
            "POST",
            &format!("/element/{}/value", e.id),
            Some(json!({ "text": keys_ })),
        );
        self.must(&format!("type into {css}"), r);
    }

    /// Press a key (e.g. `keys::ESCAPE`) on whatever has the focus.
    pub fn press(&self, key: &str) {
        let r = self.cmd(
            "POST",
            "/actions",
            Some(json!({"actions": [{
                "type": "key", "id": "keyboard",
                "actions": [{"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]
            }]})),
        );
        self.must("press key", r);
        let _ = self.cmd("DELETE", "/actions", None);
    }

    /// Choose an `<option value=...>` of a `<select>` by clicking it (fires `change`).
    pub fn select(&self, css: &str, value: &str) {
        let opt = format!("{css} option[value=\"{}\"]", value.replace('"', "\\\""));
        self.wait_for(&opt, self.timeout);
        let e = self.find(&opt).expect("option");
        if self
            .cmd("POST", &format!("/element/{}/click", e.id), None)
            .is_err()
        {
            // Fallback: set it by script like a user would, firing the events.
            self.exec(
                "const s = document.querySelector(arguments[0]); s.value = arguments[1]; \
                 s.dispatchEvent(new Event('input', {bubbles: true})); \
                 s.dispatchEvent(new Event('change', {bubbles: true}));",
                vec![json!(css), json!(value)],
            );
        }
        self.wait_until(&format!("{css} = {value:?}"), self.timeout, |b| {
            b.value(css) == value
        });
    }

    /// The id of the focused element ("" when none has an id).
    pub fn focused_id(&self) -> String {
        self.exec(
            "return document.activeElement ? document.activeElement.id : ''",
            vec![],
        )
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// Does the page scroll horizontally (layout wider than the window)?
    pub fn has_horizontal_overflow(&self) -> bool {
        self.exec(
            "return document.documentElement.scrollWidth > document.documentElement.clientWidth + 1",
            vec![],
        )
        .as_bool()
        .unwrap_or(false)
    }

    // -----------------------------------------------------------------------
    // Screenshots and diagnostics
    // -----------------------------------------------------------------------

    /// Viewport screenshot into `target/screenshots/<name>.png`; returns the path.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let path = screenshots_dir().join(format!("{name}.png"));
        self.screenshot_to(&path);
        path
    }

    /// Screenshot of the whole page height (the window is resized temporarily).
    pub fn screenshot_full(&self, name: &str) -> PathBuf {
        let rect = self.cmd("GET", "/window/rect", None).unwrap_or(Value::Null);
        let (w, h) = (
            rect["width"].as_u64().unwrap_or(1366) as u32,
            rect["height"].as_u64().unwrap_or(900) as u32,
        );
        let full = self
            .exec(
                "return Math.ceil(Math.max(document.documentElement.scrollHeight, document.body.scrollHeight))",
                vec![],
            )
            .as_u64()
            .unwrap_or(h as u64) as u32;
        let inner = self
            .exec("return window.innerHeight", vec![])
            .as_u64()
            .unwrap_or(h as u64) as u32;
        let chrome = h.saturating_sub(inner);
        self.set_window_size(w, (full + chrome).clamp(h, 6000));
        std::thread::sleep(Duration::from_millis(300));
        let p = self.screenshot(name);
        self.set_window_size(w, h);
        p
    }

    pub fn screenshot_to(&self, path: &Path) {
        let r = self.cmd("GET", "/screenshot", None);
        let v = self.must("screenshot", r);
        let png = base64_decode(v.as_str().unwrap_or_default());
        assert!(png.starts_with(b"\x89PNG"), "screenshot is not a PNG");
        std::fs::write(path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        eprintln!("[console] screenshot {}", path.display());
    }

    /// Browser console messages since the last call (level + text).
    pub fn console_log(&self) -> Vec<String> {
        self.cmd("POST", "/se/log", Some(json!({"type": "browser"})))
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["level"].as_str().unwrap_or(""),
                    e["message"].as_str().unwrap_or("")
                )
            })
            .collect()
    }

    /// Severe console messages (JS exceptions, failed loads) since the last call.
    pub fn console_errors(&self) -> Vec<String> {
        self.console_log()
            .into_iter()
            .filter(|l| l.starts_with("SEVERE"))
            .collect()
    }

    /// URL, error region, visible text (truncated) and console log, for failure messages.
    pub fn diagnostics(&self) -> String {
        let url = self.url();
        let err = self
            .try_exec(
                "const e = document.getElementById('error-text'); return e ? e.textContent : ''",
                vec![],
            )
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let body = self
            .try_exec(
                "return document.body ? document.body.innerText : ''",
                vec![],
            )
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let body: String = body.chars().take(1500).collect();
        let logs = self.console_log().join("\n");
        format!(
            "--- browser ---\nurl: {url}\nerror region: {err}\npage text:\n{body}\nconsole:\n{logs}\n---------------"
        )
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            if std::thread::panicking() {
                // Best effort, never panic inside drop.
                if let Ok(v) = self.cmd("GET", "/screenshot", None) {
                    let png = base64_decode(v.as_str().unwrap_or_default());
                    let p = screenshots_dir().join(format!("failure-{}.png", self.port));
                    if std::fs::write(&p, png).is_ok() {
                        eprintln!("[console] failure screenshot {}", p.display());
                    }
                }
            }
            let _ = self.raw(
                "DELETE",
                &format!("/session/{}", self.session),
                None,
                Duration::from_secs(10),
            );
        }
        if let Some(mut c) = self.driver.take() {
            kill_child(&mut c);
        }
    }
}

/// Standard base64 (with padding, whitespace ignored).
pub fn base64_decode(s: &str) -> Vec<u8> {
    fn val(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some((c - b'A') as u32),
            b'a'..=b'z' => Some((c - b'a') as u32 + 26),
            b'0'..=b'9' => Some((c - b'0') as u32 + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        if c == b'=' {
            break;
        }
        let Some(v) = val(c) else { continue };
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}
