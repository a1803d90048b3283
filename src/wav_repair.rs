//! Repairing a recording's WAV header after the server was killed.
//!
//! The recorder rewrites each file's RIFF and data sizes at least once a
//! second, so a `kill -9` leaves a valid WAV whose header may not count its
//! last second of audio. [`repair`] sets both sizes from the real file length
//! (whole sample frames only; a frame cut in half by the kill is dropped), so
//! every sample on disk is readable. `hound` cannot patch a file in place,
//! hence this small reader of the RIFF layout.
//!
//! The data chunk is taken to be the last chunk of the file, as the recorder
//! writes it: bytes after the sizes the header states are audio it had not
//! counted yet.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Why a file could not be repaired (it is left untouched).
#[derive(Debug, thiserror::Error)]
pub enum WavError {
    /// The file could not be read or written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Not a PCM WAV, or its header itself is cut short.
    #[error("not a repairable WAV: {0}")]
    NotWav(&'static str),
}

/// What [`repair`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavAudio {
    /// Sample frames (one sample per channel) in the file.
    pub frames: u64,
    /// Audio length in milliseconds.
    pub duration_ms: u64,
    /// Whether the header (or a trailing partial frame) had to be fixed.
    pub repaired: bool,
}

/// The layout read from a WAV header.
struct Layout {
    /// Offset of the data chunk's size field.
    data_size_at: u64,
    /// Offset of the first audio byte.
    data_start: u64,
    /// Data size the header states.
    data_size: u32,
    /// RIFF size the header states.
    riff_size: u32,
    /// Bytes per sample frame.
    block_align: u16,
    /// Frames per second.
    sample_rate: u32,
}

