//! SIP over TLS (RFC 3261 §26.2) for phones: a listener whose certificate
//! and key come from PEM files and are reloaded when the files change (a
//! renewed certificate is used by the next handshake, no restart). Each
//! accepted connection becomes a [`crate::transport`] stream like TCP.
//! TLS itself is rustls (ring provider: no C toolchain beyond `cc`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use switchboard_sip::Transport;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::transport::Outbound;

/// How often the files' modification times are looked at, at most.
const CHECK_EVERY: Duration = Duration::from_secs(1);
/// A handshake that does not finish in this time is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The certificate in use and the files it came from.
#[derive(Debug)]
struct Loaded {
    key: Arc<CertifiedKey>,
    stamp: (Option<SystemTime>, Option<SystemTime>),
    checked: Instant,
}

/// A certificate resolver that follows its PEM files.
#[derive(Debug)]
pub struct ReloadingCert {
    cert: PathBuf,
    key: PathBuf,
    current: Mutex<Loaded>,
}

fn mtime(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// Read a certificate chain and its private key from PEM files.
fn load(cert: &Path, key: &Path) -> anyhow::Result<Arc<CertifiedKey>> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("{}: not a PEM certificate chain", cert.display()))?;
    anyhow::ensure!(
        !chain.is_empty(),
        "{}: no certificate in it",
        cert.display()
    );
    let der = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("{}: no PEM private key in it", key.display()))?;
    let provider = rustls::crypto::ring::default_provider();
    let signing = provider
        .key_provider
        .load_private_key(der)
        .with_context(|| format!("{}: unsupported private key", key.display()))?;
    let ck = CertifiedKey::new(chain, signing);
    ck.keys_match()
        .with_context(|| format!("{} does not match {}", key.display(), cert.display()))?;
    Ok(Arc::new(ck))
}

impl ReloadingCert {
    /// Load the files now (an error here stops the server at start).
    pub fn new(cert: &Path, key: &Path) -> anyhow::Result<ReloadingCert> {
        let loaded = Loaded {
            key: load(cert, key)?,
            stamp: (mtime(cert), mtime(key)),
            checked: Instant::now(),
        };
        Ok(ReloadingCert {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            current: Mutex::new(loaded),
        })
    }

    /// The certificate to present, reloaded first if its files changed; a
    /// file that no longer loads keeps the previous certificate (logged).
    fn get(&self) -> Arc<CertifiedKey> {
        let mut cur = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if cur.checked.elapsed() >= CHECK_EVERY {
            cur.checked = Instant::now();
            let stamp = (mtime(&self.cert), mtime(&self.key));
            if stamp != cur.stamp {
                match load(&self.cert, &self.key) {
                    Ok(k) => {
                        tracing::info!(cert = %self.cert.display(), "TLS certificate reloaded");
                        cur.key = k;
                        cur.stamp = stamp;
                    }
                    Err(e) => {
                        tracing::error!(error = %format!("{e:#}"), "TLS certificate not reloaded, keeping the previous one");
                        cur.stamp = stamp;
                    }
                }
            }
        }
        cur.key.clone()
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.get())
    }
}

/// Listen for SIP over TLS on `addr`; returns the bound address. Messages
/// from TLS peers reach the switch through `out` like TCP ones.
pub async fn listen(
    addr: SocketAddr,
    cert: &Path,
    key: &Path,
    out: Outbound,
) -> anyhow::Result<SocketAddr> {
    let resolver = Arc::new(ReloadingCert::new(cert, key)?);
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .context("TLS protocol versions")?
    .with_no_client_auth()
    .with_cert_resolver(resolver);
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding SIP over TLS on {addr}"))?;
    let local = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((tcp, from)) = listener.accept().await else {
                continue;
            };
            let (acceptor, out) = (acceptor.clone(), out.clone());
            tokio::spawn(async move {
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => {
                        tracing::debug!(%from, "TLS connection");
                        out.adopt(stream, from, Transport::Tls);
                    }
                    Ok(Err(e)) => tracing::info!(%from, error = %e, "TLS handshake failed"),
                    Err(_) => tracing::info!(%from, "TLS handshake timed out"),
                }
            });
        }
    });
    Ok(local)
}
