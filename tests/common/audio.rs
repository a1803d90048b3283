//! Audio oracle: read WAV dumps and detect tones.
//!
//! Convention in the tests: every party plays a distinct sine tone (440 Hz,
//! 1000 Hz, ...) and the oracle checks the dominant frequency of what each
//! party recorded, per time window.

use std::path::Path;

/// Frequencies used as "who is speaking" signatures and as the candidate set
/// for [`dominant_frequency`] in diagnostics.
pub const TEST_FREQS: &[f32] = &[300.0, 440.0, 600.0, 800.0, 1000.0, 1200.0, 1500.0, 2000.0];

/// Mono audio, samples scaled to [-1, 1].
#[derive(Debug, Clone)]
pub struct Wav {
    pub rate: u32,
    pub samples: Vec<f32>,
}

impl Wav {
    pub fn duration(&self) -> f64 {
        self.samples.len() as f64 / self.rate as f64
    }
    /// Samples between t1 and t2 seconds (clamped).
    pub fn window(&self, t1: f64, t2: f64) -> &[f32] {
        let a = ((t1.max(0.0)) * self.rate as f64) as usize;
        let b = ((t2.max(0.0)) * self.rate as f64) as usize;
        let a = a.min(self.samples.len());
        let b = b.min(self.samples.len()).max(a);
        &self.samples[a..b]
    }
}

/// Read a 16-bit PCM WAV (mono, or the first channel of a multi-channel file).
///
/// Tolerant of headers that were never finalised (data length 0 or larger
/// than the file, as in a dump still being written): reads the data chunk to
/// the end of the file. Uses `hound` first when the file is well-formed.
pub fn read_wav(path: &Path) -> Result<Wav, String> {
    if let Ok(mut r) = hound::WavReader::open(path) {
        let spec = r.spec();
        if spec.bits_per_sample == 16
            && spec.sample_format == hound::SampleFormat::Int
            && r.len() > 0
        {
            let ch = spec.channels.max(1) as usize;
            let all: Result<Vec<i16>, _> = r.samples::<i16>().collect();
            if let Ok(all) = all {
                let samples = all
                    .iter()
                    .step_by(ch)
                    .map(|&s| s as f32 / 32768.0)
                    .collect();
                return Ok(Wav {
                    rate: spec.sample_rate,
                    samples,
                });
            }
        }
    }
    let data = std::fs::read(path).map_err(|e| format!("read {}: {}", path.display(), e))?;
    if data.len() < 12 || &data[0..4] != b"RIFF" || &data[8..12] != b"WAVE" {
        return Err(format!(
            "{}: not a RIFF/WAVE file ({} bytes)",
            path.display(),
            data.len()
        ));
    }
    let mut pos = 12;
    let mut rate = 8000u32;
    let mut channels = 1usize;
    let mut bits = 16u16;
    while pos + 8 <= data.len() {
        let id = &data[pos..pos + 4];
        let len = u32::from_le_bytes([data[pos + 4], data[pos + 5], data[pos + 6], data[pos + 7]])
            as usize;
        let body = pos + 8;
        if id == b"fmt " && body + 16 <= data.len() {
            channels = u16::from_le_bytes([data[body + 2], data[body + 3]]).max(1) as usize;
            rate = u32::from_le_bytes([
                data[body + 4],
                data[body + 5],
                data[body + 6],
                data[body + 7],
            ]);
            bits = u16::from_le_bytes([data[body + 14], data[body + 15]]);
        } else if id == b"data" {
            if bits != 16 {
                return Err(format!(
                    "{}: {} bits per sample unsupported",
                    path.display(),
                    bits
                ));
            }
            let end = if len == 0 || body + len > data.len() {
                data.len()
            } else {
                body + len
            };
            let frame = 2 * channels;
            let samples = data[body..end]
                .chunks_exact(frame)
                .map(|c| i16::from_le_bytes([c[0], c[1]]) as f32 / 32768.0)
                .collect();
            return Ok(Wav { rate, samples });
        }
        pos = body + len + (len & 1);
    }
    Err(format!("{}: no data chunk", path.display()))
}

pub fn rms(samples: &[f32]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples
        .iter()
        .map(|&s| (s as f64) * (s as f64))
        .sum::<f64>()
        / samples.len() as f64)
        .sqrt()
}

/// Goertzel power at `freq`, normalised so that a full-length sine of
/// amplitude A gives about A^2/4 (independent of the number of samples).
pub fn goertzel_power(samples: &[f32], rate: u32, freq: f32) -> f64 {
    let n = samples.len();
    if n == 0 {
        return 0.0;
    }
    let w = 2.0 * std::f64::consts::PI * freq as f64 / rate as f64;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = x as f64 + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let p = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    p / (n as f64 * n as f64)
}

/// Share of the signal energy that sits at `freq` (≈1.0 for a pure tone at
/// exactly that frequency, ≈0 for silence/noise/another tone).
pub fn tone_fraction(samples: &[f32], rate: u32, freq: f32) -> f64 {
    let r = rms(samples);
    if r < 1e-6 {
        return 0.0;
    }
    // pure tone: power = A^2/4, rms^2 = A^2/2  => fraction = 2*power/rms^2
    (2.0 * goertzel_power(samples, rate, freq) / (r * r)).min(1.0)
}

