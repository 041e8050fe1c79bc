//! The caller's dialog: we are the UAS. Ringing, answering (with 200 retransmissions until the
//! ACK), re-INVITEs (hold, resume), BYE, CANCEL and INFO keys from the caller, and our BYE.

use super::*;

impl CallTask {
    // ---- the caller's dialog ------------------------------------------------------------

    pub(super) async fn send_caller(&self, bytes: Vec<u8>) {
        self.sh.transport.send(&self.caller_peer, bytes).await;
    }

    pub(super) async fn ring(&mut self) {
        let ringing = response_to(&self.invite, 180, "Ringing", Some(&self.local_tag));
        self.send_caller(self.with_contact(ringing).to_bytes())
            .await;
        if let Uas::Ringing { answer_at } = self.uas {
            if answer_at.is_zero() {
                self.answer().await;
            }
        }
    }

    pub(super) fn with_contact(&self, mut r: Response) -> Response {
        let uri =
            super::super::tls::contact_uri(&self.caller_peer, &self.caller_via, &self.invite.uri);
        r.headers.push("Contact", format!("<{uri}>"));
        r
    }

    pub(super) async fn answer(&mut self) {
        let ok = response_to(&self.invite, 200, "OK", Some(&self.local_tag));
        let ok = self
            .with_contact(ok)
            .with_body("application/sdp", self.answer_sdp.clone().into_bytes())
            .to_bytes();
        self.send_caller(ok.clone()).await;
        let now = self.now();
        self.uas = Uas::Answered {
            ok,
            retx: (!self.caller_peer.reliable()).then(|| Retransmit::new(now, Some(T2))),
        };
        self.dialog = Dialog::as_uas(&self.invite, &self.local_tag).ok();
        self.last_caller_packet = now;
        if self.sh.config.media.record {
            let path = self.recording_file("");
            match Recorder::create(&path) {
                Ok(r) => self.recorder = Some((r, path)),
                Err(e) => tracing::warn!("cannot record to {}: {e}", path.display()),
            }
        }
        self.event("answered", json!({}));
        if self.engine.is_elderly() {
            self.warm_slow_prompts();
        }
        self.pending.push_back(Event::Start);
    }

    pub(super) async fn on_sip(&mut self, msg: SipMessage, peer: Peer) {
        match msg {
            SipMessage::Request(req) => {
                let ours = req.headers.call_id() == self.invite.headers.call_id();
                if ours {
                    self.on_caller_request(req, peer).await;
                } else {
                    self.on_agent_request(req).await;
                }
            }
            SipMessage::Response(resp) => {
                let ours = resp.headers.call_id() == self.invite.headers.call_id();
                if ours {
                    // The caller's answer to our BYE.
                    if matches!(resp.headers.cseq(), Ok((_, Method::Bye))) {
                        self.bye_to_caller = None;
                    }
                } else {
                    self.on_agent_response(resp).await;
                }
            }
        }
    }

    /// Whether a request on the caller's Call-ID is the caller's (RFC 3261 §12.2.2): its From
    /// tag is the caller's, its To tag ours once we gave one (a CANCEL or a retransmitted
    /// INVITE carries none), and over UDP it comes from the caller's address unless a trusted
    /// proxy relays the call. Anyone who learnt the Call-ID could send the rest.
    fn is_the_callers(&self, req: &Request, peer: &Peer) -> bool {
        let tag =
            |a: Result<crate::sip::NameAddr, _>| a.ok().and_then(|a| a.tag().map(str::to_string));
        let from_tag = tag(req.headers.from());
        if from_tag.is_none() || from_tag != tag(self.invite.headers.from()) {
            return false;
        }
        let to_tag = tag(req.headers.to());
        let number = |r: &Request| r.headers.cseq().ok().map(|(n, _)| n);
        let before_dialog = matches!(req.method, Method::Invite | Method::Cancel)
            && number(req) == number(&self.invite);
        let tags_ok = match to_tag {
            Some(t) => t == self.local_tag,
            None => before_dialog,
        };
        let source = peer.addr().ip();
        let source_ok = source == self.caller_peer.addr().ip()
            || self.sh.config.sip.trusted_peers.contains(&source);
        tags_ok && source_ok
    }

