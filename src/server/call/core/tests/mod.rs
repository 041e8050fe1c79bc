//! The call core on fake time: one file per scenario it pins. Each builds a [`CallCore`] for the
//! demo support plan, feeds it SIP from a caller at 10.0.0.2 and an agent at 10.0.0.7, timers
//! and media events at chosen instants, and checks what it sends, stores and decides.

mod ack_timeout_ends_the_call_with_a_bye;
mod agent_drop_requeues_at_the_head_with_context;
mod answers_go_where_the_request_came_from;
mod asr_deadline_goes_to_a_person;
mod attended_transfer_with_replaces;
mod bridge_then_agent_hangs_up;
mod bridge_then_caller_hangs_up;
mod callback_offer_keys_and_words;
mod cancel_vs_200_race;
mod late_console_offer_fails_nobody;
mod no_agent_leaves_a_message;
mod reinvite_hold_and_resume;
mod retransmitted_invite_gets_the_same_answer;
mod stranger_on_the_call_id_gets_481;
mod transfer_after_the_bridge;
mod trunk_agent_is_called_through_the_proxy;
mod warm_brief_then_take_or_pass;

use super::*;
use crate::agents::Reach;
use crate::dialplan::{load_file, LoadOptions};
use crate::engine::Program;
use crate::sip::LocalVia;
use crate::sip::{parse, response_to, sdp, Method, Response};
use std::path::Path;
use std::sync::Arc;

pub(super) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub(super) fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub(super) const CALLER: &str = "10.0.0.2:5060";
pub(super) const AGENT: &str = "10.0.0.7:5070";
pub(super) const CALL_ID: &str = "call-1@10.0.0.2";

pub(super) fn caller_addr() -> SocketAddr {
    CALLER.parse().unwrap()
}

pub(super) fn agent_addr() -> SocketAddr {
    AGENT.parse().unwrap()
}

const OFFER: &str = "v=0\r\no=alice 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n\
m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n";

/// An SDP offer from the caller with `direction` (`sendrecv`, `sendonly`…).
pub(super) fn offer(direction: &str) -> String {
    format!("{OFFER}a={direction}\r\n")
}

fn message(text: &str) -> SipMessage {
    match parse(text.as_bytes()) {
        Ok(m) => m,
        Err(e) => panic!("test message does not parse: {e:?}\n{text}"),
    }
}

/// A request from the caller: `to_tag` once the dialog has one, `body` an SDP or empty.
pub(super) fn caller_request(
    method: Method,
    branch: &str,
    cseq: u32,
    to_tag: Option<&str>,
    body: &str,
) -> Request {
    let m = method.as_str();
    let to_tag = to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
    let ctype = if body.is_empty() {
        String::new()
    } else {
        "Content-Type: application/sdp\r\n".to_string()
    };
    let text = format!(
        "{m} sip:support@127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP {CALLER};branch={branch}\r\n\
         Max-Forwards: 70\r\nFrom: <sip:alice@10.0.0.2>;tag=alicetag\r\n\
         To: <sip:support@127.0.0.1>{to_tag}\r\nCall-ID: {CALL_ID}\r\nCSeq: {cseq} {m}\r\n\
         Contact: <sip:alice@{CALLER}>\r\n{ctype}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    match message(&text) {
        SipMessage::Request(r) => r,
        _ => panic!("not a request"),
    }
}

/// The caller's INVITE (branch `z9hG4bKinv1`, CSeq 1).
pub(super) fn invite() -> Request {
    caller_request(Method::Invite, "z9hG4bKinv1", 1, None, &offer("sendrecv"))
}

/// The demo support plan's engine.
fn engine() -> engine::Call {
    let opts = LoadOptions {
        skip_prompt_files: true,
        ..LoadOptions::default()
    };
    let plan = load_file(Path::new("dialplans/support.toml"), &opts)
        .expect("the demo plan loads")
        .plan;
    engine::Call::new(Arc::new(Program::new(plan, Default::default())))
}

fn via(transport: &str) -> LocalVia {
    LocalVia {
        host: "127.0.0.1".into(),
        port: 5060,
        transport: transport.into(),
    }
}

