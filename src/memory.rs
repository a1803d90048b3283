//! Give freed memory back to the system. RFC 3261 keeps every transaction
//! for 32 s after its final response (UDP retransmissions), so a burst of
//! calls lifts the heap for half a minute; glibc's allocator then keeps the
//! freed pages of its per-thread arenas resident. Trimming them every few
//! seconds brings the resident size back down once the burst is over
//! (`switchboard bench memory`).

use std::time::Duration;

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
