//! After the engine hands the caller over: the hand-off machine's steps carried out — agent
//! legs dialled, cancelled and hung up, their responses and requests, the bridge, the message.

use super::*;
use crate::media::Pace;

/// Positions and minutes above this are spoken as this many (prompts exist for 1 to 20).
const MAX_SPOKEN: usize = 20;

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

impl CallTask {
    // ---- hand-off -----------------------------------------------------------------------------

    /// The engine decided: join the queue and ring the first agent now, while the caller
    /// hears `announce` ("connecting you") and then ringback or hold music.
    pub(super) async fn transfer(
        &mut self,
        queue: String,
        context: TransferContext,
        announce: Vec<String>,
    ) {
        let reason = context.reason.map(|r| r.as_str()).unwrap_or("routed");
        tracing::info!(queue, reason, "hand-off to a person");
        self.sh
            .metrics
            .escalated(context.reason, self.now().as_secs_f64());
        let mut words = Duration::ZERO;
        let pace = if context.elderly {
            Pace::Slow
        } else {
            Pace::Normal
        };
        for prompt in &announce {
            match self.prompt_now(prompt, pace) {
                Ok(p) => {
                    words += p.duration();
                    self.connecting.push_back(Player::new(p));
                }
                // A missing "connecting" prompt costs the caller nothing but the words.
                Err(e) => tracing::warn!("connecting prompt {prompt}: {e}"),
            }
        }
        self.caption_prompts(&announce);
        self.marker = true;
        let reason_s = reason.to_string();
        self.sh.live.update(&self.id, |c| {
            c.reason = Some(reason_s);
            c.state = crate::live::CallState::Queued;
        });
        self.event("transfer", json!({ "queue": queue, "reason": reason }));
        if !self.connecting.is_empty() {
            // Stored beside `transfer` (the decision) and `agent_dial` (the INVITE): the
            // prompt plays from the decision on, while the agents ring.
            self.event(
                "connecting_prompt",
                json!({ "prompts": announce, "ms": words.as_millis() as u64 }),
            );
        }
        let rules = match self.sh.config.queues.get(&queue) {
            Some(q) => handoff::Rules {
                ring_timeout: secs(q.ring_timeout_seconds),
                max_wait: secs(q.max_wait_seconds),
                announce_every: secs(q.announce_every_seconds),
                message_max: secs(self.sh.config.messages.max_seconds),
            },
            None => {
                tracing::error!("queue {queue} is not configured; the caller may leave a message");
                handoff::Rules {
                    ring_timeout: secs(20.0),
                    max_wait: secs(0.0),
                    announce_every: secs(30.0),
                    message_max: secs(self.sh.config.messages.max_seconds),
                }
            }
        };
        let staffed = self.sh.agents.staffed(&queue);
        if !staffed {
            self.event("queue_unstaffed", json!({ "queue": queue }));
        }
        self.context = Some(context);
        self.queue = Some(queue);
        self.publish_pop();
        let (h, steps) = Handoff::start(self.now(), rules, staffed);
        self.handoff = Some(h);
        self.steps(steps).await;
    }

    pub(super) async fn handoff_input(&mut self, input: handoff::Input) {
        let now = self.now();
        let Some(h) = &mut self.handoff else {
            return;
        };
        let steps = h.handle(now, input);
        self.steps(steps).await;
    }

