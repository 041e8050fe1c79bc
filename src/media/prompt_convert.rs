//! Turning a WAV file someone uploaded (or espeak-ng wrote) into a prompt: any PCM WAV that
//! hound reads — 8/16/24/32-bit integer or 32-bit float, any rate, mono or more channels — is
//! mixed down to mono, resampled to 8 kHz with rubato's band-limited FFT resampler and written
//! back as 8 kHz mono 16-bit WAV bytes. Pure: bytes in, bytes out, no files.

use super::prompt::PROMPT_SAMPLE_RATE;
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};
use std::io::Cursor;
use std::time::Duration;

/// Largest WAV file accepted, in bytes.
pub const MAX_PROMPT_BYTES: usize = 10 * 1024 * 1024;
/// Longest prompt accepted.
pub const MAX_PROMPT_SECONDS: f64 = 60.0;
/// Input rates accepted (telephone band up to studio rates).
const RATES: std::ops::RangeInclusive<u32> = 4_000..=384_000;
/// Input frames per FFT chunk.
const CHUNK: usize = 1024;

/// Why a file cannot become a prompt. The messages are shown to the operator as they are.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConvertError {
    /// No bytes at all.
    #[error("the file is empty")]
    Empty,
    /// More than [`MAX_PROMPT_BYTES`].
    #[error("the file is {0} bytes; prompts may be at most {MAX_PROMPT_BYTES} bytes (10 MB)")]
    TooLarge(usize),
    /// Not a WAV file hound can read.
    #[error("not a WAV file hound can read ({0}); upload a PCM WAV (8/16/24/32-bit integer or 32-bit float)")]
    NotWav(String),
    /// A WAV with something odd in its header.
    #[error("unsupported WAV: {0}")]
    Unsupported(String),
    /// A WAV without a single sample.
    #[error("the WAV file has no audio")]
    NoAudio,
    /// Longer than [`MAX_PROMPT_SECONDS`].
    #[error("the recording is {0:.1} s long; prompts may be at most {MAX_PROMPT_SECONDS} s")]
    TooLong(f64),
    /// The resampler refused (should not happen for accepted rates).
    #[error("cannot resample: {0}")]
    Resample(String),
}

/// A converted prompt.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    /// 8 kHz mono 16-bit samples.
    pub samples: Vec<i16>,
    /// The same as a complete WAV file.
    pub wav: Vec<u8>,
    /// The input's format, e.g. "44100 Hz, 2 channels, 16-bit int".
    pub source_format: String,
}

impl Converted {
    /// Playing time at 8 kHz.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples.len() as f64 / f64::from(PROMPT_SAMPLE_RATE))
    }
}

/// Converts WAV bytes to an 8 kHz mono 16-bit prompt, refusing empty, oversized, unreadable
/// and over-long files.
pub fn convert_wav(bytes: &[u8]) -> Result<Converted, ConvertError> {
    if bytes.is_empty() {
        return Err(ConvertError::Empty);
    }
    if bytes.len() > MAX_PROMPT_BYTES {
        return Err(ConvertError::TooLarge(bytes.len()));
    }
    let mut reader = hound::WavReader::new(Cursor::new(bytes))
        .map_err(|e| ConvertError::NotWav(e.to_string()))?;
    let spec = reader.spec();
    if !RATES.contains(&spec.sample_rate) {
        return Err(ConvertError::Unsupported(format!(
            "sample rate {} Hz (accepted: {}–{} Hz)",
            spec.sample_rate,
            RATES.start(),
            RATES.end()
        )));
    }
    if spec.channels == 0 {
        return Err(ConvertError::Unsupported("zero channels".into()));
    }
    let channels = usize::from(spec.channels);
    let frames = reader.duration() as usize;
    let seconds = frames as f64 / f64::from(spec.sample_rate);
    if seconds > MAX_PROMPT_SECONDS {
        return Err(ConvertError::TooLong(seconds));
    }
    let kind = match spec.sample_format {
        hound::SampleFormat::Int => "int",
        hound::SampleFormat::Float => "float",
    };
    let source_format = format!(
        "{} Hz, {} channel{}, {}-bit {kind}",
        spec.sample_rate,
        spec.channels,
        if spec.channels == 1 { "" } else { "s" },
        spec.bits_per_sample
    );
    let interleaved: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => reader
            .samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(|e| ConvertError::NotWav(e.to_string()))?,
        (hound::SampleFormat::Int, bits @ (8 | 16 | 24 | 32)) => {
            let scale = 1.0 / (1u64 << (bits - 1)) as f64;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| (f64::from(v) * scale) as f32))
                .collect::<Result<_, _>>()
                .map_err(|e| ConvertError::NotWav(e.to_string()))?
        }
        _ => return Err(ConvertError::Unsupported(source_format)),
    };
    let mono = downmix(&interleaved, channels);
    if mono.is_empty() {
        return Err(ConvertError::NoAudio);
    }
    let resampled = resample(&mono, spec.sample_rate)?;
    let samples: Vec<i16> = resampled.iter().map(|&v| to_i16(v)).collect();
    let wav = encode_wav(&samples)?;
    Ok(Converted {
        samples,
        wav,
        source_format,
    })
}

