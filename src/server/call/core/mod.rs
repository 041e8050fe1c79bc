//! `CallCore`: one call's decisions as a sans-IO state machine, like [`crate::engine::Call`].
//!
//! ```text
//!   call task (IO shell: sockets, 20 ms media, ASR pool, store, live view, browser leg)
//!      │ handle(now, Input)                                   ▲ poll_output() → Output
//!      ▼                                                      │ poll_timeout() → wake-up
//!   CallCore ── caller: CallerDialog (ServerInvite, InviteDialog, BYE/CANCEL/INFO servers)
//!            ── engine::Call (the IVR)   ── Handoff (queue, ring, bridge, message)
//!            ── AgentLeg (outbound SIP)  ── timers: answer, engine wakes, RTP silence, ASR
//! ```
//! It owns the caller's dialog, the engine, the hand-off, the agent legs and every deadline of
//! the call. It never touches a socket, a clock, a task or the store: time comes in as `now`
//! (since the call started), SIP comes in as parsed messages with their source, and everything
//! to do goes out as [`Output`]s for the shell to carry out. Slow work (binding an agent's RTP
//! port, a WebRTC offer, recognition) is asked for with an output and comes back as an
//! [`Input`]. What the caller hears frame by frame (players, jitter buffer, recorder) stays in
//! the shell: the core says which sound, the shell mixes the frames.
//!
//! The scenarios it pins live in `tests/`, one file each, on fake time.

mod agents;
mod attended;
mod callback;
mod caller;
mod end;
mod inputs;
mod outputs;
mod pass_on;
#[cfg(test)]
mod tests;
mod timers;

pub use caller::{info_digit, CallerConfig, CallerDialog, Dest, FromCaller, MediaAddr, Phase};
pub use inputs::{Config, Input};
pub use outputs::{Ending, Output};

use super::super::agent_leg::AgentLeg;
use super::super::handoff::{self, Handoff, Stage};
use crate::engine::{self, Action, Event, Reason, TransferContext};
use crate::sip::{Request, SipMessage};
use serde_json::json;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

/// How long a finished call stays to answer retransmissions and collect the last answers (BYE,
/// ACK of a 487) before it forgets the call.
pub const LINGER: Duration = Duration::from_secs(4);

/// One call.
pub struct CallCore {
    cfg: Config,
    caller: CallerDialog,
    engine: engine::Call,
    pending: VecDeque<Event>,
    wakes: BinaryHeap<Reverse<Duration>>,
    last_caller_packet: Duration,
    last_agent_packet: Duration,
    recognitions: Vec<(u64, Duration)>,
    // After the hand-off.
    handoff: Option<Handoff>,
    transfer: Option<(String, TransferContext)>,
    queued_at: Option<Duration>,
    /// The next hand-off joins its queue at the head (the caller was passed on by an agent).
    requeue_head: bool,
    /// The next hand-off offers the caller to this agent first (passed on by name).
    requeue_for: Option<String>,
    queue_wait: Option<Duration>,
    agent: Option<AgentLeg>,
    leaving: Vec<AgentLeg>,
    agent_answered: Option<String>,
    /// The number being keyed for a callback (after 3, or 1 without a caller ID).
    callback_keys: Option<String>,
    /// The number the booked callback goes to.
    callback_to: Option<String>,
    recording: bool,
    dtmf: String,
    finished_at: Option<Duration>,
    out: VecDeque<Output>,
}

impl CallCore {
    /// A call for `invite` arriving at `now`, answered after `cfg.answer_delay`; `local_tag`
    /// is our To tag. Its first outputs (100, 180, maybe the 200) are ready at once.
    pub fn new(
        now: Duration,
        cfg: Config,
        invite: Request,
        local_tag: String,
        engine: engine::Call,
    ) -> Result<CallCore, crate::sip::transaction::TransactionError> {
        let caller = CallerDialog::new(
            now,
            invite,
            local_tag,
            cfg.caller.clone(),
            now + cfg.answer_delay,
        )?;
        let mut core = CallCore {
            cfg,
            caller,
            engine,
            pending: VecDeque::new(),
            wakes: BinaryHeap::new(),
            last_caller_packet: now,
            last_agent_packet: now,
            recognitions: Vec::new(),
            handoff: None,
            transfer: None,
            queued_at: None,
            requeue_head: false,
            requeue_for: None,
            queue_wait: None,
            agent: None,
            leaving: Vec::new(),
            agent_answered: None,
            callback_keys: None,
            callback_to: None,
            recording: false,
            dtmf: String::new(),
            finished_at: None,
            out: VecDeque::new(),
        };
        core.flush_caller();
        if core.cfg.answer_delay.is_zero() {
            core.answer(now);
        }
        core.drain_engine(now);
        Ok(core)
    }

