//! One clip, one call over real SIP: dial the clip's line, stream silence like a phone until the
//! main menu's question has played (the live call's `node` says when the menu began; the
//! prompt file says how long it lasts), say the clip as paced 20 ms PCMU, then watch the live
//! call until it is handed over, reaches a node, or a bounded wait ends; hang up and read the
//! stored call — reason, path, events, what whisper heard — for the judge.

use crate::common::server::{http_get, Server};
use crate::common::uac::UacCall;
use crate::corpus::{Category, Clip, Expect};
use anyhow::{bail, Context};
use humanline::media::{Codec, RtpSender};
use serde_json::Value;
use std::collections::VecDeque;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The node whose question every clip answers.
pub const MENU: &str = "menu";
/// Samples in one 20 ms packet at 8 kHz.
const FRAME: usize = 160;
/// How often the live call is looked at.
const POLL: Duration = Duration::from_millis(200);
/// Longest wait for the welcome to end and the menu to begin.
const MENU_WAIT: Duration = Duration::from_secs(40);
/// After the clip: how long an answer, request or mention may take to act (end of speech,
/// recognition under load, the "connecting" prompt before the hand-over is visible).
const ANSWER_WAIT: Duration = Duration::from_secs(11);
/// After the clip: how long a hesitant caller is given. Two silent turns take two no-input
/// timeouts (6 s, then up to 10 s in elderly timing) with the re-prompt and the menu question
/// between them, then the "connecting" prompt: about 40 s on the Mandarin line.
const HESITANT_WAIT: Duration = Duration::from_secs(55);
/// Once the call has moved to a node that is not the expected one, how long to wait for it
/// to move on (a say node leads to the next) before calling it the outcome.
const SETTLE: Duration = Duration::from_millis(2500);
/// Dial attempts (a busy shared machine may refuse a call with 503 for a moment).
const DIAL_TRIES: usize = 5;

/// What the call showed.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Observed {
    /// The server's call id.
    pub call_id: String,
    /// Escalation reason of the stored call (`None`: no hand-over, or one the plan routed).
    pub reason: Option<String>,
    /// Stored outcome: `transfer`, `hangup`, `completed`.
    pub outcome: Option<String>,
    /// Nodes entered after the caller spoke at the menu, in order.
    pub after: Vec<String>,
    /// Each utterance as the engine heard it: (text, intent).
    pub heard: Vec<(String, String)>,
    /// What the recognizer returned, turn by turn (stored utterances).
    pub transcript: Vec<String>,
    /// Caller turns (utterances heard, no-input timeouts) before the hand-over; all of them
    /// when there was none.
    pub turns_before_transfer: usize,
    /// Utterances heard before the hand-over.
    pub heard_before_transfer: usize,
    /// Whether a no-input timeout came before the hand-over (or at all, without one).
    pub no_input_before_transfer: bool,
    /// Escalation signals.
    pub signals: Vec<String>,
    /// Seconds of audio said (clip length).
    pub clip_seconds: f64,
    /// Wall seconds the whole call took.
    pub call_seconds: f64,
    /// A request not understood at the menu was said a second time, when the question had been
    /// asked again (a caller repeating themselves).
    pub asked_again: bool,
}

/// How long the menu's prompts play on a line.
#[derive(Debug, Clone, Copy)]
pub struct MenuPrompts {
    /// The question.
    pub question: Duration,
    /// The lead-in before the question is asked again after an answer that was not understood.
    pub no_match: Duration,
}

/// Places `clip`'s call on `line` (the noise the line carries when the caller is silent; `None`:
/// a clean line); `menu` says how long the menu's prompts play on that line.
pub fn run(
    server: &Server,
    clip: &Clip,
    pcm: &[i16],
    line: Option<Vec<i16>>,
    menu: MenuPrompts,
) -> anyhow::Result<Observed> {
    let started = Instant::now();
    let (mut call, peer) = dial(server, clip.item.lang.line())?;
    let streamer = Streamer::start(call.rtp.try_clone()?, peer, line);
    let result = converse(server, &call, &streamer, clip, pcm, menu);
    streamer.stop();
    let _ = call.service();
    // The call may already have ended (the plan hung up): a failed BYE is no harness fault.
    let _ = call.bye(Duration::from_secs(5));
    let (id, spoken_at, asked_again) = result?;
    let mut seen = stored(server, &id)?;
    seen.asked_again = asked_again;
    seen.after = seen.after.split_off(spoken_at.min(seen.after.len()));
    seen.clip_seconds = pcm.len() as f64 / 8000.0;
    seen.call_seconds = started.elapsed().as_secs_f64();
    Ok(seen)
}

fn dial(server: &Server, line: &str) -> anyhow::Result<(UacCall, SocketAddr)> {
    let mut last = String::new();
    for attempt in 0..DIAL_TRIES {
        if attempt > 0 {
            std::thread::sleep(Duration::from_secs(3));
        }
        let mut call = UacCall::new(server.sip, line)?;
        match call.invite(Duration::from_secs(10)) {
            Ok(a) => return Ok((call, a.server_rtp)),
            Err(e) => last = e,
        }
    }
    bail!("dialling sip:{line}@: {last} ({DIAL_TRIES} tries)")
}

