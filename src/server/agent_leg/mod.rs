//! The outbound call to an agent (we are the UAC): INVITE with the caller's context, ACK,
//! CANCEL and BYE, and the agent's own requests. Sans-IO: methods take `now` and return the
//! bytes to send to [`AgentLeg::target`]; the call task owns the socket.
//!
//! The protocol's timing is the transactions' ([`crate::sip::transaction`]): the INVITE is a
//! [`ClientInvite`] (Timers A, B, D; a CANCEL waits for the first provisional, RFC 3261 §9.1),
//! our CANCEL or BYE a [`ClientNonInvite`] (Timers E, F, K), each request from the agent a
//! server transaction that answers its retransmissions. This file keeps the leg's own rules:
//! what to report to the hand-off, ACK and BYE for an answer that came too late or is unusable,
//! and how long to wait for a goodbye.

use crate::sip::transaction::{
    ClientInvite, ClientNonInvite, DialogState, Event, Input, InviteDialog, Reliability, Timers,
    Transaction,
};
use crate::sip::{
    ack_for_2xx, response_to, sdp, LocalVia, Method, Negotiated, Request, Response, SipError,
    SipErrorKind,
};
mod auth;
mod context;
mod hop;
mod media;
mod refer;
mod served;

pub use context::Context;
pub use hop::{Hop, TlsHop};
pub use media::{offer_keys, AnswerRefused, SrtpKeys, SrtpOffer};

use crate::sip::digest_client::Credentials;
use context::{context_invite, plain_invite, present_as};
use served::{Served, MAX_SERVED};
use std::net::SocketAddr;
use std::time::Duration;

/// How long an agent's answer to our BYE or CANCEL is waited for.
const GOODBYE_WAIT: Duration = Duration::from_secs(4);

/// What the agent leg reports to the hand-off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegEvent {
    /// 200 OK with a usable SDP answer.
    Answered(Negotiated),
    /// A final failure: the status, or 0 for a timeout or an unusable answer.
    Failed(u16),
    /// The agent hung up (BYE).
    HungUp,
    /// The agent asked to pass the caller on (REFER, answered 202): the `Refer-To` URI. Say
    /// how it went with [`AgentLeg::notify_refer`].
    Refer(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// INVITE sent, nothing heard yet (retransmitting).
    Calling,
    /// A provisional response arrived.
    Proceeding,
    /// 2xx received and ACKed.
    Confirmed,
    /// CANCEL (or its wish, until the agent rings) or BYE sent; waiting for the last answers.
    Leaving { until: Duration },
    /// Nothing more to do.
    Done,
}

/// One outbound agent call.
#[derive(Debug)]
pub struct AgentLeg {
    /// The configured agent URI.
    pub uri: String,
    hop: Hop,
    /// TLS: no retransmissions (RFC 3261 §17.1.1.2).
    reliability: Reliability,
    via: LocalVia,
    /// Our SDES keys in the offer, and whether the answer must take one.
    srtp_offer: SrtpOffer,
    /// The keys agreed, once the agent answered with SRTP.
    srtp: Option<SrtpKeys>,
    /// Why the agent's answer was refused, when it was.
    refused: Option<AnswerRefused>,
    state: State,
    invite: ClientInvite,
    dialog: Option<InviteDialog>,
    /// The ACK for the agent's 2xx, sent again for each retransmitted 2xx (§13.2.2.4).
    ack_2xx: Option<Vec<u8>>,
    /// Our CANCEL or BYE.
    goodbye: Option<ClientNonInvite>,
    /// Our NOTIFY of a REFER's outcome.
    notify: Option<ClientNonInvite>,
    served: Vec<Served>,
    /// The time of the last input, for [`AgentLeg::on_request`], which is not given one.
    now: Duration,
    /// Credentials for a trunk that challenges our INVITE (401/407).
    credentials: Option<Credentials>,
    /// Challenges answered so far (one, and more only for a stale nonce).
    challenges_answered: u8,
    /// The INVITE transaction a challenge ended: it still ACKs its retransmitted 401/407.
    challenged: Option<ClientInvite>,
}

