//! A clip's audio: each piece spoken by espeak-ng, taken to the phone band by sox (8 kHz mono
//! 16-bit), pauses as silence, and for some takes line noise mixed in at a set SNR. Written to
//! `target/eval/clips/<id>.wav` too, to listen to when a clip goes wrong. A noisy take's caller
//! is on a noisy line: the same noise goes on before and after the words (see [`render`]; it is
//! written as `<id>.line.wav`).

use super::corpus::{hash, Clip, Piece, Rng};
use crate::common::{run_tool, to_phone_band};
use anyhow::Context;
use std::path::Path;
use std::process::Command;

/// Samples per second of the phone band.
pub const RATE: usize = 8000;

/// Seconds of line noise made for a noisy take's line, looped for as long as the call lasts.
const LINE_SECONDS: usize = 10;

/// Builds `clip`'s audio in `dir` (scratch files and the final WAV), and for a take with line
/// noise the line the caller is on: [`LINE_SECONDS`] of the same noise at the same level, which
/// the call sends whenever the caller is not speaking (as a phone line carries its noise).
pub fn render(clip: &Clip, dir: &Path) -> anyhow::Result<(Vec<i16>, Option<Vec<i16>>)> {
    let stem = clip.id.replace('#', "-");
    let mut pcm = Vec::new();
    let mut voiced = 0.0f64;
    let mut voiced_n = 0usize;
    for (i, piece) in clip.item.pieces.iter().enumerate() {
        match piece {
            Piece::Pause(s) => pcm.extend(std::iter::repeat_n(0i16, (s * RATE as f64) as usize)),
            Piece::Words(w) => {
                let raw = dir.join(format!("{stem}.{i}.raw.wav"));
                let phone = dir.join(format!("{stem}.{i}.8k.wav"));
                run_tool(
                    Command::new("espeak-ng")
                        .args(["-v", &clip.voice.name])
                        .args(["-s", &clip.voice.rate.to_string()])
                        .args(["-p", &clip.voice.pitch.to_string()])
                        .arg("-w")
                        .arg(&raw)
                        .arg(w),
                )?;
                to_phone_band(&raw, &phone)?;
                let samples = read_wav(&phone)?;
                for s in &samples {
                    voiced += f64::from(*s) * f64::from(*s);
                }
                voiced_n += samples.len();
                pcm.extend(samples);
                let _ = std::fs::remove_file(&raw);
                let _ = std::fs::remove_file(&phone);
            }
        }
    }
    let mut line = None;
    if let (Some((kind, snr)), true) = (&clip.voice.noise, voiced_n > 0) {
        let speech_rms = (voiced / voiced_n as f64).sqrt();
        let noise_rms = speech_rms / 10f64.powf(snr / 20.0);
        add_noise(&mut pcm, kind == "pink", noise_rms, hash(&clip.id));
        let mut l = vec![0i16; LINE_SECONDS * RATE];
        add_noise(&mut l, kind == "pink", noise_rms, hash(&clip.id) ^ 0x11ee);
        line = Some(l);
    }
    write_wav(&dir.join(format!("{stem}.wav")), &pcm)?;
    // The line too, for `make turn-eval` to put the clip on the line its call had.
    let line_wav = dir.join(format!("{stem}.line.wav"));
    match &line {
        Some(l) => write_wav(&line_wav, l)?,
        None => {
            let _ = std::fs::remove_file(&line_wav);
        }
    }
    Ok((pcm, line))
}

/// Mixes white or pink noise scaled to `rms` into `pcm` (saturating), seeded.
fn add_noise(pcm: &mut [i16], pink: bool, rms: f64, seed: u64) {
    let mut rng = Rng::new(seed);
    // Paul Kellet's economy pink filter over uniform white noise.
    let (mut b0, mut b1, mut b2) = (0.0, 0.0, 0.0);
    let noise: Vec<f64> = (0..pcm.len())
        .map(|_| {
            let w = rng.unit() * 2.0 - 1.0;
            if pink {
                b0 = 0.99765 * b0 + w * 0.0990460;
                b1 = 0.96300 * b1 + w * 0.2965164;
                b2 = 0.57000 * b2 + w * 1.0526913;
                b0 + b1 + b2 + w * 0.1848
            } else {
                w
            }
        })
        .collect();
    let have = (noise.iter().map(|n| n * n).sum::<f64>() / noise.len().max(1) as f64).sqrt();
    if have == 0.0 {
        return;
    }
    for (s, n) in pcm.iter_mut().zip(&noise) {
        let v = f64::from(*s) + n * rms / have;
        *s = v.clamp(f64::from(i16::MIN), f64::from(i16::MAX)) as i16;
    }
}

fn read_wav(path: &Path) -> anyhow::Result<Vec<i16>> {
    let mut r = hound::WavReader::open(path).with_context(|| format!("{}", path.display()))?;
    let spec = r.spec();
    anyhow::ensure!(
        spec.sample_rate == RATE as u32 && spec.channels == 1 && spec.bits_per_sample == 16,
        "{}: sox wrote {spec:?}, not 8 kHz mono 16-bit",
        path.display()
    );
    Ok(r.samples::<i16>().collect::<Result<_, _>>()?)
}

fn write_wav(path: &Path, pcm: &[i16]) -> anyhow::Result<()> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE as u32,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w =
        hound::WavWriter::create(path, spec).with_context(|| format!("{}", path.display()))?;
    for s in pcm {
        w.write_sample(*s)?;
    }
    w.finalize()?;
    Ok(())
}

/// Whether espeak-ng and sox can be run.
pub fn tools_available() -> bool {
    ["espeak-ng", "sox"].iter().all(|t| {
        Command::new(t)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}
