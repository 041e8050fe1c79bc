//! RFC 3261 §17.2.1: a server INVITE transaction whose user sends no provisional response
//! within 200 ms sends 100 Trying itself, so the caller stops retransmitting.

use super::*;
use crate::sip::transaction::{Reliability, ServerInvite, Timers};

#[test]
fn trying_goes_out_when_the_user_is_slow() {
    let mut tx =
        ServerInvite::new(ms(0), invite(), Reliability::Unreliable, Timers::default()).unwrap();
    let log = run_until(&mut tx, ms(0), ms(1000));
    assert_eq!(log.sent, vec![(200, "SIP/2.0 100 Trying".to_string())]);
    let log = feed(&mut tx, ms(500), Input::Request(invite()));
    assert_eq!(log.sent, vec![(500, "SIP/2.0 100 Trying".to_string())]);
}

#[test]
fn no_trying_when_the_user_rings_at_once() {
    let mut tx =
        ServerInvite::new(ms(0), invite(), Reliability::Unreliable, Timers::default()).unwrap();
    tx.respond(ms(5), answer(&invite(), 180, "ourtag")).unwrap();
    let log = run_until(&mut tx, ms(5), ms(1000));
    assert_eq!(log.sent, vec![(5, "SIP/2.0 180 X".to_string())]);
}
