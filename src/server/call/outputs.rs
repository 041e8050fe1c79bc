//! The core's outputs carried out: SIP bytes to the caller and the agents, sounds for the
//! media clock, the ACD's queue, the live view and the store. Quick answers the core asked for
//! (whether a queue is staffed, an agent's RTP port) go straight back in; slow ones (a console
//! offer, spoken announcements) come back later as [`jobs`] answers.

use super::core::{Input as CoreInput, Output};
use super::*;
use crate::agents::RingResult;
use crate::media::Pace;

impl CallTask {
    /// Carries out every output the core has queued (including those that answers fed back
    /// in while carrying them out produce).
    pub(super) async fn carry_out(&mut self) {
        while let Some(o) = self.core.poll_output() {
            self.output(o).await;
        }
    }

    async fn output(&mut self, o: Output) {
        match o {
            Output::ToCaller(bytes) => self.sh.transport.send(&self.caller_peer, bytes).await,
            Output::ToSource(bytes) => {
                let to = self.source.as_ref().unwrap_or(&self.caller_peer);
                self.sh.transport.send(to, bytes).await;
            }
            Output::ToAgent { target, bytes } => self.to_agent(&target, bytes).await,
            Output::Route(cid) => {
                let ours = self.core.invite().headers.call_id().unwrap_or_default();
                if let Some(tx) = self.sh.route(ours) {
                    self.sh.add_route(&cid, tx);
                }
            }
            Output::Stranger { method, source } => {
                self.sh
                    .metrics
                    .sip_dialog_mismatch_total
                    .fetch_add(1, Relaxed);
                tracing::warn!(method, %source, "request on this call's Call-ID that is not the caller's: 481");
            }
            Output::Event(kind, detail) => self.event(kind, detail),
            Output::Answered => self.answered(),
            Output::CallerConfirmed => self.media.lock().caller.confirm(),
            Output::CallerMedia(n) => self.media.lock().caller.renegotiate(&n),
            Output::Engine(action) => self.apply(action),
            Output::Key(shown) => self.sh.live.update(&self.id, |c| c.dtmf.push(shown)),
            Output::Transfer {
                queue,
                reason,
                announce,
                elderly,
            } => {
                self.transfer(&queue, reason, &announce, elderly);
                let staffed = self.sh.agents.staffed(&queue);
                let now = self.now();
                self.core.handle(now, CoreInput::QueueStaffed(staffed));
            }
            Output::Requeue { queue } => {
                self.sh.live.update(&self.id, |c| {
                    c.state = crate::live::CallState::Queued;
                    c.agent = None;
                });
                let staffed = self.sh.agents.staffed(&queue);
                let now = self.now();
                self.core.handle(now, CoreInput::QueueStaffed(staffed));
            }
            Output::PublishPop => self.publish_pop(),
            Output::JoinQueue { queue, head, agent } => {
                self.offers = Some(
                    self.sh
                        .agents
                        .join(&queue, &self.id, head, agent.as_deref()),
                );
                self.sh
                    .live
                    .update(&self.id, |c| c.state = crate::live::CallState::Queued);
                self.tell_wait_estimate();
            }
            Output::LeaveQueue => {
                self.offers = None;
                self.sh.agents.leave(&self.id);
            }
            Output::Ringback => {
                self.announcement += 1;
                self.media.lock().playout.ringback();
            }
            Output::Announce => self.announce(),
            Output::PrepareAgent {
                agent,
                uri,
                target,
                tls,
            } => {
                let input = match self.agent_offer(tls).await {
                    Ok((sdp, keys)) => CoreInput::AgentOffer {
                        agent,
                        uri,
                        target,
                        tls,
                        sdp,
                        keys,
                    },
                    Err(e) => {
                        tracing::warn!(agent, "cannot call agent: {e}");
                        CoreInput::DialFailed {
                            agent,
                            why: e.to_string(),
                        }
                    }
                };
                let now = self.now();
                self.core.handle(now, input);
            }
            Output::DialBrowser { agent } => self.dial_browser(&agent),
            Output::RingingAgent { agent } => self.sh.live.update(&self.id, |c| {
                c.agent = Some(agent);
                c.state = crate::live::CallState::RingingAgent;
            }),
            Output::AgentMedia {
                negotiated,
                signalling,
                srtp,
            } => self.agent_media(&negotiated, signalling, srtp),
            Output::EndBrowser { by } => self.end_browser(by),
            Output::RingEnded { agent, result } => {
                self.sh.agents.ring_result(&self.id, &agent, result);
                if result == RingResult::Answered {
                    self.offers = None;
                }
            }
            Output::BriefAgent { agent, .. } => self.make_brief(agent),
            Output::Bridge { agent } => {
                self.end_brief();
                self.announcement += 1;
                self.media.lock().playout.bridge();
                if let Some(a) = &agent {
                    self.sh.monitor_targets.bridged(a, &self.id, &self.media);
                }
                self.sh.live.update(&self.id, |c| {
                    c.state = crate::live::CallState::Bridged;
                    c.agent = agent;
                });
            }
            Output::AgentDone {
                agent,
                talked,
                dropped,
            } => {
                self.end_monitoring("the agent's leg ended");
                if dropped {
                    self.sh.agents.call_dropped(&agent, &self.id, talked);
                } else {
                    self.sh.agents.call_ended(&agent, &self.id, talked);
                }
            }
            Output::TakeConsult { replaces } => {
                let taken = self.sh.consults.take(&replaces).await;
                let now = self.now();
                match taken {
                    Some(t) => {
                        self.agent_rtp = Some(t.rtp);
                        self.core.consult_taken(now, t.agent, t.leg);
                    }
                    None => self.core.handle(now, CoreInput::ConsultMissing),
                }
            }
            Output::AgentSwapped { agent } => {
                self.sh
                    .monitor_targets
                    .bridged(&agent, &self.id, &self.media);
                // The ACD counts the consulted agent busy with this call from now.
                self.sh
                    .agents
                    .ring_result(&self.id, &agent, crate::agents::RingResult::Answered);
                self.sh.live.update(&self.id, |c| c.agent = Some(agent));
            }
            Output::StartMessage => self.start_message(),
            Output::OfferCallback { number, keying } => self.offer_callback(number, keying),
            Output::BookCallback {
                queue,
                number,
                queued_at,
            } => self.book_callback(queue, number, queued_at).await,
            Output::AbandonRecognition(job) => {
                self.sh.metrics.asr_failures_total.fetch_add(1, Relaxed);
                self.asr_wait.retain(|p| p.job != job);
            }
            Output::Finished(ending) => {
                self.end_consult("ended", "the call ended").await;
                self.end_monitoring("the call ended");
                self.finished(*ending)
            }
        }
    }

