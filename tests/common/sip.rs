//! Raw SIP over UDP/TCP: build simple requests, send bytes, read responses.
//! Used for OPTIONS liveness probes and malformed-input tests.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

static SEQ: AtomicU64 = AtomicU64::new(1);

fn unique() -> String {
    let n = SEQ.fetch_add(1, Ordering::SeqCst);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}{:x}{:x}", std::process::id(), n, t & 0xffff_ffff)
}

/// A parsed SIP response (only what the tests need).
#[derive(Debug, Clone)]
pub struct SipResponse {
    pub status: u16,
    pub reason: String,
    pub raw: String,
}

impl SipResponse {
    pub fn header(&self, name: &str) -> Option<String> {
        for line in self.raw.split("\r\n").skip(1) {
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.trim().eq_ignore_ascii_case(name) {
                    return Some(v.trim().to_string());
                }
            }
        }
        None
    }
}

pub fn parse_response(data: &[u8]) -> Option<SipResponse> {
    let s = String::from_utf8_lossy(data).into_owned();
    let first = s.lines().next()?;
    let mut it = first.splitn(3, ' ');
    if it.next()? != "SIP/2.0" {
        return None;
    }
    let status = it.next()?.parse().ok()?;
    let reason = it.next().unwrap_or("").to_string();
    Some(SipResponse {
        status,
        reason,
        raw: s,
    })
}

/// Build a request. `transport` is "UDP" or "TCP"; `local_port` goes into
/// Via/Contact. Adds Content-Length.
pub fn build_request(
    method: &str,
    ruri: &str,
    transport: &str,
    local_port: u16,
    extra_headers: &[&str],
    body: &str,
) -> String {
    let id = unique();
    let mut m = format!(
        "{method} {ruri} SIP/2.0\r\n\
         Via: SIP/2.0/{transport} 127.0.0.1:{local_port};branch=z9hG4bK{id};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:probe@127.0.0.1:{local_port}>;tag=t{id}\r\n\
         To: <{ruri}>\r\n\
         Call-ID: {id}@127.0.0.1\r\n\
         CSeq: 1 {method}\r\n\
         Contact: <sip:probe@127.0.0.1:{local_port};transport={tl}>\r\n\
         User-Agent: switchboard-e2e\r\n",
        method = method,
        ruri = ruri,
        transport = transport,
        local_port = local_port,
        id = id,
        tl = transport.to_ascii_lowercase(),
    );
    for h in extra_headers {
        m.push_str(h);
        m.push_str("\r\n");
    }
    m.push_str(&format!("Content-Length: {}\r\n\r\n{}", body.len(), body));
    m
}

/// A UDP socket bound to an ephemeral port on 127.0.0.1.
pub struct UdpClient {
    pub sock: UdpSocket,
    pub port: u16,
    pub server: SocketAddr,
}

impl UdpClient {
    pub fn new(server_port: u16) -> UdpClient {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
        let port = sock.local_addr().unwrap().port();
        UdpClient {
            sock,
            port,
            server: SocketAddr::from(([127, 0, 0, 1], server_port)),
        }
    }

    pub fn send(&self, data: &[u8]) -> std::io::Result<usize> {
        self.sock.send_to(data, self.server)
    }

    /// Receive the next SIP response with a final status (>= 200), skipping
    /// provisional ones and requests; bounded by `timeout`.
    pub fn recv_final(&self, timeout: Duration) -> Option<SipResponse> {
        let deadline = Instant::now() + timeout;
        let mut buf = vec![0u8; 70000];
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            if left.is_zero() {
                return None;
            }
            self.sock
                .set_read_timeout(Some(left.max(Duration::from_millis(1))))
                .ok();
            match self.sock.recv_from(&mut buf) {
                Ok((n, _)) => {
                    if let Some(r) = parse_response(&buf[..n]) {
                        if r.status >= 200 {
                            return Some(r);
                        }
                    }
                }
                Err(_) => return None,
            }
        }
    }

    /// Anything received within `timeout` (raw datagrams).
    pub fn drain(&self, timeout: Duration) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        let mut buf = vec![0u8; 70000];
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            if left.is_zero() {
                break;
            }
            self.sock.set_read_timeout(Some(left)).ok();
            match self.sock.recv_from(&mut buf) {
                Ok((n, _)) => out.push(buf[..n].to_vec()),
                Err(_) => break,
            }
        }
        out
    }

    /// Send a request built by [`build_request`] (retransmitting every 500 ms
    /// like a UAC) and wait for its final response.
    pub fn request(
        &self,
        method: &str,
        ruri: &str,
        extra: &[&str],
        body: &str,
        timeout: Duration,
    ) -> Option<SipResponse> {
        let msg = build_request(method, ruri, "UDP", self.port, extra, body);
        let deadline = Instant::now() + timeout;
        loop {
            let _ = self.send(msg.as_bytes());
            let left = deadline.checked_duration_since(Instant::now())?;
            if let Some(r) = self.recv_final(left.min(Duration::from_millis(500))) {
                return Some(r);
            }
            if Instant::now() >= deadline {
                return None;
            }
        }
    }
}

