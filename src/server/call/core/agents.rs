//! After the engine hands the caller over: the hand-off machine's steps carried out as
//! outputs, the agent legs dialled, cancelled and hung up, their responses and requests.

use super::super::super::agent_leg::{self, AgentLeg, Hop, LegEvent, SrtpOffer};
use super::super::super::handoff::{self, Handoff, Step};
use super::{CallCore, Output};
use crate::agents::Reach;
use crate::sip::sdes::Crypto;
use crate::sip::{Request, Response};
use serde_json::json;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

impl CallCore {
    /// The rules of `queue`; a queue that is not configured lets the caller leave a message.
    fn rules(&self, queue: &str) -> handoff::Rules {
        match self.cfg.queues.get(queue) {
            Some(r) => *r,
            None => {
                tracing::error!("queue {queue} is not configured; the caller may leave a message");
                handoff::Rules {
                    ring_timeout: Duration::from_secs(20),
                    max_wait: Duration::ZERO,
                    announce_every: Duration::from_secs(30),
                    message_max: self.cfg.message_max,
                    brief: None,
                    callback_after: None,
                }
            }
        }
    }

    /// The shell said whether the queue is staffed: the hand-off starts.
    pub(super) fn start_handoff(&mut self, now: Duration, staffed: bool) {
        let Some((queue, _)) = &self.transfer else {
            return;
        };
        if self.handoff.is_some() || self.finished_at.is_some() {
            return;
        }
        let queue = queue.clone();
        if !staffed {
            self.event("queue_unstaffed", json!({ "queue": queue }));
        }
        self.out.push_back(Output::PublishPop);
        let head = std::mem::take(&mut self.requeue_head);
        let (h, steps) = Handoff::start_at(now, self.rules(&queue), staffed, head);
        self.handoff = Some(h);
        self.steps(now, steps);
    }

    pub(super) fn handoff_input(&mut self, now: Duration, input: handoff::Input) {
        let Some(h) = &mut self.handoff else {
            return;
        };
        let steps = h.handle(now, input);
        self.steps(now, steps);
    }

    pub(super) fn current_agent(&self) -> Option<String> {
        self.handoff
            .as_ref()
            .and_then(Handoff::current_agent)
            .map(str::to_string)
    }