/// The candidate with the highest Goertzel power.
pub fn dominant_frequency(samples: &[f32], rate: u32, candidates: &[f32]) -> f32 {
    let mut best = (candidates.first().copied().unwrap_or(0.0), -1.0f64);
    for &f in candidates {
        let p = goertzel_power(samples, rate, f);
        if p > best.1 {
            best = (f, p);
        }
    }
    best.0
}

/// Level threshold (RMS, full scale = 1.0) below which a block is "silence".
/// A tone at `vol 0.5` has RMS ≈ 0.35; G.711 idle noise is < 0.001.
pub const SILENCE_RMS: f64 = 0.01;

/// Fraction of 100 ms blocks in [t1, t2) where `freq` is present: the block
/// is not silent and at least half of its energy is at `freq`.
pub fn tone_coverage(wav: &Wav, freq: f32, t1: f64, t2: f64) -> f64 {
    let w = wav.window(t1, t2);
    let block = (wav.rate / 10) as usize;
    let blocks: Vec<&[f32]> = w.chunks_exact(block.max(1)).collect();
    if blocks.is_empty() {
        return 0.0;
    }
    let hits = blocks
        .iter()
        .filter(|b| rms(b) > SILENCE_RMS && tone_fraction(b, wav.rate, freq) > 0.5)
        .count();
    hits as f64 / blocks.len() as f64
}

/// Fraction of 100 ms blocks in [t1, t2) that are silent.
pub fn silence_coverage(wav: &Wav, t1: f64, t2: f64) -> f64 {
    let w = wav.window(t1, t2);
    let block = (wav.rate / 10) as usize;
    let blocks: Vec<&[f32]> = w.chunks_exact(block.max(1)).collect();
    if blocks.is_empty() {
        return 1.0;
    }
    blocks.iter().filter(|b| rms(b) <= SILENCE_RMS).count() as f64 / blocks.len() as f64
}

/// Seconds (in 100 ms blocks) in the whole file where `freq` is present.
pub fn tone_seconds(wav: &Wav, freq: f32) -> f64 {
    tone_coverage(wav, freq, 0.0, wav.duration()) * (wav.duration() * 10.0).floor() / 10.0
}

/// Was `freq` heard for at least `coverage` (0..1) of the window [t1, t2)?
pub fn tone_heard_between(wav: &Wav, freq: f32, t1: f64, t2: f64, coverage: f64) -> bool {
    tone_coverage(wav, freq, t1, t2) >= coverage
}

/// Is the window [t1, t2) silent for at least `coverage` of it?
pub fn mostly_silence(wav: &Wav, t1: f64, t2: f64, coverage: f64) -> bool {
    silence_coverage(wav, t1, t2) >= coverage
}

/// Human-readable per-second analysis: "0-1s: 440Hz rms=0.35 | 1-2s: ..."
pub fn describe(wav: &Wav) -> String {
    let mut out = format!(
        "{:.2}s @{}Hz rms={:.3}:",
        wav.duration(),
        wav.rate,
        rms(&wav.samples)
    );
    let secs = wav.duration().ceil() as usize;
    for s in 0..secs.min(120) {
        let w = wav.window(s as f64, s as f64 + 1.0);
        let r = rms(w);
        if r <= SILENCE_RMS {
            out.push_str(&format!(" [{}s: silence]", s));
        } else {
            let f = dominant_frequency(w, wav.rate, TEST_FREQS);
            out.push_str(&format!(
                " [{}s: {}Hz {:.0}% rms={:.2}]",
                s,
                f,
                100.0 * tone_fraction(w, wav.rate, f),
                r
            ));
        }
    }
    out
}

/// Read `path` and assert that `freq` is heard for at least `min_secs`
/// seconds in total; panics with a per-second description otherwise.
pub fn assert_hears(path: &Path, freq: f32, min_secs: f64, who: &str) -> Wav {
    let wav = read_wav(path).unwrap_or_else(|e| panic!("{}: {}", who, e));
    let secs = tone_seconds(&wav, freq);
    assert!(
        secs >= min_secs,
        "{} should hear {} Hz for >= {:.1}s but heard it for {:.1}s; {} ({})",
        who,
        freq,
        min_secs,
        secs,
        describe(&wav),
        path.display()
    );
    wav
}

/// Assert `freq` is NOT heard for more than `max_secs` seconds in `path`.
pub fn assert_not_hears(path: &Path, freq: f32, max_secs: f64, who: &str) -> Wav {
    let wav = read_wav(path).unwrap_or_else(|e| panic!("{}: {}", who, e));
    let secs = tone_seconds(&wav, freq);
    assert!(
        secs <= max_secs,
        "{} should not hear {} Hz but heard it for {:.1}s; {} ({})",
        who,
        freq,
        secs,
        describe(&wav),
        path.display()
    );
    wav
}