    pub(super) async fn steps(&mut self, steps: Vec<Step>) {
        let mut queue: VecDeque<Step> = steps.into();
        while let Some(step) = queue.pop_front() {
            match step {
                Step::Join { head } => {
                    if head {
                        self.publish_pop();
                    }
                    let q = self.queue.clone().unwrap_or_default();
                    self.queued_at = Some(self.now());
                    self.offers = Some(self.sh.agents.join(&q, &self.id, head));
                    self.sh
                        .live
                        .update(&self.id, |c| c.state = crate::live::CallState::Queued);
                    self.event("queued", json!({ "queue": q, "head": head }));
                }
                Step::Leave => {
                    self.offers = None;
                    self.sh.agents.leave(&self.id);
                }
                Step::Ringback => {
                    if !matches!(self.sound, Sound::Ringback(_)) {
                        self.sound = Sound::Ringback(Player::new(ringback(6000)));
                        self.marker = true;
                    }
                }
                Step::Announce => self.announce().await,
                Step::Dial { agent, reach } => {
                    let placed = match &reach {
                        Reach::Static(uri) => self.dial(&agent, uri, None).await,
                        Reach::Sip(c) => self.dial(&agent, &c.uri, Some(c.addr)).await,
                        Reach::Browser => self.dial_browser(&agent).await,
                    };
                    if let Err(e) = placed {
                        tracing::warn!(agent, "cannot call agent: {e}");
                        self.event(
                            "agent_failed",
                            json!({ "agent": agent, "why": e.to_string() }),
                        );
                        let now = self.now();
                        if let Some(h) = &mut self.handoff {
                            queue.extend(h.handle(now, handoff::Input::AgentFailed(0)));
                        }
                    }
                }
                Step::Cancel | Step::HangUpAgent => {
                    let now = self.now();
                    if step == Step::Cancel {
                        let agent = self
                            .handoff
                            .as_ref()
                            .and_then(|h| h.current_agent())
                            .map(str::to_string);
                        self.event("agent_no_answer", json!({ "agent": agent }));
                    }
                    let by = if step == Step::Cancel {
                        "line"
                    } else {
                        "caller"
                    };
                    self.end_browser(by).await;
                    if let Some(mut leg) = self.agent.take() {
                        for b in leg.hang_up(now) {
                            self.sh.transport.send(&Peer::Udp(leg.target()), b).await;
                        }
                        self.leaving.push(leg);
                    }
                }
                Step::RingEnded { agent, result } => {
                    self.sh.agents.ring_result(&self.id, &agent, result);
                    if result == RingResult::Answered {
                        self.offers = None;
                    }
                }
                Step::Bridge => {
                    self.connecting.clear();
                    self.sound = Sound::Bridged;
                    self.last_agent_packet = self.now();
                    let agent = self
                        .handoff
                        .as_ref()
                        .and_then(|h| h.current_agent())
                        .map(str::to_string);
                    self.agent_answered = agent.clone();
                    let waited = self.queued_at.map(|t| self.now().saturating_sub(t));
                    self.queue_wait =
                        Some(self.queue_wait.unwrap_or_default() + waited.unwrap_or_default());
                    self.sh.live.update(&self.id, |c| {
                        c.state = crate::live::CallState::Bridged;
                        c.agent = agent.clone();
                    });
                    self.event("bridged", json!({ "agent": agent }));
                }
                Step::AgentDone {
                    agent,
                    talked,
                    dropped,
                } => {
                    if dropped {
                        self.sh.agents.call_dropped(&agent, &self.id, talked);
                    } else {
                        self.sh.agents.call_ended(&agent, &self.id, talked);
                    }
                }
                Step::StartMessage => {
                    self.connecting.clear();
                    self.start_message();
                }
                Step::HangUpCaller => {
                    self.hang_up_caller().await;
                    self.finish("hand-off over").await;
                }
            }
        }
    }

    /// Position and expected wait, in the call's language, then music on hold. The words are
    /// the operator's `queue_status` text (`queue_status_one` for one minute) with
    /// `{position}` and `{minutes}` filled, spoken by the speech engine (spoken variables); at
    /// the elderly pace, or when that text is missing or cannot be spoken, the recorded
    /// words and numbers are joined instead (they have slow renderings).
    async fn announce(&mut self) {
        let mut intro = VecDeque::new();
        if let Some((pos, wait)) = self.sh.agents.position(&self.id) {
            let minutes = (wait.as_secs_f64() / 60.0)
                .ceil()
                .clamp(1.0, MAX_SPOKEN as f64) as usize;
            let pos = pos.min(MAX_SPOKEN);
            let pace = self.handoff_pace();
            let spoken = match pace {
                crate::media::Pace::Normal => self.spoken_status(pos, minutes).await,
                crate::media::Pace::Slow => None,
            };
            let how = if let Some((text, prompt)) = spoken {
                intro.push_back(Player::new(prompt));
                self.caption(crate::live::captions::Caption::line(&text));
                "spoken"
            } else {
                let unit = if minutes == 1 {
                    "queue_minute"
                } else {
                    "queue_minutes"
                };
                let words = [
                    "queue_position".to_string(),
                    format!("num_{pos}"),
                    "queue_in_line".to_string(),
                    "queue_estimate".to_string(),
                    format!("num_{minutes}"),
                    unit.to_string(),
                ];
                for w in &words {
                    match self.prompt_now(w, pace) {
                        Ok(p) => intro.push_back(Player::new(p)),
                        Err(e) => tracing::warn!("announcement prompt {w}: {e}"),
                    }
                }
                self.caption_prompts(&words);
                "recorded"
            };
            self.event(
                "announced",
                json!({ "position": pos, "wait_minutes": minutes, "words": how }),
            );
        }
        self.sound = Sound::Hold {
            intro,
            music: Player::new(hold_music()),
        };
        self.marker = true;
    }

