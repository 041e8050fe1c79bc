//! The task that owns one call: the IO shell around [`core::CallCore`], which decides
//! everything about the call (the caller's dialog, the engine, the hand-off, the agent legs,
//! every deadline). The shell moves bytes and time: SIP messages and timers go into the core,
//! its outputs come out as packets, ACD calls, store writes and live-view updates.
//!
//! Media stays here, driven by the core's outputs: the caller's and the agent's RTP, the keys,
//! the recognition pool. What the caller hears and what hears them every 20 ms (prompts,
//! ringback, hold music, the message tone; the jitter buffer, in-band keys, the listener, the
//! recordings) is [`media::CallMedia`], which the shared media clock ticks: this task never
//! wakes for a tick, only for packets, messages and what the clock found (keys, speech, the
//! end of a prompt). Slow work (a slower prompt rendering, spoken words, the console's WebRTC
//! offer and screen pop, the call record) runs beside the call and comes back as [`jobs`]'
//! answers, so a key or a BYE never waits for it. The core only says which sound plays and
//! hears what the media found (keys, utterances, packets seen).

use super::transport::Peer;
use super::Shared;
use crate::agents::Offer;
use crate::engine::{self, Action, Event, Fault, FaultKind, Trace};
use crate::live::LiveCall;
use crate::media::net::{PeerTrust, RtpLeg, RtpSocket, Ticked, FRAME};
use crate::media::{
    parse_rtp, tone, EndpointConfig, JitterBuffer, Listener, MonoRecorder, Recorder,
    Rfc4733Receiver,
};
use crate::plans::LoadedPlan;
use crate::sip::{new_tag, response_to, sdp, Request, Sdp};
use crate::store::{new_call_id, now_ms, SpeechTurn};
use serde_json::json;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tracing::Instrument;

mod actions;
mod agents;
mod audio;
mod brief;
mod browser;
mod callback;
mod captions;
mod checkpoint;
mod consult;
pub mod core;
mod dialplan_io;
mod end;
mod jobs;
mod media;
mod outputs;
mod paced;
mod screen_pop;
mod setup;
mod speech;

use self::core::CallCore;
use media::CallMedia;
pub(super) use media::{MediaEvent, MediaSlot};
use setup::{core_config, new_engine};

/// What the dispatcher hands a call task.
#[derive(Debug)]
pub enum Input {
    /// A SIP message on one of the call's Call-IDs (boxed: the channel allocates its slots
    /// up front, 32 at a time, for every call).
    Sip(Box<crate::sip::SipMessage>, Peer),
    /// The server is stopping and its drain time is over: end the call now, stored as it is.
    Shutdown,
}

/// In-band digits are ignored this long after an RFC 4733 event (the same key, twice).
const INBAND_HOLDOFF: Duration = Duration::from_secs(2);
/// The prompt played before the message tone, when the plan's language has it.
const MESSAGE_PROMPT: &str = "leave_message";

