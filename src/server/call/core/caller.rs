//! The caller's side of the call: we are the UAS. The INVITE's server transaction answers
//! ringing, the 200 OK (retransmitted until the ACK, RFC 6026 Timer L) or the 487 after a
//! CANCEL; the §12 dialog checks the caller's later requests; each BYE, CANCEL, INFO gets its
//! answer from a non-INVITE server transaction (retransmissions get the same bytes again);
//! re-INVITEs (hold, resume) get a transaction each; our BYE is a client transaction.
//!
//! All of the protocol's timing is [`crate::sip::transaction`]'s. This file keeps the rules
//! that are the call's: whose requests these are, what each one means for the call
//! ([`FromCaller`]), and the SDP we answer with.

use crate::sip::sdes::Crypto;
use crate::sip::transaction::{
    CancelOutcome, ClientNonInvite, Event, Input, InviteDialog, NonInviteServers, Received,
    Reliability, ServerInvite, ServerInviteState, Timers, Transaction,
};
use crate::sip::{response_to, LocalVia, Method, Negotiated, Request, Response, Sdp};
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Most of the caller's non-INVITE requests remembered at once (each for up to 64·T1).
const MAX_SERVED: usize = 32;

/// Where our own RTP for the caller is, for the SDP answers to re-INVITEs.
#[derive(Debug, Clone)]
pub struct MediaAddr {
    /// The address written in our SDP.
    pub ip: IpAddr,
    /// Our RTP port for the caller.
    pub port: u16,
    /// The SDP session id (`o=` line); its version counts up with each new answer.
    pub session_id: u64,
}

/// Where the answer to the caller's INVITE stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Ringing; answered at this call time.
    Ringing {
        /// When the 200 OK goes.
        answer_at: Duration,
    },
    /// 200 OK sent.
    Answered,
    /// Refused (487 after a CANCEL).
    Refused,
}

/// Where an answer goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    /// The caller's address (where its INVITE came from: a proxy in front, if any): our
    /// requests, the INVITE's answers and every timer's retransmission.
    Caller,
    /// Wherever the request being answered came from (behind a proxy that does not stay in
    /// the path, the caller's BYE comes straight from the phone; a stranger gets its 481).
    Source,
}

/// What a message from the caller means for the call.
#[derive(Debug, Clone, PartialEq)]
pub enum FromCaller {
    /// The ACK came from the caller's SIP address: its media may go to its SDP address.
    Confirmed,
    /// BYE.
    HungUp,
    /// CANCEL before the answer: the INVITE was answered 487.
    Cancelled,
    /// A key sent in a SIP INFO.
    Key(char),
    /// A re-INVITE with a new offer was accepted: the caller's media changes.
    Reoffer(Negotiated),
    /// No ACK for our 200 OK (Timer L): the call must end with a BYE.
    AckTimeout,
    /// A request on our Call-ID that is not the caller's; it was answered 481.
    Stranger(Method),
}

/// Who the caller is and how to reach them.
#[derive(Debug, Clone)]
pub struct CallerConfig {
    /// The caller's SIP source address.
    pub addr: SocketAddr,
    /// True over TCP (nothing is retransmitted).
    pub reliable: bool,
    /// Proxies whose requests count as the caller's whatever the source.
    pub trusted_peers: Vec<IpAddr>,
    /// Our Via for requests to the caller.
    pub via: LocalVia,
    /// Our Contact header value in answers.
    pub contact: String,
    /// Our media address for SDP answers.
    pub media: MediaAddr,
    /// Our SDP answer to the INVITE's offer.
    pub answer_sdp: String,
    /// The SRTP keys (ours, the caller's) when the caller's RTP is secure: a re-INVITE is
    /// answered under the same keys, and one that changes them is refused.
    pub srtp_keys: Option<(Crypto, Crypto)>,
}

/// The caller's dialog and every transaction in it.
#[derive(Debug)]
pub struct CallerDialog {
    cfg: CallerConfig,
    invite: Request,
    local_tag: String,
    reliability: Reliability,
    tx: ServerInvite,
    acked: bool,
    dialog: Option<InviteDialog>,
    reinvites: Vec<ServerInvite>,
    served: NonInviteServers,
    bye: Option<ClientNonInvite>,
    phase: Phase,
    sdp_version: u64,
    out: VecDeque<(Dest, Vec<u8>)>,
}

