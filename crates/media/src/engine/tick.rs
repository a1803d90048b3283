//! The 20 ms mixing tick, run by one task per core, each over its shard
//! of the rooms.
//!
//! Phase 1 (engine state locked, no I/O): snapshot rooms into groups of
//! legs and pull one music frame per room. Phase 2 (no engine lock): per
//! group pop every member's input, mix "everyone but me" (+ music), encode
//! and send, feed recorders. Legs outside rooms form groups of one and get
//! silence. Phase 2 runs in slices of legs with a yield of the tick task in
//! between, so a large tick does not hold a runtime worker for milliseconds.
//! All buffers are reused across ticks, so steady state does not allocate.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::leg::{Leg, TickInput};
use super::{lock, Inner, MediaEvent, RoomId};
use crate::mixer::{accumulate, others, subtract, Accumulator};
use crate::rtp::G711_PACKET_LEN;
use crate::{Frame, FRAME_SAMPLES, SILENCE};

/// Ticks between RTP timeout checks (1 s).
const TIMEOUT_CHECK_EVERY: u64 = 50;
/// Ticks between visits of forwarding rooms (200 ms): they only need
/// keep-alives and the RTP timeout, which are counted in whole seconds.
pub(crate) const FORWARD_VISIT_EVERY: u32 = 10;

/// A set of legs that hear each other during one tick.
#[derive(Debug, Clone, Copy)]
struct Group {
    start: usize,
    len: usize,
    music: Option<usize>,
    /// (room id, room epoch); (0, 0) for legs outside rooms.
    sig: (RoomId, u64),
    /// Members forward packets to each other; the tick only keeps time.
    forward: bool,
}

/// Which rooms a tick task mixes: rooms (and legs outside rooms) whose id
/// is `index` modulo `count`. A room always belongs to the same shard, so
/// its members are mixed together, in order, by one task.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shard {
    /// This task's share.
    pub(crate) index: u64,
    /// Tick tasks in all.
    pub(crate) count: u64,
}

impl Shard {
    fn owns(self, id: u64) -> bool {
        id % self.count == self.index
    }
}

/// Buffers reused from tick to tick, and the shard they serve.
pub(crate) struct Scratch {
    shard: Shard,
    members: Vec<Arc<Leg>>,
    /// Per member (same index): bit j set = does not hear member j of its group.
    deaf: Vec<u64>,
    groups: Vec<Group>,
    music: Vec<Frame>,
    inputs: Vec<TickInput>,
    pkt: [u8; G711_PACKET_LEN],
    ticks: u64,
    /// Next group to mix in the current tick.
    next_group: usize,
}

impl Scratch {
    /// Fresh buffers for one shard.
    pub(crate) fn new(shard: Shard) -> Self {
        Scratch {
            shard,
            members: Vec::new(),
            deaf: Vec::new(),
            groups: Vec::new(),
            music: Vec::new(),
            inputs: Vec::new(),
            pkt: [0; G711_PACKET_LEN],
            ticks: 0,
            next_group: 0,
        }
    }
}

/// Legs sent to between two yields of the tick task: with 1,000 callers
/// hearing music a whole tick is ~1,000 `sendto`s (several ms of CPU), and
/// a task that holds its worker that long delays the signalling tasks
/// queued behind it (offer latency p99 went over 5 ms in `bench queue`).
pub(crate) const LEGS_PER_SLICE: usize = 64;

/// What one tick needs across its slices.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TickClock {
    now: Instant,
    timeout: Option<Duration>,
}

/// Start a tick: snapshot the rooms (phase 1). The groups are then mixed
/// slice by slice with [`run_slice`] and the tick closed with [`finish`].
pub(crate) fn begin(inner: &Inner, s: &mut Scratch) -> TickClock {
    s.ticks += 1;
    s.next_group = 0;
    let visit_forwarding = s.ticks.is_multiple_of(u64::from(FORWARD_VISIT_EVERY));
    plan(inner, s, visit_forwarding);
    let timeout = if s.ticks.is_multiple_of(TIMEOUT_CHECK_EVERY) {
        Some(Duration::from_millis(
            inner
                .rtp_timeout_ms
                .load(std::sync::atomic::Ordering::Relaxed),
        ))
        .filter(|d| !d.is_zero())
    } else {
        None
    };
    TickClock {
        now: Instant::now(),
        timeout,
    }
}

/// Mix and send the next groups, about [`LEGS_PER_SLICE`] legs' worth.
/// Returns false once every group of this tick is done.
pub(crate) fn run_slice(inner: &Inner, s: &mut Scratch, clock: TickClock) -> bool {
    let mut legs = 0;
    while s.next_group < s.groups.len() && legs < LEGS_PER_SLICE {
        let g = s.groups[s.next_group];
        s.next_group += 1;
        legs += g.len;
        mix_group(inner, s, g, clock.now, clock.timeout);
    }
    s.next_group < s.groups.len()
}