    /// The engine (read only: language, masking, outcome, elderly mode…).
    pub fn engine(&self) -> &engine::Call {
        &self.engine
    }

    /// The caller's INVITE.
    pub fn invite(&self) -> &Request {
        self.caller.invite()
    }

    /// The hand-off, once the engine decided on a person.
    pub fn handoff(&self) -> Option<&Handoff> {
        self.handoff.as_ref()
    }

    /// The queue and the context handed over.
    pub fn transfer(&self) -> Option<&(String, TransferContext)> {
        self.transfer.as_ref()
    }

    /// When the caller joined the queue last.
    pub fn queued_at(&self) -> Option<Duration> {
        self.queued_at
    }

    /// True while the IVR runs: answered or ringing, no hand-off, not over. Keys and speech
    /// count only then.
    pub fn in_ivr(&self) -> bool {
        self.handoff.is_none() && self.finished_at.is_none()
    }

    /// True while the caller's media runs (answered, not over).
    pub fn media_running(&self) -> bool {
        self.caller.phase() == Phase::Answered && self.finished_at.is_none()
    }

    /// True once the call is over for the caller.
    pub fn is_finished(&self) -> bool {
        self.finished_at.is_some()
    }

    /// True when an agent is bridged to the caller.
    pub fn bridged(&self) -> bool {
        matches!(
            self.handoff.as_ref().map(Handoff::stage),
            Some(Stage::Bridged { .. })
        )
    }

    /// True while the agent who answered hears a warm transfer's brief.
    pub fn briefing(&self) -> bool {
        matches!(
            self.handoff.as_ref().map(Handoff::stage),
            Some(Stage::Briefing { .. })
        )
    }

    /// True while the hand-off rings (or talks to) `agent` and the call is not over: an
    /// answer made for that agent beside the call is still wanted.
    pub fn rings(&self, agent: &str) -> bool {
        self.finished_at.is_none()
            && self
                .handoff
                .as_ref()
                .and_then(Handoff::current_agent)
                .is_some_and(|a| a == agent)
    }

    /// The SIP Call-IDs of the agent legs, for the dispatcher's routes.
    pub fn agent_call_ids(&self) -> Vec<String> {
        self.agent
            .iter()
            .chain(&self.leaving)
            .map(|l| l.call_id().to_string())
            .collect()
    }

    /// True when the call is over and nothing waits any more (or the linger time passed):
    /// the shell may forget it.
    pub fn can_forget(&self, now: Duration) -> bool {
        let Some(f) = self.finished_at else {
            return false;
        };
        let quiet =
            !self.caller.waiting() && self.agent.iter().chain(&self.leaving).all(AgentLeg::done);
        quiet || now >= f + LINGER
    }

    /// Ends the call now for a reason of the shell's (its task stops): stored as it is.
    pub fn end(&mut self, now: Duration, why: &str) {
        self.finish(now, why);
    }

