//! `switchboard`: the contact-center call-control server binary. Wires the
//! SIP transports, the switch engine, the media engine, storage and the
//! HTTP/WebSocket console together.

mod bench;
mod bootstrap;
mod config;
mod dns;
mod driver;
mod events;
mod https;
mod memory;
mod recovery;
mod scheduler;
mod tls;
mod transport;
mod wav_repair;

/// jemalloc rather than glibc's allocator: see [`memory`] for why and how it is tuned.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::path::PathBuf;

use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

/// Command line.
#[derive(Parser, Debug)]
#[command(
    name = "switchboard",
    version,
    about = "Contact-center call-control server (SIP + RTP + agent console)"
)]
struct Cli {
    /// Configuration file (TOML). Without it the built-in sample configuration is used.
    #[arg(long, short, env = "SWITCHBOARD_CONFIG")]
    config: Option<PathBuf>,
    /// Override `server.sip_addr`.
    #[arg(long)]
    sip_addr: Option<std::net::SocketAddr>,
    /// Override `server.http_addr`.
    #[arg(long)]
    http_addr: Option<std::net::SocketAddr>,
    /// Override `server.database` (sqlite://FILE or postgres://...).
    #[arg(long, env = "DATABASE_URL")]
    database: Option<String>,
    /// Override `server.data_dir`.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Log format on stderr: `text` or `json` (one JSON object per line). Level via RUST_LOG.
    #[arg(long, env = "SWITCHBOARD_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run the server (default).
    Run,
    /// Print the sample configuration.
    SampleConfig,
    /// Benchmarks: SIP call rate with sipp, RTP relay capacity, conference cost.
    Bench(bench::BenchArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cli.log_format == "json" {
        logs.json().init();
    } else {
        logs.init();
    }
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    match cli.cmd {
        Some(Cmd::SampleConfig) => {
            print!("{}", config::SAMPLE);
            Ok(())
        }
        Some(Cmd::Bench(args)) => rt.block_on(bench::run(args)),
        Some(Cmd::Run) | None => {
            let mut cfg = match &cli.config {
                Some(p) => {
                    let text = std::fs::read_to_string(p)
                        .with_context(|| format!("reading {}", p.display()))?;
                    config::Config::parse(&text)
                        .with_context(|| format!("parsing {}", p.display()))?
                }
                None => config::Config::parse(config::SAMPLE)
                    .context("parsing the sample configuration")?,
            };
            if let Some(a) = cli.sip_addr {
                cfg.server.sip_addr = a;
            }
            if let Some(a) = cli.http_addr {
                cfg.server.http_addr = a;
            }
            if let Some(d) = cli.database {
                cfg.server.database = d;
            }
            if let Some(d) = cli.data_dir {
                cfg.server.data_dir = d;
            }
            cfg.resolve_public_ip();
            tracing::info!(public_ip = %cfg.public_ip(), "address given to phones (set server.public_ip to override)");
            rt.block_on(bootstrap::serve(Arc::new(cfg)))
        }
    }
}
