//! One consult call: the consulting agent's phone (we are its UAS: [`CallerDialog`]) and the
//! consulted agent's phone (we are its UAC: [`AgentLeg`]), relayed to each other, until one
//! hangs up or the consulted side is handed to the caller's call (attended transfer).

use super::{Handover, Taken};
use crate::auth::Role;
use crate::media::net::RtpLeg;
use crate::server::agent_leg::{AgentLeg, Context, Hop, LegEvent, SrtpOffer};
use crate::server::call::core::{CallerDialog, Dest, FromCaller};
use crate::server::call::{self};
use crate::server::transport::Peer;
use crate::server::{bridge, dial_in, Shared};
use crate::sip::{new_tag, response_to, Request, Response, SipMessage};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long the consulted agent's phone rings.
const RING_FOR: Duration = Duration::from_secs(30);
/// How long the legs stay to finish their goodbyes.
const LINGER: Duration = Duration::from_secs(4);

/// The consulted agent's side.
struct Consulted {
    leg: AgentLeg,
    rtp: RtpLeg,
    answered: bool,
}

/// A consult call in progress.
pub(super) struct Session {
    sh: Arc<Shared>,
    started: Instant,
    /// The consulting agent's dialog and media.
    dialog: CallerDialog,
    peer: Peer,
    source: Option<Peer>,
    rtp: RtpLeg,
    /// The consulted agent (gone once handed over).
    consulted: Option<Consulted>,
    agent: String,
    from: String,
    rx: mpsc::Receiver<call::Input>,
    /// Where this session's SIP is routed (for a leg given back).
    tx: mpsc::Sender<call::Input>,
    handovers: mpsc::Receiver<Handover>,
    routes: Vec<String>,
    ended: Option<Duration>,
}

impl Session {
    /// Authenticates the consulting agent, answers them and rings `agent`'s phone; the session
    /// and the INVITE to send, or the refusal.
    pub(super) async fn start(
        sh: &Arc<Shared>,
        req: &Request,
        peer: &Peer,
        agent: &str,
    ) -> Result<(Session, Vec<u8>), Response> {
        let refuse = |code, reason: &str| {
            tracing::info!(agent, "consult call refused: {code} {reason}");
            response_to(req, code, reason, Some(&new_tag()))
        };
        let roles = [Role::Agent, Role::Supervisor];
        let from = dial_in::authenticate(sh, req, peer, &roles, "consult call").await?;
        if from.eq_ignore_ascii_case(agent) {
            return Err(refuse(486, "Busy Here - That Is You"));
        }
        let Some(contact) = sh.agents.sip_contact(agent) else {
            return Err(refuse(480, "Temporarily Unavailable - No Phone Registered"));
        };
        let hop = Hop::to(&contact.uri, Some(contact.addr), contact.tls)
            .map_err(|_| refuse(480, "Temporarily Unavailable"))?;
        let via = sh
            .via_toward(&hop)
            .map_err(|_| refuse(480, "Temporarily Unavailable"))?;
        let (rtp_b, offer, keys) = bridge::media_offer(sh, hop.tls.is_some())
            .await
            .map_err(|_| refuse(503, "Service Unavailable"))?;
        // The consulting agent's call, if any: the consulted one gets its link.
        let on_call = sh.monitor_targets.find(&from).map(|(t, _)| t.call_id);
        let call_id = on_call.clone().unwrap_or_default();
        let summary = match &on_call {
            Some(_) => format!("{from} asks you about the caller they are talking to"),
            None => format!("{from} calls you"),
        };
        let ctx = Context {
            call_id: &call_id,
            call_url: &format!("{}/api/calls/{call_id}", sh.api_base),
            reason: "consult",
            summary: &summary,
            caller: &format!("<sip:{from}@humanline.invalid>"),
            language: "en",
            elderly: None,
        };
        let srtp = SrtpOffer {
            keys,
            required: false,
        };
        let (leg, invite) =
            AgentLeg::dial(Duration::ZERO, &contact.uri, hop, &via, (offer, srtp), &ctx)
                .map_err(|_| refuse(480, "Temporarily Unavailable"))?;
        let answered = dial_in::answer(sh, req, peer).await?;
        let (tx, rx) = mpsc::channel(32);
        let (htx, handovers) = mpsc::channel(2);
        let a_cid = req.headers.call_id().unwrap_or_default().to_string();
        let b_cid = leg.call_id().to_string();
        sh.add_route(&a_cid, tx.clone());
        sh.add_route(&b_cid, tx.clone());
        sh.consults.add(&a_cid, htx);
        tracing::info!(%from, agent, "consult call: ringing the agent");
        let s = Session {
            sh: Arc::clone(sh),
            started: Instant::now(),
            dialog: answered.dialog,
            peer: peer.clone(),
            source: None,
            rtp: answered.rtp,
            consulted: Some(Consulted {
                leg,
                rtp: rtp_b,
                answered: false,
            }),
            agent: agent.to_string(),
            from,
            rx,
            tx,
            handovers,
            routes: vec![a_cid, b_cid],
            ended: None,
        };
        Ok((s, invite))
    }

    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    /// Serves the consult call until both sides are done.
    pub(super) async fn run(mut self, invite: Vec<u8>) {
        self.dialog.answer(Duration::ZERO);
        self.send_b(vec![invite]).await;
        self.flush().await;
        let mut abuf = [0u8; 2048];
        let mut bbuf = [0u8; 2048];
        loop {
            let due = self.deadline().map(|d| self.started + d);
            let mut out = Vec::new();
            tokio::select! {
                m = self.rx.recv() => match m {
                    Some(call::Input::Sip(msg, peer)) => {
                        self.source = Some(peer);
                        out = self.on_sip(*msg);
                    }
                    Some(call::Input::Shutdown) | None => out = self.end(),
                },
                r = self.rtp.socket.recv_from(&mut abuf) => if let Ok((n, from)) = r {
                    self.relay(true, &abuf[..n], from);
                },
                r = recv_consulted(self.consulted.as_ref(), &mut bbuf) => if let Ok((n, from)) = r {
                    self.relay(false, &bbuf[..n], from);
                },
                Some(reply) = self.handovers.recv() => out = self.hand_over(reply),
                () = crate::server::wait::sleep_until(due) => out = self.on_timer(),
            }
            self.send_b(out).await;
            self.flush().await;
            self.source = None;
            if let Some(at) = self.ended {
                let done =
                    !self.dialog.waiting() && self.consulted.as_ref().is_none_or(|c| c.leg.done());
                if done || self.now() >= at + LINGER {
                    break;
                }
            }
        }
        self.sh.consults.remove(&self.routes[0]);
        for r in &self.routes {
            self.sh.remove_route(r);
        }
    }