/// The support queue: agents ring 20 s, callers wait 120 s, then a message of up to 60 s.
pub(super) fn rules() -> handoff::Rules {
    handoff::Rules {
        ring_timeout: s(20),
        max_wait: s(120),
        announce_every: s(30),
        message_max: s(60),
        brief: None,
        callback_after: None,
    }
}

fn config(answer_delay: Duration) -> Config {
    config_with(answer_delay, rules())
}

fn config_with(answer_delay: Duration, support: handoff::Rules) -> Config {
    Config {
        call_id: "abc-1".into(),
        call_url: "http://127.0.0.1:8080/api/calls/abc-1".into(),
        answer_delay,
        caller: CallerConfig {
            addr: caller_addr(),
            reliable: false,
            trusted_peers: Vec::new(),
            via: via("UDP"),
            contact: "<sip:humanline@127.0.0.1:5060>".into(),
            media: MediaAddr {
                ip: "127.0.0.1".parse().unwrap(),
                port: 30000,
                session_id: 7,
            },
            answer_sdp: sdp::offer("127.0.0.1".parse().unwrap(), 30000, 7),
            srtp_keys: None,
        },
        agent_via: via("UDP"),
        agent_via_tls: Some(LocalVia {
            port: 5061,
            ..via("TLS")
        }),
        agents: ["alice", "bob", "carol"]
            .into_iter()
            .map(String::from)
            .collect(),
        srtp_queues: Default::default(),
        callback_numbers: [(
            "support".to_string(),
            vec!["555".to_string(), "+1".to_string()],
        )]
        .into_iter()
        .collect(),
        trunks: Default::default(),
        rtp_timeout: s(30),
        agent_rtp_timeout: s(5),
        queues: [
            ("support".to_string(), support),
            ("billing".to_string(), rules()),
        ]
        .into_iter()
        .collect(),
        message_max: s(60),
    }
}

/// A call under test and everything it output, with the time it was output.
pub(super) struct Call {
    pub core: CallCore,
    pub log: Vec<(Duration, Output)>,
    pub now: Duration,
}

impl Call {
    /// A call whose INVITE arrived at 0, answered after `answer_delay`.
    pub fn new(answer_delay: Duration) -> Call {
        Call::with_config(config(answer_delay))
    }

    /// A call answered at once and ACKed at 10 ms, its support queue following `support`.
    pub fn answered_with(support: handoff::Rules) -> Call {
        let mut call = Call::with_config(config_with(Duration::ZERO, support));
        call.caller_sends(ms(10), ack(1, "z9hG4bKack1"));
        call
    }

    pub fn with_config(config: Config) -> Call {
        let core = CallCore::new(Duration::ZERO, config, invite(), "ourtag".into(), engine())
            .expect("a core for the INVITE");
        let mut call = Call {
            core,
            log: Vec::new(),
            now: Duration::ZERO,
        };
        call.collect();
        call
    }

    /// A call answered at once and ACKed at 10 ms.
    pub fn answered() -> Call {
        let mut call = Call::new(Duration::ZERO);
        call.caller_sends(ms(10), ack(1, "z9hG4bKack1"));
        call
    }

    fn collect(&mut self) -> Vec<Output> {
        let mut outs = Vec::new();
        while let Some(o) = self.core.poll_output() {
            self.log.push((self.now, o.clone()));
            outs.push(o);
        }
        outs
    }

    /// Feeds `input` at `at` (after running the timers due before it); returns the outputs.
    pub fn feed(&mut self, at: Duration, input: Input) -> Vec<Output> {
        let mut outs = self.run_until(at);
        self.now = at;
        self.core.handle(at, input);
        outs.extend(self.collect());
        outs
    }

    /// Runs the core's timers up to `until` (inclusive), like a shell sleeping until each
    /// `poll_timeout`. Caller RTP keeps flowing meanwhile unless the test stops it.
    pub fn run_until(&mut self, until: Duration) -> Vec<Output> {
        let mut outs = Vec::new();
        let mut fired: Option<Duration> = None;
        while let Some(t) = self.core.poll_timeout() {
            if t > until {
                break;
            }
            if fired.is_some_and(|f| t <= f) {
                // A timer that stays due after it fired would spin a shell's loop; only the
                // linger time of a call that can be forgotten may.
                assert!(self.core.can_forget(t), "a timer stuck at {t:?}");
                break;
            }
            let t = t.max(self.now);
            self.now = t;
            fired = Some(t);
            self.core.handle(t, Input::Timer);
            outs.extend(self.collect());
        }
        self.now = self.now.max(until);
        outs
    }

