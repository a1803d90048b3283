//! Call recording to stereo 8 kHz 16-bit WAV without blocking the media loop.
//!
//! Audio reaches the recorder two ways: the receive path hands it each
//! packet of a forwarded two-party call as it is relayed (payload bytes
//! only, decoded later), and the mixing tick hands it 20 ms stereo frames
//! while the call is mixed (hold, conference), batched by 100 ms. Both go,
//! with `try_send`, to one writer thread shared by every recording (no
//! thread per call), which decodes, places the audio on the recording's
//! [`Timeline`] by time, and writes the WAV 500 ms behind the wall clock.
//! If the disk stalls and the channel fills, audio is dropped (counted) and
//! its place stays silent, so the timeline stays correct.
//!
//! Crash safety: the writer updates each file's RIFF and data sizes at
//! least once a second, so after a `kill -9` every recording is a valid WAV
//! holding all but its last second or so.
//!
//! Left channel = what the recorded leg sends, right = what it hears from
//! the other room members (not music).

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{
    channel, sync_channel, Receiver, RecvTimeoutError, Sender, SyncSender, TrySendError,
};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hound::{SampleFormat, WavSpec, WavWriter};
use tracing::warn;

use crate::g711::Codec;
use crate::timeline::{Channel, Timeline};
use crate::{Frame, MediaError, FRAME_SAMPLES, SAMPLE_RATE, SILENCE};

/// Frames per message to the writer thread (100 ms).
pub const BATCH_FRAMES: usize = 5;
/// Messages the shared channel holds before recorders drop audio (about
/// 2 s of 1,500 forwarded calls at once).
pub const CHANNEL_MESSAGES: usize = 300_000;
/// Longest time a file's header lags behind the audio written.
pub const HEADER_EVERY: Duration = Duration::from_secs(1);
/// Largest forwarded payload recorded (60 ms of G.711).
const MAX_PAYLOAD: usize = 480;
/// Source id of the tick's mixed frames on the timeline (legs use theirs).
const MIXED: u64 = u64::MAX;

/// Result of a finished recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingSummary {
    /// The WAV file written.
    pub path: PathBuf,
    /// Audio length in milliseconds.
    pub duration_ms: u64,
}

/// Up to `BATCH_FRAMES` stereo frames from the tick.
#[derive(Clone, Copy)]
struct Batch {
    /// When the first frame was mixed, and its place on the mixed line.
    at: Instant,
    ts: u32,
    len: usize,
    left: [Frame; BATCH_FRAMES],
    right: [Frame; BATCH_FRAMES],
}

/// One forwarded packet for one channel.
#[derive(Clone, Copy)]
struct Packet {
    channel: Channel,
    at: Instant,
    source: u64,
    ts: u32,
    codec: Codec,
    len: u16,
    payload: [u8; MAX_PAYLOAD],
}

/// Forwarded packets of both channels, sent to the writer together (one
/// message per [`PACKET_BATCH`] packets or [`PACKET_BATCH_AGE`]).
struct Packets {
    len: usize,
    items: [Packet; PACKET_BATCH],
}

/// Forwarded packets per message to the writer (100 ms of both directions).
const PACKET_BATCH: usize = 10;
/// A partial batch older than this goes out at the next packet or visit.
pub const PACKET_BATCH_AGE: Duration = Duration::from_millis(100);

type Wav = WavWriter<BufWriter<File>>;

/// What recorders tell the writer thread.
enum Msg {
    Open(u64, Box<Wav>, Instant),
    Frames(u64, Box<Batch>),
    Packets(u64, Box<Packets>),
    /// Finish the file at the given end; the reply carries the samples
    /// written per channel.
    Close(u64, Instant, Sender<Result<u64, MediaError>>),
}