    /// The next thing to do.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When to feed [`Input::Timer`] next.
    pub fn poll_timeout(&self) -> Option<Duration> {
        let mut earliest: Option<Duration> = self.caller.poll_timeout();
        let mut at = |t: Duration| earliest = Some(earliest.map_or(t, |e| e.min(t)));
        if self.finished_at.is_none() {
            if let Some(Reverse(w)) = self.wakes.peek() {
                at(*w);
            }
            if let Some(t) = self.handoff.as_ref().and_then(Handoff::deadline) {
                at(t);
            }
            if self.caller.phase() == Phase::Answered {
                at(self.last_caller_packet + self.cfg.rtp_timeout);
            }
            if self.bridged() {
                at(self.last_agent_packet + self.cfg.agent_rtp_timeout);
            }
            for (_, d) in &self.recognitions {
                at(*d);
            }
        }
        for t in self
            .agent
            .iter()
            .chain(&self.leaving)
            .filter_map(AgentLeg::deadline)
        {
            at(t);
        }
        if let Some(f) = self.finished_at {
            at(f + LINGER);
        }
        earliest
    }

    /// Feeds one input at `now`.
    pub fn handle(&mut self, now: Duration, input: Input) {
        match input {
            Input::Sip { msg, source } => self.on_sip(now, msg, source),
            Input::Timer => self.on_timer(now),
            Input::CallerPacket => self.last_caller_packet = now,
            Input::AgentPacket => self.last_agent_packet = now,
            Input::Digit(d) => self.digit(now, d),
            Input::AgentDigit(d) => self.agent_digit(now, d),
            Input::Engine(ev) => {
                if self.in_ivr() {
                    self.pending.push_back(ev);
                } else if let Event::Utterance(u) = ev {
                    self.callback_words(now, &u.text);
                }
            }
            Input::WaitEstimate(w) => self.handoff_input(now, handoff::Input::WaitEstimate(w)),
            Input::CallbackConfirming(d) => {
                self.handoff_input(now, handoff::Input::CallbackConfirming(d));
            }
            Input::ConsultMissing => self.consult_missing(now),
            Input::CallbackNotStored => {
                self.handoff_input(now, handoff::Input::CallbackLost);
            }
            Input::QueueStaffed(staffed) => self.start_handoff(now, staffed),
            Input::Offered {
                agent,
                reach,
                skipped,
            } => {
                self.skipped(&skipped);
                self.handoff_input(now, handoff::Input::Offered { agent, reach })
            }
            Input::AgentOffer {
                agent,
                uri,
                target,
                tls,
                sdp,
                keys,
            } => self.dial(now, &agent, (&uri, target, tls), sdp, keys),
            // A failure to reach an agent the hand-off already left (its ring timed out while
            // the offer was being made) fails nobody else.
            Input::DialFailed { agent, why } if self.rings(&agent) => {
                self.event("agent_failed", json!({ "agent": agent, "why": why }));
                self.handoff_input(now, handoff::Input::AgentFailed(0));
            }
            Input::DialFailed { .. } => {}
            Input::Browser(i) => self.handoff_input(now, i),
            Input::AgentTransfer { to, notes } => {
                if let Err(why) = self.pass_on(now, &to, &notes, "console") {
                    let agent = self.current_agent();
                    self.event(
                        "transfer_refused",
                        serde_json::json!({ "agent": agent, "target": to.name(), "why": why }),
                    );
                }
            }
            Input::RecordingStarted => {
                self.recording = true;
                self.handoff_input(now, handoff::Input::RecordingStarted);
            }
            Input::RecognitionStarted { job, deadline } => self.recognitions.push((job, deadline)),
            Input::RecognitionEnded { job } => self.recognitions.retain(|(j, _)| *j != job),
            Input::Shutdown => {
                if self.finished_at.is_none() {
                    self.caller.hang_up(now);
                    self.flush_caller();
                    self.caller_left(now, "server shutting down");
                }
            }
        }
        self.drain_engine(now);
    }

    fn event(&mut self, kind: &'static str, detail: serde_json::Value) {
        self.out.push_back(Output::Event(kind, detail));
    }

    fn flush_caller(&mut self) {
        while let Some((dest, bytes)) = self.caller.poll_transmit() {
            self.out.push_back(match dest {
                Dest::Caller => Output::ToCaller(bytes),
                Dest::Source => Output::ToSource(bytes),
            });
        }
    }

    // ---- the caller -----------------------------------------------------------------------

    fn answer(&mut self, now: Duration) {
        self.caller.answer(now);
        self.flush_caller();
        if self.caller.phase() != Phase::Answered {
            return;
        }
        self.last_caller_packet = now;
        self.out.push_back(Output::Answered);
        self.event("answered", json!({}));
        self.pending.push_back(Event::Start);
    }

