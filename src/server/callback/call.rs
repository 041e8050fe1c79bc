//! One try of a callback: ring the agent the ACD offered (their phone shows the callback's
//! context), and when they answer ("call now") call the customer through the queue's
//! callback trunk, then bridge the two: each side's audio is decoded and sent on to the other.
//! Both SIP legs are the agent leg's sans-IO [`AgentLeg`] (we are the UAC of both); an agent
//! in the browser console gets the preview and a Call now button instead of a ringing phone
//! (`console.rs`). This task moves the bytes, the media and the time.

use super::console::{self, Console, FromConsole};
use super::Attempt;
use crate::agents::{BrowserReply, ToConsole};
use crate::agents::{Offer, Reach, RingResult};
use crate::media::net::RtpLeg;
use crate::media::{linear_to_ulaw, Codec};
use crate::server::agent_leg::{AgentLeg, Context, Hop, LegEvent, SrtpOffer};
use crate::server::Shared;
use crate::server::{bridge, call};
use crate::sip::SipMessage;
use crate::store::CallbackRow;
use crate::webrtc::PeerEvent;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How long the customer's phone may ring.
const CUSTOMER_RING: Duration = Duration::from_secs(30);
/// How long the legs stay to finish their goodbyes once the try is over.
const LINGER: Duration = Duration::from_secs(4);

/// Where a try stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// The agent's phone rings until the deadline.
    RingingAgent(Duration),
    /// The agent took it; the customer's phone rings until the deadline.
    CallingCustomer(Duration),
    /// Both are talking since then.
    Bridged(Duration),
    /// Over.
    Over,
}

/// One side of the callback: its SIP leg and its media.
struct Side {
    leg: AgentLeg,
    rtp: RtpLeg,
    /// When its last packet came.
    heard: Duration,
}

/// A try in progress.
struct Try {
    sh: Arc<Shared>,
    started: Instant,
    stage: Stage,
    /// The agent's phone, or
    agent: Option<Side>,
    /// the agent's console.
    console: Option<Console>,
    customer: Option<Side>,
    /// The callback's id in the ACD.
    key: String,
    /// The callback being placed.
    row: CallbackRow,
    /// The agent offered it.
    agent_name: String,
    rx: mpsc::Receiver<call::Input>,
    tx: mpsc::Sender<call::Input>,
    routes: Vec<String>,
    result: Option<Attempt>,
    ended: Option<Duration>,
}

/// Places one try of callback `row` with the agent `offer` names (`key`: its id in the ACD).
pub(super) async fn place(sh: &Arc<Shared>, row: &CallbackRow, key: &str, offer: Offer) -> Attempt {
    match Try::start(sh, row, key, &offer).await {
        Ok(t) => t.run().await,
        Err(why) => {
            tracing::warn!(agent = %offer.agent, "the callback cannot ring the agent: {why}");
            Attempt::AgentDidNotTake
        }
    }
}

