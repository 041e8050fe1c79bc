//! RFC 3261 §9.1: a CANCEL must not be sent before a provisional response arrived. Asked for
//! earlier, it comes out as `Event::SendCancel` with the first provisional.

use super::*;
use crate::sip::transaction::{ClientInvite, Reliability, Timers};

#[test]
fn cancel_before_any_provisional_waits_for_one() {
    let inv = invite();
    let mut tx = ClientInvite::new(
        ms(0),
        inv.clone(),
        Reliability::Unreliable,
        Timers::default(),
    )
    .unwrap();
    assert!(tx.cancel().is_none(), "not yet: nothing heard");
    let log = run_until(&mut tx, ms(0), ms(600));
    assert_eq!(log.sent_at(), [0, 500], "the INVITE is still retransmitted");

    let log = feed(&mut tx, ms(700), Input::Response(answer(&inv, 180, "peer")));
    let sent_cancel = log.events.iter().find_map(|(_, e)| match e {
        Event::SendCancel(c) => Some(c.clone()),
        _ => None,
    });
    let cancel = sent_cancel.expect("the CANCEL comes with the 180");
    assert_eq!(cancel.method, Method::Cancel);
    assert_eq!(
        cancel.headers.get("Via"),
        inv.headers.get("Via"),
        "same branch"
    );
    assert!(tx.cancel().is_none(), "given out once");
}

#[test]
fn no_cancel_once_a_final_response_came() {
    let inv = invite();
    let mut tx = ClientInvite::new(
        ms(0),
        inv.clone(),
        Reliability::Unreliable,
        Timers::default(),
    )
    .unwrap();
    let _ = tx.cancel();
    let log = feed(&mut tx, ms(300), Input::Response(answer(&inv, 486, "peer")));
    assert!(!log.saw(|e| matches!(e, Event::SendCancel(_))));
    assert!(tx.cancel().is_none());
}
