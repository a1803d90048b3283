//! The replay list of RFC 3711 §3.3.2: the highest index received and a
//! 64-entry bitmap behind it. Indices older than the window are refused.

/// Size of the window in packets (RFC 3711 asks for at least 64).
const WINDOW: u64 = 64;

/// Which recent indices were received.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReplayWindow {
    /// Highest index accepted, once one was.
    top: Option<u64>,
    /// Bit n set: index `top - n` was received.
    bits: u64,
}

impl ReplayWindow {
    /// Whether `index` may be accepted (not seen, not too old). Checked
    /// before authentication; [`ReplayWindow::accept`] records it after.
    pub(crate) fn check(&self, index: u64) -> bool {
        let Some(top) = self.top else {
            return true;
        };
        if index > top {
            return true;
        }
        let behind = top - index;
        behind < WINDOW && self.bits & (1 << behind) == 0
    }

    /// Record an authenticated `index`.
    pub(crate) fn accept(&mut self, index: u64) {
        match self.top {
            None => {
                self.top = Some(index);
                self.bits = 1;
            }
            Some(top) if index > top => {
                let ahead = index - top;
                self.bits = if ahead >= WINDOW {
                    0
                } else {
                    self.bits << ahead
                };
                self.bits |= 1;
                self.top = Some(index);
            }
            Some(top) => {
                let behind = top - index;
                if behind < WINDOW {
                    self.bits |= 1 << behind;
                }
            }
        }
    }
}
