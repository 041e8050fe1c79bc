//! One supervisor's leg on a call. Either the supervisor dialled a feature code (we answer:
//! the caller's sans-IO [`CallerDialog`], the same transactions, timers and matching a caller
//! gets) or the board asked us to ring their registered phone (we call: the agent leg's
//! sans-IO [`AgentLeg`], as an agent is rung). This task only moves the leg's SIP, reads the
//! supervisor's RTP into the call's [`Monitor`] and turns their keys into mode switches.

use super::mix::{Mode, Monitor};
use crate::media::net::{PeerTrust, RtpLeg, RtpSocket, FRAME};
use crate::media::{parse_rtp, Rfc4733Receiver};
use crate::server::agent_leg::{AgentLeg, Context, Hop, LegEvent};
use crate::server::call::core::{info_digit, CallerDialog, Dest, FromCaller};
use crate::server::call::{self, MediaSlot};
use crate::server::transport::Peer;
use crate::server::Shared;
use crate::sip::{Negotiated, SipMessage};
use serde_json::json;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How often the task checks that the call still has the supervisor on it.
const CHECK_EVERY: Duration = Duration::from_millis(200);
/// How long an ended leg stays to answer retransmissions and its BYE's answer.
const LINGER: Duration = Duration::from_secs(4);
/// How long the supervisor's phone rings before we give up.
const RING_FOR: Duration = Duration::from_secs(30);

/// The supervisor's SIP side.
enum Leg {
    /// They dialled in: we are the UAS.
    DialledIn {
        dialog: Box<CallerDialog>,
        /// Where their INVITE came from.
        peer: Peer,
    },
    /// We rang their phone: we are the UAC; the monitor joins the call once they answer.
    Rung {
        leg: Box<AgentLeg>,
        /// What joins the call on the answer: the mode and the RTP trust for their phone.
        joining: Option<(Mode, PeerTrust)>,
        rung_at: Duration,
    },
}

/// Takes monitor `id` off the call (if it is still there) and stores why.
pub(super) fn detach(slot: &MediaSlot, id: u32, why: &str) {
    let gone = {
        let mut m = slot.lock();
        match &m.monitor {
            Some(mon) if mon.id == id => m.monitor.take(),
            _ => None,
        }
    };
    if let Some(mon) = gone {
        slot.note(
            "monitor_end",
            json!({ "supervisor": mon.supervisor, "why": why }),
        );
    }
}

/// Puts `monitor` on the call in `slot`: `Err` (in words) when the call is no longer bridged
/// or another supervisor is on it.
pub(super) fn attach(slot: &MediaSlot, monitor: Monitor, agent: &str) -> Result<(), String> {
    let (supervisor, mode) = (monitor.supervisor.clone(), monitor.mode());
    {
        let mut m = slot.lock();
        if !m.playout.is_bridged() {
            return Err("the call is no longer with the agent".into());
        }
        if let Some(other) = &m.monitor {
            return Err(format!("{} is already on the call", other.supervisor));
        }
        m.monitor = Some(monitor);
    }
    slot.note(
        "monitor",
        json!({ "supervisor": supervisor, "mode": mode.as_str(), "agent": agent }),
    );
    Ok(())
}

/// A supervisor's leg in progress.
pub(super) struct Session {
    sh: Arc<Shared>,
    leg: Leg,
    /// Where the message being handled came from.
    source: Option<Peer>,
    slot: Weak<MediaSlot>,
    /// Our monitor on the call (a later supervisor's is another).
    id: u32,
    supervisor: String,
    agent: String,
    rtp: Arc<RtpSocket>,
    rx: mpsc::Receiver<call::Input>,
    rfc4733: Rfc4733Receiver,
    started: Instant,
    /// When the leg ended (BYE either way, a failed ring).
    ended: Option<Instant>,
    sip_call_id: String,
    /// The call's id, for the log.
    pub call_id: String,
}

/// What a new session starts from, besides its leg.
pub(super) struct Joined {
    pub slot: Weak<MediaSlot>,
    pub id: u32,
    pub supervisor: String,
    pub agent: String,
    pub rtp: Arc<RtpSocket>,
    pub call_id: String,
}

impl Session {
    /// A session for a supervisor who dialled in and is on the call already (`dialog` is
    /// answered when the task runs).
    pub fn dialled_in(sh: &Arc<Shared>, j: Joined, dialog: CallerDialog, peer: Peer) -> Session {
        let sip_call_id = dialog
            .invite()
            .headers
            .call_id()
            .unwrap_or_default()
            .to_string();
        let dialog = Box::new(dialog);
        Session::new(sh, j, Leg::DialledIn { dialog, peer }, sip_call_id)
    }