impl CallerDialog {
    /// Takes the INVITE at `now`: 100 Trying and 180 Ringing go at once; the 200 OK at
    /// `answer_at` ([`CallerDialog::answer`]).
    pub fn new(
        now: Duration,
        invite: Request,
        local_tag: String,
        cfg: CallerConfig,
        answer_at: Duration,
    ) -> Result<CallerDialog, crate::sip::transaction::TransactionError> {
        let reliability = Reliability::from_reliable(cfg.reliable);
        let tx = ServerInvite::new(now, invite.clone(), reliability, Timers::default())?;
        let dialog = InviteDialog::uas(&invite, &local_tag).ok();
        let mut d = CallerDialog {
            sdp_version: cfg.media.session_id,
            cfg,
            invite,
            local_tag,
            reliability,
            tx,
            acked: false,
            dialog,
            reinvites: Vec::new(),
            served: NonInviteServers::new(MAX_SERVED, Timers::default()),
            bye: None,
            phase: Phase::Ringing { answer_at },
            out: VecDeque::new(),
        };
        let trying = response_to(&d.invite, 100, "Trying", None);
        let ringing = d.with_contact(response_to(&d.invite, 180, "Ringing", Some(&d.local_tag)));
        let _ = d.tx.respond(now, trying);
        let _ = d.tx.respond(now, ringing);
        d.drain_tx();
        Ok(d)
    }

    /// The caller's INVITE.
    pub fn invite(&self) -> &Request {
        &self.invite
    }

    /// Where the answer stands.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The next bytes to send, and where.
    pub fn poll_transmit(&mut self) -> Option<(Dest, Vec<u8>)> {
        self.out.pop_front()
    }

    fn with_contact(&self, mut r: Response) -> Response {
        r.headers.push("Contact", self.cfg.contact.clone());
        r
    }

    /// Sends the 200 OK with our SDP (retransmitted until the ACK over UDP).
    pub fn answer(&mut self, now: Duration) {
        if !matches!(self.phase, Phase::Ringing { .. }) {
            return;
        }
        let ok = self
            .with_contact(response_to(&self.invite, 200, "OK", Some(&self.local_tag)))
            .with_body("application/sdp", self.cfg.answer_sdp.clone().into_bytes());
        if self.tx.respond(now, ok).is_ok() {
            if let Some(d) = &mut self.dialog {
                d.confirm();
            }
            self.phase = Phase::Answered;
        }
        self.drain_tx();
    }

    /// The call ends before it was answered (the server stops): the INVITE gets a final
    /// answer instead of ringing on.
    pub fn refuse(&mut self, now: Duration) {
        if !matches!(self.phase, Phase::Ringing { .. }) {
            return;
        }
        let resp = response_to(
            &self.invite,
            503,
            "Service Unavailable",
            Some(&self.local_tag),
        );
        let _ = self.tx.respond(now, resp);
        self.phase = Phase::Refused;
        if let Some(d) = &mut self.dialog {
            d.terminate();
        }
        self.drain_tx();
    }

    /// Sends our BYE (the line ends the call); only an answered call has one.
    pub fn hang_up(&mut self, now: Duration) {
        if self.phase != Phase::Answered || self.bye.is_some() {
            return;
        }
        let Some(d) = &mut self.dialog else {
            return;
        };
        let Ok(bye) = d
            .request(Method::Bye, &self.cfg.via)
            .map_err(|e| e.to_string())
            .and_then(|b| b.build().map_err(|e| e.to_string()))
        else {
            return;
        };
        if let Ok(mut tx) = ClientNonInvite::new(now, bye, self.reliability, Timers::default()) {
            while let Some(b) = tx.poll_transmit() {
                self.out.push_back((Dest::Caller, b));
            }
            self.bye = Some(tx);
        }
    }

    /// True while something of ours waits for the caller: the ACK for our final response,
    /// the answer to our BYE.
    pub fn waiting(&self) -> bool {
        let invite = match self.tx.state() {
            ServerInviteState::Accepted => !self.acked,
            ServerInviteState::Completed => true,
            _ => false,
        };
        invite || self.bye.as_ref().is_some_and(|b| !b.is_terminated())
    }

    /// The earliest timer of every transaction (and the answer time while ringing).
    pub fn poll_timeout(&self) -> Option<Duration> {
        let ringing = match self.phase {
            Phase::Ringing { answer_at } => Some(answer_at),
            _ => None,
        };
        [
            ringing,
            self.tx.poll_timeout(),
            self.bye.as_ref().and_then(|b| b.poll_timeout()),
        ]
        .into_iter()
        .chain(self.reinvites.iter().map(|t| t.poll_timeout()))
        .flatten()
        .min()
    }