/// Waits for the menu, says the clip, watches; returns the call id, how many nodes the path
/// had when the caller spoke (the path's index where the answer's effect starts), and whether a
/// request was said a second time. A request that left the call at the menu, not understood, is
/// said again once the question has been asked again, as a caller repeats themselves.
fn converse(
    server: &Server,
    call: &UacCall,
    streamer: &Streamer,
    clip: &Clip,
    pcm: &[i16],
    menu: MenuPrompts,
) -> anyhow::Result<(String, usize, bool)> {
    let id = find_live(server, call)?;
    // 1. The menu begins; its question plays to the end.
    let start = Instant::now();
    let path_len = loop {
        let c = live(server, &id)?.context("the call ended before the main menu")?;
        if c["node"] == MENU {
            break c["path"].as_array().map_or(0, Vec::len);
        }
        anyhow::ensure!(
            start.elapsed() < MENU_WAIT,
            "the call did not reach the menu in {MENU_WAIT:?} (at {})",
            c["node"]
        );
        call.service()?;
        std::thread::sleep(POLL / 2);
    };
    wait(
        call,
        Instant::now() + menu.question + Duration::from_millis(300),
    )?;
    // 2. The clip, in real time, and what it led to.
    say(call, streamer, pcm)?;
    let said = Instant::now();
    let outcome = watch(server, call, &id, clip, path_len)?;
    // 3. A request left at the menu: said again after the no-match lead-in and the question
    //    (and the time to decide there was no match, a second look included).
    if clip.item.category != Category::Request || outcome != Watched::AtMenu {
        return Ok((id, path_len, false));
    }
    wait(call, said + REASK_DECISION + menu.no_match + menu.question)?;
    if !matches!(live(server, &id)?, Some(c) if c["node"] == MENU && c["reason"].is_null()) {
        return Ok((id, path_len, false));
    }
    say(call, streamer, pcm)?;
    watch(server, call, &id, clip, path_len)?;
    Ok((id, path_len, true))
}

/// After an answer that was not understood: the longest the server takes to decide so (the
/// end of the turn, recognition, a second look) before the no-match lead-in starts.
const REASK_DECISION: Duration = Duration::from_millis(3500);

/// Where a call stood when the watch ended.
#[derive(Debug, PartialEq)]
enum Watched {
    /// Handed over, moved on, or ended.
    Moved,
    /// Still at the menu, nobody taking it: the answer was not understood.
    AtMenu,
}

/// Keeps the call serviced until `until`.
fn wait(call: &UacCall, until: Instant) -> anyhow::Result<()> {
    while Instant::now() < until {
        call.service()?;
        std::thread::sleep(POLL / 2);
    }
    Ok(())
}

/// Says `pcm` in real time and waits until it has all been sent.
fn say(call: &UacCall, streamer: &Streamer, pcm: &[i16]) -> anyhow::Result<()> {
    streamer.say(pcm);
    while streamer.left() > 0 {
        call.service()?;
        std::thread::sleep(POLL / 2);
    }
    Ok(())
}

