//! RFC 3261 §17.1.1.2: over UDP the INVITE is resent by Timer A (T1, doubling, no cap) until a
//! response; Timer B (64·T1) ends an unanswered transaction with a timeout.

use super::*;
use crate::sip::transaction::{ClientInvite, ClientInviteState, Reliability, Timers};

#[test]
fn client_invite_timer_a_doubles_and_timer_b_times_out() {
    let mut tx =
        ClientInvite::new(ms(0), invite(), Reliability::Unreliable, Timers::default()).unwrap();
    let log = run_until(&mut tx, ms(0), ms(60_000));
    assert_eq!(
        log.sent_at(),
        [0, 500, 1500, 3500, 7500, 15_500, 31_500],
        "Timer A: T1, 2·T1, 4·T1… with no T2 cap"
    );
    assert!(log.sent.iter().all(|(_, l)| l.starts_with("INVITE ")));
    assert_eq!(
        log.events,
        vec![(32_000, Event::Timeout), (32_000, Event::Terminated)],
        "Timer B at 64·T1"
    );
    assert_eq!(tx.state(), ClientInviteState::Terminated);
    assert_eq!(tx.poll_timeout(), None);
}

#[test]
fn a_larger_t1_stretches_both_timers() {
    let timers = Timers {
        t1: ms(1000),
        ..Timers::default()
    };
    let mut tx = ClientInvite::new(ms(0), invite(), Reliability::Unreliable, timers).unwrap();
    let log = run_until(&mut tx, ms(0), ms(70_000));
    assert_eq!(log.sent_at()[..3], [0, 1000, 3000]);
    assert!(log.saw(|e| *e == Event::Timeout));
    assert_eq!(log.events[0].0, 64_000);
}
