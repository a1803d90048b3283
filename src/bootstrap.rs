//! Start-up: open storage (running migrations), seed agents and campaigns
//! from the configuration, start media, SIP, the engine, the scheduler and HTTP.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use switchboard_media::{MediaConfig, MediaEngine};
use switchboard_storage::{AgentAudio, AgentRole, CampaignInput, CampaignKind, NewAgent, Storage};
use tokio::sync::mpsc;

use crate::config::Config;
use crate::driver::{Clock, MediaDriver};
use crate::events::EventSink;

/// Hash passwords on as many threads as there are cores, in order.
fn hash_all(passwords: &[String]) -> anyhow::Result<Vec<String>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = passwords.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let workers: Vec<_> = passwords
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|p| switchboard_center::password::hash(p))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all = Vec::with_capacity(passwords.len());
        for w in workers {
            all.extend(
                w.join()
                    .map_err(|_| anyhow::anyhow!("a hashing thread panicked"))?,
            );
        }
        Ok(all)
    })
}

/// Seed agents and campaigns that do not exist yet.
pub async fn seed(storage: &Storage, cfg: &Config) -> anyhow::Result<()> {
    let mut fresh = Vec::new();
    for a in &cfg.agents {
        if storage.get_agent_by_username(&a.username).await?.is_none() {
            fresh.push(a);
        }
    }
    // Console passwords are hashed with a deliberately slow function: hash
    // the new agents' on every core at once (400 agents took 8-13 s one by one).
    let passwords: Vec<String> = fresh.iter().map(|a| a.password.clone()).collect();
    let hashes = tokio::task::spawn_blocking(move || hash_all(&passwords))
        .await
        .context("hashing console passwords")??;
    for (a, password_hash) in fresh.into_iter().zip(hashes) {
        let role = match a.role.as_str() {
            "admin" => AgentRole::Admin,
            "supervisor" => AgentRole::Supervisor,
            "agent" => AgentRole::Agent,
            other => anyhow::bail!("agent {}: unknown role {other:?}", a.username),
        };
        let audio: AgentAudio = a.audio.parse().map_err(|_| {
            anyhow::anyhow!(
                "agent {}: audio must be either, browser or phone (not {:?})",
                a.username,
                a.audio
            )
        })?;
        storage
            .create_agent(&NewAgent {
                username: a.username.clone(),
                display_name: if a.name.is_empty() {
                    a.username.clone()
                } else {
                    a.name.clone()
                },
                password_hash,
                sip_ha1: switchboard_web::sip_ha1(&a.username, &cfg.server.realm, &a.sip_password),
                role,
                groups: Vec::new(),
                audio,
            })
            .await
            .with_context(|| format!("creating agent {}", a.username))?;
    }
    let trunk_names: Vec<String> = cfg.trunks.iter().map(|t| t.name.clone()).collect();
    for c in &cfg.campaigns {
        // Checked even for campaigns already stored: a typo is reported at start.
        let outbound = c.outbound.clone().map(|o| o.normalized());
        if let Some(o) = &outbound {
            o.validate(&trunk_names)
                .map_err(|e| anyhow::anyhow!("campaign {}: {e}", c.name))?;
        }
        if storage.get_campaign_by_name(&c.name).await?.is_some() {
            continue;
        }
        let kind: CampaignKind = c
            .kind
            .parse()
            .map_err(|e| anyhow::anyhow!("campaign {}: {e}", c.name))?;
        let mut input = CampaignInput::new(&c.name, kind);
        input.did = c.did.clone();
        input.auto_recording = c.auto_recording;
        input.music_class = c.music_class.clone();
        input.dispositions = c.dispositions.clone();
        if let Some(s) = &c.strategy {
            input.strategy = s
                .parse()
                .map_err(|e| anyhow::anyhow!("campaign {}: {e}", c.name))?;
        }
        if let Some(t) = &c.overflow_target {
            if switchboard_center::parse_overflow(t).is_none() {
                anyhow::bail!("campaign {}: overflow_target {t:?} must be agent:NAME, number:N or campaign:NAME", c.name);
            }
            input.overflow_target = Some(t.clone());
        }
        input.queue_timeout_secs = c.queue_timeout_secs.unwrap_or(input.queue_timeout_secs);
        input.acw_secs = c.acw_secs.unwrap_or(input.acw_secs);
        input.dialer_ratio = c.dialer_ratio.unwrap_or(input.dialer_ratio);
        input.max_attempts = c.max_attempts.unwrap_or(input.max_attempts);
        input.retry_delay_secs = c.retry_delay_secs.unwrap_or(input.retry_delay_secs);
        input.default_country = c.default_country.clone();
        if let Some(h) = &c.calling_hours {
            serde_json::from_value::<switchboard_center::CallingHours>(h.clone())
                .map_err(|e| e.to_string())
                .and_then(|x| x.validate())
                .map_err(|m| anyhow::anyhow!("campaign {}: calling_hours: {m}", c.name))?;
            input.calling_hours = Some(h.clone());
        }
        let row = storage
            .create_campaign(&input)
            .await
            .with_context(|| format!("creating campaign {}", c.name))?;
        if c.dtmf_clear {
            storage.set_campaign_dtmf_clear(&row.id, true).await?;
        }
        if let Some(s) = &c.supervision {
            switchboard_web::campaign_supervision::save(storage, &row.id, s)
                .await
                .map_err(|e| anyhow::anyhow!("campaign {}: supervision: {}", c.name, e.message))?;
        }
        if let Some(o) = &outbound {
            let out = switchboard_web::outbound_row(o);
            storage.set_campaign_outbound(&row.id, &out).await?;
        }
        for u in &c.agents {
            let a = storage
                .get_agent_by_username(u)
                .await?
                .with_context(|| format!("campaign {}: unknown agent {u}", c.name))?;
            storage.add_campaign_agent(&row.id, &a.id).await?;
        }
    }
    Ok(())
}