impl Try {
    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    /// Rings the agent.
    async fn start(
        sh: &Arc<Shared>,
        row: &CallbackRow,
        key: &str,
        offer: &Offer,
    ) -> Result<Try, String> {
        let (uri, hop, trunk) = match &offer.reach {
            Reach::Static(uri) => (
                uri.clone(),
                Hop::to(uri, None, crate::agents::uri_wants_tls(uri)).map_err(|e| e.to_string())?,
                None,
            ),
            Reach::Sip(c) => (
                c.uri.clone(),
                Hop::to(&c.uri, Some(c.addr), c.tls).map_err(|e| e.to_string())?,
                None,
            ),
            Reach::Trunk(t) => {
                let trunk = sh
                    .trunks
                    .get(&t.trunk)
                    .ok_or_else(|| format!("trunk {} is not configured", t.trunk))?;
                let hop = Hop::to(&trunk.proxy, None, trunk.tls).map_err(|e| e.to_string())?;
                (trunk.request_uri(&t.number), hop, Some(trunk.clone()))
            }
            Reach::Browser => {
                let console = console::ring(sh, row, key, &offer.agent).await?;
                tracing::info!(key, agent = %offer.agent, "callback offered on the console");
                let (tx, rx) = mpsc::channel(32);
                let who = (key, offer.agent.as_str());
                return Ok(Try::new(sh, row, who, None, Some(console), (tx, rx)));
            }
        };
        let via = sh.via_toward(&hop)?;
        let tls = hop.tls.is_some();
        let (rtp, sdp, keys) = crate::server::bridge::media_offer(sh, tls).await?;
        let required = sh
            .config
            .queues
            .get(&row.queue)
            .is_some_and(|q| q.require_srtp);
        let summary = row.context["summary"].as_str().unwrap_or_default();
        let summary = format!("Callback to {}. {summary}", row.number);
        let caller = format!("<sip:{}@callback.invalid>", row.number);
        let ctx = Context {
            call_id: &row.call_id,
            call_url: &format!("{}/api/calls/{}", sh.api_base, row.call_id),
            reason: "callback",
            summary: &summary,
            caller: &caller,
            language: &row.language,
            elderly: row.context["elderly"]
                .as_bool()
                .unwrap_or(false)
                .then_some("elderly mode"),
        };
        let sdp_offer = (sdp, SrtpOffer { keys, required });
        let (leg, bytes) = match trunk {
            Some(t) => AgentLeg::dial_trunk(
                Duration::ZERO,
                (&uri, &t.caller_id),
                hop,
                &via,
                sdp_offer,
                &ctx,
                t.credentials.clone(),
            ),
            None => AgentLeg::dial(Duration::ZERO, &uri, hop, &via, sdp_offer, &ctx),
        }
        .map_err(|e| format!("cannot call {uri}: {e}"))?;
        let (tx, rx) = mpsc::channel(32);
        sh.add_route(leg.call_id(), tx.clone());
        tracing::info!(key, agent = %uri, "callback rings the agent");
        let mut t = Try::new(sh, row, (key, &offer.agent), None, None, (tx, rx));
        t.routes.push(leg.call_id().to_string());
        sh.send_on_hop(leg.hop(), bytes).await;
        t.agent = Some(Side {
            leg,
            rtp,
            heard: Duration::ZERO,
        });
        Ok(t)
    }

    fn new(
        sh: &Arc<Shared>,
        row: &CallbackRow,
        (key, agent_name): (&str, &str),
        agent: Option<Side>,
        console: Option<Console>,
        (tx, rx): (mpsc::Sender<call::Input>, mpsc::Receiver<call::Input>),
    ) -> Try {
        let ring = sh
            .config
            .queues
            .get(&row.queue)
            .map_or(20.0, |q| q.ring_timeout_seconds);
        Try {
            sh: Arc::clone(sh),
            started: Instant::now(),
            stage: Stage::RingingAgent(Duration::from_secs_f64(ring.max(1.0))),
            routes: Vec::new(),
            agent,
            console,
            customer: None,
            key: key.to_string(),
            row: row.clone(),
            agent_name: agent_name.to_string(),
            rx,
            tx,
            result: None,
            ended: None,
        }
    }

    /// Serves the try until both legs are done; returns how it went.
    async fn run(mut self) -> Attempt {
        let mut abuf = [0u8; 2048];
        let mut cbuf = [0u8; 2048];
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        loop {
            let due = self.deadline().map(|d| self.started + d);
            let mut out: Vec<(bool, Vec<Vec<u8>>)> = Vec::new();
            tokio::select! {
                m = self.rx.recv() => if let Some(call::Input::Sip(msg, _)) = m {
                    out = self.on_sip(*msg).await;
                },
                r = recv_on(self.agent.as_ref(), &mut abuf) => if let Ok((n, from)) = r {
                    self.relay(true, &abuf[..n], from).await;
                },
                r = recv_on(self.customer.as_ref(), &mut cbuf) => if let Ok((n, from)) = r {
                    self.relay(false, &cbuf[..n], from).await;
                },
                c = console::next(&mut self.console) => out = self.on_console(c).await,
                () = crate::server::wait::sleep_until(due) => out = self.on_timer().await,
                _ = tick.tick() => out = self.check_media(),
            }
            for (to_agent, bytes) in out {
                self.send(to_agent, bytes).await;
            }
            if let Some(at) = self.ended {
                let legs_done = self.agent.as_ref().is_none_or(|a| a.leg.done())
                    && self.customer.as_ref().is_none_or(|c| c.leg.done());
                if legs_done || self.now() >= at + LINGER {
                    break;
                }
            }
        }
        for r in &self.routes {
            self.sh.remove_route(r);
        }
        self.result.take().unwrap_or(Attempt::AgentDidNotTake)
    }

