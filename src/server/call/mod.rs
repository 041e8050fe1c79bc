//! The task that owns one call: the caller's dialog (we are the UAS), the caller's RTP, the
//! engine running the dialplan, and after a hand-off the agent legs, the bridge or the message.
//!
//! It is thin IO around three sans-IO machines: [`crate::engine::Call`] (the IVR),
//! [`super::handoff::Handoff`] (agents and messages) and [`super::agent_leg::AgentLeg`]
//! (the outbound SIP call). It turns packets and timers into their inputs and carries out
//! their outputs; it decides nothing about the caller itself.

use super::agent_leg::{self, AgentLeg, LegEvent};
use super::handoff::{self, Handoff, Stage, Step};
use super::retransmit::{Due, Retransmit, T2};
use super::transport::Peer;
use super::wait::recv_opt;
use super::Shared;
use crate::agents::{Offer, Reach, RingResult};
use crate::engine::{self, Action, Event, Fault, FaultKind, Outcome, Trace, TransferContext};
use crate::live::LiveCall;
use crate::media::net::{PeerTrust, RtpLeg, FRAME};
use crate::media::{
    hold_music, parse_rtp, ringback, tone, EndpointConfig, InbandDetector, JitterBuffer, Listener,
    MonoRecorder, Player, Recorder, Rfc4733Receiver,
};
use crate::plans::LoadedPlan;
use crate::sip::{
    bye_for_dialog, new_tag, response_to, sdp, Dialog, LocalVia, Method, Request, Response, Sdp,
    SipMessage,
};
use crate::store::{new_call_id, now_ms, CallRecord, LegDetails, SpeechTurn};
use serde_json::json;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;
use tracing::Instrument;

mod agents;
mod audio;
mod browser;
mod captions;
mod dialog;
mod dialplan_io;
mod end;
mod paced;
mod screen_pop;
mod speech;
mod timers;

/// What the dispatcher hands a call task.
#[derive(Debug)]
pub enum Input {
    /// A SIP message on one of the call's Call-IDs.
    Sip(SipMessage, Peer),
    /// The server is stopping and its drain time is over: end the call now, stored as it is.
    Shutdown,
}

/// How long a finished call's task stays to answer retransmissions and collect the last
/// answers (BYE, ACK of a 487) before it forgets the call.
const LINGER: Duration = Duration::from_secs(4);
/// In-band digits are ignored this long after an RFC 4733 event (the same key, twice).
const INBAND_HOLDOFF: Duration = Duration::from_secs(2);
/// The prompt played before the message tone, when the plan's language has it.
const MESSAGE_PROMPT: &str = "leave_message";

/// The caller's INVITE transaction and dialog (we are the UAS).
#[derive(Debug)]
enum Uas {
    /// Ringing; answer at this call time.
    Ringing { answer_at: Duration },
    /// 200 OK sent; retransmitted (UDP) until the ACK comes.
    Answered {
        ok: Vec<u8>,
        retx: Option<Retransmit>,
    },
    /// A final failure (487) sent; retransmitted until its ACK.
    Refused {
        resp: Vec<u8>,
        retx: Option<Retransmit>,
    },
}

/// What the caller hears on each 20 ms tick.
enum Sound {
    /// Comfort silence.
    Silence,
    /// An engine prompt; `PromptFinished { id }` when it ends.
    Prompt { id: u32, player: Player },
    /// Ringback while agents ring (loops).
    Ringback(Player),
    /// The agent's audio is relayed as it arrives; nothing on the tick.
    Bridged,
    /// The apology before the message, then the tone, then recording.
    MessageIntro(VecDeque<Player>),
    /// Recording the caller's message.
    Recording,
    /// Waiting in the queue: an announcement (position, expected wait), then music on hold.
    Hold {
        intro: VecDeque<Player>,
        music: Player,
    },
}