impl AgentLeg {
    /// Builds the INVITE to `uri` carrying `ctx` and our SDP `offer` (with the SDES keys of
    /// `srtp`, if any), sent along `hop` from `via` (whose transport must be the hop's);
    /// returns the leg and the bytes to send now.
    pub fn dial(
        now: Duration,
        uri: &str,
        hop: Hop,
        via: &LocalVia,
        offer: (String, SrtpOffer),
        ctx: &Context<'_>,
    ) -> Result<(AgentLeg, Vec<u8>), SipError> {
        let invite = context_invite(uri, via, offer.0, ctx)?;
        let (mut leg, bytes) = AgentLeg::start(now, hop, via, invite)?;
        leg.srtp_offer = offer.1;
        Ok((leg, bytes))
    }

    /// As [`AgentLeg::dial`], through an outbound trunk: the INVITE to `uri` (a number at the
    /// trunk's domain) presents `caller_id` (From and `P-Asserted-Identity`) and goes along
    /// `hop` (the trunk's proxy); a 401/407 challenge is answered once with `credentials`.
    pub fn dial_trunk(
        now: Duration,
        (uri, caller_id): (&str, &str),
        hop: Hop,
        via: &LocalVia,
        offer: (String, SrtpOffer),
        ctx: &Context<'_>,
        credentials: Option<Credentials>,
    ) -> Result<(AgentLeg, Vec<u8>), SipError> {
        let mut invite = context_invite(uri, via, offer.0, ctx)?;
        present_as(&mut invite, caller_id);
        let (mut leg, bytes) = AgentLeg::start(now, hop, via, invite)?;
        leg.srtp_offer = offer.1;
        leg.credentials = credentials;
        Ok((leg, bytes))
    }

    /// A call to a customer through a trunk (a callback): as [`AgentLeg::dial_trunk`], but the
    /// INVITE carries none of the call's context, only the caller ID we present.
    pub fn dial_customer(
        now: Duration,
        (uri, caller_id): (&str, &str),
        hop: Hop,
        via: &LocalVia,
        offer: String,
        credentials: Option<Credentials>,
    ) -> Result<(AgentLeg, Vec<u8>), SipError> {
        let mut invite = plain_invite(uri, via, offer)?;
        present_as(&mut invite, caller_id);
        let (mut leg, bytes) = AgentLeg::start(now, hop, via, invite)?;
        leg.credentials = credentials;
        Ok((leg, bytes))
    }

    /// A leg for an INVITE built elsewhere (the `/phone` gateway calls our own SIP address
    /// with its own headers): the same transaction and dialog handling as [`AgentLeg::dial`].
    /// Returns the leg and the bytes to send to `target` now.
    pub fn from_invite(
        now: Duration,
        target: SocketAddr,
        via: &LocalVia,
        invite: Request,
    ) -> Result<(AgentLeg, Vec<u8>), SipError> {
        AgentLeg::start(now, Hop::udp(target), via, invite)
    }

    fn start(
        now: Duration,
        hop: Hop,
        via: &LocalVia,
        invite: Request,
    ) -> Result<(AgentLeg, Vec<u8>), SipError> {
        let uri = invite.uri.clone();
        let reliability = Reliability::from_reliable(hop.reliable());
        let mut tx = ClientInvite::new(now, invite, reliability, Timers::default())
            .map_err(|e| SipError::new(SipErrorKind::MissingHeader, e.to_string()))?;
        let bytes = tx.poll_transmit().unwrap_or_default();
        let leg = AgentLeg {
            uri,
            hop,
            reliability,
            srtp_offer: SrtpOffer::default(),
            srtp: None,
            refused: None,
            via: via.clone(),
            state: State::Calling,
            invite: tx,
            dialog: None,
            ack_2xx: None,
            goodbye: None,
            notify: None,
            served: Vec::new(),
            now,
            credentials: None,
            challenges_answered: 0,
            challenged: None,
        };
        Ok((leg, bytes))
    }

    /// Where this leg's requests go.
    pub fn target(&self) -> SocketAddr {
        self.hop.addr
    }

    /// Where and over what this leg's requests go.
    pub fn hop(&self) -> &Hop {
        &self.hop
    }

