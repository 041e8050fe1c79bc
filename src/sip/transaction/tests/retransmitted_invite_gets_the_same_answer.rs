//! RFC 3261 §17.2.1: a retransmitted INVITE is absorbed by its server transaction and gets the
//! last response again, byte for byte; the user never sees it (no second call).

use super::*;
use crate::sip::transaction::{Reliability, ServerInvite, Timers};

fn server() -> ServerInvite {
    ServerInvite::new(ms(0), invite(), Reliability::Unreliable, Timers::default()).unwrap()
}

#[test]
fn retransmitted_invite_while_ringing_gets_the_same_180() {
    let mut tx = server();
    let ringing = answer(&invite(), 180, "ourtag");
    tx.respond(ms(10), ringing.clone()).unwrap();
    let first = tx.drain().0;
    assert_eq!(first, vec![ringing.to_bytes()]);

    assert!(tx.matches(&invite()));
    tx.handle(ms(600), Input::Request(invite()));
    let (again, events) = tx.drain();
    assert_eq!(again, first, "the very same 180");
    assert!(events.is_empty(), "the user hears nothing of it");
}

#[test]
fn retransmitted_invite_after_the_answer_gets_the_same_200() {
    let mut tx = server();
    let ok = answer(&invite(), 200, "ourtag");
    tx.respond(ms(10), ok.clone()).unwrap();
    let _ = tx.drain();
    let log = feed(&mut tx, ms(100), Input::Request(invite()));
    assert_eq!(log.sent, vec![(100, first_line(&ok.to_bytes()))]);
    assert!(log.events.is_empty());
}

#[test]
fn retransmitted_invite_after_a_refusal_gets_the_same_refusal() {
    let mut tx = server();
    let busy = answer(&invite(), 486, "ourtag");
    tx.respond(ms(10), busy.clone()).unwrap();
    let _ = tx.drain();
    tx.handle(ms(100), Input::Request(invite()));
    assert_eq!(tx.drain(), (vec![busy.to_bytes()], vec![]));
}

#[test]
fn an_invite_with_another_branch_is_not_a_retransmission() {
    let tx = server();
    let other = request(Method::Invite, "z9hG4bKinv2", 2, "UDP");
    assert!(!tx.matches(&other), "a new transaction (a re-INVITE)");
}