/// The shared writer thread's channel, started on first use.
fn writer() -> Result<&'static SyncSender<Msg>, MediaError> {
    static WRITER: OnceLock<SyncSender<Msg>> = OnceLock::new();
    if let Some(tx) = WRITER.get() {
        return Ok(tx);
    }
    let (tx, rx) = sync_channel(CHANNEL_MESSAGES);
    std::thread::Builder::new()
        .name("media-recorder".into())
        .spawn(move || write_loop(rx))?;
    // A racing first use may have set it; its thread then serves everyone.
    Ok(WRITER.get_or_init(|| tx))
}

/// A running recording, fed by [`Recorder::push`] (mixed frames) and
/// [`Recorder::push_packet`] (forwarded packets).
pub struct Recorder {
    id: u64,
    tx: Option<&'static SyncSender<Msg>>,
    path: PathBuf,
    batch: Batch,
    /// Place of the next mixed frame on the mixed line.
    mixed_ts: u32,
    dropped: u64,
    /// While set, audio is not kept: the file gets silence for that time.
    paused: bool,
    /// Forwarded packets not yet handed to the writer.
    packets: Option<Box<Packets>>,
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
        let now = Instant::now();
        tx.send(Msg::Open(id, Box::new(wav), now))
            .map_err(|_| MediaError::RecorderFailed("writer thread gone".into()))?;
        Ok(Recorder {
            id,
            tx: Some(tx),
            path: path.to_path_buf(),
            batch: Batch {
                at: now,
                ts: 0,
                len: 0,
                left: [SILENCE; BATCH_FRAMES],
                right: [SILENCE; BATCH_FRAMES],
            },
            mixed_ts: 0,
            dropped: 0,
            paused: false,
            packets: None,
        })
    }

    /// File being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Pause or resume keeping audio (a customer keying a card number):
    /// the paused time is silence in the file, the timeline goes on.
    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }

    /// True while paused.
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// Frames (or packets) dropped so far because the writer fell behind.
    pub fn dropped_frames(&self) -> u64 {
        self.dropped
    }

    /// Queue one mixed frame, mixed at `at`, without blocking; returns false
    /// if audio had to be dropped because the writer fell behind.
    pub fn push(&mut self, at: Instant, left: &Frame, right: &Frame) -> bool {
        let (left, right) = if self.paused {
            (&SILENCE, &SILENCE)
        } else {
            (left, right)
        };
        let b = &mut self.batch;
        if b.len == 0 {
            b.at = at;
            b.ts = self.mixed_ts;
        }
        b.left[b.len] = *left;
        b.right[b.len] = *right;
        b.len += 1;
        self.mixed_ts = self.mixed_ts.wrapping_add(FRAME_SAMPLES as u32);
        if b.len < BATCH_FRAMES {
            return true;
        }
        self.send_batch()
    }

    /// Queue a forwarded packet for `channel`: `payload` in `codec`,
    /// stamped `ts` by `source` (any id that changes when the sender
    /// changes), received at `at`.
    pub fn push_packet(
        &mut self,
        channel: Channel,
        at: Instant,
        source: u64,
        ts: u32,
        codec: Codec,
        payload: &[u8],
    ) -> bool {
        if self.paused {
            return true;
        }
        let len = payload.len().min(MAX_PAYLOAD);
        let mut p = Packet {
            channel,
            at,
            source,
            ts,
            codec,
            len: len as u16,
            payload: [0; MAX_PAYLOAD],
        };
        p.payload[..len].copy_from_slice(&payload[..len]);
        let batch = self.packets.get_or_insert_with(|| {
            Box::new(Packets {
                len: 0,
                items: [p; PACKET_BATCH],
            })
        });
        batch.items[batch.len] = p;
        batch.len += 1;
        if batch.len == PACKET_BATCH
            || at.saturating_duration_since(batch.items[0].at) >= PACKET_BATCH_AGE
        {
            return self.send_packets();
        }
        true
    }

    /// Hand forwarded packets waiting longer than [`PACKET_BATCH_AGE`] to
    /// the writer (the tick calls this for calls that went quiet).
    pub fn flush_due(&mut self, now: Instant) {
        if self
            .packets
            .as_ref()
            .is_some_and(|b| now.saturating_duration_since(b.items[0].at) >= PACKET_BATCH_AGE)
        {
            self.send_packets();
        }
    }

    fn send_packets(&mut self) -> bool {
        match self.packets.take() {
            Some(b) => {
                let n = b.len as u64;
                self.send(Msg::Packets(self.id, b), n)
            }
            None => true,
        }
    }

    fn send(&mut self, msg: Msg, frames: u64) -> bool {
        let sent = match self.tx {
            Some(tx) => match tx.try_send(msg) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => false,
            },
            None => false,
        };
        if !sent {
            self.dropped += frames;
        }
        sent
    }

    /// Hand the current batch to the writer without blocking.
    fn send_batch(&mut self) -> bool {
        let len = self.batch.len;
        self.batch.len = 0;
        let batch = Box::new(Batch { len, ..self.batch });
        self.send(Msg::Frames(self.id, batch), len as u64)
    }

    /// Write what is queued, finalize the WAV header and report the
    /// duration. Blocks until the writer thread has done it (a few ms).
    pub fn stop(mut self) -> Result<RecordingSummary, MediaError> {
        self.finish()
    }

    fn finish(&mut self) -> Result<RecordingSummary, MediaError> {
        if let (Some(tx), Some(b)) = (self.tx, self.packets.take()) {
            let _ = tx.send(Msg::Packets(self.id, b));
        }
        if self.batch.len > 0 {
            if let Some(tx) = self.tx {
                // Last partial batch; blocking is fine here (not on the tick).
                let len = self.batch.len;
                let _ = tx.send(Msg::Frames(self.id, Box::new(Batch { len, ..self.batch })));
                self.batch.len = 0;
            }
        }
        let tx = self
            .tx
            .take()
            .ok_or_else(|| MediaError::RecorderFailed("already stopped".into()))?;
        if self.dropped > 0 {
            warn!(path = %self.path.display(), dropped = self.dropped, "recording dropped audio (disk too slow)");
        }
        let (reply, done) = channel();
        tx.send(Msg::Close(self.id, Instant::now(), reply))
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
        if let (Some(tx), Some(b)) = (self.tx, self.packets.take()) {
            let _ = tx.send(Msg::Packets(self.id, b));
        }
        if let Some(tx) = self.tx.take() {
            let (reply, _) = channel();
            let _ = tx.send(Msg::Close(self.id, Instant::now(), reply));
        }
    }
}