    /// Caller RTP every second from now until `until` (timers run in between).
    pub fn caller_audio_until(&mut self, until: Duration) -> Vec<Output> {
        let mut outs = Vec::new();
        let mut t = self.now + s(1);
        while t <= until {
            outs.extend(self.feed(t, Input::CallerPacket));
            t += s(1);
        }
        outs.extend(self.run_until(until));
        outs
    }

    /// A SIP message from the caller at `at`.
    pub fn caller_sends(&mut self, at: Duration, req: Request) -> Vec<Output> {
        let input = Input::Sip {
            msg: SipMessage::Request(req),
            source: caller_addr(),
        };
        self.feed(at, input)
    }

    /// A response from the agent's phone at `at`.
    pub fn agent_sends(&mut self, at: Duration, resp: Response) -> Vec<Output> {
        let input = Input::Sip {
            msg: SipMessage::Response(resp),
            source: agent_addr(),
        };
        self.feed(at, input)
    }

    /// Zero-out at `at`, the queue staffed or not: the hand-off starts.
    pub fn zero_out(&mut self, at: Duration, staffed: bool) -> Vec<Output> {
        let mut outs = self.feed(at, Input::Digit('0'));
        assert!(
            outs.iter().any(|o| matches!(o, Output::Transfer { .. })),
            "zero-out hands over: {outs:?}"
        );
        outs.extend(self.feed(at, Input::QueueStaffed(staffed)));
        outs
    }

    /// The ACD offers agent `name` at `at`; the shell's media is ready: returns the INVITE.
    pub fn ring_agent(&mut self, at: Duration, name: &str) -> Request {
        let uri = format!("sip:{name}@{AGENT}");
        let outs = self.feed(
            at,
            Input::Offered {
                agent: name.into(),
                reach: Reach::Static(uri.clone()),
                skipped: Vec::new(),
            },
        );
        assert!(
            outs.contains(&Output::PrepareAgent {
                agent: name.into(),
                uri: uri.clone(),
                target: None,
                tls: false,
            }),
            "{outs:?}"
        );
        let outs = self.feed(
            at,
            Input::AgentOffer {
                agent: name.into(),
                uri,
                target: None,
                tls: false,
                sdp: sdp::offer("127.0.0.1".parse().unwrap(), 30002, 7),
                keys: Vec::new(),
            },
        );
        let invites: Vec<Request> = requests(&to_agent(&outs));
        assert_eq!(invites.len(), 1, "one INVITE to the agent: {outs:?}");
        assert_eq!(invites[0].method, Method::Invite);
        invites[0].clone()
    }

    /// Rings `name` at `at` and has it answer at `answered`: bridged. Returns the INVITE.
    pub fn bridge(&mut self, at: Duration, answered: Duration, name: &str) -> Request {
        let inv = self.ring_agent(at, name);
        let outs = self.agent_sends(answered, agent_answer(&inv, 200));
        assert!(
            outs.iter().any(|o| matches!(o, Output::Bridge { .. })),
            "the agent's 200 bridges: {outs:?}"
        );
        assert!(
            methods(&to_agent(&outs)).contains(&Method::Ack),
            "the agent's 200 is ACKed: {outs:?}"
        );
        assert!(self.core.bridged());
        inv
    }

    /// Every output so far that matches `f`.
    pub fn outputs(&self, f: impl Fn(&Output) -> bool) -> Vec<Output> {
        self.log
            .iter()
            .filter(|(_, o)| f(o))
            .map(|(_, o)| o.clone())
            .collect()
    }