    /// The SRTP keys agreed with the agent (ours, theirs), once it answered with SRTP.
    pub fn srtp_keys(&self) -> Option<&SrtpKeys> {
        self.srtp.as_ref()
    }

    /// Why the agent's answer was refused (it was hung up), when that is why the leg failed.
    pub fn refused(&self) -> Option<AnswerRefused> {
        self.refused
    }

    /// The SIP Call-ID of this leg (responses and requests are routed to us by it).
    pub fn call_id(&self) -> &str {
        self.invite.request().headers.call_id().unwrap_or_default()
    }

    /// True once the agent answered and we ACKed.
    pub fn confirmed(&self) -> bool {
        self.state == State::Confirmed
    }

    /// True when the leg needs nothing more (its transactions may still absorb
    /// retransmissions for a while if the owner keeps polling; it need not).
    pub fn done(&self) -> bool {
        self.state == State::Done
    }

    /// When [`AgentLeg::poll`] should run next.
    pub fn deadline(&self) -> Option<Duration> {
        let leaving = match self.state {
            State::Leaving { until } => Some(until),
            _ => None,
        };
        let served = self.served.iter().filter_map(Served::poll_timeout);
        [
            leaving,
            self.invite.poll_timeout(),
            self.challenged.as_ref().and_then(|c| c.poll_timeout()),
            self.goodbye.as_ref().and_then(|g| g.poll_timeout()),
            self.notify.as_ref().and_then(|n| n.poll_timeout()),
        ]
        .into_iter()
        .flatten()
        .chain(served)
        .min()
    }

    /// Retransmissions and timeouts.
    pub fn poll(&mut self, now: Duration) -> (Vec<Vec<u8>>, Option<LegEvent>) {
        self.now = now;
        self.invite.handle_timeout(now);
        if let Some(c) = &mut self.challenged {
            c.handle_timeout(now);
        }
        if let Some(g) = &mut self.goodbye {
            g.handle_timeout(now);
        }
        if let Some(n) = &mut self.notify {
            n.handle_timeout(now);
        }
        for s in &mut self.served {
            s.tx().handle_timeout(now);
        }
        let out = self.pump(now);
        if let State::Leaving { until } = self.state {
            if now >= until {
                self.finish();
            }
        }
        out
    }

    /// A response on this leg's Call-ID.
    pub fn on_response(
        &mut self,
        now: Duration,
        resp: &Response,
    ) -> (Vec<Vec<u8>>, Option<LegEvent>) {
        self.now = now;
        let Ok((_, method)) = resp.headers.cseq() else {
            return (Vec::new(), None);
        };
        if method == Method::Invite {
            if self.invite.is_terminated() && (200..300).contains(&resp.status) {
                // A 2xx after we gave up on the INVITE (Timer B, or a CANCEL nobody
                // answered): ACK it and end the dialog it made.
                let mut send = Vec::new();
                self.on_2xx(resp, true, &mut send);
                let (more, _) = self.pump(now);
                send.extend(more);
                return (send, None);
            }
            match self.challenged.as_mut().filter(|c| c.matches(resp)) {
                // The challenge again (our ACK was lost): ACKed again by its transaction.
                Some(c) => c.handle(now, Input::Response(resp.clone())),
                None => self.invite.handle(now, Input::Response(resp.clone())),
            }
        } else if let Some(g) = self.goodbye.as_mut().filter(|g| g.matches(resp)) {
            g.handle(now, Input::Response(resp.clone()));
        } else if let Some(n) = self.notify.as_mut().filter(|n| n.matches(resp)) {
            n.handle(now, Input::Response(resp.clone()));
        }
        self.pump(now)
    }

    /// A request on this leg's Call-ID from the agent, at the time of the last input (see
    /// [`AgentLeg::on_request_at`]).
    pub fn on_request(&mut self, req: &Request) -> (Vec<Vec<u8>>, Option<LegEvent>) {
        self.on_request_at(self.now, req)
    }

