//! A real softphone calls the support line: it hears the welcome prompt as recorded, and a key
//! it presses reaches the menu.

mod common;

use common::baresip::{self, Baresip};
use common::server::{serial, ServerOptions, TestServer};
use std::path::Path;
use std::time::Duration;

const WINDOW: usize = 400; // 50 ms at 8 kHz
const FLOOR_DB: f64 = -60.0;

/// 8 kHz mono samples of a 16-bit WAV, as f64 in [-1, 1].
fn samples(path: &Path) -> Vec<f64> {
    let mut r = hound::WavReader::open(path)
        .unwrap_or_else(|e| panic!("{} is a readable WAV: {e}", path.display()));
    let spec = r.spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (8000, 1, 16),
        "{}: 8 kHz mono 16-bit",
        path.display()
    );
    r.samples::<i16>()
        .map(|s| s.expect("readable sample") as f64 / 32768.0)
        .collect()
}

fn rms(x: &[f64]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|s| s * s).sum::<f64>() / x.len() as f64).sqrt()
}

fn db(x: f64) -> f64 {
    (20.0 * x.max(1e-9).log10()).max(FLOOR_DB)
}

/// The start of the first 50 ms window louder than -40 dBFS.
fn onset(x: &[f64]) -> Option<usize> {
    x.chunks(WINDOW)
        .position(|w| db(rms(w)) > -40.0)
        .map(|i| i * WINDOW)
}

/// Level (dB) of each 50 ms window of `x`.
fn envelope(x: &[f64]) -> Vec<f64> {
    x.chunks_exact(WINDOW).map(|w| db(rms(w))).collect()
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len()) as f64;
    let (a, b) = (&a[..n as usize], &b[..n as usize]);
    let ma = a.iter().sum::<f64>() / n;
    let mb = b.iter().sum::<f64>() / n;
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

#[test]
fn baresip_caller_hears_the_welcome_prompt_and_reaches_billing() {
    let _g = serial();
    assert!(
        baresip::available(),
        "baresip with the stdio, g711, aufile, aubridge and sndfile modules is installed (scripts/setup.sh)"
    );
    let server = TestServer::start(ServerOptions::default());
    let mic_dir = tempfile::tempdir().unwrap();
    let mic = mic_dir.path().join("mic.wav");
    // baresip hangs up when its microphone file ends: make it outlast the call.
    baresip::write_silence(&mic, 40.0);
    let mut phone = Baresip::start(&mic);

    phone.dial(&format!("sip:support@127.0.0.1:{}", server.sip_port));
    phone.answered_then_one_reaches_billing(&server, "the softphone's call");
    phone.hangup_and_quit(Duration::from_secs(5));
    assert!(
        server.wait_active(0, Duration::from_secs(5)),
        "baresip's hangup ends the call: {:?}",
        server.live_calls()
    );

    let stored = server
        .wait_stored_calls(1, Duration::from_secs(5))
        .into_iter()
        .next()
        .expect("the call is stored");
    let path: Vec<&str> = stored["path"]
        .as_array()
        .map(|p| p.iter().filter_map(|n| n.as_str()).collect())
        .unwrap_or_default();
    assert!(path.contains(&"billing"), "stored path: {stored}");
    assert_eq!(stored["dtmf"], "1", "stored keys: {stored}");

    // What the caller heard starts with the welcome prompt.
    let heard_path = phone
        .heard_wav()
        .unwrap_or_else(|| panic!("baresip recorded what it heard:\n{}", phone.output()));
    let heard = samples(&heard_path);
    let welcome = samples(&common::repo().join("prompts/en/welcome.wav"));
    let span = 6 * 8000;
    let w0 = onset(&welcome).expect("the prompt has sound");
    let h0 = onset(&heard).unwrap_or_else(|| {
        panic!(
            "the caller heard sound ({} s recorded, silent throughout)",
            heard.len() / 8000
        )
    });
    assert!(
        heard.len() >= h0 + span + 800,
        "at least 6 s heard after the first sound: {:.2} s",
        (heard.len() - h0) as f64 / 8000.0
    );
    let w = &welcome[w0..(w0 + span).min(welcome.len())];
    let level_heard = db(rms(&heard[h0..h0 + span]));
    let level_prompt = db(rms(w));
    assert!(
        (level_heard - level_prompt).abs() <= 6.0,
        "the caller hears the prompt at its level: {level_heard:.1} dBFS heard, {level_prompt:.1} dBFS in welcome.wav"
    );
    let want = envelope(w);
    let (best_r, best_shift) = (-10..=10)
        .map(|k: i64| {
            let start = (h0 as i64 + k * 80).max(0) as usize; // 10 ms steps, ±100 ms
            let got = envelope(&heard[start..start + span]);
            (pearson(&got, &want), k * 10)
        })
        .fold((f64::MIN, 0), |a, b| if b.0 > a.0 { b } else { a });
    assert!(
        best_r > 0.7,
        "the first 6 s heard follow welcome.wav's speech/silence pattern: best r = {best_r:.2} at {best_shift} ms"
    );
    eprintln!(
        "heard {level_heard:.1} dBFS vs {level_prompt:.1} dBFS; envelope r = {best_r:.3} at {best_shift} ms"
    );
}
