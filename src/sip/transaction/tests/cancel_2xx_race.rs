//! CANCEL and 200 cross (RFC 3261 §9). As UAS: a CANCEL for a pending INVITE gets it a 487;
//! one that arrives after our 200 changes nothing (the 200 stands and is retransmitted until
//! its ACK). As UAC: a 200 that crosses our CANCEL is still reported, so the user can ACK and
//! BYE it; a 487 is ACKed by the transaction.

use super::*;
use crate::sip::transaction::{
    CancelOutcome, ClientInvite, ClientInviteState, Reliability, ServerInvite, ServerInviteState,
    ServerKey, Timers,
};
use crate::sip::{ack_for_failure, cancel_for};

fn server() -> ServerInvite {
    ServerInvite::new(ms(0), invite(), Reliability::Unreliable, Timers::default()).unwrap()
}

#[test]
fn cancel_finds_its_invite_by_key() {
    let cancel = cancel_for(&invite()).unwrap();
    let key = ServerKey::of(&cancel).unwrap();
    assert_ne!(&key, server().key(), "CANCEL is a transaction of its own");
    assert_eq!(key.cancelled_invite().as_ref(), Some(server().key()));
}

#[test]
fn cancel_while_ringing_answers_the_invite_487() {
    let mut tx = server();
    tx.respond(ms(0), answer(&invite(), 180, "ourtag")).unwrap();
    let _ = tx.drain();
    assert_eq!(tx.cancel(ms(1000), "ourtag"), CancelOutcome::Cancelled);
    let (sent, _) = tx.drain();
    assert_eq!(first_line(&sent[0]), "SIP/2.0 487 Request Terminated");
    assert_eq!(tx.state(), ServerInviteState::Completed);
    // The caller ACKs the 487 on the INVITE's branch.
    let resp = answer(&invite(), 487, "ourtag");
    let ack = ack_for_failure(&invite(), &resp).unwrap();
    let log = feed(&mut tx, ms(1100), Input::Request(ack.clone()));
    assert_eq!(log.events, vec![(1100, Event::Acked(ack))]);
    assert_eq!(tx.state(), ServerInviteState::Confirmed);
}

#[test]
fn cancel_after_our_200_is_too_late_and_the_200_stands() {
    let mut tx = server();
    tx.respond(ms(0), answer(&invite(), 200, "ourtag")).unwrap();
    let _ = tx.drain();
    assert_eq!(tx.cancel(ms(100), "ourtag"), CancelOutcome::TooLate);
    let log = run_until(&mut tx, ms(100), ms(1600));
    assert_eq!(log.sent_at(), [500, 1500], "still the 2xx schedule");
    assert!(log.sent.iter().all(|(_, l)| l.starts_with("SIP/2.0 200")));
    assert_eq!(tx.state(), ServerInviteState::Accepted);
}

#[test]
fn uac_200_crossing_our_cancel_is_reported_for_ack_and_bye() {
    let inv = invite();
    let mut tx = ClientInvite::new(
        ms(0),
        inv.clone(),
        Reliability::Unreliable,
        Timers::default(),
    )
    .unwrap();
    tx.handle(ms(100), Input::Response(answer(&inv, 180, "peer")));
    let cancel = tx.cancel().expect("a CANCEL once ringing");
    assert_eq!(cancel.method, Method::Cancel);
    let _ = tx.drain();
    let ok = answer(&inv, 200, "peer");
    let log = feed(&mut tx, ms(200), Input::Response(ok.clone()));
    assert_eq!(log.events, vec![(200, Event::Response(ok))]);
    assert!(log.sent.is_empty(), "the 2xx ACK is the user's, not ours");
    assert_eq!(tx.state(), ClientInviteState::Accepted);
    assert!(tx.cancel().is_none(), "nothing left to cancel");
}

#[test]
fn uac_487_after_our_cancel_is_acked_by_the_transaction() {
    let inv = invite();
    let mut tx = ClientInvite::new(
        ms(0),
        inv.clone(),
        Reliability::Unreliable,
        Timers::default(),
    )
    .unwrap();
    tx.handle(ms(100), Input::Response(answer(&inv, 180, "peer")));
    let _ = tx.cancel();
    let _ = tx.drain();
    let log = feed(&mut tx, ms(200), Input::Response(answer(&inv, 487, "peer")));
    assert_eq!(
        log.sent,
        vec![(200, "ACK sip:support@127.0.0.1 SIP/2.0".to_string())]
    );
    assert_eq!(tx.state(), ClientInviteState::Completed);
}
