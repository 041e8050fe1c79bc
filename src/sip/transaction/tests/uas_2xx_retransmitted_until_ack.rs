//! RFC 3261 §13.3.1.4 (kept in the server transaction's Accepted state, RFC 6026): over UDP
//! our 2xx is retransmitted at T1, 2·T1… capped at T2 until the ACK, which carries a new
//! branch and is matched by Call-ID, CSeq and tags.

use super::*;
use crate::sip::ack_for_2xx;
use crate::sip::transaction::{Reliability, ServerInvite, ServerInviteState, Timers};

#[test]
fn uas_2xx_retransmitted_until_ack() {
    let inv = invite();
    let mut tx = ServerInvite::new(
        ms(0),
        inv.clone(),
        Reliability::Unreliable,
        Timers::default(),
    )
    .unwrap();
    let ok = answer(&inv, 200, "ourtag");
    tx.respond(ms(0), ok.clone()).unwrap();
    let log = run_until(&mut tx, ms(0), ms(10_000));
    assert_eq!(
        log.sent_at(),
        [0, 500, 1500, 3500, 7500],
        "T1, doubling, capped at T2"
    );
    assert!(log.sent.iter().all(|(_, l)| l.starts_with("SIP/2.0 200")));

    // The caller's ACK: its own branch, the INVITE's CSeq number, our To tag.
    let ack = ack_for_2xx(&inv, &ok).unwrap();
    assert!(
        tx.matches(&ack),
        "the 2xx ACK is recognised without the branch"
    );
    let log = feed(&mut tx, ms(10_000), Input::Request(ack.clone()));
    assert!(log.sent.is_empty());
    assert_eq!(log.events, vec![(10_000, Event::Acked(ack.clone()))]);

    let log = run_until(&mut tx, ms(10_000), ms(40_000));
    assert!(log.sent.is_empty(), "no retransmission after the ACK");
    assert!(
        !log.saw(|e| *e == Event::AckTimeout),
        "an acknowledged 2xx never times out"
    );
    assert!(log.saw(|e| *e == Event::Terminated), "Timer L ends it");
    assert_eq!(tx.state(), ServerInviteState::Terminated);
}

#[test]
fn a_second_ack_or_retransmitted_invite_after_the_ack_is_absorbed() {
    let inv = invite();
    let mut tx = ServerInvite::new(
        ms(0),
        inv.clone(),
        Reliability::Unreliable,
        Timers::default(),
    )
    .unwrap();
    let ok = answer(&inv, 200, "ourtag");
    tx.respond(ms(0), ok.clone()).unwrap();
    let ack = ack_for_2xx(&inv, &ok).unwrap();
    tx.handle(ms(100), Input::Request(ack.clone()));
    let _ = tx.drain();
    tx.handle(ms(200), Input::Request(ack));
    tx.handle(ms(300), Input::Request(inv));
    assert_eq!(tx.drain(), (vec![], vec![]));
}

#[test]
fn an_ack_with_a_wrong_to_tag_is_not_ours() {
    let inv = invite();
    let mut tx = ServerInvite::new(
        ms(0),
        inv.clone(),
        Reliability::Unreliable,
        Timers::default(),
    )
    .unwrap();
    tx.respond(ms(0), answer(&inv, 200, "ourtag")).unwrap();
    let stray = ack_for_2xx(&inv, &answer(&inv, 200, "someoneelse")).unwrap();
    assert!(!tx.matches(&stray));
}
