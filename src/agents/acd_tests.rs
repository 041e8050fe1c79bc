//! The ACD on fake time: who is offered a caller, in which order, and when not.

use super::*;

fn s(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn acd(members: &[&str], wrap: u64) -> Acd {
    let mut q = BTreeMap::new();
    q.insert(
        "support".to_string(),
        QueueRules {
            members: members.iter().map(|m| m.to_string()).collect(),
            wrap_up: s(wrap),
            require_srtp: false,
        },
    );
    Acd::new(q, s(30))
}

fn phone(a: &mut Acd, name: &str, port: u16) {
    a.sip_registered(
        name,
        SipContact::new(
            format!("sip:{name}@127.0.0.1:{port}"),
            ([127, 0, 0, 1], port).into(),
            false,
        ),
        s(3600),
    );
}

#[test]
fn nobody_is_called_until_they_register() {
    let mut a = acd(&["alice", "bob"], 0);
    a.enqueue(s(0), "support", "c1", false);
    assert!(a.assign(s(0)).is_empty());
    assert!(!a.staffed("support"));
    phone(&mut a, "bob", 5071);
    let offers = a.assign(s(1));
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].agent, "bob");
    assert!(matches!(offers[0].reach, Reach::Sip(ref c) if c.addr.port() == 5071));
}

#[test]
fn an_agent_taken_on_another_node_is_skipped_until_free_again() {
    let mut a = acd(&["alice", "bob"], 0);
    phone(&mut a, "alice", 5071);
    phone(&mut a, "bob", 5072);
    a.enqueue(s(0), "support", "c1", false);
    let offers = a.assign(s(0));
    assert_eq!(offers[0].agent, "alice");
    // The store says another node claimed Alice first: the offer is taken back.
    a.take_back("c1", "alice");
    let offers = a.assign(s(0));
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].agent, "bob", "the caller goes to the next agent");
    a.ring_result(s(1), "c1", "bob", RingResult::Answered);
    a.enqueue(s(2), "support", "c2", false);
    assert!(
        a.assign(s(2)).is_empty(),
        "Alice is busy elsewhere, Bob here"
    );
    a.set_elsewhere("alice", false);
    assert_eq!(a.assign(s(3))[0].agent, "alice");
}

#[test]
fn longest_idle_agent_goes_first() {
    let mut a = acd(&["alice", "bob"], 0);
    phone(&mut a, "alice", 5071);
    phone(&mut a, "bob", 5072);
    // Alice took and finished a call at t=10, so Bob has been idle longer.
    a.enqueue(s(1), "support", "c0", false);
    assert_eq!(a.assign(s(1))[0].agent, "alice", "ties go in config order");
    a.ring_result(s(2), "c0", "alice", RingResult::Answered);
    a.call_ended(s(10), "alice", "c0", s(8));
    a.enqueue(s(11), "support", "c1", false);
    assert_eq!(a.assign(s(11))[0].agent, "bob");
}

#[test]
fn a_refusal_passes_the_caller_to_the_next_agent_and_not_back_soon() {
    let mut a = acd(&["alice", "bob"], 0);
    phone(&mut a, "alice", 5071);
    phone(&mut a, "bob", 5072);
    a.enqueue(s(0), "support", "c1", false);
    assert_eq!(a.assign(s(0))[0].agent, "alice");
    a.ring_result(s(2), "c1", "alice", RingResult::Refused);
    assert_eq!(a.assign(s(2))[0].agent, "bob");
    a.ring_result(s(3), "c1", "bob", RingResult::Refused);
    assert!(a.assign(s(4)).is_empty(), "both refused just now");
    assert_eq!(a.assign(s(33))[0].agent, "alice", "offered again later");
}

#[test]
fn wrap_up_holds_the_next_offer() {
    let mut a = acd(&["alice"], 10);
    phone(&mut a, "alice", 5071);
    a.enqueue(s(0), "support", "c1", false);
    a.assign(s(0));
    a.ring_result(s(1), "c1", "alice", RingResult::Answered);
    a.enqueue(s(5), "support", "c2", false);
    assert!(a.assign(s(5)).is_empty(), "busy");
    a.call_ended(s(20), "alice", "c1", s(19));
    assert_eq!(a.agent("alice").unwrap().presence, Presence::WrapUp(s(30)));
    a.tick(s(29));
    assert!(a.assign(s(29)).is_empty(), "still wrapping up");
    a.tick(s(30));
    assert_eq!(a.assign(s(30))[0].call_id, "c2");
}

