//! RFC 3261 §17: over a reliable transport nothing is retransmitted (Timers A, E, G and the
//! 2xx schedule do not run) and the absorbing Timers D, I, J, K are zero; the timeouts (B, F,
//! H, L) still run.

use super::*;
use crate::sip::ack_for_failure;
use crate::sip::transaction::{
    ClientInvite, ClientNonInvite, Reliability, ServerInvite, ServerNonInvite, Timers,
};

const TCP: Reliability = Reliability::Reliable;

#[test]
fn no_invite_retransmission_over_tcp_but_timer_b_runs() {
    let inv = request(Method::Invite, "z9hG4bKinv1", 1, "TCP");
    let mut tx = ClientInvite::new(ms(0), inv, TCP, Timers::default()).unwrap();
    let log = run_until(&mut tx, ms(0), ms(60_000));
    assert_eq!(log.sent_at(), [0]);
    assert_eq!(log.events[0], (32_000, Event::Timeout));
}

#[test]
fn no_non_invite_retransmission_over_tcp_and_timer_k_is_zero() {
    let bye = request(Method::Bye, "z9hG4bKbye1", 2, "TCP");
    let mut tx = ClientNonInvite::new(ms(0), bye.clone(), TCP, Timers::default()).unwrap();
    let log = run_until(&mut tx, ms(0), ms(10_000));
    assert_eq!(log.sent_at(), [0]);
    let log = feed(&mut tx, ms(10_000), Input::Response(answer(&bye, 200, "p")));
    assert!(log.saw(|e| *e == Event::Terminated), "at once");
}

#[test]
fn no_2xx_retransmission_over_tcp_but_the_ack_timeout_runs() {
    let inv = request(Method::Invite, "z9hG4bKinv1", 1, "TCP");
    let mut tx = ServerInvite::new(ms(0), inv.clone(), TCP, Timers::default()).unwrap();
    tx.respond(ms(0), answer(&inv, 200, "ourtag")).unwrap();
    let log = run_until(&mut tx, ms(0), ms(60_000));
    assert_eq!(log.sent_at(), [0], "the 200 once");
    assert_eq!(
        log.events,
        vec![(32_000, Event::AckTimeout), (32_000, Event::Terminated)]
    );
}

#[test]
fn no_refusal_retransmission_over_tcp_and_timer_i_is_zero() {
    let inv = request(Method::Invite, "z9hG4bKinv1", 1, "TCP");
    let mut tx = ServerInvite::new(ms(0), inv.clone(), TCP, Timers::default()).unwrap();
    let busy = answer(&inv, 486, "ourtag");
    tx.respond(ms(0), busy.clone()).unwrap();
    let log = run_until(&mut tx, ms(0), ms(10_000));
    assert_eq!(log.sent_at(), [0]);
    let ack = ack_for_failure(&inv, &busy).unwrap();
    let log = feed(&mut tx, ms(10_000), Input::Request(ack.clone()));
    assert_eq!(
        log.events,
        vec![(10_000, Event::Acked(ack)), (10_000, Event::Terminated)]
    );
}

#[test]
fn timer_j_and_timer_d_are_zero_over_tcp() {
    let reg = request(Method::Register, "z9hG4bKreg1", 1, "TCP");
    let mut server = ServerNonInvite::new(reg.clone(), TCP, Timers::default()).unwrap();
    server.respond(ms(0), answer(&reg, 200, "t")).unwrap();
    assert!(server.is_terminated(), "Timer J = 0");

    let inv = request(Method::Invite, "z9hG4bKinv1", 1, "TCP");
    let mut client = ClientInvite::new(ms(0), inv.clone(), TCP, Timers::default()).unwrap();
    let log = feed(&mut client, ms(50), Input::Response(answer(&inv, 486, "p")));
    assert_eq!(log.sent_at(), [50, 50], "the INVITE (queued) and the ACK");
    assert!(log.saw(|e| *e == Event::Terminated), "Timer D = 0");
}