    /// The `queue_status` text of the call's language with `position` and `minutes` filled,
    /// and its audio from the speech engine (made on a blocking thread; the same words are
    /// kept and cost nothing the next time). `None` when there is no such text or it cannot be
    /// spoken.
    async fn spoken_status(
        &self,
        position: usize,
        minutes: usize,
    ) -> Option<(String, crate::media::Prompt)> {
        let lang = self.engine.language().code();
        let cache = Arc::clone(&self.sh.prompts);
        let name = if minutes == 1 {
            "queue_status_one"
        } else {
            "queue_status"
        };
        let made = tokio::task::spawn_blocking(move || {
            let file = cache.root().join(lang).join(format!("{name}.txt"));
            let template = std::fs::read_to_string(file).ok()?;
            let text = crate::text::spoken::render(template.trim(), lang, |v| match v {
                "position" => Some(position.to_string()),
                "minutes" => Some(minutes.to_string()),
                _ => None,
            });
            match cache.get_spoken(lang, &text) {
                Ok(p) => Some((text, p)),
                Err(e) => {
                    tracing::warn!(
                        "queue announcement cannot be spoken, using the recorded words: {e}"
                    );
                    None
                }
            }
        });
        made.await.ok().flatten()
    }

    pub(super) async fn dial(
        &mut self,
        agent: &str,
        uri: &str,
        target: Option<std::net::SocketAddr>,
    ) -> anyhow::Result<()> {
        if self.agent_rtp.is_none() {
            let socket = self.sh.ports.bind(self.sh.config.sip.bind.ip()).await?;
            let placeholder = crate::sip::Negotiated {
                codec_pt: 0,
                dtmf_pt: None,
                remote_addr: std::net::SocketAddr::from(([0, 0, 0, 0], 0)),
                direction: crate::sip::Direction::SendRecv,
                ptime: None,
            };
            // No source is allowed until the agent answers with its SDP.
            let trust = crate::media::net::PeerTrust {
                signalling: None,
                behind_proxy: false,
                private_targets: self.sh.config.media.allow_private_targets,
            };
            self.agent_rtp = Some(RtpLeg::new(socket, &placeholder, trust));
        }
        let port = self
            .agent_rtp
            .as_ref()
            .map(|l| l.socket.local_addr().map(|a| a.port()))
            .transpose()?
            .unwrap_or(0);
        let offer = sdp::offer(self.sh.media_ip(), port, self.session_id);
        let call_url = format!("{}/api/calls/{}", self.sh.api_base, self.id);
        let ctx = self.context.as_ref();
        let reason = ctx
            .and_then(|c| c.reason)
            .map(|r| r.as_str())
            .unwrap_or("routed");
        let summary = ctx.map(|c| c.summary.as_str()).unwrap_or("");
        let caller = self.caller_from();
        let (leg, bytes) = AgentLeg::dial(
            self.now(),
            uri,
            target,
            &self.sh.via_udp,
            offer,
            &agent_leg::Context {
                call_id: &self.id,
                call_url: &call_url,
                reason,
                summary,
                caller: &caller,
                language: ctx.map_or(self.plan.language, |c| c.language.code()),
                elderly: ctx
                    .filter(|c| c.elderly)
                    .map(|c| c.elderly_reason.as_deref().unwrap_or("elderly mode")),
            },
        )?;
        if let Some(tx) = self
            .sh
            .route(self.invite.headers.call_id().unwrap_or_default())
        {
            self.sh.add_route(leg.call_id(), tx);
        }
        self.sh
            .transport
            .send(&Peer::Udp(leg.target()), bytes)
            .await;
        self.event("agent_dial", json!({ "agent": agent, "uri": uri }));
        let a = agent.to_string();
        self.sh.live.update(&self.id, |c| {
            c.agent = Some(a);
            c.state = crate::live::CallState::RingingAgent;
        });
        self.agent = Some(leg);
        Ok(())
    }

