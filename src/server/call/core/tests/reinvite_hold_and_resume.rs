//! Hold and resume by re-INVITE: each gets a 200 with our SDP answering its direction (a new
//! version each time), the media follows, a retransmitted re-INVITE gets the same 200 again
//! without changing anything, and one out of order is refused.

use super::*;
use crate::sip::Direction;

fn reinvite(cseq: u32, branch: &str, direction: &str) -> Request {
    caller_request(
        Method::Invite,
        branch,
        cseq,
        Some("ourtag"),
        &offer(direction),
    )
}

fn body(m: &SipMessage) -> String {
    match m {
        SipMessage::Response(r) => String::from_utf8_lossy(&r.body).into_owned(),
        _ => String::new(),
    }
}

#[test]
fn hold_then_resume_answer_each_offer_and_move_the_media() {
    let mut call = Call::answered();
    let outs = call.caller_sends(s(2), reinvite(2, "z9hG4bKre2", "sendonly"));
    let sent = to_caller(&outs);
    assert_eq!(statuses(&sent), [200]);
    assert!(body(&sent[0]).contains("a=recvonly"), "{}", body(&sent[0]));
    assert!(
        body(&sent[0]).contains("o=humanline 7 8 "),
        "a new SDP version"
    );
    assert!(outs
        .iter()
        .any(|o| matches!(o, Output::CallerMedia(n) if n.direction == Direction::RecvOnly)));
    call.caller_sends(ms(2100), ack(2, "z9hG4bKack2"));
    assert!(
        to_caller(&call.run_until(s(4))).is_empty(),
        "ACKed: no resend"
    );

    let outs = call.caller_sends(s(5), reinvite(3, "z9hG4bKre3", "sendrecv"));
    let sent = to_caller(&outs);
    assert_eq!(statuses(&sent), [200]);
    assert!(body(&sent[0]).contains("a=sendrecv"));
    assert!(body(&sent[0]).contains("o=humanline 7 9 "));
    assert!(outs
        .iter()
        .any(|o| matches!(o, Output::CallerMedia(n) if n.direction == Direction::SendRecv)));
    assert!(!call.core.is_finished(), "hold and resume keep the call");
    assert_eq!(
        call.events().iter().filter(|e| **e == "reinvite").count(),
        2
    );
}

#[test]
fn a_retransmitted_reinvite_gets_the_same_200_and_changes_nothing() {
    let mut call = Call::answered();
    let first = to_caller(&call.caller_sends(s(2), reinvite(2, "z9hG4bKre2", "sendonly")));
    let outs = call.caller_sends(ms(2300), reinvite(2, "z9hG4bKre2", "sendonly"));
    let again = to_caller(&outs);
    assert_eq!(again, first, "the same answer");
    assert!(!outs.iter().any(|o| matches!(o, Output::CallerMedia(_))));
}

#[test]
fn a_reinvite_out_of_order_is_refused_500() {
    let mut call = Call::answered();
    call.caller_sends(s(2), reinvite(3, "z9hG4bKre3", "sendonly"));
    call.caller_sends(ms(2100), ack(3, "z9hG4bKack3"));
    let outs = call.caller_sends(s(3), reinvite(2, "z9hG4bKre2", "sendrecv"));
    assert_eq!(statuses(&to_caller(&outs)), [500]);
    assert!(!outs.iter().any(|o| matches!(o, Output::CallerMedia(_))));
}
