//! RFC 3261 §17.1.2.2 and §17.2.2: once the final response is through, a client absorbs its
//! retransmissions for T4 (Timer K) and a server answers retransmitted requests with the same
//! final response for 64·T1 (Timer J). A server still deciding absorbs them silently.

use super::*;
use crate::sip::transaction::{
    ClientNonInvite, Reliability, ServerNonInvite, ServerNonInviteState, Timers,
};

#[test]
fn timer_k_absorbs_retransmitted_final_responses() {
    let bye = request(Method::Bye, "z9hG4bKbye1", 2, "UDP");
    let mut tx = ClientNonInvite::new(
        ms(0),
        bye.clone(),
        Reliability::Unreliable,
        Timers::default(),
    )
    .unwrap();
    let ok = answer(&bye, 200, "peer");
    tx.handle(ms(100), Input::Response(ok.clone()));
    let _ = tx.drain();
    for t in [600, 1600, 4000] {
        let log = feed(&mut tx, ms(t), Input::Response(ok.clone()));
        assert!(log.events.is_empty() && log.sent.is_empty(), "at {t} ms");
    }
    let log = run_until(&mut tx, ms(4000), ms(10_000));
    assert_eq!(log.events, vec![(5100, Event::Terminated)]);
}

#[test]
fn timer_j_answers_retransmitted_requests_with_the_same_final() {
    let reg = request(Method::Register, "z9hG4bKreg1", 1, "UDP");
    let mut tx =
        ServerNonInvite::new(reg.clone(), Reliability::Unreliable, Timers::default()).unwrap();
    // Still deciding: a retransmission is absorbed.
    let log = feed(&mut tx, ms(400), Input::Request(reg.clone()));
    assert!(log.sent.is_empty());

    let ok = answer(&reg, 200, "ourtag");
    tx.respond(ms(500), ok.clone()).unwrap();
    assert_eq!(tx.drain().0, vec![ok.to_bytes()]);
    for t in [1000, 20_000, 32_499] {
        let log = feed(&mut tx, ms(t), Input::Request(reg.clone()));
        assert_eq!(log.sent, vec![(t as u128, "SIP/2.0 200 X".to_string())]);
        assert!(log.events.is_empty(), "decided once");
    }
    let log = run_until(&mut tx, ms(32_499), ms(40_000));
    assert_eq!(log.events, vec![(32_500, Event::Terminated)]);
    assert_eq!(tx.state(), ServerNonInviteState::Terminated);
    assert!(
        tx.respond(ms(40_000), ok).is_err(),
        "one final response only"
    );
}

#[test]
fn a_provisional_is_repeated_until_the_final() {
    let reg = request(Method::Register, "z9hG4bKreg1", 1, "UDP");
    let mut tx =
        ServerNonInvite::new(reg.clone(), Reliability::Unreliable, Timers::default()).unwrap();
    tx.respond(ms(0), answer(&reg, 100, "ourtag")).unwrap();
    let _ = tx.drain();
    let log = feed(&mut tx, ms(500), Input::Request(reg));
    assert_eq!(log.sent, vec![(500, "SIP/2.0 100 X".to_string())]);
    assert_eq!(tx.state(), ServerNonInviteState::Proceeding);
}