    /// The call is answered: record it if configured, make the slow prompts if needed.
    fn answered(&mut self) {
        if self.sh.config.media.record {
            let path = self.recording_file("");
            match Recorder::create(&path) {
                Ok(r) => self.media.lock().recorder = Some((r, path)),
                Err(e) => tracing::warn!("cannot record to {}: {e}", path.display()),
            }
        }
        if self.core.engine().is_elderly() {
            self.warm_slow_prompts();
        }
    }

    /// The engine decided on a person: what the caller hears while the agents ring, the
    /// metrics and the live view.
    fn transfer(
        &mut self,
        queue: &str,
        reason: Option<engine::Reason>,
        announce: &[String],
        elderly: bool,
    ) {
        let now = self.now();
        self.sh.metrics.escalated(reason, now.as_secs_f64());
        let reason = reason.map_or("routed", engine::Reason::as_str);
        let mut words = Vec::new();
        let pace = if elderly { Pace::Slow } else { Pace::Normal };
        for prompt in announce {
            match self.prompt_now(prompt, pace) {
                Ok(p) => words.push(p),
                // A missing "connecting" prompt costs the caller nothing but the words.
                Err(e) => tracing::warn!("connecting prompt {prompt}: {e}"),
            }
        }
        let spoken: Duration = words.iter().map(crate::media::Prompt::duration).sum();
        let connecting = !words.is_empty();
        self.media.lock().playout.connecting(words);
        self.caption_prompts(announce);
        let reason_s = reason.to_string();
        self.sh.live.update(&self.id, |c| {
            c.reason = Some(reason_s);
            c.state = crate::live::CallState::Queued;
        });
        self.event("transfer", json!({ "queue": queue, "reason": reason }));
        if connecting {
            // Stored beside `transfer` (the decision) and `agent_dial` (the INVITE): the
            // prompt plays from the decision on, while the agents ring.
            self.event(
                "connecting_prompt",
                json!({ "prompts": announce, "ms": spoken.as_millis() as u64 }),
            );
        }
    }
}