/// One call.
pub struct CallTask {
    sh: Arc<Shared>,
    id: String,
    /// A SIP phone, or the `/phone` gateway's web caller.
    channel: crate::live::Channel,
    rx: mpsc::Receiver<Input>,
    started: Instant,
    started_ms: i64,
    // The caller's dialog.
    invite: Request,
    caller_peer: Peer,
    caller_via: LocalVia,
    local_tag: String,
    uas: Uas,
    dialog: Option<Dialog>,
    answer_sdp: String,
    sdp_version: u64,
    session_id: u64,
    bye_to_caller: Option<(Retransmit, Vec<u8>)>,
    // The caller's media.
    caller: RtpLeg,
    jitter: JitterBuffer,
    rfc4733: Rfc4733Receiver,
    inband: InbandDetector,
    last_rfc_digit: Option<Duration>,
    last_caller_packet: Duration,
    sound: Sound,
    marker: bool,
    recorder: Option<(Recorder, PathBuf)>,
    line_frame: [i16; FRAME],
    message: Option<(MonoRecorder, PathBuf)>,
    message_path: Option<String>,
    // The IVR.
    plan: Arc<LoadedPlan>,
    engine: engine::Call,
    wakes: BinaryHeap<Reverse<Duration>>,
    pending: VecDeque<Event>,
    // Speech.
    listener: Option<Listener>,
    asr_wait: VecDeque<speech::PendingAsr>,
    /// The early look at the utterance under way, and the one waiting to follow it.
    check: Option<speech::Checkpoint>,
    next_check: Option<speech::NextCheckpoint>,
    hints: Vec<String>,
    boost: Vec<String>,
    listening_since: Option<Duration>,
    // After the hand-off.
    handoff: Option<Handoff>,
    /// Prompts played while the agents ring ("connecting you"), before ringback or hold music.
    connecting: VecDeque<Player>,
    context: Option<TransferContext>,
    queue: Option<String>,
    offers: Option<mpsc::UnboundedReceiver<Offer>>,
    /// The dialplan lookup under way (its id and the task making the request).
    lookup: crate::lookup::Pending,
    queued_at: Option<Duration>,
    queue_wait: Option<Duration>,
    last_agent_packet: Duration,
    agent: Option<AgentLeg>,
    leaving: Vec<AgentLeg>,
    agent_rtp: Option<RtpLeg>,
    browser: Option<browser::BrowserLeg>,
    agent_answered: Option<String>,
    // Bookkeeping.
    events: Vec<(i64, String, serde_json::Value)>,
    dtmf: String,
    utterances: Vec<SpeechTurn>,
    finished_at: Option<Duration>,
    /// This call's place among its source's (`[sip] max_calls_per_source`), given back when
    /// the task ends.
    _source_slot: Option<crate::connections::Slot>,
}