    /// A session that rings the supervisor's phone at `hop` (`uri`, their registered
    /// Contact) with our `offer`; the monitor (`j.id`, `mode`) joins the call on the answer.
    /// The INVITE goes when the task runs.
    pub fn ring(
        sh: &Arc<Shared>,
        j: Joined,
        (uri, hop): (&str, Hop),
        offer: String,
        mode: Mode,
    ) -> Result<(Session, Vec<u8>), String> {
        let via = match &hop.tls {
            Some(_) => sh
                .transport
                .tls_addr()
                .map(|a| crate::sip::LocalVia {
                    transport: "TLS".into(),
                    port: a.port(),
                    ..sh.via_udp.clone()
                })
                .ok_or("the phone registered over TLS and no TLS listener runs")?,
            None => sh.via_udp.clone(),
        };
        let summary = format!("{} the call with {}", mode.as_str(), j.agent);
        let ctx = Context {
            call_id: &j.call_id,
            call_url: &format!("{}/api/calls/{}", sh.api_base, j.call_id),
            reason: "monitor",
            summary: &summary,
            caller: "<sip:monitor@humanline.invalid>",
            language: "en",
            elderly: None,
        };
        let trust = PeerTrust {
            signalling: Some(hop.addr.ip()),
            behind_proxy: false,
            private_targets: sh.config.media.allow_private_targets,
        };
        let (leg, bytes) = AgentLeg::dial(
            Duration::ZERO,
            uri,
            hop,
            &via,
            (offer, Default::default()),
            &ctx,
        )
        .map_err(|e| format!("cannot call {uri}: {e}"))?;
        let sip_call_id = leg.call_id().to_string();
        let rung = Leg::Rung {
            leg: Box::new(leg),
            joining: Some((mode, trust)),
            rung_at: Duration::ZERO,
        };
        Ok((Session::new(sh, j, rung, sip_call_id), bytes))
    }

    fn new(sh: &Arc<Shared>, j: Joined, leg: Leg, sip_call_id: String) -> Session {
        let (tx, rx) = mpsc::channel(32);
        sh.add_route(&sip_call_id, tx);
        Session {
            sh: Arc::clone(sh),
            leg,
            source: None,
            slot: j.slot,
            id: j.id,
            supervisor: j.supervisor,
            agent: j.agent,
            rtp: j.rtp,
            rx,
            rfc4733: Rfc4733Receiver::new(),
            started: Instant::now(),
            ended: None,
            sip_call_id,
            call_id: j.call_id,
        }
    }

    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    /// Serves the leg until it is over; `first` is sent first (our INVITE when we ring).
    pub async fn run(mut self, first: Option<Vec<u8>>) {
        if let Leg::DialledIn { dialog, .. } = &mut self.leg {
            dialog.answer(Duration::ZERO);
        }
        if let Some(bytes) = first {
            self.send_leg(vec![bytes]).await;
        }
        self.flush().await;
        let mut check = tokio::time::interval(CHECK_EVERY);
        let mut buf = [0u8; 2048];
        loop {
            let due = self.deadline().map(|d| self.started + d);
            let timer = async move {
                match due {
                    Some(t) => tokio::time::sleep_until(t.into()).await,
                    None => std::future::pending().await,
                }
            };
            let mut out = Vec::new();
            tokio::select! {
                m = self.rx.recv() => match m {
                    Some(call::Input::Sip(msg, peer)) => {
                        self.source = Some(peer);
                        out = self.on_sip(*msg);
                    }
                    Some(call::Input::Shutdown) | None => out = self.end("the server stopped"),
                },
                r = self.rtp.readable() => {
                    if r.is_ok() {
                        for _ in 0..8 {
                            match self.rtp.try_recv_from(&mut buf) {
                                Ok((n, from)) => self.on_rtp(&buf[..n], from),
                                Err(_) => break,
                            }
                        }
                    }
                }
                () = timer => out = self.on_timer(),
                _ = check.tick() => {
                    if self.ended.is_none() && !self.on_the_call() {
                        tracing::info!("the agent's leg ended or the board stopped it: the supervisor is hung up");
                        out = self.end("the agent's leg ended");
                    }
                }
            }
            self.send_leg(out).await;
            self.flush().await;
            self.source = None;
            if let Some(at) = self.ended {
                if !self.waiting() || at.elapsed() >= LINGER {
                    break;
                }
            }
        }
        self.sh.remove_route(&self.sip_call_id);
        if let Some(slot) = self.slot.upgrade() {
            detach(&slot, self.id, "the supervisor's leg ended");
        }
    }

    fn deadline(&self) -> Option<Duration> {
        match &self.leg {
            Leg::DialledIn { dialog, .. } => dialog.poll_timeout(),
            Leg::Rung {
                leg,
                joining,
                rung_at,
            } => {
                let ring_end = joining.is_some().then_some(*rung_at + RING_FOR);
                [leg.deadline(), ring_end].into_iter().flatten().min()
            }
        }
    }

