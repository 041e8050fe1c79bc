//! Spoken callers for the real server: espeak-ng speech (English, or Mandarin from tone-numbered
//! pinyin) turned into phone-band audio with silences where a real caller would pause, and a
//! caller that streams it as paced PCMU RTP — silence between the words, like a phone — while
//! the test watches the call through the API.
#![allow(dead_code)]

use super::rawsip::{linear_to_ulaw, RawCall};
use super::server::TestServer;
use super::sipp::run_tool;
use serde_json::Value;
use std::collections::VecDeque;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Samples per second of the phone band.
pub const RATE: usize = 8000;
/// Samples per 20 ms RTP packet.
const FRAME: usize = 160;

/// The speech model the test servers load.
pub fn model_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/ggml-base-q8_0.bin")
}

/// Whether the speech tests can run: true with the model in place. Without it they are skipped
/// with a note, unless `HUMANLINE_REQUIRE_MODEL` is set (`make test` sets it, after installing
/// the model): then a missing model fails the test.
pub fn model_available() -> bool {
    if model_path().exists() {
        return true;
    }
    assert!(
        std::env::var_os("HUMANLINE_REQUIRE_MODEL").is_none(),
        "HUMANLINE_REQUIRE_MODEL is set but {} is missing: run `make model`",
        model_path().display()
    );
    eprintln!(
        "SKIPPED: {} is missing (run `make model`, or set HUMANLINE_REQUIRE_MODEL=1 to fail instead)",
        model_path().display()
    );
    false
}

/// An espeak-ng voice.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Voice {
    /// American English.
    En,
    /// Mandarin read from tone-numbered pinyin ("wo3 yao4 ren2 gong1").
    Zh,
}

/// A caller's audio, 8 kHz mono 16-bit, built piece by piece: words and silences.
#[derive(Debug, Clone, Default)]
pub struct Speech {
    /// The samples.
    pub pcm: Vec<i16>,
    /// Where each spoken piece starts and ends, in seconds from the start (for failure notes).
    pub pieces: Vec<(f64, f64, String)>,
}

impl Speech {
    /// Nothing yet.
    pub fn new() -> Speech {
        Speech::default()
    }

    /// Appends `secs` of silence.
    pub fn pause(mut self, secs: f64) -> Speech {
        self.pcm
            .extend(std::iter::repeat_n(0i16, (secs * RATE as f64) as usize));
        self
    }

    /// Appends `text` spoken by espeak-ng at `wpm` words per minute (espeak's default is 175;
    /// 90 is a slow, elderly pace). The clip is made in `dir` and converted to the phone band
    /// by sox, with espeak's own leading and trailing silence kept.
    pub fn say(mut self, dir: &Path, voice: Voice, wpm: u32, text: &str) -> Speech {
        let n = self.pieces.len();
        let raw = dir.join(format!("piece{n}-{:x}.wav", fxhash(text)));
        let phone = dir.join(format!("piece{n}-{:x}.8k.wav", fxhash(text)));
        let v = match voice {
            Voice::En => "en-us",
            Voice::Zh => "cmn-latn-pinyin",
        };
        run_tool(
            Command::new("espeak-ng")
                .args(["-v", v, "-s", &wpm.to_string(), "-w"])
                .arg(&raw)
                .arg(text),
        );
        run_tool(
            Command::new("sox")
                .arg(&raw)
                .args(["-r", "8000", "-c", "1", "-b", "16", "-e", "signed"])
                .arg(&phone),
        );
        let mut reader =
            hound::WavReader::open(&phone).unwrap_or_else(|e| panic!("{}: {e}", phone.display()));
        let spec = reader.spec();
        assert_eq!((spec.sample_rate, spec.channels), (8000, 1), "sox output");
        let pcm: Vec<i16> = reader
            .samples::<i16>()
            .collect::<Result<_, _>>()
            .expect("samples");
        let start = self.seconds();
        self.pcm.extend(pcm);
        self.pieces.push((
            start,
            self.seconds(),
            format!("{voice:?} {wpm} wpm: {text:?}"),
        ));
        self
    }

    /// Length in seconds.
    pub fn seconds(&self) -> f64 {
        self.pcm.len() as f64 / RATE as f64
    }