/// One call.
pub struct CallTask {
    sh: Arc<Shared>,
    id: String,
    /// A SIP phone, or the `/phone` gateway's web caller.
    channel: crate::live::Channel,
    rx: mpsc::Receiver<Input>,
    started: Instant,
    started_ms: i64,
    /// The call's decisions.
    core: CallCore,
    /// Where the caller's SIP goes, and where the message being handled came from.
    caller_peer: Peer,
    source: Option<Peer>,
    session_id: u64,
    // The caller's media: ticked by the shared clock; this task reads the socket.
    media: Arc<MediaSlot>,
    caller_socket: Arc<RtpSocket>,
    /// What the clock was last told: (media running, the IVR listening).
    told: (bool, bool),
    rfc4733: Rfc4733Receiver,
    message_path: Option<String>,
    // The IVR's IO.
    plan: Arc<LoadedPlan>,
    /// Engine events the media side found, fed to the core after each turn of the loop.
    pending: VecDeque<Event>,
    // Speech.
    asr_wait: VecDeque<speech::PendingAsr>,
    next_job: u64,
    /// The early look at the utterance under way, and the one waiting to follow it.
    check: Option<checkpoint::Checkpoint>,
    next_check: Option<checkpoint::NextCheckpoint>,
    hints: Vec<String>,
    /// Counted among the callers mid-utterance while the caller speaks in the IVR (see
    /// [`crate::asr::AsrPool::speaking`]); dropped at the end of the utterance or of the IVR.
    speaking: Option<crate::asr::Speaking>,
    boost: Vec<String>,
    listening_since: Option<Duration>,
    // Slow work beside the call.
    jobs: JoinSet<jobs::Done>,
    /// The engine prompt whose audio is being made (a slower rendering, spoken words).
    awaited_prompt: Option<u32>,
    /// The queue announcement wanted now (one made for an earlier moment is dropped).
    announcement: u64,
    // After the hand-off.
    offers: Option<mpsc::UnboundedReceiver<Offer>>,
    /// The dialplan lookup under way (its id and the task making the request).
    lookup: crate::lookup::Pending,
    agent_rtp: Option<RtpLeg>,
    /// A warm transfer's brief to the agent who answered.
    brief: brief::WarmBrief,
    browser: Option<browser::BrowserLeg>,
    /// A console agent's consult call to a colleague (attended transfer).
    consult: Option<consult::ConsultLeg>,
    // Bookkeeping.
    events: Vec<(i64, String, serde_json::Value)>,
    utterances: Vec<SpeechTurn>,
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
        let trust = PeerTrust {
            signalling: Some(caller_ip),
            behind_proxy,
            private_targets: sh.config.media.allow_private_targets,
        };
        let mut caller_leg = match RtpLeg::new(socket, &negotiated, trust) {
            Ok(leg) => leg,
            Err(e) => {
                let mut r = response_to(&invite, 503, "Service Unavailable", Some(&new_tag()));
                r.headers.push("Retry-After", "5");
                sh.transport.send(&peer, r.to_bytes()).await;
                sh.metrics.calls_rejected_total.fetch_add(1, Relaxed);
                anyhow::bail!("no RTP socket for a new call: {e}");
            }
        };
        let keys = srtp
            .as_ref()
            .map(|s| (s.keys().0.clone(), s.keys().1.clone()));
        if let Some(s) = srtp {
            caller_leg.set_srtp(s);
        }
        let id = new_call_id();
        let caller = invite.headers.get("From").unwrap_or_default().to_string();
        let channel = crate::live::Channel::of_invite(
            &invite,
            peer.addr(),
            matches!(peer, Peer::Udp(_)),
            sh.config.sip.bind,
        );
        let engine = new_engine(&sh, &plan, &caller);
        let cfg = core_config(
            &sh,
            &id,
            &peer,
            answer_sdp,
            core::MediaAddr {
                ip: public_ip,
                port,
                session_id,
            },
            &invite.uri.to_string(),
            keys,
        );
        let core = CallCore::new(Duration::ZERO, cfg, invite, new_tag(), engine)
            .map_err(|e| anyhow::anyhow!("INVITE without a transaction: {e}"))?;
        let (tx, rx) = mpsc::channel(256);
        sh.add_route(&sip_call_id, tx);
        sh.live.upsert(LiveCall {
            id: id.clone(),
            sip_call_id,
            caller,
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
            monitor: None,
        });
        sh.metrics.calls_total.fetch_add(1, Relaxed);
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
        let started = Instant::now();
        let caller_socket = Arc::clone(&caller_leg.socket);
        let jitter = JitterBuffer::new(sh.config.media.jitter_packets);
        let media = MediaSlot::new(CallMedia::new(caller_leg, jitter, listener, started));
        sh.clock
            .add(Arc::downgrade(&media) as std::sync::Weak<dyn Ticked>);
        let task = CallTask {
            id,
            channel,
            rx,
            started,
            started_ms: now_ms(),
            core,
            caller_peer: peer,
            source: None,
            session_id,
            media,
            caller_socket,
            told: (false, true),
            rfc4733: Rfc4733Receiver::new(),
            message_path: None,
            plan,
            pending: VecDeque::new(),
            asr_wait: VecDeque::new(),
            next_job: 0,
            check: None,
            next_check: None,
            hints: Vec::new(),
            speaking: None,
            boost: Vec::new(),
            listening_since: None,
            jobs: JoinSet::new(),
            awaited_prompt: None,
            announcement: 0,
            offers: None,
            lookup: None,
            agent_rtp: None,
            brief: brief::WarmBrief::default(),
            browser: None,
            consult: None,
            events: Vec::new(),
            utterances: Vec::new(),
            _source_slot: source_slot,
            sh,
        };
        let span = tracing::info_span!("call", id = %task.id);
        // Boxed: an async fn keeps its arguments twice (rust-lang/rust#62958), and the task is
        // most of its future.
        tokio::spawn(Box::new(task).run().instrument(span));
        Ok(())
    }

    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    /// The caller's From header, as the agent is shown it.
    fn caller_from(&self) -> String {
        self.core
            .invite()
            .headers
            .get("From")
            .unwrap_or_default()
            .to_string()
    }

    fn event(&mut self, kind: &str, detail: serde_json::Value) {
        let at = self.now().as_millis() as i64;
        self.events.push((at, kind.to_string(), detail));
    }

    /// Feeds `input` to the core now and carries out what it asks for.
    async fn input(&mut self, input: core::Input) {
        let now = self.now();
        self.core.handle(now, input);
        self.carry_out().await;
    }

    /// Feeds the engine events the media side found to the core, and carries out its outputs
    /// (which may find more: a prompt that cannot play is a fault for the engine).
    async fn flush(&mut self) {
        loop {
            while let Some(ev) = self.pending.pop_front() {
                let now = self.now();
                self.core.handle(now, core::Input::Engine(ev));
            }
            self.carry_out().await;
            if self.pending.is_empty() {
                break;
            }
        }
        // Handed over (or hung up) mid-utterance: no longer a caller whose turn needs a worker.
        if self.speaking.is_some() && !self.core.in_ivr() && !self.core.listens_for_callback() {
            self.speaking = None;
        }
    }

    async fn run(mut self: Box<Self>) {
        tracing::info!(caller = %self.caller_from(), plan = %self.plan.program.plan.name, "call arrived");
        self.carry_out().await;
        self.tell_media();
        let mut abuf = [0u8; 2048];
        // The consulted agent's RTP (a console agent's attended transfer).
        let mut cbuf = [0u8; 2048];
        // One timer for the call's deadlines, moved only when the deadline moves: a new timer
        // on every turn of the loop (every packet) costs the timer wheel an insert and a
        // removal each time, for hundreds of calls.
        let timer = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(timer);
        let mut armed: Option<Instant> = None;
        loop {
            let deadline = self.core.poll_timeout().map(|d| self.started + d);
            if deadline != armed {
                if let Some(t) = deadline {
                    timer.as_mut().reset(t.into());
                }
                armed = deadline;
            }
            tokio::select! {
                m = self.rx.recv() => match m {
                    Some(Input::Sip(msg, _)) if self.consult_owns(&msg) => self.consult_sip(*msg).await,
                    Some(Input::Sip(msg, peer)) => {
                        let source = peer.addr();
                        self.source = Some(peer);
                        self.input(core::Input::Sip { msg: *msg, source }).await;
                        self.source = None;
                    }
                    Some(Input::Shutdown) => {
                        tracing::warn!("server shutting down: ending the call");
                        self.input(core::Input::Shutdown).await;
                    }
                    None => break,
                },
                r = self.caller_socket.readable() => {
                    if r.is_ok() {
                        self.read_caller().await;
                    }
                }
                r = agent_packet(self.agent_rtp.as_ref(), &mut abuf) => {
                    if let Ok((n, from)) = r {
                        self.on_agent_rtp(&abuf[..n], from).await;
                    }
                }
                () = self.media.woken() => self.on_media_events().await,
                () = &mut timer, if armed.is_some() => {
                    armed = None;
                    self.input(core::Input::Timer).await;
                }
                Some(done) = self.jobs.join_next(), if !self.jobs.is_empty() => match done {
                    Ok(done) => self.job_done(done).await,
                    Err(e) => tracing::warn!("work beside the call failed: {e}"),
                },
                (job, p, r) = speech::next_recognized(&mut self.asr_wait) => {
                    self.input(core::Input::RecognitionEnded { job }).await;
                    self.recognized(p, r);
                }
                r = checkpoint::next_checked(&mut self.check) => self.checked(r).await,
                b = brief::next(&mut self.brief) => match b {
                    brief::BriefDue::Spoken(s) => self.brief_ready(s),
                    brief::BriefDue::Frame => self.brief_tick().await,
                },
                b = browser::next_from_browser(&mut self.browser) => self.on_browser(b).await,
                () = consult::next_deadline(self.consult.as_ref(), self.started) => self.consult_timer().await,
                r = consult::next_packet(self.consult.as_ref(), &mut cbuf) => {
                    if let Ok((n, from)) = r {
                        self.consult_packet(&cbuf[..n], from).await;
                    }
                }
                (id, result) = crate::lookup::next_done(&mut self.lookup) => {
                    self.pending.push_back(Event::LookupDone { id, result });
                }
                o = next_offer(&mut self.offers) => match o {
                    Some(o) => self.input(core::Input::Offered { agent: o.agent, reach: o.reach, skipped: o.skipped }).await,
                    None => self.offers = None,
                },
            }
            self.flush().await;
            self.tell_media();
            if self.core.can_forget(self.now()) {
                break;
            }
        }
        if !self.core.is_finished() {
            let now = self.now();
            self.core.end(now, "task stopped");
            self.carry_out().await;
        }
        self.tell_media();
        self.sh
            .remove_route(self.core.invite().headers.call_id().unwrap_or_default());
        for cid in self.core.agent_call_ids() {
            self.sh.remove_route(&cid);
        }
        tracing::debug!("call task done");
    }

    /// Tells the clock whether the caller's media runs and whether the IVR listens, when that
    /// changed. The listener goes at the hand-off: nobody listens to a queued caller.
    fn tell_media(&mut self) {
        let listening = self.core.in_ivr() || self.core.listens_for_callback();
        let now = (self.core.media_running(), listening);
        if now == self.told {
            return;
        }
        self.told = now;
        let mut m = self.media.lock();
        m.running = now.0;
        m.listening = now.1;
        // A queue that may offer a callback keeps the listener for the caller's "yes".
        if !now.1 && !self.core.may_offer_callback() {
            m.listener = None;
        }
    }

    /// What the clock found since it last woke the task.
    async fn on_media_events(&mut self) {
        for ev in self.media.take_events() {
            match ev {
                MediaEvent::Digit(d) => self.digit(d).await,
                MediaEvent::Heard(h) => self.hear(h),
                MediaEvent::Ended(crate::media::Ended::Prompt(id)) => {
                    self.pending.push_back(Event::PromptFinished { id });
                }
                MediaEvent::Note(kind, detail) => {
                    self.show_monitoring(kind, &detail);
                    self.event(kind, detail);
                }
                MediaEvent::Ended(crate::media::Ended::MessageIntro) => {
                    self.start_recording();
                    self.input(core::Input::RecordingStarted).await;
                }
            }
        }
    }

    /// The live view shows who monitors the call, and how.
    fn show_monitoring(&self, kind: &str, detail: &serde_json::Value) {
        let supervisor = detail["supervisor"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mode = detail["mode"].as_str().and_then(|m| m.parse().ok());
        self.sh.live.update(&self.id, |c| match (kind, mode) {
            ("monitor" | "monitor_mode", Some(mode)) => {
                c.monitor = Some(crate::live::monitor::Monitoring { supervisor, mode });
            }
            ("monitor_end", _) => c.monitor = None,
            _ => {}
        });
    }

    /// The agent's leg or the call ends: a supervisor on it is taken off (their task hangs
    /// them up) and the call can no longer be found by the agent's name.
    fn end_monitoring(&mut self, why: &str) {
        self.sh.monitor_targets.call_ended(&self.id);
        let gone = self.media.lock().monitor.take();
        if let Some(mon) = gone {
            self.sh.live.update(&self.id, |c| c.monitor = None);
            self.event(
                "monitor_end",
                json!({ "supervisor": mon.supervisor, "why": why }),
            );
        }
    }

    /// `<recordings>/<call id><suffix>.wav`.
    fn recording_file(&self, suffix: &str) -> PathBuf {
        self.sh
            .config
            .paths
            .recordings
            .join(format!("{}{suffix}.wav", self.id))
    }
}

/// The next datagram on the agent's RTP socket (forever when there is no agent leg).
async fn agent_packet(
    leg: Option<&RtpLeg>,
    buf: &mut [u8],
) -> std::io::Result<(usize, std::net::SocketAddr)> {
    match leg {
        Some(l) => l.socket.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

async fn next_offer(offers: &mut Option<mpsc::UnboundedReceiver<Offer>>) -> Option<Offer> {
    match offers {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
