//! The agent leg on fake time: context headers, retransmissions, answers, refusals, CANCEL
//! and BYE from either side, and the hard cases its transactions now cover.

use super::*;
use crate::sip::{new_branch, parse, NameAddr, RequestBuilder, SipMessage};

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
        language: "zh",
    }
}

fn dial() -> (AgentLeg, Request) {
    let offer = sdp::offer("127.0.0.1".parse().unwrap(), 30000, 1);
    let uri = "sip:agent@127.0.0.1:5070";
    let (leg, bytes) = AgentLeg::dial(
        Duration::ZERO,
        uri,
        Hop::to(uri, None, false).unwrap(),
        &via(),
        (offer, SrtpOffer::default()),
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
    assert_eq!(req.headers.get("X-Humanline-Language"), Some("zh"));
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
        Hop::udp("127.0.0.1:5070".parse().unwrap()),
        &via(),
        (
            sdp::offer("127.0.0.1".parse().unwrap(), 30000, 1),
            SrtpOffer::default(),
        ),
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
    let (send, ev) = leg.on_response(Duration::from_secs(6), &answer(&req, 200, Some(AGENT_SDP)));
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
    let (again, ev) = leg.on_response(Duration::from_secs(7), &answer(&req, 200, Some(AGENT_SDP)));
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
    let (send, ev) = leg.on_response(Duration::from_secs(1), &answer(&req, 200, Some(AGENT_SDP)));
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

fn text(bytes: &[Vec<u8>]) -> Vec<String> {
    bytes
        .iter()
        .map(|b| {
            String::from_utf8_lossy(b)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

fn agent_request(leg: &AgentLeg, invite: &Request, method: Method, cseq: u32) -> Request {
    RequestBuilder::new(method, "sip:humanline@127.0.0.1:5060")
        .via("127.0.0.1", 5070, "UDP", &new_branch())
        .from(NameAddr::new("sip:agent@127.0.0.1:5070").with_tag("agenttag"))
        .to(invite.headers.from().unwrap())
        .call_id(leg.call_id().to_string())
        .cseq(cseq)
        .build()
        .unwrap()
}

fn answered() -> (AgentLeg, Request) {
    let (mut leg, req) = dial();
    leg.on_response(Duration::from_millis(100), &answer(&req, 180, None));
    let (_, ev) = leg.on_response(Duration::from_secs(1), &answer(&req, 200, Some(AGENT_SDP)));
    assert!(matches!(ev, Some(LegEvent::Answered(_))));
    (leg, req)
}

#[test]
fn hang_up_before_the_agent_rings_cancels_once_it_rings() {
    let (mut leg, req) = dial();
    assert!(
        leg.hang_up(Duration::from_millis(100)).is_empty(),
        "RFC 3261 §9.1: no CANCEL before a provisional"
    );
    let (send, ev) = leg.on_response(Duration::from_millis(300), &answer(&req, 180, None));
    assert!(ev.is_none());
    assert_eq!(text(&send), ["CANCEL sip:agent@127.0.0.1:5070 SIP/2.0"]);
    let (send, ev) = leg.on_response(Duration::from_millis(400), &answer(&req, 487, None));
    assert!(ev.is_none());
    assert_eq!(text(&send), ["ACK sip:agent@127.0.0.1:5070 SIP/2.0"]);
    assert!(leg.done());
}

#[test]
fn a_retransmitted_refusal_is_acked_again_without_a_second_event() {
    let (mut leg, req) = dial();
    let busy = answer(&req, 486, None);
    let (_, ev) = leg.on_response(Duration::from_secs(1), &busy);
    assert_eq!(ev, Some(LegEvent::Failed(486)));
    let (send, ev) = leg.on_response(Duration::from_secs(2), &busy);
    assert_eq!(
        text(&send),
        ["ACK sip:agent@127.0.0.1:5070 SIP/2.0"],
        "Timer D"
    );
    assert!(ev.is_none());
}

#[test]
fn our_bye_is_retransmitted_until_the_agent_answers() {
    let (mut leg, _) = answered();
    let sent = leg.hang_up(Duration::from_secs(2));
    assert_eq!(text(&sent), ["BYE sip:agent@127.0.0.1:5070 SIP/2.0"]);
    let bye = match parse(&sent[0]).unwrap() {
        SipMessage::Request(r) => r,
        SipMessage::Response(_) => unreachable!(),
    };
    let (again, _) = leg.poll(Duration::from_millis(2500));
    assert_eq!(
        text(&again),
        ["BYE sip:agent@127.0.0.1:5070 SIP/2.0"],
        "Timer E"
    );
    leg.on_response(
        Duration::from_millis(2600),
        &response_to(&bye, 200, "OK", None),
    );
    assert!(leg.done());
}

#[test]
fn a_retransmitted_bye_from_the_agent_gets_the_same_200_and_one_event() {
    let (mut leg, req) = answered();
    let bye = agent_request(&leg, &req, Method::Bye, 1);
    let (send, ev) = leg.on_request_at(Duration::from_secs(3), &bye);
    assert_eq!(ev, Some(LegEvent::HungUp));
    let (again, ev) = leg.on_request_at(Duration::from_secs(4), &bye);
    assert_eq!(again, send, "Timer J: the same answer");
    assert!(ev.is_none(), "hung up once");
}

#[test]
fn an_agent_reinvite_is_refused_488_until_its_ack() {
    let (mut leg, req) = answered();
    let reinvite = agent_request(&leg, &req, Method::Invite, 2);
    let (send, ev) = leg.on_request_at(Duration::from_secs(3), &reinvite);
    assert_eq!(text(&send), ["SIP/2.0 488 Not Acceptable Here"]);
    assert!(ev.is_none());
    let (again, _) = leg.poll(Duration::from_millis(3500));
    assert_eq!(text(&again), ["SIP/2.0 488 Not Acceptable Here"], "Timer G");
    assert!(leg.confirmed(), "the bridge stays");
}

#[test]
fn an_out_of_order_request_from_the_agent_gets_500() {
    let (mut leg, req) = answered();
    leg.on_request_at(
        Duration::from_secs(3),
        &agent_request(&leg, &req, Method::Info, 5),
    );
    let (send, _) = leg.on_request_at(
        Duration::from_secs(4),
        &agent_request(&leg, &req, Method::Info, 4),
    );
    assert_eq!(text(&send), ["SIP/2.0 500 Server Internal Error"]);
}

#[test]
fn a_late_200_after_the_timeout_is_acked_and_hung_up() {
    let (mut leg, req) = dial();
    let mut t = Duration::ZERO;
    while !leg.done() {
        t += Duration::from_millis(500);
        leg.poll(t);
    }
    let (send, ev) = leg.on_response(t, &answer(&req, 200, Some(AGENT_SDP)));
    assert!(ev.is_none(), "nobody waits for it any more");
    assert_eq!(
        text(&send),
        [
            "ACK sip:agent@127.0.0.1:5070 SIP/2.0",
            "BYE sip:agent@127.0.0.1:5070 SIP/2.0"
        ]
    );
}

#[test]
fn a_flood_of_agent_requests_is_answered_but_not_all_remembered() {
    let (mut leg, req) = answered();
    for n in 0..40 {
        let options = agent_request(&leg, &req, Method::Options, 10 + n);
        let (send, _) = leg.on_request_at(Duration::from_secs(3), &options);
        assert_eq!(text(&send), ["SIP/2.0 200 OK"], "request {n}");
    }
    assert!(leg.served.len() <= MAX_SERVED);
}
