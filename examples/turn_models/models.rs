//! The two models `make turn-eval` measures, through ONNX Runtime: Silero VAD at 8 kHz and Smart
//! Turn v3.2 with the Whisper-style log-mel features it takes (after pipecat's
//! `_whisper_features.py`).

use std::path::Path;
use std::sync::Arc;

use ort::environment::Environment;
use ort::session::Session;
use ort::value::Tensor;
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

use super::Res;

/// Silero VAD at 8 kHz (its 256-sample windows with 32 samples of context).
pub struct Silero {
    session: Session,
    state: Vec<f32>,
    context: Vec<f32>,
}

impl Silero {
    pub const WINDOW: usize = 256;
    const CONTEXT: usize = 32;

    pub fn new(env: &Environment, path: &Path) -> Res<Self> {
        let session = Session::builder(env)?
            .with_intra_threads(1)?
            .with_inter_threads(1)?
            .commit_from_file(path)?;
        Ok(Silero {
            session,
            state: vec![0.0; 2 * 128],
            context: vec![0.0; Self::CONTEXT],
        })
    }

    /// Speech probability per 256-sample window of `pcm`, from a fresh state.
    pub fn probabilities(&mut self, pcm: &[i16]) -> Res<Vec<f32>> {
        self.state.fill(0.0);
        self.context.fill(0.0);
        let mut out = Vec::new();
        for w in pcm.chunks_exact(Self::WINDOW) {
            let mut input = self.context.clone();
            input.extend(w.iter().map(|s| f32::from(*s) / 32768.0));
            self.context = input[input.len() - Self::CONTEXT..].to_vec();
            let outputs = self.session.run(ort::inputs![
                "input" => Tensor::from_array(([1usize, Self::WINDOW + Self::CONTEXT], input))?,
                "state" => Tensor::from_array(([2usize, 1, 128], self.state.clone()))?,
                "sr" => Tensor::from_array((Vec::<usize>::new(), vec![8000i64]))?,
            ])?;
            out.push(outputs["output"].try_extract_tensor::<f32>()?.1[0]);
            self.state = outputs["stateN"].try_extract_tensor::<f32>()?.1.to_vec();
        }
        Ok(out)
    }
}

/// Smart Turn v3.2: Whisper-style log-mel features of the last 8 s at 16 kHz, one probability
/// that the turn is complete. The features follow pipecat's `_whisper_features.py`.
pub struct SmartTurn {
    session: Session,
    window: Vec<f64>,
    /// 201 frequency bins × 80 mel filters.
    mel: Vec<f64>,
    fft: Arc<dyn Fft<f64>>,
}

const N_FFT: usize = 400;
const HOP: usize = 160;
const N_MELS: usize = 80;
const BINS: usize = N_FFT / 2 + 1;
const SAMPLES: usize = 16_000 * 8;
const MEL_FRAMES: usize = SAMPLES / HOP;

impl SmartTurn {
    pub fn new(env: &Environment, path: &Path) -> Res<Self> {
        let session = Session::builder(env)?
            .with_intra_threads(1)?
            .with_inter_threads(1)?
            .commit_from_file(path)?;
        let window = (0..N_FFT)
            .map(|n| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / N_FFT as f64).cos())
            .collect();
        Ok(SmartTurn {
            session,
            window,
            mel: mel_filters(),
            fft: FftPlanner::new().plan_fft_forward(N_FFT),
        })
    }

    pub fn probability(&mut self, audio16: &[f32]) -> Res<f32> {
        let features = self.features(audio16);
        let outputs = self.session.run(ort::inputs![
            "input_features" => Tensor::from_array(([1usize, N_MELS, MEL_FRAMES], features))?,
        ])?;
        Ok(outputs[0].try_extract_tensor::<f32>()?.1[0])
    }

    /// Log-mel features (80 × 800, row-major) of the last 8 s of `audio16`, zero-padded in front.
    fn features(&self, audio16: &[f32]) -> Vec<f32> {
        let take = audio16.len().min(SAMPLES);
        let mut x = vec![0.0f32; SAMPLES - take];
        x.extend_from_slice(&audio16[audio16.len() - take..]);
        let mean = x.iter().sum::<f32>() / SAMPLES as f32;
        let var = x.iter().map(|s| (s - mean).powi(2)).sum::<f32>() / SAMPLES as f32;
        let sd = (var + 1e-7).sqrt();
        let x: Vec<f64> = x.iter().map(|s| f64::from((s - mean) / sd)).collect();
        // Centred frames: reflect-padded by half a window on each side.
        let pad = N_FFT / 2;
        let mut padded = Vec::with_capacity(SAMPLES + 2 * pad);
        padded.extend((1..=pad).rev().map(|i| x[i]));
        padded.extend_from_slice(&x);
        padded.extend((0..pad).map(|i| x[SAMPLES - 2 - i]));
        let mut log = vec![0.0f64; N_MELS * MEL_FRAMES];
        let mut buf = vec![Complex::new(0.0, 0.0); N_FFT];
        let mut power = [0.0f64; BINS];
        for t in 0..MEL_FRAMES {
            let frame = &padded[t * HOP..t * HOP + N_FFT];
            for ((b, s), w) in buf.iter_mut().zip(frame).zip(&self.window) {
                *b = Complex::new(s * w, 0.0);
            }
            self.fft.process(&mut buf);
            for (p, b) in power.iter_mut().zip(&buf) {
                *p = b.norm_sqr();
            }
            for m in 0..N_MELS {
                let e: f64 = (0..BINS).map(|k| self.mel[k * N_MELS + m] * power[k]).sum();
                log[m * MEL_FRAMES + t] = e.max(1e-10).log10();
            }
        }
        let top = log.iter().cloned().fold(f64::MIN, f64::max);
        log.iter()
            .map(|v| ((v.max(top - 8.0) + 4.0) / 4.0) as f32)
            .collect()
    }
}

/// The Slaney-normalised mel filterbank of Whisper's feature extractor (0–8 kHz, 80 filters).
fn mel_filters() -> Vec<f64> {
    let to_mel = |f: f64| {
        if f < 1000.0 {
            3.0 * f / 200.0
        } else {
            15.0 + (f / 1000.0).ln() * 27.0 / 6.4f64.ln()
        }
    };
    let to_hz = |m: f64| {
        if m < 15.0 {
            200.0 * m / 3.0
        } else {
            1000.0 * (6.4f64.ln() / 27.0 * (m - 15.0)).exp()
        }
    };
    let top = to_mel(8000.0);
    let edges: Vec<f64> = (0..N_MELS + 2)
        .map(|i| to_hz(top * i as f64 / (N_MELS + 1) as f64))
        .collect();
    let mut out = vec![0.0; BINS * N_MELS];
    for k in 0..BINS {
        let f = 8000.0 * k as f64 / (BINS - 1) as f64;
        for m in 0..N_MELS {
            let down = (f - edges[m]) / (edges[m + 1] - edges[m]);
            let up = (edges[m + 2] - f) / (edges[m + 2] - edges[m + 1]);
            let w = down.min(up).max(0.0);
            out[k * N_MELS + m] = w * 2.0 / (edges[m + 2] - edges[m]);
        }
    }
    out
}
