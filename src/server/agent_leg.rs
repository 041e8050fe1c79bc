//! The outbound call to an agent (we are the UAC): INVITE with the caller's context, its
//! retransmissions, ACK, CANCEL and BYE. Sans-IO: methods take `now` and return the bytes to
//! send to [`AgentLeg::target`]; the call task owns the socket.

use super::retransmit::{Due, Retransmit, T2};
use crate::sip::{
    ack_for_2xx, ack_for_failure, bye_for_dialog, cancel_for, new_branch, new_call_id, new_tag,
    response_to, sdp, Dialog, LocalVia, Method, NameAddr, Negotiated, Request, RequestBuilder,
    Response, SipError, SipErrorKind, SipUri,
};
use std::net::{SocketAddr, ToSocketAddrs};
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// INVITE sent, nothing heard yet (retransmitting).
    Calling,
    /// A provisional response arrived.
    Proceeding,
    /// 2xx received and ACKed.
    Confirmed,
    /// CANCEL or BYE sent; waiting for the last answers.
    Leaving { until: Duration },
    /// Nothing more to do.
    Done,
}

/// One outbound agent call.
#[derive(Debug)]
pub struct AgentLeg {
    /// The configured agent URI.
    pub uri: String,
    target: SocketAddr,
    via: LocalVia,
    invite: Request,
    state: State,
    retx: Option<(Retransmit, Vec<u8>)>,
    dialog: Option<Dialog>,
    last_ack: Option<Vec<u8>>,
}

/// Everything the agent should know, sent as INVITE headers (DESIGN §5).
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// Our call id.
    pub call_id: &'a str,
    /// URL of the call in the REST API.
    pub call_url: &'a str,
    /// Escalation reason (`zero_out`…), or `routed`.
    pub reason: &'a str,
    /// One-line summary.
    pub summary: &'a str,
    /// The caller's From, shown as the calling party.
    pub caller: &'a str,
    /// Why the call was in elderly mode, when it was (sent as `X-Humanline-Elderly`): the
    /// agent should speak slowly and clearly.
    pub elderly: Option<&'a str>,
}

/// Resolves a configured agent URI to where its requests go (UDP).
pub fn resolve(uri: &str) -> Result<SocketAddr, SipError> {
    let u = SipUri::parse(uri)?;
    let port = u.port.unwrap_or(5060);
    (u.host.as_str(), port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| SipError::new(SipErrorKind::BadUri, format!("cannot resolve {uri}")))
}

/// Keeps header values on one line and printable (a summary comes from caller speech).
fn header_safe(s: &str, max: usize) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect()
}

impl AgentLeg {
    /// Builds the INVITE to `uri` carrying `ctx` and our SDP `offer`; returns the leg and the
    /// bytes to send now.
    /// `target`: where to send (a registered phone's source address); `None` resolves `uri`.
    pub fn dial(
        now: Duration,
        uri: &str,
        target: Option<SocketAddr>,
        via: &LocalVia,
        offer: String,
        ctx: &Context<'_>,
    ) -> Result<(AgentLeg, Vec<u8>), SipError> {
        let target = match target {
            Some(t) => t,
            None => resolve(uri)?,
        };
        let caller_user = NameAddr::parse(ctx.caller)
            .ok()
            .and_then(|a| a.sip_uri().ok())
            .and_then(|u| u.user)
            .unwrap_or_else(|| "caller".into());
        let from = NameAddr::new(format!("sip:{caller_user}@{}:{}", via.host, via.port))
            .with_display("humanline")
            .with_tag(new_tag());
        let hex: String = ctx.call_id.bytes().map(|b| format!("{b:02x}")).collect();
        let invite = RequestBuilder::new(Method::Invite, uri)
            .via(&via.host, via.port, &via.transport, &new_branch())
            .from(from)
            .to(NameAddr::new(uri))
            .call_id(new_call_id(&via.host))
            .cseq(1)
            .contact(format!("sip:humanline@{}:{}", via.host, via.port))
            .header("User-to-User", &format!("{hex};encoding=hex"))
            .header(
                "Call-Info",
                &format!("<{}>;purpose=info", header_safe(ctx.call_url, 512)),
            )
            .header("X-Humanline-Call-Id", &header_safe(ctx.call_id, 128))
            .header("X-Humanline-Reason", &header_safe(ctx.reason, 64))
            .header("X-Humanline-Summary", &header_safe(ctx.summary, 200))
            .header("X-Humanline-Caller", &header_safe(ctx.caller, 200));
        let invite = match ctx.elderly {
            Some(why) => invite.header("X-Humanline-Elderly", &header_safe(why, 200)),
            None => invite,
        };
        let invite = invite.body("application/sdp", offer.into_bytes()).build()?;
        Ok(AgentLeg::from_invite(now, target, via, invite))
    }