    fn deadline(&self) -> Option<Duration> {
        let stage = match self.stage {
            Stage::RingingAgent(d) | Stage::CallingCustomer(d) => Some(d),
            _ => None,
        };
        let customer = self.customer.as_ref().and_then(|c| c.leg.deadline());
        let agent = self.agent.as_ref().and_then(|a| a.leg.deadline());
        [stage, agent, customer].into_iter().flatten().min()
    }

    async fn send(&self, to_agent: bool, bytes: Vec<Vec<u8>>) {
        let side = if to_agent {
            &self.agent
        } else {
            &self.customer
        };
        let Some(hop) = side.as_ref().map(|s| s.leg.hop()) else {
            return;
        };
        for b in bytes {
            self.sh.send_on_hop(hop, b).await;
        }
    }

    async fn on_sip(&mut self, msg: SipMessage) -> Vec<(bool, Vec<Vec<u8>>)> {
        let now = self.now();
        let cid = match &msg {
            SipMessage::Request(r) => r.headers.call_id(),
            SipMessage::Response(r) => r.headers.call_id(),
        }
        .unwrap_or_default()
        .to_string();
        let to_agent = self.agent.as_ref().is_some_and(|a| a.leg.call_id() == cid);
        let side = if to_agent {
            self.agent.as_mut()
        } else {
            self.customer.as_mut().filter(|c| c.leg.call_id() == cid)
        };
        let Some(side) = side else {
            return Vec::new();
        };
        let (send, ev) = match &msg {
            SipMessage::Response(r) => side.leg.on_response(now, r),
            SipMessage::Request(r) => side.leg.on_request_at(now, r),
        };
        let mut out = vec![(to_agent, send)];
        if let Some(ev) = ev {
            out.extend(self.on_leg_event(to_agent, ev).await);
        }
        out
    }

    async fn on_timer(&mut self) -> Vec<(bool, Vec<Vec<u8>>)> {
        let now = self.now();
        let mut out = Vec::new();
        if let Some(a) = &mut self.agent {
            let (send, ev) = a.leg.poll(now);
            out.push((true, send));
            if let Some(ev) = ev {
                out.extend(self.on_leg_event(true, ev).await);
            }
        }
        if let Some(c) = &mut self.customer {
            let (send, ev) = c.leg.poll(now);
            out.push((false, send));
            if let Some(ev) = ev {
                out.extend(self.on_leg_event(false, ev).await);
            }
        }
        match self.stage {
            Stage::RingingAgent(d) if now >= d => {
                tracing::info!("the agent did not answer the callback");
                out.extend(self.end(Attempt::AgentDidNotTake));
            }
            Stage::CallingCustomer(d) if now >= d => {
                out.extend(self.end(Attempt::NoCustomer("the customer did not answer".into())));
            }
            _ => {}
        }
        out
    }

    /// What a leg reported.
    async fn on_leg_event(&mut self, from_agent: bool, ev: LegEvent) -> Vec<(bool, Vec<Vec<u8>>)> {
        let now = self.now();
        match (self.stage, from_agent, ev) {
            (Stage::RingingAgent(_), true, LegEvent::Answered(n)) => {
                let usable = self.agent.as_mut().is_some_and(|a| {
                    a.heard = now;
                    crate::server::bridge::answered(&mut a.rtp, &a.leg, &n)
                });
                if !usable {
                    return self.end(Attempt::AgentDidNotTake);
                }
                self.agent_took_it().await
            }
            (Stage::RingingAgent(_), true, LegEvent::Failed(_)) => {
                self.stage = Stage::Over;
                self.result = Some(Attempt::AgentDidNotTake);
                self.ended = Some(now);
                Vec::new()
            }
            (Stage::CallingCustomer(_), false, LegEvent::Answered(n)) => {
                let ok = match &mut self.customer {
                    Some(c) => {
                        c.heard = now;
                        crate::server::bridge::answered(&mut c.rtp, &c.leg, &n)
                    }
                    None => false,
                };
                if !ok {
                    return self.end(Attempt::NoCustomer(
                        "the customer's media cannot be used".into(),
                    ));
                }
                tracing::info!(number = %self.row.number, "callback bridged");
                self.stage = Stage::Bridged(now);
                Vec::new()
            }
            (Stage::CallingCustomer(_), false, LegEvent::Failed(status)) => {
                let why = match status {
                    486 | 600 => "the customer was busy".to_string(),
                    0 | 408 | 480 | 487 => "the customer did not answer".to_string(),
                    s => format!("the customer's call failed ({s})"),
                };
                self.end(Attempt::NoCustomer(why))
            }
            (Stage::CallingCustomer(_), true, LegEvent::HungUp) => self.end(Attempt::NoCustomer(
                "the agent hung up before the customer answered".into(),
            )),
            (Stage::Bridged(since), _, LegEvent::HungUp) => {
                self.end(Attempt::Talked(now.saturating_sub(since)))
            }
            _ => Vec::new(),
        }
    }