    fn deadline(&self) -> Option<Duration> {
        let ring = self
            .consulted
            .as_ref()
            .filter(|c| !c.answered && self.ended.is_none())
            .map(|_| RING_FOR);
        let b = self.consulted.as_ref().and_then(|c| c.leg.deadline());
        let linger = self.ended.map(|at| at + LINGER);
        [self.dialog.poll_timeout(), b, ring, linger]
            .into_iter()
            .flatten()
            .min()
    }

    /// The call ends for both: our BYE (or CANCEL) to whoever is still on.
    fn end(&mut self) -> Vec<Vec<u8>> {
        if self.ended.is_some() {
            return Vec::new();
        }
        let now = self.now();
        self.ended = Some(now);
        self.dialog.hang_up(now);
        self.consulted
            .as_mut()
            .map(|c| c.leg.hang_up(now))
            .unwrap_or_default()
    }

    fn on_timer(&mut self) -> Vec<Vec<u8>> {
        let now = self.now();
        if let Some(FromCaller::AckTimeout) = self.dialog.on_timeout(now) {
            return self.end();
        }
        let Some(c) = &mut self.consulted else {
            return Vec::new();
        };
        let (mut out, ev) = c.leg.poll(now);
        if !c.answered && now >= RING_FOR && self.ended.is_none() {
            tracing::info!(agent = %self.agent, "the consulted agent did not answer");
            out.extend(self.end());
            return out;
        }
        out.extend(self.on_leg_event(ev));
        out
    }

    fn on_sip(&mut self, msg: SipMessage) -> Vec<Vec<u8>> {
        let now = self.now();
        let cid = match &msg {
            SipMessage::Request(r) => r.headers.call_id(),
            SipMessage::Response(r) => r.headers.call_id(),
        }
        .unwrap_or_default()
        .to_string();
        if cid == self.routes[0] {
            let source = self.source.as_ref().map_or(self.peer.addr(), Peer::addr);
            let heard = match msg {
                SipMessage::Response(r) => {
                    self.dialog.on_response(now, r);
                    None
                }
                SipMessage::Request(req) => self.dialog.on_request(now, req, source),
            };
            return match heard {
                Some(FromCaller::Confirmed) => {
                    self.rtp.confirm();
                    Vec::new()
                }
                Some(FromCaller::HungUp | FromCaller::Cancelled) => {
                    tracing::info!(from = %self.from, "the consulting agent hung up");
                    self.ended.get_or_insert(now);
                    self.consulted
                        .as_mut()
                        .map(|c| c.leg.hang_up(now))
                        .unwrap_or_default()
                }
                _ => Vec::new(),
            };
        }
        let Some(c) = self.consulted.as_mut().filter(|c| c.leg.call_id() == cid) else {
            return Vec::new();
        };
        let (mut out, ev) = match &msg {
            SipMessage::Response(r) => c.leg.on_response(now, r),
            SipMessage::Request(r) => c.leg.on_request_at(now, r),
        };
        out.extend(self.on_leg_event(ev));
        out
    }

