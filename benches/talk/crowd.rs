//! Step 3: capacity with callers who speak. N calls at once, half to the English plan and half
//! to the Mandarin one; each waits for the main menu's question, then says a clip every 10–20 s
//! (menu answers mostly, one in ten asks for a person). A call that is handed over, hung up by
//! the server, or has said its clips is hung up and replaced, so N stays constant through the
//! window. One thread paces every caller's 20 ms frames. The server runs the demo plans with
//! no-input windows longer than [`GAP`] (speech_load writes them), so a gap between clips is
//! a caller thinking, not a no-input that would make the engine read them as hesitant.
//!
//! From the stored calls, per utterance: end of speech → the engine's decision and the ASR
//! queue wait. A recognition fault (queue full, deadline missed) counts as an utterance whose
//! decision never came. For the calls that asked for a person: end of the caller's words →
//! INVITE at the fake agent (kernel stamp), as in step 1 but under load.

use super::clips::{Clip, Intent, Lang};
use super::stored;
use super::voice::VoiceCall;
use super::{Pcts, Rng};
use crate::common::agent::FakeAgent;
use crate::common::netstamp;
use crate::common::server::Server;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// A step fails when its decision p95 is above this, ms.
pub const DECISION_P95_LIMIT_MS: f64 = 1500.0;
/// When the first clip may start after the answer: the welcome prompt (7 s) is over and the
/// main menu's question plays; the first clip falls somewhere in the next few seconds.
const FIRST_SAY: (f64, f64) = (7.5, 12.0);
/// Seconds between the end of one clip and the start of the next.
pub const GAP: (f64, f64) = (10.0, 20.0);
/// Share of clips that ask for a person.
const PERSON_SHARE: f64 = 0.1;
/// Clips a call says before it is replaced.
const CLIPS_PER_CALL: usize = 3;
/// How long a call stays on after its last clip (for the decision) or after asking for a
/// person (for the INVITE), at most.
const LINGER: Duration = Duration::from_secs(12);
/// How often the server's live view is read (to know each call's id and state).
const POLL: Duration = Duration::from_secs(2);
/// Each call's SIP socket is looked at once in this many ticks (a second), the calls in turn:
/// a look waits up to a millisecond, too long to spend on every call every 20 ms.
const SERVICE_EVERY: usize = 50;

/// One step's figures.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CrowdStep {
    /// Concurrent speaking calls.
    pub calls: usize,
    /// Calls placed in all (replacements included).
    pub placed: usize,
    /// Calls the server refused or did not answer.
    pub failed_dials: usize,
    /// Utterances stored plus recognition faults.
    pub utterances: usize,
    /// Recognition faults (each sends its caller to a person).
    pub asr_faults: usize,
    /// End of speech → decision, ms (faults as never).
    pub decision: Pcts,
    /// Time utterances waited for a recognition worker, ms.
    pub asr_queue: Pcts,
    /// Where the decision time goes: end of speech → decision for the turns heard under the
    /// plans' standard end-of-turn window at one look, under a stretched (slow or elderly)
    /// window, and those that moved nothing at first and had a second look.
    pub decision_by_kind: DecisionByKind,
    /// End of the caller's words → INVITE at the agent, for the calls that asked for a person.
    pub request_to_invite: Pcts,
    /// Escalations by reason.
    pub escalations: HashMap<String, usize>,
    /// Whether decision p95 ≤ the limit and under 5 % of dials failed.
    pub passed: bool,
    /// Whether the turns heard at one look under the standard window alone kept their p95 ≤
    /// the limit (and under 5 % of dials failed): what the recognizer's load does to the
    /// turns whose time is not set by a longer window or a second look.
    pub passed_one_look: bool,
    /// Window length, s.
    pub window_s: f64,
    /// The first few errors.
    pub errors: Vec<String>,
}

/// End of speech → decision split by what the turn went through (see [`CrowdStep`]).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DecisionByKind {
    /// One look under the standard window.
    pub one_look: Pcts,
    /// One look under a window longer than the standard one.
    pub stretched_window: Pcts,
    /// A second look (any window).
    pub second_look: Pcts,
}

impl DecisionByKind {
    /// The line printed under a step.
    pub fn show(&self) -> String {
        format!(
            "one look {}; stretched window {}; second look {}",
            self.one_look.show(),
            self.stretched_window.show(),
            self.second_look.show()
        )
    }
}

/// The plans' standard end-of-turn window (`endpoint_silence_seconds` of the demo plans), ms.
const STANDARD_WINDOW_MS: f64 = 700.0;