    /// A leg for an INVITE built elsewhere (the `/phone` gateway calls our own SIP address
    /// with its own headers): the same transaction and dialog handling as [`AgentLeg::dial`].
    /// Returns the leg and the bytes to send to `target` now.
    pub fn from_invite(
        now: Duration,
        target: SocketAddr,
        via: &LocalVia,
        invite: Request,
    ) -> (AgentLeg, Vec<u8>) {
        let bytes = invite.to_bytes();
        let leg = AgentLeg {
            uri: invite.uri.clone(),
            target,
            via: via.clone(),
            invite,
            state: State::Calling,
            retx: Some((Retransmit::new(now, None), bytes.clone())),
            dialog: None,
            last_ack: None,
        };
        (leg, bytes)
    }

    /// Where this leg's requests go.
    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// The SIP Call-ID of this leg (responses and requests are routed to us by it).
    pub fn call_id(&self) -> &str {
        self.invite.headers.call_id().unwrap_or_default()
    }

    /// True once the agent answered and we ACKed.
    pub fn confirmed(&self) -> bool {
        self.state == State::Confirmed
    }

    /// True when the leg needs nothing more.
    pub fn done(&self) -> bool {
        self.state == State::Done
    }

    /// When [`AgentLeg::poll`] should run next.
    pub fn deadline(&self) -> Option<Duration> {
        let r = self.retx.as_ref().map(|(r, _)| r.deadline());
        let l = match self.state {
            State::Leaving { until } => Some(until),
            _ => None,
        };
        match (r, l) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Retransmissions and timeouts.
    pub fn poll(&mut self, now: Duration) -> (Vec<Vec<u8>>, Option<LegEvent>) {
        let mut send = Vec::new();
        let mut event = None;
        if let Some((r, bytes)) = &mut self.retx {
            match r.due(now) {
                Due::Resend => send.push(bytes.clone()),
                Due::TimedOut => {
                    self.retx = None;
                    if matches!(self.state, State::Calling | State::Proceeding) {
                        event = Some(LegEvent::Failed(408));
                    }
                    self.state = State::Done;
                }
                Due::Wait => {}
            }
        }
        if let State::Leaving { until } = self.state {
            if now >= until {
                self.state = State::Done;
                self.retx = None;
            }
        }
        (send, event)
    }

    /// A response on this leg's Call-ID.
    pub fn on_response(
        &mut self,
        now: Duration,
        resp: &Response,
    ) -> (Vec<Vec<u8>>, Option<LegEvent>) {
        let Ok((_, method)) = resp.headers.cseq() else {
            return (Vec::new(), None);
        };
        if method != Method::Invite {
            // The answer to our BYE or CANCEL.
            if method == Method::Bye && matches!(self.state, State::Leaving { .. }) {
                self.state = State::Done;
                self.retx = None;
            }
            if method == Method::Cancel {
                self.retx = None;
            }
            return (Vec::new(), None);
        }
        let leaving = matches!(self.state, State::Leaving { .. });
        match resp.status {
            100..=199 => {
                if self.state == State::Calling {
                    self.state = State::Proceeding;
                    self.retx = None;
                }
                (Vec::new(), None)
            }
            200..=299 => self.on_2xx(now, resp, leaving),
            _ => {
                let mut send = Vec::new();
                if let Ok(ack) = ack_for_failure(&self.invite, resp) {
                    send.push(ack.to_bytes());
                }
                let event = (!leaving && self.state != State::Done)
                    .then_some(LegEvent::Failed(resp.status));
                // A final failure ends the INVITE transaction, whether we were still ringing
                // or had cancelled (487).
                self.state = State::Done;
                self.retx = None;
                (send, event)
            }
        }
    }

    fn on_2xx(
        &mut self,
        now: Duration,
        resp: &Response,
        leaving: bool,
    ) -> (Vec<Vec<u8>>, Option<LegEvent>) {
        // A retransmitted 2xx: our ACK was lost, send it again.
        if let (Some(ack), Some(_)) = (&self.last_ack, &self.dialog) {
            return (vec![ack.clone()], None);
        }
        let Ok(ack) = ack_for_2xx(&self.invite, resp) else {
            return (Vec::new(), Some(LegEvent::Failed(0)));
        };
        let ack = ack.to_bytes();
        self.last_ack = Some(ack.clone());
        self.retx = None;
        let Ok(dialog) = Dialog::as_uac(&self.invite, resp) else {
            return (vec![ack], Some(LegEvent::Failed(0)));
        };
        self.dialog = Some(dialog);
        let negotiated = crate::sip::Sdp::parse(&resp.body)
            .ok()
            .and_then(|s| sdp::accept_answer(&s).ok());
        let mut send = vec![ack];
        match negotiated {
            Some(n) if !leaving => {
                self.state = State::Confirmed;
                (send, Some(LegEvent::Answered(n)))
            }
            // Answered after we gave up on it (CANCEL crossed the 200), or no usable media:
            // end the dialog at once.
            _ => {
                let failed = !leaving;
                self.state = State::Confirmed;
                send.extend(self.hang_up(now));
                (send, failed.then_some(LegEvent::Failed(0)))
            }
        }
    }

    /// A request on this leg's Call-ID from the agent (BYE, re-INVITE, OPTIONS…).
    pub fn on_request(&mut self, req: &Request) -> (Vec<Vec<u8>>, Option<LegEvent>) {
        match req.method {
            Method::Bye => {
                let ok = response_to(req, 200, "OK", None).to_bytes();
                let event = (self.state == State::Confirmed).then_some(LegEvent::HungUp);
                self.state = State::Done;
                self.retx = None;
                (vec![ok], event)
            }
            Method::Ack => (Vec::new(), None),
            // Hold and other re-INVITEs from the agent are not supported: refuse politely,
            // the bridge stays as it was.
            Method::Invite => (
                vec![response_to(req, 488, "Not Acceptable Here", None).to_bytes()],
                None,
            ),
            _ => (vec![response_to(req, 200, "OK", None).to_bytes()], None),
        }
    }

    /// Ends the leg: CANCEL while it rings, BYE once answered, nothing otherwise.
    pub fn hang_up(&mut self, now: Duration) -> Vec<Vec<u8>> {
        let bytes = match (&self.state, &mut self.dialog) {
            (State::Calling | State::Proceeding, _) => match cancel_for(&self.invite) {
                Ok(c) => c.to_bytes(),
                Err(_) => return Vec::new(),
            },
            (State::Confirmed, Some(d)) => match bye_for_dialog(d, &self.via) {
                Ok(b) => b.to_bytes(),
                Err(_) => return Vec::new(),
            },
            _ => return Vec::new(),
        };
        self.state = State::Leaving {
            until: now + GOODBYE_WAIT,
        };
        self.retx = Some((Retransmit::new(now, Some(T2)), bytes.clone()));
        vec![bytes]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::{parse, SipMessage};

    fn via() -> LocalVia {
        LocalVia {
            host: "127.0.0.1".into(),
            port: 5060,
            transport: "UDP".into(),
        }
    }

    fn ctx() -> Context<'static> {
        Context {
            call_id: "abc-1",
            call_url: "http://127.0.0.1:8080/api/calls/abc-1",
            reason: "zero_out",
            summary: "zero_out at welcome\r\nInjected: x",
            elderly: None,
            caller: "<sip:alice@127.0.0.1>;tag=1",
        }
    }

    fn dial() -> (AgentLeg, Request) {
        let offer = sdp::offer("127.0.0.1".parse().unwrap(), 30000, 1);
        let (leg, bytes) = AgentLeg::dial(
            Duration::ZERO,
            "sip:agent@127.0.0.1:5070",
            None,
            &via(),
            offer,
            &ctx(),
        )
        .unwrap();
        let SipMessage::Request(req) = parse(&bytes).unwrap() else {
            panic!("not a request")
        };
        (leg, req)
    }

    fn answer(req: &Request, status: u16, sdp_body: Option<&str>) -> Response {
        let r = response_to(req, status, "X", Some("agenttag"));
        let r = match sdp_body {
            Some(b) => r.with_body("application/sdp", b.as_bytes().to_vec()),
            None => r,
        };
        let mut r = r;
        r.headers.push("Contact", "<sip:agent@127.0.0.1:5070>");
        r
    }

    const AGENT_SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6100 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";

    #[test]
    fn invite_carries_the_context_headers_on_one_line_each() {
        let (leg, req) = dial();
        assert_eq!(
            leg.target(),
            "127.0.0.1:5070".parse::<std::net::SocketAddr>().unwrap()
        );
        assert_eq!(
            req.headers.get("User-to-User"),
            Some("6162632d31;encoding=hex")
        );
        assert_eq!(
            req.headers.get("Call-Info"),
            Some("<http://127.0.0.1:8080/api/calls/abc-1>;purpose=info")
        );
        assert_eq!(req.headers.get("X-Humanline-Reason"), Some("zero_out"));
        let summary = req.headers.get("X-Humanline-Summary").unwrap();
        assert!(!summary.contains('\n') && summary.contains("Injected"));
        assert!(req.headers.get("Injected").is_none(), "no header injection");
        assert_eq!(
            req.headers.get("X-Humanline-Elderly"),
            None,
            "only for elderly calls"
        );
    }

    #[test]
    fn invite_says_why_the_caller_was_in_elderly_mode() {
        let why = "hesitation score 0.45 at \"menu\": no answer for 6.0 s\r\nInjected: y";
        let (_, bytes) = AgentLeg::dial(
            Duration::ZERO,
            "sip:agent@127.0.0.1:5070",
            None,
            &via(),
            sdp::offer("127.0.0.1".parse().unwrap(), 30000, 1),
            &Context {
                elderly: Some(why),
                ..ctx()
            },
        )
        .unwrap();
        let SipMessage::Request(req) = parse(&bytes).unwrap() else {
            panic!("not a request")
        };
        let got = req.headers.get("X-Humanline-Elderly").unwrap();
        assert!(
            got.starts_with("hesitation score 0.45 at \"menu\""),
            "{got}"
        );
        assert!(req.headers.get("Injected").is_none(), "no header injection");
    }

    #[test]
    fn invite_is_retransmitted_until_a_provisional_then_answer_is_acked() {
        let (mut leg, req) = dial();
        let (send, ev) = leg.poll(Duration::from_millis(500));
        assert_eq!(send.len(), 1, "Timer A fired");
        assert!(ev.is_none());
        leg.on_response(Duration::from_millis(600), &answer(&req, 180, None));
        assert!(
            leg.poll(Duration::from_secs(5)).0.is_empty(),
            "no resend after 180"
        );
        let (send, ev) =
            leg.on_response(Duration::from_secs(6), &answer(&req, 200, Some(AGENT_SDP)));
        let Some(LegEvent::Answered(n)) = ev else {
            panic!("not answered: {ev:?}")
        };
        assert_eq!(
            n.remote_addr,
            "127.0.0.1:6100".parse::<std::net::SocketAddr>().unwrap()
        );
        let ack = String::from_utf8(send[0].clone()).unwrap();
        assert!(
            ack.starts_with("ACK sip:agent@127.0.0.1:5070 SIP/2.0"),
            "{ack}"
        );
        // The 200 again (our ACK was lost): the same ACK again, no second event.
        let (again, ev) =
            leg.on_response(Duration::from_secs(7), &answer(&req, 200, Some(AGENT_SDP)));
        assert_eq!(again, send);
        assert!(ev.is_none());
    }

    #[test]
    fn busy_agent_is_a_failure_and_gets_an_ack() {
        let (mut leg, req) = dial();
        let (send, ev) = leg.on_response(Duration::from_secs(1), &answer(&req, 486, None));
        assert_eq!(ev, Some(LegEvent::Failed(486)));
        assert!(String::from_utf8_lossy(&send[0]).starts_with("ACK "));
        assert!(leg.done());
    }

    #[test]
    fn silent_agent_times_out_with_408() {
        let (mut leg, _) = dial();
        let mut got = None;
        let mut t = Duration::ZERO;
        while got.is_none() && t < Duration::from_secs(40) {
            t += Duration::from_millis(100);
            got = leg.poll(t).1;
        }
        assert_eq!(got, Some(LegEvent::Failed(408)));
    }

    #[test]
    fn cancel_while_ringing_then_487_is_acked_quietly() {
        let (mut leg, req) = dial();
        leg.on_response(Duration::from_millis(100), &answer(&req, 180, None));
        let sent = leg.hang_up(Duration::from_secs(1));
        assert!(String::from_utf8_lossy(&sent[0]).starts_with("CANCEL "));
        let (send, ev) = leg.on_response(Duration::from_secs(1), &answer(&req, 487, None));
        assert!(ev.is_none(), "a cancelled leg reports nothing");
        assert!(String::from_utf8_lossy(&send[0]).starts_with("ACK "));
    }

    #[test]
    fn answer_crossing_our_cancel_is_acked_and_hung_up() {
        let (mut leg, req) = dial();
        leg.on_response(Duration::from_millis(100), &answer(&req, 180, None));
        leg.hang_up(Duration::from_secs(1));
        let (send, ev) =
            leg.on_response(Duration::from_secs(1), &answer(&req, 200, Some(AGENT_SDP)));
        assert!(ev.is_none());
        let texts: Vec<String> = send
            .iter()
            .map(|b| String::from_utf8_lossy(b).into())
            .collect();
        assert!(texts[0].starts_with("ACK "));
        assert!(texts[1].starts_with("BYE "), "{texts:?}");
    }

    #[test]
    fn agent_bye_while_bridged_is_answered_and_reported() {
        let (mut leg, req) = dial();
        let ok = answer(&req, 200, Some(AGENT_SDP));
        leg.on_response(Duration::from_secs(1), &ok);
        let bye = RequestBuilder::new(Method::Bye, "sip:humanline@127.0.0.1:5060")
            .via("127.0.0.1", 5070, "UDP", &new_branch())
            .from(NameAddr::new("sip:agent@127.0.0.1:5070").with_tag("agenttag"))
            .to(req.headers.from().unwrap())
            .call_id(leg.call_id().to_string())
            .cseq(1)
            .build()
            .unwrap();
        let (send, ev) = leg.on_request(&bye);
        assert_eq!(ev, Some(LegEvent::HungUp));
        assert!(String::from_utf8_lossy(&send[0]).starts_with("SIP/2.0 200"));
    }
}