    pub(super) async fn on_caller_request(&mut self, req: Request, peer: Peer) {
        if !self.is_the_callers(&req, &peer) {
            self.sh
                .metrics
                .sip_dialog_mismatch_total
                .fetch_add(1, Relaxed);
            tracing::warn!(method = %req.method.as_str(), source = %peer.addr(), "request on this call's Call-ID that is not the caller's: 481");
            if req.method != Method::Ack {
                let r = response_to(&req, 481, "Call/Transaction Does Not Exist", None);
                self.sh.transport.send(&peer, r.to_bytes()).await;
            }
            return;
        }
        let same_invite = req.headers.cseq().ok() == self.invite.headers.cseq().ok();
        match req.method {
            Method::Invite if same_invite => {
                // A retransmission: the same answer again.
                let again = match &self.uas {
                    Uas::Ringing { .. } => self
                        .with_contact(response_to(
                            &self.invite,
                            180,
                            "Ringing",
                            Some(&self.local_tag),
                        ))
                        .to_bytes(),
                    Uas::Answered { ok, .. } => ok.clone(),
                    Uas::Refused { resp, .. } => resp.clone(),
                };
                self.send_caller(again).await;
            }
            Method::Invite => self.reinvite(req, peer).await,
            Method::Ack => {
                if let Uas::Answered { retx, .. } | Uas::Refused { retx, .. } = &mut self.uas {
                    *retx = None;
                }
                // The caller confirmed from its SIP address: media may go to its SDP address.
                self.caller.confirm();
            }
            Method::Bye => {
                let ok = response_to(&req, 200, "OK", None).to_bytes();
                self.sh.transport.send(&peer, ok).await;
                if self.finished_at.is_none() {
                    self.caller_left("caller hung up").await;
                }
            }
            Method::Cancel => {
                let ok = response_to(&req, 200, "OK", None).to_bytes();
                self.sh.transport.send(&peer, ok).await;
                if let Uas::Ringing { .. } = self.uas {
                    let resp = response_to(
                        &self.invite,
                        487,
                        "Request Terminated",
                        Some(&self.local_tag),
                    )
                    .to_bytes();
                    self.send_caller(resp.clone()).await;
                    let now = self.now();
                    self.uas = Uas::Refused {
                        resp,
                        retx: (!self.caller_peer.reliable())
                            .then(|| Retransmit::new(now, Some(T2))),
                    };
                    self.event("cancelled", json!({}));
                    self.finish("caller cancelled").await;
                }
            }
            Method::Info => {
                let ok = response_to(&req, 200, "OK", None).to_bytes();
                self.sh.transport.send(&peer, ok).await;
                if let Some(d) = info_digit(&req) {
                    self.digit(d).await;
                }
            }
            _ => {
                let ok = response_to(&req, 200, "OK", None).to_bytes();
                self.sh.transport.send(&peer, ok).await;
            }
        }
    }

    /// A re-INVITE from the caller (hold, resume, new address): answer with our SDP.
    pub(super) async fn reinvite(&mut self, req: Request, peer: Peer) {
        if let Ok(offer) = Sdp::parse(&req.body) {
            let port = self
                .caller
                .socket
                .local_addr()
                .map(|a| a.port())
                .unwrap_or(0);
            let ip = self.sh.media_ip();
            self.sdp_version += 1;
            let keys = self.caller.srtp_keys();
            let (id, v) = (self.session_id, self.sdp_version);
            match super::super::secure_media::reanswer(&offer, ip, port, id, v, keys) {
                Ok((text, n)) => {
                    self.answer_sdp = text;
                    self.caller.renegotiate(&n);
                    self.event("reinvite", json!({"direction": n.direction.as_str()}));
                }
                Err(_) => {
                    let r = response_to(&req, 488, "Not Acceptable Here", None).to_bytes();
                    return self.sh.transport.send(&peer, r).await;
                }
            }
        }
        let ok = self
            .with_contact(response_to(&req, 200, "OK", None))
            .with_body("application/sdp", self.answer_sdp.clone().into_bytes());
        self.sh.transport.send(&peer, ok.to_bytes()).await;
    }

    /// Sends BYE to the caller (the line ends the call).
    pub(super) async fn hang_up_caller(&mut self) {
        if let (Some(d), Uas::Answered { .. }) = (&mut self.dialog, &self.uas) {
            if let Ok(bye) = bye_for_dialog(d, &self.caller_via) {
                let bytes = bye.to_bytes();
                self.send_caller(bytes.clone()).await;
                if !self.caller_peer.reliable() {
                    self.bye_to_caller = Some((Retransmit::new(self.now(), Some(T2)), bytes));
                }
            }
        }
    }
}

/// A digit from a SIP INFO (`application/dtmf-relay`: `Signal=5`, or `application/dtmf`).
fn info_digit(req: &Request) -> Option<char> {
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
