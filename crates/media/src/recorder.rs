//! Call recording to stereo 8 kHz 16-bit WAV without blocking the media loop.
//!
//! The tick hands fixed-size frames, batched by 100 ms to limit thread
//! wake-ups, to a bounded channel with `try_send`; a dedicated writer
//! thread owns the file. If the disk stalls and the
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

/// Frames per message to the writer thread (100 ms).
pub const BATCH_FRAMES: usize = 5;
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

/// Up to `BATCH_FRAMES` stereo frames plus the count of dropped frames
/// before them.
#[derive(Clone, Copy)]
struct Batch {
    gap_frames: u32,
    len: usize,
    left: [Frame; BATCH_FRAMES],
    right: [Frame; BATCH_FRAMES],
}

impl Batch {
    const EMPTY: Batch = Batch {
        gap_frames: 0,
        len: 0,
        left: [SILENCE; BATCH_FRAMES],
        right: [SILENCE; BATCH_FRAMES],
    };
}

/// A running recording; feed it with [`Recorder::push`] every tick.
pub struct Recorder {
    tx: Option<SyncSender<Batch>>,
    writer: Option<JoinHandle<Result<u64, MediaError>>>,
    path: PathBuf,
    batch: Batch,
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
        let (tx, rx) = sync_channel(CHANNEL_FRAMES / BATCH_FRAMES);
        let writer = std::thread::Builder::new()
            .name("media-recorder".into())
            .spawn(move || write_loop(wav, rx))?;
        Ok(Recorder {
            tx: Some(tx),
            writer: Some(writer),
            path: path.to_path_buf(),
            batch: Batch::EMPTY,
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

    /// Queue one frame without blocking; returns false if frames had to be
    /// dropped because the writer fell behind.
    pub fn push(&mut self, left: &Frame, right: &Frame) -> bool {
        let b = &mut self.batch;
        b.left[b.len] = *left;
        b.right[b.len] = *right;
        b.len += 1;
        if b.len < BATCH_FRAMES {
            return true;
        }
        self.send_batch()
    }

    /// Hand the current batch to the writer without blocking.
    fn send_batch(&mut self) -> bool {
        let len = self.batch.len;
        self.batch.gap_frames = self.pending_gap;
        self.batch.len = 0;
        let sent = match &self.tx {
            Some(tx) => match tx.try_send(Batch { len, ..self.batch }) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => false,
            },
            None => false,
        };
        if sent {
            self.pending_gap = 0;
        } else {
            self.pending_gap = self.pending_gap.saturating_add(len as u32);
            self.dropped += len as u64;
        }
        sent
    }

    /// Flush, finalize the WAV header and report the duration. Blocks until
    /// the writer thread has drained its queue (a few ms at most).
    pub fn stop(mut self) -> Result<RecordingSummary, MediaError> {
        self.finish()
    }

    fn finish(&mut self) -> Result<RecordingSummary, MediaError> {
        if let Some(tx) = self.tx.take() {
            if self.batch.len > 0 || self.pending_gap > 0 {
                // Last partial batch, after any dropped frames; blocking is
                // fine here (not on the media tick).
                let _ = tx.send(Batch {
                    gap_frames: self.pending_gap,
                    ..self.batch
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
fn write_loop(mut wav: WavWriter<BufWriter<File>>, rx: Receiver<Batch>) -> Result<u64, MediaError> {
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
            for i in 0..f.len {
                write_frame(&mut wav, &f.left[i], &f.right[i])?;
                frames += 1;
            }
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
    let mut w = wav.get_i16_writer(2 * FRAME_SAMPLES as u32);
    for (&l, &r) in left.iter().zip(right) {
        w.write_sample(l);
        w.write_sample(r);
    }
    w.flush()
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
        assert_eq!(
            (spec.channels, spec.sample_rate, spec.bits_per_sample),
            (2, 8000, 16)
        );
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
        for _ in 0..2003 {
            r.push(&[1; 160], &[2; 160]);
        }
        let dropped = r.dropped_frames();
        assert_eq!(dropped % BATCH_FRAMES as u64, 0);
        assert!(dropped < 2000);
        let s = r.stop().unwrap();
        assert_eq!(s.duration_ms, 2003 * 20);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn bad_path_is_an_error() {
        assert!(Recorder::start(Path::new("/proc/definitely/not/here.wav")).is_err());
    }
}