    /// Fires the transactions' timers due at `now`; reports an ACK timeout after our 200.
    pub fn on_timeout(&mut self, now: Duration) -> Option<FromCaller> {
        self.tx.handle_timeout(now);
        let mut heard = None;
        while let Some(ev) = self.tx.poll_event() {
            if ev == Event::AckTimeout && self.phase == Phase::Answered {
                heard = Some(FromCaller::AckTimeout);
            }
        }
        self.drain_tx();
        for t in &mut self.reinvites {
            t.handle_timeout(now);
            while let Some(b) = t.poll_transmit() {
                self.out.push_back((Dest::Caller, b));
            }
            while t.poll_event().is_some() {}
        }
        self.reinvites.retain(|t| !t.is_terminated());
        if let Some(b) = &mut self.bye {
            b.handle_timeout(now);
            while let Some(bytes) = b.poll_transmit() {
                self.out.push_back((Dest::Caller, bytes));
            }
            while b.poll_event().is_some() {}
        }
        heard
    }

    /// A response on the caller's Call-ID: the answer to our BYE.
    pub fn on_response(&mut self, now: Duration, resp: Response) {
        if let Some(b) = &mut self.bye {
            b.handle(now, Input::Response(resp));
            while b.poll_transmit().is_some() {}
            while b.poll_event().is_some() {}
        }
    }

    fn drain_tx(&mut self) {
        while let Some(b) = self.tx.poll_transmit() {
            self.out.push_back((Dest::Caller, b));
        }
    }

    /// Whether a request on the caller's Call-ID is the caller's (RFC 3261 §12.2.2): its From
    /// tag is the caller's, its To tag ours once we gave one (a CANCEL or a retransmitted
    /// INVITE carries none), and over UDP it comes from the caller's address unless a trusted
    /// proxy relays the call. Anyone who learnt the Call-ID could send the rest.
    fn is_the_callers(&self, req: &Request, source: SocketAddr) -> bool {
        let tag =
            |a: Result<crate::sip::NameAddr, _>| a.ok().and_then(|a| a.tag().map(str::to_string));
        let from_tag = tag(req.headers.from());
        if from_tag.is_none() || from_tag != tag(self.invite.headers.from()) {
            return false;
        }
        let number = |r: &Request| r.headers.cseq().ok().map(|(n, _)| n);
        let before_dialog = matches!(req.method, Method::Invite | Method::Cancel)
            && number(req) == number(&self.invite);
        let tags_ok = match tag(req.headers.to()) {
            Some(t) => t == self.local_tag,
            None => before_dialog,
        };
        let ip = source.ip();
        let source_ok = ip == self.cfg.addr.ip() || self.cfg.trusted_peers.contains(&ip);
        tags_ok && source_ok
    }

    /// Answers `req` with `status` in a non-INVITE server transaction (so a retransmission
    /// gets the same answer without being decided again).
    fn reply(&mut self, now: Duration, req: Request, status: u16, reason: &str) {
        let resp = response_to(&req, status, reason, None);
        let bytes = self.served.respond(now, req, self.reliability, resp);
        self.out.push_back((Dest::Source, bytes));
    }

    /// A request on the caller's Call-ID from `source` at `now`.
    pub fn on_request(
        &mut self,
        now: Duration,
        req: Request,
        source: SocketAddr,
    ) -> Option<FromCaller> {
        if !self.is_the_callers(&req, source) {
            if req.method != Method::Ack {
                let r = response_to(&req, 481, "Call/Transaction Does Not Exist", None);
                self.out.push_back((Dest::Source, r.to_bytes()));
            }
            return Some(FromCaller::Stranger(req.method));
        }
        let same_invite = req.headers.cseq().ok() == self.invite.headers.cseq().ok();
        match req.method {
            Method::Invite if same_invite => {
                // A retransmission: the transaction answers it as it answered the first.
                self.tx.handle(now, Input::Request(req));
                self.drain_tx();
                None
            }
            Method::Ack => {
                if self.tx.matches(&req) {
                    self.tx.handle(now, Input::Request(req));
                    while let Some(ev) = self.tx.poll_event() {
                        if matches!(ev, Event::Acked(_)) {
                            self.acked = true;
                        }
                    }
                } else if let Some(t) = self.reinvites.iter_mut().find(|t| t.matches(&req)) {
                    t.handle(now, Input::Request(req));
                    while t.poll_event().is_some() {}
                }
                Some(FromCaller::Confirmed)
            }
            _ if self.retransmitted(now, &req) => None,
            Method::Invite => self.reinvite(now, req),
            Method::Bye => {
                if let Some(d) = &mut self.dialog {
                    let _ = d.on_request(&req);
                }
                self.reply(now, req, 200, "OK");
                Some(FromCaller::HungUp)
            }
            Method::Cancel => {
                self.reply(now, req, 200, "OK");
                if !matches!(self.phase, Phase::Ringing { .. }) {
                    return None;
                }
                match self.tx.cancel(now, &self.local_tag.clone()) {
                    CancelOutcome::Cancelled => {
                        self.drain_tx();
                        self.phase = Phase::Refused;
                        if let Some(d) = &mut self.dialog {
                            d.terminate();
                        }
                        Some(FromCaller::Cancelled)
                    }
                    CancelOutcome::TooLate => None,
                }
            }
            Method::Info => {
                if let Some(d) = &mut self.dialog {
                    let _ = d.on_request(&req);
                }
                let key = info_digit(&req);
                self.reply(now, req, 200, "OK");
                key.map(FromCaller::Key)
            }
            _ => {
                self.reply(now, req, 200, "OK");
                None
            }
        }
    }