    fn on_leg_event(&mut self, ev: Option<LegEvent>) -> Vec<Vec<u8>> {
        let Some(c) = &mut self.consulted else {
            return Vec::new();
        };
        match ev {
            Some(LegEvent::Answered(n)) => {
                c.answered = bridge::answered(&mut c.rtp, &c.leg, &n);
                if !c.answered {
                    return self.end();
                }
                tracing::info!(from = %self.from, agent = %self.agent, "consult call connected");
                Vec::new()
            }
            Some(LegEvent::Failed(status)) => {
                tracing::info!(agent = %self.agent, status, "the consulted agent did not take the call");
                self.end()
            }
            Some(LegEvent::HungUp) => {
                tracing::info!(agent = %self.agent, "the consulted agent hung up");
                let now = self.now();
                self.ended.get_or_insert(now);
                self.dialog.hang_up(now);
                Vec::new()
            }
            Some(LegEvent::Refer(_)) | None => Vec::new(),
        }
    }

    /// The caller's call asks for the consulted agent: handed over when they answered (the
    /// consulting agent's leg of this call is hung up), `None` otherwise.
    fn hand_over(&mut self, reply: Handover) -> Vec<Vec<u8>> {
        let ready = self.ended.is_none() && self.consulted.as_ref().is_some_and(|c| c.answered);
        if !ready {
            let _ = reply.send(None);
            return Vec::new();
        }
        let Some(c) = self.consulted.take() else {
            let _ = reply.send(None);
            return Vec::new();
        };
        // The caller's call routes the consulted leg from now.
        self.sh.remove_route(c.leg.call_id());
        self.routes.truncate(1);
        let taken = Taken {
            agent: self.agent.clone(),
            leg: c.leg,
            rtp: c.rtp,
        };
        match reply.send(Some(taken)) {
            Ok(()) => {
                tracing::info!(from = %self.from, agent = %self.agent, "attended transfer: the consulted agent takes the caller");
                let now = self.now();
                self.ended = Some(now);
                self.dialog.hang_up(now);
                Vec::new()
            }
            // The call went away meanwhile: the consult goes on as it was.
            Err(Some(t)) => {
                self.sh.add_route(t.leg.call_id(), self.tx.clone());
                self.routes.push(t.leg.call_id().to_string());
                self.consulted = Some(Consulted {
                    leg: t.leg,
                    rtp: t.rtp,
                    answered: true,
                });
                Vec::new()
            }
            Err(None) => Vec::new(),
        }
    }

    /// A datagram from one side: once the consulted agent answered, to the other side.
    fn relay(&mut self, from_consulting: bool, buf: &[u8], from: SocketAddr) {
        let Some(c) = &mut self.consulted else {
            return;
        };
        let forward = c.answered;
        let metrics = Arc::clone(&self.sh.metrics);
        let (src, dst) = if from_consulting {
            (&mut self.rtp, &mut c.rtp)
        } else {
            (&mut c.rtp, &mut self.rtp)
        };
        bridge::relay(src, dst, (buf, from), forward, &metrics);
    }

    /// SIP bytes for the consulted agent's phone.
    async fn send_b(&self, out: Vec<Vec<u8>>) {
        let Some(c) = &self.consulted else {
            return;
        };
        for b in out {
            self.sh.send_on_hop(c.leg.hop(), b).await;
        }
    }

    /// What the consulting agent's dialog has to send.
    async fn flush(&mut self) {
        while let Some((dest, bytes)) = self.dialog.poll_transmit() {
            let to = match dest {
                Dest::Caller => &self.peer,
                Dest::Source => self.source.as_ref().unwrap_or(&self.peer),
            };
            self.sh.transport.send(to, bytes).await;
        }
    }
}

/// Receives on the consulted agent's RTP port, or waits forever when it was handed over.
async fn recv_consulted(
    c: Option<&Consulted>,
    buf: &mut [u8],
) -> std::io::Result<(usize, SocketAddr)> {
    match c {
        Some(c) => c.rtp.socket.recv_from(buf).await,
        None => std::future::pending().await,
    }
}