/// One open file on the writer thread.
struct Open {
    wav: Wav,
    start: Instant,
    timeline: Timeline,
    header_at: Instant,
    result: Result<(), hound::Error>,
}

/// The writer thread: owns every open file.
fn write_loop(rx: Receiver<Msg>) {
    let mut open: HashMap<u64, Open> = HashMap::new();
    let mut pcm = [0i16; MAX_PAYLOAD];
    let mut last_sweep = Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(Msg::Open(id, wav, start)) => {
                open.insert(
                    id,
                    Open {
                        wav: *wav,
                        start,
                        timeline: Timeline::new(),
                        header_at: Instant::now(),
                        result: Ok(()),
                    },
                );
            }
            Ok(Msg::Frames(id, batch)) => {
                if let Some(f) = open.get_mut(&id) {
                    f.frames(&batch);
                }
            }
            Ok(Msg::Packets(id, batch)) => {
                if let Some(f) = open.get_mut(&id) {
                    for p in &batch.items[..batch.len] {
                        let n = p.codec.decode(&p.payload[..usize::from(p.len)], &mut pcm);
                        f.packet(p, &pcm[..n]);
                    }
                }
            }
            Ok(Msg::Close(id, end, reply)) => {
                let result = match open.remove(&id) {
                    Some(f) => f.close(end),
                    None => Err(MediaError::RecorderFailed("unknown recording".into())),
                };
                let _ = reply.send(result);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if last_sweep.elapsed() >= Duration::from_millis(200) {
            // Write out what is due, in 200 ms pieces (not per packet).
            last_sweep = Instant::now();
            for f in open.values_mut() {
                f.write_due();
            }
        }
    }
}

