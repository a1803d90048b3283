//! `switchboard bench`: figures for the README (not timed tests).

use clap::Args;

/// Bench options.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Concurrent relayed calls for the media benchmark.
    #[arg(long, default_value_t = 100)]
    pub calls: usize,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
}

/// Run the benchmarks and print their figures.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let report = switchboard_media::bench::relay_bench(args.calls, args.seconds).await;
    println!("{report}");
    Ok(())
}
