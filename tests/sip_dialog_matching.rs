//! Only the caller can act on their call: a BYE, re-INVITE or INFO on the call's Call-ID with
//! another From or To tag, or sent from another address, gets 481 and changes nothing; the
//! caller's own BYE still ends the call.

mod common;

use common::rawsip::{RawCall, SipSocket};
use common::server::{serial, ServerOptions, TestServer};
use std::time::Duration;

/// Sends `text` from `sock` and returns the status of the final response to `method`.
fn status_of(
    sock: &mut SipSocket,
    text: &str,
    to: std::net::SocketAddr,
    call_id: &str,
    method: &str,
) -> Option<u16> {
    sock.send_to(text, to);
    let mut prov = Vec::new();
    sock.final_response(call_id, method, Duration::from_secs(3), &mut prov)
        .map(|r| r.code())
}

#[test]
fn requests_with_the_wrong_tags_or_from_elsewhere_get_481_and_the_call_goes_on() {
    let _g = serial();
    let server = TestServer::start(ServerOptions {
        // No speech model needed: nobody speaks.
        asr: Some("model = \"/nonexistent/model.bin\"".into()),
        ..ServerOptions::default()
    });
    let mut call = RawCall::establish(server.sip_addr(), "support");
    let cid = call.call_id.clone();
    let to = call.dialog_target();
    let from_tag = format!(";tag={}", call.from_tag);
    let to_tag = format!(";tag={}", call.to_tag.clone().expect("the server's tag"));
    let mut cseq = 10;
    let mut next = |method: &str| {
        cseq += 1;
        call.in_dialog_text(method, cseq)
    };
    let info_zero = |text: String| {
        text.replace(
            "Content-Length: 0\r\n\r\n",
            "Content-Type: application/dtmf-relay\r\nContent-Length: 10\r\n\r\nSignal=0\r\n",
        )
    };
    let forgeries = [
        ("BYE", next("BYE").replace(&from_tag, ";tag=forged")),
        ("BYE", next("BYE").replace(&to_tag, ";tag=forged")),
        ("INVITE", next("INVITE").replace(&from_tag, ";tag=forged")),
        (
            "INFO",
            info_zero(next("INFO").replace(&from_tag, ";tag=forged")),
        ),
    ];
    let right = [("BYE", next("BYE")), ("INFO", info_zero(next("INFO")))];
    // From the caller's own socket, with the wrong tags.
    for (method, text) in &forgeries {
        let got = status_of(&mut call.sip, text, to, &cid, method);
        assert_eq!(got, Some(481), "{method} with a forged tag:\n{text}");
    }
    // With the right tags, from another address.
    let mut stranger = SipSocket::bind_on([127, 0, 0, 2]);
    for (method, text) in &right {
        let got = status_of(&mut stranger, text, to, &cid, method);
        assert_eq!(got, Some(481), "{method} from another address");
    }
    assert_eq!(
        (server.metric("humanline_sip_dialog_mismatch_total") as u64),
        6
    );
    let live = server.live_calls();
    assert_eq!(live.len(), 1, "the call goes on");
    assert_eq!(live[0]["state"], "ivr");
    assert!(
        live[0]["reason"].is_null(),
        "the forged 0 transferred nothing"
    );
    // The caller's own BYE ends it.
    assert_eq!(call.bye().map(|r| r.code()), Some(200));
}