/// Samples between `start` and `at` (0 if `at` is earlier).
fn position(start: Instant, at: Instant) -> u64 {
    at.saturating_duration_since(start).as_micros() as u64 * u64::from(SAMPLE_RATE) / 1_000_000
}

impl Open {
    fn frames(&mut self, b: &Batch) {
        let now = position(self.start, b.at);
        for (ch, frames) in [(Channel::Left, &b.left), (Channel::Right, &b.right)] {
            let pos = self.timeline.position(ch, MIXED, b.ts, now);
            for (i, frame) in frames[..b.len].iter().enumerate() {
                let at = pos + (i * FRAME_SAMPLES) as u64;
                self.place(ch, at, frame);
            }
        }
    }

    fn packet(&mut self, p: &Packet, pcm: &[i16]) {
        let now = position(self.start, p.at);
        let pos = self.timeline.position(p.channel, p.source, p.ts, now);
        self.place(p.channel, pos, pcm);
    }

    fn place(&mut self, ch: Channel, pos: u64, samples: &[i16]) {
        let (wav, result) = (&mut self.wav, &mut self.result);
        self.timeline
            .place(ch, pos, samples, &mut |s| write_samples(wav, result, s));
    }

    /// Write out the audio that is due, and the header once a second.
    fn write_due(&mut self) {
        let now = position(self.start, Instant::now());
        let (wav, result) = (&mut self.wav, &mut self.result);
        self.timeline
            .tick(now, &mut |s| write_samples(wav, result, s));
        if self.result.is_ok() && self.header_at.elapsed() >= HEADER_EVERY {
            // Sizes on disk follow the audio: a crash loses about a second.
            if let Err(e) = self.wav.flush() {
                self.result = Err(e);
            }
            self.header_at = Instant::now();
        }
    }

    /// Write everything out, and silence up to `end`: the file spans the
    /// recording's whole time, quiet parts included.
    fn close(mut self, end: Instant) -> Result<u64, MediaError> {
        let end = position(self.start, end);
        let (wav, result) = (&mut self.wav, &mut self.result);
        self.timeline.finish(&mut |s| write_samples(wav, result, s));
        self.timeline
            .write_until(end, &mut |s| write_samples(wav, result, s));
        let written = self.timeline.written();
        self.wav.finalize()?;
        self.result?;
        Ok(written)
    }
}