impl UdpClient {
    /// Wrap an already-bound socket (e.g. bound to a trunk's inbound_from port).
    pub fn from_socket(sock: UdpSocket, server_port: u16) -> UdpClient {
        let port = sock.local_addr().unwrap().port();
        UdpClient {
            sock,
            port,
            server: SocketAddr::from(([127, 0, 0, 1], server_port)),
        }
    }

    /// Send an INVITE (retransmitted every 500 ms until a response), wait for
    /// the final response and complete the transaction: ACK for a non-2xx
    /// (same branch), ACK + BYE for a 2xx so no call is left behind.
    pub fn invite(
        &self,
        ruri: &str,
        extra: &[&str],
        content_type: Option<&str>,
        body: &str,
        timeout: Duration,
    ) -> Option<SipResponse> {
        let mut hdrs: Vec<&str> = extra.to_vec();
        let ct;
        if let Some(c) = content_type {
            ct = format!("Content-Type: {}", c);
            hdrs.push(&ct);
        }
        let msg = build_request("INVITE", ruri, "UDP", self.port, &hdrs, body);
        let head = |name: &str| -> String {
            msg.split("\r\n")
                .find(|l| l.to_ascii_lowercase().starts_with(&format!("{}:", name)))
                .unwrap_or("")
                .to_string()
        };
        let (via, from, call_id) = (head("via"), head("from"), head("call-id"));
        let deadline = Instant::now() + timeout;
        let mut got_provisional = false;
        let resp = loop {
            if !got_provisional {
                let _ = self.send(msg.as_bytes());
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            if left.is_zero() {
                return None;
            }
            let step = left.min(Duration::from_millis(500));
            self.sock.set_read_timeout(Some(step)).ok();
            let mut buf = vec![0u8; 70000];
            let mut final_resp = None;
            let until = Instant::now() + step;
            while Instant::now() < until {
                match self.sock.recv_from(&mut buf) {
                    Ok((n, _)) => {
                        if let Some(r) = parse_response(&buf[..n]) {
                            if r.status >= 200 {
                                final_resp = Some(r);
                                break;
                            }
                            got_provisional = true;
                        }
                    }
                    Err(_) => break,
                }
            }
            if let Some(r) = final_resp {
                break r;
            }
        };
        let to = format!("To: {}", resp.header("To").unwrap_or_default());
        if resp.status >= 300 {
            let ack = format!(
                "ACK {ruri} SIP/2.0\r\n{via}\r\nMax-Forwards: 70\r\n{from}\r\n{to}\r\n{call_id}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
            );
            let _ = self.send(ack.as_bytes());
        } else {
            // 2xx: ACK and BYE to the remote target (Contact), through the server.
            let target = resp
                .header("Contact")
                .and_then(|c| {
                    c.split('<')
                        .nth(1)
                        .and_then(|x| x.split('>').next())
                        .map(|x| x.to_string())
                })
                .unwrap_or_else(|| ruri.to_string());
            let routes: Vec<String> = resp
                .raw
                .split("\r\n")
                .filter(|l| l.to_ascii_lowercase().starts_with("record-route:"))
                .map(|l| format!("Route:{}", &l[13..]))
                .collect();
            let routes = if routes.is_empty() {
                String::new()
            } else {
                format!("{}\r\n", routes.join("\r\n"))
            };
            let b1 = format!("z9hG4bK{}", unique());
            let b2 = format!("z9hG4bK{}", unique());
            let port = self.port;
            let ack = format!(
                "ACK {target} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch={b1};rport\r\n{routes}Max-Forwards: 70\r\n{from}\r\n{to}\r\n{call_id}\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
            );
            let _ = self.send(ack.as_bytes());
            let bye = format!(
                "BYE {target} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch={b2};rport\r\n{routes}Max-Forwards: 70\r\n{from}\r\n{to}\r\n{call_id}\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n"
            );
            let _ = self.send(bye.as_bytes());
            let _ = self.recv_final(Duration::from_secs(2));
        }
        Some(resp)
    }
}

/// A minimal valid SDP offer (PCMU) with the given RTP port.
pub fn sdp_offer(rtp_port: u16) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {} RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n",
        rtp_port
    )
}