/// One caller slot, refilled when its call ends.
struct Slot {
    lang: Lang,
    call: Option<VoiceCall>,
    /// When to say the next clip.
    next_say: Instant,
    /// When to hang up (set after the last clip or a request).
    leave_at: Option<Instant>,
    /// The server's id of the call, once the live view showed it.
    id: Option<String>,
}

/// Runs `n` speaking callers for `window`, then reads what the server stored.
pub fn run_step(
    server: &Server,
    agent: &FakeAgent,
    clips: &[Arc<Clip>],
    n: usize,
    window: Duration,
    rng: &mut Rng,
) -> CrowdStep {
    let mut out = CrowdStep {
        calls: n,
        window_s: window.as_secs_f64(),
        ..Default::default()
    };
    while agent.invites.try_recv().is_ok() {}
    let pool = |lang: Lang, intent: Intent| -> Vec<Arc<Clip>> {
        clips
            .iter()
            .filter(|c| c.lang == lang && c.intent == intent)
            .cloned()
            .collect()
    };
    let pools = [
        (
            pool(Lang::En, Intent::Answer),
            pool(Lang::En, Intent::Person),
        ),
        (
            pool(Lang::Zh, Intent::Answer),
            pool(Lang::Zh, Intent::Person),
        ),
    ];
    let (live_tx, live_rx) = mpsc::channel();
    let stop = AtomicBool::new(false);
    let mut ids: Vec<String> = Vec::new();
    let mut requests: Vec<(String, SystemTime)> = Vec::new();
    let mut invites: HashMap<String, SystemTime> = HashMap::new();
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(m) = stored::live(server) {
                    let _ = live_tx.send(m);
                }
                std::thread::sleep(POLL);
            }
        });
        let (dial_tx, dial_rx) = mpsc::channel::<(usize, anyhow::Result<VoiceCall>)>();
        let mut slots: Vec<Slot> = (0..n)
            .map(|i| Slot {
                lang: if i % 2 == 0 { Lang::En } else { Lang::Zh },
                call: None,
                next_say: Instant::now(),
                leave_at: None,
                id: None,
            })
            .collect();
        let start = Instant::now();
        // Calls start spread over the first 3 s, so their clips do not all begin together.
        let mut dial_at: Vec<Option<Instant>> = (0..n)
            .map(|i| Some(start + Duration::from_millis(3000 * i as u64 / n.max(1) as u64)))
            .collect();
        let end = start + window;
        let hard_end = end + LINGER + Duration::from_secs(10);
        let mut due = start;
        let mut leaving = Vec::new();
        let mut ticks = 0usize;
        while Instant::now() < hard_end {
            ticks += 1;
            let now = Instant::now();
            // Dials due (each on its own thread: an INVITE must not stall everyone's audio).
            for (i, at) in dial_at.iter_mut().enumerate() {
                if at.is_some_and(|t| t <= now) {
                    *at = None;
                    if now < end {
                        let tx = dial_tx.clone();
                        let user = slots[i].lang.user();
                        out.placed += 1;
                        s.spawn(move || {
                            let _ = tx.send((i, VoiceCall::dial(server.sip, user)));
                        });
                    }
                }
            }
            while let Ok((i, dialled)) = dial_rx.try_recv() {
                match dialled {
                    Ok(call) => {
                        let t = Instant::now();
                        let slot = &mut slots[i];
                        slot.next_say = t + secs(rng.between(FIRST_SAY.0, FIRST_SAY.1));
                        slot.leave_at = None;
                        slot.id = None;
                        slot.call = Some(call);
                    }
                    Err(e) => {
                        out.failed_dials += 1;
                        note(&mut out.errors, format!("dial: {e:#}"));
                        dial_at[i] = Some(Instant::now() + Duration::from_secs(1));
                    }
                }
            }
            while let Ok(map) = live_rx.try_recv() {
                for slot in slots.iter_mut() {
                    let Some(call) = &slot.call else { continue };
                    if let Some((id, handed_over)) = map.get(call.uac.call_id()) {
                        if slot.id.is_none() {
                            ids.push(id.clone());
                        }
                        slot.id = Some(id.clone());
                        if *handed_over && slot.leave_at.is_none() {
                            slot.leave_at = Some(Instant::now() + Duration::from_secs(2));
                        }
                    }
                }
            }
            while let Ok(inv) = agent.invites.try_recv() {
                if let Some(id) = inv.call_id {
                    invites.entry(id).or_insert(inv.at);
                }
            }
            // Each caller: speak when due, leave when done, send this frame.
            for (i, slot) in slots.iter_mut().enumerate() {
                let Some(call) = &mut slot.call else { continue };
                let (answers, persons) = &pools[usize::from(slot.lang == Lang::Zh)];
                if now >= slot.next_say && !call.busy() && slot.leave_at.is_none() && now < end {
                    let person = rng.unit() < PERSON_SHARE && !persons.is_empty();
                    let clip = if person {
                        rng.pick(persons)
                    } else {
                        rng.pick(answers)
                    };
                    call.say(clip);
                    let len = Duration::from_millis(clip.frames() as u64 * 20);
                    slot.next_say = now + len + secs(rng.between(GAP.0, GAP.1));
                    if person || call.said.len() >= CLIPS_PER_CALL {
                        slot.leave_at = Some(now + len + LINGER);
                    }
                }
                let look = (ticks + i).is_multiple_of(SERVICE_EVERY);
                let hung_up = call.tick().is_err() || (look && call.service().unwrap_or(true));
                let over = slot.leave_at.is_some_and(|t| now >= t) || now >= end + LINGER;
                if hung_up || over {
                    let Some(call) = slot.call.take() else {
                        continue;
                    };
                    for said in &call.said {
                        if let (Intent::Person, Some(at), Some(id)) =
                            (said.clip.intent, said.words_ended, &slot.id)
                        {
                            requests.push((id.clone(), at));
                        }
                    }
                    if !hung_up {
                        leaving.push(s.spawn(move || call.hang_up()));
                    }
                    dial_at[i] = Some(now);
                }
            }
            if slots.iter().all(|s| s.call.is_none()) && now >= end {
                break;
            }
            due += Duration::from_millis(20);
            let late = Instant::now().saturating_duration_since(due);
            if late > Duration::from_millis(200) {
                due = Instant::now(); // far behind on a busy machine: do not burst to catch up
            }
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        stop.store(true, Ordering::Relaxed);
        for h in leaving {
            if let Ok(Err(e)) = h.join() {
                note(&mut out.errors, format!("hang up: {e:#}"));
            }
        }
    });
    // INVITEs that arrive after the last caller left still count for the requests.
    std::thread::sleep(Duration::from_millis(500));
    while let Ok(inv) = agent.invites.try_recv() {
        if let Some(id) = inv.call_id {
            invites.entry(id).or_insert(inv.at);
        }
    }
    read_back(server, &ids, &requests, &invites, &mut out);
    out
}