#[test]
fn a_dropped_callers_rejoins_at_the_head() {
    let mut a = acd(&["alice"], 0);
    a.enqueue(s(0), "support", "c1", false);
    a.enqueue(s(1), "support", "c2", false);
    a.enqueue(s(2), "support", "c3", true);
    assert_eq!(a.position("c3").unwrap().0, 1);
    assert_eq!(a.position("c1").unwrap().0, 2);
    phone(&mut a, "alice", 5071);
    assert_eq!(a.assign(s(3))[0].call_id, "c3");
}

#[test]
fn position_and_estimate_follow_the_queue() {
    let mut a = acd(&["alice", "bob"], 0);
    phone(&mut a, "alice", 5071);
    phone(&mut a, "bob", 5072);
    for (i, c) in ["c1", "c2", "c3"].iter().enumerate() {
        a.enqueue(s(i as u64), "support", c, false);
    }
    let (p, est) = a.position("c3").unwrap();
    assert_eq!(p, 3);
    assert_eq!(est, Duration::from_secs_f64(3.0 * 180.0 / 2.0));
    a.leave("c1");
    assert_eq!(a.position("c3").unwrap().0, 2);
}

#[test]
fn console_agents_start_away_and_take_calls_once_ready() {
    let mut a = acd(&["alice"], 0);
    a.console_opened("alice");
    assert_eq!(a.agent("alice").unwrap().presence, Presence::Away);
    a.enqueue(s(0), "support", "c1", false);
    assert!(a.assign(s(0)).is_empty());
    a.set_wanted(s(1), "alice", WantedStatus::Ready);
    let o = a.assign(s(1));
    assert_eq!(o[0].reach, Reach::Browser);
    a.console_closed("alice");
    assert_eq!(
        a.agent("alice").unwrap().presence,
        Presence::Ringing("c1".into()),
        "the ringing offer ends through ring_result"
    );
    a.ring_result(s(2), "c1", "alice", RingResult::Refused);
    assert_eq!(a.agent("alice").unwrap().presence, Presence::Offline);
}

#[test]
fn an_agent_whose_leg_dropped_is_away_until_they_come_back() {
    let mut a = acd(&["alice", "bob"], 0);
    phone(&mut a, "alice", 5071);
    a.enqueue(s(0), "support", "c1", false);
    a.assign(s(0));
    a.ring_result(s(1), "c1", "alice", RingResult::Answered);
    a.call_dropped(s(9), "alice", "c1", s(8));
    assert_eq!(a.agent("alice").unwrap().presence, Presence::Away);
    a.enqueue(s(9), "support", "c1", true);
    assert!(
        a.assign(s(9)).is_empty(),
        "not straight back to a dead phone"
    );
    phone(&mut a, "alice", 5071);
    assert_eq!(
        a.assign(s(10))[0].agent,
        "alice",
        "registering again makes her ready"
    );
}

#[test]
fn registrations_expire() {
    let mut a = acd(&["alice"], 0);
    a.sip_registered(
        "alice",
        SipContact::new(
            "sip:alice@127.0.0.1:5071".into(),
            ([127, 0, 0, 1], 5071).into(),
            false,
        ),
        s(60),
    );
    assert!(a.staffed("support"));
    a.tick(s(60));
    assert!(!a.staffed("support"));
}

#[test]
fn static_uris_are_always_ready_and_a_caller_leaving_frees_the_ringing_agent() {
    let mut a = acd(&["sip:desk@127.0.0.1:5070"], 0);
    a.enqueue(s(0), "support", "c1", false);
    let o = a.assign(s(0));
    assert_eq!(o[0].reach, Reach::Static("sip:desk@127.0.0.1:5070".into()));
    a.leave("c1");
    assert_eq!(
        a.agent("sip:desk@127.0.0.1:5070").unwrap().presence,
        Presence::Ready
    );
}