/// Averages the channels of interleaved frames (a trailing partial frame is dropped).
pub fn downmix(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels <= 1 {
        return interleaved.to_vec();
    }
    interleaved
        .chunks_exact(channels)
        .map(|f| f.iter().sum::<f32>() / channels as f32)
        .collect()
}

/// Mono samples at `rate` to 8 kHz (a copy when already 8 kHz).
fn resample(mono: &[f32], rate: u32) -> Result<Vec<f32>, ConvertError> {
    if rate == PROMPT_SAMPLE_RATE {
        return Ok(mono.to_vec());
    }
    let err = |e: &dyn std::fmt::Display| ConvertError::Resample(e.to_string());
    let mut fft = Fft::<f32>::new(
        rate as usize,
        PROMPT_SAMPLE_RATE as usize,
        CHUNK,
        1,
        FixedSync::Input,
    )
    .map_err(|e| err(&e))?;
    let adapter = InterleavedSlice::new(mono, 1, mono.len()).map_err(|e| err(&e))?;
    let out = fft
        .process_all(&adapter, mono.len(), None)
        .map_err(|e| err(&e))?;
    Ok(out.take_data())
}

/// -1..1 to 16-bit, clipped.
fn to_i16(v: f32) -> i16 {
    (v * 32767.0).round().clamp(-32768.0, 32767.0) as i16
}

/// 8 kHz mono 16-bit samples as a WAV file.
pub fn encode_wav(samples: &[i16]) -> Result<Vec<u8>, ConvertError> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: PROMPT_SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = Cursor::new(Vec::with_capacity(44 + samples.len() * 2));
    let e = |e: hound::Error| ConvertError::Unsupported(e.to_string());
    let mut w = hound::WavWriter::new(&mut out, spec).map_err(e)?;
    for &s in samples {
        w.write_sample(s).map_err(e)?;
    }
    w.finalize().map_err(e)?;
    Ok(out.into_inner())
}