impl CallTask {
    /// Takes a new INVITE: checks the offer, binds RTP, answers `100 Trying` and starts the
    /// call's task (registered under the INVITE's Call-ID before this returns, so a
    /// retransmitted INVITE reaches the task and does not make a second call).
    pub async fn accept(
        sh: Arc<Shared>,
        invite: Request,
        peer: Peer,
        plan: Arc<LoadedPlan>,
        source_slot: Option<crate::connections::Slot>,
    ) -> anyhow::Result<()> {
        let reply = |status: u16, reason: &str| {
            response_to(&invite, status, reason, Some(&new_tag())).to_bytes()
        };
        let offer = match Sdp::parse(&invite.body) {
            Ok(o) => o,
            Err(e) => {
                sh.transport
                    .send(
                        &peer,
                        reply(488, "Not Acceptable Here - SDP offer required"),
                    )
                    .await;
                anyhow::bail!("INVITE without a usable SDP offer: {e}");
            }
        };
        let ip = sh.config.sip.bind.ip();
        let socket = match sh.ports.bind(ip).await {
            Ok(s) => s,
            Err(e) => {
                // No RTP port (range exhausted, out of file descriptors): say so at once, the
                // caller's phone can retry, rather than leave it retransmitting into silence.
                let mut r = response_to(&invite, 503, "Service Unavailable", Some(&new_tag()));
                r.headers.push("Retry-After", "5");
                sh.transport.send(&peer, r.to_bytes()).await;
                sh.metrics.calls_rejected_total.fetch_add(1, Relaxed);
                anyhow::bail!("no RTP port for a new call: {e}");
            }
        };
        let port = socket.local_addr()?.port();
        let session_id = u64::from(crate::ids::random_u32());
        let public_ip = sh.media_ip();
        let secure = &sh.config.sip;
        let answer =
            super::secure_media::answer(&offer, public_ip, port, session_id, peer.secure(), secure);
        let (answer_sdp, negotiated, srtp) = match answer {
            Ok(a) => (a.sdp, a.negotiated, a.srtp),
            Err(e) => {
                sh.transport.send(&peer, reply(488, e.reason())).await;
                anyhow::bail!("offer refused: {e}");
            }
        };
        let sip_call_id = invite.headers.call_id().unwrap_or_default().to_string();
        let caller_ip = peer.addr().ip();
        let behind_proxy = sh.config.sip.trusted_peers.contains(&caller_ip);
        let (tx, rx) = mpsc::channel(256);
        sh.add_route(&sip_call_id, tx);
        let id = new_call_id();
        let caller = invite.headers.get("From").unwrap_or_default().to_string();
        let channel = crate::live::Channel::of_invite(
            &invite,
            peer.addr(),
            matches!(peer, Peer::Udp(_)),
            sh.config.sip.bind,
        );
        sh.live.upsert(LiveCall {
            id: id.clone(),
            sip_call_id,
            caller: caller.clone(),
            channel,
            dialplan: plan.program.plan.name.clone(),
            dialplan_version_id: plan.version_id,
            state: crate::live::CallState::Ivr,
            node: String::new(),
            path: Vec::new(),
            dtmf: String::new(),
            reason: None,
            agent: None,
            started_at_ms: now_ms(),
            pop: None,
        });
        sh.metrics.calls_total.fetch_add(1, Relaxed);
        sh.transport.send(&peer, reply_trying(&invite)).await;
        let caller_via = sh.via_for(&peer);
        let jitter = JitterBuffer::new(sh.config.media.jitter_packets);
        let mut engine = engine::Call::new(Arc::clone(&plan.program));
        // Hours nodes judge by the wall clock; branches may test who calls (the From user).
        engine.set_wall_clock(now_ms() / 1000);
        if let Some(user) = crate::sip::NameAddr::parse(&caller)
            .ok()
            .and_then(|a| a.sip_uri().ok())
            .and_then(|u| u.user)
        {
            engine.set_caller(&user);
        }
        // The operator's emergency "closed now" (kept in memory; read from the store once).
        if let Some(why) = sh.plans.switch().closed_now() {
            engine.close_now(&why);
        }
        let asr = &sh.config.asr;
        let listener = Listener::new(
            EndpointConfig {
                max_silence: Duration::from_secs_f64(asr.max_endpoint_silence_seconds.max(0.3)),
                max_utterance: Duration::from_secs_f64(asr.max_utterance_seconds.max(1.0)),
                checkpoint_silence: Duration::from_secs_f64(
                    asr.checkpoint_silence_seconds.max(0.0),
                ),
                ..EndpointConfig::default()
            },
            asr.vad_threshold,
        )
        .map_err(|e| tracing::error!("no voice detection on this call: {e}"))
        .ok();
        let task = CallTask {
            id,
            channel,
            rx,
            started: Instant::now(),
            started_ms: now_ms(),
            invite,
            caller_peer: peer,
            caller_via,
            local_tag: new_tag(),
            uas: Uas::Ringing {
                answer_at: Duration::from_millis(sh.config.sip.answer_delay_ms),
            },
            dialog: None,
            answer_sdp,
            sdp_version: session_id,
            session_id,
            bye_to_caller: None,
            caller: RtpLeg::new(
                socket,
                &negotiated,
                PeerTrust {
                    signalling: Some(caller_ip),
                    behind_proxy,
                    private_targets: sh.config.media.allow_private_targets,
                },
            ),
            jitter,
            rfc4733: Rfc4733Receiver::new(),
            inband: InbandDetector::new(),
            last_rfc_digit: None,
            last_caller_packet: Duration::ZERO,
            sound: Sound::Silence,
            marker: true,
            recorder: None,
            line_frame: [0; FRAME],
            message: None,
            message_path: None,
            plan,
            engine,
            wakes: BinaryHeap::new(),
            pending: VecDeque::new(),
            listener,
            asr_wait: VecDeque::new(),
            check: None,
            next_check: None,
            hints: Vec::new(),
            boost: Vec::new(),
            listening_since: None,
            handoff: None,
            connecting: VecDeque::new(),
            context: None,
            queue: None,
            offers: None,
            lookup: None,
            queued_at: None,
            queue_wait: None,
            last_agent_packet: Duration::ZERO,
            agent: None,
            leaving: Vec::new(),
            agent_rtp: None,
            browser: None,
            agent_answered: None,
            events: Vec::new(),
            dtmf: String::new(),
            utterances: Vec::new(),
            finished_at: None,
            _source_slot: source_slot,
            sh,
        };
        let mut task = task;
        if let Some(s) = srtp {
            task.caller.set_srtp(s);
        }
        let span = tracing::info_span!("call", id = %task.id);
        tokio::spawn(task.run().instrument(span));
        Ok(())
    }

    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    /// The caller's From header, as the agent is shown it.
    fn caller_from(&self) -> String {
        self.invite
            .headers
            .get("From")
            .unwrap_or_default()
            .to_string()
    }

