//! Steps 1 and 2, on an idle server, one call at a time where the caller's clock matters:
//! - spoken request → agent INVITE as the caller lives it: from when the last voiced frame of
//!   "I want to talk to a real person" (and the others asking for a person, English and
//!   Mandarin) left the caller, to the kernel's arrival stamp of the INVITE at the fake agent;
//! - escalation decision → INVITE per reason, from the stored events: `human_request` (the
//!   calls above), `retries` (keys that are not options until the tries run out) and
//!   `hesitation` (slow fillers and confusion, said again until the engine gives up).

use super::clips::{Clip, Intent};
use super::stored::{self, Escalation};
use super::voice::VoiceCall;
use super::Pcts;
use crate::common::agent::{AgentInvite, FakeAgent};
use crate::common::netstamp;
use crate::common::server::Server;
use anyhow::Context;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Silence before the caller speaks (the welcome prompt is playing; a request is honoured at
/// any moment).
const LEAD: Duration = Duration::from_millis(600);
/// How long after the end of the words the INVITE may take before the call counts as failed.
const INVITE_WAIT: Duration = Duration::from_secs(10);
/// When the main menu's question is playing (the welcome prompt is 7 s long).
const MENU_AT: Duration = Duration::from_millis(7500);
/// Longest a retries or hesitation call runs before it counts as failed.
const ESCALATION_WAIT: Duration = Duration::from_secs(45);
/// Tries per call when the server answers 503 (its overload guard).
const DIAL_TRIES: usize = 5;
/// Key pressed for "not an option" in the main menu.
const WRONG_KEY: char = '9';
/// Gap between two wrong keys, and after a hesitant clip before the next.
const RETRY_GAP: Duration = Duration::from_millis(2500);

/// Spoken request → agent INVITE, measured at the caller and the agent.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SpokenToInvite {
    /// End of the caller's words → INVITE at the agent, every measured call.
    pub words_to_invite: Pcts,
    /// The same per clip: (clip, p50, n).
    pub by_clip: Vec<(String, Pcts)>,
    /// Calls placed.
    pub calls: usize,
    /// Calls without a measurement.
    pub failed: usize,
    /// The first few errors.
    pub errors: Vec<String>,
    /// What the server stored for the measured calls.
    pub escalations: Vec<Escalation>,
}

/// Places `calls` calls one after the other, cycling through the clips that ask for a person.
pub fn spoken_to_invite(
    server: &Server,
    agent: &FakeAgent,
    clips: &[Arc<Clip>],
    calls: usize,
) -> SpokenToInvite {
    let asks: Vec<&Arc<Clip>> = clips
        .iter()
        .filter(|c| c.intent == Intent::Person)
        .collect();
    let mut out = SpokenToInvite {
        calls,
        ..Default::default()
    };
    let mut all = Vec::new();
    let mut by_clip: Vec<(String, Vec<f64>)> =
        asks.iter().map(|c| (c.name.clone(), Vec::new())).collect();
    for i in 0..calls {
        let k = i % asks.len().max(1);
        let Some(clip) = asks.get(k) else { break };
        match spoken_call(server, agent, clip) {
            Ok((ms, esc)) => {
                all.push(ms);
                by_clip[k].1.push(ms);
                out.escalations.push(esc);
            }
            Err(e) => {
                out.failed += 1;
                if out.errors.len() < 5 {
                    out.errors.push(format!("{}: {e:#}", clip.name));
                }
            }
        }
    }
    out.words_to_invite = Pcts::of(&all);
    out.by_clip = by_clip
        .into_iter()
        .map(|(n, v)| (n, Pcts::of(&v)))
        .collect();
    out
}

/// Ticks `call` every 20 ms until `until` says stop (checked with each tick's new INVITEs) or
/// `limit` passes; returns the INVITE that stopped it, if any.
fn pace(
    call: &mut VoiceCall,
    agent: &FakeAgent,
    limit: Duration,
    mut before_tick: impl FnMut(&mut VoiceCall, Duration),
) -> anyhow::Result<Option<AgentInvite>> {
    let start = Instant::now();
    let mut due = start;
    while start.elapsed() < limit {
        before_tick(call, start.elapsed());
        call.tick()?;
        if call.service()? {
            anyhow::bail!("the server hung up");
        }
        due += Duration::from_millis(20);
        let wait = due.saturating_duration_since(Instant::now());
        if let Ok(invite) = agent.invites.recv_timeout(wait) {
            return Ok(Some(invite));
        }
    }
    Ok(None)
}