    /// The agent answered ("call now"): they are busy with this callback, and the customer is
    /// called.
    async fn agent_took_it(&mut self) -> Vec<(bool, Vec<Vec<u8>>)> {
        let now = self.now();
        self.sh
            .agents
            .ring_result(&self.key, &self.agent_name, RingResult::Answered);
        match self.call_customer().await {
            Ok(()) => {
                self.stage = Stage::CallingCustomer(now + CUSTOMER_RING);
                Vec::new()
            }
            Err(why) => {
                tracing::error!("the callback cannot call the customer: {why}");
                self.end(Attempt::NoCustomer(why))
            }
        }
    }

    /// What the agent's console did or its media said.
    async fn on_console(&mut self, what: FromConsole) -> Vec<(bool, Vec<Vec<u8>>)> {
        let now = self.now();
        let stage = self.stage;
        let Some(c) = self.console.as_mut() else {
            return Vec::new();
        };
        match what {
            FromConsole::Reply(Some(BrowserReply::Answer { sdp })) => {
                if let Err(e) = c.peer.accept_answer(&sdp).await {
                    tracing::warn!(agent = %self.agent_name, "console answer unusable: {e}");
                    return self.end(Attempt::AgentDidNotTake);
                }
                c.answered = true;
                Vec::new()
            }
            FromConsole::Peer(Some(PeerEvent::Connected)) => {
                c.connected = true;
                c.heard = now;
                if c.answered && matches!(stage, Stage::RingingAgent(_)) {
                    return self.agent_took_it().await;
                }
                Vec::new()
            }
            FromConsole::Peer(Some(PeerEvent::Audio(payload))) => {
                c.heard = now;
                if let (Stage::Bridged(_), Some(customer)) = (stage, self.customer.as_mut()) {
                    let mut pcm = [0i16; crate::media::net::FRAME];
                    let n = Codec::Pcmu.decode(&payload, &mut pcm);
                    customer.rtp.send_pcm_now(&pcm[..n], false);
                }
                Vec::new()
            }
            FromConsole::Peer(Some(PeerEvent::Digit(_)))
            | FromConsole::Reply(Some(BrowserReply::Transfer { .. })) => Vec::new(),
            // Declined, hung up, closed, or the media went away.
            _ => {
                let result = match stage {
                    Stage::Bridged(since) => Attempt::Talked(now.saturating_sub(since)),
                    Stage::CallingCustomer(_) => {
                        Attempt::NoCustomer("the agent hung up before the customer answered".into())
                    }
                    _ => Attempt::AgentDidNotTake,
                };
                self.end(result)
            }
        }
    }

    /// Calls the customer through the queue's callback trunk.
    async fn call_customer(&mut self) -> Result<(), String> {
        let trunk_name = self
            .sh
            .config
            .queues
            .get(&self.row.queue)
            .and_then(|q| q.callback_trunk.clone())
            .ok_or("the queue has no callback_trunk")?;
        let trunk = self
            .sh
            .trunks
            .get(&trunk_name)
            .ok_or_else(|| format!("trunk {trunk_name} is not configured"))?
            .clone();
        let hop = Hop::to(&trunk.proxy, None, trunk.tls).map_err(|e| e.to_string())?;
        let via = self.sh.via_toward(&hop)?;
        let (rtp, sdp, _) = crate::server::bridge::media_offer(&self.sh, false).await?;
        let uri = trunk.request_uri(&self.row.number);
        let (leg, bytes) = AgentLeg::dial_customer(
            self.now(),
            (&uri, &trunk.caller_id),
            hop,
            &via,
            sdp,
            trunk.credentials.clone(),
        )
        .map_err(|e| format!("cannot call {uri}: {e}"))?;
        self.sh.add_route(leg.call_id(), self.tx.clone());
        self.routes.push(leg.call_id().to_string());
        self.sh.send_on_hop(leg.hop(), bytes).await;
        self.customer = Some(Side {
            leg,
            rtp,
            heard: Duration::ZERO,
        });
        Ok(())
    }

