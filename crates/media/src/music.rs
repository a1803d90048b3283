//! Music on hold: a library of named audio classes and a looping player.
//!
//! Classes come from a directory: each subfolder (all its `.wav` files in
//! name order) or each top-level `.wav` file is a class named after the
//! folder or file stem. Audio is converted to 8 kHz mono 16-bit on load so
//! playback is a plain copy. A synthesized class `default` is always present
//! so the project ships no binary audio; a `default` folder/file overrides it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hound::{SampleFormat, WavReader};
use tracing::{info, warn};

use crate::{Frame, FRAME_SAMPLES, SAMPLE_RATE};

/// Name of the always-present class.
pub const DEFAULT_CLASS: &str = "default";

/// Name of the always-present ringback class: what a caller hears while the
/// far end rings and sends no early media of its own.
pub const RINGBACK_CLASS: &str = "ringback";

/// Loaded music classes, each a shared buffer of 8 kHz mono samples.
#[derive(Debug, Clone)]
pub struct MusicLibrary {
    classes: BTreeMap<String, Arc<[i16]>>,
}

impl Default for MusicLibrary {
    fn default() -> Self {
        Self::load(None)
    }
}

impl MusicLibrary {
    /// Load all classes under `dir` (if any) plus the built-in `default`.
    /// Unreadable files are skipped with a warning; this never fails.
    pub fn load(dir: Option<&Path>) -> MusicLibrary {
        let mut classes = BTreeMap::new();
        classes.insert(DEFAULT_CLASS.to_string(), Arc::from(default_melody()));
        classes.insert(RINGBACK_CLASS.to_string(), Arc::from(ringback_tone()));
        if let Some(dir) = dir {
            for (name, samples) in load_dir(dir) {
                info!(class = %name, seconds = samples.len() / SAMPLE_RATE as usize, "loaded music class");
                classes.insert(name, Arc::from(samples));
            }
        }
        MusicLibrary { classes }
    }

    /// Class names, sorted.
    pub fn class_names(&self) -> Vec<String> {
        self.classes.keys().cloned().collect()
    }

    /// True if a class of that name exists.
    pub fn contains(&self, class: &str) -> bool {
        self.classes.contains_key(class)
    }

    /// Samples of a class, falling back to `default` for unknown names.
    pub fn samples(&self, class: &str) -> Arc<[i16]> {
        self.classes
            .get(class)
            .or_else(|| self.classes.get(DEFAULT_CLASS))
            .cloned()
            .unwrap_or_else(|| Arc::from(default_melody()))
    }

    /// A player positioned at the start of `class` (unknown -> `default`).
    pub fn player(&self, class: &str) -> MusicPlayer {
        MusicPlayer::new(self.samples(class))
    }
}

/// Looping cursor over a class's samples producing 20 ms frames.
#[derive(Debug, Clone)]
pub struct MusicPlayer {
    samples: Arc<[i16]>,
    pos: usize,
}

impl MusicPlayer {
    /// Player at the start of `samples`.
    pub fn new(samples: Arc<[i16]>) -> MusicPlayer {
        MusicPlayer { samples, pos: 0 }
    }

    /// Next 160 samples, wrapping around at the end (silence if empty).
    pub fn next_frame(&mut self) -> Frame {
        let mut out = [0i16; FRAME_SAMPLES];
        let len = self.samples.len();
        if len == 0 {
            return out;
        }
        let mut filled = 0;
        while filled < FRAME_SAMPLES {
            let n = (FRAME_SAMPLES - filled).min(len - self.pos);
            out[filled..filled + n].copy_from_slice(&self.samples[self.pos..self.pos + n]);
            filled += n;
            self.pos = (self.pos + n) % len;
        }
        out
    }
}

/// The built-in melody: 8 soft bell-like notes (C major, 392-784 Hz,
/// avoiding 440 Hz), one second each, peak about -12 dBFS.
/// The ringback tone of ITU-T E.180 as most of Europe plays it: 425 Hz,
/// 1 s on, 4 s off, at -15 dBm0-ish (a `ringback` folder or file replaces
/// it, e.g. with the North American 440+480 Hz 2 s/4 s cadence).
pub fn ringback_tone() -> Vec<i16> {
    const HZ: f32 = 425.0;
    const PEAK: f32 = 5800.0;
    let rate = SAMPLE_RATE as f32;
    let on = SAMPLE_RATE as usize;
    let ramp = (0.01 * rate) as usize;
    let mut out = vec![0i16; 5 * SAMPLE_RATE as usize];
    for (i, v) in out.iter_mut().take(on).enumerate() {
        let env = (i.min(on - 1 - i) as f32 / ramp as f32).min(1.0);
        let w = std::f32::consts::TAU * HZ * i as f32 / rate;
        *v = (env * PEAK * w.sin()) as i16;
    }
    out
}