    fn steps(&mut self, now: Duration, steps: Vec<Step>) {
        let mut queue: VecDeque<Step> = steps.into();
        let mut unreachable = false;
        while let Some(step) = queue.pop_front() {
            match step {
                Step::Join { head } => {
                    if head {
                        self.out.push_back(Output::PublishPop);
                    }
                    let q = self
                        .transfer
                        .as_ref()
                        .map(|(q, _)| q.clone())
                        .unwrap_or_default();
                    self.queued_at = Some(now);
                    let agent = self.requeue_for.take();
                    self.out.push_back(Output::JoinQueue {
                        queue: q.clone(),
                        head,
                        agent: agent.clone(),
                    });
                    self.event(
                        "queued",
                        json!({ "queue": q, "head": head, "for_agent": agent }),
                    );
                }
                Step::Leave => self.out.push_back(Output::LeaveQueue),
                Step::Ringback => self.out.push_back(Output::Ringback),
                Step::Announce => self.out.push_back(Output::Announce),
                Step::Dial { agent, reach } => match reach {
                    Reach::Static(uri) => self.out.push_back(Output::PrepareAgent {
                        agent,
                        tls: crate::agents::uri_wants_tls(&uri),
                        uri,
                        target: None,
                    }),
                    Reach::Sip(c) => self.out.push_back(Output::PrepareAgent {
                        agent,
                        uri: c.uri,
                        target: Some(c.addr),
                        tls: c.tls,
                    }),
                    Reach::Browser => self.out.push_back(Output::DialBrowser { agent }),
                    Reach::Trunk(t) => match self.cfg.trunks.get(&t.trunk) {
                        Some(trunk) => self.out.push_back(Output::PrepareAgent {
                            agent,
                            uri: trunk.request_uri(&t.number),
                            target: None,
                            tls: trunk.tls,
                        }),
                        // The config names every trunk a queue uses; kept safe all the same.
                        None => {
                            let why = format!("trunk {} is not configured", t.trunk);
                            tracing::warn!(agent, "cannot call agent: {why}");
                            self.event("agent_failed", json!({ "agent": agent, "why": why }));
                            unreachable = true;
                        }
                    },
                },
                Step::Cancel | Step::HangUpAgent => {
                    let by = if step == Step::Cancel {
                        let agent = self.current_agent();
                        self.event("agent_no_answer", json!({ "agent": agent }));
                        "line"
                    } else {
                        "caller"
                    };
                    self.out.push_back(Output::EndBrowser { by });
                    self.hang_up_agent(now);
                }
                Step::RingEnded { agent, result } => {
                    self.out.push_back(Output::RingEnded { agent, result });
                }
                Step::Brief => {
                    let agent = self.current_agent().unwrap_or_default();
                    let choose_within = self
                        .handoff
                        .as_ref()
                        .and_then(Handoff::deadline)
                        .unwrap_or(now)
                        .saturating_sub(now);
                    self.event(
                        "brief",
                        json!({ "agent": agent, "choose_within_ms": choose_within.as_millis() as u64 }),
                    );
                    self.out.push_back(Output::BriefAgent {
                        agent,
                        choose_within,
                    });
                }
                Step::Bridge => {
                    self.last_agent_packet = now;
                    let agent = self.current_agent();
                    self.agent_answered = agent.clone();
                    let waited = self.queued_at.map(|t| now.saturating_sub(t));
                    self.queue_wait =
                        Some(self.queue_wait.unwrap_or_default() + waited.unwrap_or_default());
                    self.out.push_back(Output::Bridge {
                        agent: agent.clone(),
                    });
                    self.event("bridged", json!({ "agent": agent }));
                }
                Step::AgentDone {
                    agent,
                    talked,
                    dropped,
                } => self.out.push_back(Output::AgentDone {
                    agent,
                    talked,
                    dropped,
                }),
                Step::StartMessage => self.out.push_back(Output::StartMessage),
                Step::OfferCallback => self.callback_offered(),
                Step::BookCallback => self.callback_booked(),
                Step::HangUpCaller => {
                    self.hang_up_caller(now);
                    self.finish(now, "hand-off over");
                }
            }
        }
        if unreachable {
            self.handoff_input(now, handoff::Input::AgentFailed(0));
        }
    }

    /// A key from the agent's phone: while they hear the brief, 1 takes the caller and 2
    /// passes them on; other keys (and keys once bridged, which the shell relays) do nothing.
    pub(super) fn agent_digit(&mut self, now: Duration, digit: char) {
        let briefing = matches!(
            self.handoff.as_ref().map(Handoff::stage),
            Some(handoff::Stage::Briefing { .. })
        );
        let take = match digit {
            '1' => true,
            '2' => false,
            _ => return,
        };
        if !briefing {
            return;
        }
        let agent = self.current_agent();
        self.event(
            "brief_choice",
            json!({ "agent": agent, "choice": if take { "take" } else { "pass" } }),
        );
        self.handoff_input(now, handoff::Input::AgentChose(take));
    }

    /// Hangs up (or cancels) the agent leg being rung or talked to.
    pub(super) fn hang_up_agent(&mut self, now: Duration) {
        if let Some(mut leg) = self.agent.take() {
            let target = leg.hop().clone();
            for bytes in leg.hang_up(now) {
                let target = target.clone();
                self.out.push_back(Output::ToAgent { target, bytes });
            }
            self.leaving.push(leg);
        }
    }

