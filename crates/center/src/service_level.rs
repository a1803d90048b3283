//! A queue's service level: of the callers who left the queue, how many an
//! agent answered within the threshold (the classic "80 % in 20 s"), how
//! many hung up while waiting (abandoned) and how many waited the queue's
//! timeout; and the average handle time of its answered calls (answer to
//! hang-up). Counted since the switch started.

use serde::Serialize;
use utoipa::ToSchema;

/// The threshold of the service level: answered within this many seconds.
pub const SERVICE_LEVEL_SECS: u64 = 20;

/// Service level counters of one queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct ServiceLevel {
    /// Answered within this many seconds counts as within the service level.
    pub threshold_secs: u64,
    /// Callers an agent answered.
    pub answered: u64,
    /// Of those, answered within the threshold.
    pub answered_within: u64,
    /// Callers who hung up while waiting.
    pub abandoned: u64,
    /// Callers who waited the queue's timeout (overflow or end).
    pub timed_out: u64,
    /// `answered_within` out of every caller who left the queue, in percent
    /// (rounded down); none before the first one left.
    pub percent: Option<u32>,
    /// Answered calls that have ended.
    pub handled: u64,
    /// Their mean handle time (answer to hang-up, hold and transfers
    /// included), in seconds; none before the first one ended.
    pub avg_handle_secs: Option<u64>,
    /// Sum of their handle times (ms), for the mean.
    #[serde(skip)]
    handle_ms: u64,
}

impl Default for ServiceLevel {
    fn default() -> Self {
        ServiceLevel::new(SERVICE_LEVEL_SECS)
    }
}

impl ServiceLevel {
    /// No caller yet, with a threshold.
    pub fn new(threshold_secs: u64) -> ServiceLevel {
        ServiceLevel {
            threshold_secs,
            answered: 0,
            answered_within: 0,
            abandoned: 0,
            timed_out: 0,
            percent: None,
            handled: 0,
            avg_handle_secs: None,
            handle_ms: 0,
        }
    }

    /// A caller was answered after waiting `waited_ms`.
    pub fn answered(&mut self, waited_ms: u64) {
        self.answered += 1;
        if waited_ms <= self.threshold_secs * 1000 {
            self.answered_within += 1;
        }
        self.update();
    }

    /// A caller hung up while waiting.
    pub fn abandoned(&mut self) {
        self.abandoned += 1;
        self.update();
    }

    /// A caller waited the queue's timeout.
    pub fn timed_out(&mut self) {
        self.timed_out += 1;
        self.update();
    }

    /// An answered call of the queue ended after `handle_ms` (from answer).
    pub fn handled(&mut self, handle_ms: u64) {
        self.handled += 1;
        self.handle_ms = self.handle_ms.saturating_add(handle_ms);
        self.avg_handle_secs = Some((self.handle_ms / self.handled + 500) / 1000);
    }

    fn update(&mut self) {
        let left = self.answered + self.abandoned + self.timed_out;
        self.percent = (left > 0).then(|| (self.answered_within * 100 / left) as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answered_within_out_of_every_caller_who_left() {
        let mut s = ServiceLevel::new(20);
        assert_eq!(s.percent, None);
        s.answered(5_000);
        s.answered(20_000);
        assert_eq!(s.percent, Some(100));
        s.answered(20_001);
        assert_eq!((s.answered, s.answered_within), (3, 2));
        s.abandoned();
        assert_eq!(s.percent, Some(50));
        s.timed_out();
        assert_eq!(s.percent, Some(40));
        assert_eq!((s.abandoned, s.timed_out), (1, 1));
    }

    #[test]
    fn average_handle_time_of_ended_calls() {
        let mut s = ServiceLevel::new(20);
        assert_eq!(s.avg_handle_secs, None);
        s.handled(30_000);
        s.handled(90_400);
        assert_eq!((s.handled, s.avg_handle_secs), (2, Some(60)));
        let json = serde_json::to_value(s).expect("serializes");
        assert_eq!(json["avg_handle_secs"], 60);
        assert!(json.get("handle_ms").is_none(), "the sum stays inside");
    }
}
