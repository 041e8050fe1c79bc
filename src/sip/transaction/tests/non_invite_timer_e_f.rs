//! RFC 3261 §17.1.2.2: over UDP a non-INVITE request is resent by Timer E (T1, doubling,
//! capped at T2); Timer F (64·T1) ends it with a timeout when no final response came.

use super::*;
use crate::sip::transaction::{ClientNonInvite, ClientNonInviteState, Reliability, Timers};

#[test]
fn non_invite_timer_e_caps_at_t2_and_timer_f_times_out() {
    let bye = request(Method::Bye, "z9hG4bKbye1", 2, "UDP");
    let mut tx =
        ClientNonInvite::new(ms(0), bye, Reliability::Unreliable, Timers::default()).unwrap();
    let log = run_until(&mut tx, ms(0), ms(60_000));
    assert_eq!(
        log.sent_at(),
        [0, 500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500],
        "Timer E: T1, 2·T1, 4·T1, then every T2"
    );
    assert!(log.sent.iter().all(|(_, l)| l.starts_with("BYE ")));
    assert_eq!(
        log.events,
        vec![(32_000, Event::Timeout), (32_000, Event::Terminated)],
        "Timer F at 64·T1"
    );
    assert_eq!(tx.state(), ClientNonInviteState::Terminated);
}

#[test]
fn a_final_response_stops_timer_e_and_timer_f() {
    let bye = request(Method::Bye, "z9hG4bKbye1", 2, "UDP");
    let mut tx = ClientNonInvite::new(
        ms(0),
        bye.clone(),
        Reliability::Unreliable,
        Timers::default(),
    )
    .unwrap();
    let ok = answer(&bye, 200, "peer");
    tx.handle(ms(700), Input::Response(ok.clone()));
    let log = run_until(&mut tx, ms(700), ms(60_000));
    assert_eq!(log.sent_at(), [700], "only the first send, queued before");
    assert_eq!(
        log.events,
        vec![(700, Event::Response(ok)), (5700, Event::Terminated)],
        "Timer K = T4 later"
    );
}

#[test]
fn a_response_to_another_transaction_is_ignored() {
    let bye = request(Method::Bye, "z9hG4bKbye1", 2, "UDP");
    let other = request(Method::Bye, "z9hG4bKbye2", 3, "UDP");
    let mut tx =
        ClientNonInvite::new(ms(0), bye, Reliability::Unreliable, Timers::default()).unwrap();
    let _ = tx.drain();
    let log = feed(
        &mut tx,
        ms(10),
        Input::Response(answer(&other, 200, "peer")),
    );
    assert!(log.events.is_empty());
    assert_eq!(tx.state(), ClientNonInviteState::Trying);
}