    fn waiting(&self) -> bool {
        match &self.leg {
            Leg::DialledIn { dialog, .. } => dialog.waiting(),
            Leg::Rung { leg, .. } => !leg.done(),
        }
    }

    fn on_timer(&mut self) -> Vec<Vec<u8>> {
        let now = self.now();
        match &mut self.leg {
            Leg::DialledIn { dialog, .. } => {
                if let Some(FromCaller::AckTimeout) = dialog.on_timeout(now) {
                    return self.end("no ACK from the supervisor's phone");
                }
                Vec::new()
            }
            Leg::Rung {
                leg,
                joining,
                rung_at,
            } => {
                let (mut out, ev) = leg.poll(now);
                if joining.is_some() && now >= *rung_at + RING_FOR {
                    tracing::info!("the supervisor's phone did not answer");
                    out.extend(self.end("no answer"));
                    return out;
                }
                out.extend(self.on_leg_event(ev));
                out
            }
        }
    }

    /// Whether our monitor is still on the call (while ringing: whether the call still is).
    fn on_the_call(&self) -> bool {
        let Some(slot) = self.slot.upgrade() else {
            return false;
        };
        let m = slot.lock();
        match &self.leg {
            Leg::Rung {
                joining: Some(_), ..
            } => m.playout.is_bridged(),
            _ => m.monitor.as_ref().is_some_and(|m| m.id == self.id),
        }
    }

    /// The supervisor's leg ends: off the call, and our BYE (or CANCEL) unless they ended
    /// it. Returns the bytes for a rung phone (a dialled-in leg queues its own).
    fn end(&mut self, why: &str) -> Vec<Vec<u8>> {
        if self.ended.is_some() {
            return Vec::new();
        }
        self.ended = Some(Instant::now());
        if let Some(slot) = self.slot.upgrade() {
            detach(&slot, self.id, why);
        }
        let now = self.now();
        match &mut self.leg {
            Leg::DialledIn { dialog, .. } => {
                dialog.hang_up(now);
                Vec::new()
            }
            Leg::Rung { leg, joining, .. } => {
                *joining = None;
                leg.hang_up(now)
            }
        }
    }

    /// The supervisor ended the leg (BYE): off the call.
    fn hung_up(&mut self) {
        if self.ended.is_none() {
            self.ended = Some(Instant::now());
            if let Some(slot) = self.slot.upgrade() {
                detach(&slot, self.id, "the supervisor hung up");
            }
        }
    }

    fn on_sip(&mut self, msg: SipMessage) -> Vec<Vec<u8>> {
        let now = self.now();
        match &mut self.leg {
            Leg::DialledIn { dialog, peer } => {
                let source = self.source.as_ref().map_or(peer.addr(), Peer::addr);
                let heard = match msg {
                    SipMessage::Response(r) => {
                        dialog.on_response(now, r);
                        None
                    }
                    SipMessage::Request(req) => dialog.on_request(now, req, source),
                };
                match heard {
                    Some(FromCaller::Confirmed) => self.with_monitor(|m| m.leg.confirm()),
                    Some(FromCaller::Reoffer(n)) => self.with_monitor(|m| m.leg.renegotiate(&n)),
                    Some(FromCaller::Key(k)) => self.key(k),
                    Some(FromCaller::HungUp) => self.hung_up(),
                    Some(FromCaller::Cancelled) => return self.end("the supervisor cancelled"),
                    Some(FromCaller::AckTimeout | FromCaller::Stranger(_)) | None => {}
                }
                Vec::new()
            }
            Leg::Rung { leg, .. } => {
                let (mut out, ev) = match &msg {
                    SipMessage::Response(r) => leg.on_response(now, r),
                    SipMessage::Request(r) => leg.on_request_at(now, r),
                };
                if let SipMessage::Request(r) = &msg {
                    if r.method == crate::sip::Method::Info {
                        if let Some(k) = info_digit(r) {
                            self.key(k);
                        }
                    }
                }
                out.extend(self.on_leg_event(ev));
                out
            }
        }
    }

    /// What the rung phone's leg reported.
    fn on_leg_event(&mut self, ev: Option<LegEvent>) -> Vec<Vec<u8>> {
        match ev {
            Some(LegEvent::Answered(n)) => self.answered(&n),
            Some(LegEvent::Failed(status)) => {
                tracing::info!(status, "the supervisor's phone did not take the call");
                self.ended = Some(Instant::now());
                if let Leg::Rung { joining, .. } = &mut self.leg {
                    *joining = None;
                }
                Vec::new()
            }
            Some(LegEvent::HungUp) => {
                self.hung_up();
                Vec::new()
            }
            Some(LegEvent::Refer(_)) | None => Vec::new(),
        }
    }