    fn event(&mut self, kind: &str, detail: serde_json::Value) {
        let at = self.now().as_millis() as i64;
        self.events.push((at, kind.to_string(), detail));
    }

    async fn run(mut self) {
        tracing::info!(caller = %self.invite.headers.get("From").unwrap_or_default(), plan = %self.plan.program.plan.name, "call arrived");
        self.ring().await;
        self.drain_engine().await;
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let mut cbuf = [0u8; 2048];
        let mut abuf = [0u8; 2048];
        // One timer for the call's deadlines, moved only when the deadline moves: a new timer
        // on every turn of the loop (every packet, every tick) costs the timer wheel an insert
        // and a removal each time, for hundreds of calls.
        let timer = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(timer);
        let mut armed: Option<Instant> = None;
        loop {
            let deadline = self.next_deadline().map(|d| self.started + d);
            if deadline != armed {
                if let Some(t) = deadline {
                    timer.as_mut().reset(t.into());
                }
                armed = deadline;
            }
            let media = matches!(self.uas, Uas::Answered { .. }) && self.finished_at.is_none();
            tokio::select! {
                m = self.rx.recv() => match m {
                    Some(Input::Sip(msg, peer)) => self.on_sip(msg, peer).await,
                    Some(Input::Shutdown) => self.shut_down().await,
                    None => break,
                },
                r = self.caller.socket.recv_from(&mut cbuf) => {
                    if let Ok((n, from)) = r {
                        if let Some(p) = self.caller.open(&cbuf[..n], from, &self.sh.metrics) {
                            self.on_caller_rtp(&p, from).await;
                        }
                    }
                }
                r = recv_opt(self.agent_rtp.as_ref().map(|l| &l.socket), &mut abuf) => {
                    if let Ok((n, from)) = r {
                        self.on_agent_rtp(&abuf[..n], from).await;
                    }
                }
                t = tick.tick(), if media => {
                    let late = t.elapsed();
                    self.sh.metrics.rtp_send_ticks_total.fetch_add(1, Relaxed);
                    if late > Duration::from_millis(10) {
                        self.sh.metrics.rtp_send_late_total.fetch_add(1, Relaxed);
                    }
                    self.on_tick().await;
                }
                () = &mut timer, if armed.is_some() => {
                    armed = None;
                    self.on_deadline().await;
                }
                (p, r) = speech::next_recognized(&mut self.asr_wait) => self.recognized(p, r),
                r = speech::next_checked(&mut self.check) => self.checked(r).await,
                b = browser::next_from_browser(&mut self.browser) => self.on_browser(b).await,
                (id, result) = crate::lookup::next_done(&mut self.lookup) => {
                    self.pending.push_back(Event::LookupDone { id, result });
                }
                o = next_offer(&mut self.offers) => match o {
                    Some(o) => self.handoff_input(handoff::Input::Offered { agent: o.agent, reach: o.reach }).await,
                    None => self.offers = None,
                },
            }
            self.drain_engine().await;
            if self.can_forget() {
                break;
            }
        }
        if self.finished_at.is_none() {
            self.finish("task stopped").await;
        }
        self.sh
            .remove_route(self.invite.headers.call_id().unwrap_or_default());
        for leg in self.agent.iter().chain(&self.leaving) {
            self.sh.remove_route(leg.call_id());
        }
        tracing::debug!("call task done");
    }