/// Reads every call of the step from the store and fills in the latencies.
fn read_back(
    server: &Server,
    ids: &[String],
    requests: &[(String, SystemTime)],
    invites: &HashMap<String, SystemTime>,
    out: &mut CrowdStep,
) {
    server.wait_idle(Duration::from_secs(15));
    let (mut decision, mut queue) = (Vec::new(), Vec::new());
    let mut by_kind: [Vec<f64>; 3] = Default::default();
    for id in ids {
        let call = match stored::call(server, id, Duration::from_secs(5)) {
            Ok(c) => c,
            Err(e) => {
                note(&mut out.errors, format!("{e:#}"));
                continue;
            }
        };
        for t in stored::turns(&call) {
            decision.extend(t.decision_ms);
            let kind = if t.second_look {
                2
            } else if t.window_ms.is_some_and(|w| w > STANDARD_WINDOW_MS + 1.0) {
                1
            } else {
                0
            };
            by_kind[kind].extend(t.decision_ms);
            queue.extend(t.asr_queue_ms);
        }
        let faults = stored::asr_faults(&call);
        out.asr_faults += faults;
        decision.extend(std::iter::repeat_n(f64::INFINITY, faults));
        if let Ok(e) = stored::escalation(&call) {
            *out.escalations.entry(e.reason).or_default() += 1;
        }
    }
    let request_ms: Vec<f64> = requests
        .iter()
        .filter_map(|(id, ended)| Some(netstamp::ms_between(*ended, *invites.get(id)?)))
        .collect();
    out.utterances = decision.len();
    out.decision = Pcts::of(&decision);
    out.asr_queue = Pcts::of(&queue);
    out.decision_by_kind = DecisionByKind {
        one_look: Pcts::of(&by_kind[0]),
        stretched_window: Pcts::of(&by_kind[1]),
        second_look: Pcts::of(&by_kind[2]),
    };
    out.request_to_invite = Pcts::of(&request_ms);
    let dials_ok = out.failed_dials * 20 <= out.placed;
    let within = |p: &Pcts| p.p95_ms.is_some_and(|p| p <= DECISION_P95_LIMIT_MS);
    out.passed = within(&out.decision) && dials_ok;
    out.passed_one_look = within(&out.decision_by_kind.one_look) && out.asr_faults == 0 && dials_ok;
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

fn note(errors: &mut Vec<String>, e: String) {
    if errors.len() < 5 {
        errors.push(e);
    }
}