    fn on_sip(&mut self, now: Duration, msg: SipMessage, source: SocketAddr) {
        let ours = |cid: Option<&str>| cid == self.caller.invite().headers.call_id();
        match msg {
            SipMessage::Request(req) if ours(req.headers.call_id()) => {
                let heard = self.caller.on_request(now, req, source);
                if let Some(FromCaller::Stranger(method)) = &heard {
                    // Counted before the 481 goes, so whoever reads the count after the
                    // answer sees it.
                    self.out.push_back(Output::Stranger {
                        method: method.as_str().to_string(),
                        source,
                    });
                }
                self.flush_caller();
                if let Some(h) = heard {
                    self.heard_from_caller(now, h);
                }
            }
            SipMessage::Response(resp) if ours(resp.headers.call_id()) => {
                self.caller.on_response(now, resp);
                self.flush_caller();
            }
            SipMessage::Request(req) => self.on_agent_request(now, req),
            SipMessage::Response(resp) => self.on_agent_response(now, resp),
        }
    }

    fn heard_from_caller(&mut self, now: Duration, heard: FromCaller) {
        match heard {
            FromCaller::Confirmed => self.out.push_back(Output::CallerConfirmed),
            FromCaller::HungUp => {
                if self.finished_at.is_none() {
                    self.caller_left(now, "caller hung up");
                }
            }
            FromCaller::Cancelled => {
                self.event("cancelled", json!({}));
                self.finish(now, "caller cancelled");
            }
            FromCaller::Key(d) => self.digit(now, d),
            FromCaller::Reoffer(n) => {
                self.event("reinvite", json!({"direction": n.direction.as_str()}));
                self.out.push_back(Output::CallerMedia(n));
            }
            FromCaller::AckTimeout | FromCaller::Stranger(_) => {}
        }
    }

    fn digit(&mut self, now: Duration, d: char) {
        if !self.in_ivr() {
            return self.callback_digit(now, d);
        }
        // Keys into a sensitive number (dialplan `sensitive = true`) are not kept in the clear.
        let shown = if self.engine.masks_keys() { '•' } else { d };
        self.dtmf.push(shown);
        self.out.push_back(Output::Key(shown));
        self.pending.push_back(Event::Digit(d));
    }

    /// The caller hung up, vanished or the server stops: the hand-off or the engine hears it,
    /// then the call ends.
    fn caller_left(&mut self, now: Duration, why: &str) {
        if self.handoff.is_some() {
            self.handoff_input(now, handoff::Input::CallerHungUp);
        } else {
            self.pending.push_back(Event::CallerHangup);
            self.drain_engine(now);
        }
        self.finish(now, why);
    }

    /// Sends BYE to the caller (the line ends the call).
    fn hang_up_caller(&mut self, now: Duration) {
        self.caller.hang_up(now);
        self.flush_caller();
    }

    // ---- the engine -----------------------------------------------------------------------

    /// Feeds queued events to the engine and carries out its actions until nothing is left.
    fn drain_engine(&mut self, now: Duration) {
        while let Some(ev) = self.pending.pop_front() {
            for a in self.engine.handle(now, ev) {
                self.apply(now, a);
            }
        }
    }

    fn apply(&mut self, now: Duration, action: Action) {
        match action {
            Action::WakeAt(t) => self.wakes.push(Reverse(t)),
            Action::Transfer {
                queue,
                context,
                announce,
            } => {
                let reason = context.reason;
                let elderly = context.elderly;
                tracing::info!(
                    queue,
                    reason = reason.map_or("routed", Reason::as_str),
                    "hand-off to a person"
                );
                self.transfer = Some((queue.clone(), *context));
                self.out.push_back(Output::Transfer {
                    queue,
                    reason,
                    announce,
                    elderly,
                });
            }
            Action::Hangup => {
                self.hang_up_caller(now);
                self.finish(now, "the plan ended the call");
            }
            other => self.out.push_back(Output::Engine(other)),
        }
    }
}