fn spoken_call(
    server: &Server,
    agent: &FakeAgent,
    clip: &Arc<Clip>,
) -> anyhow::Result<(f64, Escalation)> {
    while agent.invites.try_recv().is_ok() {}
    let mut call = VoiceCall::dial_patiently(server.sip, clip.lang.user(), DIAL_TRIES)?;
    let limit = LEAD + Duration::from_millis(20 * clip.frames() as u64) + INVITE_WAIT;
    let invite = pace(&mut call, agent, limit, |c, t| {
        if t >= LEAD && c.said.is_empty() {
            c.say(clip);
        }
    });
    let ended = call.said.first().and_then(|s| s.words_end());
    call.hang_up()?;
    let invite = invite?.context("no INVITE at the agent")?;
    let ended = ended.context("the clip was never said")?;
    let id = invite
        .call_id
        .context("INVITE without X-Humanline-Call-Id")?;
    let esc = stored::escalation(&stored::call(server, &id, Duration::from_secs(5))?)?;
    anyhow::ensure!(
        esc.reason == "human_request",
        "escalated for {} instead",
        esc.reason
    );
    Ok((netstamp::ms_between(ended, invite.at), esc))
}

/// How a call is driven to an escalation other than a request.
#[derive(Debug, Clone, Copy)]
pub enum Drive {
    /// Wrong keys in the main menu until the tries run out.
    WrongKeys,
    /// A hesitant clip, again and again.
    Hesitant,
}

/// One escalation call's outcome.
pub type Outcome = Result<Escalation, String>;

/// Places one call per entry of `drives` at the same time (each on its own thread, so the
/// whole step takes as long as its slowest call) and returns what the server stored.
pub fn escalations(
    server: &Server,
    clips: &[Arc<Clip>],
    drives: &[Drive],
) -> Vec<(Drive, Outcome)> {
    let hesitant: Vec<Arc<Clip>> = clips
        .iter()
        .filter(|c| c.intent == Intent::Hesitant)
        .cloned()
        .collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = drives
            .iter()
            .enumerate()
            .map(|(i, &d)| {
                let clip = hesitant.get(i % hesitant.len().max(1)).cloned();
                s.spawn(move || escalation_call(server, d, clip).map_err(|e| format!("{e:#}")))
            })
            .collect();
        drives
            .iter()
            .zip(handles)
            .map(|(&d, h)| (d, h.join().unwrap_or_else(|_| Err("panicked".into()))))
            .collect()
    })
}

fn escalation_call(
    server: &Server,
    drive: Drive,
    clip: Option<Arc<Clip>>,
) -> anyhow::Result<Escalation> {
    let user = clip.as_ref().map_or("support", |c| c.lang.user());
    let user = if matches!(drive, Drive::WrongKeys) {
        "support"
    } else {
        user
    };
    let mut call = VoiceCall::dial_patiently(server.sip, user, DIAL_TRIES)?;
    let sip_id = call.uac.call_id().to_string();
    let start = Instant::now();
    let mut due = start;
    let mut next = MENU_AT;
    let mut id = None;
    let mut handed_over = false;
    while start.elapsed() < ESCALATION_WAIT && !handed_over {
        let t = start.elapsed();
        if t >= next && !call.busy() {
            match (drive, &clip) {
                (Drive::WrongKeys, _) => call.press(WRONG_KEY),
                (Drive::Hesitant, Some(c)) => call.say(c),
                (Drive::Hesitant, None) => anyhow::bail!("no hesitant clip"),
            }
            let len = call.said.last().map_or(0, |s| s.clip.frames() as u64 * 20);
            next = t + RETRY_GAP + Duration::from_millis(len);
        }
        call.tick()?;
        if call.service()? {
            anyhow::bail!("the server hung up before a hand-over");
        }
        // Every second: is the call handed over yet (the live view shows its reason)?
        if t.as_millis() % 1000 < 20 {
            if let Some((i, over)) = stored::live(server)?.remove(&sip_id) {
                handed_over = over;
                id = Some(i);
            }
        }
        due += Duration::from_millis(20);
        std::thread::sleep(due.saturating_duration_since(Instant::now()));
    }
    // Stay on a moment so the agent is dialled, then hang up and read the record.
    std::thread::sleep(Duration::from_secs(2));
    call.hang_up()?;
    let id = id.context("the call never showed in the live view")?;
    anyhow::ensure!(handed_over, "no hand-over within {ESCALATION_WAIT:?}");
    stored::escalation(&stored::call(server, &id, Duration::from_secs(5))?)
}
