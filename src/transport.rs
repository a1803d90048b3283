//! SIP transports: one UDP socket and one TCP listener on the same port,
//! and TLS connections handed over by [`crate::tls`]. Received messages go
//! to the engine as [`Inbound`]; [`Outbound`] handles sending (over UDP, or
//! over the TCP or TLS connection the peer opened; outbound TCP connections
//! are opened on demand, TLS ones are not: phones connect to us).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use switchboard_sip::{Peer, Transport};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;

/// Bytes received from a peer.
#[derive(Debug)]
pub struct Inbound {
    /// Sender.
    pub peer: Peer,
    /// One datagram, or one framed message from a stream.
    pub data: Vec<u8>,
    /// When it was read from the socket (the switch's queueing delay is measured from here).
    pub at: std::time::Instant,
}

/// Sending side shared by the engine.
#[derive(Clone)]
pub struct Outbound {
    udp: Arc<UdpSocket>,
    tcp: Arc<Mutex<HashMap<SocketAddr, mpsc::UnboundedSender<Vec<u8>>>>>,
    inbound: mpsc::Sender<Inbound>,
}

impl Outbound {
    /// Send bytes to a peer (never blocks the caller).
    pub fn send(&self, peer: Peer, bytes: Vec<u8>) {
        match peer.transport {
            Transport::Udp => {
                if let Err(e) = self.udp.try_send_to(&bytes, peer.addr) {
                    tracing::warn!(%e, to = %peer.addr, "UDP send failed");
                }
            }
            Transport::Tls => {
                let existing = self.tcp.lock().expect("tcp map").get(&peer.addr).cloned();
                if existing.is_none_or(|tx| tx.send(bytes).is_err()) {
                    tracing::warn!(to = %peer.addr, "no TLS connection from this peer (it must connect first)");
                }
            }
            Transport::Tcp => {
                let existing = self.tcp.lock().expect("tcp map").get(&peer.addr).cloned();
                match existing {
                    Some(tx) if tx.send(bytes.clone()).is_ok() => {}
                    _ => {
                        let this = self.clone();
                        tokio::spawn(async move {
                            match TcpStream::connect(peer.addr).await {
                                Ok(s) => {
                                    let tx = this.adopt(s, peer.addr, Transport::Tcp);
                                    let _ = tx.send(bytes);
                                }
                                Err(e) => tracing::warn!(%e, to = %peer.addr, "TCP connect failed"),
                            }
                        });
                    }
                }
            }
        }
    }

    /// Serve a connected stream (TCP or TLS) from `addr`: framed messages in,
    /// queued messages out; forgotten when it closes.
    pub fn adopt<S>(
        &self,
        stream: S,
        addr: SocketAddr,
        transport: Transport,
    ) -> mpsc::UnboundedSender<Vec<u8>>
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
        self.tcp.lock().expect("tcp map").insert(addr, tx.clone());
        let (mut rd, mut wr) = tokio::io::split(stream);
        tokio::spawn(async move {
            while let Some(b) = rx.recv().await {
                if wr.write_all(&b).await.is_err() {
                    break;
                }
            }
        });
        let inbound = self.inbound.clone();
        let map = self.tcp.clone();
        tokio::spawn(async move {
            let mut buf: Vec<u8> = Vec::with_capacity(8192);
            let mut chunk = [0u8; 8192];
            loop {
                match rd.read(&mut chunk).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
                loop {
                    match switchboard_sip::stream_frame_len(&buf) {
                        Ok(Some(len)) => {
                            let data: Vec<u8> = buf.drain(..len).collect();
                            let peer = Peer { addr, transport };
                            if inbound
                                .send(Inbound {
                                    peer,
                                    data,
                                    at: std::time::Instant::now(),
                                })
                                .await
                                .is_err()
                            {
                                return;
                            }
                        }
                        Ok(None) => break,
                        Err(e) => {
                            // Garbage on the stream: framing is lost, close the connection.
                            tracing::warn!(%e, from = %addr, "closing the connection after unframeable data");
                            map.lock().expect("tcp map").remove(&addr);
                            return;
                        }
                    }
                }
            }
            map.lock().expect("tcp map").remove(&addr);
        });
        tx
    }
}

/// Bind UDP and TCP on `addr` (port 0 = ephemeral, same port for both).
pub async fn bind(
    addr: SocketAddr,
) -> std::io::Result<(SocketAddr, Outbound, mpsc::Receiver<Inbound>)> {
    // Find a port free for both UDP and TCP.
    let mut tries = 0;
    let (udp, tcp) = loop {
        let udp = UdpSocket::bind(addr).await?;
        let local = udp.local_addr()?;
        match TcpListener::bind(local).await {
            Ok(t) => break (udp, t),
            Err(e) if addr.port() == 0 && tries < 20 => {
                tries += 1;
                tracing::debug!(%e, "TCP port busy, retrying");
            }
            Err(e) => return Err(e),
        }
    };
    let local = udp.local_addr()?;
    let udp = Arc::new(udp);
    let (in_tx, in_rx) = mpsc::channel(4096);
    let out = Outbound {
        udp: udp.clone(),
        tcp: Arc::new(Mutex::new(HashMap::new())),
        inbound: in_tx.clone(),
    };
    tokio::spawn({
        let udp = udp.clone();
        let in_tx = in_tx.clone();
        async move {
            let mut buf = vec![0u8; 65_536];
            loop {
                match udp.recv_from(&mut buf).await {
                    Ok((n, from)) => {
                        let peer = Peer {
                            addr: from,
                            transport: Transport::Udp,
                        };
                        if in_tx
                            .send(Inbound {
                                peer,
                                data: buf[..n].to_vec(),
                                at: std::time::Instant::now(),
                            })
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                    Err(e) => tracing::debug!(%e, "UDP receive error"),
                }
            }
        }
    });
    let out2 = out.clone();
    tokio::spawn(async move {
        loop {
            if let Ok((s, from)) = tcp.accept().await {
                out2.adopt(s, from, Transport::Tcp);
            }
        }
    });
    Ok((local, out, in_rx))
}
