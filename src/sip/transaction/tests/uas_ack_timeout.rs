//! No ACK ever comes. For our 2xx (RFC 3261 §13.3.1.4, Timer L of RFC 6026): after 64·T1 the
//! user hears `AckTimeout` and must end the dialog with BYE. For a 3xx–6xx: Timer H.

use super::*;
use crate::sip::transaction::{
    DialogState, InviteDialog, Reliability, ServerInvite, ServerInviteState, Timers,
};
use crate::sip::LocalVia;

#[test]
fn uas_ack_timeout_ends_the_dialog() {
    let inv = invite();
    let mut tx = ServerInvite::new(
        ms(0),
        inv.clone(),
        Reliability::Unreliable,
        Timers::default(),
    )
    .unwrap();
    let mut dialog = InviteDialog::uas(&inv, "ourtag").unwrap();
    tx.respond(ms(0), answer(&inv, 200, "ourtag")).unwrap();
    dialog.confirm();

    let log = run_until(&mut tx, ms(0), ms(31_999));
    assert!(!log.saw(|e| *e == Event::AckTimeout), "not before 64·T1");
    assert_eq!(
        log.sent_at(),
        [0, 500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]
    );

    let log = run_until(&mut tx, ms(31_999), ms(32_000));
    assert_eq!(
        log.events,
        vec![(32_000, Event::AckTimeout), (32_000, Event::Terminated)]
    );
    assert_eq!(tx.state(), ServerInviteState::Terminated);

    // What the user does with it: BYE in the dialog, which ends it.
    let via = LocalVia {
        host: "127.0.0.1".into(),
        port: 5060,
        transport: "UDP".into(),
    };
    let bye = dialog.request(Method::Bye, &via).unwrap().build().unwrap();
    assert_eq!(
        bye.uri, "sip:alice@10.0.0.2:5060",
        "to the caller's Contact"
    );
    assert_eq!(dialog.state(), DialogState::Terminated);
    assert!(dialog.request(Method::Info, &via).is_err());
}

#[test]
fn timer_h_gives_up_on_the_ack_for_a_refusal() {
    let inv = invite();
    let mut tx = ServerInvite::new(
        ms(0),
        inv.clone(),
        Reliability::Unreliable,
        Timers::default(),
    )
    .unwrap();
    tx.respond(ms(0), answer(&inv, 486, "ourtag")).unwrap();
    let log = run_until(&mut tx, ms(0), ms(40_000));
    assert_eq!(
        log.events,
        vec![(32_000, Event::AckTimeout), (32_000, Event::Terminated)]
    );
}
