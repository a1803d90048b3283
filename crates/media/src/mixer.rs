//! Clipping-safe PCM mixing.
//!
//! Frames are summed into `i32` accumulators and saturated to `i16` only at
//! the end. In a room every member hears the sum of the *others*, computed
//! as `total - own` so a room of N members costs O(N), not O(N²).

use crate::{Frame, FRAME_SAMPLES};

/// A 20 ms frame of `i32` accumulators.
pub type Accumulator = [i32; FRAME_SAMPLES];

/// Clamp an accumulated value into the `i16` range.
#[inline]
pub fn saturate(v: i32) -> i16 {
    v.clamp(i16::MIN as i32, i16::MAX as i32) as i16
}

/// Add `frame` into `acc`.
#[inline]
pub fn accumulate(acc: &mut Accumulator, frame: &Frame) {
    for (a, &s) in acc.iter_mut().zip(frame) {
        *a += s as i32;
    }
}

/// Take `frame` out of `acc` (a member someone does not hear).
#[inline]
pub fn subtract(acc: &mut Accumulator, frame: &Frame) {
    for (a, &s) in acc.iter_mut().zip(frame) {
        *a -= s as i32;
    }
}

/// What one member hears: `total - own (+ extra)`, saturated into `out`.
/// `extra` carries sources that nobody "owns", such as hold music.
#[inline]
pub fn others(total: &Accumulator, own: &Frame, extra: Option<&Frame>, out: &mut Frame) {
    match extra {
        Some(extra) => {
            for i in 0..FRAME_SAMPLES {
                out[i] = saturate(total[i] - own[i] as i32 + extra[i] as i32);
            }
        }
        None => {
            for i in 0..FRAME_SAMPLES {
                out[i] = saturate(total[i] - own[i] as i32);
            }
        }
    }
}

/// Mix a whole room: `outputs[i]` = sum of all `inputs` except `inputs[i]`,
/// plus `extra`. `outputs` must be at least as long as `inputs`.
pub fn mix_room(inputs: &[Frame], extra: Option<&Frame>, outputs: &mut [Frame]) {
    let mut total = [0i32; FRAME_SAMPLES];
    for f in inputs {
        accumulate(&mut total, f);
    }
    for (own, out) in inputs.iter().zip(outputs.iter_mut()) {
        others(&total, own, extra, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SILENCE;

    fn constant(v: i16) -> Frame {
        [v; FRAME_SAMPLES]
    }

    #[test]
    fn a_member_left_out() {
        let inputs = [constant(100), constant(20), constant(3)];
        let mut total = [0i32; FRAME_SAMPLES];
        for f in &inputs {
            accumulate(&mut total, f);
        }
        subtract(&mut total, &inputs[2]);
        let mut out = SILENCE;
        others(&total, &inputs[0], None, &mut out);
        assert_eq!(out, constant(20), "hears 1, not 2");
    }

    #[test]
    fn saturation() {
        assert_eq!(saturate(40_000), i16::MAX);
        assert_eq!(saturate(-40_000), i16::MIN);
        assert_eq!(saturate(123), 123);
    }

    #[test]
    fn each_hears_the_others() {
        let inputs = [constant(100), constant(20), constant(3)];
        let mut out = [SILENCE; 3];
        mix_room(&inputs, None, &mut out);
        assert_eq!(out[0], constant(23));
        assert_eq!(out[1], constant(103));
        assert_eq!(out[2], constant(120));
    }

    #[test]
    fn alone_hears_only_extra() {
        let mut out = [SILENCE; 1];
        mix_room(&[constant(500)], None, &mut out);
        assert_eq!(out[0], SILENCE);
        mix_room(&[constant(500)], Some(&constant(7)), &mut out);
        assert_eq!(out[0], constant(7));
    }

    #[test]
    fn loud_sum_clips_instead_of_wrapping() {
        let inputs = [constant(30_000), constant(30_000), constant(-30_000)];
        let mut out = [SILENCE; 3];
        mix_room(&inputs, None, &mut out);
        assert_eq!(out[0], constant(0));
        assert_eq!(out[2], constant(i16::MAX));
        let neg = [constant(-30_000), constant(-30_000), constant(0)];
        mix_room(&neg, None, &mut out);
        assert_eq!(out[2], constant(i16::MIN));
    }
}