#[test]
fn a_number_behind_a_trunk_is_always_ready_and_offered_as_a_trunk_call() {
    let mut a = acd(&["trunk:carrier/+15551234567"], 0);
    assert!(a.staffed("support"));
    a.enqueue(s(0), "support", "c1", false);
    let o = a.assign(s(0));
    let want = crate::trunk::TrunkAgent::parse("trunk:carrier/+15551234567").unwrap();
    assert_eq!(o[0].reach, Reach::Trunk(want));
    assert_eq!(o[0].agent, "trunk:carrier/+15551234567");
    assert!(!o[0].reach.secure(), "no SRTP through a trunk");
}

fn waiting_elsewhere(joined_ms: i64, ringing: bool) -> crate::store::QueueWaitingRow {
    crate::store::QueueWaitingRow {
        call_id: format!("other-{joined_ms}"),
        queue: "support".into(),
        head: false,
        joined_at_ms: joined_ms,
        ringing,
    }
}

#[test]
fn an_older_caller_on_another_node_is_served_first() {
    let mut a = acd(&["alice"], 0);
    a.set_epoch_ms(1_000_000);
    a.enqueue(s(10), "support", "here", false);
    // Another node's caller joined at 5 s; ours at 10 s.
    a.set_waiting_elsewhere(&[waiting_elsewhere(1_005_000, false)]);
    assert_eq!(
        a.position("here").map(|p| p.0),
        Some(2),
        "second in line overall"
    );
    phone(&mut a, "alice", 5071);
    assert!(
        a.assign(s(11)).is_empty(),
        "alice is left for the older caller"
    );
    // That node offered her its caller: ringing there, then gone from its line.
    a.set_waiting_elsewhere(&[waiting_elsewhere(1_005_000, true)]);
    a.set_elsewhere("alice", true);
    assert!(a.assign(s(12)).is_empty(), "alice rings elsewhere");
    a.set_waiting_elsewhere(&[]);
    a.set_elsewhere("alice", false);
    let offers = a.assign(s(40));
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].call_id, "here");
}

#[test]
fn a_younger_or_ringing_caller_elsewhere_does_not_hold_ours_back() {
    let mut a = acd(&["alice"], 0);
    a.set_epoch_ms(1_000_000);
    phone(&mut a, "alice", 5071);
    a.set_waiting_elsewhere(&[
        waiting_elsewhere(1_020_000, false),
        waiting_elsewhere(1_001_000, true),
    ]);
    a.enqueue(s(10), "support", "here", false);
    assert_eq!(a.position("here").map(|p| p.0), Some(1));
    assert_eq!(a.assign(s(10)).len(), 1);
    let rows = a.waiting_rows();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].joined_at_ms, 1_010_000);
    assert!(rows[0].ringing, "published as being offered");
}

#[test]
fn a_caller_never_waits_more_than_the_limit_for_an_older_one_elsewhere() {
    let mut a = acd(&["alice"], 0);
    a.set_epoch_ms(1_000_000);
    a.enqueue(s(10), "support", "here", false);
    a.set_waiting_elsewhere(&[waiting_elsewhere(1_005_000, false)]);
    // Nobody free for a minute: that time does not count.
    assert!(a.assign(s(70)).is_empty());
    phone(&mut a, "alice", 5071);
    assert!(a.assign(s(71)).is_empty(), "left to the older caller");
    let limit = crate::agents::queue_order::DEFER_LIMIT;
    assert!(a
        .assign(s(71) + limit - Duration::from_millis(1))
        .is_empty());
    // The other node never took her (it cannot reach her): ours gets her.
    let offers = a.assign(s(71) + limit);
    assert_eq!(
        offers.len(),
        1,
        "the caller here is not kept waiting for nothing"
    );
}

fn secure_queue(members: &[&str]) -> Acd {
    let mut q = BTreeMap::new();
    q.insert(
        "billing".to_string(),
        QueueRules {
            members: members.iter().map(|m| m.to_string()).collect(),
            wrap_up: s(0),
            require_srtp: true,
        },
    );
    Acd::new(q, s(30))
}