    /// Ready agents the ACD passed over because the queue requires SRTP: said in the log and
    /// stored with the call.
    pub(super) fn skipped(&mut self, agents: &[String]) {
        let queue = self.transfer.as_ref().map(|(q, _)| q.clone());
        for agent in agents {
            tracing::warn!(
                agent = %agent,
                queue = queue.as_deref().unwrap_or(""),
                "agent not rung: the queue requires SRTP and the agent's phone is not \
                 registered over TLS (register over TLS, or use the console)"
            );
            self.event(
                "agent_skipped",
                json!({ "agent": agent, "queue": queue, "why": "not over TLS with SRTP" }),
            );
        }
    }

    /// How to call the agent now being offered: the hop, our Via on it and what the answer
    /// must carry; or why it cannot be called.
    fn route_to(
        &self,
        (uri, target, tls): (&str, Option<SocketAddr>, bool),
        keys: Vec<Crypto>,
    ) -> Result<(Hop, crate::sip::LocalVia, SrtpOffer), crate::sip::SipError> {
        let hop = Hop::to(uri, target, tls)?;
        let via = match (&hop.tls, &self.cfg.agent_via_tls) {
            (None, _) => self.cfg.agent_via.clone(),
            (Some(_), Some(v)) => v.clone(),
            (Some(_), None) => {
                return Err(crate::sip::SipError::new(
                    crate::sip::SipErrorKind::BadUri,
                    format!("{uri} is reached over TLS and [sip] tls_bind is not set"),
                ))
            }
        };
        let required = self
            .transfer
            .as_ref()
            .is_some_and(|(q, _)| self.cfg.srtp_queues.contains(q));
        Ok((hop, via, SrtpOffer { keys, required }))
    }

    /// The agent's media is ready: the INVITE with the caller's context goes (`to`: the URI,
    /// a registered phone's address, whether over TLS; `keys`: the SDES keys in `offer`).
    pub(super) fn dial(
        &mut self,
        now: Duration,
        agent: &str,
        to: (&str, Option<SocketAddr>, bool),
        offer: String,
        keys: Vec<Crypto>,
    ) {
        let ringing_this_one = self.current_agent().as_deref() == Some(agent);
        if !ringing_this_one || self.finished_at.is_some() {
            return;
        }
        let uri = to.0;
        // A number behind a trunk: the INVITE goes to the trunk's proxy, as the trunk.
        let trunk = crate::trunk::TrunkAgent::parse(agent)
            .and_then(|t| self.cfg.trunks.get(&t.trunk))
            .cloned();
        let hop_to = match &trunk {
            Some(t) => (t.proxy.as_str(), None, t.tls),
            None => to,
        };
        let ctx = self.transfer.as_ref().map(|(_, c)| c);
        let reason = ctx
            .and_then(|c| c.reason)
            .map(|r| r.as_str())
            .unwrap_or("routed");
        let summary = ctx.map(|c| c.summary.as_str()).unwrap_or("");
        let caller = self
            .caller
            .invite()
            .headers
            .get("From")
            .unwrap_or_default()
            .to_string();
        let context = agent_leg::Context {
            call_id: &self.cfg.call_id,
            call_url: &self.cfg.call_url,
            reason,
            summary,
            caller: &caller,
            language: ctx.map_or(self.engine.language(), |c| c.language).code(),
            elderly: ctx
                .filter(|c| c.elderly)
                .map(|c| c.elderly_reason.as_deref().unwrap_or("elderly mode")),
        };
        let placed = self
            .route_to(hop_to, keys)
            .and_then(|(hop, via, srtp)| match &trunk {
                Some(t) => AgentLeg::dial_trunk(
                    now,
                    (uri, &t.caller_id),
                    hop,
                    &via,
                    (offer, srtp),
                    &context,
                    t.credentials.clone(),
                ),
                None => AgentLeg::dial(now, uri, hop, &via, (offer, srtp), &context),
            });
        match placed {
            Ok((leg, bytes)) => {
                self.out.push_back(Output::Route(leg.call_id().to_string()));
                self.out.push_back(Output::ToAgent {
                    target: leg.hop().clone(),
                    bytes,
                });
                let tls = leg.hop().tls.is_some();
                let trunk = trunk.map(|t| t.name);
                self.event(
                    "agent_dial",
                    json!({ "agent": agent, "uri": uri, "tls": tls, "trunk": trunk }),
                );
                self.out.push_back(Output::RingingAgent {
                    agent: agent.to_string(),
                });
                self.agent = Some(leg);
            }
            Err(e) => {
                tracing::warn!(agent, "cannot call agent: {e}");
                self.event(
                    "agent_failed",
                    json!({ "agent": agent, "why": e.to_string() }),
                );
                self.handoff_input(now, handoff::Input::AgentFailed(0));
            }
        }
    }

