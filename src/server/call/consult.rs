//! Attended transfer from the browser console: the agent talking to the caller picks a
//! colleague and presses Consult. The caller hears hold music; the server rings the
//! colleague's registered phone (we are the UAC: [`AgentLeg`]) and relays the console's audio
//! to it and back. Complete transfer hands the colleague's leg to the call
//! ([`core::CallCore::consult_taken`]: the colleague is the agent from now, the first agent's
//! console call ends and their wrap-up starts); Back to caller (or the colleague not answering
//! or hanging up) ends the consult and the caller is with the first agent again. The console
//! hears how it stands as `consult` messages (ringing, talking, ended, failed).

use super::*;
use crate::agents::ToConsole;
use crate::media::{linear_to_ulaw, Codec};
use crate::server::agent_leg::{AgentLeg, Context, Hop, LegEvent, SrtpOffer};
use crate::sip::SipMessage;

/// How long the consulted agent's phone rings.
const RING_FOR: Duration = Duration::from_secs(30);

/// The consulted agent's leg.
pub(super) struct ConsultLeg {
    agent: String,
    /// The agent who consults (the console's).
    by: String,
    leg: AgentLeg,
    rtp: RtpLeg,
    answered: bool,
    /// Call time by which the phone must answer.
    ring_until: Duration,
}

/// The consult leg's next deadline, for `select!` (never when there is none).
pub(super) async fn next_deadline(c: Option<&ConsultLeg>, started: Instant) {
    let at = c.and_then(|c| {
        let ring = (!c.answered).then_some(c.ring_until);
        [c.leg.deadline(), ring].into_iter().flatten().min()
    });
    super::super::wait::sleep_until(at.map(|d| started + d)).await;
}

