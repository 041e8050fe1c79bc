//! After the engine hands the caller over: the hand-off machine's steps carried out — agent
//! legs dialled, cancelled and hung up, their responses and requests, the bridge, the message.

use super::*;

impl CallTask {
    // ---- hand-off -----------------------------------------------------------------------------

    pub(super) async fn transfer(&mut self, queue: String, context: TransferContext) {
        let reason = context.reason.map(|r| r.as_str()).unwrap_or("routed");
        tracing::info!(queue, reason, "hand-off to a person");
        self.sh.metrics.escalated(reason, self.now().as_secs_f64());
        let reason_s = reason.to_string();
        self.sh.live.update(&self.id, |c| {
            c.reason = Some(reason_s);
            c.state = "ringing_agent".into();
        });
        self.event("transfer", json!({ "queue": queue, "reason": reason }));
        let (agents, ring) = match self.sh.config.queues.get(&queue) {
            Some(q) => (q.agents.clone(), q.ring_timeout_seconds),
            None => {
                tracing::error!(
                    "queue {queue} has no agents configured; the caller may leave a message"
                );
                (Vec::new(), 20.0)
            }
        };
        self.context = Some(context);
        let (h, steps) = Handoff::start(
            self.now(),
            agents,
            Duration::from_secs_f64(ring.max(1.0)),
            Duration::from_secs_f64(self.sh.config.messages.max_seconds.max(1.0)),
        );
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
                Step::Ringback => {
                    self.sound = Sound::Ringback(Player::new(ringback(6000)));
                    self.marker = true;
                }
                Step::Dial(uri) => {
                    if let Err(e) = self.dial(&uri).await {
                        tracing::warn!(agent = %uri, "cannot call agent: {e}");
                        self.event(
                            "agent_failed",
                            json!({ "agent": uri, "why": e.to_string() }),
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
                        let agent = self.agent.as_ref().map(|l| l.uri.clone());
                        self.event("agent_no_answer", json!({ "agent": agent }));
                    }
                    if let Some(mut leg) = self.agent.take() {
                        for b in leg.hang_up(now) {
                            self.sh.transport.send(&Peer::Udp(leg.target()), b).await;
                        }
                        self.leaving.push(leg);
                    }
                }
                Step::Bridge => {
                    self.sound = Sound::Bridged;
                    let agent = self.agent.as_ref().map(|l| l.uri.clone());
                    self.agent_answered = agent.clone();
                    self.sh.live.update(&self.id, |c| {
                        c.state = "bridged".into();
                        c.agent = agent.clone();
                    });
                    self.event("bridged", json!({ "agent": agent }));
                }
                Step::StartMessage => self.start_message(),
                Step::HangUpCaller => {
                    self.hang_up_caller().await;
                    self.finish("hand-off over").await;
                }
            }
        }
    }

    pub(super) async fn dial(&mut self, uri: &str) -> anyhow::Result<()> {
        if self.agent_rtp.is_none() {
            let socket = self.sh.ports.bind(self.sh.config.sip.bind.ip()).await?;
            let placeholder = crate::sip::Negotiated {
                codec_pt: 0,
                dtmf_pt: None,
                remote_addr: std::net::SocketAddr::from(([0, 0, 0, 0], 0)),
                direction: crate::sip::Direction::SendRecv,
                ptime: None,
            };
            self.agent_rtp = Some(RtpLeg::new(socket, &placeholder));
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
        let caller = self
            .invite
            .headers
            .get("From")
            .unwrap_or_default()
            .to_string();
        let (leg, bytes) = AgentLeg::dial(
            self.now(),
            uri,
            &self.sh.via_udp,
            offer,
            &agent_leg::Context {
                call_id: &self.id,
                call_url: &call_url,
                reason,
                summary,
                caller: &caller,
            },
        )?;
        let (tx, _) = (
            self.sh
                .route(self.invite.headers.call_id().unwrap_or_default()),
            (),
        );
        if let Some(tx) = tx {
            self.sh.add_route(leg.call_id(), tx);
        }
        self.sh
            .transport
            .send(&Peer::Udp(leg.target()), bytes)
            .await;
        self.event("agent_dial", json!({ "agent": uri }));
        self.sh
            .live
            .update(&self.id, |c| c.agent = Some(uri.to_string()));
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
                if let Some(a) = &mut self.agent_rtp {
                    a.renegotiate(&n);
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
        if let Ok(p) = self.sh.prompts.get(self.plan.language, MESSAGE_PROMPT) {
            intro.push_back(Player::new(p));
        }
        intro.push_back(Player::new(tone(1000.0, 400, 8000)));
        self.sound = Sound::MessageIntro(intro);
        self.marker = true;
        self.sh
            .live
            .update(&self.id, |c| c.state = "message".into());
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
