//! One web call: the page's WebSocket, its WebRTC peer, and the SIP call the gateway places to
//! the server's own SIP address for it. Thin IO around [`AgentLeg`] (the sans-IO UAC),
//! [`LineMedia`] (RTP relay and key encoder) and [`super::ws`] (frames).
//!
//! Order of events: offer to the page → its answer → the peer connects → INVITE → 200 OK →
//! audio and keys relayed both ways until someone hangs up. Whoever goes first, everything
//! goes: a hang-up on the page, a closed socket or a lost peer sends BYE (CANCEL while
//! ringing); the line's BYE or refusal ends the page's call with the reason in words.
//!
//! Captions: before the INVITE leaves, the call subscribes to [`super::captions`] under the
//! INVITE's own (random) Call-ID; the call task it reaches publishes there, and each caption
//! goes to the page as a `caption` frame until either side ends.

use super::captions::{Caption, Subscription};
use super::relay::{LineMedia, MAX_FRAME};
use super::ws::{self as proto, FromPage, ToPage};
use super::{PhoneGateway, CHANNEL_HEADER, CHANNEL_WEBRTC};
use crate::server::agent_leg::{AgentLeg, LegEvent};
use crate::server::wait::{recv_opt, sleep_until};
use crate::sip::{
    new_branch, new_call_id, new_tag, parse, LocalVia, Method, NameAddr, RequestBuilder, SipMessage,
};
use crate::webrtc::{MediaPeer, PeerEvent};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;

/// How long the page may take to answer our offer (the microphone permission prompt).
const ANSWER_WAIT: Duration = Duration::from_secs(60);
/// How long ICE and DTLS may take once the page answered.
const CONNECT_WAIT: Duration = Duration::from_secs(20);
/// Longest goodbye to the line once the call is over (its answer to our BYE or CANCEL); the
/// leg normally finishes sooner, this only bounds a leg that never does.
const LINGER: Duration = Duration::from_secs(8);
/// How often the page is told where its call is.
const STATE_EVERY: Duration = Duration::from_millis(500);

/// Where a web call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Offer sent; waiting for the page's answer.
    Offered,
    /// Answer applied; waiting for the peer to connect.
    Connecting,
    /// INVITE sent.
    Dialling,
    /// The line answered: media flows.
    InCall,
    /// Over for the page; the SIP leg may still be saying goodbye.
    Ending,
}

struct WebCall {
    gw: Arc<PhoneGateway>,
    ws: WebSocket,
    ws_open: bool,
    peer: MediaPeer,
    phase: Phase,
    phase_deadline: Option<Instant>,
    started: Instant,
    line: String,
    sip: Option<UdpSocket>,
    rtp: Option<UdpSocket>,
    leg: Option<AgentLeg>,
    media: Option<LineMedia>,
    call_id: Option<String>,
    last_state: Option<(crate::live::CallState, String, Option<String>)>,
    captions: Option<Subscription>,
}

/// Runs one web call for a page that opened `/ws/phone?line=LINE`, until both sides are done.
pub async fn run(gw: Arc<PhoneGateway>, mut ws: WebSocket, line: String) {
    let zero_out = match gw.plans.get(&line) {
        Ok(p) => p.program.plan.escalation.zero_out.to_string(),
        Err(e) => {
            tracing::info!(line, "web call to an unknown line: {e}");
            return refuse(ws, "this line does not exist").await;
        }
    };
    // Only a call that can go ahead takes one of the `[phone] max_calls` places.
    let Some(_slot) = gw.slot() else {
        tracing::warn!(line, "web call refused: [phone] max_calls reached");
        return refuse(ws, "busy, try again later").await;
    };
    let (peer, sdp) = match MediaPeer::offer(&gw.peer).await {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(line, "web call: no WebRTC offer: {e}");
            return refuse(ws, "the server could not set up audio, try again later").await;
        }
    };
    let offer = ToPage::Offer {
        sdp,
        line: line.clone(),
        zero_out,
    };
    if send(&mut ws, &offer).await.is_err() {
        peer.close().await;
        return;
    }
    let call = WebCall {
        gw,
        ws,
        ws_open: true,
        peer,
        phase: Phase::Offered,
        phase_deadline: Some(Instant::now() + ANSWER_WAIT),
        started: Instant::now(),
        line,
        sip: None,
        rtp: None,
        leg: None,
        media: None,
        call_id: None,
        last_state: None,
        captions: None,
    };
    let span = tracing::info_span!("web_call", line = %call.line);
    tracing::Instrument::instrument(call.run(), span).await;
}