/// End a tick: release leg references so destroyed legs are freed
/// promptly.
pub(crate) fn finish(s: &mut Scratch) {
    s.members.clear();
}

/// Phase 1: snapshot membership and music under the state lock.
fn plan(inner: &Inner, s: &mut Scratch, visit_forwarding: bool) {
    s.groups.clear();
    s.music.clear();
    s.members.clear();
    s.deaf.clear();
    let mut st = lock(&inner.state);
    let st = &mut *st;
    let shard = s.shard;
    for (&room_id, room) in st.rooms.iter_mut() {
        if !shard.owns(room_id) || room.members.is_empty() || (room.forwarding && !visit_forwarding)
        {
            continue;
        }
        let music = room.music.as_mut().map(|p| {
            s.music.push(p.next_frame());
            s.music.len() - 1
        });
        let start = s.members.len();
        for id in &room.members {
            if let Some(entry) = st.legs.get(id) {
                s.members.push(entry.leg.clone());
            }
        }
        for i in start..s.members.len() {
            let unheard = st
                .legs
                .get(&s.members[i].id)
                .map(|e| e.unheard.as_slice())
                .unwrap_or_default();
            s.deaf.push(deaf_mask(unheard, &s.members[start..]));
        }
        s.groups.push(Group {
            start,
            len: s.members.len() - start,
            music,
            sig: (room_id, room.epoch),
            forward: room.forwarding,
        });
    }
    for entry in st
        .legs
        .values()
        .filter(|e| e.room.is_none() && shard.owns(e.leg.id))
    {
        s.groups.push(Group {
            start: s.members.len(),
            len: 1,
            music: None,
            sig: (0, 0),
            forward: false,
        });
        s.members.push(entry.leg.clone());
        s.deaf.push(0);
    }
}

/// Bit j set when `members[j]` is one of `unheard` (groups beyond 64
/// members hear everyone past the 64th).
fn deaf_mask(unheard: &[u64], members: &[Arc<Leg>]) -> u64 {
    if unheard.is_empty() {
        return 0;
    }
    members
        .iter()
        .take(64)
        .enumerate()
        .filter(|(_, m)| unheard.contains(&m.id))
        .fold(0, |mask, (j, _)| mask | 1 << j)
}

/// Phase 2 for one group: pop inputs, mix, send, record.
fn mix_group(inner: &Inner, s: &mut Scratch, g: Group, now: Instant, timeout: Option<Duration>) {
    let members = &s.members[g.start..g.start + g.len];
    let deaf = &s.deaf[g.start..g.start + g.len];
    if g.forward {
        for leg in members {
            if leg.forwarded_tick(now, timeout, &mut s.pkt) {
                let _ = inner.events.send(MediaEvent::RtpTimeout { leg: leg.id });
            }
        }
        return;
    }
    s.inputs.clear();
    let mut total: Accumulator = [0; FRAME_SAMPLES];
    for leg in members {
        let input = leg.take_input(now, timeout);
        if input.timed_out {
            let _ = inner.events.send(MediaEvent::RtpTimeout { leg: leg.id });
        }
        if !input.muted {
            accumulate(&mut total, &input.frame);
        }
        s.inputs.push(input);
    }
    // Relay digits (RFC 4733) to the other members of the room.
    for (i, input) in s.inputs.iter().enumerate() {
        if let Some(d) = input.dtmf_in {
            for (j, other) in members.iter().enumerate() {
                if i != j && deaf[j] & (1 << i.min(63)) == 0 {
                    other.queue_dtmf(d);
                }
            }
        }
    }
    let music = g.music.map(|i| &s.music[i]);
    let talking = s.inputs.iter().filter(|i| i.active && !i.muted).count();
    let mut out = SILENCE;
    let mut heard = SILENCE;
    for (i, (leg, input)) in members.iter().zip(&s.inputs).enumerate() {
        let own = if input.muted { &SILENCE } else { &input.frame };
        if deaf[i] == 0 {
            others(&total, own, music, &mut out);
            others(&total, own, None, &mut heard);
        } else {
            // Everyone but me and the members I do not hear.
            let mut sum = total;
            for (j, other) in s.inputs.iter().enumerate().take(64) {
                if deaf[i] & (1 << j) != 0 && !other.muted {
                    subtract(&mut sum, &other.frame);
                }
            }
            others(&sum, own, music, &mut out);
            others(&sum, own, None, &mut heard);
        }
        // A phone that sends media gets a continuous stream back (phones
        // and carriers expect symmetric RTP); one that is silent gets audio
        // only while someone it hears talks or music plays.
        let self_talking = usize::from(input.active && !input.muted);
        let audio = music.is_some() || talking > self_talking || input.active;
        leg.emit(
            now,
            &out,
            audio,
            input.dest,
            input.dtmf_pt,
            g.sig,
            (&input.frame, &heard),
            &mut s.pkt,
        );
    }
}