    /// `<recordings>/<call id><suffix>.wav`.
    fn recording_file(&self, suffix: &str) -> PathBuf {
        self.sh
            .config
            .paths
            .recordings
            .join(format!("{}{suffix}.wav", self.id))
    }

    // ---- the engine ---------------------------------------------------------------------------

    /// Feeds queued events to the engine and carries out its actions until nothing is left.
    async fn drain_engine(&mut self) {
        while let Some(ev) = self.pending.pop_front() {
            let now = self.now();
            let actions = self.engine.handle(now, ev);
            for a in actions {
                self.apply(a).await;
            }
        }
    }

    async fn apply(&mut self, action: Action) {
        match action {
            Action::Play { id, prompt, pace } => match self.prompt_at(&prompt, pace).await {
                Ok(p) => {
                    self.sound = Sound::Prompt {
                        id,
                        player: Player::new(p),
                    };
                    self.marker = true;
                    self.caption_prompts(&[&prompt]);
                }
                Err(e) => {
                    tracing::error!("prompt {prompt}: {e}");
                    self.pending.push_back(Event::Fault(Fault {
                        kind: FaultKind::Media,
                        detail: format!("prompt {prompt} cannot be played: {e}"),
                    }));
                }
            },
            Action::Lookup { id, request } => self.start_lookup(id, request),
            Action::PlayText {
                id, prompt, text, ..
            } => self.play_text(id, &prompt, text).await,
            Action::StopPlayback => {
                if matches!(self.sound, Sound::Prompt { .. }) {
                    self.sound = Sound::Silence;
                }
            }
            Action::Listen {
                hints,
                boost,
                endpoint_silence,
                ..
            } => {
                self.hints = hints;
                self.boost = boost;
                self.listening_since = Some(self.now());
                if let Some(l) = &mut self.listener {
                    l.set_silence(endpoint_silence);
                }
            }
            Action::EndTurnAfter(silence) => {
                if let Some(l) = &mut self.listener {
                    l.end_turn_after(silence);
                }
            }
            Action::WakeAt(t) => self.wakes.push(Reverse(t)),
            Action::Transfer {
                queue,
                context,
                announce,
            } => self.transfer(queue, *context, announce).await,
            Action::Hangup => {
                self.hang_up_caller().await;
                self.finish("the plan ended the call").await;
            }
            Action::Trace(t) => self.trace(t),
        }
    }

    fn trace(&mut self, t: Trace) {
        if let Trace::ElderlyMode { .. } = &t {
            self.warm_slow_prompts();
        }
        if let Trace::Node { node } = &t {
            let node = node.clone();
            self.sh.live.update(&self.id, |c| {
                c.path.push(node.clone());
                c.node = node;
            });
        }
        let detail = serde_json::to_value(&t).unwrap_or_default();
        let kind = detail
            .get("trace")
            .and_then(|k| k.as_str())
            .unwrap_or("trace")
            .to_string();
        self.event(&kind, detail);
    }
}

fn reply_trying(invite: &Request) -> Vec<u8> {
    response_to(invite, 100, "Trying", None).to_bytes()
}

async fn next_offer(offers: &mut Option<mpsc::UnboundedReceiver<Offer>>) -> Option<Offer> {
    match offers {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
