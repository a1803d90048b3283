//! Trunk host names to addresses (RFC 3263 §4.2): a name with an
//! explicit port is looked up with A/AAAA only; a bare name first with SRV
//! `_sip._udp.<name>` (or `_sip._tcp` for a TCP trunk; records ordered by priority, then weight, each target
//! looked up with A/AAAA), and with A/AAAA on port 5060 when it has no SRV
//! records. NAPTR is not consulted (each trunk's transport is configured,
//! which is what NAPTR would choose). Results are fed to
//! the switch ([`switchboard_switch::Switch::set_trunk_targets`]) at start
//! and again when the records' TTL runs out. DNS itself is the
//! `hickory-resolver` crate.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};
use hickory_resolver::error::{ResolveError, ResolveErrorKind};
use hickory_resolver::TokioAsyncResolver;
use tokio::sync::mpsc;

/// What a resolution gives the switch: the trunk's name and its addresses, best first.
pub type Resolved = (String, Result<Vec<SocketAddr>, String>);

/// Shortest and longest time between two resolutions of a name.
const MIN_TTL: Duration = Duration::from_secs(30);
const MAX_TTL: Duration = Duration::from_secs(3600);
/// Retry after a failed resolution.
const RETRY: Duration = Duration::from_secs(30);

/// A resolver on `servers` (`ip` or `ip:port`; empty: the system's configuration).
pub fn resolver(servers: &[String]) -> anyhow::Result<TokioAsyncResolver> {
    let mut opts = ResolverOpts::default();
    opts.timeout = Duration::from_secs(2);
    opts.attempts = 2;
    if servers.is_empty() {
        let (config, sys_opts) = hickory_resolver::system_conf::read_system_conf()
            .map_err(|e| anyhow::anyhow!("reading the system's DNS configuration: {e}"))?;
        let mut o = sys_opts;
        o.timeout = opts.timeout;
        return Ok(TokioAsyncResolver::tokio(config, o));
    }
    let mut group = NameServerConfigGroup::new();
    for s in servers {
        let addr = s
            .parse::<SocketAddr>()
            .or_else(|_| s.parse::<IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
            .map_err(|_| anyhow::anyhow!("dns_servers: `{s}` is not ip or ip:port"))?;
        group.merge(NameServerConfigGroup::from_ips_clear(
            &[addr.ip()],
            addr.port(),
            true,
        ));
    }
    // Answers are used as the servers give them: no search domains.
    opts.ndots = 0;
    Ok(TokioAsyncResolver::tokio(
        ResolverConfig::from_parts(None, vec![], group),
        opts,
    ))
}

/// Resolve each `(trunk, host, port)` now and whenever its TTL runs out,
/// sending every result to `out`, until `out` closes.
pub async fn run(
    resolver: TokioAsyncResolver,
    names: Vec<(String, String, Option<u16>, &'static str)>,
    out: mpsc::Sender<Resolved>,
) {
    let mut next: Vec<Instant> = vec![Instant::now(); names.len()];
    loop {
        let now = Instant::now();
        for (i, (trunk, host, port, proto)) in names.iter().enumerate() {
            if next[i] > now {
                continue;
            }
            let (result, ttl) = match resolve(&resolver, host, *port, proto).await {
                Ok((addrs, valid_until)) => {
                    let ttl = valid_until
                        .saturating_duration_since(Instant::now())
                        .clamp(MIN_TTL, MAX_TTL);
                    tracing::info!(
                        trunk,
                        host,
                        ?addrs,
                        ttl_secs = ttl.as_secs(),
                        "trunk host resolved"
                    );
                    (Ok(addrs), ttl)
                }
                Err(e) => (Err(e), RETRY),
            };
            next[i] = Instant::now() + ttl;
            if out.send((trunk.clone(), result)).await.is_err() {
                return;
            }
        }
        let wake = next.iter().min().copied().unwrap_or_else(|| now + MAX_TTL);
        tokio::time::sleep_until(tokio::time::Instant::from_std(wake)).await;
    }
}

/// The addresses of `host` (best first) and until when they are valid.
pub async fn resolve(
    resolver: &TokioAsyncResolver,
    host: &str,
    port: Option<u16>,
    proto: &str,
) -> Result<(Vec<SocketAddr>, Instant), String> {
    let fqdn = format!("{}.", host.trim_end_matches('.'));
    if let Some(port) = port {
        return lookup_ip(resolver, &fqdn, port).await;
    }
    let srv = match resolver.srv_lookup(format!("_sip._{proto}.{fqdn}")).await {
        Ok(srv) => srv,
        Err(e) if is_no_records(&e) => return lookup_ip(resolver, &fqdn, 5060).await,
        Err(e) => return Err(describe(host, &e)),
    };
    let mut records: Vec<_> = srv.iter().cloned().collect();
    // RFC 2782 picks among equal priorities by weight at random; the
    // heaviest first is the deterministic reading of the same preference.
    records.sort_by_key(|r| (r.priority(), std::cmp::Reverse(r.weight())));
    let mut valid_until = srv.as_lookup().valid_until();
    let mut addrs = Vec::new();
    let mut last_error = None;
    for r in records {
        let target = r.target().to_utf8();
        if target == "." {
            continue; // "service not available here" (RFC 2782)
        }
        match lookup_ip(resolver, &target, r.port()).await {
            Ok((a, until)) => {
                addrs.extend(a);
                valid_until = valid_until.min(until);
            }
            Err(e) => last_error = Some(e),
        }
    }
    if addrs.is_empty() {
        return Err(last_error.unwrap_or_else(|| format!("{host}: SRV records point nowhere")));
    }
    Ok((addrs, valid_until))
}

async fn lookup_ip(
    resolver: &TokioAsyncResolver,
    name: &str,
    port: u16,
) -> Result<(Vec<SocketAddr>, Instant), String> {
    let shown = name.trim_end_matches('.');
    let ips = resolver
        .lookup_ip(name)
        .await
        .map_err(|e| describe(shown, &e))?;
    let addrs: Vec<SocketAddr> = ips.iter().map(|ip| SocketAddr::new(ip, port)).collect();
    if addrs.is_empty() {
        return Err(format!("{shown}: no A or AAAA records"));
    }
    Ok((addrs, ips.valid_until()))
}

fn is_no_records(e: &ResolveError) -> bool {
    matches!(e.kind(), ResolveErrorKind::NoRecordsFound { .. })
}

/// A resolution error as the admin page shows it.
fn describe(host: &str, e: &ResolveError) -> String {
    match e.kind() {
        ResolveErrorKind::NoRecordsFound { .. } => format!("{host}: no such host"),
        ResolveErrorKind::Timeout => format!("{host}: DNS timed out"),
        _ => format!("{host}: {e}"),
    }
}
