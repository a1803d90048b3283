//! Call recording to stereo 8 kHz 16-bit WAV without blocking the media loop.
//!
//! The tick hands fixed-size frames to a bounded channel with `try_send`;
//! a dedicated writer thread owns the file. If the disk stalls and the
//! channel fills, frames are dropped (counted) and replaced by silence of
//! the same length when writing resumes, so the timeline stays correct.
//! Left channel = what the recorded leg sends, right = what it hears from
//! the other room members.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;

use hound::{SampleFormat, WavSpec, WavWriter};
use tracing::warn;

use crate::{Frame, MediaError, FRAME_SAMPLES, SAMPLE_RATE, SILENCE};

/// Frames the channel holds before dropping (3 s of audio).
pub const CHANNEL_FRAMES: usize = 150;

/// Result of a finished recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingSummary {
    /// The WAV file written.
    pub path: PathBuf,
    /// Audio length in milliseconds.
    pub duration_ms: u64,
}

/// One stereo 20 ms frame plus the count of dropped frames before it.
struct StereoFrame {
    gap_frames: u32,
    left: Frame,
    right: Frame,
}

/// A running recording; feed it with [`Recorder::push`] every tick.
pub struct Recorder {
    tx: Option<SyncSender<StereoFrame>>,
    writer: Option<JoinHandle<Result<u64, MediaError>>>,
    path: PathBuf,
    pending_gap: u32,
    dropped: u64,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("path", &self.path)
            .field("dropped", &self.dropped)
            .finish()
    }
}

impl Recorder {
    /// Create the WAV file (and missing parent folders) and start the
    /// writer thread.
    pub fn start(path: &Path) -> Result<Recorder, MediaError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let spec = WavSpec {
            channels: 2,
            sample_rate: SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: SampleFormat::Int,
        };
        let wav = WavWriter::create(path, spec)?;
        let (tx, rx) = sync_channel(CHANNEL_FRAMES);
        let writer = std::thread::Builder::new()
            .name("media-recorder".into())
            .spawn(move || write_loop(wav, rx))?;
        Ok(Recorder {
            tx: Some(tx),
            writer: Some(writer),
            path: path.to_path_buf(),
            pending_gap: 0,
            dropped: 0,
        })
    }

    /// File being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Frames dropped so far because the writer fell behind.
    pub fn dropped_frames(&self) -> u64 {
        self.dropped
    }

    /// Queue one frame without blocking; returns false if it was dropped.
    pub fn push(&mut self, left: &Frame, right: &Frame) -> bool {
        let Some(tx) = &self.tx else {
            return false;
        };
        let frame = StereoFrame {
            gap_frames: self.pending_gap,
            left: *left,
            right: *right,
        };
        match tx.try_send(frame) {
            Ok(()) => {
                self.pending_gap = 0;
                true
            }
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.pending_gap = self.pending_gap.saturating_add(1);
                self.dropped += 1;
                false
            }
        }
    }

    /// Flush, finalize the WAV header and report the duration. Blocks until
    /// the writer thread has drained its queue (a few ms at most).
    pub fn stop(mut self) -> Result<RecordingSummary, MediaError> {
        self.finish()
    }

    fn finish(&mut self) -> Result<RecordingSummary, MediaError> {
        if let Some(tx) = self.tx.take() {
            if self.pending_gap > 0 {
                // Keep the tail of the timeline: pad the dropped frames.
                let _ = tx.send(StereoFrame {
                    gap_frames: self.pending_gap - 1,
                    left: SILENCE,
                    right: SILENCE,
                });
            }
        }
        if self.dropped > 0 {
            warn!(path = %self.path.display(), dropped = self.dropped, "recording dropped frames (disk too slow)");
        }
        let writer = self
            .writer
            .take()
            .ok_or_else(|| MediaError::RecorderFailed("already stopped".into()))?;
        let samples = writer
            .join()
            .map_err(|_| MediaError::RecorderFailed("writer thread panicked".into()))??;
        Ok(RecordingSummary {
            path: self.path.clone(),
            duration_ms: samples * 1000 / SAMPLE_RATE as u64,
        })
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // Closing the channel makes the writer finalize on its own; don't
        // wait for it here.
        self.tx.take();
    }
}

/// Writer thread: returns the number of sample frames (per channel) written.
fn write_loop(
    mut wav: WavWriter<BufWriter<File>>,
    rx: Receiver<StereoFrame>,
) -> Result<u64, MediaError> {
    let mut frames: u64 = 0;
    let mut result = Ok(());
    while let Ok(f) = rx.recv() {
        if result.is_err() {
            continue; // keep draining so the sender never sees backpressure
        }
        result = (|| {
            for _ in 0..f.gap_frames {
                write_frame(&mut wav, &SILENCE, &SILENCE)?;
                frames += 1;
            }
            write_frame(&mut wav, &f.left, &f.right)?;
            frames += 1;
            Ok::<(), hound::Error>(())
        })();
        if let Err(e) = &result {
            warn!(error = %e, "recording write failed; further audio discarded");
        }
    }
    wav.finalize()?;
    result?;
    Ok(frames * FRAME_SAMPLES as u64)
}

fn write_frame(
    wav: &mut WavWriter<BufWriter<File>>,
    left: &Frame,
    right: &Frame,
) -> Result<(), hound::Error> {
    for (&l, &r) in left.iter().zip(right) {
        wav.write_sample(l)?;
        wav.write_sample(r)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir()
            .join(format!("sb-rec-{}", std::process::id()))
            .join(name)
    }

    #[test]
    fn writes_stereo_wav() {
        let path = temp_path("a/b/stereo.wav");
        let mut r = Recorder::start(&path).unwrap();
        for i in 0..50 {
            assert!(r.push(&[i as i16; 160], &[-(i as i16); 160]));
            // Let the writer keep up; the channel holds 150 frames anyway.
        }
        let s = r.stop().unwrap();
        assert_eq!(s.path, path);
        assert_eq!(s.duration_ms, 1000);
        let mut reader = hound::WavReader::open(&path).unwrap();
        let spec = reader.spec();
        assert_eq!((spec.channels, spec.sample_rate, spec.bits_per_sample), (2, 8000, 16));
        let samples: Vec<i16> = reader.samples::<i16>().map(|s| s.unwrap()).collect();
        assert_eq!(samples.len(), 50 * 160 * 2);
        assert_eq!(&samples[320 * 2..320 * 2 + 2], &[2, -2]);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn drops_are_counted_and_padded() {
        let path = temp_path("drops.wav");
        let mut r = Recorder::start(&path).unwrap();
        // Far more than the channel holds, pushed instantly: some may drop,
        // but the duration must still cover every pushed frame.
        let mut ok = 0;
        for _ in 0..2000 {
            if r.push(&[1; 160], &[2; 160]) {
                ok += 1;
            }
        }
        let dropped = r.dropped_frames();
        assert_eq!(ok + dropped, 2000);
        let s = r.stop().unwrap();
        assert_eq!(s.duration_ms, 2000 * 20);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn bad_path_is_an_error() {
        assert!(Recorder::start(Path::new("/proc/definitely/not/here.wav")).is_err());
    }
}
