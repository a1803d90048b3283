//! Kamailio as the anchor of `switchboard bench sip`: a stateful proxy
//! (`t_relay`, Record-Route) that challenges every INVITE with digest
//! authentication, as Debian's `kamailio` package runs it. Same sipp
//! caller, same sipp trunk, same machine: the figures are side by side.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::Context;

use super::Child;

/// Where Debian installs Kamailio's modules.
const MODULES: &str = "/usr/lib/x86_64-linux-gnu/kamailio/modules";

/// Whether Kamailio is installed.
pub fn available() -> bool {
    Path::new("/usr/sbin/kamailio").exists() && Path::new(MODULES).exists()
}

/// Start Kamailio on 127.0.0.1:`port`, relaying to the trunk at `trunk_port`.
pub fn start(dir: &Path, port: u16, trunk_port: u16) -> anyhow::Result<Child> {
    let cfg = format!(
        r#"#!KAMAILIO
debug=0
log_stderror=yes
memdbg=5
memlog=5
children=2
tcp_children=1
auto_aliases=no
listen=udp:127.0.0.1:{port}
mpath="{MODULES}"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
loadmodule "auth.so"
modparam("auth", "nonce_expire", 300)

request_route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (has_totag()) {{
        if (loose_route()) {{
            t_relay();
            exit;
        }}
        if (is_method("ACK")) {{
            if (t_check_trans()) {{
                t_relay();
            }}
            exit;
        }}
        sl_send_reply("404", "Not here");
        exit;
    }}
    if (is_method("CANCEL")) {{
        if (t_check_trans()) {{
            t_relay();
        }}
        exit;
    }}
    if (is_method("ACK")) {{
        exit;
    }}
    if (is_method("INVITE")) {{
        if (!pv_proxy_authenticate("switchboard", "secret1001", "0")) {{
            proxy_challenge("switchboard", "0");
            exit;
        }}
        consume_credentials();
    }}
    record_route();
    $du = "sip:127.0.0.1:{trunk_port}";
    t_relay();
}}
"#
    );
    let path = dir.join("kamailio.cfg");
    std::fs::write(&path, cfg)?;
    let mut cmd = Command::new("/usr/sbin/kamailio");
    cmd.args([
        "-f",
        &path.to_string_lossy(),
        "-DD",
        "-E",
        "-m",
        "256",
        "-M",
        "16",
        "-Y",
        &dir.to_string_lossy(),
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let child = cmd.spawn().context("starting kamailio")?;
    std::thread::sleep(std::time::Duration::from_millis(1500));
    Ok(Child(child))
}