fn tls_phone(a: &mut Acd, name: &str, port: u16) {
    let uri = format!("sip:{name}@127.0.0.1:{port};transport=tls");
    a.sip_registered(
        name,
        SipContact::new(uri, ([127, 0, 0, 1], port).into(), true),
        s(3600),
    );
}

#[test]
fn a_queue_requiring_srtp_skips_a_plain_phone_and_rings_the_tls_one() {
    let mut a = secure_queue(&["alice", "bob"]);
    // Alice (first in the list, as idle as Bob) registered over UDP: not for this queue.
    phone(&mut a, "alice", 5071);
    assert!(!a.staffed("billing"), "a plain phone does not staff it");
    a.enqueue(s(0), "billing", "c1", false);
    assert!(a.assign(s(0)).is_empty(), "nobody to ring securely");
    tls_phone(&mut a, "bob", 5072);
    assert!(a.staffed("billing"));
    let offers = a.assign(s(1));
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].agent, "bob");
    assert_eq!(offers[0].skipped, vec!["alice".to_string()]);
    // Bob declines: Alice is still not offered, and not named again for this caller.
    a.ring_result(s(2), "c1", "bob", RingResult::Refused);
    assert!(a.assign(s(3)).is_empty());
    assert_eq!(a.agent("alice").unwrap().presence, Presence::Ready);
}

#[test]
fn a_static_uri_counts_as_secure_only_over_tls() {
    let a = secure_queue(&["sip:desk@192.0.2.7", "sips:desk2@192.0.2.8"]);
    assert!(a.staffed("billing"));
    let mut a = a;
    a.enqueue(s(0), "billing", "c1", false);
    let offers = a.assign(s(0));
    assert_eq!(offers[0].agent, "sips:desk2@192.0.2.8");
    assert_eq!(offers[0].skipped, vec!["sip:desk@192.0.2.7".to_string()]);
}

#[test]
fn a_contact_saying_transport_tls_is_secure_even_when_learnt_from_another_node() {
    let c = SipContact::new(
        "sip:a@192.0.2.1:5061;transport=tls".into(),
        ([192, 0, 2, 1], 5061).into(),
        false,
    );
    assert!(c.tls && Reach::Sip(c).secure());
    let plain = SipContact::new(
        "sip:a@192.0.2.1".into(),
        ([192, 0, 2, 1], 5060).into(),
        false,
    );
    assert!(!Reach::Sip(plain).secure());
}

#[test]
fn a_caller_passed_on_by_name_rings_that_agent_alone_until_they_refuse() {
    // Bob answers no queue of his own; the caller was passed on to him from support.
    let mut a = acd(&["alice", "carol"], 0);
    phone(&mut a, "alice", 5071);
    phone(&mut a, "carol", 5073);
    phone(&mut a, "bob", 5072);
    a.enqueue(s(0), "support", "c1", true);
    a.direct_to(s(0), "c1", "bob");
    let offers = a.assign(s(0));
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].agent, "bob", "only the agent asked for");
    a.ring_result(s(5), "c1", "bob", RingResult::Refused);
    let offers = a.assign(s(5));
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].agent, "alice", "then the queue's agents");
}

#[test]
fn the_agent_asked_for_has_a_while_to_become_free_then_the_queue_takes_the_caller() {
    let mut a = acd(&["alice"], 0);
    phone(&mut a, "alice", 5071);
    a.enqueue(s(0), "support", "c1", true);
    a.direct_to(s(0), "c1", "bob");
    assert!(a.assign(s(1)).is_empty(), "alice is free but not asked for");
    phone(&mut a, "bob", 5072);
    let offers = a.assign(s(10));
    assert_eq!(offers[0].agent, "bob", "bob came back in time");
    a.ring_result(s(11), "c1", "bob", RingResult::Withdrawn);
    // Bob's phone went away again; after DIRECT_WAIT anyone in the queue may take the caller.
    a.sip_unregistered("bob");
    assert!(a.assign(s(29)).is_empty());
    assert_eq!(a.assign(DIRECT_WAIT)[0].agent, "alice");
}