    pub(super) async fn on_agent_response(&mut self, resp: Response) {
        let now = self.now();
        let cid = resp.headers.call_id().unwrap_or_default().to_string();
        if let Some(leg) = self.agent.as_mut().filter(|l| l.call_id() == cid) {
            let (send, ev) = leg.on_response(now, &resp);
            let target = leg.target();
            for b in send {
                self.sh.transport.send(&Peer::Udp(target), b).await;
            }
            if let Some(ev) = ev {
                self.leg_event(ev).await;
            }
        } else if let Some(leg) = self.leaving.iter_mut().find(|l| l.call_id() == cid) {
            let (send, _) = leg.on_response(now, &resp);
            let target = leg.target();
            for b in send {
                self.sh.transport.send(&Peer::Udp(target), b).await;
            }
        }
    }

    pub(super) async fn on_agent_request(&mut self, req: Request) {
        let cid = req.headers.call_id().unwrap_or_default().to_string();
        let leg = match self.agent.as_mut().filter(|l| l.call_id() == cid) {
            Some(l) => Some(l),
            None => self.leaving.iter_mut().find(|l| l.call_id() == cid),
        };
        let Some(leg) = leg else {
            return;
        };
        let (send, ev) = leg.on_request(&req);
        let target = leg.target();
        for b in send {
            self.sh.transport.send(&Peer::Udp(target), b).await;
        }
        if let Some(ev) = ev {
            self.leg_event(ev).await;
        }
    }

    pub(super) async fn poll_agents(&mut self, now: Duration) {
        let mut event = None;
        if let Some(leg) = &mut self.agent {
            let (send, ev) = leg.poll(now);
            for b in send {
                self.sh.transport.send(&Peer::Udp(leg.target()), b).await;
            }
            event = ev;
        }
        for leg in &mut self.leaving {
            let (send, _) = leg.poll(now);
            for b in send {
                self.sh.transport.send(&Peer::Udp(leg.target()), b).await;
            }
        }
        if let Some(ev) = event {
            self.leg_event(ev).await;
        }
    }

    pub(super) async fn leg_event(&mut self, ev: LegEvent) {
        let agent = self.agent.as_ref().map(|l| l.uri.clone());
        let input = match ev {
            LegEvent::Answered(n) => {
                let signalling = self.agent.as_ref().map(|l| l.target().ip());
                if let Some(a) = &mut self.agent_rtp {
                    a.renegotiate(&n);
                    if let Some(ip) = signalling {
                        a.allow_source(ip);
                    }
                    // The agent's answer came from its SIP address.
                    a.confirm();
                }
                self.event("agent_answered", json!({ "agent": agent }));
                handoff::Input::AgentAnswered
            }
            LegEvent::Failed(status) => {
                self.event("agent_failed", json!({ "agent": agent, "status": status }));
                if let Some(leg) = self.agent.take() {
                    self.leaving.push(leg);
                }
                handoff::Input::AgentFailed(status)
            }
            LegEvent::HungUp => {
                self.event("agent_hung_up", json!({ "agent": agent }));
                if let Some(leg) = self.agent.take() {
                    self.leaving.push(leg);
                }
                handoff::Input::AgentHungUp
            }
        };
        self.handoff_input(input).await;
    }

    pub(super) fn start_message(&mut self) {
        let mut intro = VecDeque::new();
        if let Ok(p) = self.prompt_now(MESSAGE_PROMPT, self.handoff_pace()) {
            intro.push_back(Player::new(p));
            self.caption_prompts(&[MESSAGE_PROMPT]);
        }
        intro.push_back(Player::new(tone(1000.0, 400, 8000)));
        self.sound = Sound::MessageIntro(intro);
        self.marker = true;
        self.sh
            .live
            .update(&self.id, |c| c.state = crate::live::CallState::Message);
        self.event("message_prompt", json!({}));
    }

    pub(super) fn start_recording(&mut self) {
        self.sound = Sound::Recording;
        let path = self.recording_file("-message");
        match MonoRecorder::create(&path) {
            Ok(r) => {
                self.message_path = Some(path.display().to_string());
                self.message = Some((r, path));
                self.event("message_recording", json!({}));
            }
            Err(e) => tracing::error!(
                "cannot record the caller's message to {}: {e}",
                path.display()
            ),
        }
    }
}