/// Append stereo samples; after the first error, discard (and say so once).
fn write_samples(wav: &mut Wav, result: &mut Result<(), hound::Error>, s: &[(i16, i16)]) {
    if result.is_err() {
        return;
    }
    let mut w = wav.get_i16_writer(2 * s.len() as u32);
    for &(l, r) in s {
        w.write_sample(l);
        w.write_sample(r);
    }
    if let Err(e) = w.flush() {
        warn!(error = %e, "recording write failed; further audio discarded");
        *result = Err(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir()
            .join(format!("sb-rec-{}", std::process::id()))
            .join(name)
    }

    fn read(path: &Path) -> Vec<i16> {
        hound::WavReader::open(path)
            .unwrap()
            .into_samples::<i16>()
            .map(|s| s.unwrap())
            .collect()
    }

    #[test]
    fn writes_stereo_wav() {
        let path = temp_path("a/b/stereo.wav");
        let mut r = Recorder::start(&path).unwrap();
        let t0 = Instant::now();
        for i in 0..50 {
            let at = t0 + Duration::from_millis(20 * i);
            assert!(r.push(at, &[i as i16; 160], &[-(i as i16); 160]));
        }
        let s = r.stop().unwrap();
        assert_eq!(s.path, path);
        assert_eq!(s.duration_ms, 1000);
        let spec = hound::WavReader::open(&path).unwrap().spec();
        assert_eq!(
            (spec.channels, spec.sample_rate, spec.bits_per_sample),
            (2, 8000, 16)
        );
        let samples = read(&path);
        assert_eq!(samples.len(), 50 * 160 * 2);
        assert_eq!(&samples[320 * 2..320 * 2 + 2], &[2, -2]);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn forwarded_packets_and_mixed_frames_make_one_timeline() {
        let path = temp_path("mixed-and-forwarded.wav");
        let mut r = Recorder::start(&path).unwrap();
        let t0 = Instant::now();
        let ms = |m: u64| t0 + Duration::from_millis(m);
        let pcmu = |v: i16| {
            let mut p = [0u8; 160];
            Codec::Pcmu.encode(&[v; 160], &mut p);
            p
        };
        // 200 ms forwarded: each direction's packets, the right one 5 ms late.
        for i in 0..10u32 {
            let at = ms(20 * u64::from(i));
            r.push_packet(
                Channel::Left,
                at,
                1,
                5000 + 160 * i,
                Codec::Pcmu,
                &pcmu(1000),
            );
            let at = ms(20 * u64::from(i) + 5);
            r.push_packet(
                Channel::Right,
                at,
                2,
                77 + 160 * i,
                Codec::Pcmu,
                &pcmu(-1000),
            );
        }
        // Then 200 ms mixed (hold: the agent hears music, not recorded).
        for i in 0..10u64 {
            r.push(ms(200 + 20 * i), &[2000; 160], &[0; 160]);
        }
        let s = r.stop().unwrap();
        assert_eq!(s.duration_ms, 400);
        let samples = read(&path);
        let at = |ms: usize| (samples[ms * 16], samples[ms * 16 + 1]);
        assert!((at(50).0 - 1000).abs() < 40 && (at(50).1 + 1000).abs() < 40);
        assert_eq!(at(300), (2000, 0));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_recording_being_written_is_a_valid_wav_at_any_time() {
        let path = temp_path("crash.wav");
        let mut r = Recorder::start(&path).unwrap();
        // What a kill -9 would leave: the file as it is on disk, unfinalized.
        assert_eq!(hound::WavReader::open(&path).unwrap().duration(), 0);
        for i in 0..100 {
            r.push(Instant::now(), &[i as i16; 160], &[0; 160]);
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(300));
        let seconds = f64::from(hound::WavReader::open(&path).unwrap().duration()) / 8000.0;
        assert!(
            (0.5..=3.0).contains(&seconds),
            "the header on disk covers {seconds} s of the 2 s pushed"
        );
        assert_eq!(read(&path)[0], 0);
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
            r.push(Instant::now(), &[3; 160], &[4; 160]);
            // The frame sits where it was mixed, a few ms after the start.
            let ms = r.stop().unwrap().duration_ms;
            assert!((20..=200).contains(&ms), "{ms} ms");
        }
    }

    #[test]
    fn a_paused_recording_keeps_time_but_not_audio() {
        let path = temp_path("paused.wav");
        let mut r = Recorder::start(&path).unwrap();
        let t0 = Instant::now();
        for i in 0..30u64 {
            r.set_paused((10..20).contains(&i));
            r.push(
                t0 + Duration::from_millis(20 * i),
                &[700; 160],
                &[-700; 160],
            );
        }
        assert!(!r.is_paused());
        assert_eq!(r.stop().unwrap().duration_ms, 600);
        let samples = read(&path);
        let at = |ms: usize| (samples[ms * 16], samples[ms * 16 + 1]);
        assert_eq!(at(100), (700, -700));
        assert_eq!(at(300), (0, 0), "card digits are not in the file");
        assert_eq!(at(500), (700, -700));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn bad_path_is_an_error() {
        assert!(Recorder::start(Path::new("/proc/definitely/not/here.wav")).is_err());
    }
}
