//! Run the media relay benchmark: `cargo run -p switchboard-media --release
//! --example relay_bench -- [calls] [seconds] [record|conference]`.

use switchboard_media::bench::{run_bench, BenchOptions};

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut opts = BenchOptions::default();
    if let Some(calls) = args.first().and_then(|a| a.parse().ok()) {
        opts.calls = calls;
    }
    if let Some(secs) = args.get(1).and_then(|a| a.parse().ok()) {
        opts.seconds = secs;
    }
    opts.record = args.iter().any(|a| a == "record");
    if args.iter().any(|a| a == "conference") {
        opts.conference_legs = 10;
    }
    match run_bench(&opts).await {
        Ok(report) => println!("{report}"),
        Err(e) => {
            eprintln!("bench failed: {e}");
            std::process::exit(1);
        }
    }
}
