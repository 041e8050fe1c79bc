//! RFC 3261 §17.1.1.3: a 3xx–6xx to our INVITE is ACKed by the transaction (same branch,
//! Request-URI, To from the response), reported once, and each retransmission of it is ACKed
//! again without telling the user, until Timer D (32 s over UDP).

use super::*;
use crate::sip::transaction::{ClientInvite, ClientInviteState, Reliability, Timers};

#[test]
fn timer_d_acks_every_failure_retransmission() {
    let inv = invite();
    let mut tx = ClientInvite::new(
        ms(0),
        inv.clone(),
        Reliability::Unreliable,
        Timers::default(),
    )
    .unwrap();
    let _ = tx.drain();
    let busy = answer(&inv, 486, "peer");
    let log = feed(&mut tx, ms(300), Input::Response(busy.clone()));
    assert_eq!(
        log.sent,
        vec![(300, "ACK sip:support@127.0.0.1 SIP/2.0".into())]
    );
    assert_eq!(log.events, vec![(300, Event::Response(busy.clone()))]);
    assert_eq!(tx.state(), ClientInviteState::Completed);

    let (ack, _) = {
        tx.handle(ms(800), Input::Response(busy.clone()));
        tx.drain()
    };
    assert_eq!(ack.len(), 1, "the ACK again");
    let text = String::from_utf8(ack[0].clone()).unwrap();
    assert!(
        text.contains("branch=z9hG4bKinv1"),
        "in the INVITE's transaction: {text}"
    );
    assert!(text.contains("tag=peer"), "To from the response: {text}");

    let log = run_until(&mut tx, ms(800), ms(40_000));
    assert_eq!(log.events, vec![(32_300, Event::Terminated)], "Timer D");
}