fn read_exact_at(f: &mut File, at: u64, buf: &mut [u8]) -> Result<bool, WavError> {
    f.seek(SeekFrom::Start(at))?;
    match f.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

/// Walk the chunks up to the data chunk.
fn layout(f: &mut File, len: u64) -> Result<Layout, WavError> {
    let mut riff = [0u8; 12];
    if !read_exact_at(f, 0, &mut riff)? {
        return Err(WavError::NotWav("shorter than a RIFF header"));
    }
    if &riff[0..4] != b"RIFF" || &riff[8..12] != b"WAVE" {
        return Err(WavError::NotWav("no RIFF/WAVE signature"));
    }
    let riff_size = u32_at(&riff, 4);
    let mut at = 12u64;
    let mut fmt: Option<(u16, u32)> = None;
    loop {
        let mut head = [0u8; 8];
        if !read_exact_at(f, at, &mut head)? {
            return Err(WavError::NotWav("no data chunk"));
        }
        let size = u32_at(&head, 4);
        if &head[0..4] == b"data" {
            let (block_align, sample_rate) =
                fmt.ok_or(WavError::NotWav("data chunk before the fmt chunk"))?;
            return Ok(Layout {
                data_size_at: at + 4,
                data_start: at + 8,
                data_size: size,
                riff_size,
                block_align,
                sample_rate,
            });
        }
        let body = at + 8;
        if body + u64::from(size) > len {
            return Err(WavError::NotWav("a header chunk is cut short"));
        }
        if &head[0..4] == b"fmt " {
            if size < 16 {
                return Err(WavError::NotWav("fmt chunk too small"));
            }
            let mut b = [0u8; 16];
            read_exact_at(f, body, &mut b)?;
            let (format, sample_rate, block_align) = (u16_at(&b, 0), u32_at(&b, 4), u16_at(&b, 12));
            // 1 = PCM, 0xFFFE = WAVE_FORMAT_EXTENSIBLE (hound, for > 2 channels or > 16 bits).
            if format != 1 && format != 0xFFFE {
                return Err(WavError::NotWav("not PCM"));
            }
            if block_align == 0 || sample_rate == 0 {
                return Err(WavError::NotWav("zero block size or sample rate"));
            }
            fmt = Some((block_align, sample_rate));
        }
        // Chunks are padded to an even size.
        at = body + u64::from(size) + u64::from(size % 2);
    }
}

/// Make the WAV at `path` describe exactly the whole sample frames it holds:
/// RIFF and data sizes from the file length, a trailing partial frame cut
/// off. A file already right is not written to. The fix is synced to disk.
pub fn repair(path: &Path) -> Result<WavAudio, WavError> {
    let mut f = OpenOptions::new().read(true).write(true).open(path)?;
    let len = f.metadata()?.len();
    let l = layout(&mut f, len)?;
    let align = u64::from(l.block_align);
    // Sizes are 32-bit: a file past 4 GiB keeps the frames the header can count.
    let max_data = (u64::from(u32::MAX) - (l.data_start - 8)) / align * align;
    let data = (len.saturating_sub(l.data_start) / align * align).min(max_data);
    let end = l.data_start + data;
    let riff = (end - 8) as u32;
    let repaired = u64::from(l.data_size) != data || l.riff_size != riff || len != end;
    if repaired {
        f.seek(SeekFrom::Start(4))?;
        f.write_all(&riff.to_le_bytes())?;
        f.seek(SeekFrom::Start(l.data_size_at))?;
        f.write_all(&(data as u32).to_le_bytes())?;
        if len != end {
            f.set_len(end)?;
        }
        f.sync_all()?;
    }
    let frames = data / align;
    Ok(WavAudio {
        frames,
        duration_ms: frames * 1000 / u64::from(l.sample_rate),
        repaired,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sb-wav-repair-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    /// A stereo 8 kHz WAV written by hound with `frames` frames (left = i, right = -i).
    fn write_wav(path: &Path, frames: u32) {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for i in 0..frames {
            w.write_sample((i % 30000) as i16).unwrap();
            w.write_sample(-((i % 30000) as i16)).unwrap();
        }
        w.finalize().unwrap();
    }

    /// The file as a crash leaves it: `frames` frames of audio (plus
    /// `extra` bytes of a frame cut short) under a header that counts only
    /// `counted` frames.
    fn crashed_wav(path: &Path, frames: u32, counted: u32, extra: usize) {
        write_wav(path, frames);
        let mut bytes = std::fs::read(path).unwrap();
        let data = counted * 4;
        bytes[4..8].copy_from_slice(&(36 + data).to_le_bytes());
        bytes[40..44].copy_from_slice(&data.to_le_bytes());
        bytes.extend(std::iter::repeat_n(0x55, extra));
        std::fs::write(path, bytes).unwrap();
    }

    fn samples(path: &Path) -> Vec<i16> {
        let mut r = hound::WavReader::open(path).unwrap();
        r.samples::<i16>().collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn a_header_behind_its_audio_is_fixed_and_every_sample_reads() {
        let p = temp("behind.wav");
        // 3 s of audio, header written when 2 s were on disk, half a frame more.
        crashed_wav(&p, 24_000, 16_000, 2);
        assert_eq!(
            samples(&p).len(),
            32_000,
            "before: the header hides a second"
        );
        let got = repair(&p).unwrap();
        assert_eq!(
            got,
            WavAudio {
                frames: 24_000,
                duration_ms: 3_000,
                repaired: true
            }
        );
        let s = samples(&p);
        assert_eq!(s.len(), 48_000, "every whole frame on disk is read");
        assert_eq!((s[47_998], s[47_999]), (23_999, -23_999), "the last frame");
        assert_eq!(std::fs::metadata(&p).unwrap().len(), 44 + 96_000);
        // A second pass finds nothing to do.
        assert!(!repair(&p).unwrap().repaired);
    }

    #[test]
    fn a_header_with_zero_sizes_is_fixed() {
        // What the issue saw after kill -9 before the periodic header update.
        let p = temp("zero.wav");
        crashed_wav(&p, 8_000, 0, 0);
        let got = repair(&p).unwrap();
        assert_eq!(
            (got.frames, got.duration_ms, got.repaired),
            (8_000, 1_000, true)
        );
        assert_eq!(samples(&p).len(), 16_000);
    }

    #[test]
    fn a_correct_file_is_left_untouched() {
        let p = temp("fine.wav");
        write_wav(&p, 4_000);
        let before = std::fs::read(&p).unwrap();
        let got = repair(&p).unwrap();
        assert_eq!(
            got,
            WavAudio {
                frames: 4_000,
                duration_ms: 500,
                repaired: false
            }
        );
        assert_eq!(std::fs::read(&p).unwrap(), before);
        // An empty recording (header only) is fine too.
        let e = temp("empty.wav");
        write_wav(&e, 0);
        assert_eq!(repair(&e).unwrap().frames, 0);
    }

    #[test]
    fn a_header_cut_short_is_refused_and_left_alone() {
        let p = temp("cut.wav");
        write_wav(&p, 100);
        let bytes = std::fs::read(&p).unwrap();
        for keep in [0, 3, 11, 20, 40] {
            std::fs::write(&p, &bytes[..keep]).unwrap();
            let err = repair(&p).unwrap_err();
            assert!(matches!(err, WavError::NotWav(_)), "{keep} bytes: {err}");
            assert_eq!(std::fs::read(&p).unwrap(), &bytes[..keep], "untouched");
        }
        // Cut right after the data chunk header: a valid, empty recording.
        std::fs::write(&p, &bytes[..44]).unwrap();
        let got = repair(&p).unwrap();
        assert_eq!((got.frames, got.repaired), (0, true));
        assert!(samples(&p).is_empty());
    }

    #[test]
    fn garbage_is_refused_and_left_alone() {
        let p = temp("garbage.wav");
        let junk: Vec<u8> = (0..5_000u32).map(|i| (i * 7919 % 251) as u8).collect();
        std::fs::write(&p, &junk).unwrap();
        assert!(matches!(repair(&p), Err(WavError::NotWav(_))));
        assert_eq!(std::fs::read(&p).unwrap(), junk);
        // A RIFF/WAVE signature over garbage chunks.
        let mut riff = b"RIFF\0\0\0\0WAVEjunk".to_vec();
        riff.extend_from_slice(&u32::MAX.to_le_bytes());
        riff.extend_from_slice(&junk);
        std::fs::write(&p, &riff).unwrap();
        assert!(matches!(repair(&p), Err(WavError::NotWav(_))));
        // Not PCM (format 3 = float).
        write_wav(&p, 10);
        let mut b = std::fs::read(&p).unwrap();
        b[20] = 3;
        std::fs::write(&p, &b).unwrap();
        assert!(matches!(repair(&p), Err(WavError::NotWav("not PCM"))));
        // No file at all.
        assert!(matches!(repair(&temp("missing.wav")), Err(WavError::Io(_))));
    }
}