    /// Ends the try with `result`: both legs hung up (or cancelled).
    fn end(&mut self, result: Attempt) -> Vec<(bool, Vec<Vec<u8>>)> {
        if self.ended.is_some() {
            return Vec::new();
        }
        let now = self.now();
        self.stage = Stage::Over;
        self.ended = Some(now);
        self.result = Some(result);
        let mut out = Vec::new();
        if let Some(a) = &mut self.agent {
            out.push((true, a.leg.hang_up(now)));
        }
        if let Some(c) = &mut self.customer {
            out.push((false, c.leg.hang_up(now)));
        }
        if let Some(c) = self.console.take() {
            let msg = if c.connected {
                ToConsole::Ended {
                    call_id: self.key.clone(),
                    by: "line".into(),
                }
            } else {
                ToConsole::Cancel {
                    call_id: self.key.clone(),
                }
            };
            self.sh.agents.browser_done(&c.agent, msg);
            console::close_later(c.peer);
        }
        out
    }

    /// Bridged: a side silent longer than `[media] agent_rtp_timeout_seconds` has dropped.
    fn check_media(&mut self) -> Vec<(bool, Vec<Vec<u8>>)> {
        let Stage::Bridged(since) = self.stage else {
            return Vec::new();
        };
        let now = self.now();
        let limit = Duration::from_secs_f64(self.sh.config.media.agent_rtp_timeout_seconds);
        let customer_heard = self.customer.as_ref().map_or(now, |c| c.heard);
        let agent_heard = match (&self.agent, &self.console) {
            (Some(a), _) => a.heard,
            (None, Some(c)) => c.heard,
            (None, None) => now,
        };
        if now >= agent_heard + limit || now >= customer_heard + limit {
            tracing::warn!("no RTP on a callback leg: both are hung up");
            return self.end(Attempt::Talked(now.saturating_sub(since)));
        }
        Vec::new()
    }

    /// A datagram on one side's port: once bridged, its audio goes to the other side (the
    /// agent's phone, or their console as PCMU over WebRTC).
    async fn relay(&mut self, from_agent: bool, buf: &[u8], from: SocketAddr) {
        let now = self.now();
        let bridged = matches!(self.stage, Stage::Bridged(_));
        let metrics = Arc::clone(&self.sh.metrics);
        let Some(customer) = self.customer.as_mut() else {
            return;
        };
        let heard = match (from_agent, self.agent.as_mut()) {
            (true, Some(a)) => {
                let ok = bridge::relay(
                    &mut a.rtp,
                    &mut customer.rtp,
                    (buf, from),
                    bridged,
                    &metrics,
                );
                if ok {
                    a.heard = now;
                }
                return;
            }
            (true, None) => return,
            (false, Some(a)) => bridge::relay(
                &mut customer.rtp,
                &mut a.rtp,
                (buf, from),
                bridged,
                &metrics,
            ),
            (false, None) => match bridge::receive(&mut customer.rtp, (buf, from), &metrics) {
                Some(audio) => {
                    if let (true, Some((pcm, n)), Some(c)) = (bridged, audio, &self.console) {
                        let mut frame = [0xFFu8; crate::media::net::FRAME];
                        for (o, s) in frame.iter_mut().zip(&pcm[..n]) {
                            *o = linear_to_ulaw(*s);
                        }
                        let _ = c.peer.send_pcmu(&frame[..n]).await;
                    }
                    true
                }
                None => false,
            },
        };
        if heard {
            customer.heard = now;
        }
    }
}

/// Receives on a side's RTP port, or waits forever when there is none.
async fn recv_on(side: Option<&Side>, buf: &mut [u8]) -> std::io::Result<(usize, SocketAddr)> {
    match side {
        Some(s) => s.rtp.socket.recv_from(buf).await,
        None => std::future::pending().await,
    }
}
