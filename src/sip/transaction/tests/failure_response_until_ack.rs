//! RFC 3261 §17.2.1: our 3xx–6xx to an INVITE is resent by Timer G (T1, doubling, capped at
//! T2) until its ACK (same branch); then Confirmed absorbs further ACKs for T4 (Timer I).

use super::*;
use crate::sip::ack_for_failure;
use crate::sip::transaction::{Reliability, ServerInvite, ServerInviteState, Timers};

#[test]
fn timer_g_resends_the_refusal_until_the_ack_then_timer_i_absorbs() {
    let inv = invite();
    let mut tx = ServerInvite::new(
        ms(0),
        inv.clone(),
        Reliability::Unreliable,
        Timers::default(),
    )
    .unwrap();
    let busy = answer(&inv, 486, "ourtag");
    tx.respond(ms(0), busy.clone()).unwrap();
    let log = run_until(&mut tx, ms(0), ms(12_000));
    assert_eq!(log.sent_at(), [0, 500, 1500, 3500, 7500, 11_500]);
    assert!(log.sent.iter().all(|(_, l)| l == "SIP/2.0 486 X"));

    let ack = ack_for_failure(&inv, &busy).unwrap();
    assert!(tx.matches(&ack), "same branch as the INVITE");
    let log = feed(&mut tx, ms(12_000), Input::Request(ack.clone()));
    assert_eq!(log.events, vec![(12_000, Event::Acked(ack.clone()))]);
    assert_eq!(tx.state(), ServerInviteState::Confirmed);

    let log = feed(&mut tx, ms(13_000), Input::Request(ack));
    assert!(log.events.is_empty() && log.sent.is_empty(), "absorbed");
    let log = run_until(&mut tx, ms(13_000), ms(60_000));
    assert!(log.sent.is_empty());
    assert_eq!(
        log.events,
        vec![(17_000, Event::Terminated)],
        "Timer I = T4"
    );
}

#[test]
fn nothing_can_follow_the_final_response() {
    let inv = invite();
    let mut tx = ServerInvite::new(
        ms(0),
        inv.clone(),
        Reliability::Unreliable,
        Timers::default(),
    )
    .unwrap();
    tx.respond(ms(0), answer(&inv, 486, "ourtag")).unwrap();
    assert!(tx.respond(ms(1), answer(&inv, 200, "ourtag")).is_err());
    assert!(tx.respond(ms(1), answer(&inv, 180, "ourtag")).is_err());
}