async fn send(ws: &mut WebSocket, frame: &ToPage) -> Result<(), axum::Error> {
    ws.send(Message::Text(Utf8Bytes::from(frame.to_text())))
        .await
}

/// Tells the page why there is no call, and closes the socket.
async fn refuse(mut ws: WebSocket, why: &str) {
    let _ = send(&mut ws, &ToPage::Ended { why: why.into() }).await;
    let _ = ws
        .send(Message::Close(Some(CloseFrame {
            code: 1000,
            reason: Utf8Bytes::from_static("call ended"),
        })))
        .await;
}

/// The next caption for this call (forever when it has no subscription). Cancel-safe.
async fn next_caption(s: &mut Option<Subscription>) -> Option<Caption> {
    match s {
        Some(s) => s.next().await,
        None => std::future::pending().await,
    }
}

/// `host` for SIP: IPv6 in brackets.
fn sip_host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
    }
}

impl WebCall {
    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    async fn run(mut self) {
        tracing::info!("web call: offer sent");
        let mut sbuf = vec![0u8; 65536];
        let mut rbuf = [0u8; 2048];
        let mut state_tick = tokio::time::interval(STATE_EVERY);
        state_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let leg_deadline = self
                .leg
                .as_ref()
                .and_then(AgentLeg::deadline)
                .map(|d| self.started + d);
            let peer_open = self.phase != Phase::Ending;
            tokio::select! {
                f = self.ws.recv(), if self.ws_open => self.on_page(f).await,
                e = self.peer.next_event(), if peer_open => self.on_peer(e).await,
                r = recv_opt(self.sip.as_ref(), &mut sbuf) => {
                    if let Ok((n, _)) = r {
                        self.on_sip(&sbuf[..n]).await;
                    }
                }
                r = recv_opt(self.rtp.as_ref(), &mut rbuf) => {
                    if let Ok((n, _)) = r {
                        self.on_line_rtp(&rbuf[..n]).await;
                    }
                }
                _ = sleep_until(leg_deadline), if leg_deadline.is_some() => self.poll_leg().await,
                _ = sleep_until(self.phase_deadline), if self.phase_deadline.is_some() => {
                    self.phase_deadline = None;
                    let why = match self.phase {
                        Phase::Ending => break,
                        Phase::Offered => "the page did not answer (microphone not allowed?)",
                        _ => "the audio connection could not be made",
                    };
                    self.end(why).await;
                }
                _ = state_tick.tick(), if self.phase == Phase::InCall => self.report_state().await,
                c = next_caption(&mut self.captions) => match c {
                    Some(c) => self.tell_page(&ToPage::from(c)).await,
                    None => self.captions = None,
                },
            }
            if self.phase == Phase::Ending && self.leg.as_ref().is_none_or(AgentLeg::done) {
                break;
            }
        }
        tracing::info!("web call done");
    }

    // ---- the page ---------------------------------------------------------------------------

    async fn on_page(&mut self, frame: Option<Result<Message, axum::Error>>) {
        let msg = match frame {
            Some(Ok(m)) => m,
            _ => {
                self.ws_open = false;
                return self.end("the page was closed").await;
            }
        };
        let parsed = match msg {
            Message::Text(t) => proto::parse(t.as_str()),
            Message::Binary(_) => Err(proto::FrameError::Binary),
            Message::Close(_) => {
                self.ws_open = false;
                return self.end("the page was closed").await;
            }
            Message::Ping(_) | Message::Pong(_) => return,
        };
        match parsed {
            Ok(FromPage::Answer { sdp }) if self.phase == Phase::Offered => {
                match self.peer.accept_answer(&sdp).await {
                    Ok(()) => {
                        self.phase = Phase::Connecting;
                        self.phase_deadline = Some(Instant::now() + CONNECT_WAIT);
                    }
                    Err(e) => {
                        tracing::warn!("web call: answer unusable: {e}");
                        self.end(&format!("the browser's audio could not be used: {e}"))
                            .await;
                    }
                }
            }
            Ok(FromPage::Answer { .. }) => {
                self.error_to_page("the call already has an answer").await;
            }
            Ok(FromPage::Hangup) => self.end("you hung up").await,
            Err(e) => self.error_to_page(&e.to_string()).await,
        }
    }

    async fn error_to_page(&mut self, message: &str) {
        if self.ws_open {
            let frame = ToPage::Error {
                message: message.into(),
            };
            self.ws_open = send(&mut self.ws, &frame).await.is_ok();
        }
    }

    async fn tell_page(&mut self, frame: &ToPage) {
        if self.ws_open && send(&mut self.ws, frame).await.is_err() {
            self.ws_open = false;
            self.end("the page was closed").await;
        }
    }

    // ---- the browser's media ----------------------------------------------------------------

    async fn on_peer(&mut self, event: Option<PeerEvent>) {
        match event {
            Some(PeerEvent::Connected) => {
                if self.phase == Phase::Connecting {
                    self.phase_deadline = None;
                    if let Err(e) = self.dial().await {
                        tracing::error!("web call: cannot dial the line: {e}");
                        self.end("the server could not place the call, try again later")
                            .await;
                    }
                }
            }
            Some(PeerEvent::Audio(frame)) => {
                if let (Some(m), Some(rtp)) = (&mut self.media, &self.rtp) {
                    let to = m.remote();
                    let _ = rtp.send_to(m.audio_packet(&frame), to).await;
                }
            }
            Some(PeerEvent::Digit(d)) => {
                if let (Some(m), Some(rtp)) = (&mut self.media, &self.rtp) {
                    tracing::info!(key = %d, "web call: key");
                    let to = m.remote();
                    for p in m.digit_packets(d) {
                        let _ = rtp.send_to(&p, to).await;
                    }
                }
            }
            Some(PeerEvent::Closed { why }) => {
                tracing::info!("web call: browser media closed: {why}");
                self.end("the audio connection was lost").await;
            }
            None => self.end("the audio connection was lost").await,
        }
    }

    // ---- the SIP leg ------------------------------------------------------------------------

    /// Binds the gateway's SIP and RTP sockets and sends the INVITE.
    async fn dial(&mut self) -> anyhow::Result<()> {
        let ip = self.gw.ip;
        let sip = UdpSocket::bind((ip, 0)).await?;
        let rtp = self.gw.ports.bind(ip).await?;
        let host = sip_host(ip);
        let via = LocalVia {
            host: host.clone(),
            port: sip.local_addr()?.port(),
            transport: "UDP".into(),
        };
        let session = u64::from(crate::ids::random_u32());
        let offer = crate::sip::sdp::offer_pcmu(ip, rtp.local_addr()?.port(), session);
        let target = self.gw.sip_target;
        let uri = format!("sip:{}@{target}", self.line);
        let user = format!("web-{}", new_tag());
        let me = format!("sip:{user}@{host}:{}", via.port);
        let invite = RequestBuilder::new(Method::Invite, &uri)
            .via(&via.host, via.port, &via.transport, &new_branch())
            .from(
                NameAddr::new(&me)
                    .with_display("Web caller")
                    .with_tag(new_tag()),
            )
            .to(NameAddr::new(&uri))
            .call_id(new_call_id(&host))
            .cseq(1)
            .contact(me)
            .header(CHANNEL_HEADER, CHANNEL_WEBRTC)
            .body("application/sdp", offer.into_bytes())
            .build()?;
        let (leg, bytes) = AgentLeg::from_invite(self.now(), target, &via, invite)?;
        // Listening before the line can answer: the welcome prompt's caption is not missed.
        self.captions = Some(self.gw.captions.subscribe(leg.call_id()));
        sip.send_to(&bytes, target).await?;
        tracing::info!(
            sip_call_id = leg.call_id(),
            "web call: INVITE sent to {uri}"
        );
        self.sip = Some(sip);
        self.rtp = Some(rtp);
        self.leg = Some(leg);
        self.phase = Phase::Dialling;
        Ok(())
    }

    async fn send_sip(&mut self, packets: Vec<Vec<u8>>) {
        if let Some(sip) = &self.sip {
            for p in packets {
                let _ = sip.send_to(&p, self.gw.sip_target).await;
            }
        }
    }

    async fn on_sip(&mut self, bytes: &[u8]) {
        let now = self.now();
        let Some(leg) = self.leg.as_mut() else {
            return;
        };
        let (send, event) = match parse(bytes) {
            Ok(SipMessage::Response(r)) if r.headers.call_id() == Some(leg.call_id()) => {
                leg.on_response(now, &r)
            }
            Ok(SipMessage::Request(r)) if r.headers.call_id() == Some(leg.call_id()) => {
                leg.on_request_at(now, &r)
            }
            Ok(_) => return,
            Err(e) => {
                tracing::debug!("web call: unreadable SIP from the line: {e}");
                return;
            }
        };
        self.send_sip(send).await;
        if let Some(ev) = event {
            self.on_leg_event(ev).await;
        }
    }

    async fn poll_leg(&mut self) {
        let now = self.now();
        let Some(leg) = self.leg.as_mut() else {
            return;
        };
        let (send, event) = leg.poll(now);
        self.send_sip(send).await;
        if let Some(ev) = event {
            self.on_leg_event(ev).await;
        }
    }

    async fn on_leg_event(&mut self, ev: LegEvent) {
        match ev {
            LegEvent::Answered(n) => {
                let r = crate::ids::random_u32();
                self.media = Some(LineMedia::new(&n, r, r as u16, r.rotate_left(16)));
                self.phase = Phase::InCall;
                self.call_id = self.find_call_id();
                let call_id = self.call_id.clone().unwrap_or_default();
                tracing::info!(call = %call_id, "web call: the line answered");
                self.tell_page(&ToPage::Connected { call_id }).await;
                self.report_state().await;
            }
            LegEvent::Failed(status) => {
                tracing::info!(status, "web call: the line refused");
                self.end(&proto::why_refused(status)).await;
            }
            LegEvent::HungUp => self.end("the line ended the call").await,
            // The line never passes a web caller on by REFER; nothing to do.
            LegEvent::Refer(_) => tracing::debug!("web call: the line sent a REFER; ignored"),
        }
    }

    async fn on_line_rtp(&mut self, datagram: &[u8]) {
        let Some(m) = &self.media else {
            return;
        };
        let mut frame = [0u8; MAX_FRAME];
        if let Some(n) = m.from_line(datagram, &mut frame) {
            let _ = self.peer.send_pcmu(&frame[..n]).await;
        }
    }

    /// The id the server gave the call our INVITE started (by its SIP Call-ID).
    fn find_call_id(&self) -> Option<String> {
        let sip_call_id = self.leg.as_ref()?.call_id();
        self.gw
            .live
            .all()
            .into_iter()
            .find(|c| c.sip_call_id == sip_call_id)
            .map(|c| c.id)
    }

    /// Tells the page where its call is, when that changed.
    async fn report_state(&mut self) {
        if self.call_id.is_none() {
            // Not seen at the answer (it always is: the call task registers before it answers);
            // look again rather than never report.
            self.call_id = self.find_call_id();
        }
        let Some(id) = &self.call_id else {
            return;
        };
        let Some(c) = self.gw.live.get(id) else {
            return;
        };
        let now = (c.state, c.node, c.reason);
        if self.last_state.as_ref() != Some(&now) {
            self.last_state = Some(now.clone());
            let (state, node, reason) = now;
            self.tell_page(&ToPage::State {
                state,
                node,
                reason,
            })
            .await;
        }
    }

    // ---- the end ----------------------------------------------------------------------------

    /// Ends the call on every side (idempotent): the page is told why, the peer closes, the
    /// line gets BYE (or CANCEL while it rings).
    async fn end(&mut self, why: &str) {
        if self.phase == Phase::Ending {
            return;
        }
        tracing::info!(call = ?self.call_id, "web call ended: {why}");
        self.phase = Phase::Ending;
        self.phase_deadline = Some(Instant::now() + LINGER);
        if self.ws_open {
            let _ = send(&mut self.ws, &ToPage::Ended { why: why.into() }).await;
            let _ = self
                .ws
                .send(Message::Close(Some(CloseFrame {
                    code: 1000,
                    reason: Utf8Bytes::from_static("call ended"),
                })))
                .await;
            self.ws_open = false;
        }
        self.captions = None;
        self.peer.close().await;
        let now = self.now();
        if let Some(leg) = self.leg.as_mut() {
            let bye = leg.hang_up(now);
            self.send_sip(bye).await;
        }
        self.media = None;
    }
}