/// The synthesized `default` class: a short melody.
pub fn default_melody() -> Vec<i16> {
    const NOTES: [f32; 8] = [
        523.25, 659.25, 783.99, 659.25, 698.46, 587.33, 392.00, 523.25,
    ];
    const NOTE_SECONDS: f32 = 1.0;
    const PEAK: f32 = 8192.0; // 0.25 full scale = -12 dBFS
    let rate = SAMPLE_RATE as f32;
    let per_note = (NOTE_SECONDS * rate) as usize;
    let attack = (0.015 * rate) as usize;
    let release = (0.05 * rate) as usize;
    let mut raw = Vec::with_capacity(per_note * NOTES.len());
    for &freq in &NOTES {
        for i in 0..per_note {
            let t = i as f32 / rate;
            let decay = (-t / 0.35).exp();
            let env = if i < attack {
                i as f32 / attack as f32
            } else if i >= per_note - release {
                decay * (per_note - i) as f32 / release as f32
            } else {
                decay
            };
            let w = std::f32::consts::TAU * freq * t;
            raw.push(env * (w.sin() + 0.2 * (2.0 * w).sin()));
        }
    }
    let max = raw
        .iter()
        .fold(0f32, |m, v| m.max(v.abs()))
        .max(f32::EPSILON);
    raw.iter().map(|v| (v / max * PEAK) as i16).collect()
}

/// Load every class found directly under `dir`.
fn load_dir(dir: &Path) -> Vec<(String, Vec<i16>)> {
    let entries = match sorted_entries(dir) {
        Ok(e) => e,
        Err(e) => {
            warn!(dir = %dir.display(), error = %e, "cannot read music directory");
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for path in entries {
        let Some(name) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        let samples = if path.is_dir() {
            let files = match sorted_entries(&path) {
                Ok(f) => f,
                Err(e) => {
                    warn!(dir = %path.display(), error = %e, "cannot read music class folder");
                    continue;
                }
            };
            let mut all = Vec::new();
            for f in files.iter().filter(|f| is_wav(f)) {
                if let Some(s) = load_wav_logged(f) {
                    all.extend(s);
                }
            }
            all
        } else if is_wav(&path) {
            load_wav_logged(&path).unwrap_or_default()
        } else {
            continue;
        };
        if samples.is_empty() {
            warn!(class = %name, "music class has no usable audio, skipped");
        } else {
            out.push((name, samples));
        }
    }
    out
}

fn sorted_entries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    v.sort();
    Ok(v)
}

fn is_wav(path: &Path) -> bool {
    path.is_file()
        && path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("wav"))
}

fn load_wav_logged(path: &Path) -> Option<Vec<i16>> {
    match load_wav(path) {
        Ok(s) => Some(s),
        Err(e) => {
            warn!(file = %path.display(), error = %e, "skipping unreadable music file");
            None
        }
    }
}

/// Read a WAV file as 8 kHz mono 16-bit: other integer/float formats are
/// scaled, channels are averaged and other rates naively resampled.
pub fn load_wav(path: &Path) -> Result<Vec<i16>, hound::Error> {
    let mut reader = WavReader::open(path)?;
    let spec = reader.spec();
    if spec.channels == 0 || spec.sample_rate == 0 {
        return Err(hound::Error::FormatError("zero channels or sample rate"));
    }
    let samples: Vec<i32> = match (spec.sample_format, spec.bits_per_sample) {
        (SampleFormat::Int, bits @ 1..=32) => {
            let shift = bits as i32 - 16;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| if shift >= 0 { v >> shift } else { v << -shift }))
                .collect::<Result<_, _>>()?
        }
        (SampleFormat::Float, 32) => reader
            .samples::<f32>()
            .map(|s| s.map(|v| (v.clamp(-1.0, 1.0) * 32767.0) as i32))
            .collect::<Result<_, _>>()?,
        _ => return Err(hound::Error::Unsupported),
    };
    let channels = spec.channels as usize;
    let mono: Vec<i16> = samples
        .chunks_exact(channels)
        .map(|c| crate::mixer::saturate(c.iter().sum::<i32>() / channels as i32))
        .collect();
    Ok(resample(&mono, spec.sample_rate, SAMPLE_RATE))
}

