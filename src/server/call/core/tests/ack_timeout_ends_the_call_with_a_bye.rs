//! No ACK for our 200 OK: it is resent on the RFC 3261 schedule (T1 doubling up to T2), and
//! after 64·T1 the call ends with a BYE (§13.3.1.4) and is stored with why.

use super::*;

#[test]
fn no_ack_resends_the_200_then_ends_with_a_bye() {
    let mut call = Call::new(Duration::ZERO);
    let outs = call.caller_audio_until(s(8));
    let resent: Vec<u128> = call
        .log
        .iter()
        .filter(|(t, o)| {
            !t.is_zero() && matches!(o, Output::ToCaller(b) if b.starts_with(b"SIP/2.0 200"))
        })
        .map(|(t, _)| t.as_millis())
        .collect();
    assert_eq!(resent, [500, 1500, 3500, 7500], "{outs:?}");
    let before = call.caller_audio_until(ms(31_999));
    assert!(!call.core.is_finished(), "{before:?}");
    let outs = call.caller_audio_until(s(32));
    assert_eq!(methods(&to_caller(&outs)), [Method::Bye], "{outs:?}");
    assert_eq!(call.ending().expect("ended").why, "no ACK from the caller");
}

#[test]
fn an_ack_stops_the_resending() {
    let mut call = Call::new(Duration::ZERO);
    call.caller_sends(ms(700), ack(1, "z9hG4bKack1"));
    let outs = call.caller_audio_until(s(40));
    assert!(to_caller(&outs).is_empty(), "{outs:?}");
    assert!(!call.core.is_finished());
    assert!(call.outputs(|o| *o == Output::CallerConfirmed).len() == 1);
}