/// OPTIONS over UDP to the server; returns the final status code (None on timeout).
pub fn options_udp(server_port: u16, timeout: Duration) -> Option<u16> {
    options_udp_to(
        server_port,
        &format!("sip:127.0.0.1:{}", server_port),
        timeout,
    )
}

/// OPTIONS over UDP with a given Request-URI (e.g. `sip:bob@127.0.0.1:PORT`).
pub fn options_udp_to(server_port: u16, ruri: &str, timeout: Duration) -> Option<u16> {
    let c = UdpClient::new(server_port);
    c.request("OPTIONS", ruri, &["Accept: application/sdp"], "", timeout)
        .map(|r| r.status)
}

/// A TCP connection to the server.
pub struct TcpClient {
    pub stream: TcpStream,
    pub port: u16,
    buf: Vec<u8>,
}

impl TcpClient {
    pub fn connect(server_port: u16) -> std::io::Result<TcpClient> {
        let addr = SocketAddr::from(([127, 0, 0, 1], server_port));
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
        let port = stream.local_addr()?.port();
        stream.set_nodelay(true).ok();
        Ok(TcpClient {
            stream,
            port,
            buf: Vec::new(),
        })
    }

    pub fn send(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(data)
    }

    /// Read one complete SIP message (head + Content-Length body) within
    /// `timeout`. Returns None on timeout or if the server closed the connection.
    pub fn recv_message(&mut self, timeout: Duration) -> Option<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        let mut tmp = [0u8; 65536];
        loop {
            // skip keep-alive CRLFs
            while self.buf.starts_with(b"\r\n") {
                self.buf.drain(..2);
            }
            if let Some(end) = self
                .buf
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map(|p| p + 4)
            {
                let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
                let clen = head
                    .split("\r\n")
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        let k = k.trim();
                        if k.eq_ignore_ascii_case("content-length") || k == "l" {
                            v.trim().parse::<usize>().ok()
                        } else {
                            None
                        }
                    })
                    .unwrap_or(0);
                if self.buf.len() >= end + clen {
                    let msg: Vec<u8> = self.buf.drain(..end + clen).collect();
                    return Some(msg);
                }
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            if left.is_zero() {
                return None;
            }
            self.stream.set_read_timeout(Some(left)).ok();
            match self.stream.read(&mut tmp) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&tmp[..n]),
                Err(_) => return None,
            }
        }
    }

    /// Next final response within `timeout`.
    pub fn recv_final(&mut self, timeout: Duration) -> Option<SipResponse> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let m = self.recv_message(left)?;
            if let Some(r) = parse_response(&m) {
                if r.status >= 200 {
                    return Some(r);
                }
            }
        }
    }

    pub fn request(
        &mut self,
        method: &str,
        ruri: &str,
        extra: &[&str],
        body: &str,
        timeout: Duration,
    ) -> Option<SipResponse> {
        let msg = build_request(method, ruri, "TCP", self.port, extra, body);
        self.send(msg.as_bytes()).ok()?;
        self.recv_final(timeout)
    }

    /// Has the peer closed the connection (EOF) within `timeout`?
    pub fn closed_within(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut tmp = [0u8; 4096];
        loop {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return false;
            };
            if left.is_zero() {
                return false;
            }
            self.stream.set_read_timeout(Some(left)).ok();
            match self.stream.read(&mut tmp) {
                Ok(0) => return true,
                Ok(n) => self.buf.extend_from_slice(&tmp[..n]),
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut =>
                {
                    return false
                }
                Err(_) => return true,
            }
        }
    }
}

/// OPTIONS over a fresh TCP connection; final status code or None.
pub fn options_tcp(server_port: u16, timeout: Duration) -> Option<u16> {
    options_tcp_to(
        server_port,
        &format!("sip:127.0.0.1:{};transport=tcp", server_port),
        timeout,
    )
}

/// OPTIONS over a fresh TCP connection with a given Request-URI.
pub fn options_tcp_to(server_port: u16, ruri: &str, timeout: Duration) -> Option<u16> {
    let mut c = TcpClient::connect(server_port).ok()?;
    c.request("OPTIONS", ruri, &["Accept: application/sdp"], "", timeout)
        .map(|r| r.status)
}
