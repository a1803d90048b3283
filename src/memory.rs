//! Give freed memory back to the system. RFC 3261 keeps every transaction
//! for 32 s after its final response (UDP retransmissions), so a burst of
//! calls lifts the heap for half a minute, then the heap falls back to a few
//! megabytes (heaptrack: 6 MB live after 15,000 calls and 40 s idle, as after
//! the first 1,000).
//!
//! The resident size did not follow with glibc's allocator: its per-thread
//! arenas stayed fragmented (one long-lived small object pins a page), so a
//! server that had taken 40,000 calls kept about twice the memory of one that
//! had taken 1,000 (71-79 MB against 38-39 MB) even with `malloc_trim` every
//! 10 s. The binary therefore uses
//! jemalloc (`tikv-jemallocator`, the allocator of TiKV and many Rust
//! servers): size-class slabs keep long-lived and short-lived objects apart,
//! and [`JEMALLOC_CONF`] has its background threads return unused pages
//! within seconds (`muzzy_decay_ms:0`: straight `MADV_DONTNEED`, since pages
//! left `MADV_FREE` still count as resident). Measured with
//! `switchboard bench memory` (README). C libraries (SQLite) still use glibc's
//! `malloc`; [`trim_loop`] trims it.

use std::time::Duration;

/// jemalloc's options, read before `main` (the `malloc_conf` symbol of the
/// prefixed jemalloc that `tikv-jemallocator` links): purge with background
/// threads rather than only when the program allocates (an idle server does
/// not), dirty pages after 5 s, and no lazily freed (`MADV_FREE`) stage.
#[export_name = "_rjem_malloc_conf"]
pub static JEMALLOC_CONF: &u8 =
    &b"background_thread:true,dirty_decay_ms:5000,muzzy_decay_ms:0\0"[0];

/// How often free pages are returned.
const EVERY: Duration = Duration::from_secs(10);

/// Run forever, trimming the allocator's free pages every [`EVERY`].
pub async fn trim_loop() {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tick.tick().await;
        trim();
    }
}

/// Return free heap pages of every arena to the system (glibc; elsewhere a no-op).
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it is
    // thread-safe and has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}
