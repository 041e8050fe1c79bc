//! Hand-off first, as a caller and an agent live it: real SIP callers (speaking with espeak-ng
//! voices, or pressing keys), the real whisper model, and a fake agent phone that stamps when
//! its INVITE arrives while listening to what the caller hears.
//!
//! - For a spoken request, for hesitation and for retries that ran out, the agent's phone rings
//!   while the "connecting you" prompt is still playing to the caller: the prompt never delays
//!   the INVITE.
//! - A caller who asks for a person and keeps talking is transferred before they stop.
//! - A slow answer with long pauses is heard as one answer (not cut into pieces).
//! - On a noisy line the noise is not heard as the caller speaking: the request said over it is
//!   one utterance of its own length, and transfers.
//!
//! Skipped without `models/ggml-base-q8_0.bin` unless `HUMANLINE_REQUIRE_MODEL` is set (`make test`).

mod common;

use common::rawsip::{response, tone_fraction, ulaw_to_linear, RawCall, SipMsg};
use common::server::{serial, ServerOptions, TestServer};
use common::speech::{
    live_call, model_available, model_path, sleep_until, stored_call, wait_node, SpeakingCaller,
    Speech, Voice,
};
use serde_json::Value;
use std::collections::HashSet;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const SEC: Duration = Duration::from_secs(1);
/// The main menu question (prompts/en/main_menu.wav).
const EN_MAIN_MENU: f64 = 12.76;

/// A fake agent phone: stamps each new INVITE as it arrives, then rings (180) without answering
/// or, if `busy`, declines (486) so that the line moves to the next agent.
struct AgentPhone {
    port: u16,
    invites: Arc<Mutex<Vec<Instant>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl AgentPhone {
    fn start(busy: bool) -> AgentPhone {
        let sock = UdpSocket::bind("127.0.0.1:0").expect("bind the agent phone");
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let port = sock.local_addr().unwrap().port();
        let invites: Arc<Mutex<Vec<Instant>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, halt) = (Arc::clone(&invites), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let mut calls = HashSet::new();
            let mut buf = vec![0u8; 65536];
            while !halt.load(Ordering::Relaxed) {
                let Ok((n, from)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                let at = Instant::now();
                let Some(m) = SipMsg::parse(&String::from_utf8_lossy(&buf[..n])) else {
                    continue;
                };
                let reply = match m.method().as_str() {
                    _ if m.is_response() => continue,
                    "INVITE" => {
                        if calls.insert(m.call_id().unwrap_or_default().to_string()) {
                            seen.lock().unwrap().push(at);
                        }
                        if busy {
                            response(&m, 486, "Busy Here", Some("busy"), "", "")
                        } else {
                            response(&m, 180, "Ringing", Some("ringing"), "", "")
                        }
                    }
                    "ACK" => continue,
                    _ => response(&m, 200, "OK", Some("ringing"), "", ""),
                };
                let _ = sock.send_to(reply.as_bytes(), from);
            }
        });
        AgentPhone {
            port,
            invites,
            stop,
            thread: Some(thread),
        }
    }

    fn uri(&self) -> String {
        format!("sip:agent@127.0.0.1:{}", self.port)
    }

