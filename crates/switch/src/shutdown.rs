//! Graceful shutdown: once asked ([`Switch::shutdown`]), new calls are
//! refused (`503` with `Retry-After`; REGISTER and in-dialog requests still
//! work), the running calls go on for a grace time, then every call left is
//! ended (BYE to answered legs, CANCEL to ringing outgoing ones, `487` to
//! unanswered incoming ones) with its CDR closed with reason `shutdown`. The
//! switch is drained ([`Switch::is_drained`]) once no call is left and the
//! BYEs and CANCELs are answered, or after [`END_WAIT_MS`] at most.

use switchboard_sip::builder::response_to;
use switchboard_sip::{Peer, Request};

use super::leg::{LegState, Side};
use super::Switch;

/// How long the switch waits, at most, for the answers to the BYEs and
/// CANCELs it sent when it ended the calls left at the end of the grace (ms).
pub const END_WAIT_MS: u64 = 4_000;

/// `Retry-After` (seconds) of the `503` to new calls while shutting down.
const RETRY_AFTER_SECS: &str = "30";

/// Where the switch stands in its shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Shutdown {
    /// Accepting calls.
    #[default]
    Running,
    /// Refusing new calls; the running ones go on until `until` (ms).
    Draining {
        /// End of the grace time.
        until: u64,
    },
    /// Every call was ended at `since` (ms); waiting for the BYE and
    /// CANCEL transactions.
    Ending {
        /// When the calls were ended.
        since: u64,
    },
}

impl Switch {
    /// Begin a graceful shutdown at `now`: refuse new calls from now on, let
    /// the running ones go on for `grace_ms`, then end them. Called again
    /// (a second signal), the grace can only get shorter: `0` ends every
    /// call at once.
    pub fn shutdown(&mut self, now: u64, grace_ms: u64) {
        self.set_now(now);
        self.guarded(|s| {
            let until = s.now.saturating_add(grace_ms);
            match s.shutdown {
                Shutdown::Running => {
                    tracing::warn!(
                        calls = s.calls.len(),
                        grace_ms,
                        "shutting down: refusing new calls, ending the running ones after the grace time"
                    );
                    s.shutdown = Shutdown::Draining { until };
                }
                Shutdown::Draining { until: was } => {
                    s.shutdown = Shutdown::Draining {
                        until: until.min(was),
                    }
                }
                Shutdown::Ending { .. } => {}
            }
            s.shutdown_tick();
        });
    }

    /// Whether a shutdown was asked for (new calls are refused).
    pub fn is_shutting_down(&self) -> bool {
        self.shutdown != Shutdown::Running
    }

    /// Whether a shutdown is complete: no call is left and every BYE or
    /// CANCEL sent to end them is answered (or [`END_WAIT_MS`] passed). The
    /// driver may exit once its outputs are carried out.
    pub fn is_drained(&self) -> bool {
        let idle = self.calls.is_empty() && self.client_tx.is_empty();
        match self.shutdown {
            Shutdown::Running => false,
            Shutdown::Draining { .. } => idle,
            Shutdown::Ending { since } => idle || self.now >= since.saturating_add(END_WAIT_MS),
        }
    }

    /// The next shutdown deadline, if one is still ahead.
    pub(super) fn shutdown_deadline(&self) -> Option<u64> {
        match self.shutdown {
            Shutdown::Running => None,
            Shutdown::Draining { until } => Some(until),
            Shutdown::Ending { since } => {
                Some(since.saturating_add(END_WAIT_MS)).filter(|d| *d > self.now)
            }
        }
    }

    /// End the calls left once the grace time is over.
    pub(super) fn shutdown_tick(&mut self) {
        let Shutdown::Draining { until } = self.shutdown else {
            return;
        };
        if self.now < until && !self.calls.is_empty() {
            return;
        }
        let mut calls: Vec<String> = self.calls.keys().cloned().collect();
        calls.sort();
        if !calls.is_empty() {
            tracing::warn!(
                calls = calls.len(),
                "grace time over: ending the calls left"
            );
        }
        for call in calls {
            self.end_for_shutdown(&call);
        }
        self.shutdown = Shutdown::Ending { since: self.now };
    }

    /// End one call: its legs get BYE, CANCEL or `487`, its agents are
    /// released and its CDR is closed with reason `shutdown`.
    fn end_for_shutdown(&mut self, call: &str) {
        self.current_call = Some(call.to_string());
        self.pending_events.retain(|(c, _)| c != call);
        let Some(entry) = self.calls.get_mut(call) else {
            return;
        };
        entry.end_reason = "shutdown";
        let agents = entry.participants.clone();
        self.log_call(call, "SHUTDOWN", "the server is shutting down", None);
        for leg in self.legs_of(call) {
            let unanswered = self.legs.get(&leg).is_some_and(|l| {
                l.state == LegState::Setup
                    && matches!(
                        l.side,
                        Side::Incoming {
                            answered: false,
                            ..
                        }
                    )
            });
            if unanswered {
                self.reject_leg(leg, 487);
            }
        }
        self.end_call(call);
        for a in agents {
            self.agent_released(&a, call);
        }
        self.current_call = None;
    }

    /// An API error when new calls are refused (shutting down).
    pub(super) fn accepting_calls(&self) -> Result<(), switchboard_center::ApiError> {
        if self.is_shutting_down() {
            return Err(switchboard_center::ApiError::new(
                503,
                "the server is shutting down: no new calls",
            ));
        }
        Ok(())
    }

    /// Refuse a new INVITE without keeping any state (no transaction, no
    /// leg, no media port): the switch is overloaded or shutting down.
    pub(super) fn refuse_new_call(&mut self, req: &Request, peer: Peer) {
        let (reason, retry) = if self.is_shutting_down() {
            ("Service Unavailable (shutting down)", RETRY_AFTER_SECS)
        } else {
            self.refused += 1;
            ("Service Unavailable (overloaded)", "2")
        };
        let mut r = response_to(req, 503, reason, None);
        r.headers.push("Retry-After", retry);
        self.sink.send(peer, r.to_bytes());
    }
}