/// A datagram on the consult leg's RTP port, or never.
pub(super) async fn next_packet(
    c: Option<&ConsultLeg>,
    buf: &mut [u8],
) -> std::io::Result<(usize, std::net::SocketAddr)> {
    match c {
        Some(c) => c.rtp.socket.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

impl CallTask {
    fn tell_consult(&self, by: &str, agent: &str, state: &str, why: &str) {
        self.sh.agents.tell_console(
            by,
            ToConsole::Consult {
                call_id: self.id.clone(),
                agent: agent.to_string(),
                state: state.to_string(),
                why: why.to_string(),
            },
        );
    }

    /// The console agent `by` asks to consult `agent` first.
    pub(super) async fn start_consult(&mut self, by: &str, agent: &str) {
        if self.consult.is_some() || !self.core.bridged() {
            return self.tell_consult(by, agent, "failed", "not while another consult runs");
        }
        match self.ring_consulted(by, agent).await {
            Ok(c) => {
                // The caller waits with music; the console talks to the colleague.
                self.media.lock().playout.hold([]);
                self.event("consult", json!({ "from": by, "to": agent }));
                self.tell_consult(by, agent, "ringing", "");
                self.consult = Some(c);
            }
            Err(why) => {
                tracing::info!(agent, "consult not started: {why}");
                self.tell_consult(by, agent, "failed", &why);
            }
        }
    }

    async fn ring_consulted(&mut self, by: &str, agent: &str) -> Result<ConsultLeg, String> {
        if by.eq_ignore_ascii_case(agent) {
            return Err("that is you".into());
        }
        let contact = self
            .sh
            .agents
            .sip_contact(agent)
            .ok_or_else(|| format!("{agent} has no phone registered"))?;
        let hop =
            Hop::to(&contact.uri, Some(contact.addr), contact.tls).map_err(|e| e.to_string())?;
        let via = self.sh.via_toward(&hop)?;
        let (rtp, sdp, keys) =
            crate::server::bridge::media_offer(&self.sh, hop.tls.is_some()).await?;
        let summary = format!("{by} asks you about the caller they are talking to");
        let ctx = Context {
            call_id: &self.id,
            call_url: &format!("{}/api/calls/{}", self.sh.api_base, self.id),
            reason: "consult",
            summary: &summary,
            caller: &format!("<sip:{by}@humanline.invalid>"),
            language: self.core.engine().language().code(),
            elderly: None,
        };
        let srtp = SrtpOffer {
            keys,
            required: false,
        };
        let now = self.now();
        let (leg, bytes) = AgentLeg::dial(now, &contact.uri, hop, &via, (sdp, srtp), &ctx)
            .map_err(|e| e.to_string())?;
        let ours = self.core.invite().headers.call_id().unwrap_or_default();
        if let Some(tx) = self.sh.route(ours) {
            self.sh.add_route(leg.call_id(), tx);
        }
        self.sh.send_on_hop(leg.hop(), bytes).await;
        Ok(ConsultLeg {
            agent: agent.to_string(),
            by: by.to_string(),
            leg,
            rtp,
            answered: false,
            ring_until: now + RING_FOR,
        })
    }

    /// Whether `msg` belongs to the consult leg.
    pub(super) fn consult_owns(&self, msg: &SipMessage) -> bool {
        let cid = match msg {
            SipMessage::Request(r) => r.headers.call_id(),
            SipMessage::Response(r) => r.headers.call_id(),
        };
        self.consult
            .as_ref()
            .is_some_and(|c| Some(c.leg.call_id()) == cid)
    }

    /// SIP on the consult leg.
    pub(super) async fn consult_sip(&mut self, msg: SipMessage) {
        let now = self.now();
        let Some(c) = &mut self.consult else { return };
        let (out, ev) = match &msg {
            SipMessage::Response(r) => c.leg.on_response(now, r),
            SipMessage::Request(r) => c.leg.on_request_at(now, r),
        };
        self.consult_send(out).await;
        if let Some(ev) = ev {
            self.consult_event(ev).await;
        }
    }

    /// The consult leg's timers: retransmissions, the ring running out.
    pub(super) async fn consult_timer(&mut self) {
        let now = self.now();
        let Some(c) = &mut self.consult else { return };
        let (out, ev) = c.leg.poll(now);
        let unanswered = !c.answered && now >= c.ring_until;
        self.consult_send(out).await;
        if let Some(ev) = ev {
            self.consult_event(ev).await;
        } else if unanswered {
            self.end_consult("failed", "no answer").await;
        }
    }

    async fn consult_event(&mut self, ev: LegEvent) {
        let Some(c) = &mut self.consult else { return };
        match ev {
            LegEvent::Answered(n) => {
                c.answered = crate::server::bridge::answered(&mut c.rtp, &c.leg, &n);
                if !c.answered {
                    return self
                        .end_consult("failed", "the phone's media cannot be used")
                        .await;
                }
                let (by, agent) = (c.by.clone(), c.agent.clone());
                self.tell_consult(&by, &agent, "talking", "");
            }
            LegEvent::Failed(status) => {
                self.end_consult("failed", &format!("the phone answered {status}"))
                    .await
            }
            LegEvent::HungUp => self.end_consult("ended", "they hung up").await,
            LegEvent::Refer(_) => {}
        }
    }

    async fn consult_send(&self, out: Vec<Vec<u8>>) {
        let Some(c) = &self.consult else { return };
        for b in out {
            self.sh.send_on_hop(c.leg.hop(), b).await;
        }
    }

    /// Ends the consult (hanging up the colleague if still on) and puts the caller back with
    /// the first agent.
    pub(super) async fn end_consult(&mut self, state: &str, why: &str) {
        let Some(mut c) = self.consult.take() else {
            return;
        };
        let out = c.leg.hang_up(self.now());
        for b in out {
            self.sh.send_on_hop(c.leg.hop(), b).await;
        }
        self.tell_consult(&c.by, &c.agent, state, why);
        self.event("consult_end", json!({ "to": c.agent, "why": why }));
        if self.core.bridged() {
            self.media.lock().playout.bridge();
        }
        // Its last answers (a 200 to our BYE) need no routing: the leg is forgotten.
        self.sh.remove_route(c.leg.call_id());
    }

    /// The console agent presses Complete transfer: the colleague takes the caller.
    pub(super) async fn complete_consult(&mut self) {
        let answered = self.consult.as_ref().is_some_and(|c| c.answered);
        if !answered {
            return self
                .end_consult("failed", "they have not answered yet")
                .await;
        }
        let Some(c) = self.consult.take() else { return };
        tracing::info!(from = %c.by, to = %c.agent, "attended transfer from the console");
        self.tell_consult(&c.by, &c.agent, "ended", "transferred");
        self.agent_rtp = Some(c.rtp);
        self.end_browser("transfer");
        self.media.lock().playout.bridge();
        let now = self.now();
        self.core.consult_taken(now, c.agent, c.leg);
    }

    /// The console's audio during a consult goes to the colleague (the caller is on hold).
    pub(super) fn consult_hears_console(&mut self, payload: &[u8]) -> bool {
        let Some(c) = &mut self.consult else {
            return false;
        };
        if c.answered {
            let mut pcm = [0i16; FRAME];
            let n = Codec::Pcmu.decode(payload, &mut pcm);
            c.rtp.send_pcm_now(&pcm[..n], false);
        }
        true
    }

    /// The colleague's audio during a consult goes to the console.
    pub(super) async fn consult_packet(&mut self, buf: &[u8], from: std::net::SocketAddr) {
        let metrics = Arc::clone(&self.sh.metrics);
        let Some(c) = &mut self.consult else { return };
        let Some(Some((pcm, n))) =
            crate::server::bridge::receive(&mut c.rtp, (buf, from), &metrics)
        else {
            return;
        };
        if let Some(leg) = &self.browser {
            let mut frame = [0xFFu8; FRAME];
            for (o, s) in frame.iter_mut().zip(&pcm[..n]) {
                *o = linear_to_ulaw(*s);
            }
            leg.send_pcmu(&frame[..n]).await;
        }
    }
}