/// Cuts silence (below `threshold` of full scale) from both ends, keeping `pad` samples of it
/// at each end, and scales the peak to `peak` of full scale — what `scripts/make-prompts.sh`
/// does with sox for synthesised prompts. Silence only gives silence back.
pub fn trim_and_normalise(samples: &[i16], threshold: f32, pad: usize, peak: f32) -> Vec<i16> {
    let limit = (threshold * 32767.0) as i32;
    let loud = |s: &i16| i32::from(*s).abs() > limit;
    let (Some(first), Some(last)) = (
        samples.iter().position(loud),
        samples.iter().rposition(loud),
    ) else {
        return Vec::new();
    };
    let start = first.saturating_sub(pad);
    let end = (last + 1 + pad).min(samples.len());
    let max = samples[start..end]
        .iter()
        .map(|s| i32::from(*s).abs())
        .max()
        .unwrap_or(0)
        .max(1);
    let gain = f64::from(peak) * 32767.0 / f64::from(max);
    samples[start..end]
        .iter()
        .map(|&s| (f64::from(s) * gain).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn wav_bytes(spec: hound::WavSpec, frames: usize, f: impl Fn(usize, u16) -> f64) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut out, spec).expect("writer");
        for i in 0..frames {
            for c in 0..spec.channels {
                let v = f(i, c);
                match (spec.sample_format, spec.bits_per_sample) {
                    (hound::SampleFormat::Float, _) => w.write_sample(v as f32).expect("f32"),
                    (_, 8) => w.write_sample((v * 127.0) as i8).expect("i8"),
                    (_, 16) => w.write_sample((v * 32767.0) as i16).expect("i16"),
                    (_, 24) => w.write_sample((v * 8_388_607.0) as i32).expect("i24"),
                    _ => w.write_sample((v * 2_147_483_647.0) as i32).expect("i32"),
                }
            }
        }
        w.finalize().expect("finalize");
        out.into_inner()
    }

    fn spec(rate: u32, channels: u16, bits: u16, float: bool) -> hound::WavSpec {
        hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: bits,
            sample_format: if float {
                hound::SampleFormat::Float
            } else {
                hound::SampleFormat::Int
            },
        }
    }

    fn sine(freq: f64, rate: u32, amp: f64) -> impl Fn(usize, u16) -> f64 {
        move |i, _| amp * (2.0 * PI * freq * i as f64 / f64::from(rate)).sin()
    }

    fn rising_zero_crossings(x: &[i16]) -> usize {
        x.windows(2).filter(|w| w[0] < 0 && w[1] >= 0).count()
    }

    #[test]
    fn cd_quality_stereo_becomes_8khz_mono_of_the_same_length_and_pitch() {
        let rate = 44_100;
        let bytes = wav_bytes(
            spec(rate, 2, 16, false),
            rate as usize * 2,
            sine(440.0, rate, 0.5),
        );
        let c = convert_wav(&bytes).expect("convert");
        assert_eq!(c.source_format, "44100 Hz, 2 channels, 16-bit int");
        assert!(
            (c.duration().as_secs_f64() - 2.0).abs() < 0.01,
            "{:?}",
            c.duration()
        );
        // 440 Hz over the middle second.
        let mid = &c.samples[4000..12000];
        let n = rising_zero_crossings(mid);
        assert!((439..=441).contains(&n), "{n} cycles in 1 s");
        let peak = mid.iter().map(|s| i32::from(*s).abs()).max().unwrap_or(0);
        assert!((15_500..=17_000).contains(&peak), "level kept: peak {peak}");
        // The bytes are a WAV that the prompt player accepts.
        let r = hound::WavReader::new(Cursor::new(&c.wav)).expect("output is a WAV");
        assert_eq!(r.spec(), spec(8000, 1, 16, false));
        assert_eq!(r.duration() as usize, c.samples.len());
    }

    #[test]
    fn every_pcm_sample_format_is_read_at_the_right_level() {
        for (bits, float) in [
            (8, false),
            (16, false),
            (24, false),
            (32, false),
            (32, true),
        ] {
            let bytes = wav_bytes(
                spec(16_000, 1, bits, float),
                16_000,
                sine(500.0, 16_000, 0.5),
            );
            let c = convert_wav(&bytes).unwrap_or_else(|e| panic!("{bits}-bit float={float}: {e}"));
            assert_eq!(c.samples.len(), 8000, "{bits}-bit");
            let peak = c.samples[1000..7000]
                .iter()
                .map(|s| i32::from(*s).abs())
                .max()
                .unwrap_or(0);
            assert!(
                (15_000..=17_500).contains(&peak),
                "{bits}-bit float={float}: peak {peak}"
            );
        }
    }

    #[test]
    fn channels_are_averaged_so_opposite_channels_cancel() {
        let bytes = wav_bytes(spec(8000, 2, 16, false), 800, |i, c| {
            let v = 0.5 * (i as f64 / 10.0).sin();
            if c == 0 {
                v
            } else {
                -v
            }
        });
        let c = convert_wav(&bytes).expect("convert");
        assert_eq!(c.samples.len(), 800);
        assert!(
            c.samples.iter().all(|s| s.abs() <= 1),
            "left and right cancel"
        );
    }

    #[test]
    fn already_phone_format_passes_through_unchanged() {
        let bytes = wav_bytes(spec(8000, 1, 16, false), 4000, sine(300.0, 8000, 0.3));
        let c = convert_wav(&bytes).expect("convert");
        let original: Vec<i16> = hound::WavReader::new(Cursor::new(&bytes))
            .expect("wav")
            .into_samples::<i16>()
            .collect::<Result<_, _>>()
            .expect("samples");
        assert_eq!(c.samples, original);
    }

    #[test]
    fn garbage_empty_oversized_and_overlong_files_are_refused_with_a_reason() {
        assert_eq!(convert_wav(b""), Err(ConvertError::Empty));
        let garbage = convert_wav(b"this is not audio at all, just text").unwrap_err();
        assert!(matches!(garbage, ConvertError::NotWav(_)), "{garbage}");
        assert!(garbage.to_string().contains("not a WAV file"), "{garbage}");
        let big = vec![0u8; MAX_PROMPT_BYTES + 1];
        assert_eq!(
            convert_wav(&big),
            Err(ConvertError::TooLarge(MAX_PROMPT_BYTES + 1))
        );
        // 61 s at 4 kHz 8-bit is small in bytes but too long.
        let long = wav_bytes(spec(4000, 1, 8, false), 4000 * 61, |_, _| 0.0);
        let e = convert_wav(&long).unwrap_err();
        assert!(
            matches!(e, ConvertError::TooLong(s) if (s - 61.0).abs() < 0.01),
            "{e}"
        );
        let empty = wav_bytes(spec(8000, 1, 16, false), 0, |_, _| 0.0);
        assert_eq!(convert_wav(&empty), Err(ConvertError::NoAudio));
        let odd = wav_bytes(spec(1000, 1, 16, false), 100, |_, _| 0.0);
        assert!(matches!(
            convert_wav(&odd),
            Err(ConvertError::Unsupported(_))
        ));
    }

    #[test]
    fn trimming_keeps_the_sound_with_a_little_silence_and_lifts_the_peak() {
        let mut s = vec![0i16; 1000];
        s.extend((0..800).map(|i| if i % 2 == 0 { 1000 } else { -1000 }));
        s.extend(vec![3i16; 1000]);
        let t = trim_and_normalise(&s, 0.001, 100, 0.7);
        assert_eq!(t.len(), 100 + 800 + 100);
        let peak = t.iter().map(|v| i32::from(*v).abs()).max().unwrap_or(0);
        assert!((22_900..=22_950).contains(&peak), "peak {peak}");
        assert!(trim_and_normalise(&[0; 50], 0.001, 10, 0.7).is_empty());
    }
}