/// Watches the call after the caller spoke until it is handed over, reaches the clip's node
/// (or settles on another), ends, or the category's wait is over.
fn watch(
    server: &Server,
    call: &UacCall,
    id: &str,
    clip: &Clip,
    path_len: usize,
) -> anyhow::Result<Watched> {
    let wait = match clip.item.category {
        Category::Hesitant => HESITANT_WAIT,
        _ => ANSWER_WAIT,
    };
    let until = Instant::now() + wait;
    let mut moved_at: Option<Instant> = None;
    while Instant::now() < until {
        call.service()?;
        let Some(c) = live(server, id)? else {
            return Ok(Watched::Moved); // ended (the plan hung up)
        };
        if c["reason"].as_str().is_some_and(|r| r != "routed") {
            return Ok(Watched::Moved);
        }
        let after: Vec<&str> = c["path"]
            .as_array()
            .map(|p| p.iter().skip(path_len).filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Expect::Node(want) = &clip.item.expect {
            if after.iter().any(|n| want.iter().any(|w| w == n)) {
                return Ok(Watched::Moved);
            }
        }
        if !after.is_empty() && clip.item.category != Category::Hesitant {
            let at = *moved_at.get_or_insert_with(Instant::now);
            if at.elapsed() >= SETTLE {
                return Ok(Watched::Moved);
            }
        }
        std::thread::sleep(POLL);
    }
    let at_menu = live(server, id)?.is_some_and(|c| c["node"] == MENU && c["reason"].is_null());
    Ok(if at_menu {
        Watched::AtMenu
    } else {
        Watched::Moved
    })
}

/// The server's id of our call, from the live list (matched by SIP Call-ID).
fn find_live(server: &Server, call: &UacCall) -> anyhow::Result<String> {
    let start = Instant::now();
    loop {
        let v = get_json(server, "/api/calls")?;
        let found = v["live"].as_array().and_then(|l| {
            l.iter()
                .find(|c| c["sip_call_id"] == call.call_id())
                .and_then(|c| c["id"].as_str())
                .map(str::to_string)
        });
        if let Some(id) = found {
            return Ok(id);
        }
        anyhow::ensure!(
            start.elapsed() < Duration::from_secs(5),
            "the answered call is not among the live calls"
        );
        call.service()?;
        std::thread::sleep(POLL / 2);
    }
}

/// The live call, or `None` once it has ended (stored).
fn live(server: &Server, id: &str) -> anyhow::Result<Option<Value>> {
    let v = get_json(server, &format!("/api/calls/{id}"))?;
    Ok((v["live"] == true).then(|| v["call"].clone()))
}

/// `GET path` as JSON, tried three times: a server busy with recognition may be slow to accept.
fn get_json(server: &Server, path: &str) -> anyhow::Result<Value> {
    let mut last = None;
    for _ in 0..3 {
        match http_get(server.http, path) {
            Ok(body) => return Ok(serde_json::from_str(&body)?),
            Err(e) => last = Some(e),
        }
        std::thread::sleep(POLL);
    }
    Err(last.map_or_else(
        || anyhow::anyhow!("GET {path}"),
        |e| e.context(format!("GET {path}")),
    ))
}

/// The stored call (written as the call ends: waited for).
fn stored(server: &Server, id: &str) -> anyhow::Result<Observed> {
    let start = Instant::now();
    let c = loop {
        let got = http_get(server.http, &format!("/api/calls/{id}"));
        if let Ok(body) = got {
            let v: Value = serde_json::from_str(&body)?;
            if v["live"] == false {
                break v["call"].clone();
            }
        }
        anyhow::ensure!(
            start.elapsed() < Duration::from_secs(10),
            "call {id} was not stored within 10 s of the hang-up"
        );
        std::thread::sleep(POLL);
    };
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let events = c["events"].as_array().cloned().unwrap_or_default();
    let kind = |e: &Value| e["kind"].as_str().unwrap_or_default().to_string();
    let transfer = events
        .iter()
        .position(|e| kind(e) == "transfer" && e["detail"]["reason"] != "routed");
    let before = &events[..transfer.unwrap_or(events.len())];
    let heard_before = before.iter().filter(|e| kind(e) == "heard").count();
    let no_input_before = before.iter().filter(|e| kind(e) == "no_input").count();
    Ok(Observed {
        call_id: id.to_string(),
        reason: c["reason"].as_str().map(str::to_string),
        outcome: c["outcome"].as_str().map(str::to_string),
        after: strings(&c["path"]),
        heard: events
            .iter()
            .filter(|e| kind(e) == "heard")
            .map(|e| {
                let d = &e["detail"];
                (
                    d["text"].as_str().unwrap_or_default().to_string(),
                    d["intent"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        transcript: c["utterances"]
            .as_array()
            .map(|u| {
                u.iter()
                    .map(|t| t["text"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default(),
        turns_before_transfer: heard_before + no_input_before,
        heard_before_transfer: heard_before,
        no_input_before_transfer: no_input_before > 0,
        signals: strings(&c["signals"]),
        clip_seconds: 0.0,
        call_seconds: 0.0,
        asked_again: false,
    })
}

/// Sends PCMU every 20 ms for the whole call: queued speech when there is some, the line
/// otherwise (silence, or the line's noise looped) — what a phone does.
struct Streamer {
    queue: Arc<Mutex<VecDeque<i16>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Streamer {
    fn start(sock: UdpSocket, peer: SocketAddr, line: Option<Vec<i16>>) -> Streamer {
        let queue: Arc<Mutex<VecDeque<i16>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (q, s) = (Arc::clone(&queue), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let mut rtp = RtpSender::new(0x6576_616c, 0, 1000, 16_000);
            let (mut frame, mut payload) = ([0i16; FRAME], [0u8; FRAME]);
            let mut talking = false;
            let start = Instant::now();
            for i in 0u64.. {
                if s.load(Ordering::Relaxed) {
                    return;
                }
                {
                    let mut q = q.lock().unwrap_or_else(|e| e.into_inner());
                    let n = q.len().min(FRAME);
                    for (k, f) in frame.iter_mut().enumerate() {
                        *f = line
                            .as_deref()
                            .map_or(0, |l| l[(i as usize * FRAME + k) % l.len()]);
                    }
                    for (f, v) in frame.iter_mut().zip(q.drain(..n)) {
                        *f = v;
                    }
                }
                let voiced = frame.iter().any(|v| v.unsigned_abs() > 64);
                Codec::Pcmu.encode(&frame, &mut payload);
                let _ = sock.send_to(rtp.packet(&payload, voiced && !talking, FRAME as u32), peer);
                talking = voiced;
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

    fn say(&self, pcm: &[i16]) {
        self.queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(pcm.iter().copied());
    }

    /// Samples not yet sent.
    fn left(&self) -> usize {
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Streamer {
    fn drop(&mut self) {
        self.halt();
    }
}
