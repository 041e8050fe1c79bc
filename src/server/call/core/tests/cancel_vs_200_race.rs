//! CANCEL and the 200 OK cross (RFC 3261 §9.2). A CANCEL while ringing ends the INVITE with
//! 487 (resent until its ACK) and the call is never answered; one that arrives after our 200
//! changes nothing: the 200 stands and is resent until the ACK, the call goes on.

use super::*;
use crate::engine::Outcome;

fn cancel() -> Request {
    caller_request(Method::Cancel, "z9hG4bKinv1", 1, None, "")
}

fn ack_487() -> Request {
    caller_request(Method::Ack, "z9hG4bKinv1", 1, Some("ourtag"), "")
}

#[test]
fn cancel_while_ringing_ends_with_487_and_no_answer() {
    let mut call = Call::new(s(3));
    let outs = call.caller_sends(s(1), cancel());
    assert_eq!(statuses(&to_caller(&outs)), [200, 487], "{outs:?}");
    let end = call.ending().expect("a cancelled call ends");
    assert_eq!(end.why, "caller cancelled");
    assert_eq!(end.outcome, Outcome::Hangup);
    assert!(call.events().contains(&"cancelled"));
    // No ACK yet: the 487 goes again; the answer time passes with no 200.
    let later = call.run_until(ms(3500));
    let resent = statuses(&to_caller(&later));
    assert!(
        !resent.is_empty() && resent.iter().all(|s| *s == 487),
        "{resent:?}"
    );
    assert!(!call
        .outputs(|o| *o == Output::Answered)
        .iter()
        .any(|_| true));
    assert!(!call.core.can_forget(ms(3500)), "the 487 waits for its ACK");
    call.caller_sends(ms(3600), ack_487());
    assert!(call.core.can_forget(ms(3600)));
}

#[test]
fn cancel_after_our_200_is_too_late_and_the_call_goes_on() {
    let mut call = Call::new(Duration::ZERO);
    let outs = call.caller_sends(ms(100), cancel());
    assert_eq!(statuses(&to_caller(&outs)), [200], "only the CANCEL's 200");
    assert!(!call.core.is_finished());
    // The 200 to the INVITE is still resent until the ACK.
    let later = call.run_until(ms(600));
    let resent = to_caller(&later);
    assert_eq!(statuses(&resent), [200]);
    assert!(
        matches!(&resent[0], SipMessage::Response(r) if r.headers.cseq().is_ok_and(|c| c.1 == Method::Invite))
    );
    call.caller_sends(ms(700), ack(1, "z9hG4bKack1"));
    assert!(to_caller(&call.run_until(s(5))).is_empty(), "ACKed");
    assert!(call.core.media_running());
}