/// Hash SIP passwords left in clear by an older version (migration 0003), and
/// warn about agents whose HA1s were computed for another realm (their phones
/// cannot authenticate until an admin sets their SIP password again).
pub async fn secure_sip_passwords(storage: &Storage, realm: &str) -> anyhow::Result<()> {
    let converted = storage
        .hash_clear_sip_passwords(|user, pw| switchboard_web::sip_ha1(user, realm, pw))
        .await
        .context("hashing clear SIP passwords")?;
    if converted > 0 {
        tracing::info!(
            converted,
            realm,
            "SIP passwords stored as digest HA1s, clear copies removed"
        );
    }
    for a in storage.list_agents().await? {
        if a.enabled && a.sip_ha1.realm != realm {
            tracing::warn!(
                agent = a.username,
                stored_realm = a.sip_ha1.realm,
                realm,
                "SIP credentials were set for another realm: set this agent's sip_password again"
            );
        }
    }
    Ok(())
}

/// Run the server until killed.
pub async fn serve(cfg: Arc<Config>) -> anyhow::Result<()> {
    for a in &cfg.server.digest_algorithms {
        if switchboard_sip::digest::DigestServer::algorithm(a).is_none() {
            anyhow::bail!("server.digest_algorithms: unknown algorithm {a:?} (MD5 or SHA-256)");
        }
    }
    std::fs::create_dir_all(cfg.server.data_dir.join("recordings"))
        .with_context(|| format!("creating {}", cfg.server.data_dir.display()))?;
    let storage = Storage::connect(&cfg.server.database)
        .await
        .with_context(|| format!("opening database {}", cfg.server.database))?;
    seed(&storage, &cfg).await?;
    secure_sip_passwords(&storage, &cfg.server.realm).await?;
    // Before anything writes: close the calls, recordings, agent states and
    // callback claims a previous run left open (kill -9, crash, power loss).
    crate::recovery::recover(&storage)
        .await
        .context("recovering from the previous run")?;
    let reset = storage.reset_dialing_contacts().await?;
    if reset > 0 {
        tracing::info!(
            reset,
            "contacts left dialing by a previous run will be retried"
        );
    }
    let agents = storage
        .list_agents()
        .await?
        .iter()
        .filter(|a| a.enabled)
        .map(switchboard_web::agent_info)
        .collect();
    let mut campaigns = Vec::new();
    for c in storage.list_campaigns().await? {
        campaigns.push(switchboard_web::campaign_info(&storage, &c).await?);
    }
    let media = MediaEngine::start(MediaConfig {
        bind_ip: cfg.server.sip_addr.ip(),
        port_min: cfg.server.rtp_port_min,
        port_max: cfg.server.rtp_port_max,
        music_dir: cfg.server.music_dir.clone(),
    })
    .await
    .context("starting the media engine")?;
    media.set_rtp_timeout(std::time::Duration::from_secs(cfg.server.rtp_timeout_secs));
    let turn = cfg.server.turn()?;
    let webphone = match cfg.server.webrtc_addr {
        Some(addr) => Some(
            switchboard_webrtc::Gateway::start(
                addr,
                cfg.server
                    .webrtc_public_ip
                    .unwrap_or_else(|| cfg.public_ip()),
                cfg.server.sip_addr.ip(),
                media.clone(),
            )
            .await
            .context("starting browser audio (webrtc_addr)")?,
        ),
        None => None,
    };
    let (sip_local, out, inbound) = crate::transport::bind(cfg.server.sip_addr)
        .await
        .with_context(|| format!("binding SIP on {}", cfg.server.sip_addr))?;
    let sink = EventSink::start(
        storage
            .batch_writer(&cfg.server.database)
            .await
            .context("opening the storage writer")?,
    );
    let (req_tx, req_rx) = mpsc::channel(1024);
    let clock = Clock::new();
    let media_events = media.subscribe();
    let tls_local = match (
        cfg.server.tls_addr,
        &cfg.server.tls_cert,
        &cfg.server.tls_key,
    ) {
        (None, _, _) => None,
        (Some(addr), Some(cert), Some(key)) => Some(
            crate::tls::listen(addr, cert, key, out.clone())
                .await
                .context("starting SIP over TLS")?,
        ),
        (Some(_), _, _) => {
            anyhow::bail!("server.tls_addr needs server.tls_cert and server.tls_key")
        }
    };
    let switch_cfg =
        crate::driver::switch_config(&cfg, sip_local.port(), tls_local.map(|a| a.port()))?;
    // Trunks given by host name are resolved (SRV, A/AAAA) in the
    // background and again when their TTL runs out.
    let names: Vec<_> = switch_cfg
        .trunks
        .iter()
        .filter(|t| t.host.parse::<std::net::IpAddr>().is_err())
        .map(|t| {
            let proto = match t.transport {
                switchboard_sip::Transport::Tcp => "tcp",
                _ => "udp",
            };
            (t.name.clone(), t.host.clone(), t.port, proto)
        })
        .collect();
    let (targets_tx, targets_rx) = mpsc::channel(16);
    if !names.is_empty() {
        let resolver = crate::dns::resolver(&cfg.server.dns_servers)?;
        tokio::spawn(crate::dns::run(resolver, names, targets_tx));
    }
    let mut switch = switchboard_switch::Switch::new(
        switch_cfg,
        Box::new(MediaDriver(media.clone())),
        agents,
        campaigns,
        clock.now(),
    );
    switch.restore_registrations(
        storage
            .live_registrations(switchboard_storage::now_ms())
            .await?
            .into_iter()
            .map(|r| switchboard_switch::RegistrationRecord {
                username: r.username,
                contact: r.contact,
                peer_addr: r.peer_addr,
                transport: r.transport,
                expires_at: r.expires_at,
            })
            .collect(),
    );
    let dnc = switchboard_web::dnc_entries(&storage.list_dnc().await?);
    switch.handle_request(clock.now(), switchboard_center::EngineRequest::SetDnc(dnc));
    tokio::spawn(crate::memory::trim_loop());
    // Flushes go through the driver, so they are ordered after the storage
    // writes of every request it answered before (see `driver::run`).
    let (flush_tx, flush_rx) = tokio::sync::mpsc::channel(64);
    let (stop_tx, stop_rx) = mpsc::channel(4);
    let mut engine_task = tokio::spawn(crate::driver::run(
        switch,
        clock,
        crate::driver::Inputs {
            inbound,
            requests: req_rx,
            flushes: flush_rx,
            media_events,
            trunk_targets: targets_rx,
            shutdown: stop_rx,
            media: Some(media),
        },
        out,
        sink.clone(),
    ));
    tokio::spawn(crate::scheduler::run(
        storage.clone(),
        req_tx.clone(),
        sink.clone(),
    ));
    let sink2 = sink.clone();
    let state = switchboard_web::AppState {
        storage: storage.clone(),
        engine: req_tx,
        events: Arc::new(move || sink2.subscribe()),
        data_dir: cfg.server.data_dir.clone(),
        login_failures: Default::default(),
        sip_realm: cfg.server.realm.clone(),
        webphone,
        scope_changes: tokio::sync::broadcast::channel(16).0,
        turn,
        flush: Arc::new(move || {
            let flush_tx = flush_tx.clone();
            Box::pin(async move {
                let (done, wait) = tokio::sync::oneshot::channel();
                if flush_tx.send(done).await.is_ok() {
                    let _ = wait.await;
                }
            })
        }),
    };
    let router = switchboard_web::router(state);
    type Serving = std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>>;
    let (server, http_local): (Serving, SocketAddr) = if cfg.server.https {
        let (Some(cert), Some(key)) = (&cfg.server.tls_cert, &cfg.server.tls_key) else {
            anyhow::bail!("https = true needs tls_cert and tls_key");
        };
        let listener = crate::https::HttpsListener::bind(cfg.server.http_addr, cert, key).await?;
        let local = axum::serve::Listener::local_addr(&listener)?;
        // Requests came over our TLS: the web layer treats them as a
        // TLS-terminating proxy's (session cookie marked Secure).
        let router = router.layer(axum::middleware::map_request(
            |mut req: axum::extract::Request| async move {
                req.headers_mut().insert(
                    "x-forwarded-proto",
                    axum::http::HeaderValue::from_static("https"),
                );
                req
            },
        ));
        (Box::pin(axum::serve(listener, router).into_future()), local)
    } else {
        let listener = tokio::net::TcpListener::bind(cfg.server.http_addr)
            .await
            .with_context(|| format!("binding HTTP on {}", cfg.server.http_addr))?;
        let local = listener.local_addr()?;
        (Box::pin(axum::serve(listener, router).into_future()), local)
    };
    // Listen for SIGTERM and Ctrl-C before saying we are ready, so a signal
    // sent right after the ready line is a graceful shutdown too.
    let mut signals = Signals::new()?;
    println!("switchboard ready sip={sip_local} http={http_local}");
    tracing::info!(%sip_local, %http_local, tls = ?tls_local, "switchboard ready");
    let grace = std::time::Duration::from_secs(cfg.server.shutdown_grace_secs);
    tokio::select! {
        r = server => r.context("HTTP server")?,
        r = &mut engine_task => {
            // The switch core must never stop: exit non-zero so a supervisor restarts
            // us (registrations, calls and callbacks are persisted).
            sink.flush().await;
            match r {
                Err(e) if e.is_panic() => anyhow::bail!("the switch engine panicked: {e}"),
                _ => anyhow::bail!("the switch engine stopped"),
            }
        }
        _ = signals.recv() => {
            tracing::info!(grace_secs = grace.as_secs(), "shutting down: new calls refused");
            let _ = stop_tx.send(grace).await;
            // A second signal ends the calls at once.
            let drained = async {
                match (&mut engine_task).await {
                    Err(e) if e.is_panic() => Err(anyhow::anyhow!("the switch engine panicked: {e}")),
                    _ => Ok(()),
                }
            };
            tokio::pin!(drained);
            tokio::select! {
                r = &mut drained => r?,
                _ = signals.recv() => {
                    tracing::warn!("second signal: ending every call now");
                    let _ = stop_tx.send(std::time::Duration::ZERO).await;
                    drained.await?;
                }
            }
        }
    }
    // Every CDR, event and recording row the switch wrote is applied before we exit.
    sink.flush().await;
    tracing::info!("stopped");
    Ok(())
}

/// SIGTERM and Ctrl-C (SIGINT), listened to from creation on.
struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> anyhow::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            term: signal(SignalKind::terminate()).context("listening for SIGTERM")?,
            int: signal(SignalKind::interrupt()).context("listening for Ctrl-C")?,
        })
    }

    /// The next SIGTERM or SIGINT.
    async fn recv(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use switchboard_center::password::verify;

    #[test]
    fn hashes_keep_the_order_of_the_passwords() {
        let pw: Vec<String> = (0..3).map(|i| format!("pw{i}")).collect();
        let h = super::hash_all(&pw).expect("hashed");
        assert_eq!(h.len(), 3);
        for (p, h) in pw.iter().zip(&h) {
            assert!(verify(p, h), "{p}");
        }
        assert!(!verify("pw0", &h[1]));
    }
}