    fn send_to_agent(&mut self, target: &Hop, send: Vec<Vec<u8>>) {
        for bytes in send {
            let target = target.clone();
            self.out.push_back(Output::ToAgent { target, bytes });
        }
    }

    pub(super) fn on_agent_response(&mut self, now: Duration, resp: Response) {
        let cid = resp.headers.call_id().unwrap_or_default().to_string();
        if let Some(leg) = self.agent.as_mut().filter(|l| l.call_id() == cid) {
            let (send, ev) = leg.on_response(now, &resp);
            let target = leg.hop().clone();
            self.send_to_agent(&target, send);
            if let Some(ev) = ev {
                self.leg_event(now, ev);
            }
        } else if let Some(leg) = self.leaving.iter_mut().find(|l| l.call_id() == cid) {
            let (send, _) = leg.on_response(now, &resp);
            let target = leg.hop().clone();
            self.send_to_agent(&target, send);
        }
    }

    pub(super) fn on_agent_request(&mut self, now: Duration, req: Request) {
        let cid = req.headers.call_id().unwrap_or_default().to_string();
        let current = self.agent.as_ref().is_some_and(|l| l.call_id() == cid);
        let leg = match self.agent.as_mut().filter(|_| current) {
            Some(l) => Some(l),
            None => self.leaving.iter_mut().find(|l| l.call_id() == cid),
        };
        let Some(leg) = leg else {
            return;
        };
        let (send, ev) = leg.on_request(&req);
        let target = leg.hop().clone();
        self.send_to_agent(&target, send);
        if let (Some(ev), true) = (ev, current) {
            self.leg_event(now, ev);
        }
    }

    pub(super) fn poll_agents(&mut self, now: Duration) {
        let mut event = None;
        if let Some(leg) = &mut self.agent {
            let (send, ev) = leg.poll(now);
            let target = leg.hop().clone();
            self.send_to_agent(&target, send);
            event = ev;
        }
        let mut sends = Vec::new();
        for leg in &mut self.leaving {
            let (send, _) = leg.poll(now);
            if !send.is_empty() {
                sends.push((leg.hop().clone(), send));
            }
        }
        for (target, send) in sends {
            self.send_to_agent(&target, send);
        }
        if let Some(ev) = event {
            self.leg_event(now, ev);
        }
    }

    fn leg_event(&mut self, now: Duration, ev: LegEvent) {
        let agent = self.agent.as_ref().map(|l| l.uri.clone());
        let input = match ev {
            LegEvent::Refer(target) => return self.on_refer(now, target),
            LegEvent::Answered(negotiated) => {
                if let Some(leg) = &self.agent {
                    self.out.push_back(Output::AgentMedia {
                        negotiated,
                        signalling: leg.target().ip(),
                        srtp: leg.srtp_keys().cloned(),
                    });
                }
                self.event("agent_answered", json!({ "agent": agent }));
                handoff::Input::AgentAnswered
            }
            LegEvent::Failed(status) => {
                let why = self.agent.as_ref().and_then(AgentLeg::refused);
                match why {
                    Some(why) => {
                        tracing::warn!(agent = ?agent, "agent hung up: {why}");
                        let why = why.to_string();
                        self.event(
                            "agent_failed",
                            json!({ "agent": agent, "status": status, "why": why }),
                        );
                    }
                    None => self.event("agent_failed", json!({ "agent": agent, "status": status })),
                }
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
        self.handoff_input(now, input);
    }
}