    /// True when `req` (not an INVITE or ACK) was answered before: its answer went again.
    fn retransmitted(&mut self, now: Duration, req: &Request) -> bool {
        if req.method == Method::Invite {
            if let Some(t) = self.reinvites.iter_mut().find(|t| t.matches(req)) {
                t.handle(now, Input::Request(req.clone()));
                while let Some(b) = t.poll_transmit() {
                    self.out.push_back((Dest::Source, b));
                }
                return true;
            }
            return false;
        }
        match self.served.receive(now, req) {
            Received::New => false,
            Received::Retransmission(again) => {
                self.out
                    .extend(again.into_iter().map(|b| (Dest::Source, b)));
                true
            }
        }
    }

    /// A re-INVITE (hold, resume, a new address): answered with our SDP for its offer in a
    /// transaction of its own; 488 when nothing in the offer is usable, 500 when it comes out
    /// of order, 481 after the dialog ended.
    fn reinvite(&mut self, now: Duration, req: Request) -> Option<FromCaller> {
        let Ok(mut tx) = ServerInvite::new(now, req.clone(), self.reliability, Timers::default())
        else {
            return None;
        };
        let checked = match &mut self.dialog {
            Some(d) => d.on_request(&req),
            None => Ok(()),
        };
        let mut heard = None;
        let resp = match checked {
            Err(crate::sip::transaction::TransactionError::CSeqOutOfOrder { .. }) => {
                response_to(&req, 500, "Server Internal Error", None)
            }
            Err(_) => response_to(&req, 481, "Call/Transaction Does Not Exist", None),
            Ok(()) => match Sdp::parse(&req.body) {
                Ok(offer) => {
                    let m = &self.cfg.media;
                    self.sdp_version += 1;
                    let keys = self
                        .cfg
                        .srtp_keys
                        .as_ref()
                        .map(|(ours, theirs)| (ours, theirs));
                    match crate::server::secure_media::reanswer(
                        &offer,
                        m.ip,
                        m.port,
                        m.session_id,
                        self.sdp_version,
                        keys,
                    ) {
                        Ok((text, n)) => {
                            self.cfg.answer_sdp = text;
                            heard = Some(FromCaller::Reoffer(n));
                            self.ok_with_sdp(&req)
                        }
                        Err(e) => response_to(&req, 488, e.reason(), None),
                    }
                }
                // No offer (or none we can read): the session as it is.
                Err(_) => self.ok_with_sdp(&req),
            },
        };
        let _ = tx.respond(now, resp);
        while let Some(b) = tx.poll_transmit() {
            self.out.push_back((Dest::Source, b));
        }
        self.reinvites.push(tx);
        heard
    }

    fn ok_with_sdp(&self, req: &Request) -> Response {
        self.with_contact(response_to(req, 200, "OK", None))
            .with_body("application/sdp", self.cfg.answer_sdp.clone().into_bytes())
    }
}

/// A digit from a SIP INFO (`application/dtmf-relay`: `Signal=5`, or `application/dtmf`).
pub fn info_digit(req: &Request) -> Option<char> {
    let body = std::str::from_utf8(&req.body).ok()?;
    let value = body
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once('=')?;
            k.trim().eq_ignore_ascii_case("signal").then(|| v.trim())
        })
        .unwrap_or(body.trim());
    let c = value.chars().next()?;
    (value.chars().count() == 1 && (c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D')))
        .then_some(c)
}