    /// A request on this leg's Call-ID from the agent (BYE, re-INVITE, OPTIONS…) at `now`.
    /// Each gets a server transaction, so its retransmissions get the same answer.
    pub fn on_request_at(
        &mut self,
        now: Duration,
        req: &Request,
    ) -> (Vec<Vec<u8>>, Option<LegEvent>) {
        self.now = now;
        if let Some(s) = self.served.iter_mut().find(|s| s.matches(req)) {
            s.tx().handle(now, Input::Request(req.clone()));
            return self.pump(now);
        }
        // The dialog's rules (§12.2.2: CSeq order) while it lasts; a BYE crossing ours is
        // simply answered.
        let in_dialog = match &mut self.dialog {
            Some(d) if req.method != Method::Ack && d.state() != DialogState::Terminated => {
                d.on_request(req)
            }
            _ => Ok(()),
        };
        let (status, reason) = match (&in_dialog, &req.method) {
            (_, Method::Ack) => return (Vec::new(), None),
            (Err(e), _) => match e.status() {
                Some(481) => (481, "Call/Transaction Does Not Exist"),
                _ => (500, "Server Internal Error"),
            },
            // Hold and other re-INVITEs from the agent are not supported: refuse politely,
            // the bridge stays as it was.
            (Ok(()), Method::Invite) => (488, "Not Acceptable Here"),
            (Ok(()), Method::Refer) => refer::answer(req, self.state == State::Confirmed),
            (Ok(()), _) => (200, "OK"),
        };
        let resp = response_to(req, status, reason, None);
        let mut send = Vec::new();
        match Served::new(now, req, self.reliability) {
            Ok(mut s) => {
                if s.respond(now, resp).is_ok() {
                    if self.served.len() < MAX_SERVED {
                        self.served.push(s);
                    } else {
                        send.extend(s.tx().drain().0);
                    }
                }
            }
            // No usable Via branch: answer without a transaction.
            Err(_) => send.push(resp.to_bytes()),
        }
        let mut event = None;
        if req.method == Method::Refer && status == 202 {
            event = refer::target(req).map(LegEvent::Refer);
        }
        if req.method == Method::Bye && in_dialog.is_ok() {
            event = (self.state == State::Confirmed).then_some(LegEvent::HungUp);
            self.finish();
        }
        let (more, _) = self.pump(now);
        send.extend(more);
        (send, event)
    }

    /// Ends the leg: CANCEL while it rings (once it rings: before a provisional the CANCEL
    /// waits for one, §9.1), BYE once answered, nothing otherwise.
    pub fn hang_up(&mut self, now: Duration) -> Vec<Vec<u8>> {
        self.now = now;
        if !self.start_hang_up(now) {
            return Vec::new();
        }
        self.pump(now).0
    }

    /// Starts the CANCEL or BYE; false when there is nothing to end.
    fn start_hang_up(&mut self, now: Duration) -> bool {
        let request = match (&self.state, &mut self.dialog) {
            (State::Calling | State::Proceeding, _) => self.invite.cancel(),
            (State::Confirmed, Some(d)) => match d.request(Method::Bye, &self.via) {
                Ok(b) => b.build().ok(),
                Err(_) => return false,
            },
            _ => return false,
        };
        self.state = State::Leaving {
            until: now + GOODBYE_WAIT,
        };
        if let Some(r) = request {
            self.start_goodbye(now, r);
        }
        true
    }

    fn start_goodbye(&mut self, now: Duration, request: Request) {
        self.goodbye = ClientNonInvite::new(now, request, self.reliability, Timers::default()).ok();
    }

    /// Everything the transactions queued: bytes to send, and what it means for the leg.
    fn pump(&mut self, now: Duration) -> (Vec<Vec<u8>>, Option<LegEvent>) {
        let (mut send, events) = self.invite.drain();
        if let Some(c) = &mut self.challenged {
            send.extend(c.drain().0);
            if c.is_terminated() {
                self.challenged = None;
            }
        }
        let mut event = None;
        for e in events {
            if let Some(ev) = self.on_invite_event(now, e, &mut send) {
                event = Some(ev);
            }
        }
        if let Some(g) = &mut self.goodbye {
            let bye = g.request().method == Method::Bye;
            let (s, events) = g.drain();
            send.extend(s);
            let over = events.iter().any(|e| match e {
                Event::Response(r) => r.status >= 200,
                Event::Timeout => true,
                _ => false,
            });
            if bye && over && matches!(self.state, State::Leaving { .. }) {
                self.finish();
            }
        }
        if self.goodbye.as_ref().is_some_and(|g| g.is_terminated()) {
            self.goodbye = None;
        }
        if let Some(n) = &mut self.notify {
            send.extend(n.drain().0);
            if n.is_terminated() {
                self.notify = None;
            }
        }
        for s in &mut self.served {
            send.extend(s.tx().drain().0);
        }
        self.served.retain_mut(|s| !s.tx().is_terminated());
        (send, event)
    }

