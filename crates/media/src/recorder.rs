//! Call recording to stereo 8 kHz 16-bit WAV without blocking the media loop.
//!
//! The tick hands fixed-size frames, batched by 100 ms, to one writer
//! thread shared by every recording (no thread per call) through a bounded
//! channel with `try_send`. If the disk stalls and the channel fills,
//! frames are dropped (counted) and replaced by silence of the same length
//! when writing resumes, so the timeline stays correct.
//!
//! Crash safety: the writer updates each file's RIFF and data sizes at
//! least once a second, so after a `kill -9` every recording is a valid WAV
//! holding all but its last second.
//!
//! Left channel = what the recorded leg sends, right = what it hears from
//! the other room members.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender, TrySendError};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hound::{SampleFormat, WavSpec, WavWriter};
use tracing::warn;

use crate::{Frame, MediaError, FRAME_SAMPLES, SAMPLE_RATE, SILENCE};

/// Frames per message to the writer thread (100 ms).
pub const BATCH_FRAMES: usize = 5;
/// Batches the shared channel holds before recorders drop frames (30 s of
/// one recording, or 2 s of 1,500 recordings at once).
pub const CHANNEL_BATCHES: usize = 30_000;
/// Longest time a file's header lags behind the audio written.
pub const HEADER_EVERY: Duration = Duration::from_secs(1);

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

type Wav = WavWriter<BufWriter<File>>;

/// What recorders tell the writer thread.
enum Msg {
    Open(u64, Box<Wav>),
    Frames(u64, Box<Batch>),
    /// Finish the file; the reply carries the samples written per channel.
    Close(u64, Sender<Result<u64, MediaError>>),
}

/// The shared writer thread's channel, started on first use.
fn writer() -> Result<&'static SyncSender<Msg>, MediaError> {
    static WRITER: OnceLock<SyncSender<Msg>> = OnceLock::new();
    if let Some(tx) = WRITER.get() {
        return Ok(tx);
    }
    let (tx, rx) = sync_channel(CHANNEL_BATCHES);
    std::thread::Builder::new()
        .name("media-recorder".into())
        .spawn(move || write_loop(rx))?;
    // A racing first use may have set it; its thread then serves everyone.
    Ok(WRITER.get_or_init(|| tx))
}