    /// When the first INVITE arrived, waiting up to `timeout`.
    fn first_invite(&self, timeout: Duration) -> Option<Instant> {
        let until = Instant::now() + timeout;
        while Instant::now() < until {
            if let Some(t) = self.invites.lock().unwrap().first() {
                return Some(*t);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }
}

impl Drop for AgentPhone {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Decoded 20 ms frames with their arrival times.
type Heard = Arc<Mutex<Vec<(Instant, Vec<i16>)>>>;

/// What the caller hears: every RTP packet from the line, decoded, with its arrival time.
struct Ear {
    frames: Heard,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Ear {
    fn start(sock: UdpSocket) -> Ear {
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let frames: Heard = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (out, halt) = (Arc::clone(&frames), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !halt.load(Ordering::Relaxed) {
                if let Ok((n, _)) = sock.recv_from(&mut buf) {
                    // PCMU only (payload type 0), after the 12-byte header.
                    if n > 12 && buf[1] & 0x7f == 0 {
                        let pcm = buf[12..n].iter().map(|b| ulaw_to_linear(*b)).collect();
                        out.lock().unwrap().push((Instant::now(), pcm));
                    }
                }
            }
        });
        Ear {
            frames,
            stop,
            thread: Some(thread),
        }
    }

    /// Of the frames heard in `[from, from + span)`: (frames, spoken ones, ringback ones).
    /// Spoken: loud enough and not the ringback tone.
    fn heard(&self, from: Instant, span: Duration) -> (usize, usize, usize) {
        let frames = self.frames.lock().unwrap();
        let mut n = (0, 0, 0);
        for (at, pcm) in frames
            .iter()
            .filter(|(t, _)| *t >= from && *t < from + span)
        {
            let _ = at;
            n.0 += 1;
            let rms = (pcm.iter().map(|s| (*s as f64).powi(2)).sum::<f64>()
                / pcm.len().max(1) as f64)
                .sqrt();
            let ring = tone_fraction(pcm, 440.0) + tone_fraction(pcm, 480.0) > 0.5;
            if ring {
                n.2 += 1;
            } else if rms > 200.0 {
                n.1 += 1;
            }
        }
        n
    }
}

impl Drop for Ear {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn server_with(agents: &[&AgentPhone], private_plans: bool) -> TestServer {
    TestServer::start(ServerOptions {
        agents: agents.iter().map(|a| a.uri()).collect(),
        asr: Some(format!(
            "model = {:?}\nworkers = 1\nthreads = 2\ndeadline_seconds = 20.0",
            model_path().to_string_lossy()
        )),
        max_wait_seconds: 60.0,
        private_plans,
        ..ServerOptions::default()
    })
}

/// The call time (ms) of the stored call's first event of `kind`, and its detail.
fn event(call: &Value, kind: &str) -> Option<(i64, Value)> {
    call["events"]
        .as_array()?
        .iter()
        .find(|e| e["kind"] == kind)
        .map(|e| (e["at_ms"].as_i64().unwrap_or(-1), e["detail"].clone()))
}

/// The promise of this file: the agent's INVITE went out at the decision and reached the agent
/// while the caller was still hearing "connecting you".
fn assert_rung_during_connecting(
    server: &TestServer,
    call_id: &str,
    agent: &AgentPhone,
    ear: &Ear,
    reason: &str,
    invited: Instant,
) {
    let call = stored_call(server, call_id);
    let note = format!("events: {}\nsignals: {}", call["events"], call["signals"]);
    assert_eq!(call["reason"], reason, "{note}");
    let (decided, _) = event(&call, "transfer").expect("a transfer event");
    let (dialled, _) = event(&call, "agent_dial").expect("an agent_dial event");
    let (_, connecting) = event(&call, "connecting_prompt").expect("the connecting prompt");
    let words = connecting["ms"].as_i64().unwrap_or(0);
    assert!(
        words > 2000,
        "the connecting prompt is seconds long: {note}"
    );
    assert!(
        dialled - decided <= 50,
        "decision at {decided} ms, INVITE at {dialled} ms: the INVITE must go with the decision\n{note}"
    );
    assert!(
        dialled < decided + words,
        "the INVITE ({dialled} ms) went out after the connecting prompt ({decided} + {words} ms)\n{note}"
    );
    // What the caller heard in the half second after the agent's phone got its INVITE: the
    // connecting prompt's words, no ringback yet.
    let (frames, spoken, ringback) = ear.heard(invited, Duration::from_millis(500));
    assert!(
        frames >= 15 && spoken * 2 >= frames && ringback == 0,
        "after the agent's INVITE arrived the caller heard {frames} frames: {spoken} spoken, {ringback} ringback; the connecting prompt must still be playing\n{note}"
    );
    assert_eq!(
        agent.invites.lock().unwrap().len(),
        1,
        "one INVITE to the agent"
    );
}

fn say(dir: &std::path::Path, wpm: u32, text: &str) -> Speech {
    Speech::new().say(dir, Voice::En, wpm, text)
}

/// Words without espeak's own silence before and after them, so that a pause between pieces
/// is exactly the pause asked for.
fn words(dir: &std::path::Path, wpm: u32, text: &str) -> Vec<i16> {
    let pcm = say(dir, wpm, text).pcm;
    let loud = |s: &i16| s.unsigned_abs() > 300;
    let first = pcm.iter().position(loud).unwrap_or(0);
    let last = pcm.iter().rposition(loud).map_or(pcm.len(), |i| i + 1);
    pcm[first..last].to_vec()
}

/// A caller who speaks `clip` `after` the main menu question began, and an agent phone that
/// rings: the agent's INVITE must arrive while "connecting you" still plays, for `reason`.
fn spoken_escalation_rings_during_the_connecting_prompt(clip: &Speech, after: f64, reason: &str) {
    let agent = AgentPhone::start(false);
    let server = server_with(&[&agent], false);
    let caller = SpeakingCaller::dial(server.sip_addr(), "support");
    let ear = Ear::start(caller.call.media.sock.try_clone().unwrap());
    let cid = caller.call_id();
    let menu = wait_node(&server, &cid, "menu", 15 * SEC);
    sleep_until(menu + Duration::from_secs_f64(after));
    caller.say(clip);
    let invited = agent
        .first_invite(60 * SEC)
        .expect("the agent's phone rang");
    std::thread::sleep(SEC);
    caller.hang_up();
    assert_rung_during_connecting(&server, &cid, &agent, &ear, reason, invited);
}

#[test]
fn agent_rings_during_the_connecting_prompt_for_a_spoken_request() {
    let _g = serial();
    if !model_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let clip = say(dir.path(), 150, "I want to talk to a real person").pause(1.0);
    spoken_escalation_rings_during_the_connecting_prompt(&clip, 1.0, "human_request");
}

#[test]
fn agent_rings_during_the_connecting_prompt_when_retries_run_out() {
    let _g = serial();
    // A busy first agent, then one that rings: the decline during the prompt moves to the next
    // agent at once, still within the prompt.
    let busy = AgentPhone::start(true);
    let agent = AgentPhone::start(false);
    let server = server_with(&[&busy, &agent], false);
    let mut call = RawCall::new(server.sip_addr(), "support");
    call.send_invite();
    let ok = call.wait_final(10 * SEC).expect("answered");
    assert_eq!(ok.code(), 200);
    call.ack();
    let ear = Ear::start(call.media.sock.try_clone().unwrap());
    let cid = call.call_id.clone();
    wait_node(&server, &cid, "menu", 15 * SEC);
    // Keys that are no option, until the line hands the caller over.
    let mut invited = None;
    for _ in 0..6 {
        std::thread::sleep(Duration::from_millis(700));
        call.media.send_dtmf('9', 101);
        invited = agent.first_invite(Duration::from_millis(300));
        if invited.is_some() {
            break;
        }
    }
    let invited = invited
        .or_else(|| agent.first_invite(5 * SEC))
        .expect("the second agent's phone rang");
    assert_eq!(
        busy.invites.lock().unwrap().len(),
        1,
        "the busy agent was tried first"
    );
    std::thread::sleep(SEC);
    call.bye();
    assert_rung_during_connecting(&server, &cid, &agent, &ear, "retries", invited);
}

#[test]
fn agent_rings_during_the_connecting_prompt_for_a_hesitant_caller() {
    let _g = serial();
    if !model_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Waits well past the question, then halting words.
    let clip = say(dir.path(), 90, "um")
        .pause(3.0)
        .say(dir.path(), Voice::En, 90, "uh")
        .pause(1.8)
        .say(dir.path(), Voice::En, 90, "I don't understand")
        .pause(3.0);
    spoken_escalation_rings_during_the_connecting_prompt(&clip, EN_MAIN_MENU + 3.5, "hesitation");
}

#[test]
fn a_caller_who_keeps_talking_after_asking_for_a_person_is_transferred_before_they_stop() {
    let _g = serial();
    if !model_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let agent = AgentPhone::start(false);
    let server = server_with(&[&agent], false);
    let caller = SpeakingCaller::dial(server.sip_addr(), "support");
    let cid = caller.call_id();
    let menu = wait_node(&server, &cid, "menu", 15 * SEC);
    sleep_until(menu + SEC);
    // One sentence, said without stopping: the request comes first, the reasons go on.
    let clip = say(
        dir.path(),
        150,
        "I want a person, because my bill is wrong and I was charged twice this month and nobody has called me back about it",
    );
    let started = Instant::now();
    caller.say(&clip);
    let stops = started + Duration::from_secs_f64(clip.seconds());
    let invited = agent
        .first_invite(30 * SEC)
        .expect("the agent's phone rang");
    let call_live = live_call(&server, &cid);
    caller.finish_saying();
    caller.hang_up();
    let call = stored_call(&server, &cid);
    assert!(
        invited < stops,
        "the agent was rung {:.2} s after the caller stopped; it must be before\n{}",
        (invited - stops).as_secs_f64(),
        call["signals"]
    );
    assert_eq!(call["reason"], "human_request", "{:?}", call_live);
    let signals = call["signals"].to_string();
    assert!(signals.contains("heard while still speaking"), "{signals}");
}

#[test]
fn a_slow_answer_with_long_pauses_is_heard_as_one_answer() {
    let _g = serial();
    if !model_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = server_with(&[], true);
    // The demo plan for a line of older callers: elderly timing from the first question.
    let plans = server.dir.path().join("dialplans");
    let plan = std::fs::read_to_string(plans.join("support.toml"))
        .unwrap()
        .replace("name = \"support\"", "name = \"slow\"")
        .replace("[timing]", "[timing]\nelderly_from_start = true");
    std::fs::write(plans.join("slow.toml"), plan).unwrap();
    let caller = SpeakingCaller::dial(server.sip_addr(), "slow");
    let cid = caller.call_id();
    let menu = wait_node(&server, &cid, "menu", 15 * SEC);
    sleep_until(menu + Duration::from_secs_f64(EN_MAIN_MENU + 1.0));
    // "I would like … to pay … my bill": 1.5 s of silence between the pieces.
    let mut clip = Speech::new();
    for (i, piece) in ["I would like", "to pay", "my bill"].iter().enumerate() {
        if i > 0 {
            clip = clip.pause(1.5);
        }
        clip.pcm.extend(words(dir.path(), 90, piece));
    }
    let clip = clip.pause(4.0);
    caller.say_all(&clip);
    // "to pay my bill" names billing and its payment answer: the call goes through both.
    let billing = server.wait_for(20 * SEC, |s| {
        live_call(s, &cid).filter(|c| {
            c["path"]
                .as_array()
                .is_some_and(|p| p.iter().any(|n| n == "billing"))
        })
    });
    caller.hang_up();
    let call = stored_call(&server, &cid);
    let note = format!(
        "utterances: {:#}\nsignals: {}\npath: {}",
        call["utterances"], call["signals"], call["path"]
    );
    assert!(billing.is_some(), "the answer reached billing\n{note}");
    let utterances = call["utterances"].as_array().cloned().unwrap_or_default();
    let before_billing: Vec<&Value> = utterances
        .iter()
        .filter(|u| {
            let t = u["text"].as_str().unwrap_or("").to_lowercase();
            t.contains("like") || t.contains("pay") || t.contains("bill")
        })
        .collect();
    assert_eq!(
        before_billing.len(),
        1,
        "one answer, not three pieces\n{note}"
    );
    let pauses = before_billing[0]["features"]["pauses_ms"]
        .as_array()
        .map(|p| p.len())
        .unwrap_or(0);
    assert!(pauses >= 2, "its two long pauses are inside it\n{note}");
    assert_ne!(
        call["outcome"], "transfer",
        "not escalated for being slow\n{note}"
    );
}

#[test]
fn on_a_noisy_line_the_request_is_heard_and_the_noise_is_not() {
    let _g = serial();
    if !model_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let clip = say(dir.path(), 150, "I want to talk to a real person");
    let words = clip.seconds();
    // White noise 15 dB under the voice, on the line from the first packet to the last (a
    // mobile in the street): the voice detector alone called most of it speech, so the noise
    // barged in and the caller's turn never ended.
    let rms = (clip.pcm.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / clip.pcm.len() as f64)
        .sqrt();
    let agent = AgentPhone::start(false);
    let server = server_with(&[&agent], false);
    let caller =
        SpeakingCaller::dial_on_noisy_line(server.sip_addr(), "support", rms / 10f64.powf(0.75));
    let cid = caller.call_id();
    let menu = wait_node(&server, &cid, "menu", 15 * SEC);
    sleep_until(menu + Duration::from_secs_f64(3.0));
    caller.say(&clip);
    let invited = agent.first_invite(30 * SEC);
    caller.hang_up();
    let call = stored_call(&server, &cid);
    let note = format!(
        "utterances: {:#}\nsignals: {}\nevents: {}",
        call["utterances"], call["signals"], call["events"]
    );
    assert!(invited.is_some(), "the agent's phone rang\n{note}");
    assert_eq!(call["reason"], "human_request", "{note}");
    let utterances = call["utterances"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        utterances.len(),
        1,
        "the request alone, no noise heard as words\n{note}"
    );
    let heard = (utterances[0]["ended_ms"].as_i64().unwrap_or(0)
        - utterances[0]["started_ms"].as_i64().unwrap_or(0)) as f64
        / 1000.0;
    assert!(
        heard <= words + 0.5,
        "the utterance lasted {heard:.2} s for {words:.2} s of words: noise was taken for speech\n{note}"
    );
}
