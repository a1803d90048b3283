//! HTTPS for the console, the API and the WebSocket when `https = true`:
//! browsers give the microphone (browser audio) only to secure pages, so a
//! server reached at a LAN address needs it unless a reverse proxy
//! terminates TLS. The certificate and key are `tls_cert`/`tls_key`, the
//! files SIP over TLS uses, reloaded when they change. Handshakes run in
//! their own tasks: a slow client never holds up the others.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::tls::ReloadingCert;

/// A handshake that does not finish in this time is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Finished handshakes waiting for the HTTP server to take them.
const BACKLOG: usize = 64;

/// A TLS listener for `axum::serve`.
pub struct HttpsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
}

impl HttpsListener {
    /// Bind `addr` and start accepting TLS connections with the PEM files.
    pub async fn bind(addr: SocketAddr, cert: &Path, key: &Path) -> anyhow::Result<HttpsListener> {
        let resolver = Arc::new(ReloadingCert::new(cert, key)?);
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_cert_resolver(resolver);
        // HTTP/1.1 only: the console's WebSocket upgrades over it.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let tcp = TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding HTTPS on {addr}"))?;
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(BACKLOG);
        tokio::spawn(async move {
            loop {
                let Ok((conn, from)) = tcp.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let (acceptor, tx) = (acceptor.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(conn)).await {
                        Ok(Ok(stream)) => {
                            let _ = tx.send((stream, from)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%from, error = %e, "HTTPS handshake failed"),
                        Err(_) => tracing::debug!(%from, "HTTPS handshake timed out"),
                    }
                });
            }
        });
        Ok(HttpsListener { local, ready })
    }
}

impl axum::serve::Listener for HttpsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept task never ends while the listener lives.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