/// Naive resampler: box averaging when downsampling, linear interpolation
/// when upsampling. Good enough for hold music on a phone line.
pub fn resample(input: &[i16], from: u32, to: u32) -> Vec<i16> {
    if from == to || input.is_empty() {
        return input.to_vec();
    }
    let out_len = (input.len() as u64 * to as u64 / from as u64) as usize;
    let ratio = from as f64 / to as f64;
    let mut out = Vec::with_capacity(out_len);
    for i in 0..out_len {
        if from > to {
            let start = (i as f64 * ratio) as usize;
            let end = (((i + 1) as f64 * ratio) as usize).clamp(start + 1, input.len());
            let sum: i64 = input[start..end].iter().map(|&v| v as i64).sum();
            out.push((sum / (end - start) as i64) as i16);
        } else {
            let pos = i as f64 * ratio;
            let idx = pos as usize;
            let frac = pos - idx as f64;
            let a = input[idx] as f64;
            let b = input[(idx + 1).min(input.len() - 1)] as f64;
            out.push((a + (b - a) * frac) as i16);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hound::{WavSpec, WavWriter};

    fn write_wav(path: &Path, rate: u32, channels: u16, samples: &[i16]) {
        let spec = WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: SampleFormat::Int,
        };
        let mut w = WavWriter::create(path, spec).unwrap();
        for &s in samples {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
    }

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sb-music-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn default_melody_shape() {
        let m = default_melody();
        assert_eq!(m.len(), 8 * 8000);
        let peak = m.iter().map(|v| v.unsigned_abs()).max().unwrap();
        assert!((8000..=8192).contains(&peak), "peak {peak}");
        let rms = (m.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / m.len() as f64).sqrt();
        assert!(rms > 1000.0, "rms {rms}");
        // No click at the loop point.
        assert!(m[0].abs() < 100 && m[m.len() - 1].abs() < 100);
    }

    #[test]
    fn ringback_is_one_second_of_425_hz_then_four_of_silence() {
        let r = ringback_tone();
        assert_eq!(r.len(), 5 * 8000);
        assert!(r[8000..].iter().all(|v| *v == 0));
        // 425 Hz: 425 positive-going zero crossings in the second of tone (±2).
        let ups = r[..8000]
            .windows(2)
            .filter(|w| w[0] < 0 && w[1] >= 0)
            .count();
        assert!((423..=427).contains(&ups), "{ups}");
        assert!(r[0].abs() < 100 && r[7999].abs() < 100, "no click");
    }

    #[test]
    fn library_without_dir_has_default() {
        let lib = MusicLibrary::load(None);
        assert_eq!(lib.class_names(), vec!["default", "ringback"]);
        assert_eq!(lib.samples("nope").len(), lib.samples("default").len());
        let missing = MusicLibrary::load(Some(Path::new("/nonexistent/switchboard")));
        assert_eq!(missing.class_names(), vec!["default", "ringback"]);
    }

    #[test]
    fn loads_folders_files_and_skips_garbage() {
        let dir = temp_dir("lib");
        std::fs::create_dir_all(dir.join("jazz")).unwrap();
        write_wav(&dir.join("jazz/a.wav"), 8000, 1, &[1; 800]);
        write_wav(&dir.join("jazz/b.wav"), 8000, 1, &[2; 800]);
        std::fs::write(dir.join("jazz/broken.wav"), b"not a wav").unwrap();
        write_wav(&dir.join("rock.wav"), 16000, 2, &[100; 3200]); // stereo 16 kHz
        std::fs::write(dir.join("bad.wav"), b"RIFF....").unwrap();
        std::fs::write(dir.join("readme.txt"), b"hi").unwrap();
        let lib = MusicLibrary::load(Some(&dir));
        assert_eq!(
            lib.class_names(),
            vec!["default", "jazz", "ringback", "rock"]
        );
        let jazz = lib.samples("jazz");
        assert_eq!(jazz.len(), 1600);
        assert_eq!((jazz[0], jazz[1599]), (1, 2));
        let rock = lib.samples("rock");
        assert_eq!(rock.len(), 800);
        assert!(rock.iter().all(|&v| v == 100));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn player_loops_in_frames() {
        let samples: Arc<[i16]> = (0..250).map(|i| i as i16).collect::<Vec<_>>().into();
        let mut p = MusicPlayer::new(samples);
        let a = p.next_frame();
        assert_eq!((a[0], a[159]), (0, 159));
        let b = p.next_frame();
        assert_eq!((b[0], b[89], b[90], b[159]), (160, 249, 0, 69));
        let mut empty = MusicPlayer::new(Arc::from(Vec::new()));
        assert_eq!(empty.next_frame(), crate::SILENCE);
    }

    #[test]
    fn resampling() {
        let up = resample(&[0, 100], 4000, 8000);
        assert_eq!(up, vec![0, 50, 100, 100]);
        let down = resample(&[10, 20, 30, 40, 50, 60], 24000, 8000);
        assert_eq!(down, vec![20, 50]);
        assert_eq!(resample(&[1, 2, 3], 8000, 8000), vec![1, 2, 3]);
    }
}
