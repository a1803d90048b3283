//! rtpengine as the media anchor of `bench relay`: started in userspace
//! mode (`--table=-1`, no kernel forwarding, the same footing as ours),
//! calls set up over its NG control protocol (bencoded dictionaries over
//! UDP, `offer` / `answer` / `delete`), as Kamailio's rtpengine module does.

use std::collections::BTreeMap;
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};
use serde::Deserialize;
use switchboard_sip::sdp::AudioSdp;

use super::Child;

/// Is rtpengine installed?
pub fn available() -> bool {
    std::path::Path::new("/usr/bin/rtpengine").exists()
}

/// A running rtpengine and its NG control socket.
pub struct Rtpengine {
    /// The process (its own process group, for CPU accounting).
    pub child: Child,
    ng: UdpSocket,
    next_cookie: u64,
}

#[derive(Deserialize)]
struct Reply {
    result: String,
    #[serde(default)]
    sdp: Option<String>,
    #[serde(default, rename = "error-reason")]
    error_reason: Option<String>,
}

impl Rtpengine {
    /// Start rtpengine on 127.0.0.1 with RTP ports in `ports` and wait
    /// until it answers a `ping`.
    pub fn start(dir: &Path, ng_port: u16, ports: (u16, u16)) -> anyhow::Result<Rtpengine> {
        let mut cmd = Command::new("/usr/bin/rtpengine");
        cmd.args([
            "--foreground",
            "--log-stderr",
            "--log-level=3",
            "--table=-1",
            // Ports of deleted calls are free again at once, as ours are.
            "--delete-delay=0",
            "--interface=127.0.0.1",
            &format!("--listen-ng=127.0.0.1:{ng_port}"),
            &format!("--port-min={}", ports.0),
            &format!("--port-max={}", ports.1),
            &format!("--pidfile={}", dir.join("rtpengine.pid").display()),
        ])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("rtpengine.log"))?);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = Child(cmd.spawn().context("starting rtpengine")?);
        let ng = UdpSocket::bind("127.0.0.1:0")?;
        ng.connect(("127.0.0.1", ng_port))?;
        ng.set_read_timeout(Some(Duration::from_millis(200)))?;
        let mut r = Rtpengine {
            child,
            ng,
            next_cookie: 1,
        };
        let mut last = None;
        for _ in 0..100 {
            match r.command(&[("command", "ping")]) {
                Ok(_) => return Ok(r),
                Err(e) => last = Some(e),
            }
            // Not listening yet (the connected socket saw ICMP unreachable).
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("rtpengine did not answer on its NG port: {last:?}")
    }

    fn command(&mut self, args: &[(&str, &str)]) -> anyhow::Result<Reply> {
        let dict: BTreeMap<&str, &str> = args.iter().copied().collect();
        let cookie = format!("c{}", self.next_cookie);
        self.next_cookie += 1;
        let mut msg = format!("{cookie} ").into_bytes();
        msg.extend(serde_bencode::to_bytes(&dict)?);
        for _ in 0..3 {
            self.ng.send(&msg)?;
            let mut buf = vec![0u8; 65536];
            let Ok(n) = self.ng.recv(&mut buf) else {
                continue;
            };
            let Some(body) = buf[..n].strip_prefix(format!("{cookie} ").as_bytes()) else {
                continue;
            };
            let reply: Reply = serde_bencode::from_bytes(body).context("NG reply")?;
            if reply.result == "error" {
                bail!("rtpengine: {}", reply.error_reason.unwrap_or_default());
            }
            return Ok(reply);
        }
        bail!("no NG reply")
    }

    /// Anchor a call between `a` and `b`: returns (where A sends, where B sends).
    pub fn call(
        &mut self,
        id: &str,
        a_sdp: &str,
        b_sdp: &str,
    ) -> anyhow::Result<(SocketAddr, SocketAddr)> {
        let offer = self.command(&[
            ("command", "offer"),
            ("call-id", id),
            ("from-tag", "a"),
            ("sdp", a_sdp),
        ])?;
        let to_b = relay_addr(offer.sdp.as_deref())?;
        let answer = self.command(&[
            ("command", "answer"),
            ("call-id", id),
            ("from-tag", "a"),
            ("to-tag", "b"),
            ("sdp", b_sdp),
        ])?;
        let to_a = relay_addr(answer.sdp.as_deref())?;
        Ok((to_a, to_b))
    }

    /// Tear a call down.
    pub fn delete(&mut self, id: &str) -> anyhow::Result<()> {
        self.command(&[("command", "delete"), ("call-id", id), ("from-tag", "a")])?;
        Ok(())
    }
}

fn relay_addr(sdp: Option<&str>) -> anyhow::Result<SocketAddr> {
    let sdp = sdp.context("reply without SDP")?;
    Ok(AudioSdp::parse(sdp.as_bytes())
        .map_err(|e| anyhow::anyhow!("rtpengine SDP: {e:?}"))?
        .socket_addr())
}