    fn on_invite_event(
        &mut self,
        now: Duration,
        event: Event,
        send: &mut Vec<Vec<u8>>,
    ) -> Option<LegEvent> {
        let active = matches!(self.state, State::Calling | State::Proceeding);
        match event {
            Event::Response(r) if r.status < 200 => {
                if self.state == State::Calling {
                    self.state = State::Proceeding;
                }
                None
            }
            Event::Response(r) if r.status < 300 => {
                let gave_up = !active && self.state != State::Confirmed;
                self.on_2xx(&r, gave_up, send)
            }
            // A trunk's challenge, answered by a new INVITE (the transaction ACKed this one).
            Event::Response(r) if active && self.answer_challenge(now, &r, send) => None,
            // A final failure (ACKed by the transaction) ends the leg, whether we were still
            // ringing or had cancelled (487).
            Event::Response(r) => {
                self.finish();
                active.then_some(LegEvent::Failed(r.status))
            }
            Event::SendCancel(cancel) => {
                self.start_goodbye(now, cancel);
                None
            }
            Event::Timeout => {
                self.finish();
                active.then_some(LegEvent::Failed(408))
            }
            _ => None,
        }
    }

    /// A 2xx to our INVITE: ACK it (again, when it is a retransmission) and make the dialog.
    /// `gave_up`: we no longer want the call (the 200 crossed our CANCEL, or came after we
    /// stopped waiting): it is ACKed and hung up at once, and reported to nobody.
    fn on_2xx(
        &mut self,
        resp: &Response,
        gave_up: bool,
        send: &mut Vec<Vec<u8>>,
    ) -> Option<LegEvent> {
        // A retransmitted 2xx: our ACK was lost, send it again.
        if let (Some(ack), Some(_)) = (&self.ack_2xx, &self.dialog) {
            send.push(ack.clone());
            return None;
        }
        let invite = self.invite.request();
        let Ok(mut ack) = ack_for_2xx(invite, resp) else {
            self.finish();
            return (!gave_up).then_some(LegEvent::Failed(0));
        };
        auth::same_credentials(invite, &mut ack);
        let ack = ack.to_bytes();
        send.push(ack.clone());
        self.ack_2xx = Some(ack);
        let Ok(dialog) = InviteDialog::uac(invite, resp) else {
            self.finish();
            return (!gave_up).then_some(LegEvent::Failed(0));
        };
        self.dialog = Some(dialog);
        self.state = State::Confirmed;
        let answer = crate::sip::Sdp::parse(&resp.body).ok();
        let negotiated = answer.as_ref().and_then(|s| sdp::accept_answer(s).ok());
        let media = answer.as_ref().map(|s| self.srtp_offer.accept(s));
        match (negotiated, media) {
            (Some(n), Some(Ok(keys))) if !gave_up => {
                self.srtp = keys;
                Some(LegEvent::Answered(n))
            }
            (Some(_), Some(Err(why))) if !gave_up => {
                self.refused = Some(why);
                self.start_hang_up(self.now);
                Some(LegEvent::Failed(0))
            }
            // Answered after we gave up on it, or no usable media: end the dialog at once.
            _ => {
                self.start_hang_up(self.now);
                (!gave_up).then_some(LegEvent::Failed(0))
            }
        }
    }

    /// Nothing more to do: stop an unanswered INVITE and a pending goodbye.
    fn finish(&mut self) {
        self.state = State::Done;
        self.invite.abandon();
        if self.goodbye.as_ref().is_some_and(|g| !g.is_terminated()) {
            self.goodbye = None;
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tls_tests;
#[cfg(test)]
mod trunk_tests;