    /// The rung phone answered: the monitor joins the call (or the phone is hung up when the
    /// call is gone or another supervisor got there first).
    fn answered(&mut self, n: &Negotiated) -> Vec<Vec<u8>> {
        let Leg::Rung { joining, .. } = &mut self.leg else {
            return Vec::new();
        };
        let Some((mode, trust)) = joining.take() else {
            return Vec::new();
        };
        let mut rtp = RtpLeg::on(Arc::clone(&self.rtp), n, trust);
        // Their answer came from their SIP address.
        rtp.confirm();
        let mut monitor = Monitor::new(rtp, self.supervisor.clone(), mode);
        monitor.id = self.id;
        let joined = match self.slot.upgrade() {
            Some(slot) => attach(&slot, monitor, &self.agent),
            None => Err("the call ended".into()),
        };
        match joined {
            Ok(()) => {
                tracing::info!(supervisor = %self.supervisor, agent = %self.agent, mode = mode.as_str(), "supervisor joined a call from the board");
                Vec::new()
            }
            Err(why) => {
                tracing::info!("the supervisor answered too late: {why}");
                self.end(&why)
            }
        }
    }

    fn with_monitor(&self, f: impl FnOnce(&mut Monitor)) {
        if let Some(slot) = self.slot.upgrade() {
            let mut m = slot.lock();
            if let Some(mon) = m.monitor.as_mut().filter(|m| m.id == self.id) {
                f(mon);
            }
        }
    }

    /// A key from the supervisor: 1, 2, 3 switch the mode; others do nothing.
    fn key(&mut self, key: char) {
        if let (Some(mode), Some(slot)) = (Mode::from_key(key), self.slot.upgrade()) {
            switch(&slot, self.id, mode);
        }
    }

    /// A datagram on the supervisor's RTP port: their voice for the call, or a key.
    fn on_rtp(&mut self, buf: &[u8], from: std::net::SocketAddr) {
        let Some(slot) = self.slot.upgrade() else {
            return;
        };
        let metrics = &self.sh.metrics;
        let key = {
            let mut m = slot.lock();
            let Some(mon) = m.monitor.as_mut().filter(|m| m.id == self.id) else {
                return;
            };
            let Some(opened) = mon.leg.open(buf, from, metrics) else {
                return;
            };
            let Some(p) = parse_rtp(&opened) else {
                return;
            };
            if !mon.leg.admit(from, p.ssrc).is_peer() {
                metrics.rtp_strangers_total.fetch_add(1, Relaxed);
                return;
            }
            metrics.rtp_received_total.fetch_add(1, Relaxed);
            if Some(p.payload_type) == mon.leg.dtmf_pt {
                self.rfc4733.on_packet(p.timestamp, p.payload)
            } else {
                if p.payload_type == mon.leg.codec.payload_type() {
                    let mut pcm = [0i16; FRAME];
                    let n = mon.leg.codec.decode(p.payload, &mut pcm);
                    mon.heard(&pcm[..n]);
                }
                None
            }
        };
        if let Some(k) = key {
            self.key(k);
        }
    }

    /// Sends bytes of a rung phone's leg.
    async fn send_leg(&self, out: Vec<Vec<u8>>) {
        let Leg::Rung { leg, .. } = &self.leg else {
            return;
        };
        let hop = leg.hop();
        let peer = match &hop.tls {
            None => Some(Peer::Udp(hop.addr)),
            Some(t) => self.sh.transport.tls_peer(hop.addr, t.connect, &t.name),
        };
        let Some(peer) = peer else {
            return;
        };
        for bytes in out {
            self.sh.transport.send(&peer, bytes).await;
        }
    }

    /// Sends what a dialled-in leg's dialog has for the supervisor's phone.
    async fn flush(&mut self) {
        let Leg::DialledIn { dialog, peer } = &mut self.leg else {
            return;
        };
        while let Some((dest, bytes)) = dialog.poll_transmit() {
            let to = match dest {
                Dest::Caller => &*peer,
                Dest::Source => self.source.as_ref().unwrap_or(peer),
            };
            self.sh.transport.send(to, bytes).await;
        }
    }
}

/// Switches monitor `id` on the call in `slot` to `mode` (stored when it changed); false when
/// that monitor is not on the call.
pub(super) fn switch(slot: &MediaSlot, id: u32, mode: Mode) -> bool {
    let changed = {
        let mut m = slot.lock();
        m.monitor
            .as_mut()
            .filter(|m| m.id == id)
            .map(|mon| mon.set_mode(mode).then(|| mon.supervisor.clone()))
    };
    match changed {
        Some(Some(supervisor)) => {
            tracing::info!(%supervisor, mode = mode.as_str(), "monitoring mode switched");
            slot.note(
                "monitor_mode",
                json!({ "supervisor": supervisor, "mode": mode.as_str() }),
            );
            true
        }
        Some(None) => true,
        None => false,
    }
}
