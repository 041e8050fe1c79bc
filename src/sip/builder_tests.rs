//! What the builders promise: replies that route back, requests peers accept.

use super::fixtures::*;
use super::*;

fn request(bytes: &[u8]) -> Request {
    match parse(bytes) {
        Ok(SipMessage::Request(r)) => r,
        other => panic!("expected a request, got {other:?}"),
    }
}

fn response(bytes: &[u8]) -> Response {
    match parse(bytes) {
        Ok(SipMessage::Response(r)) => r,
        other => panic!("expected a response, got {other:?}"),
    }
}

fn agent_via() -> LocalVia {
    LocalVia {
        host: "10.0.0.5".into(),
        port: 5060,
        transport: "UDP".into(),
    }
}

#[test]
fn response_keeps_via_order_and_adds_the_to_tag() {
    let mut req = request(&sipp_invite());
    req.headers.push(
        "Via",
        "SIP/2.0/UDP second.example;branch=z9hG4bK2, SIP/2.0/UDP third.example;branch=z9hG4bK3",
    );
    let resp = response_to(&req, 180, "Ringing", Some("ht1"));
    let parsed = response(&resp.to_bytes());
    let hosts: Vec<_> = parsed
        .headers
        .via()
        .unwrap()
        .into_iter()
        .map(|v| v.host)
        .collect();
    assert_eq!(hosts, ["127.0.1.1", "second.example", "third.example"]);
    assert_eq!(parsed.headers.to().unwrap().tag(), Some("ht1"));
    assert_eq!(parsed.headers.from().unwrap().tag(), Some("3131SIPpTag001"));
    assert_eq!(parsed.headers.cseq().unwrap(), (1, Method::Invite));
    assert_eq!(parsed.headers.call_id(), req.headers.call_id());
    assert_eq!(parsed.headers.get("Server"), Some("humanline"));
    assert_eq!(parsed.headers.content_length().unwrap(), Some(0));
}

#[test]
fn response_never_adds_a_second_tag_or_one_to_100_trying() {
    let req = request(&sipp_invite());
    let trying = response_to(&req, 100, "Trying", None);
    assert_eq!(trying.headers.to().unwrap().tag(), None);
    let mut tagged = req.clone();
    tagged.headers.set("To", "<sip:service@127.0.0.1>;tag=old");
    let ok = response_to(&tagged, 200, "OK", Some("new"));
    assert_eq!(ok.headers.to().unwrap().tag(), Some("old"));
}

#[test]
fn response_with_sdp_body_has_matching_length() {
    let req = request(&sipp_invite());
    let resp =
        response_to(&req, 200, "OK", Some("t")).with_body("application/sdp", b"v=0\r\n".to_vec());
    let parsed = response(&resp.to_bytes());
    assert_eq!(parsed.body, b"v=0\r\n");
    assert_eq!(parsed.headers.get("content-type"), Some("application/sdp"));
}

#[test]
fn response_after_nat_stamp_goes_back_to_the_public_address() {
    let mut req = request(&baresip_invite());
    req.stamp_received("198.51.100.7:61000".parse().unwrap())
        .unwrap();
    let resp = response_to(&req, 200, "OK", Some("t"));
    let via = &resp.headers.via().unwrap()[0];
    assert_eq!(via.received.as_deref(), Some("198.51.100.7"));
    assert_eq!(via.rport, Some(Some(61000)));
}

#[test]
fn agent_leg_invite_carries_context_headers_and_parses_back() {
    let invite = RequestBuilder::new(Method::Invite, "sip:agent7@192.168.1.40")
        .via("10.0.0.5", 5060, "udp", &new_branch())
        .from(
            NameAddr::new("sip:queue-billing@10.0.0.5")
                .with_display("Billing queue")
                .with_tag(new_tag()),
        )
        .to(NameAddr::new("sip:agent7@10.0.0.5"))
        .call_id(new_call_id("10.0.0.5"))
        .cseq(1)
        .contact("sip:humanline@10.0.0.5:5060")
        .header("X-Humanline-Reason", "caller asked for a human")
        .header(
            "X-Humanline-Summary",
            "refund for order 1234\r\nInjected: yes",
        )
        .header(
            "Call-Info",
            "<https://humanline.example/calls/42>;purpose=info",
        )
        .body(
            "application/sdp",
            sdp::offer("10.0.0.5".parse().unwrap(), 40000, 7).into_bytes(),
        )
        .build()
        .unwrap();
    let parsed = request(&invite.to_bytes());
    assert_eq!(parsed, invite);
    let via = &parsed.headers.via().unwrap()[0];
    assert_eq!((via.transport.as_str(), via.rport), ("UDP", Some(None)));
    assert!(via.branch.as_deref().unwrap().starts_with(BRANCH_COOKIE));
    assert_eq!(parsed.headers.max_forwards().unwrap(), Some(70));
    assert_eq!(
        parsed.headers.get("X-Humanline-Summary"),
        Some("refund for order 1234  Injected: yes")
    );
    assert_eq!(parsed.headers.get("Injected"), None);
    assert!(Sdp::parse(&parsed.body).is_ok());
}