    /// The kinds of the events stored so far, in order.
    pub fn events(&self) -> Vec<&'static str> {
        self.log
            .iter()
            .filter_map(|(_, o)| match o {
                Output::Event(k, _) => Some(*k),
                _ => None,
            })
            .collect()
    }

    /// The call's ending, once it ended.
    pub fn ending(&self) -> Option<Ending> {
        self.log.iter().find_map(|(_, o)| match o {
            Output::Finished(e) => Some((**e).clone()),
            _ => None,
        })
    }
}

/// The caller's ACK for a 2xx (new branch, our To tag).
pub(super) fn ack(cseq: u32, branch: &str) -> Request {
    caller_request(Method::Ack, branch, cseq, Some("ourtag"), "")
}

/// The caller's BYE.
pub(super) fn bye(cseq: u32) -> Request {
    caller_request(Method::Bye, "z9hG4bKbye1", cseq, Some("ourtag"), "")
}

/// The agent's answer to our INVITE (with an SDP answer for a 2xx).
pub(super) fn agent_answer(inv: &Request, status: u16) -> Response {
    let mut r = response_to(inv, status, "X", Some("agenttag"));
    r.headers.push("Contact", format!("<sip:agent@{AGENT}>"));
    if status == 200 {
        let body = "v=0\r\no=- 1 1 IN IP4 10.0.0.7\r\ns=-\r\nc=IN IP4 10.0.0.7\r\nt=0 0\r\n\
                    m=audio 6100 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";
        r = r.with_body("application/sdp", body.as_bytes().to_vec());
    }
    r
}

/// A request from the agent's phone in the dialog of our INVITE `inv` (its 200 carried
/// `agenttag`).
pub(super) fn agent_request(inv: &Request, method: Method, cseq: u32) -> Request {
    let m = method.as_str();
    let from = inv.headers.get("From").unwrap_or_default();
    let to = inv.headers.get("To").unwrap_or_default();
    let cid = inv.headers.call_id().unwrap_or_default();
    let text = format!(
        "{m} sip:humanline@127.0.0.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP {AGENT};branch=z9hG4bKagent{cseq}\r\n\
         Max-Forwards: 70\r\nFrom: {to};tag=agenttag\r\nTo: {from}\r\nCall-ID: {cid}\r\n\
         CSeq: {cseq} {m}\r\nContent-Length: 0\r\n\r\n"
    );
    match message(&text) {
        SipMessage::Request(r) => r,
        _ => panic!("not a request"),
    }
}

/// The SIP bytes sent to the caller among `outs` (to its address, or back to where its
/// request came from: in these tests, the same).
/// The agent's REFER naming `target` (in the dialog of `inv`, the INVITE it answered).
pub(super) fn refer(inv: &Request, target: &str) -> Input {
    let mut r = agent_request(inv, Method::Refer, 2);
    r.headers.push("Refer-To", format!("<{target}>"));
    Input::Sip {
        msg: SipMessage::Request(r),
        source: agent_addr(),
    }
}

pub(super) fn to_caller(outs: &[Output]) -> Vec<SipMessage> {
    outs.iter()
        .filter_map(|o| match o {
            Output::ToCaller(b) | Output::ToSource(b) => {
                Some(parse(b).expect("we send SIP that parses"))
            }
            _ => None,
        })
        .collect()
}

/// The SIP bytes sent to the agent among `outs`.
pub(super) fn to_agent(outs: &[Output]) -> Vec<SipMessage> {
    outs.iter()
        .filter_map(|o| match o {
            Output::ToAgent { bytes, .. } => Some(parse(bytes).expect("we send SIP that parses")),
            _ => None,
        })
        .collect()
}

/// The requests among `msgs`.
pub(super) fn requests(msgs: &[SipMessage]) -> Vec<Request> {
    msgs.iter()
        .filter_map(|m| match m {
            SipMessage::Request(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

/// The response statuses among `msgs`.
pub(super) fn statuses(msgs: &[SipMessage]) -> Vec<u16> {
    msgs.iter()
        .filter_map(|m| match m {
            SipMessage::Response(r) => Some(r.status),
            _ => None,
        })
        .collect()
}

/// The methods of the requests among `msgs`.
pub(super) fn methods(msgs: &[SipMessage]) -> Vec<Method> {
    requests(msgs).into_iter().map(|r| r.method).collect()
}