    /// The pieces with their times, one per line (for failure messages).
    pub fn describe(&self) -> String {
        self.pieces
            .iter()
            .map(|(a, b, what)| format!("  {a:6.2}-{b:6.2} s  {what}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// Streams PCMU to the server every 20 ms for the whole call: queued speech when there is
/// some, silence otherwise — what a phone does.
struct Streamer {
    queue: Arc<Mutex<VecDeque<i16>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Streamer {
    /// Streams queued speech over a line carrying white noise of RMS `noise` (0: a clean line,
    /// digital silence between words).
    fn start(sock: UdpSocket, peer: SocketAddr, noise: f64) -> Streamer {
        let queue: Arc<Mutex<VecDeque<i16>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (q, s) = (Arc::clone(&queue), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let ssrc: u32 = 0x5eec_0001;
            let (mut seq, mut ts) = (7000u16, 16000u32);
            let start = Instant::now();
            let mut talking = false;
            let mut rng: u64 = 0x5eec_0001;
            for i in 0u64.. {
                if s.load(Ordering::Relaxed) {
                    return;
                }
                let frame: Vec<i16> = {
                    let mut q = q.lock().unwrap();
                    let n = q.len().min(FRAME);
                    let mut f: Vec<i16> = q.drain(..n).collect();
                    f.resize(FRAME, 0);
                    for s in &mut f {
                        rng = rng.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                        let u = (rng >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
                        // Uniform noise in [-1, 1] has an RMS of 1/√3.
                        *s = s.saturating_add((u * noise * 3f64.sqrt()) as i16);
                    }
                    f
                };
                let voiced = frame.iter().any(|s| s.unsigned_abs() > 64);
                let marker = voiced && !talking;
                talking = voiced;
                let mut p = Vec::with_capacity(12 + FRAME);
                p.push(0x80);
                p.push(if marker { 0x80 } else { 0 });
                p.extend_from_slice(&seq.to_be_bytes());
                p.extend_from_slice(&ts.to_be_bytes());
                p.extend_from_slice(&ssrc.to_be_bytes());
                p.extend(frame.iter().map(|s| linear_to_ulaw(*s)));
                let _ = sock.send_to(&p, peer);
                seq = seq.wrapping_add(1);
                ts = ts.wrapping_add(FRAME as u32);
                let due = start + Duration::from_millis(20 * (i + 1));
                if let Some(d) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(d);
                }
            }
        });
        Streamer {
            queue,
            stop,
            thread: Some(thread),
        }
    }

    fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Streamer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A caller who talks: a SIP dialog (INVITE, ACK, BYE) and a continuous RTP stream.
pub struct SpeakingCaller {
    /// The dialog and its sockets.
    pub call: RawCall,
    streamer: Streamer,
}

impl SpeakingCaller {
    /// Calls `sip:<user>@server`, waits for the 200 OK, ACKs and starts streaming silence.
    pub fn dial(server: SocketAddr, user: &str) -> SpeakingCaller {
        Self::dial_on_noisy_line(server, user, 0.0)
    }

    /// As [`SpeakingCaller::dial`] on a line that carries white noise of RMS `noise` from the
    /// first packet to the last, under the caller's words and between them.
    pub fn dial_on_noisy_line(server: SocketAddr, user: &str, noise: f64) -> SpeakingCaller {
        let call = RawCall::establish(server, user);
        let sock = call.media.sock.try_clone().expect("clone the media socket");
        let peer = call.media.peer.expect("the answer names a media address");
        SpeakingCaller {
            streamer: Streamer::start(sock, peer, noise),
            call,
        }
    }

    /// As [`SpeakingCaller::dial`], presenting `from_user` as the caller (a number, for a
    /// caller ID).
    pub fn dial_as(server: SocketAddr, user: &str, from_user: &str) -> SpeakingCaller {
        let mut call = RawCall::new(server, user);
        call.from_user = from_user.to_string();
        call.connect();
        let sock = call.media.sock.try_clone().expect("clone the media socket");
        let peer = call.media.peer.expect("the answer names a media address");
        SpeakingCaller {
            streamer: Streamer::start(sock, peer, 0.0),
            call,
        }
    }

    /// The SIP Call-ID (how the API's records name the caller's leg).
    pub fn call_id(&self) -> String {
        self.call.call_id.clone()
    }

    /// Starts saying `speech` (returns at once; the audio goes out in real time).
    pub fn say(&self, speech: &Speech) {
        self.streamer
            .queue
            .lock()
            .unwrap()
            .extend(speech.pcm.iter().copied());
    }

    /// Seconds of queued audio not yet sent.
    pub fn left_to_say(&self) -> f64 {
        self.streamer.queue.lock().unwrap().len() as f64 / RATE as f64
    }

    /// Blocks until everything queued has been sent.
    pub fn finish_saying(&self) {
        while self.left_to_say() > 0.0 {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Says `speech` and blocks until it has all been sent.
    pub fn say_all(&self, speech: &Speech) {
        self.say(speech);
        self.finish_saying();
    }

    /// Stops the audio and sends BYE; the BYE's final status (None when nothing answered).
    pub fn hang_up(mut self) -> Option<u16> {
        self.streamer.stop();
        self.call.bye().map(|r| r.code())
    }

    /// Waits for the server's BYE (the line hung up), answers it and stops the audio.
    pub fn wait_hung_up_by_line(&mut self, timeout: Duration) -> bool {
        let got = self.call.expect_request("BYE", timeout).is_some();
        if got {
            self.streamer.stop();
        }
        got
    }
}

/// The live call whose SIP Call-ID is `call_id`.
pub fn live_call(server: &TestServer, call_id: &str) -> Option<Value> {
    server
        .live_calls()
        .into_iter()
        .find(|c| c["sip_call_id"].as_str() == Some(call_id))
}

/// Waits until the live call is at `node`; returns when that was first seen. Panics with the
/// live list and the server log's tail otherwise.
pub fn wait_node(server: &TestServer, call_id: &str, node: &str, timeout: Duration) -> Instant {
    server
        .wait_for(timeout, |s| {
            live_call(s, call_id)
                .filter(|c| c["node"] == node)
                .map(|_| Instant::now())
        })
        .unwrap_or_else(|| {
            panic!(
                "the call never reached node {node:?} within {timeout:?}; live: {:?}",
                server.live_calls()
            )
        })
}

/// The stored record of the call whose SIP Call-ID is `call_id`.
pub fn stored_call(server: &TestServer, call_id: &str) -> Value {
    server
        .wait_for(Duration::from_secs(10), |s| {
            s.wait_stored_calls(1, Duration::ZERO)
                .into_iter()
                .find(|c| c["sip_call_id"].as_str() == Some(call_id))
        })
        .unwrap_or_else(|| {
            panic!(
                "no stored call with sip_call_id {call_id}; recent: {}",
                server.get("/api/calls").1["recent"]
            )
        })
}

/// Sleeps until `at` (returns at once when it has passed).
pub fn sleep_until(at: Instant) {
    if let Some(d) = at.checked_duration_since(Instant::now()) {
        std::thread::sleep(d);
    }
}
