//! RFC 3261 §17.1.1.2: a provisional response stops Timer A (and Timer B: a ringing INVITE
//! waits as long as its user wants). For non-INVITE, §17.1.2.2: a provisional slows Timer E
//! to T2 but the request is still resent.

use super::*;
use crate::sip::transaction::{
    ClientInvite, ClientInviteState, ClientNonInvite, Reliability, Timers,
};

#[test]
fn provisional_stops_invite_retransmission_over_udp() {
    let inv = invite();
    let mut tx = ClientInvite::new(
        ms(0),
        inv.clone(),
        Reliability::Unreliable,
        Timers::default(),
    )
    .unwrap();
    let log = run_until(&mut tx, ms(0), ms(1000));
    assert_eq!(log.sent_at(), [0, 500]);
    let ringing = answer(&inv, 180, "peer");
    let log = feed(&mut tx, ms(1000), Input::Response(ringing.clone()));
    assert_eq!(log.events, vec![(1000, Event::Response(ringing))]);
    assert_eq!(tx.state(), ClientInviteState::Proceeding);
    assert_eq!(tx.poll_timeout(), None, "no timer runs while it rings");
    let log = run_until(&mut tx, ms(1000), ms(120_000));
    assert!(log.sent.is_empty() && log.events.is_empty());
}

#[test]
fn provisional_to_a_non_invite_slows_retransmission_to_t2() {
    let bye = request(Method::Bye, "z9hG4bKbye1", 2, "UDP");
    let mut tx = ClientNonInvite::new(
        ms(0),
        bye.clone(),
        Reliability::Unreliable,
        Timers::default(),
    )
    .unwrap();
    tx.handle(ms(100), Input::Response(answer(&bye, 100, "peer")));
    let _ = tx.drain();
    let log = run_until(&mut tx, ms(100), ms(13_000));
    assert_eq!(
        log.sent_at(),
        [500, 4500, 8500, 12_500],
        "the pending Timer E fires, then every T2"
    );
}