#[test]
fn builder_refuses_incomplete_requests() {
    let no_tag = RequestBuilder::new(Method::Invite, "sip:a@b")
        .via("h", 5060, "UDP", "z9hG4bK1")
        .from(NameAddr::new("sip:me@h"))
        .to(NameAddr::new("sip:a@b"))
        .call_id("c")
        .build();
    assert_eq!(no_tag.unwrap_err().kind, SipErrorKind::BadHeaderValue);
    let no_via = RequestBuilder::new(Method::Bye, "sip:a@b")
        .build()
        .unwrap_err();
    assert_eq!(no_via.detail, "missing Via");
}

#[test]
fn ack_for_2xx_follows_contact_and_reversed_record_route() {
    let invite = request(&sipp_invite());
    let ok = response(&sipp_200());
    let ack = ack_for_2xx(&invite, &ok).unwrap();
    assert_eq!(ack.uri, "sip:127.0.0.1:5060;transport=UDP");
    assert_eq!(
        ack.headers.get_all("Route"),
        ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
    );
    assert_eq!(ack.headers.cseq().unwrap(), (1, Method::Ack));
    assert_eq!(ack.headers.to().unwrap().tag(), Some("4242SIPpTag012"));
    let top = &ack.headers.via().unwrap()[0];
    assert_ne!(top.branch.as_deref(), Some("z9hG4bK-3131-1-0"));
    assert!(parse(&ack.to_bytes()).is_ok());
}

#[test]
fn ack_for_failure_and_cancel_stay_in_the_invite_transaction() {
    let invite = request(&sipp_invite());
    let mut busy = response(&sipp_200());
    busy.status = 486;
    let ack = ack_for_failure(&invite, &busy).unwrap();
    assert_eq!(ack.uri, invite.uri);
    assert_eq!(ack.headers.get("Via"), invite.headers.get("Via"));
    assert_eq!(ack.headers.cseq().unwrap(), (1, Method::Ack));
    let cancel = cancel_for(&invite).unwrap();
    assert_eq!(cancel.headers.get("Via"), invite.headers.get("Via"));
    assert_eq!(cancel.headers.cseq().unwrap(), (1, Method::Cancel));
    assert_eq!(cancel.headers.to().unwrap().tag(), None);
    assert!(parse(&cancel.to_bytes()).is_ok());
}

#[test]
fn bye_from_either_side_of_a_dialog() {
    let invite = request(&sipp_invite());
    // We answered the caller: BYE goes to their Contact, From carries our tag.
    let mut uas = Dialog::as_uas(&invite, "ours").unwrap();
    let bye = bye_for_dialog(&mut uas, &agent_via()).unwrap();
    assert_eq!(bye.uri, "sip:sipp@127.0.1.1:5061");
    assert_eq!(bye.headers.from().unwrap().tag(), Some("ours"));
    assert_eq!(bye.headers.to().unwrap().tag(), Some("3131SIPpTag001"));
    assert_eq!(bye.headers.cseq().unwrap(), (1, Method::Bye));
    assert!(parse(&bye.to_bytes()).is_ok());
    // We called the agent: BYE follows the answer's Contact and route set, CSeq goes up.
    let mut uac = Dialog::as_uac(&invite, &response(&sipp_200())).unwrap();
    let bye = bye_for_dialog(&mut uac, &agent_via()).unwrap();
    assert_eq!(bye.uri, "sip:127.0.0.1:5060;transport=UDP");
    assert_eq!(bye.headers.cseq().unwrap(), (2, Method::Bye));
    assert_eq!(bye.headers.get("Route"), Some("<sip:p1.example.com;lr>"));
    assert_eq!(bye.headers.to().unwrap().tag(), Some("4242SIPpTag012"));
}