/// A running recording; feed it with [`Recorder::push`] every tick.
pub struct Recorder {
    id: u64,
    tx: Option<&'static SyncSender<Msg>>,
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
    /// Create the WAV file (and missing parent folders) and hand it to
    /// the writer thread.
    pub fn start(path: &Path) -> Result<Recorder, MediaError> {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let spec = WavSpec {
            channels: 2,
            sample_rate: SAMPLE_RATE,
            bits_per_sample: 16,
            sample_format: SampleFormat::Int,
        };
        let mut wav = WavWriter::create(path, spec)?;
        // A valid (empty) WAV on disk from the start.
        wav.flush()?;
        let tx = writer()?;
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        tx.send(Msg::Open(id, Box::new(wav)))
            .map_err(|_| MediaError::RecorderFailed("writer thread gone".into()))?;
        Ok(Recorder {
            id,
            tx: Some(tx),
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
        let sent = match self.tx {
            Some(tx) => {
                match tx.try_send(Msg::Frames(self.id, Box::new(Batch { len, ..self.batch }))) {
                    Ok(()) => true,
                    Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => false,
                }
            }
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
    /// the writer thread has written what was queued before (a few ms).
    pub fn stop(mut self) -> Result<RecordingSummary, MediaError> {
        self.finish()
    }

    fn finish(&mut self) -> Result<RecordingSummary, MediaError> {
        let tx = self
            .tx
            .take()
            .ok_or_else(|| MediaError::RecorderFailed("already stopped".into()))?;
        if self.batch.len > 0 || self.pending_gap > 0 {
            // Last partial batch, after any dropped frames; blocking is
            // fine here (not on the media tick).
            let _ = tx.send(Msg::Frames(
                self.id,
                Box::new(Batch {
                    gap_frames: self.pending_gap,
                    ..self.batch
                }),
            ));
        }
        if self.dropped > 0 {
            warn!(path = %self.path.display(), dropped = self.dropped, "recording dropped frames (disk too slow)");
        }
        let (reply, done) = channel();
        tx.send(Msg::Close(self.id, reply))
            .map_err(|_| MediaError::RecorderFailed("writer thread gone".into()))?;
        let samples = done
            .recv()
            .map_err(|_| MediaError::RecorderFailed("writer thread gone".into()))??;
        Ok(RecordingSummary {
            path: self.path.clone(),
            duration_ms: samples * 1000 / SAMPLE_RATE as u64,
        })
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // Finalize without waiting for the result.
        if let Some(tx) = self.tx.take() {
            let (reply, _) = channel();
            let _ = tx.send(Msg::Close(self.id, reply));
        }
    }
}

/// One open file on the writer thread.
struct Open {
    wav: Wav,
    frames: u64,
    header_at: Instant,
    result: Result<(), hound::Error>,
}

/// The writer thread: owns every open file.
fn write_loop(rx: Receiver<Msg>) {
    let mut open: HashMap<u64, Open> = HashMap::new();
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Open(id, wav) => {
                open.insert(
                    id,
                    Open {
                        wav: *wav,
                        frames: 0,
                        header_at: Instant::now(),
                        result: Ok(()),
                    },
                );
            }
            Msg::Frames(id, batch) => {
                if let Some(f) = open.get_mut(&id) {
                    f.write(&batch);
                }
            }
            Msg::Close(id, reply) => {
                let Some(f) = open.remove(&id) else {
                    let _ = reply.send(Err(MediaError::RecorderFailed("unknown recording".into())));
                    continue;
                };
                let _ = reply.send(f.close());
            }
        }
    }
}

impl Open {
    fn write(&mut self, f: &Batch) {
        if self.result.is_err() {
            return; // keep draining so senders never see backpressure
        }
        let wav = &mut self.wav;
        let mut frames = 0;
        self.result = (|| {
            for _ in 0..f.gap_frames {
                write_frame(wav, &SILENCE, &SILENCE)?;
                frames += 1;
            }
            for i in 0..f.len {
                write_frame(wav, &f.left[i], &f.right[i])?;
                frames += 1;
            }
            if self.header_at.elapsed() >= HEADER_EVERY {
                // Sizes on disk follow the audio: a crash loses at most a second.
                wav.flush()?;
                self.header_at = Instant::now();
            }
            Ok::<(), hound::Error>(())
        })();
        self.frames += frames;
        if let Err(e) = &self.result {
            warn!(error = %e, "recording write failed; further audio discarded");
        }
    }

    fn close(self) -> Result<u64, MediaError> {
        self.wav.finalize()?;
        self.result?;
        Ok(self.frames * FRAME_SAMPLES as u64)
    }
}

fn write_frame(wav: &mut Wav, left: &Frame, right: &Frame) -> Result<(), hound::Error> {
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
    fn a_recording_being_written_is_a_valid_wav_at_any_time() {
        let path = temp_path("crash.wav");
        let mut r = Recorder::start(&path).unwrap();
        // What a kill -9 would leave: the file as it is on disk, unfinalized.
        assert_eq!(hound::WavReader::open(&path).unwrap().duration(), 0);
        for i in 0..150 {
            r.push(&[i as i16; 160], &[0; 160]);
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(100));
        let on_disk = hound::WavReader::open(&path).unwrap();
        let seconds = f64::from(on_disk.duration()) / 8000.0;
        assert!(
            (0.5..=3.0).contains(&seconds),
            "header covers {seconds} s of the 3 s pushed"
        );
        let samples: Vec<i16> = on_disk.into_samples::<i16>().map(|s| s.unwrap()).collect();
        assert_eq!(samples[0], 0);
        assert_eq!(samples[160 * 2], 1);
        r.stop().unwrap();
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn many_recordings_share_one_writer_thread() {
        let writers = || {
            std::fs::read_dir("/proc/self/task")
                .map(|d| {
                    d.flatten()
                        .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
                        .filter(|name| name.trim() == "media-recorder")
                        .count()
                })
                .unwrap_or(1)
        };
        let recs: Vec<Recorder> = (0..50)
            .map(|i| Recorder::start(&temp_path(&format!("many/{i}.wav"))).unwrap())
            .collect();
        assert_eq!(writers(), 1, "one writer thread for 50 recordings");
        for mut r in recs {
            r.push(&[3; 160], &[4; 160]);
            assert_eq!(r.stop().unwrap().duration_ms, 20);
        }
    }

    #[test]
    fn bad_path_is_an_error() {
        assert!(Recorder::start(Path::new("/proc/definitely/not/here.wav")).is_err());
    }
}
